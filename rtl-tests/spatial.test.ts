// The spatial architecture end to end in Verilator (docs/spatial.md), one design per test file
// (each Verilator build costs tens of seconds on CI's two cores; builds are cached by source hash):
//  - here: digits8_qdq (conv, maxpool, avgpool, fc) at reuse 8: every sample bit-exact with the
//    golden model, every sample's first input beat and last output beat equal to the cycle
//    model's schedule (latency and interval as predicted), verilator --lint-only -Wall silent;
//  - rtl-tests/spatial-mlp16.test.ts: the trained mlp16 fixture at mixed per-layer reuse;
//  - rtl-tests/spatial-yosys.test.ts: Yosys synth_xilinx against the resource model.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInputData } from '../src/frontend/data.js';
import { loadModel } from '../src/frontend/load.js';
import { SHARED } from '../test/fixtures.js';
import { checkSim } from './common/spatial.js';

let base = '';
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'gatec-spatial-'));
});
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

describe('spatial RTL in Verilator', () => {
  it('digits8_qdq, reuse 8: 100 samples bit-exact, latency and interval as predicted', async () => {
    const model = await loadModel(join(SHARED, 'digits8_qdq.onnx'));
    const data = await readInputData(join(SHARED, 'digits8_data.json'));
    const r = await checkSim(model, { default: 8 }, base, 'digits8_r8', data.inputs.map((x) => Array.from(x)));
    expect(r.predicted).toEqual({ latency: 1292, interval: 522 });
    expect(r.measured).toEqual(r.predicted);
  }, 600_000);
});
