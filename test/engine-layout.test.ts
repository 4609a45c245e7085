import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, rowWidths, type EngineConfig } from '../generator/engine/config.js';
import {
  allocateActivations,
  blockFlags,
  packTensor,
  physicalOf,
  planarRegionSize,
  regionAlignment,
  regionElementIndex,
  regionSize,
  unpackBitmap,
  unpackTensor,
} from '../generator/engine/layout.js';
import { EXIT_UNSUPPORTED } from '../src/errors.js';
import type { ReshapeLayer } from '../src/ir/types.js';
import { IrBuilder } from './support/engine-models.js';

const pow2 = (lo: number, hi: number) => fc.integer({ min: Math.log2(lo), max: Math.log2(hi) }).map((e) => 2 ** e);

const regionCase = fc
  .record({ c: fc.integer({ min: 1, max: 40 }), h: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 1, max: 6 }), lanes: pow2(1, 32), bus: pow2(4, 64), zp: fc.integer({ min: -128, max: 127 }) })
  .chain((r) => fc.record({ r: fc.constant(r), data: fc.int8Array({ minLength: r.c * r.h * r.w, maxLength: r.c * r.h * r.w }) }));

function geometry(c: number, h: number, w: number, lanes: number, bus: number, zp: number) {
  const widths = rowWidths({ ...DEFAULT_ENGINE_CONFIG, peIc: lanes, busBytes: bus });
  return { widths, g: { shape: [c, h, w], ...regionSize([c, h, w], widths), zeroPoint: zp } };
}

