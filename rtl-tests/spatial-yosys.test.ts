// The spatial resource model against Yosys synth_xilinx (docs/spatial.md, "Resource model and
// calibration"), on a 16-8-4 MLP at reuse 4 with every other multiplier pattern pruned as the
// knapsack does: DSP48E1 equal to spatialResources, LUTs within 25%, no BRAM, no latch. One
// synthesis (about 20 s): the dense design and larger ones (mlp16, digits8, pruned mlp16) are
// synthesized by the bench (GATEC_BENCH=spatial), whose table docs/spatial.md records. The pruned design is the case where pruning leaves channels of fc1 that
// no fc2 multiplier reads: Yosys removes them with their multipliers and requantization lane, and
// so does the plan (markLive).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spatialPatterns } from '../generator/spatial/patterns.js';
import { spatialResources } from '../generator/spatial/resources.js';
import { mlpModel } from '../test/support/spatial-mlp.js';
import { buildDesign, synthXilinx, type SynthStat } from './common/spatial.js';

interface Run {
  model: { dsp: number; lut: number; ff: number; bram18: number; deadChannels: number };
  yosys: SynthStat;
}

let base = '';
let pruned: Promise<Run>;

async function run(prune: boolean, name: string): Promise<Run> {
  const model = mlpModel([16, 8, 4], 3);
  // Prune every other multiplier's pattern (its weights across the reuse factor), as the knapsack does.
  if (prune) {
    spatialPatterns(model, { default: 4 }).forEach((p, i) => {
      const l = model.layers[p.layerIndex]!;
      if (i % 2 === 0 && l.op === 'fc') for (const w of p.weightIndex) l.weights[w] = 0;
    });
  }
  const b = await buildDesign(model, { default: 4 }, base, name);
  const r = b.comp.resources;
  const deadChannels = b.comp.plan.stages.reduce((a, s) => a + s.liveOut.filter((x) => !x).length, 0);
  return { model: { dsp: r.dsp, lut: r.lut, ff: r.ff, bram18: r.bram18, deadChannels }, yosys: await synthXilinx(b.dir, b.top) };
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'gatec-spatial-yosys-'));
  const quiet = (p: Promise<Run>) => (p.catch(() => undefined), p);
  pruned = quiet(run(true, 'synth_pruned'));
});
afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

function agrees(r: Run) {
  expect(Math.abs(r.yosys.dsp - r.model.dsp)).toBeLessThanOrEqual(Math.floor(0.05 * r.model.dsp));
  expect(Math.abs(r.yosys.lut - r.model.lut) / r.yosys.lut).toBeLessThan(0.25);
  expect(r.yosys.bram18).toBe(r.model.bram18);
  expect(r.yosys.latches).toBe(0);
}

it('every other pattern pruned: DSP48E1 as the model, dead fc1 channels removed, DSPs fall', async () => {
  const p = await pruned;
  agrees(p);
  expect(p.yosys.dsp).toBe(p.model.dsp);
  // fc2 keeps only multiplier j=1 (taps 1, 3, 5, 7): fc1's channels 0, 2, 4, 6 are dead
  expect(p.model.deadChannels).toBe(4);
  // the dense design: 43 DSP48E1, model and Yosys alike (bench, docs/spatial.md)
  const dense = mlpModel([16, 8, 4], 3);
  expect(spatialResources(dense, { default: 4 }).dsp).toBe(43);
  expect(p.yosys.dsp).toBeLessThan(43 / 2);
  // eslint-disable-next-line no-console
  console.log(`spatial synth (16-8-4, R=4, every other pattern pruned): ${JSON.stringify(p)}`);
}, 600_000);
