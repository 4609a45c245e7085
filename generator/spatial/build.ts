import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { writeDirAtomic } from '../../src/cli/atomic-write.js';
import { writeModel } from '../../src/ir/serialize.js';
import type { Model } from '../../src/ir/types.js';
import { TEMPLATES_DIR, verilogName, type OutputFile } from '../engine/build.js';
import { spatialHlsFiles, type SpatialHlsOptions } from './hls.js';
import { planSpatial, type SpatialPlan } from './plan.js';
import { planResources, type SpatialResources } from './resources.js';
import type { ReuseConfig } from './reuse.js';
import { stageContext, stageModuleName, topContext } from './rtl.js';
import { predictTiming, type SpatialTiming } from './timing.js';

export type SpatialTarget = 'rtl' | 'hls';

/** report.json of a spatial build; `arch` is what `gatec sim`/`csim` dispatch on. */
export interface SpatialReport {
  format: 'gatec-spatial-report';
  version: 1;
  arch: 'spatial';
  model: string;
  top: string;
  targets: SpatialTarget[];
  input: { tensor: string; elements: number; shape: number[] };
  output: { tensor: string; elements: number; shape: number[] };
  layers: {
    name: string;
    op: string;
    reuse: number;
    multipliers: number;
    accWidth: number;
    requantLanes: number;
    cycles: number;
    resources: { dsp: number; lut: number; ff: number; bram18: number };
  }[];
  timing: { latency: number; interval: number };
  resources: { dsp: number; lut: number; ff: number; bram18: number };
}

export interface SpatialCompilation {
  plan: SpatialPlan;
  resources: SpatialResources;
  timing: SpatialTiming;
}

export function compileSpatial(model: Model, reuse: ReuseConfig, source: string = model.source.file): SpatialCompilation {
  const plan = planSpatial(model, reuse, source);
  return { plan, resources: planResources(plan), timing: predictTiming(plan) };
}

function render(rel: string, context: object): string {
  const file = join(TEMPLATES_DIR, rel);
  if (!existsSync(file)) throw new Error(`${file} is missing from this installation of gatec`);
  // SystemVerilog and C++, not HTML: nothing is escaped; strict catches a misspelt field.
  return Handlebars.compile(readFileSync(file, 'utf8'), { noEscape: true, strict: true })(context);
}

/** The RTL files of a plan: the shared requantizer, one module per stage, the top. */
export function spatialRtlFiles(plan: SpatialPlan, name: string): OutputFile[] {
  const top = `${name}_top`;
  const modules = plan.stages.map((s, i) => stageModuleName(top, i, s));
  const files: OutputFile[] = [{ path: 'rtl/gatec_sp_requant.sv', data: readFileSync(join(TEMPLATES_DIR, 'spatial/rtl/gatec_sp_requant.sv'), 'utf8') }];
  plan.stages.forEach((s, i) => files.push({ path: `rtl/${modules[i]}.sv`, data: render('spatial/rtl/stage.sv.hbs', stageContext(s, modules[i]!)) }));
  files.push({ path: `rtl/${top}.sv`, data: render('spatial/rtl/top.sv.hbs', topContext(plan, top, modules)) });
  return files;
}

function report(model: Model, comp: SpatialCompilation, top: string, targets: SpatialTarget[]): SpatialReport {
  const { plan, resources, timing } = comp;
  return {
    format: 'gatec-spatial-report',
    version: 1,
    arch: 'spatial',
    model: model.name,
    top,
    targets,
    input: { tensor: plan.input.name, elements: plan.inElems, shape: plan.input.shape },
    output: { tensor: plan.output.name, elements: plan.outElems, shape: plan.output.shape },
    layers: plan.stages.map((s, i) => {
      const r = resources.perLayer[i]!;
      return {
        name: s.name,
        op: s.op,
        reuse: s.kind === 'mac' ? s.reuse : 1,
        multipliers: s.kind === 'mac' ? s.mults.length : 0,
        accWidth: s.accWidth,
        requantLanes: r.requantLanes,
        cycles: timing.stageCycles[i]!,
        resources: { dsp: r.dsp, lut: r.lut, ff: r.ff, bram18: r.bram18 },
      };
    }),
    timing: { latency: timing.latency, interval: timing.interval },
    resources: { dsp: resources.dsp, lut: resources.lut, ff: resources.ff, bram18: resources.bram18 },
  };
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** Every file of hw-out/<name>/ for the spatial architecture, byte-identical for equal inputs. */
export function spatialFiles(model: Model, comp: SpatialCompilation, name: string, targets: SpatialTarget[], hls: SpatialHlsOptions = {}): OutputFile[] {
  const top = `${name}_top`;
  const files: OutputFile[] = [];
  if (targets.includes('rtl')) {
    const rtl = spatialRtlFiles(comp.plan, name);
    files.push(...rtl, { path: 'tb/harness.cpp', data: readFileSync(join(TEMPLATES_DIR, 'spatial/tb/harness.cpp'), 'utf8') });
    files.push({ path: 'files.f', data: rtl.map((f) => `${f.path}\n`).join('') });
  }
  if (targets.includes('hls')) files.push(...spatialHlsFiles(comp.plan, name, hls));
  files.push({ path: 'report.json', data: json(report(model, comp, top, targets)) }, { path: 'model.gir.json', data: writeModel(model) });
  return files;
}

/** A directory `gatec build --arch spatial` may replace: empty, or an earlier gatec build. */
async function isBuild(dir: string): Promise<boolean> {
  try {
    const entries = await readdir(dir);
    if (entries.length === 0) return true;
    if (entries.includes('report.json')) {
      const r = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { arch?: unknown; format?: unknown };
      if (r.arch === 'spatial') return true;
    }
    const map = JSON.parse(await readFile(join(dir, 'mem', 'map.json'), 'utf8')) as { format?: unknown };
    return map.format === 'gatec-engine-map';
  } catch {
    return false;
  }
}

export interface SpatialBuild {
  dir: string;
  name: string;
  compilation: SpatialCompilation;
}

export async function buildSpatial(model: Model, reuse: ReuseConfig, outDir: string, source: string, targets: SpatialTarget[], hls: SpatialHlsOptions = {}): Promise<SpatialBuild> {
  const name = verilogName(outDir);
  const compilation = compileSpatial(model, reuse, source);
  await writeDirAtomic(outDir, spatialFiles(model, compilation, name, targets, hls), isBuild);
  return { dir: outDir, name, compilation };
}
