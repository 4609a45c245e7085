import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { gateCommand, gateReport, type GateOptions } from '../src/cli/commands/gate.js';
import { GatecError } from '../src/errors.js';
import { loadModel } from '../src/frontend/load.js';
import { importOnnx } from '../src/frontend/onnx/import.js';
import type { GatingResult } from '../src/golden/gating.js';
import { argmax, runGolden } from '../src/golden/run.js';
import { readModel } from '../src/ir/serialize.js';
import { searchGating } from '../src/passes/gate.js';
import { CLI, SHARED, sharedData, sharedModel } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'gatec-gate-cli-'));
const qdq = sharedModel('digits8_qdq');
const data = join(SHARED, 'digits8_data.json');

async function gatec(...args: string[]) {
  const r = await execa('node', [CLI, ...args], { reject: false });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm test" (it builds first)`);
});

describe('gatec gate', () => {
  it('gates digits8 within the accuracy budget with a measurable skip (the documented search, in process)', async () => {
    const { model } = await importOnnx(qdq);
    const d = sharedData('digits8');
    const s = searchGating(model, { inputs: d.inputs, labels: d.labels! }, { base: 0.25, targetSkip: 0.5, maxDrop: 1 }, qdq);
    const rep = gateReport(s, { model: qdq, calib: data, base: 0.25, targetSkip: 0.5, maxDrop: 1 });
    expect(rep.samples).toBe(100);
    expect(rep.accuracy.dropPoints).toBeLessThanOrEqual(1);
    expect(rep.layers.map((l) => [l.layer, l.inputChannels, l.baseChannels])).toEqual([
      ['/3/Conv', 8, 2],
      ['/7/Conv', 16, 4],
    ]);
    expect(rep.notGated).toEqual([{ layer: '/0/Conv', reason: 'one input channel' }]);
    expect(Math.max(...rep.layers.map((l) => l.gatedOffFraction))).toBeGreaterThan(0);
    expect(rep.total.macReduction).toBeGreaterThan(1);
    // The gated IR's own golden run gives the reported accuracy and MACs.
    const runs = d.inputs.map((x) => runGolden(s.model, x));
    expect(runs.filter((r, i) => argmax(r.outputsInt[0]!) === d.labels![i]).length / 100).toBe(rep.accuracy.after);
    const executed = runs.reduce((a, r) => a + rep.total.macsPerSample.dense - r.gating!.total.macs.dense + r.gating!.total.macs.executed, 0) / 100;
    expect(executed).toBeCloseTo(rep.total.macsPerSample.executed, 6);
  });

  it('prints the per-layer table, writes the gated IR; gatec run --json reports its gating per sample', async () => {
    const out = join(dir, 'digits8.gated.gir.json');
    const r = await gatec('gate', qdq, '--calib', data, '--layers', '/7/Conv', '--target-skip', '0.3', '-o', out, '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^layer\s+Cin\s+base\s+target\s+gated off\s+MACs\/sample\s+MAC reduction$/m);
    expect(r.stdout).toMatch(/^\/7\/Conv\s+16\s+4\s/m);
    expect(r.stdout).not.toMatch(/^\/3\/Conv/m);
    expect(r.stdout).toMatch(/^wrote .*: 1 gated conv$/m);
    const after = Number(/accuracy: [\d.]+% -> ([\d.]+)%/.exec(r.stdout)![1]) / 100;
    const model = readModel(readFileSync(out, 'utf8'), out);
    expect(model.layers.filter((l) => l.op === 'conv' && l.gating).map((l) => l.name)).toEqual(['/7/Conv']);
    const run = JSON.parse((await gatec('run', out, '--inputs', data, '--json')).stdout) as {
      accuracy: number;
      macs: { dense: number; executed: number };
      gating: { layers: { layer: string }[] }[];
    };
    expect(run.accuracy).toBeCloseTo(after, 6);
    expect(run.macs.executed).toBeLessThan(run.macs.dense);
    expect(run.gating).toHaveLength(100);
    expect(run.gating[0]!.layers.map((l) => l.layer)).toEqual(['/7/Conv']);
  });

  it('errors: one line, exit 1 for bad input, 2 for a conv it cannot gate', async () => {
    const r = await gatec('gate', qdq, '--calib', data, '--layers', '/0/Conv');
    expect(r.stderr).toBe("gatec: error: --layers: layer '/0/Conv' cannot be gated: one input channel");
    expect(r.code).toBe(2);
    const unlabelled = file('nolabels.json', JSON.stringify({ shape: [1, 1, 8, 8], inputs: [new Array(64).fill(0)] }));
    const cases: [GateOptions, number, string][] = [
      [{ calib: unlabelled }, 1, `${unlabelled}: gatec gate needs "labels" (one class per input) to measure top-1 accuracy`],
      [{ calib: data, base: '1.5' }, 1, "--base: '1.5' is not a number from 0 to 1 (exclusive)"],
      [{ calib: data, targetSkip: 'x' }, 1, "--target-skip: 'x' is not a number from 0 to 1"],
      [{ calib: data, layers: '/5/Conv' }, 1, "--layers: no conv layer '/5/Conv' in the model"],
    ];
    for (const [opts, code, message] of cases) {
      const e = await gateCommand(qdq, opts).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(GatecError);
      expect((e as GatecError).message).toBe(message);
      expect((e as GatecError).exitCode).toBe(code);
    }
  });
});

describe('--gating sidecar on the command line', () => {
  const sidecar = (layers: Record<string, { base: number[]; thresholds: number[] }>): string =>
    file(`g${Math.random().toString(36).slice(2)}.json`, JSON.stringify({ format: 'gatec-gating', version: 1, layers }));

  it('gatec import --gating and gatec run --gating give the same gated model; --gating with an IR file is refused', async () => {
    const g = sidecar({ '/7/Conv': { base: [3, 9, 12, 14], thresholds: new Array(16).fill(0.5) } });
    const out = join(dir, 'side.gir.json');
    const [imp, run] = await Promise.all([gatec('import', qdq, '--gating', g, '-o', out), gatec('run', qdq, '--gating', g, '--inputs', data, '--json')]);
    expect(imp.code).toBe(0);
    expect(imp.stderr).toBe(`wrote ${out}: 7 layers (qdq), 1 gated conv`);
    const viaOnnx = JSON.parse(run.stdout) as { outputsInt: number[][]; gating: GatingResult[] };
    const ir = readModel(readFileSync(out, 'utf8'), out);
    const d = sharedData('digits8');
    d.inputs.slice(0, 5).forEach((x, i) => {
      const r = runGolden(ir, x);
      expect(Array.from(r.outputsInt[0]!)).toEqual(viaOnnx.outputsInt[i]);
      expect(r.gating).toEqual(viaOnnx.gating[i]);
    });
    const refused = await loadModel(out, undefined, g).then(
      () => undefined,
      (err: unknown) => err as GatecError,
    );
    expect(refused?.message).toBe(`${g}: --gating applies to .onnx models; the IR file ${out} carries its own gating`);
    expect(refused?.exitCode).toBe(1);
  });

  it('a sidecar naming an unknown node is one line naming the sidecar and the node (exit 1)', async () => {
    const g = sidecar({ '/3/Conv': { base: [0], thresholds: new Array(16).fill(0) }, conv9: { base: [0], thresholds: [0] } });
    const r = await gatec('import', qdq, '--gating', g, '-o', join(dir, 'x.gir.json'));
    expect(r.stderr).toBe(`gatec: error: ${g}: node 'conv9': no node of that name in ${qdq}`);
    expect(r.code).toBe(1);
  });
});
