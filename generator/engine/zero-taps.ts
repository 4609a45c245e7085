import { rowWidths, type EngineConfig } from './config.js';
import type { ConvInstr, Instr } from './isa.js';
import { zeroBlockTransfer, type PlanarTensor, type SampleBitmaps } from './zero-traffic.js';

/**
 * MAC skipping of a sample (docs/engine.md, "Skipping the MACs of zero blocks"), replayed from the
 * program: the in-buffer's zero flags as the DMA writes them (a row the zero-block decoder fills
 * with the zero point is flagged, every other row written clears its flag), and for every CONV in
 * skip mode its taps in zero blocks and its compute cycles, exactly as the conv unit's generator,
 * stages and FIFO run them.
 */

export interface SkipConvRun {
  /** taps (group, pixel, kernel tap, channel word) whose input word lies in a zero block */
  zeroTaps: number;
  /** issue to idle of the compute unit */
  cycles: number;
}

/** The conv unit's fixed costs around the generator (calibrated against the RTL). */
export interface SkipTiming {
  /** per group: the param row wait and load */
  convGroupSetup: number;
  /** end of the last tap to the compute unit idle */
  convDrain: number;
}

/** FIFO entries per lane: room for a row being read, the two stages and one row queued. */
const FIFO_ROWS = 4;

/**
 * Per skip-mode CONV of the program (by program index): zero taps and cycles for the sample whose
 * block flags are `bitmaps` (without flags no block is zero).
 */
export function skipConvRuns(program: readonly Instr[], tensors: readonly PlanarTensor[], c: EngineConfig, t: SkipTiming, bitmaps?: SampleBitmaps): Map<number, SkipConvRun> {
  const w = rowWidths(c);
  const wordsPerRow = w.wa / w.lanes;
  const flags = new Uint8Array(Math.floor(c.inBufBytes / w.wa));
  const out = new Map<number, SkipConvRun>();
  program.forEach((i, k) => {
    if (i.op === 'load' && i.target === 'in') {
      if (i.zb) {
        const tr = zeroBlockTransfer(i.zb, tensors, c.busBytes, bitmaps);
        const segRows = (i.zb.segBeats * c.busBytes) / w.wa;
        tr.moved.forEach((m, s) => flags.fill(m ? 0 : 1, i.row + s * segRows, i.row + (s + 1) * segRows));
      } else {
        flags.fill(0, i.row, i.row + Math.ceil(i.bytes / w.wa));
      }
    } else if (i.op === 'conv' && i.skip) {
      out.set(k, skipConv(i, (addr) => flags[Math.floor(addr / wordsPerRow)] === 1, c, t));
    }
  });
  return out;
}

/** Zero taps of each output pixel of one group, in table order (ky, kx, channel word). */
function pixelZeroTaps(i: ConvInstr, zeroWord: (addr: number) => boolean): Uint8Array[] {
  const taps = i.kh * i.kw * i.nciw;
  const pixels: Uint8Array[] = [];
  for (let oy = 0; oy < i.oyCnt; oy++) {
    for (let ox = 0; ox < i.outW; ox++) {
      const zero = new Uint8Array(taps);
      const aPix = i.inStart + oy * i.sh * i.inPitch + ox * i.sw * i.ncgIn;
      const iy = i.iy0 + oy * i.sh;
      const ix = -i.pl + ox * i.sw;
      let t = 0;
      for (let ky = 0; ky < i.kh; ky++) {
        for (let kx = 0; kx < i.kw; kx++) {
          const pad = iy + ky < 0 || iy + ky >= i.imgH || ix + kx < 0 || ix + kx >= i.imgW;
          for (let j = 0; j < i.nciw; j++, t++) {
            if (!pad) zero[t] = zeroWord(aPix + ky * i.inPitch + kx * i.ncgIn + i.ciw0Off + j * i.cwStride) ? 1 : 0;
          }
        }
      }
      pixels.push(zero);
    }
  }
  return pixels;
}

function skipConv(i: ConvInstr, zeroWord: (addr: number) => boolean, c: EngineConfig, t: SkipTiming): SkipConvRun {
  const taps = i.kh * i.kw * i.nciw;
  const pixels = pixelZeroTaps(i, zeroWord);
  const zeroTaps = pixels.reduce((a, z) => a + z.reduce((s, v) => s + v, 0), 0);
  const cycles = taps + i.ng * (t.convGroupSetup + groupCycles(pixels, taps, c)) + t.convDrain;
  return { zeroTaps: i.ng * zeroTaps, cycles };
}

/**
 * SRun and SFlush cycles of one group: the generator reads a table row (G taps) per cycle while the
 * FIFO has room for everything in flight; two stages later the row's kept taps (not zero, or the
 * pixel's last tap) enter the FIFO; the FIFO issues one tap per cycle, a pixel's last tap at least
 * WordsPerPixel cycles after the previous one; the group ends when all of it has left the FIFO.
 */
function groupCycles(pixels: readonly Uint8Array[], taps: number, c: EngineConfig): number {
  const g = c.skipLanes;
  const depth = FIFO_ROWS * g;
  const rows = Math.ceil(taps / g);
  const wordsPerPixel = Math.max(1, c.peOc / c.peIc);
  // the FIFO's entries as last-tap flags, oldest first
  const fifo: boolean[] = [];
  let head = 0;
  let gap = 0;
  let pix = 0;
  let row = 0;
  let a: [number, number] | undefined;
  let b: [number, number] | undefined;
  let genDone = pixels.length === 0;
  let cycles = 0;
  for (;;) {
    cycles++;
    const count = fifo.length - head;
    const fire = !genDone && count + g * ((a ? 1 : 0) + (b ? 1 : 0) + 1) <= depth;
    const flushed = genDone && !a && !b && count === 0;
    if (flushed) return cycles;
    const pop = count > 0 && !(fifo[head]! && gap !== 0);
    if (pop && fifo[head]!) gap = wordsPerPixel - 1;
    else if (gap !== 0) gap--;
    if (pop) head++;
    if (b) {
      const [p, r] = b;
      const zero = pixels[p]!;
      for (let k = r * g; k < Math.min(taps, (r + 1) * g); k++) {
        if (!zero[k] || k === taps - 1) fifo.push(k === taps - 1);
      }
    }
    b = a;
    a = undefined;
    if (fire) {
      a = [pix, row];
      if (++row === rows) {
        row = 0;
        if (++pix === pixels.length) genDone = true;
      }
    }
  }
}
