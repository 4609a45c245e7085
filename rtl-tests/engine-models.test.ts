import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { loadModel } from '../src/frontend/load.js';
import { simulateEngine, type EngineSimResult } from '../src/sim/engine-sim.js';
import { sharedData, sharedModel } from '../test/fixtures.js';

/**
 * Whole models on the engine RTL in Verilator: every tensor of every sample bit-exact against the
 * golden model, DRAM bytes per layer exactly as report.json predicts, cycles per layer within 5%.
 * One build and one simulation per model, shared by its checks.
 */

const CYCLE_TOLERANCE = 0.05;

interface Case {
  model: string;
  data: 'digits8' | 'tinyres';
}

const CASES: Case[] = [
  { model: 'digits8_qdq', data: 'digits8' },
  { model: 'digits8_qop', data: 'digits8' },
  { model: 'tinyres_qdq', data: 'tinyres' },
];

interface ReportLayer {
  name: string;
  tag: number;
  cycles: number;
  dramRead: number;
  dramWrite: number;
}

interface Report {
  layers: ReportLayer[];
  totals: { fetchRead: number };
}

let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatec-engine-models-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe.each(CASES)('engine RTL: $model', ({ model: name, data }) => {
  let sim: EngineSimResult;
  let report: Report;
  const inputs = sharedData(data).inputs;

  beforeAll(async () => {
    const model = await loadModel(sharedModel(name));
    const dir = join(work, name);
    await buildEngine(model, { ...DEFAULT_ENGINE_CONFIG }, dir);
    report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as Report;
    sim = await simulateEngine(dir, inputs);
  });

  it(`is bit-exact on every layer of every sample`, () => {
    expect(sim.samples).toHaveLength(inputs.length);
    const failures = sim.samples.filter((s) => !s.match).map((s) => s.failure ?? 'no reason given');
    expect(failures.slice(0, 5), `${failures.length} of ${inputs.length} samples differ from the golden model`).toEqual([]);
  });

  it('moves exactly the DRAM bytes report.json predicts, per layer', () => {
    const s = sim.samples[0]!;
    const diffs: string[] = [];
    for (const p of report.layers) {
      const m = s.layers[p.tag]!;
      if (m.dramRead !== p.dramRead || m.dramWrite !== p.dramWrite) {
        diffs.push(`layer ${p.tag} '${p.name}': read ${m.dramRead} (predicted ${p.dramRead}), write ${m.dramWrite} (predicted ${p.dramWrite})`);
      }
    }
    if (s.fetchBytes !== report.totals.fetchRead) diffs.push(`instruction fetch: ${s.fetchBytes} bytes (predicted ${report.totals.fetchRead})`);
    expect(diffs).toEqual([]);
    // The traffic does not depend on the data (no zero-block skipping yet).
    for (const other of sim.samples) expect(other.dramBytes).toEqual(s.dramBytes);
  });

  it(`takes the predicted cycles per layer (within ${CYCLE_TOLERANCE * 100}%)`, () => {
    const diffs: string[] = [];
    for (const [k, s] of sim.samples.entries()) {
      for (const p of report.layers) {
        const m = s.layers[p.tag]!.cycles;
        if (Math.abs(m - p.cycles) > CYCLE_TOLERANCE * p.cycles) {
          const d = p.cycles === 0 ? 'n/a' : `${(((m - p.cycles) / p.cycles) * 100).toFixed(1)}%`;
          diffs.push(`sample ${k} layer ${p.tag} '${p.name}': ${m} cycles, predicted ${p.cycles} (${d})`);
        }
      }
      if (diffs.length > 0) break;
    }
    expect(diffs).toEqual([]);
  });
});
