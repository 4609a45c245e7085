import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { writeDirAtomic } from '../../src/cli/atomic-write.js';
import { unsupported } from '../../src/errors.js';
import { layerMacs, tensorShapes } from '../../src/golden/macs.js';
import { writeModel } from '../../src/ir/serialize.js';
import type { Layer, Model } from '../../src/ir/types.js';
import { layerWhere, roundUp } from './common.js';
import { rowWidths, validateEngineConfig, type EngineConfig, type RowWidths } from './config.js';
import { encodeProgram, INSTRUCTION_BYTES, type Instr } from './isa.js';
import { allocateActivations, physicalOf, regionAlignment, type TensorLayout } from './layout.js';
import { compileProgram, DEFAULT_TILING, type PlacedWeights, type Tiling } from './program.js';
import { predictTiming, TIMING_MODEL, type TimingPrediction } from './timing.js';
import { tensorOfTransfer } from './zero-traffic.js';
import { convWeightImage, fcWeightImage, type WeightImage } from './weights.js';
import { hlsFiles } from './hls.js';
import { engineResources, type EngineResources } from './resources.js';

/** mem/map.json (docs/engine.md, "Output directory"). */
export interface EngineMap {
  format: 'gatec-engine-map';
  version: 1;
  config: EngineConfig;
  dramBytes: number;
  program: { addr: number; count: number };
  input: string;
  outputs: string[];
  tensors: TensorLayout[];
}

export interface LayerReport {
  name: string;
  op: string;
  tag: number;
  macs: number;
  /** predicted; for a layer that moves zero-block tensors, with every segment moved (dense) */
  cycles: number;
  /** exact; for a layer that moves zero-block tensors, with every segment moved (dense) */
  dramRead: number;
  dramWrite: number;
  /**
   * Present when the layer reads or writes zero-block (planar) tensors: their names. Its bytes and
   * cycles above are the dense figures (every block moved, bitmap rows included); what it moves
   * depends on the sample, which `gatec sim --json` predicts exactly and measures.
   */
  zeroBlock?: { read: string[]; write: string[] };
}

/** A zero-block (planar) tensor of the build. */
export interface ZeroBlockTensorReport {
  name: string;
  block: [number, number, number];
  epsilon: number;
  blocks: number;
  /** bytes of one read or write of the whole tensor with every block moved, bitmap rows included */
  denseBytes: number;
  /** of which bitmap rows */
  bitmapBytes: number;
  /** not annotated in the IR: planar (epsilon 0) because an add shares it with zero-block tensors */
  implied?: true;
}

export interface EngineReport {
  model: string;
  config: EngineConfig;
  layers: LayerReport[];
  totals: { macs: number; cycles: number; timeUs: number; dramRead: number; dramWrite: number; fetchRead: number };
  program: { instructions: number; bytes: number };
  dram: { bytes: number; imageBytes: number; weightBytes: number; activationBytes: number };
  /** only for builds with zero-block tensors */
  zeroBlock?: { tensors: ZeroBlockTensorReport[] };
  /** the resource model's estimate of this configuration (resources.ts), for report.html */
  resources: EngineResources;
}

export interface EngineCompilation {
  config: EngineConfig;
  widths: RowWidths;
  program: Instr[];
  /** mem/dram.bin: program at 0, then weights and params */
  image: Uint8Array;
  map: EngineMap;
  timing: TimingPrediction;
  report: EngineReport;
}

/**
 * Rejects what the engine cannot express before any layout work. Zero-block annotations are
 * checked where tensors are laid out (layout.ts: block shapes the engine can skip) and lowered.
 */
function checkModel(model: Model, source: string): void {
  if (model.inputs.length !== 1) throw unsupported(source, `the engine runs models with one input, this one has ${model.inputs.length}`);
}

/** The weight image of a conv or fc layer; none for the others. */
function weightImage(l: Layer, inputs: ReadonlyMap<string, TensorLayout>, c: EngineConfig, w: RowWidths, where: string): WeightImage | undefined {
  if (l.op === 'conv') return convWeightImage(l, physicalOf(inputs, l.inputs[0]!).shape[0]!, c, w, where);
  if (l.op === 'fc') return fcWeightImage(l, physicalOf(inputs, l.inputs[0]!), c, w, where);
  return undefined;
}

