import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine, type EngineBuild } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { loadModel } from '../src/frontend/load.js';
import { buildEngineHarness } from '../src/sim/engine-sim.js';
import { CLI, SHARED, sharedModel } from '../test/fixtures.js';

/**
 * Waveforms: the harness' `trace` command needs a --trace-fst build, which `gatec sim --trace`
 * makes under its own cache key. The traced Verilator build takes about a minute on CI's two
 * cores, so its test runs only with GATEC_TEST_TRACE=1; the refusal of an untraced harness (a
 * cached build every engine test shares) always runs.
 */
const data = join(SHARED, 'digits8_data.json');
let work = '';
let build: EngineBuild;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatec-engine-trace-'));
  build = await buildEngine(await loadModel(sharedModel('digits8_qdq')), { ...DEFAULT_ENGINE_CONFIG }, join(work, 'digits8'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('gatec sim --trace', () => {
  it('an untraced harness refuses the trace command in one line', async () => {
    const harness = await buildEngineHarness(build.dir);
    const runFile = join(work, 'run.txt');
    await writeFile(runFile, `dram 4096\ntrace ${join(work, 'w.fst')}\n`);
    const r = await execa(harness.exe, [runFile], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr.trim()).toMatch(/trace needs a harness built with --trace-fst \(gatec sim --trace\)$/);
  });

  it.runIf(process.env['GATEC_TEST_TRACE'] === '1')('records sample 0 as an FST file and says where', async () => {
    const one = join(work, 'one.json');
    const d = JSON.parse(await readFile(data, 'utf8')) as { shape: number[]; inputs: number[][] };
    await writeFile(one, JSON.stringify({ shape: d.shape, inputs: d.inputs.slice(0, 2) }));
    const r = await execa('node', [CLI, 'sim', build.dir, '--inputs', one, '--trace'], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const fst = join(build.dir, 'waves.fst');
    expect(r.stderr).toBe(`wrote ${fst}: waveform of sample 0 (FST: GTKWave or Surfer)`);
    // Thousands of cycles of a few thousand signals: well beyond an empty header.
    expect((await stat(fst)).size).toBeGreaterThan(50_000);
    const traced = await buildEngineHarness(build.dir, { trace: true });
    expect(traced.built).toBe(false);
    expect(traced.exe).not.toBe((await buildEngineHarness(build.dir)).exe);
  }, 600_000);
});
