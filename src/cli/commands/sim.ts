import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { badInput, GatecError } from '../../errors.js';
import { checkInputShape, readInputData } from '../../frontend/data.js';
import { readJsonFile } from '../../frontend/read-input-file.js';
import { openEngineDir, simulateEngine, type EngineSampleResult, type EngineSimResult } from '../../sim/engine-sim.js';
import { formatCount, table } from '../format.js';

export interface SimOptions {
  inputs: string;
  json?: boolean;
  dramBw?: string;
  dramLatency?: string;
}

/** The per-layer predictions of report.json that sim compares against. */
const reportJson = z
  .object({
    layers: z.array(
      z
        .object({ tag: z.number().int(), cycles: z.number(), dramRead: z.number(), dramWrite: z.number() })
        .passthrough(),
    ),
    totals: z.object({ cycles: z.number() }).passthrough().optional(),
  })
  .passthrough();

type Predicted = Map<number, { cycles: number; dramRead: number; dramWrite: number }>;

/** Predictions by layer tag; none when the build wrote no report (the comparison columns stay empty). */
async function readPredictions(hwDir: string): Promise<{ layers: Predicted; cycles?: number } | undefined> {
  const file = join(hwDir, 'report.json');
  if (!existsSync(file)) return undefined;
  const raw = await readJsonFile(file);
  const r = reportJson.safeParse(raw);
  if (!r.success) return undefined;
  return {
    layers: new Map(r.data.layers.map((l) => [l.tag, { cycles: l.cycles, dramRead: l.dramRead, dramWrite: l.dramWrite }])),
    ...(r.data.totals ? { cycles: r.data.totals.cycles } : {}),
  };
}

function parseNumberFlag(flag: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v)) || (!integer && v === 0)) {
    throw badInput(flag, `expected a ${integer ? 'non-negative integer' : 'positive number'}, got '${text}'`);
  }
  return v;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const delta = (measured: number, predicted: number | undefined): string =>
  predicted === undefined ? '-' : predicted === 0 ? (measured === 0 ? '0.0%' : 'n/a') : `${measured >= predicted ? '+' : ''}${((100 * (measured - predicted)) / predicted).toFixed(1)}%`;

