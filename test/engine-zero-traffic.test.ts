import { describe, expect, it } from 'vitest';
import { compileEngine } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../generator/engine/config.js';
import { decodeProgram, encodeProgram } from '../generator/engine/isa.js';
import { computeCycles, predictTiming, TIMING_MODEL } from '../generator/engine/timing.js';
import { predictTraffic, sampleBitmaps } from '../generator/engine/zero-traffic.js';
import { runGolden } from '../src/golden/run.js';
import { describeByteMismatch, firstByteMismatch } from '../src/sim/engine-sim.js';
import type { Model } from '../src/ir/types.js';
import { PATTERNS, patternInput, ZB_CONFIGS, zeroBlockModel } from './support/engine-zero-blocks.js';
import { IrBuilder, runOnEngine } from './support/engine-models.js';

const config = (over: Partial<EngineConfig>): EngineConfig => ({ ...DEFAULT_ENGINE_CONFIG, ...over });

/** Golden values after the write path, for the predictor's bitmaps. */
function goldenValues(model: Model, input: ArrayLike<number>): (name: string) => Int8Array | undefined {
  const g = runGolden(model, input);
  return (name) => g.tensors.get(name)?.data;
}

describe('zero-block DRAM traffic prediction', () => {
  for (const [cname, over] of Object.entries(ZB_CONFIGS)) {
    it(`${cname}: equals the bytes the interpreter moves per layer, for every pattern`, () => {
      const c = config(over);
      const model = zeroBlockModel(c);
      for (const pattern of PATTERNS) {
        const input = patternInput(model, pattern);
        const run = runOnEngine(model, c, input);
        const { program, map } = run.compilation;
        const bitmaps = sampleBitmaps(map.tensors, goldenValues(model, input));
        expect(bitmaps.size).toBe(6);
        const predicted = predictTraffic(program, map.tensors, c.busBytes, bitmaps);
        expect(Object.fromEntries(predicted), `${cname} ${pattern}`).toEqual(Object.fromEntries(run.bytes));
        // The cycle model counts the same bytes with the same bitmaps, and the dense figures without.
        const timed = predictTiming(program, c, TIMING_MODEL, { tensors: map.tensors, bitmaps });
        for (const t of timed.tags) expect([t.dramRead, t.dramWrite]).toEqual([predicted.get(t.tag)?.read ?? 0, predicted.get(t.tag)?.write ?? 0]);
        const dense = predictTraffic(program, map.tensors, c.busBytes);
        for (const l of run.compilation.report.layers) expect([l.dramRead, l.dramWrite]).toEqual([dense.get(l.tag)?.read ?? 0, dense.get(l.tag)?.write ?? 0]);
        const sum = (m: Map<number, { read: number; write: number }>) => [...m.values()].reduce((a, b) => a + b.read + b.write, 0);
        if (pattern === 'none-zero') expect(sum(predicted)).toBeLessThanOrEqual(sum(dense));
        if (pattern === 'all-zero') expect(sum(predicted)).toBeLessThan(sum(dense));
      }
    });
  }

  it('moves only bitmap rows for an all-zero planar input, and every segment plus the bitmap for a dense one', () => {
    const c = config({});
    const b = new IrBuilder('zbt', [16, 8, 8]);
    b.zeroBlock(b.input, [8, 2, 2]);
    const model = b.build([b.conv(b.input, { co: 8, k: 1 })]);
    const comp = compileEngine(model, c);
    const t = comp.map.tensors.find((x) => x.name === 'input')!;
    const z = t.zeroBlock!;
    // P = 2 planes of 8 rows x 4 segments of 16 bytes; 4 bitmap rows of one beat.
    expect(z).toMatchObject({ nWb: 4, nHb: 4, nCb: 2, bitmapRowBytes: 16 });
    // Weights (2 words of 64 bytes) and one param row of 64 bytes besides the input.
    const other = 128 + 64;
    const read = (flags: Uint8Array) => predictTraffic(comp.program, comp.map.tensors, c.busBytes, new Map([['input', flags]])).get(0)!.read - other;
    expect(read(new Uint8Array(2 * 4 * 4))).toBe(4 * 16);
    expect(read(new Uint8Array(2 * 4 * 4).fill(1))).toBe(4 * 16 + 2 * 8 * 4 * 16);
    // One non-zero block (cb 1, hb 2, wb 3): its 2 rows of 1 plane.
    const one = new Uint8Array(32);
    one[(1 * 4 + 2) * 4 + 3] = 1;
    expect(read(one)).toBe(4 * 16 + 2 * 16);
  });
});

describe('programs back from their bytes', () => {
  it('decodeProgram inverts encodeProgram on dense and zero-block programs', () => {
    for (const [, over] of Object.entries(ZB_CONFIGS)) {
      const c = config(over);
      const comp = compileEngine(zeroBlockModel(c), c);
      const decoded = decodeProgram(comp.image, comp.map.program.addr, comp.map.program.count);
      expect(decoded).toEqual(comp.program);
      expect(Buffer.from(encodeProgram(decoded, () => 'x')).equals(Buffer.from(comp.image.subarray(0, decoded.length * 64)))).toBe(true);
    }
  });
});

describe('cycle model of zero-block transfers', () => {
  it('a memory-bound layer gets faster as its input has more zero blocks; compute is unchanged', () => {
    const c = config({ dramBytesPerCycle: 1 });
    const b = new IrBuilder('zbslow', [64, 32, 32]);
    b.zeroBlock(b.input, [8, 2, 2]);
    const model = b.build([b.pool(b.input, 'maxpool', 2, 2)]);
    const comp = compileEngine(model, c);
    const t = comp.map.tensors.find((x) => x.name === 'input')!;
    const blocks = t.zeroBlock!.nCb * t.zeroBlock!.nHb * t.zeroBlock!.nWb;
    const cycles = (density: number) => {
      const flags = Uint8Array.from({ length: blocks }, (_, i) => ((i * 7919) % 100 < density * 100 ? 1 : 0));
      return predictTiming(comp.program, c, TIMING_MODEL, { tensors: comp.map.tensors, bitmaps: new Map([['input', flags]]) }).cycles;
    };
    const dense = comp.timing.cycles;
    expect(cycles(1)).toBe(dense);
    expect(cycles(0.3)).toBeLessThan(0.6 * dense);
    expect(cycles(0)).toBeLessThan(cycles(0.3));
    const compute = comp.program.filter((i) => i.op === 'pool').reduce((a, i) => a + computeCycles(i as never, c), 0);
    expect(cycles(0)).toBeGreaterThan(compute);
  });
});

describe('gatec sim: measured bytes against the prediction', () => {
  it('names the first layer whose bytes differ, as a failure line', () => {
    const layer = (index: number, read: number, write: number, pr: number, pw: number) => ({
      index,
      name: `l${index}`,
      dramRead: read,
      dramWrite: write,
      predicted: { cycles: 0, dramRead: pr, dramWrite: pw },
    });
    expect(firstByteMismatch([layer(0, 10, 20, 10, 20), layer(1, 5, 5, 5, 5)])).toBeUndefined();
    const m = firstByteMismatch([layer(0, 10, 20, 10, 20), layer(1, 5, 7, 5, 5), layer(2, 1, 1, 2, 2)])!;
    expect(m).toEqual({ layer: 'l1', tag: 1, measured: { read: 5, write: 7 }, predicted: { read: 5, write: 5 } });
    expect(describeByteMismatch(m)).toBe("layer 'l1' (tag 1) moved 5 bytes read and 7 written; the golden bitmaps predict 5 and 5");
  });
});
