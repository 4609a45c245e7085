import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine } from '../generator/engine/build.js';
import { simulateEngine } from '../src/sim/engine-sim.js';
import { goldenAppliesEpsilon, mixedAddModel, PATTERNS, patternInput, ZB_CONFIGS, zbConfig, zeroBlockModel } from '../test/support/engine-zero-blocks.js';

/**
 * Zero-block skipping on the engine RTL in Verilator (issue 5): a model in which planar tensors
 * meet every unit (model input, conv in and out, pooling per plane, add per plane, global
 * average pooling, fc through a view, model output), on configurations with PE arrays narrower
 * and wider than the activation word and buses narrower and wider than a buffer row, with input
 * patterns of all, none, alternating and random zero blocks. Every sample: every tensor
 * bit-exact with the golden model (bitmaps included, through the values the decoder reads back),
 * and every layer's DRAM bytes, read and write, exactly as the golden bitmaps predict.
 */

const CONFIGS = ['small', 'pe4x8 bus8 small', 'pe8x4 bus32', 'pe16x8'] as const;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatec-engine-zb-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('zero-block skipping on the RTL', () => {
  for (const name of CONFIGS) {
    it(`${name}: bit-exact and the predicted DRAM bytes per layer, for every pattern`, { timeout: 900_000 }, async () => {
      const c = zbConfig(ZB_CONFIGS[name]!);
      const model = zeroBlockModel(c);
      if (goldenAppliesEpsilon()) {
        // Epsilon on two tensors: the encoder applies it where the golden model does.
        model.tensors.filter((t) => t.zeroBlock).forEach((t, i) => (t.zeroBlock!.epsilon = i % 3 === 1 ? 3 : 0));
      }
      const build = await buildEngine(model, c, join(work, name.replace(/\W+/g, '_')));
      const sim = await simulateEngine(build.dir, PATTERNS.map((p) => patternInput(model, p)));
      const failures = sim.samples.flatMap((s, i) => (s.match ? [] : [`${PATTERNS[i]}: ${s.failure}`]));
      expect(failures).toEqual([]);
      // Skipping saved traffic on the sparse patterns and cost only bitmap rows on the dense one.
      const saved = sim.samples.map((s) => 1 - (s.dramBytes.read + s.dramBytes.write) / (s.dramBytesDense.read + s.dramBytesDense.write));
      expect(saved[PATTERNS.indexOf('all-zero')]).toBeGreaterThan(0.2);
      expect(saved[PATTERNS.indexOf('none-zero')]).toBeGreaterThanOrEqual(0);
    });
  }

  it('adds mixing annotated and unannotated tensors (implied planar, epsilon 0), on the default configuration', { timeout: 900_000 }, async () => {
    const c = zbConfig(ZB_CONFIGS['default']!);
    const model = mixedAddModel(c);
    const build = await buildEngine(model, c, join(work, 'mixed'));
    const sim = await simulateEngine(build.dir, PATTERNS.map((p) => patternInput(model, p)));
    expect(sim.samples.flatMap((s, i) => (s.match ? [] : [`${PATTERNS[i]}: ${s.failure}`]))).toEqual([]);
  });
});