export async function simCommand(hwDir: string, opts: SimOptions): Promise<void> {
  const bw = parseNumberFlag('--dram-bw', opts.dramBw, false);
  const latency = parseNumberFlag('--dram-latency', opts.dramLatency, true);
  const data = await readInputData(opts.inputs);
  const engine = await openEngineDir(hwDir);
  checkInputShape(data, engine.model.tensors.find((t) => t.name === engine.model.inputs[0])!.shape, hwDir);
  const result = await simulateEngine(engine, data.inputs, {
    ...(bw !== undefined ? { dramBytesPerCycle: bw } : {}),
    ...(latency !== undefined ? { dramLatency: latency } : {}),
  });
  const predicted = await readPredictions(hwDir);
  const { peOc, peIc } = result.map.config;
  const util = (macs: number, cycles: number): number => (cycles > 0 ? macs / (peOc * peIc * cycles) : 0);
  const samples = result.samples;
  const labels = data.labels;
  const allMatch = samples.every((s) => s.match);
  const firstFailure = samples.find((s) => !s.match);

  const layers = result.model.layers.map((l, i) => {
    const m = samples.map((s) => s.layers[i]!);
    const p = predicted?.layers.get(i);
    const cycles = mean(m.map((x) => x.cycles));
    return {
      index: i,
      name: l.name,
      op: l.op,
      cycles,
      dramRead: mean(m.map((x) => x.dramRead)),
      dramWrite: mean(m.map((x) => x.dramWrite)),
      macs: m[0]?.macs ?? 0,
      utilization: util(m[0]?.macs ?? 0, cycles),
      ...(p ? { predicted: p } : {}),
    };
  });

  if (opts.json) {
    const correct = labels ? samples.filter((s, i) => s.top1 === labels[i]).length : undefined;
    const out = {
      hw: hwDir,
      outputs: samples.map((s) => s.outputs.map((o) => Array.from(o))[0]!),
      outputsInt: samples.map((s) => s.outputsInt.map((o) => Array.from(o))[0]!),
      top1: samples.map((s) => s.top1),
      ...(labels ? { labels, accuracy: correct! / labels.length } : {}),
      match: allMatch,
      // Per inference, averaged over the samples (equal to each sample's while the work does not depend on the data).
      cycles: mean(samples.map((s) => s.cycles)),
      dramBytes: { read: mean(samples.map((s) => s.dramBytes.read)), write: mean(samples.map((s) => s.dramBytes.write)) },
      fetchBytes: mean(samples.map((s) => s.fetchBytes)),
      macs: { dense: mean(samples.map((s) => s.macs.dense)), executed: mean(samples.map((s) => s.macs.executed)) },
      utilization: util(mean(samples.map((s) => s.macs.executed)), mean(samples.map((s) => s.cycles))),
      dram: result.dram,
      ...(predicted?.cycles !== undefined ? { predictedCycles: predicted.cycles } : {}),
      layers,
      samples: samples.map((s, i) => sampleJson(s, i, labels?.[i], util)),
      ...(firstFailure?.failure ? { failure: firstFailure.failure } : {}),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    printHuman(result, layers, labels, util, predicted !== undefined);
  }
  if (!allMatch) {
    const bad = samples.filter((s) => !s.match).length;
    throw new GatecError(`${hwDir}: ${bad} of ${samples.length} samples differ from the golden model; first: ${firstFailure!.failure ?? 'unknown'}`);
  }
}

function sampleJson(s: EngineSampleResult, i: number, label: number | undefined, util: (m: number, c: number) => number) {
  return {
    sample: i,
    top1: s.top1,
    ...(label !== undefined ? { label } : {}),
    match: s.match,
    ...(s.timeout ? { timeout: true } : {}),
    ...(s.mismatch ? { mismatch: s.mismatch } : {}),
    cycles: s.cycles,
    dramBytes: s.dramBytes,
    fetchBytes: s.fetchBytes,
    macs: s.macs,
    utilization: util(s.macs.executed, s.cycles),
  };
}

interface LayerRow {
  name: string;
  op: string;
  cycles: number;
  dramRead: number;
  dramWrite: number;
  macs: number;
  utilization: number;
  predicted?: { cycles: number; dramRead: number; dramWrite: number };
}

function printHuman(
  r: EngineSimResult,
  layers: LayerRow[],
  labels: number[] | undefined,
  util: (m: number, c: number) => number,
  havePredictions: boolean,
): void {
  const samples = r.samples;
  console.log(
    table(
      ['sample', 'top1', ...(labels ? ['label'] : []), 'match', 'cycles', 'DRAM read', 'DRAM write', 'MACs', 'PE util'],
      samples.map((s, i) => [
        i,
        s.top1,
        ...(labels ? [labels[i]!] : []),
        s.timeout ? 'TIMEOUT' : s.match ? 'yes' : 'NO',
        s.cycles,
        formatCount(s.dramBytes.read),
        formatCount(s.dramBytes.write),
        formatCount(s.macs.executed),
        pct(util(s.macs.executed, s.cycles)),
      ]),
    ),
  );
  const first = samples[0];
  if (first) {
    // Layers without instructions (views) take no cycles and move no bytes: leave them out.
    const shown = layers.map((l, i) => ({ l, m: first.layers[i]! })).filter(({ l, m }) => m.cycles > 0 || m.dramRead + m.dramWrite > 0 || (l.predicted?.cycles ?? 0) > 0);
    console.log(`\nlayers of sample 0 (${r.map.config.peOc}x${r.map.config.peIc} PEs, DRAM ${r.dram.bytesPerCycle} B/cycle, latency ${r.dram.latency}):`);
    console.log(
      table(
        ['layer', 'op', 'cycles', ...(havePredictions ? ['predicted', 'diff'] : []), 'DRAM read', ...(havePredictions ? ['predicted'] : []), 'DRAM write', ...(havePredictions ? ['predicted'] : []), 'PE util'],
        shown.map(({ l, m }) => [
          l.name,
          l.op,
          m.cycles,
          ...(havePredictions ? [l.predicted?.cycles ?? '-', delta(m.cycles, l.predicted?.cycles)] : []),
          m.dramRead,
          ...(havePredictions ? [l.predicted?.dramRead ?? '-'] : []),
          m.dramWrite,
          ...(havePredictions ? [l.predicted?.dramWrite ?? '-'] : []),
          l.macs > 0 ? pct(util(m.macs, m.cycles)) : '-',
        ]),
      ),
    );
    console.log(`instruction fetch: ${first.fetchBytes} bytes read`);
    if (first.unchecked.length > 0) console.log(`not checked (DRAM region reused later): ${first.unchecked.join(', ')}`);
  }
  const ok = samples.filter((s) => s.match).length;
  console.log(`bit-exact vs golden: ${ok}/${samples.length}`);
  if (labels) {
    const correct = samples.filter((s, i) => s.top1 === labels[i]).length;
    console.log(`accuracy: ${correct}/${labels.length} (${((100 * correct) / labels.length).toFixed(1)}%)`);
  }
}
