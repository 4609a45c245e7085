import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { availableParallelism, homedir, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { execa, ExecaError } from 'execa';
import { z } from 'zod';
import { chw } from '../../generator/engine/common.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../../generator/engine/config.js';
import { decodeProgram, type Instr } from '../../generator/engine/isa.js';
import { packTensor, unpackTensor } from '../../generator/engine/layout.js';
import { predictTiming, TIMING_MODEL, type TimingPrediction } from '../../generator/engine/timing.js';
import { gateConvRuns, type LayerGates } from '../../generator/engine/gate-runs.js';
import { skipConvRuns } from '../../generator/engine/zero-taps.js';
import { gatedConv, isGated } from '../golden/gating.js';
import { predictTraffic, sampleBitmaps } from '../../generator/engine/zero-traffic.js';
import { badInput, GatecError } from '../errors.js';
import { readInputFile, readJsonFile } from '../frontend/read-input-file.js';
import { layerMacs, tensorShapes } from '../golden/macs.js';
import { argmax, quantizeInput, runGolden, type GoldenResult } from '../golden/run.js';
import { dequantizeValue } from '../ir/numerics.js';
import { issuePath } from '../ir/schema.js';
import { product } from '../ir/shapes.js';
import { readModel } from '../ir/serialize.js';
import type { Model } from '../ir/types.js';
import { buildVerilator, verilatorVersion } from './verilator.js';
import { pruneCache } from './build-cache.js';

// ------------------------------------------------------------------------------------------------
// mem/map.json (docs/engine.md)

const count = z.number().int().positive();
const mapZeroBlock = z
  .object({
    block: z.tuple([count, count, count]),
    epsilon: z.number().int().min(0).max(255),
    k: count,
    nWb: count,
    nHb: count,
    nCb: count,
    rowWords: count,
    planeBytes: count,
    bitmapOffset: count,
    bitmapRowBytes: count,
    implied: z.literal(true).optional(),
  })
  .strict();

const mapTensor = z.object({
  name: z.string(),
  addr: z.number().int().nonnegative(),
  shape: z.array(z.number().int().positive()).min(1).max(3),
  ncg: z.number().int().positive(),
  pitch: z.number().int().positive(),
  bytes: z.number().int().nonnegative(),
  zeroPoint: z.number().int(),
  viewOf: z.string().optional(),
  /** planar layout of a zero-block tensor (docs/engine.md, "Planar layout") */
  zeroBlock: mapZeroBlock.optional(),
});

const engineMapJson = z
  .object({
    format: z.literal('gatec-engine-map'),
    version: z.literal(1),
    config: z.record(z.string(), z.unknown()),
    dramBytes: z.number().int().positive(),
    program: z.object({ addr: z.number().int().nonnegative(), count: z.number().int().positive() }),
    input: z.string(),
    outputs: z.array(z.string()).min(1),
    tensors: z.array(mapTensor),
  })
  .passthrough();

export type EngineMapTensor = z.infer<typeof mapTensor>;

/** The hardware configuration figures the simulator needs, read from map.json's `config`. */
export interface EngineSimConfig {
  peOc: number;
  peIc: number;
  busBytes: number;
  dramBytesPerCycle: number;
  dramLatency: number;
  /** for the cycle model; maps written before it was read default to the engine's default */
  fetchDepth: number;
  /** for the MAC-skipping replay (zero flags per in-buffer row, generator lanes) */
  inBufBytes: number;
  skipLanes: number;
  skipTaps: number;
}

export interface EngineSimMap {
  config: EngineSimConfig;
  dramBytes: number;
  program: { addr: number; count: number };
  input: string;
  outputs: string[];
  tensors: EngineMapTensor[];
}

const simConfig = z
  .object({
    peOc: z.number().int().positive(),
    peIc: z.number().int().positive(),
    busBytes: z.number().int().positive(),
    dramBytesPerCycle: z.number().positive(),
    dramLatency: z.number().int().nonnegative(),
    fetchDepth: z.number().int().positive().optional(),
    inBufBytes: z.number().int().positive().optional(),
    skipLanes: z.number().int().positive().optional(),
    skipTaps: z.number().int().positive().optional(),
  })
  .passthrough();

export async function readEngineMap(hwDir: string): Promise<EngineSimMap> {
  const file = join(hwDir, 'mem', 'map.json');
  if (!existsSync(file)) throw badInput(hwDir, 'not an engine build directory (no mem/map.json)');
  const raw = await readJsonFile(file);
  const parsed = engineMapJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badInput(file, `invalid memory map at ${issuePath(issue.path)}: ${issue.message}`);
  }
  const j = parsed.data;
  const cfg = simConfig.safeParse(j.config);
  if (!cfg.success) {
    const issue = cfg.error.issues[0]!;
    throw badInput(file, `invalid memory map at ${issuePath(['config', ...issue.path])}: ${issue.message}`);
  }
  const { peOc, peIc, busBytes, dramBytesPerCycle, dramLatency } = cfg.data;
  const d = DEFAULT_ENGINE_CONFIG;
  const config: EngineSimConfig = {
    peOc,
    peIc,
    busBytes,
    dramBytesPerCycle,
    dramLatency,
    fetchDepth: cfg.data.fetchDepth ?? d.fetchDepth,
    inBufBytes: cfg.data.inBufBytes ?? d.inBufBytes,
    skipLanes: cfg.data.skipLanes ?? d.skipLanes,
    skipTaps: cfg.data.skipTaps ?? d.skipTaps,
  };
  const names = new Set(j.tensors.map((t) => t.name));
  for (const n of [j.input, ...j.outputs]) {
    if (!names.has(n)) throw badInput(file, `tensor '${n}' is not in the tensor list`);
  }
  return {
    config,
    dramBytes: j.dramBytes,
    program: j.program,
    input: j.input,
    outputs: j.outputs,
    tensors: j.tensors,
  };
}

