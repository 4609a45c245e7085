import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEngine, type EngineBuild } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { INSTRUCTION_BYTES } from '../generator/engine/isa.js';
import { loadModel } from '../src/frontend/load.js';
import { buildEngineHarness, simulateEngine } from '../src/sim/engine-sim.js';
import { CLI, SHARED, sharedData, sharedModel } from '../test/fixtures.js';

/**
 * `gatec sim` itself on a small engine build: the JSON contract, the build cache, and that each
 * way a run can go wrong (a wrong value, a hang, a bad memory request) comes out as one clear line.
 */

const data = join(SHARED, 'digits8_data.json');
let work = '';
let build: EngineBuild;

/** A copy of the build with `patch` applied to its DRAM image. */
async function patchedCopy(name: string, patch: (image: Buffer) => void): Promise<string> {
  const dir = join(work, name);
  await cp(build.dir, dir, { recursive: true });
  const file = join(dir, 'mem', 'dram.bin');
  const image = await readFile(file);
  patch(image);
  await writeFile(file, image);
  return dir;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatec-engine-sim-'));
  build = await buildEngine(await loadModel(sharedModel('digits8_qdq')), { ...DEFAULT_ENGINE_CONFIG }, join(work, 'digits8'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('gatec sim', () => {
  it('prints the JSON contract and agrees with gatec run', async () => {
    const sim = await execa('node', [CLI, 'sim', build.dir, '--inputs', data, '--json'], { reject: false });
    expect(sim.stderr).toBe('');
    expect(sim.exitCode).toBe(0);
    const out = JSON.parse(sim.stdout) as Record<string, unknown> & { samples: unknown[]; layers: unknown[] };
    for (const key of ['outputs', 'outputsInt', 'top1', 'match', 'cycles', 'dramBytes', 'macs', 'layers', 'samples']) {
      expect(out, key).toHaveProperty(key);
    }
    expect(out['match']).toBe(true);
    expect(out.samples).toHaveLength(sharedData('digits8').inputs.length);
    const run = JSON.parse((await execa('node', [CLI, 'run', sharedModel('digits8_qdq'), '--inputs', data, '--json'])).stdout) as Record<string, unknown>;
    expect(out['outputsInt']).toEqual(run['outputsInt']);
    expect(out['top1']).toEqual(run['top1']);
  });

  it('reuses the Verilator build of an unchanged configuration', async () => {
    await buildEngineHarness(build.dir);
    const again = await buildEngineHarness(build.dir);
    expect(again.built).toBe(false);
    // Another network name, same configuration: the same executable.
    const other = join(work, 'othername');
    await buildEngine(await loadModel(sharedModel('digits8_qop')), { ...DEFAULT_ENGINE_CONFIG }, other);
    expect((await buildEngineHarness(other)).exe).toBe(again.exe);
  });

  it('names the layer, tensor, element and both values of the first wrong value', async () => {
    // One weight byte of the second conv, as its first weight LOAD finds it.
    const load = build.compilation.program.find((i) => i.op === 'load' && i.target === 'weight' && i.tag === 1);
    if (load?.op !== 'load') throw new Error('no weight load for layer 1');
    const dir = await patchedCopy('badweight', (image) => {
      image[load.addr] = image[load.addr]! ^ 0x40;
    });
    const r = await simulateEngine(dir, sharedData('digits8').inputs.slice(0, 3));
    const s = r.samples.find((x) => !x.match);
    expect(s?.mismatch).toBeDefined();
    const bad = r.model.layers.findIndex((l) => l.name === s!.mismatch!.layer);
    expect(bad).toBeGreaterThanOrEqual(1);
    expect(s!.failure).toMatch(/^sample \d+: layer '.+', tensor '.+' element \(c=\d+,h=\d+,w=\d+\): RTL -?\d+, golden -?\d+ \(\d+ of \d+ elements differ\)$/);

    const cli = await execa('node', [CLI, 'sim', dir, '--inputs', data], { reject: false });
    expect(cli.exitCode).toBe(1);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(/^gatec: error: .*samples differ from the golden model; first: sample \d+: layer '/);
  });

  it('does not depend on power-up values (random initial registers and memories)', async () => {
    const r = await simulateEngine(build.dir, sharedData('digits8').inputs.slice(0, 3), { randomInit: 12345 });
    expect(r.samples.map((s) => s.failure ?? 'ok')).toEqual(['ok', 'ok', 'ok']);
  });

  it('reports a run that never finishes as a timeout in a named layer', async () => {
    const r = await simulateEngine(build.dir, sharedData('digits8').inputs.slice(0, 1), { maxCycles: 1000 });
    const s = r.samples[0]!;
    expect(s.timeout).toBe(true);
    expect(s.match).toBe(false);
    expect(s.failure).toMatch(/^sample 0: timed out after 1000 cycles in layer '.+' \(tag \d+\)$/);
  });

  it('turns a memory request outside DRAM into one protocol-error line', async () => {
    const first = build.compilation.program.findIndex((i) => i.op === 'load');
    const dir = await patchedCopy('badaddr', (image) => {
      // h2..h3 of the first LOAD: its DRAM address, far beyond the image.
      image.writeUInt32LE(0x4000_0000, first * INSTRUCTION_BYTES + 4);
    });
    await expect(simulateEngine(dir, sharedData('digits8').inputs.slice(0, 1))).rejects.toThrow(
      /simulation of sample 0 failed: protocol error at cycle \d+ \(layer tag \d+\): read request at 0x40000000 .* outside DRAM/,
    );
  });
});
