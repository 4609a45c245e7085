// Helpers of the spatial RTL tests: build a design, simulate it in Verilator against the golden
// model and the cycle model, synthesize it with Yosys synth_xilinx in a process of its own.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { buildSpatial } from '../../generator/spatial/build.js';
import { planSpatial } from '../../generator/spatial/plan.js';
import type { ReuseConfig } from '../../generator/spatial/reuse.js';
import { predictTiming } from '../../generator/spatial/timing.js';
import type { Model } from '../../src/ir/types.js';
import { openSpatialDir, runSpatial, type SpatialSimResult } from '../../src/sim/spatial-sim.js';

export async function buildDesign(model: Model, reuse: ReuseConfig, base: string, name: string) {
  const dir = join(base, name);
  const b = await buildSpatial(model, reuse, dir, `${name}.gir.json`, ['rtl']);
  return { dir, top: `${name}_top`, comp: b.compilation };
}

/**
 * Lint, then every input through Verilator: each sample bit-exact, each sample's first input beat
 * and last output beat on the cycle model's schedule.
 */
export async function checkSim(model: Model, reuse: ReuseConfig, base: string, name: string, inputs: number[][]): Promise<SpatialSimResult> {
  const b = await buildDesign(model, reuse, base, name);
  const lint = await execa('verilator', ['--lint-only', '-Wall', '--top-module', b.top, ...(await readFile(join(b.dir, 'files.f'), 'utf8')).trim().split('\n')], { cwd: b.dir, reject: false, all: true });
  expect(`${lint.all ?? ''}`.trim()).toBe('');
  const r = await runSpatial(await openSpatialDir(b.dir), inputs, 'sim');
  expect(r.timeout).toBe(false);
  const bad = r.samples.findIndex((s) => !s.match);
  expect(bad, JSON.stringify(r.samples[bad]?.mismatch)).toBe(-1);
  const schedule = predictTiming(planSpatial(model, reuse), inputs.length).schedule;
  expect(r.samples.map((s) => ({ first: s.first, last: s.last }))).toEqual(schedule);
  expect(r.timingMatch).toBe(true);
  return r;
}

export { parseStat, synthXilinx, type SynthStat } from '../../test/support/synth-xilinx.js';
