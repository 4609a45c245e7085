// Zero-block mode of the DMA units (docs/engine.md, "Zero-block skipping") against a TypeScript
// reference written from the document, with random planar bands under random ready/valid stalls
// and DRAM latency (C++ benches in rtl-tests/zero-block-dma/):
//  - gatec_dma_rd, LOAD with h8 bit 0 (the decoder): the band's bitmap rows, placed in DRAM by
//    the bitmap-row rule, are read first (contiguous bursts <= 64 beats); then exactly one burst
//    of segBeats beats per non-zero segment, in buffer order (planes, rows, segments), none for
//    zero ones, never more than 4 outstanding; every in-buffer row of the band written once (DRAM
//    bytes of its segment, or the zero point), no other row; busy_o low only after that.
//  - gatec_dma_wr, STORE with h8 bit 0 (the encoder): out-buffer values near the zero point so
//    that epsilon decides; padding rows (>= validRows) and columns (>= W) hold garbage that must
//    not count. Exactly the non-zero blocks' segments are written (addresses, beats, bytes of the
//    out-buffer rows, padding included), in buffer order, then the band's bitmap rows, equal to
//    the reference flags (bit cb*nWb + wb of row hb, LSB first, padding bits 0); bursts <= 64
//    beats, `last` on each burst's final beat, no beat before its request.
// Bands: B in {4, 16, 64} with L and Wa = max(B, L); bw*L a multiple of B (segments up to 64
// beats), bh 1..4, k 1..2, 1..5 planes (partial channel blocks), W not a multiple of bw, bands
// of 1..3 block rows or up to a full bitmap buffer (BmBytes from 2B up), bitmap rows of several
// beats and bitmaps of more than 64 beats; patterns all zero, none zero, alternating, random
// density; epsilon mostly 0..3, sometimes up to 255; zero points including -128 and 127. The
// tests assert that the random bands exercised the essentials.
// Dense LOADs/STOREs run between the zero-block ones (a mode switch must leave no state behind);
// a dense STORE without stalls still takes 3 + beats cycles.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng, buildBench, dramByte, halfwords, hexOf, root, rtl } from './common/bench.js';
import {
  type Trace,
  benchTraces,
  checkBursts,
  checkDenseLoad,
  dmaFields,
  dramHex,
  range,
  replayWrites,
  targetWidth,
} from './common/mem-port.js';

const harness = (n: string) => join(root, 'rtl-tests/zero-block-dma', `tb_${n}.cpp`);
const ROW_AW = 12;
/** ZB_SEED=n varies every random stimulus (ZB_STATS=1 prints what the bands exercised). */
const SEED = Number(process.env.ZB_SEED ?? 0) * 1000;
const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/** Splits off the leading requests that add up to `beats` (undefined: they do not). */
function leading(reqs: Trace['reqs'], beats: number): number | undefined {
  let sum = 0;
  for (let i = 0; i < reqs.length; i++) {
    if (sum === beats) return i;
    sum += reqs[i]!.beats;
  }
  return sum === beats ? reqs.length : undefined;
}

// ------------------------------------------------------------------ the reference (docs/engine.md)

interface Cfg {
  B: number;
  L: number;
  Wa: number;
  /** bitmap buffer bytes (BmBytes; the engine's is max(2B, buffer bytes / 32)) */
  Bm: number;
}

/** A band of a planar (CHWc) tensor with its engine fields. */
interface Band {
  bw: number;
  bh: number;
  k: number;
  P: number; // planes = ceil(C/L)
  W: number;
  nWb: number;
  nHb: number;
  nCb: number;
  hb0: number; // the band's first block row
  bandHb: number;
  rows: number; // band rows = bandHb * bh
  validRows: number;
  pitchP: number;
  planeB: number;
  segBeats: number;
  segRows: number; // buffer rows per segment
  rr: number; // buffer rows per band row (pitchP / Wa)
  bpr: number; // buffer rows per plane of the band
  bmRow: number;
  bmBytes: number;
  addr: number; // DRAM: plane 0's first band row
  bmAddr: number; // DRAM: the band's first bitmap row
  row0: number; // first buffer row
  zp: number; // int8
  /** flags[hbLocal][cb][wb]: 1 = non-zero block */
  flags: number[][][];
}