/** Weight and param images laid out one layer after the other from `base`. */
function placeWeights(model: Model, c: EngineConfig, w: RowWidths, tensors: ReadonlyMap<string, TensorLayout>, base: number, source: string) {
  const align = regionAlignment(w);
  const placed = new Map<number, PlacedWeights>();
  let cursor = base;
  model.layers.forEach((l, tag) => {
    const image = weightImage(l, tensors, c, w, layerWhere(source, l));
    if (!image) return;
    const weightAddr = roundUp(cursor, align);
    const paramAddr = roundUp(weightAddr + image.weights.length, align);
    cursor = paramAddr + image.params.length;
    placed.set(tag, { image, weightAddr, paramAddr });
  });
  return { placed, end: cursor };
}

/** Moves every DRAM address by `delta`: data is laid out from 0 until the program's size is known. */
function relocate(program: Instr[], delta: number): Instr[] {
  return program.map((i): Instr => {
    if (i.op === 'load') return { ...i, addr: i.addr + delta, ...(i.zb ? { zb: { ...i.zb, bitmapAddr: i.zb.bitmapAddr + delta } } : {}) };
    if (i.op === 'store') return { ...i, addr: i.addr + delta, ...(i.zb ? { zb: { ...i.zb, bitmapAddr: i.zb.bitmapAddr + delta } } : {}) };
    return i;
  });
}

/**
 * The whole compilation in memory: program, DRAM image, memory map, predicted timing and report.
 * Pure and deterministic.
 */
export function compileEngine(model: Model, config: EngineConfig, source: string = model.source.file, tiling: Tiling = DEFAULT_TILING): EngineCompilation {
  const c = validateEngineConfig(config);
  const w = rowWidths(c);
  checkModel(model, source);
  const align = regionAlignment(w);

  // Data first, from address 0: weights/params, then activations; the program then goes in front.
  const geometry = allocateActivations(model, w, 0, source);
  const weights = placeWeights(model, c, w, geometry.byName, 0, source);
  const acts = allocateActivations(model, w, roundUp(weights.end, align), source);
  const unlinked = compileProgram(model, { config: c, widths: w, source, tensors: acts.byName, weights: weights.placed, tiling });
  const delta = roundUp(unlinked.length * INSTRUCTION_BYTES, align);
  const program = relocate(unlinked, delta);
  const whereOf = (tag: number): string => (model.layers[tag] ? layerWhere(source, model.layers[tag]) : source);
  const code = encodeProgram(program, whereOf);

  const image = new Uint8Array(delta + weights.end);
  image.set(code, 0);
  for (const p of weights.placed.values()) {
    image.set(p.image.weights, delta + p.weightAddr);
    image.set(p.image.params, delta + p.paramAddr);
  }
  const tensors = acts.tensors.map((t) => ({ ...t, addr: t.addr + delta }));
  const dramBytes = roundUp(delta + acts.end, align);
  const map: EngineMap = {
    format: 'gatec-engine-map',
    version: 1,
    config: { ...c },
    dramBytes,
    program: { addr: 0, count: program.length },
    input: model.inputs[0]!,
    outputs: [...model.outputs],
    tensors,
  };
  // Dense figures: every segment of a zero-block transfer moved.
  const timing = predictTiming(program, c, TIMING_MODEL, { tensors });
  const report = buildReport(model, c, timing, program, tensors, { program: code.length, image: image.length, weights: weights.end, dram: dramBytes });
  return { config: c, widths: w, program, image, map, timing, report };
}

/** Per layer tag, the zero-block tensors its LOADs and STOREs move through the decoder and the encoder. */
function zeroBlockTransfers(program: readonly Instr[], tensors: readonly TensorLayout[]): Map<number, { read: string[]; write: string[] }> {
  const out = new Map<number, { read: string[]; write: string[] }>();
  for (const i of program) {
    if ((i.op !== 'load' && i.op !== 'store') || !i.zb) continue;
    const name = tensorOfTransfer(i.zb, tensors).name;
    const e = out.get(i.tag) ?? { read: [], write: [] };
    const list = i.op === 'load' ? e.read : e.write;
    if (!list.includes(name)) list.push(name);
    out.set(i.tag, e);
  }
  return out;
}

