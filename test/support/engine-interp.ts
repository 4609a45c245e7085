import { rowWidths, type EngineConfig } from '../../generator/engine/config.js';
import { decodeInstruction, INSTRUCTION_BYTES, type DecodedInstruction } from '../../generator/engine/isa.js';
import { requantize } from '../../src/ir/numerics.js';

/**
 * A reference interpreter of the engine's instruction set, written from docs/engine.md alone
 * (it decodes the bytes, never the compiler's objects). It executes a program against a DRAM
 * image and records, per compute instruction, the buffer ranges it reads and writes, so tests
 * can also check that the issue order and wait bits never let the DMA overwrite data in use.
 */
interface Range {
  lo: number;
  hi: number;
}

interface Footprint {
  in?: Range;
  weight?: Range;
  param?: Range;
  out?: Range;
}

export interface InterpResult {
  dram: Uint8Array;
  /** descriptions of the hazards found; empty when the program is race-free */
  hazards: string[];
  instructions: number;
  /** DRAM bytes moved per layer tag, as the harness counts them (every beat, bitmap beats included) */
  bytes: Map<number, { read: number; write: number }>;
}

const s8 = (b: number): number => (b << 24) >> 24;

function widen(r: Range | undefined, lo: number, hi: number): Range {
  return r ? { lo: Math.min(r.lo, lo), hi: Math.max(r.hi, hi) } : { lo, hi };
}

const overlaps = (a: Range | undefined, b: Range): boolean => a !== undefined && a.lo < b.hi && b.lo < a.hi;

export function interpret(c: EngineConfig, dram: Uint8Array, progAddr: number, progCount: number): InterpResult {
  const w = rowWidths(c);
  const L = w.lanes;
  const buf = { in: new Uint8Array(c.inBufBytes), weight: new Uint8Array(c.wBufBytes), param: new Uint8Array(c.paramRows * w.wp), out: new Uint8Array(c.outBufBytes) };
  const rowOf = { in: w.wa, weight: w.ww, param: w.wp } as const;
  const targets = ['in', 'weight', 'param'] as const;
  const hazards: string[] = [];
  const bytesByTag = new Map<number, { read: number; write: number }>();
  const count = (tag: number, dir: 'read' | 'write', n: number): void => {
    const b = bytesByTag.get(tag) ?? { read: 0, write: 0 };
    b[dir] += n;
    bytesByTag.set(tag, b);
  };
  // The compute instruction that may still be running, with what it touches (byte ranges).
  let running: { index: number; fp: Footprint } | undefined;

  const check = (cond: boolean, what: string, k: number): void => {
    if (!cond) throw new Error(`instruction ${k}: ${what}`);
  };

  for (let k = 0; k < progCount; k++) {
    const d = decodeInstruction(dram, progAddr + k * INSTRUCTION_BYTES);
    const f = d.fields;
    // The issue rules: a compute waits for the compute unit; wait_cmp and END wait too.
    if (d.op === 'conv' || d.op === 'pool' || d.op === 'add' || d.waitCmp || d.op === 'end') running = undefined;
    switch (d.op) {
      case 'end':
        return { dram, hazards, instructions: k + 1, bytes: bytesByTag };
      case 'load': {
        if (f['zb']) {
          const z = zeroBlockBand(d, c, k, 'LOAD');
          check(f['target'] === 0, 'a zero-block LOAD targets the in buffer', k);
          const at = f['row']! * w.wa;
          check(at + z.total <= buf.in.length, 'zero-block LOAD past the end of the in buffer', k);
          if (running && overlaps(running.fp.in, { lo: at, hi: at + z.total })) {
            hazards.push(`instruction ${k}: LOAD overwrites in buffer bytes ${at}..${at + z.total} that compute ${running.index} reads`);
          }
          count(d.tag, 'read', decode(z, dram, buf.in, at));
          break;
        }
        const t = targets[f['target']!];
        check(t !== undefined, `bad target ${f['target']}`, k);
        const target = t!;
        const bytes = f['bytes']!;
        const at = f['row']! * rowOf[target];
        check(bytes > 0 && bytes % rowOf[target] === 0, `LOAD of ${bytes} bytes is not whole ${rowOf[target]}-byte rows`, k);
        check(at + bytes <= buf[target].length, `LOAD past the end of the ${target} buffer`, k);
        check(f['addr']! + bytes <= dram.length, 'LOAD past the end of DRAM', k);
        if (running && overlaps(running.fp[target], { lo: at, hi: at + bytes })) {
          hazards.push(`instruction ${k}: LOAD overwrites ${target} buffer bytes ${at}..${at + bytes} that compute ${running.index} reads`);
        }
        buf[target].set(dram.subarray(f['addr']!, f['addr']! + bytes), at);
        count(d.tag, 'read', bytes);
        break;
      }
      case 'store': {
        if (f['zb']) {
          const z = zeroBlockBand(d, c, k, 'STORE');
          const at = f['row']! * w.wa;
          check(at + z.total <= buf.out.length, 'zero-block STORE past the end of the out buffer', k);
          check(f['plane_rows'] === z.rows * z.pitch / w.wa && f['row_rows'] === z.pitch / w.wa, 'STORE plane_rows/row_rows disagree with rows, nWb and seg_beats', k);
          check(f['k_plane_rows'] === z.k * f['plane_rows']! && f['bh_row_rows'] === z.bh * f['row_rows']!, 'STORE k_plane_rows/bh_row_rows disagree', k);
          if (running && overlaps(running.fp.out, { lo: at, hi: at + z.total })) {
            hazards.push(`instruction ${k}: STORE reads out buffer bytes ${at}..${at + z.total} that compute ${running.index} writes`);
          }
          count(d.tag, 'write', encode(z, L, f['valid_rows']!, f['width']!, f['eps']!, buf.out, at, dram));
          break;
        }
        const bytes = f['bytes']!;
        const at = f['row']! * w.wa;
        check(bytes > 0 && bytes % w.wa === 0, `STORE of ${bytes} bytes is not whole rows`, k);
        check(at + bytes <= buf.out.length, 'STORE past the end of the out buffer', k);
        if (running && overlaps(running.fp.out, { lo: at, hi: at + bytes })) {
          hazards.push(`instruction ${k}: STORE reads out buffer bytes ${at}..${at + bytes} that compute ${running.index} writes`);
        }
        dram.set(buf.out.subarray(at, at + bytes), f['addr']!);
        count(d.tag, 'write', bytes);
        break;
      }
      case 'conv':
        running = { index: k, fp: conv(d, c, buf, L, w.weightWord, w.wp) };
        break;
      case 'pool':
        running = { index: k, fp: pool(d, buf, L) };
        break;
      case 'add':
        running = { index: k, fp: add(d, buf, L) };
        break;
    }
  }
  throw new Error('program has no END');
}

