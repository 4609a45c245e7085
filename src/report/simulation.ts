import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../cli/atomic-write.js';
import { badInput } from '../errors.js';
import type { EngineSimResult } from '../sim/engine-sim.js';
import type { GoldenFigures } from './golden-figures.js';

/**
 * report.json's `simulation` section: what the last `gatec sim` (Verilator) or `gatec csim` (HLS C
 * simulation) measured per layer, averaged over the samples, next to the prediction and the dense
 * figures, plus the golden model's view of the same samples. `gatec sim`/`csim` replace it on
 * every run, so the report always shows the latest measurement.
 */
export interface SimulationLayer {
  index: number;
  name: string;
  op: string;
  /** measured; null for C simulation (no cycles) */
  cycles: number | null;
  predictedCycles: number;
  denseCycles: number;
  dramRead: number;
  dramWrite: number;
  predictedDramRead: number;
  predictedDramWrite: number;
  denseDramRead: number;
  denseDramWrite: number;
  /** gated-on outputs counted by the hardware (gated convs only) */
  gatedOn?: number;
  /** gated-on outputs of the golden gates (gate-runs.ts; equal to gatedOn on a bit-exact run) */
  predictedGatedOn?: number;
}

export interface SimulationSection {
  backend: 'sim' | 'csim';
  /** the --inputs file as given */
  inputs: string;
  samples: number;
  /** samples whose every layer matched the golden model bit for bit */
  bitExact: number;
  /** hardware top-1 accuracy, with labels */
  accuracy?: number;
  dram?: { bytesPerCycle: number; latency: number };
  /** per inference, mean over the samples; null cycles for C simulation */
  totals: { cycles: number | null; predictedCycles: number; dramRead: number; dramWrite: number; denseDramRead: number; denseDramWrite: number };
  layers: SimulationLayer[];
  golden: GoldenFigures;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
/** Means keep 3 decimals: enough for the plots, and the JSON stays short and stable. */
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
/** Fractions keep 4 decimals. */
const r4 = (x: number): number => Math.round(x * 10000) / 10000;

export function simulationSection(
  result: EngineSimResult,
  backend: 'sim' | 'csim',
  inputs: string,
  labels: readonly number[] | undefined,
  golden: GoldenFigures,
): SimulationSection {
  const s = result.samples;
  const cycles = backend === 'sim';
  const layers = result.model.layers.map((l, i): SimulationLayer => {
    const m = s.map((x) => x.layers[i]!);
    const gated = l.op === 'conv' && l.gating !== undefined;
    return {
      index: i,
      name: l.name,
      op: l.op,
      cycles: cycles ? r3(mean(m.map((x) => x.cycles))) : null,
      predictedCycles: r3(mean(m.map((x) => x.predicted.cycles))),
      denseCycles: m[0]?.dense.cycles ?? 0,
      dramRead: r3(mean(m.map((x) => x.dramRead))),
      dramWrite: r3(mean(m.map((x) => x.dramWrite))),
      predictedDramRead: r3(mean(m.map((x) => x.predicted.dramRead))),
      predictedDramWrite: r3(mean(m.map((x) => x.predicted.dramWrite))),
      denseDramRead: m[0]?.dense.dramRead ?? 0,
      denseDramWrite: m[0]?.dense.dramWrite ?? 0,
      ...(gated ? { gatedOn: r3(mean(m.map((x) => x.gatedOn))), predictedGatedOn: r3(mean(m.map((x) => x.predicted.gatedOn))) } : {}),
    };
  });
  const sum = (f: (l: SimulationLayer) => number): number => r3(layers.reduce((a, l) => a + f(l), 0));
  return {
    backend,
    inputs,
    samples: s.length,
    bitExact: s.filter((x) => x.match).length,
    ...(labels ? { accuracy: s.filter((x, i) => x.top1 === labels[i]).length / Math.max(1, s.length) } : {}),
    ...(cycles ? { dram: result.dram } : {}),
    totals: {
      cycles: cycles ? r3(mean(s.map((x) => x.cycles))) : null,
      predictedCycles: sum((l) => l.predictedCycles),
      dramRead: sum((l) => l.dramRead),
      dramWrite: sum((l) => l.dramWrite),
      denseDramRead: sum((l) => l.denseDramRead),
      denseDramWrite: sum((l) => l.denseDramWrite),
    },
    layers,
    golden: roundGolden(golden),
  };
}

function roundGolden(g: GoldenFigures): GoldenFigures {
  return {
    ...g,
    macs: g.macs.map((m) => ({ ...m, executed: r3(m.executed) })),
    gating: g.gating.map((q) => ({ ...q, gatedOff: r4(q.gatedOff), channels: q.channels.map(r4) })),
  };
}

/** report.json of an hw-out directory, as an object (its schema belongs to the architecture's build). */
export async function readReportJson(hwDir: string): Promise<Record<string, unknown>> {
  const file = join(hwDir, 'report.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw badInput(hwDir, 'no report.json: not an output directory of gatec build');
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw badInput(file, `not valid JSON (${(e as Error).message})`);
  }
}

/** Replaces report.json's `simulation` section, through a temporary file and a rename. */
export async function writeSimulationSection(hwDir: string, section: SimulationSection): Promise<void> {
  const report = await readReportJson(hwDir);
  report['simulation'] = section;
  await writeFileAtomic(join(hwDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
}