// ------------------------------------------------------------------------------------------------
// Harness build, cached per configuration

const TOP_PLACEHOLDER = '__gatec_top__';
const HARNESS_PREFIX = 'Vtop';

/** Verilator arguments of every engine simulation build (part of the cache key). */
const SIM_FLAGS = [
  '-O3',
  '--x-assign',
  'fast',
  // Initial values stay 0 unless a run asks for random ones (randomInit), to flush out reset bugs.
  '--x-initial',
  'unique',
  '--build-jobs',
  '0',
  // The generated model dominates the run time of long simulations; -Os (Verilator's default) is slower.
  '-MAKEFLAGS',
  'OPT_FAST=-O2',
  '-MAKEFLAGS',
  'OPT_SLOW=-O1',
  '-CFLAGS',
  '-std=c++17',
];

export function gatecCacheDir(): string {
  return process.env['GATEC_CACHE_DIR'] || join(homedir(), '.cache', 'gatec');
}

/** The RTL sources in compile order: files.f when the build wrote one, else rtl/*.sv (packages first). */
async function rtlSources(hwDir: string): Promise<string[]> {
  const filelist = join(hwDir, 'files.f');
  if (existsSync(filelist)) {
    const lines = (await readFile(filelist, 'utf8')).split('\n').map((l) => l.replace(/\/\/.*$|#.*$/, '').trim());
    const files = lines.filter((l) => /\.(sv|v|svh)$/.test(l) && !l.startsWith('+') && !l.startsWith('-'));
    if (files.length > 0) return files.filter((f) => !f.endsWith('.svh')).map((f) => resolve(hwDir, f));
  }
  const rtl = join(hwDir, 'rtl');
  if (!existsSync(rtl)) throw badInput(hwDir, 'no rtl/ directory: build with --target rtl');
  const names = (await readdir(rtl)).filter((n) => n.endsWith('.sv')).sort();
  const pkgFirst = [...names.filter((n) => n.endsWith('_pkg.sv')), ...names.filter((n) => !n.endsWith('_pkg.sv'))];
  return pkgFirst.map((n) => join(rtl, n));
}

/** `<name>_top`: the one rtl/*_top.sv that is not an engine unit. */
async function topModule(hwDir: string, sources: string[]): Promise<string> {
  const tops = sources.map((s) => basename(s, '.sv')).filter((n) => n.endsWith('_top'));
  if (tops.length !== 1) {
    throw badInput(hwDir, `expected one rtl/<name>_top.sv, found ${tops.length === 0 ? 'none' : tops.join(', ')}`);
  }
  return tops[0]!;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function firstVerilatorError(e: unknown): string {
  if (e instanceof ExecaError) {
    const text = `${String(e.stderr ?? '')}\n${String(e.stdout ?? '')}`;
    const line = text.split('\n').find((l) => /%Error|error:/.test(l));
    return (line ?? e.shortMessage).trim();
  }
  return (e as Error).message;
}

/**
 * A traced build records FST waveforms (the harness' `trace` command). Tracing slows every cycle
 * even when nothing is recorded, so it is a build of its own, cached under its own key.
 */
const TRACE_FLAGS = ['--trace-fst', '--trace-structs'];

export interface HarnessBuildOptions {
  /** build with --trace-fst (gatec sim --trace) */
  trace?: boolean;
}

export interface HarnessBuild {
  exe: string;
  top: string;
  /** false when the executable came from the cache. */
  built: boolean;
}

/**
 * Builds (or finds in the cache) the Verilator executable of an hw-out directory. The key covers
 * the sources with the top module's name replaced by a placeholder, so every network of one
 * hardware configuration shares one build; the harness class is always `Vtop`.
 */
export async function buildEngineHarness(hwDir: string, opts: HarnessBuildOptions = {}): Promise<HarnessBuild> {
  const flags = opts.trace ? [...SIM_FLAGS, ...TRACE_FLAGS] : SIM_FLAGS;
  const sources = await rtlSources(hwDir);
  const top = await topModule(hwDir, sources);
  const harness = join(hwDir, 'tb', 'harness.cpp');
  if (!existsSync(harness)) throw badInput(hwDir, 'no tb/harness.cpp');
  let version: string;
  try {
    version = await verilatorVersion();
  } catch {
    throw new GatecError(`${hwDir}: verilator not found (install it, e.g. apt-get install verilator, or run scripts/setup.sh)`);
  }
  const topRe = new RegExp(`\\b${escapeRegExp(top)}\\b`, 'g');
  const hash = createHash('sha256');
  hash.update(`${version}\n${flags.join(' ')}\n`);
  for (const f of [...sources, harness]) {
    const text = await readInputFile(f, 'utf8');
    hash.update(`${basename(f).replace(topRe, TOP_PLACEHOLDER)}\0${text.replace(topRe, TOP_PLACEHOLDER)}\0`);
  }
  const key = hash.digest('hex').slice(0, 32);
  const root = join(gatecCacheDir(), 'verilator');
  const dir = join(root, key);
  const exe = join(dir, HARNESS_PREFIX);
  if (existsSync(exe)) {
    // The directory's time stamp is the entry's last use, which pruning goes by.
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined);
    return { exe, top, built: false };
  }

  // Build beside the final place and rename: concurrent builders (test workers) never see half a
  // directory, and the loser of a race just drops its copy.
  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await buildVerilator({ top, sources, harness: [harness], objDir: tmp, prefix: HARNESS_PREFIX, wall: false, flags });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new GatecError(`${hwDir}: Verilator build failed: ${firstVerilatorError(e)}`);
  }
  // A changed design gets a new key, never an incremental rebuild here: only the executable is worth keeping.
  for (const f of await readdir(tmp)) if (f !== HARNESS_PREFIX) await rm(join(tmp, f), { recursive: true, force: true });
  try {
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(exe)) throw e;
  }
  await pruneCache(root, key);
  return { exe, top, built: true };
}