type Buffers = { in: Uint8Array; weight: Uint8Array; param: Uint8Array; out: Uint8Array };

// ---------------------------------------------------------------------------------------------
// Zero blocks (docs/engine.md, "LOAD with zero blocks", "STORE with zero blocks")

/** A band of a planar tensor as a zero-block LOAD/STORE describes it. */
interface ZbBand {
  addr: number;
  planes: number;
  rows: number;
  nWb: number;
  /** bytes of a block row segment: seg_beats * B */
  seg: number;
  bh: number;
  planeBytes: number;
  bmAddr: number;
  bmRow: number;
  /** bitmap bytes of the band: rows / bh * bmRow */
  bmBytes: number;
  k: number;
  zp: number;
  /** pitchP: bytes of one row of one plane */
  pitch: number;
  /** bytes of the band in the buffer: planes * rows * pitchP */
  total: number;
}

function zeroBlockBand(d: DecodedInstruction, c: EngineConfig, k: number, what: string): ZbBand {
  const f = d.fields;
  const z = {
    addr: f['addr']!,
    planes: f['planes']!,
    rows: f['rows']!,
    nWb: f['nwb']!,
    seg: f['seg_beats']! * c.busBytes,
    bh: f['bh']!,
    planeBytes: f['plane_bytes']!,
    bmAddr: f['bm_addr']!,
    bmRow: f['bm_row']!,
    bmBytes: f['bytes']!,
    k: f['k']!,
    zp: f['zp']!,
  };
  const fail = (why: string) => new Error(`instruction ${k}: zero-block ${what}: ${why}`);
  if (!(z.planes > 0 && z.rows > 0 && z.nWb > 0 && z.seg > 0 && z.bh > 0 && z.k > 0)) throw fail('a zero count');
  if (z.rows % z.bh !== 0) throw fail(`rows ${z.rows} are not whole block rows of ${z.bh}`);
  if (z.seg % c.peIc !== 0) throw fail('a segment is not whole words');
  if (z.bmBytes !== (z.rows / z.bh) * z.bmRow) throw fail(`bitmap bytes ${z.bmBytes} are not rows / bh * bm_row = ${(z.rows / z.bh) * z.bmRow}`);
  // The decoder's bitmap buffer is a 32nd of the in buffer, the encoder's of the out buffer, at least two beats.
  const room = Math.max(2 * c.busBytes, Math.floor(Math.floor((what === 'LOAD' ? c.inBufBytes : c.outBufBytes) / 32) / c.busBytes) * c.busBytes);
  if (z.bmBytes > room) throw fail(`${z.bmBytes} bitmap bytes exceed the ${room}-byte bitmap buffer`);
  if (Math.ceil(Math.ceil(z.planes / z.k) * z.nWb / 8) > z.bmRow || z.bmRow % c.busBytes !== 0) throw fail(`bm_row ${z.bmRow} does not hold the row's bits in whole beats`);
  const pitch = z.nWb * z.seg;
  if (z.planeBytes < z.rows * pitch) throw fail('a plane is smaller than the band');
  return { ...z, pitch, total: z.planes * z.rows * pitch };
}