describe('activation layout: pack/unpack', () => {
  it('round-trips and puts every element where docs/engine.md says', () => {
    fc.assert(
      fc.property(regionCase, ({ r, data }) => {
        const { c, h, w, lanes, zp } = r;
        const { widths, g } = geometry(c, h, w, lanes, r.bus, zp);
        expect(g.ncg).toBe(Math.ceil(c / lanes));
        expect(g.pitch % widths.wa).toBe(0);
        expect(g.pitch).toBeGreaterThanOrEqual(w * g.ncg * lanes);
        expect(g.pitch - w * g.ncg * lanes).toBeLessThan(widths.wa);
        const bytes = packTensor(g, lanes, data);
        expect(bytes.length).toBe(h * g.pitch);
        expect(Array.from(unpackTensor(g, lanes, bytes))).toEqual(Array.from(data));
        const expected = new Uint8Array(h * g.pitch);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            for (let ch = 0; ch < g.ncg * lanes; ch++) {
              const at = y * g.pitch + (x * g.ncg + Math.floor(ch / lanes)) * lanes + (ch % lanes);
              expected[at] = (ch < c ? data[(ch * h + y) * w + x]! : zp) & 0xff;
            }
          }
        }
        expect(Array.from(bytes)).toEqual(Array.from(expected));
      }),
      { numRuns: 300 },
    );
  });

  it('maps region bytes back to elements, padding to -1', () => {
    fc.assert(
      fc.property(regionCase, ({ r, data }) => {
        const { g } = geometry(r.c, r.h, r.w, r.lanes, r.bus, r.zp);
        const bytes = packTensor(g, r.lanes, data);
        const index = regionElementIndex(g, r.lanes);
        const seen = new Set<number>();
        index.forEach((e, p) => {
          if (e < 0) return;
          expect(bytes[p]).toBe(data[e]! & 0xff);
          seen.add(e);
        });
        expect(seen.size).toBe(data.length);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects a view (vector shape): it must be resolved to its region first', () => {
    expect(() => packTensor({ shape: [12], ncg: 2, pitch: 16, zeroPoint: 0 }, 8, new Int8Array(12))).toThrow(/physicalOf/);
  });
});

describe('activation layout: DRAM allocation', () => {
  const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, peOc: 16, peIc: 4, busBytes: 8 };
  const w = rowWidths(config);

  it('aligns every region to 64 bytes and every row width, without overlap; flatten is a view', () => {
    const b = new IrBuilder('alloc', [3, 7, 5]);
    let x = b.conv(b.input, { co: 5, k: 3, p: 1 });
    x = b.pool(x, 'maxpool', 2, 2);
    const flat = b.flatten(x);
    const y = b.fc(flat, 3);
    const model = b.build([y]);
    const base = 1000;
    const layout = allocateActivations(model, w, base, 'alloc.gir.json');
    const align = regionAlignment(w);
    expect(align).toBe(Math.max(64, w.wa, w.ww, w.wp));
    const regions = layout.tensors.filter((t) => t.viewOf === undefined);
    let end = base;
    for (const t of regions) {
      expect(t.addr % 64).toBe(0);
      for (const width of [w.wa, w.ww, w.wp]) expect(t.addr % width).toBe(0);
      expect(t.addr).toBeGreaterThanOrEqual(end);
      expect(t.bytes).toBe(t.shape[1]! * t.pitch);
      end = t.addr + t.bytes;
    }
    expect(layout.end).toBe(end);
    // The fc output vector [3] is laid out as [3,1,1].
    expect(layout.byName.get(y)!.shape).toEqual([3, 1, 1]);
    const view = layout.byName.get(flat)!;
    expect(view).toMatchObject({ viewOf: x, shape: [5 * 3 * 2], addr: layout.byName.get(x)!.addr, bytes: layout.byName.get(x)!.bytes });
    expect(physicalOf(layout.byName, flat)).toBe(layout.byName.get(x));
    expect(layout.tensors.map((t) => t.name)).toEqual(['input', ...model.layers.map((l) => l.output)]);
  });

  it('refuses a reshape that would move bytes, naming the layer', () => {
    const b = new IrBuilder('reshape', [4, 2, 2]);
    const model = b.build([b.input]);
    const layer: ReshapeLayer = { op: 'reshape', name: 'r0', inputs: ['input'], output: 'r' };
    model.layers.push(layer);
    model.tensors.push({ name: 'r', shape: [2, 4, 2], quant: { scale: 1, zeroPoint: 0 } });
    expect(() => allocateActivations(model, w, 0, 'reshape.gir.json')).toThrow(
      /^reshape\.gir\.json: layer 'r0' \(reshape\): reshape of \[4,2,2\] to \[2,4,2\] would move bytes/,
    );
    try {
      allocateActivations(model, w, 0, 'reshape.gir.json');
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(EXIT_UNSUPPORTED);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Planar (zero-block) regions

/** Shapes the engine accepts: bc = k*L, bw a multiple of the beats-per-word ratio. */
const planarCase = fc
  .record({
    c: fc.integer({ min: 1, max: 40 }),
    h: fc.integer({ min: 1, max: 6 }),
    w: fc.integer({ min: 1, max: 9 }),
    lanes: pow2(1, 32),
    bus: pow2(4, 64),
    k: fc.integer({ min: 1, max: 3 }),
    bh: fc.integer({ min: 1, max: 3 }),
    m: fc.integer({ min: 1, max: 2 }),
    zp: fc.integer({ min: -128, max: 127 }),
    eps: fc.constantFrom(0, 0, 1, 3, 40),
    density: fc.constantFrom(0, 0.05, 0.3, 1),
    seed: fc.integer(),
  })
  .map((r) => ({ ...r, bc: r.k * r.lanes, bw: r.m * Math.max(1, r.bus / r.lanes) }));

/** Values near the zero point with `density` of them far away, so whole blocks come out zero. */
function planarData(r: { c: number; h: number; w: number; zp: number; density: number; seed: number }): Int8Array {
  let s = r.seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Int8Array.from({ length: r.c * r.h * r.w }, () => {
    const far = rnd() < r.density;
    const v = far ? Math.floor(rnd() * 256) - 128 : r.zp + Math.floor(rnd() * 5) - 2;
    return Math.max(-128, Math.min(127, v));
  });
}

describe('activation layout: planar regions of zero-block tensors', () => {
  it('puts words, bitmap and padding where docs/engine.md says, encodes blocks within epsilon, round-trips', () => {
    fc.assert(
      fc.property(planarCase, (r) => {
        const widths = rowWidths({ ...DEFAULT_ENGINE_CONFIG, peIc: r.lanes, busBytes: r.bus });
        const size = planarRegionSize([r.c, r.h, r.w], { block: [r.bc, r.bh, r.bw], epsilon: r.eps }, widths);
        const L = r.lanes;
        const P = Math.ceil(r.c / L);
        const nWb = Math.ceil(r.w / r.bw);
        const nHb = Math.ceil(r.h / r.bh);
        const nCb = Math.ceil(P / r.k);
        const pitchP = nWb * r.bw * L;
        const planeB = nHb * r.bh * pitchP;
        const bmRow = Math.ceil(Math.ceil((nCb * nWb) / 8) / r.bus) * r.bus;
        expect(size).toMatchObject({ ncg: P, pitch: pitchP, bytes: P * planeB + nHb * bmRow });
        expect(size.zeroBlock).toMatchObject({ k: r.k, nWb, nHb, nCb, rowWords: nWb * r.bw, planeBytes: planeB, bitmapOffset: P * planeB, bitmapRowBytes: bmRow });
        expect(pitchP % widths.wa).toBe(0);
        expect((r.bw * L) % r.bus).toBe(0);

        const g = { shape: [r.c, r.h, r.w], ncg: size.ncg, pitch: size.pitch, zeroPoint: r.zp, zeroBlock: size.zeroBlock };
        const data = planarData(r);
        // The golden rule, written out: a block whose real elements are all within eps becomes zp.
        const encoded = Int8Array.from(data);
        const nonZero = new Set<string>();
        for (let cb = 0; cb < nCb; cb++) {
          for (let hb = 0; hb < nHb; hb++) {
            for (let wb = 0; wb < nWb; wb++) {
              const at: number[] = [];
              for (let ch = cb * r.bc; ch < Math.min(r.c, (cb + 1) * r.bc); ch++) {
                for (let y = hb * r.bh; y < Math.min(r.h, (hb + 1) * r.bh); y++) {
                  for (let x = wb * r.bw; x < Math.min(r.w, (wb + 1) * r.bw); x++) at.push((ch * r.h + y) * r.w + x);
                }
              }
              if (at.every((i) => Math.abs(data[i]! - r.zp) <= r.eps)) for (const i of at) encoded[i] = r.zp;
              else nonZero.add(`${cb},${hb},${wb}`);
            }
          }
        }
        const bytes = packTensor(g, L, data);
        expect(bytes.length).toBe(size.bytes);
        const expected = new Uint8Array(size.bytes);
        for (let cg = 0; cg < P; cg++) {
          for (let y = 0; y < nHb * r.bh; y++) {
            for (let x = 0; x < nWb * r.bw; x++) {
              for (let l = 0; l < L; l++) {
                const ch = cg * L + l;
                const real = ch < r.c && y < r.h && x < r.w;
                expected[cg * planeB + y * pitchP + x * L + l] = (real ? encoded[(ch * r.h + y) * r.w + x]! : r.zp) & 0xff;
              }
            }
          }
        }
        for (let hb = 0; hb < nHb; hb++) {
          for (let bit = 0; bit < nCb * nWb; bit++) {
            if (nonZero.has(`${Math.floor(bit / nWb)},${hb},${bit % nWb}`)) expected[P * planeB + hb * bmRow + (bit >> 3)]! |= 1 << (bit & 7);
          }
        }
        expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
        expect(Array.from(blockFlags(encoded, [r.c, r.h, r.w], r.zp, [r.bc, r.bh, r.bw]))).toEqual(Array.from(unpackBitmap(g, bytes)));
        expect(Array.from(unpackTensor(g, L, bytes))).toEqual(Array.from(encoded));
        // The decoder never reads a zero block: whatever DRAM holds there, it reads the zero point.
        const stale = Uint8Array.from(bytes);
        for (let i = 0; i < P * planeB; i++) if (stale[i] === (r.zp & 0xff)) stale[i] = (r.zp + 1) & 0xff;
        for (const key of nonZero) {
          const [cb, hb, wb] = key.split(',').map(Number) as [number, number, number];
          for (let cg = cb * r.k; cg < Math.min(P, (cb + 1) * r.k); cg++) {
            for (let y = hb * r.bh; y < (hb + 1) * r.bh; y++) {
              const at = cg * planeB + y * pitchP + wb * r.bw * L;
              stale.set(bytes.subarray(at, at + r.bw * L), at);
            }
          }
        }
        expect(Array.from(unpackTensor(g, L, stale))).toEqual(Array.from(encoded));
        // fc weights follow the data bytes; the bitmap is not part of the pixel.
        const index = regionElementIndex(g, L);
        expect(index.length).toBe(P * planeB);
        const seen = new Set<number>();
        let wrong = 0;
        index.forEach((e, p) => {
          if (e < 0) return;
          if (bytes[p] !== (encoded[e]! & 0xff)) wrong++;
          seen.add(e);
        });
        expect(wrong).toBe(0);
        expect(seen.size).toBe(data.length);
      }),
      { numRuns: 150 },
    );
  });

  it('lays annotated tensors out planar and rejects blocks the engine cannot skip, naming the tensor and the constraint', () => {
    const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, peIc: 8, busBytes: 16 };
    const w = rowWidths(config);
    const b = new IrBuilder('zb', [8, 6, 6]);
    const y = b.conv(b.input, { co: 20, k: 3, p: 1 });
    const model = b.build([y]);
    const info = model.tensors.find((t) => t.name === y)!;
    info.zeroBlock = { block: [16, 2, 2], epsilon: 1 };
    const layout = allocateActivations(model, w, 0, 'zb.gir.json');
    const t = layout.byName.get(y)!;
    // P = 3, nWb = 3, nHb = 3, nCb = 2; pitchP = 3*2*8 = 48, planeB = 6*48 = 288; bmRow = roundUp(1, 16) = 16.
    expect(t).toMatchObject({ ncg: 3, pitch: 48, bytes: 3 * 288 + 3 * 16 });
    expect(t.zeroBlock).toEqual({ block: [16, 2, 2], epsilon: 1, k: 2, nWb: 3, nHb: 3, nCb: 2, rowWords: 6, planeBytes: 288, bitmapOffset: 864, bitmapRowBytes: 16 });
    expect(layout.byName.get('input')!.zeroBlock).toBeUndefined();

    const bad = (block: [number, number, number], message: RegExp) => {
      info.zeroBlock = { block, epsilon: 0 };
      let error: unknown;
      try {
        allocateActivations(model, w, 0, 'zb.gir.json');
      } catch (e) {
        error = e;
      }
      expect((error as { exitCode: number }).exitCode).toBe(EXIT_UNSUPPORTED);
      expect((error as Error).message).toMatch(message);
    };
    bad([4, 2, 2], /^zb\.gir\.json: tensor 't0': the engine cannot skip zero blocks of 4x2x2: bc = 4 is not a multiple of the 8 lanes of an activation word \(PeIc\)$/);
    bad([8, 1, 1], /^zb\.gir\.json: tensor 't0': the engine cannot skip zero blocks of 8x1x1: a block row segment of bw\*L = 1\*8 = 8 bytes is not whole 16-byte DRAM beats \(--bus-bytes\)$/);
    bad([1, 1, 1], /bc = 1 is not a multiple .*; a block row segment .* not whole 16-byte DRAM beats/);
    model.tensors.find((t) => t.name === y)!.shape = [20, 6, 300];
    bad([8, 1, 256], /^zb\.gir\.json: tensor 't0': the engine cannot skip zero blocks of 8x1x256: a block row segment of bw\*L = 2048 bytes is 128 beats, more than one 64-beat burst$/);
  });
});
