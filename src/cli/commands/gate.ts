import { badInput } from '../../errors.js';
import { createProgress, progressCallback } from '../progress.js';
import { writeModel } from '../../ir/serialize.js';
import { validateModel } from '../../ir/validate.js';
import { searchGating, type GateSearch } from '../../passes/gate.js';
import { writeFileAtomic } from '../atomic-write.js';
import { loadLabelledModel } from '../labelled-model.js';
import { formatCount, table } from '../format.js';

export interface GateOptions {
  calib: string;
  base?: string;
  targetSkip?: string;
  maxDrop?: string;
  layers?: string;
  output?: string;
  json?: boolean;
  quiet?: boolean;
}

/** A number option in [lo, hi] (hi exclusive when `open`). */
function parseFraction(flag: string, text: string | undefined, dflt: number, lo: number, hi: number, open: boolean): number {
  if (text === undefined) return dflt;
  const v = Number(text);
  const inRange = v >= lo && (open ? v < hi : v <= hi);
  if (text.trim() === '' || !Number.isFinite(v) || !inRange) {
    throw badInput(flag, `'${text}' is not a number from ${lo} to ${hi}${open ? ' (exclusive)' : ''}`);
  }
  return v;
}

function parseMaxDrop(text: string | undefined): number {
  if (text === undefined) return 1;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw badInput('--max-drop', `'${text}' is not a number of percentage points >= 0`);
  return v;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ratio = (dense: number, executed: number): number => (executed > 0 ? dense / executed : 1);

/** The JSON report of `gatec gate --json` (MACs per sample: sums over the calibration data / samples). */
export function gateReport(s: GateSearch, meta: { model: string; calib: string; base: number; targetSkip: number; maxDrop: number; output?: string }) {
  const n = s.samples;
  return {
    model: meta.model,
    calib: meta.calib,
    samples: n,
    base: meta.base,
    targetSkip: meta.targetSkip,
    maxDrop: meta.maxDrop,
    accuracy: {
      before: s.baseline.correct / n,
      after: s.final.correct / n,
      dropPoints: (100 * (s.baseline.correct - s.final.correct)) / n,
    },
    layers: s.layers.map((l) => ({
      layer: l.layer,
      inputChannels: l.inputChannels,
      baseChannels: l.base.length,
      base: l.base,
      skipTarget: l.skip,
      gatedOffFraction: l.outputs > 0 ? l.gatedOff / l.outputs : 0,
      macsPerSample: { dense: l.macs.dense / n, executed: l.macs.executed / n },
      macReduction: ratio(l.macs.dense, l.macs.executed),
    })),
    notGated: s.notGated,
    total: {
      macsPerSample: { dense: s.final.macs.dense / n, executed: s.final.macs.executed / n },
      macReduction: ratio(s.final.macs.dense, s.final.macs.executed),
    },
    evaluations: s.evaluations,
    output: meta.output ?? null,
  };
}

function printReport(r: ReturnType<typeof gateReport>): void {
  console.log(`channel gating (${r.samples} calibration samples, base ${r.base}, target skip ${r.targetSkip}, top-1 within ${r.maxDrop} point${r.maxDrop === 1 ? '' : 's'})`);
  const rows: (string | number)[][] = r.layers.map((l) => [
    l.layer,
    l.inputChannels,
    l.baseChannels,
    l.skipTarget > 0 ? pct(l.skipTarget) : '-',
    pct(l.gatedOffFraction),
    `${formatCount(l.macsPerSample.dense)} -> ${formatCount(Math.round(l.macsPerSample.executed))}`,
    `${l.macReduction.toFixed(2)}x`,
  ]);
  rows.push([
    'total (model)',
    '',
    '',
    '',
    '',
    `${formatCount(r.total.macsPerSample.dense)} -> ${formatCount(Math.round(r.total.macsPerSample.executed))}`,
    `${r.total.macReduction.toFixed(2)}x`,
  ]);
  console.log(table(['layer', 'Cin', 'base', 'target', 'gated off', 'MACs/sample', 'MAC reduction'], rows));
  for (const x of r.notGated) console.log(`not gated: ${x.layer}: ${x.reason}`);
  console.log(`accuracy: ${pct(r.accuracy.before)} -> ${pct(r.accuracy.after)} (drop ${r.accuracy.dropPoints.toFixed(1)} points, max ${r.maxDrop})`);
}

export async function gateCommand(path: string, opts: GateOptions): Promise<void> {
  const base = parseFraction('--base', opts.base, 0.25, 0, 1, true);
  const targetSkip = parseFraction('--target-skip', opts.targetSkip, 0.5, 0, 1, false);
  const maxDrop = parseMaxDrop(opts.maxDrop);
  const layers = opts.layers?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const progress = createProgress('gating search', opts);
  const onProgress = progressCallback(progress);
  const { model, data, labels } = await loadLabelledModel(path, opts.calib, 'gate', progress);

  let search: GateSearch;
  try {
    search = searchGating(
      model,
      { inputs: data.inputs, labels },
      {
        base,
        targetSkip,
        maxDrop,
        ...(layers ? { layers } : {}),
        onProgress,
      },
      path,
    );
  } finally {
    progress.stop();
  }
  validateModel(search.model, opts.output ?? path);
  if (opts.output) await writeFileAtomic(opts.output, writeModel(search.model));
  const report = gateReport(search, { model: path, calib: opts.calib, base, targetSkip, maxDrop, ...(opts.output ? { output: opts.output } : {}) });
  if (opts.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  printReport(report);
  if (opts.output) {
    const gated = search.layers.filter((l) => l.skip > 0).length;
    console.log(`wrote ${opts.output}: ${gated} gated conv${gated === 1 ? '' : 's'}`);
  }
}