/** Bit (cb, wb) of bitmap row hb of a band's bitmap. */
function bitOf(z: ZbBand, bm: Uint8Array, hb: number, cb: number, wb: number): number {
  const bit = cb * z.nWb + wb;
  return (bm[hb * z.bmRow + (bit >> 3)]! >> (bit & 7)) & 1;
}

/**
 * The decoder: the band's bitmap rows, then planes, rows and segments in buffer order; a
 * segment of a non-zero block is read, one of a zero block becomes zero-point bytes. Returns the
 * bytes read (bitmap included).
 */
function decode(z: ZbBand, dram: Uint8Array, buf: Uint8Array, at: number): number {
  if (z.bmAddr + z.bmBytes > dram.length) throw new Error('zero-block LOAD: bitmap past the end of DRAM');
  const bm = dram.slice(z.bmAddr, z.bmAddr + z.bmBytes);
  let read = z.bmBytes;
  for (let cg = 0; cg < z.planes; cg++) {
    for (let r = 0; r < z.rows; r++) {
      for (let wb = 0; wb < z.nWb; wb++) {
        const dst = at + (cg * z.rows + r) * z.pitch + wb * z.seg;
        if (bitOf(z, bm, Math.floor(r / z.bh), Math.floor(cg / z.k), wb)) {
          const src = z.addr + cg * z.planeBytes + r * z.pitch + wb * z.seg;
          if (src + z.seg > dram.length) throw new Error('zero-block LOAD: segment past the end of DRAM');
          buf.set(dram.subarray(src, src + z.seg), dst);
          read += z.seg;
        } else {
          buf.fill(z.zp & 0xff, dst, dst + z.seg);
        }
      }
    }
  }
  return read;
}

/**
 * The encoder. Pass 1: a block is non-zero when a byte at a real position (row < validRows,
 * column < W, every lane of its planes) is farther than eps from the zero point. Pass 2: every
 * segment of a non-zero block, all of the block's rows. Pass 3: the bitmap rows. Returns the
 * bytes written.
 */
