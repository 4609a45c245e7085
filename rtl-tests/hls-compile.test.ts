import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../generator/engine/config.js';
import { loadModel } from '../src/frontend/load.js';
import type { Model } from '../src/ir/types.js';
import { buildCsim, csimEngine } from '../src/sim/engine-csim.js';
import { sharedData, sharedModel } from '../test/fixtures.js';
import { PROPERTY_CONFIGS } from '../test/support/engine-property.js';
import { IrBuilder, randomInput } from '../test/support/engine-models.js';

/**
 * The generated C++ compiles warning-free (-Wall -Wextra -Werror) under g++ and clang++ for
 * configurations with PE arrays narrower than, as wide as and wider than the activation word, and
 * runs clean under AddressSanitizer and UndefinedBehaviorSanitizer on a zero-block model (decoder,
 * encoder, every compute instruction), bit-exact as always.
 */

let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatec-hls-compile-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function small(): Model {
  const b = new IrBuilder('small', [4, 5, 5]);
  const y = b.conv(b.input, { co: 8, k: 3, p: 1 });
  return b.build([b.conv(y, { co: 4, k: 1 })]);
}

// PeOc = L, PeOc < L (partial output words), PeOc > L (several words per result)
const CONFIGS: [string, EngineConfig][] = [['default 8x8', { ...DEFAULT_ENGINE_CONFIG }], ...PROPERTY_CONFIGS.slice(0, 2).map((c): [string, EngineConfig] => [`${c.peOc}x${c.peIc}, ${c.busBytes}-byte bus`, c])];

describe.each(['g++', 'clang++'])('%s', (compiler) => {
  it.each(CONFIGS)('compiles the kernel and testbench of the %s configuration warning-free and runs it bit-exact', { timeout: 120_000 }, async (label, config) => {
    const dir = join(work, `${compiler.replace(/\W/g, '')}_${label.replace(/\W+/g, '_')}`);
    const model = small();
    await buildEngine(model, config, dir, undefined, { targets: ['hls'] });
    const sim = await csimEngine(dir, [randomInput(model, 3)], { compiler });
    expect(sim.samples[0]!.failure).toBeUndefined();
    expect(sim.samples[0]!.match).toBe(true);
  });
});

it('runs clean under -fsanitize=address,undefined on a zero-block model', { timeout: 300_000 }, async () => {
  const loaded = await loadModel(sharedModel('tinyres_qdq'));
  const views = new Set(loaded.layers.filter((l) => l.op === 'reshape').map((l) => l.output));
  const model: Model = {
    ...loaded,
    tensors: loaded.tensors.map((t) =>
      t.shape.length === 3 && t.shape[0]! >= 8 && t.shape[2]! >= 2 && !views.has(t.name) && !loaded.outputs.includes(t.name) && t.name !== loaded.inputs[0]
        ? { ...t, zeroBlock: { block: [8, 1, 2] as [number, number, number], epsilon: 40 } }
        : t,
    ),
  };
  const dir = join(work, 'asan');
  await buildEngine(model, { ...DEFAULT_ENGINE_CONFIG }, dir, undefined, { targets: ['hls'] });
  const flags = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer', '-g'];
  const build = await buildCsim(dir, { extraFlags: flags });
  expect(build.exe).toMatch(/tb$/);
  // a sanitizer report aborts the testbench, which fails the simulation with its first line
  const sim = await csimEngine(dir, sharedData('tinyres').inputs.slice(0, 4), { extraFlags: flags });
  expect(sim.samples.flatMap((s, i) => (s.match ? [] : [`sample ${i}: ${s.failure}`]))).toEqual([]);
  expect(sim.samples.some((s) => s.dramBytes.read + s.dramBytes.write < s.dramBytesDense.read + s.dramBytesDense.write)).toBe(true);
});
