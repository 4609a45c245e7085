import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine } from '../generator/engine/build.js';
import { EXIT_UNSUPPORTED, GatecError } from '../src/errors.js';
import { importOnnx } from '../src/frontend/onnx/import.js';
import { csimEngine } from '../src/sim/engine-csim.js';
import { simulateEngine, type EngineSampleResult } from '../src/sim/engine-sim.js';
import { annotateZeroBlocks, engineCase, PROPERTY_CONFIGS, type EngineCase } from '../test/support/engine-property.js';
import { mulberry32 } from '../test/support/prng.js';
import { buildQdqNetwork } from '../test/support/random-network.js';

/**
 * C simulation == golden == RTL on random networks, hardware configurations and zero-block
 * annotations (the RTL property's generators): one build with both targets, one random input,
 * every tensor of both bit-exact with the golden model (each checks that itself), equal outputs
 * and equal DRAM bytes per layer. CI-sized: each case costs a Verilator run.
 */
const RUNS = 4;

let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatec-hls-prop-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const bytesPerLayer = (s: EngineSampleResult): string[] => s.layers.map((l) => `${l.name}: ${l.dramRead} read, ${l.dramWrite} written`);

async function runCase(c: EngineCase, id: string): Promise<'match' | 'unsupported'> {
  const onnx = join(work, `${id}.onnx`);
  await writeFile(onnx, buildQdqNetwork(c.spec));
  const config = { ...PROPERTY_CONFIGS[c.config]! };
  const imported = (await importOnnx(onnx)).model;
  const model = c.zeroBlocks === null ? imported : annotateZeroBlocks(imported, config, c.zeroBlocks);
  const dir = join(work, id);
  try {
    await buildEngine(model, config, dir, undefined, { targets: ['rtl', 'hls'] });
  } catch (e) {
    if (e instanceof GatecError && e.exitCode === EXIT_UNSUPPORTED) return 'unsupported';
    throw e;
  }
  const rng = mulberry32(c.spec.seed ^ 0x5bd1e995);
  const input = Float32Array.from({ length: c.spec.c * c.spec.h * c.spec.w }, () => rng());
  const where = `${id} (config ${c.config}, spec ${JSON.stringify(c.spec)}, zero blocks ${c.zeroBlocks})`;
  const csim = (await csimEngine(dir, [input])).samples[0]!;
  if (!csim.match) throw new Error(`${where}: C simulation: ${csim.failure ?? 'mismatch'}`);
  const rtl = (await simulateEngine(dir, [input], { dramBytesPerCycle: c.dramBytesPerCycle, dramLatency: c.dramLatency })).samples[0]!;
  if (!rtl.match) throw new Error(`${where}: RTL: ${rtl.failure ?? 'mismatch'}`);
  expect(csim.outputsInt, where).toEqual(rtl.outputsInt);
  expect(bytesPerLayer(csim), where).toEqual(bytesPerLayer(rtl));
  expect(csim.fetchBytes, where).toBe(rtl.fetchBytes);
  return 'match';
}

describe('HLS C simulation on random networks and hardware configurations (fast-check)', () => {
  it('equals the golden model and the RTL on every tensor and every layer\'s DRAM bytes', async () => {
    const outcomes: string[] = [];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(engineCase, async (c) => {
        outcomes.push(await runCase(c, `case${n++}`));
      }),
      { numRuns: RUNS, seed: 7 },
    );
    expect(outcomes.filter((o) => o === 'match').length).toBeGreaterThanOrEqual(RUNS / 2);
  }, 600_000);
});