function encode(z: ZbBand, L: number, validRows: number, width: number, eps: number, buf: Uint8Array, at: number, dram: Uint8Array): number {
  const bw = z.seg / L;
  const nCb = Math.ceil(z.planes / z.k);
  const bm = new Uint8Array(z.bmBytes);
  for (let hb = 0; hb < z.rows / z.bh; hb++) {
    for (let cb = 0; cb < nCb; cb++) {
      for (let wb = 0; wb < z.nWb; wb++) {
        let nonZero = false;
        for (let cg = cb * z.k; cg < Math.min(z.planes, (cb + 1) * z.k) && !nonZero; cg++) {
          for (let r = hb * z.bh; r < Math.min(validRows, (hb + 1) * z.bh) && !nonZero; r++) {
            for (let x = wb * bw; x < Math.min(width, (wb + 1) * bw) && !nonZero; x++) {
              const word = at + (cg * z.rows + r) * z.pitch + x * L;
              for (let l = 0; l < L; l++) if (Math.abs(s8(buf[word + l]!) - z.zp) > eps) nonZero = true;
            }
          }
        }
        const bit = cb * z.nWb + wb;
        if (nonZero) bm[hb * z.bmRow + (bit >> 3)]! |= 1 << (bit & 7);
      }
    }
  }
  let written = 0;
  for (let cg = 0; cg < z.planes; cg++) {
    for (let r = 0; r < z.rows; r++) {
      for (let wb = 0; wb < z.nWb; wb++) {
        if (!bitOf(z, bm, Math.floor(r / z.bh), Math.floor(cg / z.k), wb)) continue;
        const src = at + (cg * z.rows + r) * z.pitch + wb * z.seg;
        const dst = z.addr + cg * z.planeBytes + r * z.pitch + wb * z.seg;
        if (dst + z.seg > dram.length) throw new Error('zero-block STORE: segment past the end of DRAM');
        dram.set(buf.subarray(src, src + z.seg), dst);
        written += z.seg;
      }
    }
  }
  if (z.bmAddr + z.bmBytes > dram.length) throw new Error('zero-block STORE: bitmap past the end of DRAM');
  dram.set(bm, z.bmAddr);
  return written + z.bmBytes;
}

function conv(d: DecodedInstruction, c: EngineConfig, buf: Buffers, L: number, ww: number, wp: number): Footprint {
  const f = d.fields as Record<string, number>;
  const fp: Footprint = {};
  const acc = new Float64Array(c.peOc);
  const x = new Int32Array(L);
  const view = new DataView(buf.param.buffer);
  const perGroup = Math.max(1, c.peOc / L);
  /** Group gi's first output word (offset within a pixel), first lane and words it may write. */
  const groupOut = (gi: number): { goff: number; lane: number; words: number } => {
    if (c.peOc >= L) {
      return { goff: f['out_goff']! + gi * perGroup * f['out_cw_stride']!, lane: 0, words: Math.min(perGroup, f['words_left']! - gi * perGroup) };
    }
    const lanes = f['g0_lane']! + gi * c.peOc;
    return { goff: f['out_goff']! + Math.floor(lanes / L) * f['out_cw_stride']!, lane: lanes % L, words: 1 };
  };
  for (let gi = 0; gi < f['ng']!; gi++) {
    const prow = (f['pb0']! + gi) * wp;
    fp.param = widen(fp.param, prow, prow + wp);
    for (let oy = 0; oy < f['oy_cnt']!; oy++) {
      for (let ox = 0; ox < f['out_w']!; ox++) {
        for (let r = 0; r < c.peOc; r++) acc[r] = view.getInt32(prow + 8 * r, true);
        for (let ky = 0; ky < f['kh']!; ky++) {
          for (let kx = 0; kx < f['kw']!; kx++) {
            const iy = f['iy0']! + oy * f['sh']! + ky;
            const ix = ox * f['sw']! - f['pl']! + kx;
            const inside = iy >= 0 && iy < f['img_h']! && ix >= 0 && ix < f['img_w']!;
            for (let j = 0; j < f['nciw']!; j++) {
              if (inside) {
                const a = f['in_start']! + oy * f['pitch_sh']! + ky * f['in_pitch']! + ox * f['ncg_sw']! + kx * f['ncg_in']! + f['ciw0_off']! + j * f['cw_stride']!;
                if (a < 0 || (a + 1) * L > buf.in.length) throw new Error(`CONV reads in-buffer word ${a} outside the buffer`);
                fp.in = widen(fp.in, a * L, (a + 1) * L);
                for (let l = 0; l < L; l++) x[l] = s8(buf.in[a * L + l]!) - f['zp_in']!;
              } else {
                x.fill(0);
              }
              const wa = f['wb0']! + gi * f['gstride']! + (ky * f['kw']! + kx) * f['nciw']! + j;
              if ((wa + 1) * ww > buf.weight.length) throw new Error(`CONV reads weight word ${wa} outside the buffer`);
              fp.weight = widen(fp.weight, wa * ww, (wa + 1) * ww);
              for (let r = 0; r < c.peOc; r++) {
                let s = 0;
                for (let l = 0; l < L; l++) s += s8(buf.weight[wa * ww + r * L + l]!) * x[l]!;
                acc[r]! += s;
              }
            }
          }
        }
        // Output words: goff/lane/words left of this group (docs/engine.md, "Channel-word strides").
        const pixel = f['out_base']! + oy * f['out_pitch']! + ox * f['ncg_out']!;
        const { goff, lane, words } = groupOut(gi);
        for (let r = 0; r < c.peOc; r++) {
          const word = Math.floor((lane + r) / L);
          if (word >= words) continue;
          const m = view.getUint16(prow + 8 * r + 4, true);
          const sh = view.getUint8(prow + 8 * r + 6);
          const wa = pixel + goff + word * f['out_cw_stride']!;
          const at = wa * L + ((lane + r) % L);
          if (at >= buf.out.length) throw new Error(`CONV writes out-buffer byte ${at} outside the buffer`);
          buf.out[at] = requantize(acc[r]!, m, sh, f['zp_out']!, f['lo']!, f['hi']!) & 0xff;
          fp.out = widen(fp.out, wa * L, (wa + 1) * L);
        }
      }
    }
  }
  return fp;
}