// ------------------------------------------------------------------------------------------------
// Simulation

export interface EngineSimOptions {
  /** DRAM bytes per cycle per direction; default from the configuration. */
  dramBytesPerCycle?: number;
  /** DRAM latency in cycles; default from the configuration. */
  dramLatency?: number;
  /** Cycle limit per sample; default generous (see defaultMaxCycles). */
  maxCycles?: number;
  /** Harness processes run in parallel; default: one per CPU, at most one per sample. */
  jobs?: number;
  /**
   * Seed for random initial values of every register and memory (Verilator
   * +verilator+rand+reset+2): a design that depends on anything but its reset shows it here.
   * Default: all zero.
   */
  randomInit?: number;
  /**
   * An executable that reads the harness' run files and writes its stats files, used instead of
   * the Verilator build: the HLS C testbench (src/sim/engine-csim.ts).
   */
  harness?: HarnessBuild;
  /** What produced the tensors, in mismatch messages; default 'RTL'. */
  label?: string;
  /**
   * Records sample 0 as an FST waveform into this file (a traced harness build: buildEngineHarness
   * with trace, unless `harness` is given).
   */
  trace?: string;
  /** Called as the work goes: the harness build (done 0), then after each group of samples. */
  onProgress?: (done: number, total: number, phase: string) => void;
}