type Pattern = 'zero' | 'full' | 'alternating' | 'random';
const patterns: Pattern[] = ['zero', 'full', 'alternating', 'random', 'random', 'random'];

function patternFlags(r: Rng, bandHb: number, nCb: number, nWb: number, p: Pattern): number[][][] {
  const density = r.pick([0.1, 0.5, 0.9]);
  const phase = r.int(0, 1);
  return range(0, bandHb).map((hb) =>
    range(0, nCb).map((cb) =>
      range(0, nWb).map((wb) => {
        switch (p) {
          case 'zero':
            return 0;
          case 'full':
            return 1;
          case 'alternating':
            return (hb + cb + wb + phase) % 2;
          default:
            return r.bool(density) ? 1 : 0;
        }
      }),
    ),
  );
}

/**
 * A random band that fits the buffers (at most maxBandBytes in the buffer, the bitmap buffer).
 * Shapes: mostly small; "wide" rows of many segments (bitmaps of many beats, bursts split at
 * 64); "tall" bands of many block rows (up to a full bitmap buffer); "exact" bitmap rows whose
 * flags end exactly at a bitmap-buffer row; long segments (up to 64 beats).
 */
function randomBand(r: Rng, c: Cfg, maxBandBytes: number): Band {
  for (;;) {
    const shape = r.pick(['small', 'small', 'small', 'wide', 'tall', 'exact', 'long'] as const);
    const unit = Math.max(1, c.B / c.L); // (bw*L) % B == 0
    const bw = unit * (shape === 'long' ? r.pick([8, 16, 32, 64]) : shape === 'wide' || shape === 'tall' ? 1 : r.pick([1, 1, 2, 3, 4, 8]));
    const segBeats = (bw * c.L) / c.B;
    if (segBeats > 64) continue;
    const bh = shape === 'wide' || shape === 'tall' ? r.int(1, 2) : r.int(1, 4);
    const k = r.int(1, 2);
    const P = shape === 'tall' ? r.int(1, 3) : r.int(1, 5);
    const nCb = Math.ceil(P / k);
    let nWb = shape === 'wide' ? r.int(20, 300) : shape === 'tall' ? r.int(1, 3) : r.bool(0.15) ? r.int(6, 14) : r.int(1, 5);
    if (shape === 'exact') {
      const bits = c.B * 8 * r.int(1, 2);
      if (bits % nCb) continue;
      nWb = bits / nCb;
    }
    const W = (nWb - 1) * bw + r.int(1, bw);
    const bmRow = roundUp(Math.ceil((nCb * nWb) / 8), c.B);
    // tall: up to a full bitmap buffer
    const bandHb = shape === 'tall' ? Math.floor(c.Bm / bmRow) - (r.bool(0.5) ? 0 : r.int(0, 3)) : r.int(1, 3);
    if (bandHb < 1) continue;
    const hb0 = r.int(0, 3);
    const nHb = hb0 + bandHb + (r.bool(0.5) ? 0 : r.int(1, 2));
    const H = (nHb - 1) * bh + r.int(1, bh);
    const rows = bandHb * bh;
    const pitchP = nWb * bw * c.L;
    const planeB = nHb * bh * pitchP;
    const bmBytes = bandHb * bmRow;
    const bpr = (rows * pitchP) / c.Wa;
    const bandRows = P * bpr;
    if (bmBytes > c.Bm || bandRows * c.Wa > maxBandBytes || bandRows > (1 << ROW_AW) - 1) continue;
    // rows of the band above H; sometimes any count, as a unit the encoder takes it as given
    const validRows = r.bool(0.2) ? r.int(1, rows) : Math.min(rows, H - hb0 * bh);
    const base = r.int(0, 5000) * Math.max(64, c.Wa);
    const zp = r.pick([-128, 127, 0, r.int(-128, 127), r.int(-20, 20)]);
    return {
      bw, bh, k, P, W, nWb, nHb, nCb, hb0, bandHb, rows, validRows, pitchP, planeB, segBeats,
      segRows: (bw * c.L) / c.Wa,
      rr: pitchP / c.Wa,
      bpr,
      bmRow,
      bmBytes,
      addr: base + hb0 * bh * pitchP,
      bmAddr: base + P * planeB + hb0 * bmRow,
      row0: r.int(0, (1 << ROW_AW) - 1 - bandRows),
      zp,
      flags: patternFlags(r, bandHb, nCb, nWb, r.pick(patterns)),
    };
  }
}