function pool(d: DecodedInstruction, buf: Buffers, L: number): Footprint {
  const f = d.fields as Record<string, number>;
  const fp: Footprint = {};
  const average = f['mode'] === 1;
  for (let oy = 0; oy < f['oy_cnt']!; oy++) {
    for (let ox = 0; ox < f['out_w']!; ox++) {
      for (let cg = 0; cg < f['ncg']!; cg++) {
        const acc = new Array<number>(L).fill(average ? 0 : -Infinity);
        for (let ky = 0; ky < f['kh']!; ky++) {
          for (let kx = 0; kx < f['kw']!; kx++) {
            const iy = f['iy0']! + oy * f['sh']! + ky;
            const ix = ox * f['sw']! - f['pl']! + kx;
            if (iy < 0 || iy >= f['img_h']! || ix < 0 || ix >= f['img_w']!) continue;
            const a = f['in_start']! + oy * f['pitch_sh']! + ky * f['in_pitch']! + ox * f['ncg_sw']! + kx * f['ncg']! + cg * f['cw_stride']!;
            if (a < 0 || (a + 1) * L > buf.in.length) throw new Error(`POOL reads in-buffer word ${a} outside the buffer`);
            fp.in = widen(fp.in, a * L, (a + 1) * L);
            for (let l = 0; l < L; l++) {
              const v = s8(buf.in[a * L + l]!) - f['zp_in']!;
              acc[l] = average ? acc[l]! + v : Math.max(acc[l]!, v);
            }
          }
        }
        const word = f['out_base']! + oy * f['out_pitch']! + ox * f['ncg_out']! + f['cw_off']! + cg * f['out_cw_stride']!;
        fp.out = widen(fp.out, word * L, (word + 1) * L);
        for (let l = 0; l < L; l++) buf.out[word * L + l] = requantize(acc[l]!, f['multiplier']!, f['shift']!, f['zp_out']!, f['lo']!, f['hi']!) & 0xff;
      }
    }
  }
  return fp;
}

function add(d: DecodedInstruction, buf: Buffers, L: number): Footprint {
  const f = d.fields as Record<string, number>;
  const fp: Footprint = {};
  for (let r = 0; r < f['rows']!; r++) {
    for (let k = 0; k < f['row_words']!; k++) {
      const a = f['a_base']! + r * f['in_pitch']! + k;
      const b = f['b_base']! + r * f['in_pitch']! + k;
      const o = f['out_base']! + r * f['out_pitch']! + k;
      fp.in = widen(widen(fp.in, a * L, (a + 1) * L), b * L, (b + 1) * L);
      fp.out = widen(fp.out, o * L, (o + 1) * L);
      for (let l = 0; l < L; l++) {
        const acc = (s8(buf.in[a * L + l]!) - f['zp_a']!) * f['mult_a']! + (s8(buf.in[b * L + l]!) - f['zp_b']!) * f['mult_b']!;
        buf.out[o * L + l] = requantize(acc, 1, f['shift']!, f['zp_out']!, f['lo']!, f['hi']!) & 0xff;
      }
    }
  }
  return fp;
}
