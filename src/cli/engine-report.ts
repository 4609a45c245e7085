import { GatecError } from '../errors.js';
import type { EngineSampleResult, EngineSimResult } from '../sim/engine-sim.js';
import { formatCount, table } from './format.js';

/**
 * The report of an engine simulation, shared by `gatec sim` (Verilator) and `gatec csim` (the HLS
 * kernel in C simulation): per-sample and per-layer tables or one JSON object, then exit 1 when a
 * sample differs from the golden model. C simulation has no cycles: its tables leave the cycle
 * columns out and its JSON reports measured cycles as 0 (the predicted ones stay).
 */
export interface EngineReportOptions {
  json?: boolean;
  /** false for C simulation: no measured cycles */
  cycles: boolean;
  /** 'sim' or 'csim', in --json */
  backend: string;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const delta = (measured: number, predicted: number | undefined): string =>
  predicted === undefined ? '-' : predicted === 0 ? (measured === 0 ? '0.0%' : 'n/a') : `${measured >= predicted ? '+' : ''}${((100 * (measured - predicted)) / predicted).toFixed(1)}%`;

export function reportEngineRun(hwDir: string, result: EngineSimResult, labels: number[] | undefined, opts: EngineReportOptions): void {
  const { peOc, peIc } = result.map.config;
  const showCycles = opts.cycles;
  const util = (macs: number, cycles: number): number => (cycles > 0 ? macs / (peOc * peIc * cycles) : 0);
  const samples = result.samples;
  const allMatch = samples.every((s) => s.match);
  const firstFailure = samples.find((s) => !s.match);

  const zeroBlocks = result.map.tensors.some((t) => t.zeroBlock);
  // Per inference, averaged over the samples. predicted: the cycle model and the exact DRAM bytes
  // for each sample's data (zero blocks skipped as the golden bitmaps say); dense: every block moved.
  const layers = result.model.layers.map((l, i) => {
    const m = samples.map((s) => s.layers[i]!);
    const cycles = mean(m.map((x) => x.cycles));
    const dramRead = mean(m.map((x) => x.dramRead));
    const dramWrite = mean(m.map((x) => x.dramWrite));
    const dense = m[0]?.dense ?? { cycles: 0, dramRead: 0, dramWrite: 0 };
    const macsSkipped = mean(m.map((x) => x.macsSkipped));
    return {
      index: i,
      name: l.name,
      op: l.op,
      cycles,
      dramRead,
      dramWrite,
      macs: m[0]?.macs ?? 0,
      utilization: util((m[0]?.macs ?? 0) - macsSkipped, cycles),
      predicted: {
        cycles: mean(m.map((x) => x.predicted.cycles)),
        dramRead: mean(m.map((x) => x.predicted.dramRead)),
        dramWrite: mean(m.map((x) => x.predicted.dramWrite)),
      },
      dense,
      bandwidthReduction: reduction(dense.dramRead + dense.dramWrite, dramRead + dramWrite),
      macsSkipped,
      zeroTaps: mean(m.map((x) => x.zeroTaps)),
      ...(m.some((x) => x.gating) ? { gating: gatingJson(m) } : {}),
    };
  });

  if (opts.json) {
    const correct = labels ? samples.filter((s, i) => s.top1 === labels[i]).length : undefined;
    const out = {
      hw: hwDir,
      backend: opts.backend,
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
      predictedCycles: mean(samples.map((s) => s.layers.reduce((a, l) => a + l.predicted.cycles, 0))),
      // Every block moved: the cycles and bytes without zero-block skipping.
      dense: {
        cycles: samples[0]?.layers.reduce((a, l) => a + l.dense.cycles, 0) ?? 0,
        dramBytes: samples[0]?.dramBytesDense ?? { read: 0, write: 0 },
      },
      bandwidthReduction: reduction(
        (samples[0]?.dramBytesDense.read ?? 0) + (samples[0]?.dramBytesDense.write ?? 0),
        mean(samples.map((s) => s.dramBytes.read + s.dramBytes.write)),
      ),
      zeroBlocks,
      layers,
      samples: samples.map((s, i) => sampleJson(s, i, labels?.[i], util)),
      ...(firstFailure?.failure ? { failure: firstFailure.failure } : {}),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
  } else {
    printHuman(result, layers, labels, util, zeroBlocks, showCycles);
  }
  if (!allMatch) {
    const bad = samples.filter((s) => !s.match).length;
    throw new GatecError(`${hwDir}: ${bad} of ${samples.length} samples differ from the golden model; first: ${firstFailure!.failure ?? 'unknown'}`);
  }
}

const reduction = (dense: number, actual: number): number => (dense > 0 ? 1 - actual / dense : 0);

/**
 * A gated conv, per inference (mean over the samples): gated-on outputs measured (harness counter)
 * and predicted (golden gates), the golden gated-off fraction and MACs, the theoretical reduction
 * (dense / executed MACs), and the cycles measured against the dense figure (every gate on).
 */
function gatingJson(m: readonly EngineSampleResult['layers'][number][]) {
  const macsDense = mean(m.map((x) => x.gating?.macsDense ?? 0));
  const macsExecuted = mean(m.map((x) => x.gating?.macsExecuted ?? 0));
  const outputs = mean(m.map((x) => x.gating?.outputs ?? 0));
  const cycles = mean(m.map((x) => x.cycles));
  const denseCycles = m[0]?.dense.cycles ?? 0;
  return {
    gatedOn: mean(m.map((x) => x.gatedOn)),
    predictedGatedOn: mean(m.map((x) => x.predicted.gatedOn)),
    gatedOffFraction: outputs > 0 ? mean(m.map((x) => x.gating?.gatedOff ?? 0)) / outputs : 0,
    macs: { dense: macsDense, executed: macsExecuted },
    macReduction: macsExecuted > 0 ? macsDense / macsExecuted : 1,
    cycles,
    denseCycles,
    speedup: cycles > 0 ? denseCycles / cycles : 0,
  };
}

/** One sample: totals, and per layer what it measured against its own prediction (the data decides what zero blocks skip). */
function sampleJson(s: EngineSampleResult, i: number, label: number | undefined, util: (m: number, c: number) => number) {
  return {
    sample: i,
    top1: s.top1,
    ...(label !== undefined ? { label } : {}),
    match: s.match,
    ...(s.timeout ? { timeout: true } : {}),
    ...(s.mismatch ? { mismatch: s.mismatch } : {}),
    ...(s.byteMismatch ? { byteMismatch: s.byteMismatch } : {}),
    cycles: s.cycles,
    dramBytes: s.dramBytes,
    dramBytesDense: s.dramBytesDense,
    bandwidthReduction: reduction(s.dramBytesDense.read + s.dramBytesDense.write, s.dramBytes.read + s.dramBytes.write),
    fetchBytes: s.fetchBytes,
    macs: { ...s.macs, skipped: s.macs.dense - s.macs.executed },
    utilization: util(s.macs.executed, s.cycles),
    layers: s.layers.map((l) => ({
      index: l.index,
      name: l.name,
      cycles: l.cycles,
      dramRead: l.dramRead,
      dramWrite: l.dramWrite,
      predicted: l.predicted,
      dense: l.dense,
      bandwidthReduction: l.bandwidthReduction,
      macsSkipped: l.macsSkipped,
      zeroTaps: l.zeroTaps,
      ...(l.gating ? { gatedOn: l.gatedOn, gating: l.gating } : {}),
    })),
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
  predicted: { cycles: number; dramRead: number; dramWrite: number };
  dense: { cycles: number; dramRead: number; dramWrite: number };
  bandwidthReduction: number;
  macsSkipped: number;
  /** conv taps skipped in zero blocks (measured; equal to the replay of the sample's bitmaps) */
  zeroTaps: number;
  gating?: ReturnType<typeof gatingJson>;
}

/** Gated convs, per inference: how many outputs the gates kept, the MACs saved, and the cycles they bought. */
function printGating(layers: readonly LayerRow[], showCycles: boolean): void {
  const gated = layers.filter((l) => l.gating);
  if (gated.length === 0) return;
  console.log('\ngated convs (mean per inference):');
  console.log(
    table(
      ['layer', 'gated off', 'gated on', 'predicted', 'MACs dense -> executed', 'MAC reduction', ...(showCycles ? ['cycles', 'all gates on', 'speedup', 'speedup / reduction'] : [])],
      gated.map((l) => {
        const g = l.gating!;
        return [
          l.name,
          pct(g.gatedOffFraction),
          formatCount(g.gatedOn),
          formatCount(g.predictedGatedOn),
          `${formatCount(g.macs.dense)} -> ${formatCount(g.macs.executed)}`,
          `${g.macReduction.toFixed(2)}x`,
          ...(showCycles ? [Math.round(g.cycles), g.denseCycles, `${g.speedup.toFixed(2)}x`, (g.speedup / g.macReduction).toFixed(2)] : []),
        ];
      }),
    ),
  );
}

function printHuman(
  r: EngineSimResult,
  layers: LayerRow[],
  labels: number[] | undefined,
  util: (m: number, c: number) => number,
  zeroBlocks: boolean,
  showCycles: boolean,
): void {
  const samples = r.samples;
  console.log(
    table(
      ['sample', 'top1', ...(labels ? ['label'] : []), 'match', ...(showCycles ? ['cycles'] : []), 'DRAM read', 'DRAM write', ...(zeroBlocks ? ['vs dense'] : []), 'MACs', ...(showCycles ? ['PE util'] : [])],
      samples.map((s, i) => [
        i,
        s.top1,
        ...(labels ? [labels[i]!] : []),
        s.timeout ? 'TIMEOUT' : s.match ? 'yes' : 'NO',
        ...(showCycles ? [s.cycles] : []),
        formatCount(s.dramBytes.read),
        formatCount(s.dramBytes.write),
        ...(zeroBlocks ? [`-${pct(reduction(s.dramBytesDense.read + s.dramBytesDense.write, s.dramBytes.read + s.dramBytes.write))}`] : []),
        formatCount(s.macs.executed),
        ...(showCycles ? [pct(util(s.macs.executed, s.cycles))] : []),
      ]),
    ),
  );
  const first = samples[0];
  if (first) {
    // Layers without instructions (views) take no cycles and move no bytes: leave them out.
    const shown = layers.map((l, i) => ({ l, m: first.layers[i]! })).filter(({ m }) => m.cycles > 0 || m.dramRead + m.dramWrite > 0 || m.predicted.cycles > 0);
    const where = showCycles ? `DRAM ${r.dram.bytesPerCycle} B/cycle, latency ${r.dram.latency}` : 'C simulation';
    console.log(`\nlayers of sample 0 (${r.map.config.peOc}x${r.map.config.peIc} PEs, ${where}):`);
    console.log(
      table(
        [
          'layer',
          'op',
          ...(showCycles ? ['cycles', 'predicted', 'diff', ...(zeroBlocks ? ['dense'] : [])] : []),
          'DRAM read',
          'predicted',
          'DRAM write',
          'predicted',
          ...(zeroBlocks ? ['dense bytes', 'saved', 'MACs skipped'] : []),
          ...(showCycles ? ['PE util'] : []),
        ],
        shown.map(({ l, m }) => [
          l.name,
          l.op,
          ...(showCycles ? [m.cycles, m.predicted.cycles, delta(m.cycles, m.predicted.cycles), ...(zeroBlocks ? [m.dense.cycles] : [])] : []),
          m.dramRead,
          m.predicted.dramRead,
          m.dramWrite,
          m.predicted.dramWrite,
          ...(zeroBlocks ? [m.dense.dramRead + m.dense.dramWrite, pct(m.bandwidthReduction), formatCount(m.macsSkipped)] : []),
          ...(showCycles ? [l.macs > 0 ? pct(util(m.macs - m.macsSkipped, m.cycles)) : '-'] : []),
        ]),
      ),
    );
    printGating(layers, showCycles);
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