/** Bitmap rows of the band: bit cb*nWb + wb of row hb, LSB first; padding bits from `pad`. */
function bitmapBytes(b: Band, flags: number[][][], pad: () => number): number[] {
  const out: number[] = [];
  for (let hb = 0; hb < b.bandHb; hb++) {
    const row = range(0, b.bmRow).map(() => 0);
    for (let bit = 0; bit < b.bmRow * 8; bit++) {
      const cb = Math.floor(bit / b.nWb);
      const v = cb < b.nCb ? flags[hb]![cb]![bit % b.nWb]! : pad();
      if (v) row[bit >> 3]! |= 1 << (bit & 7);
    }
    out.push(...row);
  }
  return out;
}

/** The band's segments in buffer order (planes, rows, segments). */
function segments(b: Band, c: Cfg, flags: number[][][]) {
  const out: { cg: number; y: number; wb: number; nz: boolean; addr: number; row: number; off: number }[] = [];
  for (let cg = 0; cg < b.P; cg++)
    for (let y = 0; y < b.rows; y++)
      for (let wb = 0; wb < b.nWb; wb++) {
        const off = (cg * b.rows + y) * b.pitchP + wb * b.bw * c.L; // byte offset in the band
        out.push({
          cg, y, wb,
          nz: flags[Math.floor(y / b.bh)]![Math.floor(cg / b.k)]![wb] === 1,
          addr: b.addr + cg * b.planeB + y * b.pitchP + wb * b.bw * c.L,
          row: b.row0 + off / c.Wa,
          off,
        });
      }
  return out;
}

/** LOAD/STORE h8 bit 0 fields shared by the decoder and the encoder. */
function zbFields(b: Band, c: Cfg, op: number, r: Rng): Record<number, number> {
  return {
    ...dmaFields(op | (r.int(0, 3) << 4), r.int(0, 0xfffe), b.addr, b.bmBytes, 0, b.row0),
    8: 1,
    9: b.P,
    10: b.rows,
    11: b.nWb,
    12: b.segBeats,
    13: b.bh,
    14: b.planeB,
    15: b.planeB >>> 16,
    16: b.bmAddr,
    17: b.bmAddr >>> 16,
    18: b.bmRow,
    19: b.k,
    20: b.zp & 0xff,
  };
}

/** Flags as block rows (/) of channel blocks (|) of segment flags. */
const fmtFlags = (flags: (number | string)[][][]) => flags.map((h) => h.map((cb) => cb.join('')).join('|')).join(' / ');

const describeBand = (b: Band) => {
  const { flags, ...rest } = b;
  return JSON.stringify({ ...rest, flags: fmtFlags(flags) });
};

/** What a list of bands exercised (printed with ZB_STATS=1; the tests assert the essentials). */
function coverage(bands: Band[], c: Cfg) {
  const n = (f: (b: Band) => boolean) => bands.filter(f).length;
  const nz = (b: Band) => b.flags.flat(2).filter((x) => x).length;
  return {
    bands: bands.length,
    allZero: n((b) => nz(b) === 0),
    allNonZero: n((b) => nz(b) === b.flags.flat(2).length),
    mixed: n((b) => nz(b) > 0 && nz(b) < b.flags.flat(2).length),
    partialChannelBlock: n((b) => b.P % b.k !== 0),
    k2: n((b) => b.k === 2),
    bh4: n((b) => b.bh === 4),
    partialColumns: n((b) => b.W % b.bw !== 0),
    validBelowRows: n((b) => b.validRows < b.rows),
    bitmapRowOverBeats: n((b) => b.bmRow > c.B),
    bitmapOver64Beats: n((b) => b.bmBytes > 64 * c.B),
    bitmapBufferFull: n((b) => b.bmBytes === c.Bm),
    flagsEndOnBufferRow: n((b) => (b.nCb * b.nWb) % (8 * c.B) === 0),
    segBeats32: n((b) => b.segBeats >= 32),
    planeBOver16Bits: n((b) => b.planeB > 0xffff),
    addrOver16Bits: n((b) => b.addr > 0xffff),
    zpEdge: n((b) => b.zp === -128 || b.zp === 127),
  };
}

