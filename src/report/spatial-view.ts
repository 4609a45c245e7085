import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SpatialReport } from '../../generator/spatial/build.js';
import { layerMacs, tensorShapes } from '../golden/macs.js';
import { readModel } from '../ir/serialize.js';
import type { Model } from '../ir/types.js';
import { readReportJson } from './simulation.js';
import { parseYosysStat, type BarDatum } from './view.js';

/**
 * report.html of a spatial build (docs/spatial.md): one pipeline stage per layer, so the page is
 * about what each stage costs (multipliers, DSP, LUT, FF per the resource model) and how long it
 * takes (cycles per sample at its reuse factor), next to the layer's MACs, dense and on its
 * non-zero weights (a pruned weight costs no multiplier).
 */
export interface SpatialLayerRow {
  index: number;
  name: string;
  op: string;
  shape: string;
  weights: number;
  /** fraction of zero weights (pruned or zero after quantization); weighted layers only */
  zeroWeights?: number;
  macs: number;
  reuse: number;
  multipliers: number;
  accWidth: number;
  cycles: number;
  dsp: number;
  lut: number;
  ff: number;
  bram18: number;
}

export interface SpatialView {
  name: string;
  report: SpatialReport;
  layers: SpatialLayerRow[];
  macs: BarDatum[];
  dsp: BarDatum[];
  lut: BarDatum[];
  cycles: BarDatum[];
  yosys?: { cell: string; count: number }[];
}

function dirName(hwDir: string): string {
  return hwDir.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || hwDir;
}

function rows(model: Model, report: SpatialReport): SpatialLayerRow[] {
  const shapes = tensorShapes(model);
  const byName = new Map(report.layers.map((l) => [l.name, l]));
  return model.layers.flatMap((l, index): SpatialLayerRow[] => {
    const r = byName.get(l.name);
    if (!r) return [];
    const w = l.op === 'conv' || l.op === 'fc' ? l.weights : undefined;
    let zeros = 0;
    if (w) for (const v of w) zeros += v === 0 ? 1 : 0;
    return [
      {
        index,
        name: l.name,
        op: l.op,
        shape: (shapes.get(l.output) ?? []).join('x'),
        weights: w?.length ?? 0,
        ...(w ? { zeroWeights: zeros / Math.max(1, w.length) } : {}),
        macs: layerMacs(l, shapes),
        reuse: r.reuse,
        multipliers: r.multipliers,
        accWidth: r.accWidth,
        cycles: r.cycles,
        ...r.resources,
      },
    ];
  });
}

export async function spatialView(hwDir: string): Promise<SpatialView> {
  const report = (await readReportJson(hwDir)) as unknown as SpatialReport;
  const model = readModel(await readFile(join(hwDir, 'model.gir.json'), 'utf8'), join(hwDir, 'model.gir.json'));
  const layers = rows(model, report);
  const bar = (l: SpatialLayerRow, kind: string, value: number): BarDatum => ({ index: l.index, layer: l.name, kind, value });
  const stat = join(hwDir, 'synth-stat.txt');
  const yosys = existsSync(stat) ? parseYosysStat(await readFile(stat, 'utf8')) : undefined;
  return {
    name: dirName(hwDir),
    report,
    layers,
    // MACs on zero weights need no multiplier: the stage leaves them out.
    macs: layers.filter((l) => l.macs > 0).flatMap((l) => [bar(l, 'dense', l.macs), bar(l, 'non-zero weights', Math.round(l.macs * (1 - (l.zeroWeights ?? 0))))]),
    dsp: layers.filter((l) => l.dsp > 0 || l.multipliers > 0).flatMap((l) => [bar(l, 'multipliers', l.multipliers), bar(l, 'DSP48E1', l.dsp)]),
    lut: layers.flatMap((l) => [bar(l, 'LUT', l.lut), bar(l, 'FF', l.ff)]),
    cycles: layers.filter((l) => l.cycles > 0).map((l) => bar(l, 'predicted', l.cycles)),
    ...(yosys && yosys.length > 0 ? { yosys } : {}),
  };
}
