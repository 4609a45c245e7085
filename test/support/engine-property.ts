import fc from 'fast-check';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildEngine } from '../../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../../generator/engine/config.js';
import { EXIT_UNSUPPORTED, GatecError } from '../../src/errors.js';
import { importOnnx } from '../../src/frontend/onnx/import.js';
import type { Model, TensorInfo } from '../../src/ir/types.js';
import { simulateEngine } from '../../src/sim/engine-sim.js';
import { mulberry32 } from './prng.js';
import { buildQdqNetwork, networkSpec, type NetworkSpec } from './random-network.js';

/**
 * Hardware configurations of the engine property (RTL == golden on random networks). A few fixed
 * ones, because each costs a Verilator build; between them they cover PE arrays wider and
 * narrower than the activation word, buses narrower and wider than a buffer row, and buffers
 * small enough that the compiler has to cut layers into bands and weight chunks.
 */
export const PROPERTY_CONFIGS: readonly EngineConfig[] = [
  { ...DEFAULT_ENGINE_CONFIG, peOc: 4, peIc: 8, busBytes: 8, inBufBytes: 1024, wBufBytes: 2048, outBufBytes: 512, paramRows: 8, fetchDepth: 4 },
  { ...DEFAULT_ENGINE_CONFIG, peOc: 8, peIc: 4, busBytes: 32, inBufBytes: 2048, wBufBytes: 4096, outBufBytes: 1024, paramRows: 4, fetchDepth: 8 },
  { ...DEFAULT_ENGINE_CONFIG, peOc: 2, peIc: 2, busBytes: 4, inBufBytes: 512, wBufBytes: 512, outBufBytes: 256, paramRows: 16, fetchDepth: 4 },
];

export interface EngineCase {
  spec: NetworkSpec;
  config: number;
  dramBytesPerCycle: number;
  dramLatency: number;
  /** zero-block annotations: none, or a seed choosing tensors, block heights and epsilons */
  zeroBlocks: number | null;
}

export const engineCase: fc.Arbitrary<EngineCase> = fc.record({
  spec: networkSpec,
  config: fc.integer({ min: 0, max: PROPERTY_CONFIGS.length - 1 }),
  dramBytesPerCycle: fc.constantFrom(1, 3, 8, 64),
  dramLatency: fc.constantFrom(1, 7, 40),
  zeroBlocks: fc.option(fc.integer({ min: 1, max: 2 ** 30 }), { freq: 2 }),
});

/**
 * Annotates some activation tensors with zero blocks the engine can skip: bc = L lanes, bw the
 * narrowest whole-beat segment, bh 1 or 2, epsilon 0..40 (large enough to zero whole blocks).
 * Tensors a block does not fit, views and the model's outputs stay dense.
 */
export function annotateZeroBlocks(model: Model, config: EngineConfig, seed: number): Model {
  const rng = mulberry32(seed);
  const views = new Set(model.layers.filter((l) => l.op === 'reshape').map((l) => l.output));
  const L = config.peIc;
  const bw = Math.max(1, config.busBytes / L);
  const tensors = model.tensors.map((t): TensorInfo => {
    if (views.has(t.name) || model.outputs.includes(t.name) || t.shape.length !== 3 || rng() < 0.4) return t;
    const [c, h, w] = t.shape as [number, number, number];
    const bh = rng() < 0.5 ? 1 : 2;
    if (c < L || h < bh || w < bw) return t;
    return { ...t, zeroBlock: { block: [L, bh, bw], epsilon: [0, 4, 12, 40][Math.floor(rng() * 4)]! } };
  });
  return { ...model, tensors };
}

export type EngineCaseOutcome = { kind: 'match'; cycles: number } | { kind: 'unsupported'; reason: string };

/**
 * Builds the case's network for its configuration, simulates one random input and throws with the
 * simulator's first mismatch unless every tensor is bit-exact. A network the compiler rejects as
 * unsupported for that configuration (a buffer too small for one row, say) is an outcome, not a
 * failure; any other error is.
 */
export async function runEngineCase(c: EngineCase, work: string, id: string): Promise<EngineCaseOutcome> {
  const onnx = join(work, `${id}.onnx`);
  await writeFile(onnx, buildQdqNetwork(c.spec));
  const config = { ...PROPERTY_CONFIGS[c.config]! };
  const imported = (await importOnnx(onnx)).model;
  const model = c.zeroBlocks === null ? imported : annotateZeroBlocks(imported, config, c.zeroBlocks);
  const dir = join(work, id);
  try {
    await buildEngine(model, config, dir);
  } catch (e) {
    if (e instanceof GatecError && e.exitCode === EXIT_UNSUPPORTED) return { kind: 'unsupported', reason: e.message };
    throw e;
  }
  const rng = mulberry32(c.spec.seed ^ 0x5bd1e995);
  const input = Float32Array.from({ length: c.spec.c * c.spec.h * c.spec.w }, () => rng());
  const sim = await simulateEngine(dir, [input], { dramBytesPerCycle: c.dramBytesPerCycle, dramLatency: c.dramLatency });
  const s = sim.samples[0]!;
  if (!s.match) throw new Error(`${id}: ${s.failure ?? 'mismatch'} (config ${c.config}, spec ${JSON.stringify(c.spec)})`);
  return { kind: 'match', cycles: s.cycles };
}