// ------------------------------------------------------------------ decoder

// bus widths with lanes and the row widths of a matching engine configuration (Wa = max(B, L))
const rdConfigs = [
  { B: 4, L: 8, Wa: 8, Ww: 32, Wp: 32, Bm: 512 }, // rows of 2 beats
  { B: 16, L: 4, Wa: 16, Ww: 64, Wp: 64, Bm: 2048 }, // 4 words per row, bw a multiple of 4
  { B: 64, L: 16, Wa: 64, Ww: 64, Wp: 64, Bm: 128 }, // the smallest bitmap buffer (2B)
];

describe.each(rdConfigs)('gatec_dma_rd zero-block decoder B=$B L=$L Wa=$Wa Bm=$Bm (Verilator) vs reference', (cfg) => {
  it('reads the bitmap, then exactly the non-zero segments; fills zero segments with the zero point', async () => {
    const exe = await buildBench({
      name: `zb-rd-${cfg.B}-${cfg.Wa}-${cfg.Ww}-${cfg.Wp}-${cfg.Bm}`,
      top: 'gatec_dma_rd',
      sources: [rtl('gatec_dma_rd'), rtl('gatec_ram'), rtl('gatec_zb_walker')],
      harness: harness('zb_rd'),
      params: { B: cfg.B, Wa: cfg.Wa, Ww: cfg.Ww, Wp: cfg.Wp, RowAddrWidth: ROW_AW, BmBytes: cfg.Bm },
    });
    const r = new Rng(cfg.B * 31 + cfg.L + SEED);
    type Cmd =
      | { kind: 'zb'; band: Band; stim: number[]; seed: number }
      | { kind: 'dense'; addr: number; bytes: number; target: number; row: number; stim: number[]; seed: number };
    const cmds: Cmd[] = [];
    const script: string[] = [`${cfg.B} ${cfg.Wa} ${cfg.Ww} ${cfg.Wp} ${ROW_AW}`];
    for (let i = 0; i < 200; i++) {
      const seed = 5000 + i;
      const stim = [r.int(0, 3), seed, r.pick([1, 2, 5, 20, 60]), r.pick([100, 70, 30]), r.pick([100, 80, 40])];
      if (r.bool(0.2)) {
        const target = r.int(0, 2);
        const wt = targetWidth(cfg, target);
        const rows = r.int(1, Math.floor(3000 / wt) + 1);
        const d = { kind: 'dense' as const, addr: r.int(0, 4000) * Math.max(64, wt), bytes: rows * wt, target, row: r.int(0, (1 << ROW_AW) - 1 - rows), stim, seed };
        cmds.push(d);
        const h = halfwords(dmaFields(1, 7, d.addr, d.bytes, target, d.row));
        script.push(`load ${stim.join(' ')} ${h.join(' ')}`);
        continue;
      }
      const band = randomBand(r, cfg, 40000);
      // padding bits of a bitmap row are never looked at: sometimes garbage there
      const garbage = r.bool(0.5);
      const bm = bitmapBytes(band, band.flags, () => (garbage ? r.int(0, 1) : 0));
      cmds.push({ kind: 'zb', band, stim, seed });
      script.push(`mem ${band.bmAddr} ${hexOf(bm)}`);
      script.push(`load ${stim.join(' ')} ${halfwords(zbFields(band, cfg, 1, r)).join(' ')}`);
      script.push('clear');
    }
    script.push('idle 50');
    const cov = coverage(cmds.flatMap((c) => (c.kind === 'zb' ? [c.band] : [])), cfg);
    if (process.env.ZB_STATS) console.log(JSON.stringify({ decoder: cfg, ...cov }));
    expect(Math.min(cov.allZero, cov.allNonZero, cov.mixed, cov.partialChannelBlock, cov.partialColumns, cov.bitmapBufferFull)).toBeGreaterThan(0);
    if (cfg.Bm > 64 * cfg.B) expect(cov.bitmapOver64Beats).toBeGreaterThan(0);
    const traces = await benchTraces(exe, script.join('\n') + '\n', cmds.length + 1);
    const bad: string[] = [];
    cmds.forEach((cmd, i) => {
      const tr = traces[i]!;
      bad.push(...tr.errors.map((e) => `load ${i}: ${e}`));
      if (cmd.kind === 'dense') {
        const tag = `dense load ${i} (${JSON.stringify(cmd)})`;
        bad.push(...checkDenseLoad(tr, cmd, cfg.B, targetWidth(cfg, cmd.target)).map((e) => `${tag}: ${e}`));
        return;
      }
      const b = cmd.band;
      const tag = `zero-block load ${i} (${describeBand(b)}, stim ${cmd.stim.join(' ')})`;
      // bitmap rows first, contiguous
      const nBm = leading(tr.reqs, b.bmBytes / cfg.B);
      if (nBm === undefined) {
        bad.push(`${tag}: the first requests do not add up to the ${b.bmBytes / cfg.B} bitmap beats: ${JSON.stringify(tr.reqs.slice(0, 6))}`);
        return;
      }
      bad.push(...checkBursts(tr.reqs.slice(0, nBm), b.bmAddr, b.bmBytes / cfg.B, cfg.B).map((e) => `${tag}: bitmap ${e}`));
      // then one burst per non-zero segment, in buffer order
      const segs = segments(b, cfg, b.flags);
      const want = segs.filter((s) => s.nz).map((s) => `${s.addr}+${b.segBeats}`);
      const got = tr.reqs.slice(nBm).map((q) => `${q.addr}+${q.beats}`);
      const firstDiff = want.findIndex((w, k) => got[k] !== w);
      if (got.length !== want.length || firstDiff >= 0) {
        const k = firstDiff >= 0 ? firstDiff : Math.min(got.length, want.length);
        bad.push(`${tag}: ${got.length} segment requests, want ${want.length}; first difference at ${k}: ${got[k]} want ${want[k]}`);
      }
      // every buffer row of the band once, nothing else
      const expRows = new Map<number, string>();
      for (const s of segs)
        for (let j = 0; j < b.segRows; j++) {
          const hex = s.nz
            ? dramHex(s.addr + j * cfg.Wa, cfg.Wa, cmd.seed)
            : hexOf(range(0, cfg.Wa).map(() => b.zp & 0xff));
          expRows.set(s.row + j, hex);
        }
      const seen = new Set<number>();
      for (const w of tr.rows) {
        const e = expRows.get(w.row);
        if (w.target !== 0) bad.push(`${tag}: row write at cycle ${w.t} to target ${w.target}`);
        if (e === undefined) bad.push(`${tag}: row ${w.row} written at cycle ${w.t}, outside the band [${b.row0}, ${b.row0 + b.P * b.bpr})`);
        else if (seen.has(w.row)) bad.push(`${tag}: row ${w.row} written twice (again at cycle ${w.t})`);
        else if (w.hex !== e) bad.push(`${tag}: row ${w.row} at cycle ${w.t}: ${w.hex}, want ${e}`);
        seen.add(w.row);
      }
      if (seen.size !== expRows.size) {
        const missing = [...expRows.keys()].filter((x) => !seen.has(x));
        bad.push(`${tag}: ${missing.length} band rows never written, e.g. ${missing.slice(0, 5).join(' ')}`);
      }
    });
    const idle = traces[cmds.length]!;
    if (idle.errors.length || idle.reqs.length || idle.rows.length) bad.push(`after the last load: ${JSON.stringify(idle)}`);
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

// ------------------------------------------------------------------ encoder

const wrConfigs = [
  { B: 4, L: 8, Wa: 8, Bm: 2048 },
  { B: 16, L: 4, Wa: 16, Bm: 32 }, // the smallest bitmap buffer (2B)
  { B: 64, L: 16, Wa: 64, Bm: 512 },
];

const int8 = (v: number) => ((v + 128) & 0xff) - 128;

/**
 * Out-buffer contents of the band (P * bpr rows of Wa bytes): real elements of blocks meant to be
 * zero within eps of the zero point, of the others near it with a few beyond eps (just beyond
 * most of the time); padding rows and columns random.
 */
function bandContents(r: Rng, b: Band, c: Cfg, eps: number): Uint8Array {
  const out = new Uint8Array(b.P * b.bpr * c.Wa);
  // v = zp + d within int8: clamping only brings v closer to zp
  const near = (lim: number) => (Math.max(-128, Math.min(127, b.zp + r.int(-lim, lim))) & 0xff);
  const up = 127 - b.zp; // largest d
  const down = -128 - b.zp; // smallest d
  const beyond = () => {
    const sides = [...(eps + 1 <= up ? [1] : []), ...(-(eps + 1) >= down ? [-1] : [])];
    if (!sides.length) return near(eps); // no int8 value is further than eps from zp
    const s = r.pick(sides);
    const far = s > 0 ? up : -down;
    const d = r.bool(0.7) ? Math.min(far, eps + r.int(1, 2)) : r.int(eps + 1, far);
    return (b.zp + s * d) & 0xff;
  };
  const wRow = b.nWb * b.bw;
  for (let cg = 0; cg < b.P; cg++)
    for (let y = 0; y < b.rows; y++)
      for (let x = 0; x < wRow; x++)
        for (let l = 0; l < c.L; l++) {
          const at = (cg * b.rows + y) * b.pitchP + x * c.L + l;
          out[at] = y < b.validRows && x < b.W ? near(eps) : r.int(0, 255);
        }
  // make the intended non-zero blocks so: 1..3 real elements beyond eps
  for (let hb = 0; hb < b.bandHb; hb++)
    for (let cb = 0; cb < b.nCb; cb++)
      for (let wb = 0; wb < b.nWb; wb++) {
        if (!b.flags[hb]![cb]![wb]) continue;
        const ys = range(hb * b.bh, b.bh).filter((y) => y < b.validRows);
        const xs = range(wb * b.bw, b.bw).filter((x) => x < b.W);
        const cgs = range(cb * b.k, b.k).filter((cg) => cg < b.P);
        if (!ys.length || !xs.length) continue;
        for (let n = r.int(1, 3); n > 0; n--) {
          const at = (r.pick(cgs) * b.rows + r.pick(ys)) * b.pitchP + r.pick(xs) * c.L + r.int(0, c.L - 1);
          out[at] = beyond();
        }
      }
  return out;
}

/** Reference flags: a block is non-zero iff a real element (any lane) has |v - zp| > eps. */
function refFlags(b: Band, c: Cfg, data: Uint8Array, eps: number): number[][][] {
  const flags = range(0, b.bandHb).map(() => range(0, b.nCb).map(() => range(0, b.nWb).map(() => 0)));
  for (let cg = 0; cg < b.P; cg++)
    for (let y = 0; y < b.validRows; y++)
      for (let x = 0; x < b.W; x++)
        for (let l = 0; l < c.L; l++) {
          const v = int8(data[(cg * b.rows + y) * b.pitchP + x * c.L + l]!);
          if (Math.abs(v - b.zp) > eps) flags[Math.floor(y / b.bh)]![Math.floor(cg / b.k)]![Math.floor(x / b.bw)] = 1;
        }
  return flags;
}

describe.each(wrConfigs)('gatec_dma_wr zero-block encoder B=$B L=$L Wa=$Wa Bm=$Bm (Verilator) vs reference', (cfg) => {
  it('writes exactly the non-zero segments, then the bitmap rows of the flags with epsilon', async () => {
    const exe = await buildBench({
      name: `zb-wr-${cfg.B}-${cfg.Wa}-${cfg.L}-${cfg.Bm}`,
      top: 'gatec_dma_wr',
      sources: [rtl('gatec_dma_wr'), rtl('gatec_ram'), rtl('gatec_zb_walker')],
      harness: harness('zb_wr'),
      params: { B: cfg.B, Wa: cfg.Wa, L: cfg.L, RowAddrWidth: ROW_AW, BmBytes: cfg.Bm },
    });
    const r = new Rng(cfg.B * 37 + cfg.L + SEED);
    // the bench's out buffer, mirrored
    const buf = new Uint8Array((1 << ROW_AW) * cfg.Wa).map((_, i) => dramByte(i, 99));
    type Cmd =
      | { kind: 'zb'; band: Band; eps: number; data: Uint8Array; flags: number[][][]; stim: number[] }
      | { kind: 'dense'; addr: number; bytes: number; row: number; stim: number[]; data: Uint8Array };
    const cmds: Cmd[] = [];
    const script: string[] = [`${cfg.B} ${cfg.Wa} ${ROW_AW}`];
    for (let i = 0; i < 200; i++) {
      const seed = 7000 + i;
      const stim = [r.int(0, 3), seed, r.pick([100, 60, 20]), r.pick([100, 70, 30])];
      if (r.bool(0.2)) {
        const rows = r.int(1, Math.floor(2000 / cfg.Wa) + 1);
        const row = r.int(0, (1 << ROW_AW) - 1 - rows);
        const addr = r.int(0, 4000) * Math.max(64, cfg.Wa);
        const bytes = rows * cfg.Wa;
        cmds.push({ kind: 'dense', addr, bytes, row, stim, data: buf.slice(row * cfg.Wa, row * cfg.Wa + bytes) });
        const h = halfwords(dmaFields(2, 9, addr, bytes, 0, row));
        script.push(`store ${stim.join(' ')} ${row} ${row + rows} ${h.join(' ')}`);
        continue;
      }
      const band = randomBand(r, cfg, 24000);
      const eps = r.bool(0.85) ? r.int(0, 3) : r.pick([r.int(4, 253), 254, 255]);
      const data = bandContents(r, band, cfg, eps);
      buf.set(data, band.row0 * cfg.Wa);
      const flags = refFlags(band, cfg, data, eps);
      cmds.push({ kind: 'zb', band: { ...band, flags }, eps, data, flags, stim });
      const h = halfwords({
        ...zbFields(band, cfg, 2, r),
        21: band.validRows,
        22: band.W,
        23: eps,
        24: band.bpr,
        25: band.k * band.bpr,
        26: band.rr,
        30: band.bh * band.rr,
      });
      script.push(`buf ${band.row0} ${hexOf([...data])}`);
      script.push(`store ${stim.join(' ')} ${band.row0} ${band.row0 + band.P * band.bpr} ${h.join(' ')}`);
    }
    script.push('idle 50');
    const zbs = cmds.flatMap((c) => (c.kind === 'zb' ? [c] : []));
    const cov = {
      ...coverage(zbs.map((c) => c.band), cfg),
      eps4up: zbs.filter((c) => c.eps >= 4).length,
      eps255: zbs.filter((c) => c.eps === 255).length,
    };
    if (process.env.ZB_STATS) console.log(JSON.stringify({ encoder: cfg, ...cov }));
    expect(Math.min(cov.allZero, cov.allNonZero, cov.mixed, cov.partialChannelBlock, cov.partialColumns, cov.validBelowRows, cov.bitmapBufferFull)).toBeGreaterThan(0);
    if (cfg.Bm > 64 * cfg.B) expect(cov.bitmapOver64Beats).toBeGreaterThan(0);
    const traces = await benchTraces(exe, script.join('\n') + '\n', cmds.length + 1);
    const bad: string[] = [];
    cmds.forEach((cmd, i) => {
      const tr = traces[i]!;
      const tag =
        cmd.kind === 'dense'
          ? `dense store ${i} (addr ${cmd.addr} bytes ${cmd.bytes} row ${cmd.row}, stim ${cmd.stim.join(' ')})`
          : `zero-block store ${i} (${describeBand(cmd.band)}, eps ${cmd.eps}, stim ${cmd.stim.join(' ')})`;
      bad.push(...tr.errors.map((e) => `${tag}: ${e}`));
      tr.reqs.forEach((q, qi) => {
        if (q.beats < 1 || q.beats > 64) bad.push(`${tag}: burst ${qi} of ${q.beats} beats`);
      });
      const { written, reqBeats, bad: beatBad } = replayWrites(tr, cfg.B);
      bad.push(...beatBad.map((e) => `${tag}: ${e}`));
      if (tr.beats.length !== reqBeats) bad.push(`${tag}: ${tr.beats.length} beats for ${reqBeats} requested`);
      const firstWrong = (addr: number, bytes: ArrayLike<number>) => {
        for (let x = 0; x < bytes.length; x++) if (written.get(addr + x) !== bytes[x]) return x;
        return -1;
      };

      if (cmd.kind === 'dense') {
        bad.push(...checkBursts(tr.reqs, cmd.addr, cmd.bytes / cfg.B, cfg.B).map((e) => `${tag}: ${e}`));
        const x = firstWrong(cmd.addr, cmd.data);
        if (x >= 0) bad.push(`${tag}: DRAM byte ${cmd.addr + x} = ${written.get(cmd.addr + x)}, want ${cmd.data[x]} (out row ${cmd.row + Math.floor(x / cfg.Wa)} byte ${x % cfg.Wa})`);
        // Without stalls: the first beat 3 cycles after the start, then one beat per cycle.
        if (cmd.stim[2] === 100 && cmd.stim[3] === 100 && tr.cycles !== 3 + reqBeats)
          bad.push(`${tag}: ${tr.cycles} cycles for ${reqBeats} beats without stalls, want ${3 + reqBeats}`);
        return;
      }

      const b = cmd.band;
      // the bitmap rows come last, contiguous, bursts <= 64 beats
      const isBm = (q: Trace['reqs'][number]) => q.addr >= b.bmAddr && q.addr < b.bmAddr + b.bmBytes;
      const firstBm = tr.reqs.findIndex(isBm);
      const segReqs = firstBm < 0 ? tr.reqs : tr.reqs.slice(0, firstBm);
      const bmReqs = firstBm < 0 ? [] : tr.reqs.slice(firstBm);
      bad.push(...checkBursts(bmReqs, b.bmAddr, b.bmBytes / cfg.B, cfg.B).map((e) => `${tag}: bitmap ${e}`));
      // ... and hold the reference flags, padding bits 0
      const wantBm = bitmapBytes(b, cmd.flags, () => 0);
      if (firstWrong(b.bmAddr, wantBm) >= 0) {
        const got = range(b.bmAddr, b.bmBytes).map((a) => written.get(a));
        const gotFlags = cmd.flags.map((h, hb) =>
          h.map((c, cb) => c.map((_, wb) => {
            const bit = cb * b.nWb + wb;
            const v = got[hb * b.bmRow + (bit >> 3)];
            return v === undefined ? '?' : (v >> (bit & 7)) & 1;
          })),
        );
        bad.push(`${tag}: bitmap flags ${fmtFlags(gotFlags)}, want ${fmtFlags(cmd.flags)} (bytes ${got.map((v) => v ?? '?').join(',')}, want ${wantBm.join(',')})`);
      }
      // exactly the non-zero blocks' segments, in buffer order, with the out-buffer bytes
      const segs = segments(b, cfg, cmd.flags).filter((x) => x.nz);
      const d = segs.findIndex((x, k) => segReqs[k]?.addr !== x.addr || segReqs[k]?.beats !== b.segBeats);
      if (d >= 0 || segReqs.length !== segs.length) {
        const k = d >= 0 ? d : segs.length;
        const w = segs[k];
        bad.push(`${tag}: ${segReqs.length} segment requests, want ${segs.length}; request ${k}: ${JSON.stringify(segReqs[k])}, want ${w ? `${w.addr}+${b.segBeats} (plane ${w.cg} row ${w.y} segment ${w.wb})` : 'none'}`);
      }
      for (const x of segs) {
        const bytes = cmd.data.subarray(x.off, x.off + b.bw * cfg.L);
        const at = firstWrong(x.addr, bytes);
        if (at >= 0) {
          bad.push(`${tag}: segment (plane ${x.cg} row ${x.y} segment ${x.wb}) byte ${at} at DRAM ${x.addr + at} = ${written.get(x.addr + at)}, want ${bytes[at]} (out row ${x.row + Math.floor(at / cfg.Wa)} byte ${at % cfg.Wa})`);
          break;
        }
      }
    });
    const idle = traces[cmds.length]!;
    if (idle.errors.length || idle.reqs.length || idle.beats.length) bad.push(`after the last store: ${JSON.stringify(idle)}`);
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