export interface LayerMeasurement {
  /** IR layer index (= the layer tag). */
  index: number;
  name: string;
  op: string;
  /** Measured by the harness. */
  cycles: number;
  dramRead: number;
  dramWrite: number;
  /** Dense multiply-accumulates of the layer. */
  macs: number;
  /**
   * Multiply-accumulates on inputs in zero blocks (the golden model's counters; 0 without
   * zero-block tensors): none of them is executed.
   */
  macsSkipped: number;
  /**
   * Conv taps (group, pixel, kernel tap, channel word) the conv unit found in zero blocks and
   * skipped, measured by the harness; predicted.zeroTaps from the sample's bitmaps must equal it.
   */
  zeroTaps: number;
  /**
   * Gated-on output activations of a gated conv (their rest pass ran), measured by the harness;
   * predicted.gatedOn from the golden model's gates of this sample must equal it.
   */
  gatedOn: number;
  /**
   * Predicted for this sample: exact DRAM bytes from the golden model's bitmaps (zero blocks
   * skipped), cycles from the cycle model with those bitmaps. A byte count that differs from the
   * measured one fails the sample.
   */
  predicted: { cycles: number; dramRead: number; dramWrite: number; zeroTaps: number; gatedOn: number };
  /** Every block moved (report.json's figures for the simulated DRAM bandwidth and latency). */
  dense: { cycles: number; dramRead: number; dramWrite: number };
  /** 1 - measured / dense DRAM bytes (read and write together); 0 for a layer that moves none. */
  bandwidthReduction: number;
  /** A gated conv: the golden model's gating counters of this sample (src/golden/gating.ts). */
  gating?: LayerGatingFigures;
}

/** One gated conv's golden gating counters for one sample. */
export interface LayerGatingFigures {
  /** output activations whose gate is off, of all */
  gatedOff: number;
  outputs: number;
  /** MACs of the dense conv and of the gated one (base path, plus the rest where the gate is on) */
  macsDense: number;
  macsExecuted: number;
}

/** A layer whose measured DRAM bytes differ from the prediction. */
export interface ByteMismatch {
  layer: string;
  tag: number;
  measured: { read: number; write: number };
  predicted: { read: number; write: number };
}

export interface TensorMismatch {
  layer: string;
  tensor: string;
  /** (c, h, w) of the first differing element; a vector's element n is (n, 0, 0). */
  index: [number, number, number];
  expected: number;
  actual: number;
  /** Differing elements in this tensor, of `elements`. */
  count: number;
  elements: number;
}

export interface EngineSampleResult {
  outputsInt: Int8Array[];
  outputs: Float64Array[];
  top1: number;
  /** Every checked tensor bit-exact and no timeout. */
  match: boolean;
  mismatch?: TensorMismatch;
  /** One line naming the first problem (timeout or mismatch), if any. */
  failure?: string;
  timeout: boolean;
  cycles: number;
  /** All bytes moved, instruction fetch included in `read`. */
  dramBytes: { read: number; write: number };
  /** Every block moved, instruction fetch included in `read`. */
  dramBytesDense: { read: number; write: number };
  fetchBytes: number;
  /** executed: dense less the MACs on zero blocks (golden counters) */
  macs: { dense: number; executed: number };
  /** The first layer whose DRAM bytes differ from the prediction, if any (the sample then fails). */
  byteMismatch?: ByteMismatch;
  /** One entry per IR layer, in IR order (views and layers without instructions have zeros). */
  layers: LayerMeasurement[];
  /** Tensors whose DRAM region a later tensor reuses, so their values could not be checked. */
  unchecked: string[];
}

export interface EngineSimResult {
  model: Model;
  map: EngineSimMap;
  harness: HarnessBuild;
  dram: { bytesPerCycle: number; latency: number };
  samples: EngineSampleResult[];
}

/** The IR model of an hw-out directory: model.gir.json, written by `gatec build`. */
export async function loadEngineModel(hwDir: string): Promise<Model> {
  const file = join(hwDir, 'model.gir.json');
  if (!existsSync(file)) throw badInput(hwDir, 'no model.gir.json (build it again with gatec build)');
  return readModel(await readInputFile(file, 'utf8'), file);
}

/** An hw-out directory opened for simulation: its memory map and IR model. */
export interface EngineDir {
  dir: string;
  map: EngineSimMap;
  model: Model;
}

export async function openEngineDir(dir: string): Promise<EngineDir> {
  const map = await readEngineMap(dir);
  return { dir, map, model: await loadEngineModel(dir) };
}

interface Stats {
  cycles: number;
  timeout: boolean;
  fetch: number;
  layers: Map<number, { cycles: number; read: number; write: number; zeroTaps: number; gatedOn: number }>;
}

export function parseStats(text: string, file: string): Stats {
  const s: Stats = { cycles: 0, timeout: false, fetch: 0, layers: new Map() };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cycles') s.cycles = Number(f[1]);
    else if (f[0] === 'fetch') s.fetch = Number(f[1]);
    else if (f[0] === 'timeout') s.timeout = true;
    else if (f[0] === 'layer') s.layers.set(Number(f[1]), { cycles: Number(f[2]), read: Number(f[3]), write: Number(f[4]), zeroTaps: Number(f[5] ?? 0), gatedOn: Number(f[6] ?? 0) });
    else if (f[0] !== '') throw new GatecError(`${file}: unexpected stats line '${line}'`);
  }
  return s;
}

