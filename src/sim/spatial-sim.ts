import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, ExecaError } from 'execa';
import type { SpatialReport } from '../../generator/spatial/build.js';
import { planSpatial } from '../../generator/spatial/plan.js';
import { predictTiming } from '../../generator/spatial/timing.js';
import { badInput, GatecError } from '../errors.js';
import { readInputFile, readJsonFile } from '../frontend/read-input-file.js';
import { argmax, quantizeInput, runGolden } from '../golden/run.js';
import { dequantizeValue } from '../ir/numerics.js';
import { readModel } from '../ir/serialize.js';
import type { Model } from '../ir/types.js';
import { gatecCacheDir } from './engine-sim.js';
import { buildVerilator, verilatorVersion } from './verilator.js';

/**
 * `gatec sim` / `gatec csim` of a spatial build (docs/spatial.md, "Simulation"): the Verilator
 * harness or the HLS C testbench streams every sample through the design, back to back, and each
 * output is compared with the golden model; the RTL's latency and interval are compared with the
 * build's prediction.
 */

/** The architecture of an hw-out directory: report.json says spatial, anything else is the engine's. */
export async function hwArch(hwDir: string): Promise<'spatial' | 'engine'> {
  const file = join(hwDir, 'report.json');
  if (!existsSync(file)) return 'engine';
  try {
    const r = JSON.parse(await readFile(file, 'utf8')) as { arch?: unknown };
    return r.arch === 'spatial' ? 'spatial' : 'engine';
  } catch {
    return 'engine';
  }
}

export interface SpatialDir {
  dir: string;
  report: SpatialReport;
  model: Model;
}

export async function openSpatialDir(dir: string): Promise<SpatialDir> {
  const reportFile = join(dir, 'report.json');
  if (!existsSync(reportFile)) throw badInput(dir, 'not a gatec build directory (no report.json)');
  const report = (await readJsonFile(reportFile)) as SpatialReport;
  if (report.arch !== 'spatial' || typeof report.top !== 'string' || !report.input || !report.output || !report.timing) {
    throw badInput(reportFile, 'not a spatial build report');
  }
  const irFile = join(dir, 'model.gir.json');
  if (!existsSync(irFile)) throw badInput(dir, 'no model.gir.json (build it again with gatec build)');
  return { dir, report, model: readModel(await readInputFile(irFile, 'utf8'), irFile) };
}

// ------------------------------------------------------------------------------------------------
// Builds, cached under ${GATEC_CACHE_DIR:-~/.cache/gatec}/<kind>/<key>

const TOP_PLACEHOLDER = '__gatec_top__';
const EXE = 'Vtop';

async function cached(kind: string, key: string, build: (tmp: string) => Promise<void>): Promise<{ exe: string; built: boolean }> {
  const root = join(gatecCacheDir(), kind);
  const dir = join(root, key);
  const exe = join(dir, EXE);
  if (existsSync(exe)) {
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined);
    return { exe, built: false };
  }
  await mkdir(root, { recursive: true });
  // Built beside the final place and renamed: concurrent builders never see half a directory.
  const tmp = join(root, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await build(tmp);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const f of await readdir(tmp)) if (f !== EXE) await rm(join(tmp, f), { recursive: true, force: true });
  try {
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(exe)) throw e;
  }
  return { exe, built: true };
}

function firstError(e: unknown): string {
  if (e instanceof ExecaError) {
    const text = `${String(e.stderr ?? '')}\n${String(e.stdout ?? '')}`;
    const line = text.split('\n').find((l) => /%Error|error:/.test(l));
    return (line ?? e.shortMessage).trim();
  }
  return (e as Error).message;
}

const SIM_FLAGS = ['-O3', '--x-assign', 'fast', '--x-initial', 'unique', '--build-jobs', '0', '-MAKEFLAGS', 'OPT_FAST=-O1', '-CFLAGS', '-std=c++17'];

