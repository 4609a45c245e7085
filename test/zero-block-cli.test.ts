import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseInputData } from '../src/frontend/data.js';
import { importOnnx } from '../src/frontend/onnx/import.js';
import { argmax, runGolden } from '../src/golden/run.js';
import { readModel, writeModel } from '../src/ir/serialize.js';
import { DEFAULT_BLOCKS, searchZeroBlocks, sparsityTargets, withinDrop } from '../src/passes/zero-block.js';
import { CLI, OWN, SHARED, sharedModel } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'gatec-sparsity-'));
const digitsData = join(SHARED, 'digits8_data.json');
const calib = join(OWN, 'digits8_calib.json');
const qdq = sharedModel('digits8_qdq');

async function gatec(...args: string[]) {
  const r = await execa('node', [CLI, ...args], { reject: false });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

interface Report {
  samples: number;
  maxDrop: number;
  accuracy: { before: number; after: number; dropPoints: number };
  tensors: { tensor: string; block: number[] | null; epsilon: number | null; zeroBlockFraction: number; bytesPerSample: { dense: number; actual: number }; reduction: number }[];
  other: { bytesPerSample: { dense: number; actual: number } };
  total: { bytesPerSample: { dense: number; actual: number }; reduction: number; macsPerSample: { dense: number; executed: number } };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm test" (it builds first)`);
});

describe('gatec sparsity on digits8', () => {
  const out = join(dir, 'digits8.sparse.gir.json');
  let report: Report;

  beforeAll(async () => {
    const r = await gatec('sparsity', qdq, '--calib', digitsData, '--max-drop', '1', '-o', out, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    report = JSON.parse(r.stdout) as Report;
  });

  it('keeps top-1 within --max-drop of the unannotated model and saves traffic', () => {
    expect(report.samples).toBe(100);
    expect(report.accuracy.dropPoints).toBeLessThanOrEqual(1);
    expect(report.accuracy.after).toBeGreaterThanOrEqual(report.accuracy.before - 0.01);
    expect(report.total.reduction).toBeGreaterThan(0.2);
    expect(report.total.macsPerSample.executed).toBeLessThan(report.total.macsPerSample.dense);
    // Rows plus the unannotated rest add up to the total.
    const dense = report.tensors.reduce((a, t) => a + t.bytesPerSample.dense, 0) + report.other.bytesPerSample.dense;
    expect(dense).toBeCloseTo(report.total.bytesPerSample.dense, 9);
    // Every activation tensor but the model output and the flatten view is a row.
    expect(report.tensors.map((t) => t.tensor)).toEqual(['input', '/2/Relu_output_0', '/5/Relu_output_0', '/6/MaxPool_output_0', '/8/Relu_output_0', '/9/AveragePool_output_0']);
  });

  it('writes an annotated IR that loads and runs with the reported accuracy, bytes and MACs', async () => {
    const model = readModel(readFileSync(out, 'utf8'), out);
    const annotated = model.tensors.filter((t) => t.zeroBlock);
    expect(annotated.map((t) => t.name)).toEqual(report.tensors.filter((t) => t.block).map((t) => t.tensor));
    const r = await gatec('run', out, '--inputs', digitsData, '--json');
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as {
      accuracy: number;
      macs: { dense: number; executed: number };
      sparsity: { total: { activationBytes: { actual: { read: number; write: number } }; macs: { executed: number } }; layers: unknown[] }[];
    };
    expect(run.accuracy).toBe(report.accuracy.after);
    expect(run.sparsity).toHaveLength(100);
    expect(run.sparsity[0]!.layers).toHaveLength(model.layers.length);
    const actual = run.sparsity.reduce((a, s) => a + s.total.activationBytes.actual.read + s.total.activationBytes.actual.write, 0) / 100;
    expect(actual).toBeCloseTo(report.total.bytesPerSample.actual, 9);
    expect(run.macs.executed).toBeCloseTo(report.total.macsPerSample.executed, 9);
  });

  it('is deterministic: same file bytes and same report', async () => {
    const again = join(dir, 'again.gir.json');
    const r = await gatec('sparsity', qdq, '--calib', digitsData, '--max-drop', '1', '-o', again, '--json');
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(out, 'utf8'));
    expect({ ...JSON.parse(r.stdout), output: null }).toEqual({ ...report, output: null });
  });

  it('prints the tables without --json and stays quiet when stdout is not a terminal', async () => {
    const r = await gatec('sparsity', qdq, '--calib', digitsData, '--blocks', '1x1x1,8x2x2', '--epsilons', '0,2');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('zero-block fraction at epsilon 0, per candidate block (100 calibration samples)');
    expect(r.stdout).toMatch(/^total\s.*->/m);
    expect(r.stdout).toMatch(/^accuracy: 99\.0% -> \d+\.\d% \(drop -?\d+\.\d points, max 1\)$/m);
  });

  it('plain gatec run has no sparsity key', async () => {
    const r = await gatec('run', qdq, '--inputs', digitsData, '--json');
    expect(JSON.parse(r.stdout)).not.toHaveProperty('sparsity');
  });
});