/** Regions overwritten by a tensor produced later (the build may reuse DRAM): not checkable after the run. */
function clobberedTensors(model: Model, regions: Map<string, EngineMapTensor>): Set<string> {
  const order = [model.inputs[0]!, ...model.layers.map((l) => l.output)].filter((n) => {
    const r = regions.get(n);
    return r !== undefined && r.viewOf === undefined;
  });
  const out = new Set<string>();
  order.forEach((n, i) => {
    const a = regions.get(n)!;
    for (const m of order.slice(i + 1)) {
      const b = regions.get(m)!;
      if (a.addr < b.addr + b.bytes && b.addr < a.addr + a.bytes) out.add(n);
    }
  });
  return out;
}

function defaultMaxCycles(model: Model, map: EngineSimMap, bpc: number, latency: number): number {
  // Far above any sane schedule: every MAC serialized plus every tensor byte moved many times.
  const shapes = tensorShapes(model);
  const macs = model.layers.reduce((a, l) => a + layerMacs(l, shapes), 0);
  const bytes = map.tensors.reduce((a, t) => a + t.bytes, 0) + map.dramBytes;
  return Math.ceil(4 * macs / (map.config.peOc * map.config.peIc) + (16 * bytes) / bpc + 64 * latency * map.program.count + 1e6);
}

interface Job {
  sample: number;
  inFile: string;
  statsFile: string;
  dumps: Map<string, string>;
}

/** Samples per harness process: enough to amortize start-up, few enough to bound the dump files on disk. */
const SAMPLES_PER_RUN = 8;

/**
 * Runs every input through the Verilator model of an hw-out directory and compares every
 * tensor with the golden model. Resolves with per-sample results; rejects (GatecError) when the
 * directory, the build or the harness fails (protocol errors included).
 */
