import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, rowWidths, type EngineConfig } from '../generator/engine/config.js';
import { allocateActivations, packTensor, physicalOf, regionAlignment, regionElementIndex, regionSize, unpackTensor } from '../generator/engine/layout.js';
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