async function hashSources(hwDir: string, files: string[], name: string, prefix: string): Promise<string> {
  const re = new RegExp(`\\b${name}`, 'g');
  const hash = createHash('sha256');
  hash.update(prefix);
  for (const f of files) {
    const text = await readInputFile(join(hwDir, f), 'utf8');
    hash.update(`${f.replace(re, TOP_PLACEHOLDER)}\0${text.replace(re, TOP_PLACEHOLDER)}\0`);
  }
  return hash.digest('hex').slice(0, 32);
}

export async function buildSpatialHarness(d: SpatialDir): Promise<{ exe: string; built: boolean }> {
  const fl = join(d.dir, 'files.f');
  if (!existsSync(fl)) throw badInput(d.dir, 'no files.f: build with --target rtl');
  const rtl = (await readFile(fl, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l.endsWith('.sv'));
  const harness = 'tb/harness.cpp';
  if (!existsSync(join(d.dir, harness))) throw badInput(d.dir, 'no tb/harness.cpp');
  let version: string;
  try {
    version = await verilatorVersion();
  } catch {
    throw new GatecError(`${d.dir}: verilator not found (install it, e.g. apt-get install verilator, or run scripts/setup.sh)`);
  }
  const name = d.report.top.replace(/_top$/, '');
  const key = await hashSources(d.dir, [...rtl, harness], name, `spatial\n${version}\n${SIM_FLAGS.join(' ')}\n`);
  return cached('verilator', key, async (tmp) => {
    try {
      await buildVerilator({ top: d.report.top, sources: rtl.map((f) => resolve(d.dir, f)), harness: [resolve(d.dir, harness)], objDir: tmp, prefix: EXE, wall: false, flags: SIM_FLAGS });
    } catch (e) {
      throw new GatecError(`${d.dir}: Verilator build failed: ${firstError(e)}`);
    }
  });
}

export const SPATIAL_CSIM_FLAGS = ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror'];

export async function buildSpatialCsim(d: SpatialDir, compiler = 'g++', extraFlags: string[] = []): Promise<{ exe: string; built: boolean }> {
  const name = d.report.top.replace(/_top$/, '');
  const files = [`hls/${name}.cpp`, `hls/${name}.h`, 'hls/gatec_hls_compat.h', 'hls/tb.cpp'];
  for (const f of files) if (!existsSync(join(d.dir, f))) throw badInput(d.dir, `no ${f}: build with --target hls (or rtl,hls)`);
  let version: string;
  try {
    version = (await execa(compiler, ['--version'])).stdout.split('\n')[0]!.trim();
  } catch {
    throw new GatecError(`${d.dir}: ${compiler} not found (install it, e.g. apt-get install g++)`);
  }
  const flags = [...SPATIAL_CSIM_FLAGS, ...extraFlags];
  // Weights are in the kernel source: one build per network (and flags), keyed like the RTL's.
  const key = await hashSources(d.dir, files, name, `spatial-csim\n${version}\n${compiler}\n${flags.join(' ')}\n`);
  return cached('csim', key, async (tmp) => {
    await mkdir(tmp, { recursive: true });
    try {
      await execa(compiler, [...flags, '-I', resolve(d.dir, 'hls'), resolve(d.dir, `hls/${name}.cpp`), resolve(d.dir, 'hls/tb.cpp'), '-o', join(tmp, EXE)]);
    } catch (e) {
      throw new GatecError(`${d.dir}: C simulation build failed: ${firstError(e)}`);
    }
  });
}

// ------------------------------------------------------------------------------------------------
// Runs

export interface SpatialSample {
  outputsInt: Int8Array[];
  outputs: Float64Array[];
  top1: number;
  match: boolean;
  /** first differing output element, if any */
  mismatch?: { tensor: string; index: number; expected: number; actual: number; count: number };
  /** RTL: cycle of the first input beat and of the last output beat (0 in C simulation) */
  first: number;
  last: number;
  /** RTL: last - first + 1 */
  latency: number;
}

export interface SpatialSimResult {
  backend: 'sim' | 'csim';
  dir: SpatialDir;
  built: boolean;
  samples: SpatialSample[];
  timeout: boolean;
  /** RTL only: measured latency of sample 0 (empty pipeline) and steady-state interval */
  measured?: { latency: number; interval: number };
  predicted: { latency: number; interval: number };
  /** RTL only: the schedule matches the cycle model for every sample */
  timingMatch?: boolean;
}

/** The cycle model's schedule of `samples` back-to-back samples of a build (its model and reuse factors). */
export function predictedSchedule(d: SpatialDir, samples: number): { first: number; last: number }[] {
  const perLayer: Record<string, number> = {};
  for (const l of d.report.layers) if (l.op === 'conv' || l.op === 'fc') perLayer[l.name] = l.reuse;
  return predictTiming(planSpatial(d.model, { default: 1, perLayer }), samples).schedule;
}

export async function runSpatial(d: SpatialDir, inputs: ArrayLike<number>[], backend: 'sim' | 'csim', exe?: string): Promise<SpatialSimResult> {
  const build = exe ? { exe, built: false } : backend === 'sim' ? await buildSpatialHarness(d) : await buildSpatialCsim(d);
  const { model, report } = d;
  const inInfo = model.tensors.find((t) => t.name === model.inputs[0])!;
  const outInfo = model.tensors.find((t) => t.name === model.outputs[0])!;
  const nIn = report.input.elements;
  const nOut = report.output.elements;
  const q = inputs.map((x) => quantizeInput(inInfo, x));
  const maxCycles = (report.timing.latency + report.timing.interval * (inputs.length + 2)) * 4 + 1000;
  const tmp = await mkdtemp(join(tmpdir(), 'gatec-spatial-'));
  try {
    const runFile = join(tmp, 'run.txt');
    const outFile = join(tmp, 'out.txt');
    await writeFile(runFile, `${inputs.length} ${nIn} ${nOut} ${maxCycles}\n${q.map((v) => Array.from(v).join(' ')).join('\n')}\n`);
    const r = await execa(build.exe, [runFile, outFile], { reject: false });
    if (r.exitCode !== 0) throw new GatecError(`${d.dir}: ${backend === 'sim' ? 'Verilator harness' : 'C testbench'} failed: ${(r.stderr || r.stdout).split('\n')[0]}`);
    const lines = (await readFile(outFile, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const timeout = lines.includes('timeout');
    const samples: SpatialSample[] = [];
    const rows = lines.filter((l) => l.startsWith('sample '));
    inputs.forEach((x, i) => {
      const f = rows[i]?.trim().split(/\s+/).map(Number) ?? [];
      const first = f[2] ?? -1;
      const last = f[3] ?? -1;
      const got = Int8Array.from(f.slice(4, 4 + nOut));
      const g = runGolden(model, x);
      const want = g.outputsInt[0]!;
      let mismatch: SpatialSample['mismatch'];
      let count = 0;
      for (let k = 0; k < nOut; k++) {
        if (got[k] !== want[k]) {
          count++;
          mismatch ??= { tensor: outInfo.name, index: k, expected: want[k]!, actual: got[k]!, count: 0 };
        }
      }
      if (mismatch) mismatch.count = count;
      const deq = Float64Array.from(got, (v) => dequantizeValue(v, outInfo.quant.scale, outInfo.quant.zeroPoint));
      samples.push({
        outputsInt: [got],
        outputs: [deq],
        top1: argmax(got),
        match: !mismatch && !timeout && last >= 0,
        ...(mismatch ? { mismatch } : {}),
        first,
        last,
        latency: last >= 0 ? last - first + 1 : 0,
      });
    });
    const predicted = { latency: report.timing.latency, interval: report.timing.interval };
    const result: SpatialSimResult = { backend, dir: d, built: build.built, samples, timeout, predicted };
    if (backend === 'sim' && samples.length > 0) {
      const n = samples.length;
      const interval = n > 1 ? samples[n - 1]!.first - samples[n - 2]!.first : predicted.interval;
      result.measured = { latency: samples[0]!.latency, interval };
      // Every sample's first and last beat against the cycle model's schedule of this many samples
      // (a short run can end before the steady-state interval is reached).
      const schedule = predictedSchedule(d, n);
      result.timingMatch = samples.every((s, i) => s.first === schedule[i]!.first && s.last === schedule[i]!.last);
    }
    return result;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
