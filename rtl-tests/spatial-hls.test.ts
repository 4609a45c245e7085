// The HLS C++ variant of the spatial architecture in C simulation (docs/spatial.md, "HLS C++"):
//  - digits8_qdq (conv, maxpool, avgpool, fc; reuse 8) and the trained mlp16 fixture
//    (16-64-32-32-5; reuse 4 and per layer 1/2/8/3): every sample bit-exact with the golden model;
//  - g++ and clang++ with -Wall -Wextra -Werror, and g++ with AddressSanitizer and
//    UndefinedBehaviorSanitizer (a signed overflow in an accumulator would be UB in C++ where the
//    golden model wraps), on a network whose accumulators reach 32 bits and wrap.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSpatial } from '../generator/spatial/build.js';
import { planSpatial } from '../generator/spatial/plan.js';
import type { ReuseConfig } from '../generator/spatial/reuse.js';
import { readInputData } from '../src/frontend/data.js';
import { loadModel } from '../src/frontend/load.js';
import { quantizeInput } from '../src/golden/run.js';
import type { Model } from '../src/ir/types.js';
import { buildSpatialCsim, openSpatialDir, runSpatial } from '../src/sim/spatial-sim.js';
import { OWN, SHARED } from '../test/fixtures.js';
import { mlpInputs, mlpModel } from '../test/support/spatial-mlp.js';

let base = '';
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'gatec-spatial-hls-'));
});
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

async function csim(model: Model, reuse: ReuseConfig, name: string, inputs: number[][], compiler?: string, extraFlags: string[] = []) {
  const dir = join(base, name);
  await buildSpatial(model, reuse, dir, `${name}.gir.json`, ['hls']);
  const d = await openSpatialDir(dir);
  const exe = compiler || extraFlags.length ? (await buildSpatialCsim(d, compiler, extraFlags)).exe : undefined;
  const r = await runSpatial(d, inputs, 'csim', exe);
  expect(r.samples).toHaveLength(inputs.length);
  const bad = r.samples.findIndex((s) => !s.match);
  expect(bad, `sample ${bad}: ${JSON.stringify(r.samples[bad]?.mismatch)}`).toBe(-1);
  return r;
}

describe('spatial HLS C simulation, bit-exact with the golden model', () => {
  it('digits8_qdq, reuse 8: all 100 samples', async () => {
    const model = await loadModel(join(SHARED, 'digits8_qdq.onnx'));
    const data = await readInputData(join(SHARED, 'digits8_data.json'));
    await csim(model, { default: 8 }, 'digits8', data.inputs.map((x) => Array.from(x)));
  }, 300_000);

  it('mlp16 (trained 16-64-32-32-5), reuse 4 and per layer: all 500 test samples', async () => {
    const model = await loadModel(join(OWN, 'mlp16_qdq.onnx'));
    const data = await readInputData(join(OWN, 'mlp16_test.json'));
    const inputs = data.inputs.map((x) => Array.from(x));
    const r = await csim(model, { default: 4 }, 'mlp16_r4', inputs);
    // the golden model's accuracy, which the kernel reproduces sample by sample
    const correct = r.samples.filter((s, i) => s.top1 === data.labels![i]).length;
    expect(correct / inputs.length).toBeGreaterThan(0.8);
    const fcs = model.layers.filter((l) => l.op === 'fc').map((l) => l.name);
    await csim(model, { default: 1, perLayer: { [fcs[0]!]: 1, [fcs[1]!]: 2, [fcs[2]!]: 8, [fcs[3]!]: 3 } }, 'mlp16_rmix', inputs.slice(0, 100));
  }, 300_000);
});

describe('spatial HLS compilers', () => {
  /** An MLP whose accumulators reach 32 bits (bias near 2^31), so they wrap like int32. */
  function wrapping(): Model {
    const m = mlpModel([16, 8, 4], 21, 0.25);
    const l = m.layers[0]!;
    if (l.op !== 'fc') throw new Error('fc expected');
    l.bias[0] = 2 ** 31 - 5000;
    l.bias[1] = -(2 ** 31) + 5000;
    return m;
  }

  it('the wrapping model really has a 32-bit accumulator whose sums leave int32', () => {
    const m = wrapping();
    const s = planSpatial(m, { default: 2 }).stages[0]!;
    expect(s.accWidth).toBe(32);
    // exact sums of channels 0 and 1 over the test inputs: some leave [-2^31, 2^31)
    const l = m.layers[0]!;
    if (l.op !== 'fc') throw new Error('fc expected');
    const x = m.tensors.find((t) => t.name === m.inputs[0])!;
    const wraps = mlpInputs(50, 16).filter((v) => {
      const q = quantizeInput(x, v);
      return [0, 1].some((o) => {
        let a = l.bias[o]!;
        for (let k = 0; k < 16; k++) a += l.weights[o * 16 + k]! * (q[k]! - x.quant.zeroPoint);
        return a >= 2 ** 31 || a < -(2 ** 31);
      });
    });
    expect(wraps.length).toBeGreaterThan(0);
  });

  it.each(['g++', 'clang++'])('%s -Wall -Wextra -Werror: warning-free, bit-exact (wrapping accumulators, reuse 2)', async (cxx) => {
    await csim(wrapping(), { default: 2 }, `wrap_${cxx.replace(/\W/g, '')}`, mlpInputs(50, 16), cxx);
  }, 120_000);

  it('g++ -fsanitize=address,undefined: clean on digits8 and the wrapping model', async () => {
    const flags = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-g'];
    await csim(wrapping(), { default: 1 }, 'wrap_asan', mlpInputs(20, 16), 'g++', flags);
    const model = await loadModel(join(SHARED, 'digits8_qdq.onnx'));
    const data = await readInputData(join(SHARED, 'digits8_data.json'));
    await csim(model, { default: 3 }, 'digits8_asan', data.inputs.slice(0, 10).map((x) => Array.from(x)), 'g++', flags);
  }, 300_000);
});
