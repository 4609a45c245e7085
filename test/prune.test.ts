import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { readInputData, type InputData } from '../src/frontend/data.js';
import { loadModel } from '../src/frontend/load.js';
import { runGolden } from '../src/golden/run.js';
import { readModel } from '../src/ir/serialize.js';
import type { ConvLayer, FcLayer, Model } from '../src/ir/types.js';
import { validateModel } from '../src/ir/validate.js';
import { channelRemovable, compactability, compactChannels } from '../src/passes/compact-channels.js';
import { parseBudget, prune, spatialTotals, type PruneOptions } from '../src/passes/prune.js';
import { CLI, OWN, sharedModel } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'gatec-prune-'));
const MLP = join(OWN, 'mlp16_qdq.onnx');
const CALIB = join(OWN, 'mlp16_calib.json');
let mlp: Model;
let calib: InputData;

async function gatec(...args: string[]) {
  const r = await execa('node', [CLI, ...args], { reject: false });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

const opts = (o: Partial<PruneOptions>): PruneOptions => ({
  arch: 'spatial',
  structure: 'pattern',
  budget: parseBudget('dsp=50%'),
  score: 'l1',
  reuse: 1,
  engine: { ...DEFAULT_ENGINE_CONFIG },
  where: 'test',
  ...o,
});

/** Every sample's int8 outputs of two models are identical. */
function expectSameOutputs(a: Model, b: Model, data: InputData, n = data.inputs.length): void {
  for (const x of data.inputs.slice(0, n)) expect(Array.from(runGolden(b, x).outputsInt[0]!)).toEqual(Array.from(runGolden(a, x).outputsInt[0]!));
}

beforeAll(async () => {
  mlp = await loadModel(MLP);
  calib = await readInputData(CALIB);
});

describe('spatial pattern pruning', () => {
  for (const reuse of [1, 4]) {
    it(`keeps the budget, zeroes exactly the masked weights and stays a valid IR (reuse ${reuse})`, () => {
      const r = prune(mlp, opts({ reuse, budget: parseBudget('dsp=25%,lut=85%') }));
      expect(r.solution.exact).toBe(true);
      expect(r.after.dsp).toBeLessThanOrEqual(r.budget.dsp!);
      expect(r.after.lut).toBeLessThanOrEqual(r.budget.lut!);
      expect(r.after).toEqual(spatialTotals(r.model, reuse));
      validateModel(r.model, 'pruned');
      for (const l of r.model.layers) {
        if (l.op !== 'fc') continue;
        expect(l.pruneMask).toBeDefined();
        const orig = mlp.layers.find((x) => x.name === l.name) as FcLayer;
        l.weights.forEach((w, i) => expect(w).toBe(l.pruneMask![i] ? orig.weights[i] : 0));
      }
      // kept structures: a pattern is all kept or all pruned
      r.structures.forEach((s, i) => {
        const l = r.model.layers.find((x) => x.name === s.layer) as FcLayer;
        for (const k of s.weights) expect(l.pruneMask![k]).toBe(r.kept[i] ? 1 : 0);
      });
    });
  }

  it('ranks by an importance file when one is given', async () => {
    const { readImportance } = await import('../src/passes/prune-importance.js');
    const imp = await readImportance(join(OWN, 'mlp16_importance.json'), mlp);
    const a = prune(mlp, opts({ importance: imp }));
    const b = prune(mlp, opts({}));
    expect(a.kept).not.toEqual(b.kept);
    expect(a.after.dsp).toBeLessThanOrEqual(a.budget.dsp!);
  });
});

describe('engine filter-group pruning', () => {
  it('removes whole PE-width groups, keeps the network outputs bit-identical to the masked model, and saves predicted cycles', () => {
    const r = prune(mlp, opts({ arch: 'engine', structure: 'filter', budget: parseBudget('cycles=80%') }));
    expect(r.after.cycles).toBeLessThan(r.before.cycles);
    expect(r.after.cycles).toBeLessThanOrEqual(r.budget.cycles!);
    const pruned = r.structures.filter((_, i) => !r.kept[i]);
    expect(pruned.length).toBeGreaterThan(0);
    for (const s of pruned) expect(s.channels!.length).toBe(DEFAULT_ENGINE_CONFIG.peOc);
    validateModel(r.model, 'compacted');
    expectSameOutputs(r.masked, r.model, calib);
  });

  it('folds constant channels into the consumer: digits8 (padded conv), MNIST (conv, flatten + fc) and mlp16 (fc), several removals', async () => {
    const digits = await loadModel(sharedModel('digits8_qdq'));
    const data = { inputs: Array.from({ length: 6 }, (_, s) => Float64Array.from({ length: 64 }, (_, i) => ((i * 7 + s * 13) % 17) / 16)) } as InputData;
    const mnist = await loadModel(join(OWN, 'mnist_plain_qdq.onnx'));
    const mnistData = await readInputData(join(OWN, 'mnist_test.json'));
    for (const [m, d] of [[digits, data], [mnist, { ...mnistData, inputs: mnistData.inputs.slice(0, 3) }], [mlp, calib]] as const) {
      for (let seed = 0; seed < 3; seed++) {
        let masked: Model = m;
        const remove = new Map<string, number[]>();
        for (const l of m.layers) {
          if (l.op !== 'conv' && l.op !== 'fc') continue;
          const can = compactability(m, l);
          if (!can.ok) continue;
          const co = l.bias.length;
          const rowLen = l.weights.length / co;
          const chans = [...Array(co).keys()].filter((c) => channelRemovable(m, l, c, can.consumer)).filter((_, k) => (k + seed) % 2 === 0 && k < co - 1);
          const w = Int8Array.from(l.weights);
          for (const c of chans) w.fill(0, c * rowLen, (c + 1) * rowLen);
          masked = { ...masked, layers: masked.layers.map((x) => (x.name === l.name ? ({ ...(x as ConvLayer | FcLayer), weights: w } as typeof x) : x)) };
          remove.set(l.name, chans);
        }
        expect([...remove.values()].flat().length).toBeGreaterThan(0);
        const compact = compactChannels(masked, remove, 'test');
        validateModel(compact, 'compact');
        expectSameOutputs(masked, compact, d, 20);
      }
    }
  });
});

describe('gatec prune', () => {
  beforeAll(() => {
    writeFileSync(join(dir, 'nolabels.json'), JSON.stringify({ shape: [1, 1, 4, 4], inputs: [Array(16).fill(0.1)] }));
  });
  const cases: [string, string[], number, RegExp][] = [
    ['unknown budget key', ['--arch', 'spatial', '--budget', 'dsp=10,ff=3'], 1, /--budget: unknown budget key 'ff'/],
    ['a budget nothing meets', ['--arch', 'spatial', '--budget', 'lut=10'], 1, /lut=10 cannot be met: pruning every structure leaves \d+ lut/],
    ['unknown architecture', ['--arch', 'gpu', '--budget', 'dsp=10'], 1, /unknown architecture 'gpu'/],
    ['a malformed budget', ['--arch', 'spatial', '--budget', 'dsp=lots'], 1, /'dsp=lots' is not key=number/],
    ['block structures', ['--arch', 'spatial', '--budget', 'dsp=10', '--structure', 'block'], 2, /block structures are not implemented/],
    ['a LUT budget on the engine', ['--arch', 'engine', '--budget', 'lut=10'], 2, /the engine has no LUT model/],
    ['patterns on the engine', ['--arch', 'engine', '--budget', 'cycles=90%', '--structure', 'pattern'], 2, /the engine prunes filter groups/],
  ];
  for (const [what, args, code, msg] of cases) {
    it(`exits ${code} on ${what}, one line`, async () => {
      const r = await gatec('prune', MLP, '--calib', CALIB, ...args);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('exits 1 on calibration data without labels', async () => {
    const r = await gatec('prune', MLP, '--calib', join(dir, 'nolabels.json'), '--arch', 'spatial', '--budget', 'dsp=50%');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/needs "labels"/);
  });

  it('writes the pruned IR and the mask, reports accuracy, resources and the solver (--json)', async () => {
    const out = join(dir, 'p.gir.json');
    const mask = join(dir, 'p.mask.json');
    const r = await gatec('prune', MLP, '--calib', CALIB, '--arch', 'spatial', '--budget', 'dsp=50%', '-o', out, '--mask-out', mask, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    // the knapsack's linear count (each kept pattern a multiplier) meets the budget and bounds the
    // synthesized count (channels no kept pattern reads removed)
    expect(j.resources.knapsack.dsp).toBeLessThanOrEqual(j.budget.dsp);
    expect(j.resources.after.dsp).toBeLessThanOrEqual(j.resources.knapsack.dsp);
    expect(j.solver.exact).toBe(true);
    expect(j.accuracy.before).toBeCloseTo(189 / 200, 6);
    const m = readModel(readFileSync(out, 'utf8'), out);
    const masks = JSON.parse(readFileSync(mask, 'utf8'));
    expect(masks.format).toBe('gatec-prune-mask');
    expect(masks.layers.map((l: { name: string }) => l.name)).toEqual(['/fc1/Gemm', '/fc2/Gemm', '/fc3/Gemm', '/fc4/Gemm']);
    const kept = masks.layers.reduce((a: number, l: { mask: number[] }) => a + l.mask.reduce((x, y) => x + y, 0), 0);
    expect(kept).toBe(m.layers.reduce((a, l) => a + (l.op === 'fc' ? l.pruneMask!.reduce((x, y) => x + y, 0) : 0), 0));
    const human = await gatec('prune', out, '--calib', CALIB, '--arch', 'spatial', '--budget', 'dsp=100%');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/accuracy \(200 samples\): ([0-9.]+)% -> \1%/);
  });
});