export async function simulateEngine(dir: string | EngineDir, inputs: ArrayLike<number>[], opts: EngineSimOptions = {}): Promise<EngineSimResult> {
  const { dir: hwDir, map, model } = typeof dir === 'string' ? await openEngineDir(dir) : dir;
  if (!opts.harness) opts.onProgress?.(0, inputs.length, 'Verilator build');
  const harness = opts.harness ?? (await buildEngineHarness(hwDir, opts.trace !== undefined ? { trace: true } : {}));
  opts.onProgress?.(0, inputs.length, 'simulate');
  let done = 0;
  const bpc = opts.dramBytesPerCycle ?? map.config.dramBytesPerCycle;
  const latency = opts.dramLatency ?? map.config.dramLatency;
  const maxCycles = opts.maxCycles ?? defaultMaxCycles(model, map, bpc, latency);
  const regions = new Map(map.tensors.map((t) => [t.name, t]));
  const inInfo = model.tensors.find((t) => t.name === model.inputs[0])!;
  const inRegion = regions.get(map.input);
  if (map.input !== inInfo.name || !inRegion) throw badInput(hwDir, `map.json input '${map.input}' is not the model input '${inInfo.name}'`);
  const count = product(inInfo.shape);
  inputs.forEach((x, i) => {
    if (x.length !== count) throw badInput(hwDir, `input ${i} has ${x.length} values, the model input [${inInfo.shape.join(',')}] needs ${count}`);
  });
  const image = resolve(hwDir, 'mem', 'dram.bin');
  if (!existsSync(image)) throw badInput(hwDir, 'no mem/dram.bin');
  const dumped = map.tensors.filter((t) => t.viewOf === undefined);
  const program = decodeProgram(new Uint8Array(await readFile(image)), map.program.addr, map.program.count);
  const timingConfig: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, ...map.config, dramBytesPerCycle: bpc, dramLatency: latency };
  const dense = predictTiming(program, timingConfig, TIMING_MODEL, { tensors: map.tensors });
  const ctx: SampleContext = { hwDir, model, map, regions, clobbered: clobberedTensors(model, regions), program, timingConfig, dense, label: opts.label ?? 'RTL' };

  const work = await mkdtemp(join(tmpdir(), 'gatec-sim-'));
  try {
    const groups: number[][] = [];
    for (let i = 0; i < inputs.length; i += SAMPLES_PER_RUN) {
      groups.push(Array.from({ length: Math.min(SAMPLES_PER_RUN, inputs.length - i) }, (_, k) => i + k));
    }
    const samples: EngineSampleResult[] = new Array<EngineSampleResult>(inputs.length);
    const runGroup = async (group: number[], g: number): Promise<void> => {
      const jobs: Job[] = [];
      for (const i of group) {
        const inFile = join(work, `in${i}.bin`);
        await writeFile(inFile, packTensor(inRegion, map.config.peIc, quantizeInput(inInfo, inputs[i]!)));
        jobs.push({
          sample: i,
          inFile,
          statsFile: join(work, `stats${i}.txt`),
          dumps: new Map(dumped.map((t, k) => [t.name, join(work, `s${i}_t${k}.bin`)])),
        });
      }
      // Each sample starts from a fresh DRAM so nothing a previous sample wrote can leak in.
      const lines = jobs.flatMap((j) => [
        `# sample ${j.sample}`,
        `dram ${map.dramBytes}`,
        `image ${image}`,
        `bw ${bpc} ${latency}`,
        `load ${inRegion.addr} ${j.inFile}`,
        ...(opts.trace !== undefined && j.sample === 0 ? [`trace ${resolve(opts.trace)}`] : []),
        `run ${map.program.addr} ${map.program.count} ${j.statsFile} ${maxCycles}`,
        ...dumped.map((t) => `dump ${t.addr} ${t.bytes} ${j.dumps.get(t.name)!}`),
      ]);
      const runFile = join(work, `run${g}.txt`);
      await writeFile(runFile, lines.join('\n') + '\n');
      const plusargs = opts.randomInit !== undefined ? ['+verilator+rand+reset+2', `+verilator+seed+${opts.randomInit + g}`] : [];
      const r = await execa(harness.exe, [runFile, ...plusargs], { reject: false, maxBuffer: 1 << 24 });
      if (r.exitCode !== 0 && r.exitCode !== 4) {
        const why = String(r.stderr).trim().split('\n')[0]?.replace(/^harness: /, '') || `exit status ${r.exitCode ?? r.signal}`;
        throw new GatecError(`${hwDir}: simulation of sample ${group[0]}${group.length > 1 ? `..${group[group.length - 1]}` : ''} failed: ${why}`);
      }
      for (const j of jobs) {
        samples[j.sample] = await sampleResult(ctx, j, inputs[j.sample]!);
        await Promise.all([j.inFile, j.statsFile, ...j.dumps.values()].map((f) => rm(f, { force: true })));
      }
      done += group.length;
      opts.onProgress?.(done, inputs.length, 'simulate');
    };
    const procs = Math.max(1, Math.min(opts.jobs ?? availableParallelism(), groups.length));
    let next = 0;
    await Promise.all(
      Array.from({ length: procs }, async () => {
        while (next < groups.length) {
          const g = next++;
          await runGroup(groups[g]!, g);
        }
      }),
    );
    return { model, map, harness, dram: { bytesPerCycle: bpc, latency }, samples };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

interface SampleContext {
  hwDir: string;
  model: Model;
  map: EngineSimMap;
  regions: Map<string, EngineMapTensor>;
  clobbered: Set<string>;
  /** the program of mem/dram.bin */
  program: Instr[];
  /** map.json's configuration with the simulated DRAM bandwidth and latency */
  timingConfig: EngineConfig;
  /** the cycle model with every block moved */
  dense: TimingPrediction;
  /** what produced the tensors, for mismatch messages */
  label: string;
}

async function sampleResult(ctx: SampleContext, j: Job, input: ArrayLike<number>): Promise<EngineSampleResult> {
  const { model, map, regions } = ctx;
  const lanes = map.config.peIc;
  const stats = parseStats(await readFile(j.statsFile, 'utf8'), j.statsFile);
  const shapes = tensorShapes(model);
  const denseByTag = new Map(ctx.dense.tags.map((t) => [t.tag, t]));
  // Until the golden model has run (a timeout leaves it out), the predictions are the dense figures.
  const layers: LayerMeasurement[] = model.layers.map((l, i) => {
    const m = stats.layers.get(i);
    const d = denseByTag.get(i);
    const dense = { cycles: d?.cycles ?? 0, dramRead: d?.dramRead ?? 0, dramWrite: d?.dramWrite ?? 0 };
    return {
      index: i,
      name: l.name,
      op: l.op,
      cycles: m?.cycles ?? 0,
      dramRead: m?.read ?? 0,
      dramWrite: m?.write ?? 0,
      macs: layerMacs(l, shapes),
      macsSkipped: 0,
      zeroTaps: m?.zeroTaps ?? 0,
      gatedOn: m?.gatedOn ?? 0,
      predicted: { ...dense, zeroTaps: 0, gatedOn: 0 },
      dense,
      bandwidthReduction: reduction(dense.dramRead + dense.dramWrite, (m?.read ?? 0) + (m?.write ?? 0)),
    };
  });
  let read = stats.fetch;
  let write = 0;
  for (const m of stats.layers.values()) {
    read += m.read;
    write += m.write;
  }
  const totalMacs = layers.reduce((a, l) => a + l.macs, 0);
  const actual = async (name: string): Promise<Int8Array> => {
    const r = regions.get(name)!;
    const base = r.viewOf === undefined ? r : regions.get(r.viewOf);
    if (!base) throw badInput(ctx.hwDir, `map.json: view '${name}' of unknown tensor '${r.viewOf}'`);
    return unpackTensor(base, lanes, new Uint8Array(await readFile(j.dumps.get(base.name)!)));
  };
  const outputsInt = await Promise.all(map.outputs.map(actual));
  const outputs = outputsInt.map((q, k) => {
    const { scale, zeroPoint } = model.tensors.find((t) => t.name === map.outputs[k])!.quant;
    return Float64Array.from(q, (v) => dequantizeValue(v, scale, zeroPoint));
  });
  const denseRead = stats.fetch + ctx.dense.tags.reduce((a, t) => a + t.dramRead, 0);
  const denseWrite = ctx.dense.tags.reduce((a, t) => a + t.dramWrite, 0);
  const result: EngineSampleResult = {
    outputsInt,
    outputs,
    top1: argmax(outputsInt[0]!),
    match: !stats.timeout,
    timeout: stats.timeout,
    cycles: stats.cycles,
    dramBytes: { read, write },
    dramBytesDense: { read: denseRead, write: denseWrite },
    fetchBytes: stats.fetch,
    macs: { dense: totalMacs, executed: totalMacs },
    layers,
    unchecked: [...ctx.clobbered],
  };
  if (stats.timeout) {
    // The highest tag that ran is the layer that never finished.
    const running = [...stats.layers.entries()].filter(([k, m]) => k < model.layers.length && m.cycles > 0).pop()?.[0];
    result.failure =
      `sample ${j.sample}: timed out after ${stats.cycles} cycles` +
      (running !== undefined ? ` in layer '${model.layers[running]!.name}' (tag ${running})` : '');
    return result;
  }
  const golden = runGolden(model, input);

  // Predictions from this sample's bitmaps: exact bytes, and the cycle model.
  const bitmaps = sampleBitmaps(map.tensors, (name) => golden.tensors.get(name)?.data);
  const traffic = predictTraffic(ctx.program, map.tensors, map.config.busBytes, bitmaps);
  const gates = sampleGates(model, golden);
  const timing =
    bitmaps.size > 0 || gates.size > 0 ? predictTiming(ctx.program, ctx.timingConfig, TIMING_MODEL, { tensors: map.tensors, bitmaps, gates }) : ctx.dense;
  const gatedOnByTag = new Map<number, number>();
  for (const [k, run] of gateConvRuns(ctx.program, ctx.timingConfig, gates)) {
    const tag = ctx.program[k]!.tag;
    gatedOnByTag.set(tag, (gatedOnByTag.get(tag) ?? 0) + run.gatedOn);
  }
  const cyclesByTag = new Map(timing.tags.map((t) => [t.tag, t.cycles]));
  const zeroTapsByTag = new Map<number, number>();
  for (const [k, run] of skipConvRuns(ctx.program, map.tensors, ctx.timingConfig, TIMING_MODEL, bitmaps)) {
    const tag = ctx.program[k]!.tag;
    zeroTapsByTag.set(tag, (zeroTapsByTag.get(tag) ?? 0) + run.zeroTaps);
  }
  let executed = 0;
  for (const l of layers) {
    const p = traffic.get(l.index) ?? { read: 0, write: 0 };
    l.predicted = {
      cycles: cyclesByTag.get(l.index) ?? 0,
      dramRead: p.read,
      dramWrite: p.write,
      zeroTaps: zeroTapsByTag.get(l.index) ?? 0,
      gatedOn: gatedOnByTag.get(l.index) ?? 0,
    };
    const g = golden.gating?.layers.find((q) => q.layer === l.name);
    if (g) l.gating = { gatedOff: g.outputs.gatedOff, outputs: g.outputs.total, macsDense: g.macs.dense, macsExecuted: g.macs.executed };
    // MACs not executed: zero blocks and gating together when the model has zero blocks, else gating's
    l.macsSkipped = golden.sparsity ? l.macs - (golden.sparsity.layers[l.index]?.macs.executed ?? l.macs) : g ? g.macs.dense - g.macs.executed : 0;
    executed += l.macs - l.macsSkipped;
  }
  result.macs = { dense: totalMacs, executed };

  const checks = [{ layer: '(input)', tensor: model.inputs[0]! }, ...model.layers.map((l) => ({ layer: l.name, tensor: l.output }))];
  for (const c of checks) {
    const r = regions.get(c.tensor);
    if (!r || r.viewOf !== undefined || ctx.clobbered.has(c.tensor)) continue;
    const mm = compareTensor(golden.tensors.get(c.tensor)!.data, await actual(c.tensor), r.shape, c);
    if (mm) {
      result.match = false;
      result.mismatch = mm;
      result.failure = `sample ${j.sample}: ${describeMismatch(mm, ctx.label)}`;
      break;
    }
  }
  // Every layer's measured bytes against the prediction: with equal values, a difference means
  // the RTL moved blocks (or bitmap rows) the golden bitmaps say it should not, or missed some.
  const bad = firstByteMismatch(layers);
  if (bad) {
    result.byteMismatch = bad;
    result.match = false;
    result.failure ??= `sample ${j.sample}: ${describeByteMismatch(bad)}`;
  }
  // Likewise the taps the conv unit skipped: the flags it reads are the blocks the decoder filled.
  const skew = layers.find((l) => l.zeroTaps !== l.predicted.zeroTaps);
  if (skew) {
    result.match = false;
    result.failure ??= `sample ${j.sample}: layer '${skew.name}' (tag ${skew.index}) skipped ${skew.zeroTaps} conv taps in zero blocks; the golden bitmaps predict ${skew.predicted.zeroTaps}`;
  }
  // And the gated-on outputs: the gate unit decides on the same base sums as the golden model.
  const gateSkew = layers.find((l) => l.gatedOn !== l.predicted.gatedOn);
  if (gateSkew) {
    result.match = false;
    result.failure ??= `sample ${j.sample}: layer '${gateSkew.name}' (tag ${gateSkew.index}) ran the rest pass of ${gateSkew.gatedOn} outputs; the golden gates say ${gateSkew.predicted.gatedOn}`;
  }
  return result;
}

/** Gate bits of every gated conv of a golden run, by layer tag. */
export function sampleGates(model: Model, golden: GoldenResult): Map<number, LayerGates> {
  const out = new Map<number, LayerGates>();
  model.layers.forEach((l, tag) => {
    if (l.op !== 'conv' || !isGated(l)) return;
    const x = golden.tensors.get(l.inputs[0]!)!;
    const y = golden.tensors.get(l.output)!;
    const { gates } = gatedConv(l, x, y.quant);
    out.set(tag, { gates, shape: y.shape as [number, number, number] });
  });
  return out;
}

/** The first layer whose measured DRAM bytes (read or write) differ from its prediction. */
export function firstByteMismatch(layers: readonly (Pick<LayerMeasurement, 'index' | 'name' | 'dramRead' | 'dramWrite'> & { predicted: { dramRead: number; dramWrite: number } })[]): ByteMismatch | undefined {
  const bad = layers.find((l) => l.dramRead !== l.predicted.dramRead || l.dramWrite !== l.predicted.dramWrite);
  if (!bad) return undefined;
  return {
    layer: bad.name,
    tag: bad.index,
    measured: { read: bad.dramRead, write: bad.dramWrite },
    predicted: { read: bad.predicted.dramRead, write: bad.predicted.dramWrite },
  };
}

function reduction(dense: number, actual: number): number {
  return dense > 0 ? 1 - actual / dense : 0;
}

export function describeByteMismatch(m: ByteMismatch): string {
  return (
    `layer '${m.layer}' (tag ${m.tag}) moved ${m.measured.read} bytes read and ${m.measured.write} written; ` +
    `the golden bitmaps predict ${m.predicted.read} and ${m.predicted.write}`
  );
}

function compareTensor(
  want: Int8Array,
  got: Int8Array,
  shape: number[],
  where: { layer: string; tensor: string },
): TensorMismatch | undefined {
  const [, H, W] = chw(shape)!;
  let first = -1;
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    if (want[i] !== got[i]) {
      if (first < 0) first = i;
      count++;
    }
  }
  if (first < 0) return undefined;
  const c = Math.floor(first / (H * W));
  const h = Math.floor(first / W) % H;
  const w = first % W;
  return { ...where, index: [c, h, w], expected: want[first]!, actual: got[first]!, count, elements: want.length };
}

export function describeMismatch(m: TensorMismatch, label = 'RTL'): string {
  return `layer '${m.layer}', tensor '${m.tensor}' element (c=${m.index[0]},h=${m.index[1]},w=${m.index[2]}): ` +
    `${label} ${m.actual}, golden ${m.expected} (${m.count} of ${m.elements} elements differ)`;
}
