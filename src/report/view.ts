import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineReport } from '../../generator/engine/build.js';
import type { EngineConfig } from '../../generator/engine/config.js';
import { engineResources, type EngineResources } from '../../generator/engine/resources.js';
import { layerMacs, tensorShapes } from '../golden/macs.js';
import type { Layer, Model } from '../ir/types.js';
import { loadEngineModel } from '../sim/engine-sim.js';
import type { SimulationSection } from './simulation.js';
import { readReportJson } from './simulation.js';

/**
 * Everything report.html shows, gathered from an hw-out directory: report.json (the build's
 * prediction, and `simulation` once gatec sim/csim ran), model.gir.json (the layer table) and
 * synth-stat.txt when the user ran synth.ys in Yosys. Plain data, in IR layer order.
 */
export interface LayerRow {
  index: number;
  name: string;
  op: string;
  inputs: string;
  output: string;
  shape: string;
  /** kernel, stride, groups of a conv or pool; '' otherwise */
  geometry: string;
  weights: number;
  /** fraction of weights pruned (pruneMask), when the layer has one */
  pruned?: number;
  macs: number;
  /** zero-block annotation of the output, e.g. "8x2x2 e=1" */
  zeroBlock: string;
  /** base channels of a gated conv, e.g. "4 of 16" */
  gating: string;
  predictedCycles: number;
  dramRead: number;
  dramWrite: number;
}

export interface BarDatum {
  index: number;
  layer: string;
  kind: string;
  value: number;
}

export interface ReportView {
  name: string;
  model: string;
  config: EngineConfig;
  totals: EngineReport['totals'];
  program: EngineReport['program'];
  dram: EngineReport['dram'];
  layers: LayerRow[];
  macs: BarDatum[];
  dramBytes: BarDatum[];
  cycles: BarDatum[];
  resources: EngineResources;
  /** cell counts of Yosys `stat` (synth-stat.txt), when present */
  yosys?: { cell: string; count: number }[];
  simulation?: SimulationSection;
}

const dims = (s: readonly number[]): string => s.join('x');

function geometry(l: Layer): string {
  if (l.op === 'conv') return `k${dims(l.kernel)} s${dims(l.stride)}${l.groups > 1 ? ` g${l.groups}` : ''}`;
  if (l.op === 'maxpool' || l.op === 'avgpool') return `k${dims(l.kernel)} s${dims(l.stride)}`;
  return '';
}

function layerRows(model: Model, report: EngineReport): LayerRow[] {
  const shapes = tensorShapes(model);
  const infos = new Map(model.tensors.map((t) => [t.name, t]));
  return model.layers.map((l, i): LayerRow => {
    const weighted = l.op === 'conv' || l.op === 'fc' ? l : undefined;
    let pruned: number | undefined;
    if (weighted?.pruneMask) {
      let kept = 0;
      for (const b of weighted.pruneMask) kept += b;
      pruned = 1 - kept / Math.max(1, weighted.pruneMask.length);
    }
    const zb = infos.get(l.output)?.zeroBlock;
    const r = report.layers[i];
    return {
      index: i,
      name: l.name,
      op: l.op,
      inputs: l.inputs.join(', '),
      output: l.output,
      shape: dims(shapes.get(l.output) ?? []),
      geometry: geometry(l),
      weights: weighted?.weights.length ?? 0,
      ...(pruned !== undefined ? { pruned } : {}),
      macs: layerMacs(l, shapes),
      zeroBlock: zb ? `${dims(zb.block)} e=${zb.epsilon}` : '',
      gating: l.op === 'conv' && l.gating ? `${l.gating.baseChannels} of ${shapes.get(l.inputs[0]!)?.[0] ?? '?'}` : '',
      predictedCycles: r?.cycles ?? 0,
      dramRead: r?.dramRead ?? 0,
      dramWrite: r?.dramWrite ?? 0,
    };
  });
}

/** Cell counts of a Yosys `stat` listing ("     DSP48E1    64"), in the file's order. */
export function parseYosysStat(text: string): { cell: string; count: number }[] {
  const out: { cell: string; count: number }[] = [];
  for (const m of text.matchAll(/^\s+(?:Number of cells:\s+(\d+)|(\$?[A-Za-z_][\w$]*)\s+(\d+))\s*$/gm)) {
    if (m[1] !== undefined) out.push({ cell: 'cells', count: Number(m[1]) });
    else out.push({ cell: m[2]!, count: Number(m[3]) });
  }
  return out;
}

/** The bars of the three per-layer plots; layers with nothing to show (views, pools without MACs) are left out. */
function bars(layers: readonly LayerRow[], sim: SimulationSection | undefined): Pick<ReportView, 'macs' | 'dramBytes' | 'cycles'> {
  const macs: BarDatum[] = [];
  const dramBytes: BarDatum[] = [];
  const cycles: BarDatum[] = [];
  for (const l of layers) {
    const s = sim?.layers[l.index];
    const g = sim?.golden.macs[l.index];
    const at = { index: l.index, layer: l.name };
    if (l.macs > 0) {
      macs.push({ ...at, kind: 'dense', value: l.macs });
      if (g) macs.push({ ...at, kind: 'executed', value: g.executed });
    }
    if (s) {
      if (s.denseDramRead + s.denseDramWrite > 0) {
        dramBytes.push({ ...at, kind: 'dense', value: s.denseDramRead + s.denseDramWrite });
        dramBytes.push({ ...at, kind: 'measured', value: s.dramRead + s.dramWrite });
      }
      if (s.predictedCycles > 0 || (s.cycles ?? 0) > 0) {
        cycles.push({ ...at, kind: 'predicted', value: s.predictedCycles });
        if (s.cycles !== null) cycles.push({ ...at, kind: 'measured', value: s.cycles });
      }
    } else {
      if (l.dramRead + l.dramWrite > 0) dramBytes.push({ ...at, kind: 'dense', value: l.dramRead + l.dramWrite });
      if (l.predictedCycles > 0) cycles.push({ ...at, kind: 'predicted', value: l.predictedCycles });
    }
  }
  return { macs, dramBytes, cycles };
}

/** The name of an hw-out directory: its last path component. */
function dirName(hwDir: string): string {
  return hwDir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || hwDir;
}

export async function reportView(hwDir: string): Promise<ReportView> {
  const json = await readReportJson(hwDir);
  const report = json as unknown as EngineReport & { simulation?: SimulationSection };
  const model = await loadEngineModel(hwDir);
  const layers = layerRows(model, report);
  const stat = join(hwDir, 'synth-stat.txt');
  const yosys = existsSync(stat) ? parseYosysStat(await readFile(stat, 'utf8')) : undefined;
  return {
    name: dirName(hwDir),
    model: report.model,
    config: report.config,
    totals: report.totals,
    program: report.program,
    dram: report.dram,
    layers,
    ...bars(layers, report.simulation),
    // Builds before report.json carried resources: the same model from the configuration.
    resources: report.resources ?? engineResources(report.config),
    ...(yosys && yosys.length > 0 ? { yosys } : {}),
    ...(report.simulation ? { simulation: report.simulation } : {}),
  };
}
