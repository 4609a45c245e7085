import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, OWN } from '../test/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'gatec-engine-prune-'));

async function gatec(...args: string[]) {
  const r = await execa('node', [CLI, ...args], { reject: false });
  if (r.exitCode !== 0) throw new Error(`gatec ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

describe('engine filter-group pruning in RTL', () => {
  it('gatec sim of the pruned mlp16 measures the cycles the build predicts, fewer than the dense model', async () => {
    const test = JSON.parse(readFileSync(join(OWN, 'mlp16_test.json'), 'utf8'));
    const data = join(dir, 'data.json');
    writeFileSync(data, JSON.stringify({ shape: test.shape, inputs: test.inputs.slice(0, 2), labels: test.labels.slice(0, 2) }));
    const pruned = join(dir, 'pruned.gir.json');
    const p = JSON.parse(await gatec('prune', join(OWN, 'mlp16_qdq.onnx'), '--arch', 'engine', '--budget', 'cycles=80%', '--calib', join(OWN, 'mlp16_calib.json'), '-o', pruned, '--json'));
    const results: Record<string, { predicted: number; measured: number[] }> = {};
    for (const [name, model] of [['dense', join(OWN, 'mlp16_qdq.onnx')], ['pruned', pruned]] as const) {
      const hw = join(dir, 'hw', name);
      await gatec('build', model, '-o', hw);
      const report = JSON.parse(readFileSync(join(hw, 'report.json'), 'utf8'));
      const sim = JSON.parse(await gatec('sim', hw, '--inputs', data, '--json'));
      expect(sim.match).toBe(true);
      // cycles: the whole run's (gatec sim --json); every sample of this dense-timing model takes the same
      results[name] = { predicted: report.totals.cycles, measured: [sim.cycles] };
      expect(sim.samples.map((x: { cycles: number }) => x.cycles)).toEqual([report.totals.cycles, report.totals.cycles]);
    }
    expect(results['dense']!.predicted).toBe(p.resources.before.cycles);
    expect(results['pruned']!.predicted).toBe(p.resources.after.cycles);
    for (const c of results['pruned']!.measured) expect(c).toBe(results['pruned']!.predicted);
    expect(results['pruned']!.measured[0]!).toBeLessThan(0.85 * results['dense']!.measured[0]!);
  });
});