describe('gatec sparsity errors', () => {
  it('needs labels', async () => {
    const d = JSON.parse(readFileSync(digitsData, 'utf8')) as Record<string, unknown>;
    const file = join(dir, 'nolabels.json');
    writeFileSync(file, JSON.stringify({ shape: d['shape'], inputs: d['inputs'] }));
    const r = await gatec('sparsity', qdq, '--calib', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gatec: error: ${file}: gatec sparsity needs "labels" (one class per input) to measure top-1 accuracy`);
  });

  it.each([
    [['--blocks', '8x2'], "gatec: error: --blocks: '8x2' is not a block shape CxHxW of positive integers (e.g. 8x2x2)"],
    [['--blocks', '8x0x2'], "gatec: error: --blocks: '8x0x2' is not a block shape CxHxW of positive integers (e.g. 8x2x2)"],
    [['--epsilons', '0,-1'], "gatec: error: --epsilons: '-1' is not an integer from 0 to 255"],
    [['--max-drop', 'x'], "gatec: error: --max-drop: 'x' is not a number of percentage points >= 0"],
  ])('rejects %j', async (args, message) => {
    const r = await gatec('sparsity', qdq, '--calib', digitsData, ...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(message);
  });

  it('rejects an annotated IR whose epsilon is negative, naming file and tensor', async () => {
    const json = JSON.parse(writeModel((await importOnnx(qdq)).model));
    json.tensors[1].zeroBlock = { block: [8, 2, 2], epsilon: -2 };
    const file = join(dir, 'neg.gir.json');
    writeFileSync(file, JSON.stringify(json));
    const r = await gatec('run', file, '--inputs', digitsData);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gatec: error: ${file}: tensor '${json.tensors[1].name}': zeroBlock epsilon -2 is negative: it must be an integer from 0 to 255`);
  });
});

describe('searchZeroBlocks (pass, in process)', () => {
  it('with max drop 0 keeps calibration accuracy; its blocks at epsilon 0 keep every output', async () => {
    const { model } = await importOnnx(qdq);
    const data = parseInputData(readFileSync(calib, 'utf8'), calib);
    const subset = { inputs: data.inputs.slice(0, 60), labels: data.labels!.slice(0, 60) };
    const s = searchZeroBlocks(model, subset, { maxDrop: 0, blocks: DEFAULT_BLOCKS, epsilons: [0, 1, 3, 16] });
    expect(s.final.correct).toBeGreaterThanOrEqual(s.baseline.correct);
    expect(withinDrop(s.final.correct, s.baseline.correct, 60, 0)).toBe(true);
    expect(s.final.bytes.actual).toBeLessThan(s.final.bytes.dense);
    expect(s.choices.map((c) => c.tensor)).toEqual(sparsityTargets(model));
    // The same blocks at epsilon 0 reproduce the plain model's outputs exactly.
    const eps0 = { ...s.model, tensors: s.model.tensors.map((t) => (t.zeroBlock ? { ...t, zeroBlock: { ...t.zeroBlock, epsilon: 0 } } : t)) };
    for (const x of subset.inputs.slice(0, 10)) expect(runGolden(eps0, x).outputsInt).toEqual(runGolden(model, x).outputsInt);
    // Accepted trials are exactly the final epsilons above 0.
    for (const c of s.choices) {
      const accepted = s.trials.filter((t) => t.accepted && t.tensor === c.tensor).map((t) => t.epsilon);
      expect(c.config?.epsilon ?? 0).toBe(accepted.length ? Math.max(...accepted) : 0);
    }
    expect(subset.inputs.filter((x, i) => argmax(runGolden(s.model, x).outputsInt[0]!) === subset.labels[i]).length).toBe(s.final.correct);
  });

  it('a tensor whose bitmap costs more than its exact zero blocks save can still be annotated at a larger epsilon', async () => {
    const { model } = await importOnnx(qdq);
    const d = parseInputData(readFileSync(digitsData, 'utf8'), digitsData);
    const s = searchZeroBlocks(model, { inputs: d.inputs, labels: d.labels! }, { maxDrop: 1, blocks: [[8, 2, 2]], epsilons: [0, 32] });
    // At epsilon 0 no 8x2x2 block pays for its bitmap on digits8, so step 1 annotates nothing.
    for (const t of s.measures) expect(t.candidates.every((c) => c.bytes >= t.denseBytes)).toBe(true);
    const annotated = s.choices.filter((c) => c.config);
    expect(annotated.length).toBeGreaterThan(0);
    for (const c of annotated) expect(c.config).toEqual({ block: [8, 2, 2], epsilon: 32 });
    expect(s.final.bytes.actual).toBeLessThan(s.final.bytes.dense);
    expect(withinDrop(s.final.correct, s.baseline.correct, s.samples, 1)).toBe(true);
  });
});
