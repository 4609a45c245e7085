// The trained mlp16 fixture (16-64-32-32-5 on 4x4-pooled digits, fixtures/README.md) as spatial
// RTL in Verilator at per-layer reuse 4/8/2/1 (ROM multipliers and, in fc4, constant ones): the
// first 100 of the 500 test samples (CI time) bit-exact with the golden model, the schedule of
// every sample, and the latency and steady-state interval as predicted (the first ten samples
// come 17 cycles apart while the pipeline's slack fills, then 18: fc2's 17 busy cycles plus the
// frame copy).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readInputData } from '../src/frontend/data.js';
import { loadModel } from '../src/frontend/load.js';
import { OWN } from '../test/fixtures.js';
import { checkSim } from './common/spatial.js';

let base = '';
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'gatec-spatial-mlp16-'));
});
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

it('mlp16, reuse 4/8/2/1: 100 samples bit-exact, schedule, latency and interval as predicted', async () => {
  const model = await loadModel(join(OWN, 'mlp16_qdq.onnx'));
  const data = await readInputData(join(OWN, 'mlp16_test.json'));
  const [fc1, fc2, fc3, fc4] = model.layers.filter((l) => l.op === 'fc').map((l) => l.name);
  const reuse = { default: 1, perLayer: { [fc1!]: 4, [fc2!]: 8, [fc3!]: 2, [fc4!]: 1 } };
  const r = await checkSim(model, reuse, base, 'mlp16_mix', data.inputs.slice(0, 100).map((x) => Array.from(x)));
  expect(r.predicted).toEqual({ latency: 56, interval: 18 });
  expect(r.measured).toEqual(r.predicted);
  const correct = r.samples.filter((s, i) => s.top1 === data.labels![i]).length;
  expect(r.samples).toHaveLength(100);
  expect(correct / r.samples.length).toBeGreaterThan(0.8);
}, 600_000);