function buildReport(
  model: Model,
  c: EngineConfig,
  timing: TimingPrediction,
  program: readonly Instr[],
  tensors: readonly TensorLayout[],
  sizes: { program: number; image: number; weights: number; dram: number },
): EngineReport {
  const shapes = tensorShapes(model);
  const byTag = new Map(timing.tags.map((t) => [t.tag, t]));
  const zb = zeroBlockTransfers(program, tensors);
  const layers = model.layers.map((l, tag): LayerReport => {
    const t = byTag.get(tag);
    const z = zb.get(tag);
    return {
      name: l.name,
      op: l.op,
      tag,
      macs: layerMacs(l, shapes),
      cycles: t?.cycles ?? 0,
      dramRead: t?.dramRead ?? 0,
      dramWrite: t?.dramWrite ?? 0,
      ...(z ? { zeroBlock: z } : {}),
    };
  });
  const planar = tensors.filter((t) => t.zeroBlock && t.viewOf === undefined);
  const sum = (k: 'macs' | 'dramRead' | 'dramWrite'): number => layers.reduce((a, l) => a + l[k], 0);
  return {
    model: model.name,
    config: { ...c },
    layers,
    totals: {
      macs: sum('macs'),
      cycles: timing.cycles,
      timeUs: Number((timing.cycles / c.clockMhz).toFixed(3)),
      dramRead: sum('dramRead'),
      dramWrite: sum('dramWrite'),
      fetchRead: timing.fetchRead,
    },
    program: { instructions: sizes.program / INSTRUCTION_BYTES, bytes: sizes.program },
    dram: { bytes: sizes.dram, imageBytes: sizes.image, weightBytes: sizes.weights, activationBytes: sizes.dram - sizes.image },
    resources: engineResources(c),
    ...(planar.length > 0
      ? {
          zeroBlock: {
            tensors: planar.map((t): ZeroBlockTensorReport => {
              const z = t.zeroBlock!;
              return {
                name: t.name,
                block: z.block,
                epsilon: z.epsilon,
                blocks: z.nCb * z.nHb * z.nWb,
                denseBytes: t.bytes,
                bitmapBytes: t.bytes - z.bitmapOffset,
                ...(z.implied ? { implied: true as const } : {}),
              };
            }),
          },
        }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Output directory

/** The package root (holding templates/), from both the TypeScript sources and dist/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('gatec: cannot find the package root (templates/)');
    dir = up;
  }
  return dir;
}

export const TEMPLATES_DIR = join(packageRoot(), 'templates');

/** `<name>` of the output directory as a Verilog identifier: `hw-out/my-net.v2` gives `my_net_v2`. */
export function verilogName(outDir: string): string {
  const raw = basename(outDir.replace(/[\\/]+$/, '')).replace(/[^A-Za-z0-9_]/g, '_');
  if (raw === '' || /^_*$/.test(raw)) return 'gatec_engine';
  return /^[0-9]/.test(raw) ? `gatec_${raw}` : raw;
}

export interface OutputFile {
  /** relative to the output directory, '/'-separated */
  path: string;
  data: string | Uint8Array;
}

function readTemplate(templates: string, rel: string): string {
  const file = join(templates, rel);
  if (!existsSync(file)) throw new Error(`${file} is missing from this installation of gatec`);
  return readFileSync(file, 'utf8');
}

function render(templates: string, rel: string, context: object): string {
  // Verilog, YAML and Yosys scripts, not HTML: nothing is escaped; strict catches a misspelt field.
  return Handlebars.compile(readTemplate(templates, rel), { noEscape: true, strict: true })(context);
}

/** The engine's .sv files (shared ones in rtl/, the engine's own in rtl/engine/), sorted. */
function rtlSources(templates: string): { name: string; file: string }[] {
  const sources = ['rtl', 'rtl/engine'].flatMap((dir) => {
    const abs = join(templates, dir);
    if (!existsSync(abs)) return [];
    return readdirSync(abs)
      .filter((f) => f.endsWith('.sv'))
      .map((f) => ({ name: f, file: join(abs, f) }));
  });
  sources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  sources.forEach((s, i) => {
    if (i > 0 && sources[i - 1]!.name === s.name) throw new Error(`templates: ${s.name} exists in both rtl/ and rtl/engine/`);
  });
  return sources;
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** What `gatec build --target` writes besides the memory images: the RTL, the HLS C++, or both. */
export type EngineTarget = 'rtl' | 'hls';

export interface EngineOutputOptions {
  /** default ['rtl'] */
  targets?: readonly EngineTarget[];
  /** FPGA part of hls/run_hls.tcl (default DEFAULT_HLS_PART) */
  part?: string;
}

/**
 * Every file of hw-out/<name>/, in a fixed order, byte-identical for equal inputs. Besides the
 * files of docs/engine.md, model.gir.json: the IR the program was compiled from, which `gatec sim`
 * and `gatec csim` run in the golden model to check every layer. The RTL target adds rtl/, tb/ and
 * the synthesis scripts, the HLS target hls/ (docs/hls.md).
 */
export function engineFiles(comp: EngineCompilation, model: Model, name: string, templates: string = TEMPLATES_DIR, opts: EngineOutputOptions = {}): OutputFile[] {
  const targets = opts.targets ?? ['rtl'];
  const top = `${name}_top`;
  const sources = rtlSources(templates);
  const rtlFiles = [...sources.map((s) => `rtl/${s.name}`), `rtl/${top}.sv`];
  const context = { name, top, config: comp.config, rowWidths: comp.widths, rtlFiles, tbFiles: ['tb/harness.cpp'] };
  const rtl = (): OutputFile[] => [
    ...sources.map((s) => ({ path: `rtl/${s.name}`, data: readFileSync(s.file, 'utf8') })),
    { path: `rtl/${top}.sv`, data: render(templates, 'rtl/engine_top.sv.hbs', context) },
    { path: 'tb/harness.cpp', data: readTemplate(templates, 'tb/engine/harness.cpp') },
  ];
  return [
    ...(targets.includes('rtl') ? rtl() : []),
    ...(targets.includes('hls') ? hlsFiles(comp, name, templates, opts.part !== undefined ? { part: opts.part } : {}) : []),
    { path: 'mem/dram.bin', data: comp.image },
    { path: 'mem/map.json', data: json(comp.map) },
    ...(targets.includes('rtl')
      ? [
          { path: 'files.f', data: rtlFiles.map((f) => `${f}\n`).join('') },
          { path: `${name}.core`, data: render(templates, 'scripts/engine.core.hbs', context) },
          { path: 'synth.ys', data: render(templates, 'scripts/synth.ys.hbs', context) },
        ]
      : []),
    { path: 'report.json', data: json(comp.report) },
    { path: 'model.gir.json', data: writeModel(model) },
  ];
}

/** A directory `gatec build` may replace: empty, or holding an earlier build's map. */
async function isEngineBuild(dir: string): Promise<boolean> {
  try {
    if ((await readdir(dir)).length === 0) return true;
    const map = JSON.parse(await readFile(join(dir, 'mem', 'map.json'), 'utf8')) as { format?: unknown };
    return map.format === 'gatec-engine-map';
  } catch {
    return false;
  }
}

export interface EngineBuild {
  dir: string;
  name: string;
  compilation: EngineCompilation;
}

/** `gatec build --arch engine [--target rtl,hls]`: compiles and writes hw-out/<name>/ in one rename. */
export async function buildEngine(
  model: Model,
  config: EngineConfig,
  outDir: string,
  source: string = model.source.file,
  opts: EngineOutputOptions = {},
): Promise<EngineBuild> {
  const name = verilogName(outDir);
  const compilation = compileEngine(model, config, source);
  await writeDirAtomic(outDir, engineFiles(compilation, model, name, TEMPLATES_DIR, opts), isEngineBuild);
  return { dir: outDir, name, compilation };
}
