// Helpers of the spatial RTL tests: build a design, simulate it in Verilator against the golden
// model and the cycle model, synthesize it with Yosys synth_xilinx in a process of its own.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { buildSpatial } from '../../generator/spatial/build.js';
import { planSpatial } from '../../generator/spatial/plan.js';
import type { ReuseConfig } from '../../generator/spatial/reuse.js';
import { predictTiming } from '../../generator/spatial/timing.js';
import type { Model } from '../../src/ir/types.js';
import { openSpatialDir, runSpatial, type SpatialSimResult } from '../../src/sim/spatial-sim.js';
import { root } from './bench.js';

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

export interface SynthStat {
  dsp: number;
  lut: number;
  ff: number;
  bram18: number;
  latches: number;
}

/** Yosys synth_xilinx of a build's RTL (yosys-job.mjs: a process of its own, so runs overlap). */
export async function synthXilinx(dir: string, top: string): Promise<SynthStat> {
  const files = (await readFile(join(dir, 'files.f'), 'utf8')).trim().split('\n');
  const work = join(dir, 'yosys');
  await mkdir(work, { recursive: true });
  for (const f of files) await writeFile(join(work, f.split('/').pop()!), await readFile(join(dir, f)));
  const reads = files.map((f) => `read_verilog -sv ${f.split('/').pop()}`).join('; ');
  const job = join(root, 'rtl-tests/common/yosys-job.mjs');
  const r = await execa(process.execPath, [job, work, `${reads}; synth_xilinx -flatten -noiopad -top ${top}; tee -q -o stat.txt stat`], { reject: false });
  if (r.exitCode !== 0) throw new Error(`Yosys failed:\n${r.stderr}`);
  return parseStat(await readFile(join(work, 'stat.txt'), 'utf8'));
}

/** DSP48E1, LUTs, flip-flops, BRAM18 (a RAMB36 is two) and latches of Yosys' stat. */
export function parseStat(stat: string): SynthStat {
  const c = new Map<string, number>();
  for (const m of stat.matchAll(/^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$/gm)) c.set(m[1]!, Number(m[2]));
  const sum = (re: RegExp) => [...c].filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);
  return { dsp: c.get('DSP48E1') ?? 0, lut: sum(/^LUT\d$/), ff: sum(/^FD/), bram18: sum(/^RAMB18/) + 2 * sum(/^RAMB36/), latches: sum(/^LD|dlatch/i) };
}
