import { badInput } from '../../errors.js';
import { createProgress, progressCallback } from '../progress.js';
import type { Block } from '../../golden/zero-blocks.js';
import { writeModel } from '../../ir/serialize.js';
import { MAX_ZERO_BLOCK_EPSILON, validateModel } from '../../ir/validate.js';
import { DEFAULT_BLOCKS, DEFAULT_EPSILONS, searchZeroBlocks, type ZeroBlockSearch } from '../../passes/zero-block.js';
import { writeFileAtomic } from '../atomic-write.js';
import { loadLabelledModel } from '../labelled-model.js';
import { formatCount, table } from '../format.js';

export interface SparsityOptions {
  calib: string;
  maxDrop?: string;
  blocks?: string;
  epsilons?: string;
  output?: string;
  json?: boolean;
  quiet?: boolean;
}

/** "8x2x2,8x4x4" -> block shapes (bc x bh x bw, positive integers). */
export function parseBlocks(text: string): Block[] {
  const blocks = text.split(',').map((s) => s.trim());
  return blocks.map((s) => {
    const m = /^(\d+)x(\d+)x(\d+)$/.exec(s);
    const dims = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
    if (!m || dims.some((d) => d < 1)) throw badInput('--blocks', `'${s}' is not a block shape CxHxW of positive integers (e.g. 8x2x2)`);
    return dims as Block;
  });
}

/** "0,1,2,4" -> integer epsilons in [0, 255]. */
export function parseEpsilons(text: string): number[] {
  return text.split(',').map((s) => {
    const v = s.trim();
    if (!/^\d+$/.test(v) || Number(v) > MAX_ZERO_BLOCK_EPSILON) {
      throw badInput('--epsilons', `'${v}' is not an integer from 0 to ${MAX_ZERO_BLOCK_EPSILON}`);
    }
    return Number(v);
  });
}

function parseMaxDrop(text: string | undefined): number {
  if (text === undefined) return 1;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw badInput('--max-drop', `'${text}' is not a number of percentage points >= 0`);
  return v;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const reduction = (dense: number, actual: number): number => (dense > 0 ? 1 - actual / dense : 0);
const blockName = (b: readonly number[]): string => b.join('x');

/** The JSON report of `gatec sparsity --json` (bytes and MACs per sample: sums over the calibration data / samples). */
export function sparsityReport(s: ZeroBlockSearch, meta: { model: string; calib: string; maxDrop: number; output?: string }) {
  const n = s.samples;
  const rows = s.choices.map((c) => ({
    tensor: c.tensor,
    shape: c.shape,
    block: c.config ? c.config.block : null,
    epsilon: c.config ? c.config.epsilon : null,
    zeroBlockFraction: c.totalBlocks > 0 ? c.zeroBlocks / c.totalBlocks : 0,
    bytesPerSample: { dense: c.bytes.dense / n, actual: c.bytes.actual / n },
    reduction: reduction(c.bytes.dense, c.bytes.actual),
    candidates: s.measures
      .find((m) => m.tensor === c.tensor)!
      .candidates.map((k) => ({ block: k.block, zeroBlockFraction: k.zeroFraction, bytesPerSample: k.bytes / n })),
  }));
  const rowsDense = s.choices.reduce((a, c) => a + c.bytes.dense, 0);
  const rowsActual = s.choices.reduce((a, c) => a + c.bytes.actual, 0);
  return {
    model: meta.model,
    calib: meta.calib,
    samples: n,
    maxDrop: meta.maxDrop,
    accuracy: {
      before: s.baseline.correct / n,
      after: s.final.correct / n,
      dropPoints: (100 * (s.baseline.correct - s.final.correct)) / n,
    },
    tensors: rows,
    other: { bytesPerSample: { dense: (s.final.bytes.dense - rowsDense) / n, actual: (s.final.bytes.actual - rowsActual) / n } },
    total: {
      bytesPerSample: { dense: s.final.bytes.dense / n, actual: s.final.bytes.actual / n },
      reduction: reduction(s.final.bytes.dense, s.final.bytes.actual),
      macsPerSample: { dense: s.final.macs.dense / n, executed: s.final.macs.executed / n },
    },
    trials: s.trials,
    evaluations: s.evaluations,
    output: meta.output ?? null,
  };
}

function bytesCell(dense: number, actual: number): string {
  return `${Number.isInteger(dense) ? dense : dense.toFixed(1)} -> ${actual.toFixed(1)}`;
}

function printReport(s: ZeroBlockSearch, r: ReturnType<typeof sparsityReport>): void {
  const blocks: string[] = [];
  for (const m of s.measures) for (const c of m.candidates) if (!blocks.includes(blockName(c.block))) blocks.push(blockName(c.block));
  console.log(`zero-block fraction at epsilon 0, per candidate block (${r.samples} calibration samples)`);
  console.log(
    table(
      ['tensor', 'shape', ...blocks],
      s.measures.map((m) => [
        m.tensor,
        blockName(m.shape),
        ...blocks.map((b) => {
          const c = m.candidates.find((k) => blockName(k.block) === b);
          return c ? pct(c.zeroFraction) : '-';
        }),
      ]),
    ),
  );
  console.log('');
  console.log(`chosen (top-1 within ${r.maxDrop} point${r.maxDrop === 1 ? '' : 's'} of the unannotated model; bytes per sample, bitmaps included)`);
  const rows: (string | number)[][] = r.tensors.map((t) => [
    t.tensor,
    blockName(t.shape),
    t.block ? blockName(t.block) : '-',
    t.epsilon ?? '-',
    t.block ? pct(t.zeroBlockFraction) : '-',
    bytesCell(t.bytesPerSample.dense, t.bytesPerSample.actual),
    pct(t.reduction),
  ]);
  if (r.other.bytesPerSample.dense > 0) {
    rows.push(['model outputs (not annotated)', '', '-', '-', '-', bytesCell(r.other.bytesPerSample.dense, r.other.bytesPerSample.actual), pct(reduction(r.other.bytesPerSample.dense, r.other.bytesPerSample.actual))]);
  }
  rows.push(['total', '', '', '', '', bytesCell(r.total.bytesPerSample.dense, r.total.bytesPerSample.actual), pct(r.total.reduction)]);
  console.log(table(['tensor', 'shape', 'block', 'eps', 'zero blocks', 'activation bytes dense -> actual', 'reduction'], rows));
  console.log(
    `accuracy: ${pct(r.accuracy.before)} -> ${pct(r.accuracy.after)} (drop ${r.accuracy.dropPoints.toFixed(1)} points, max ${r.maxDrop})`,
  );
  console.log(
    `MACs per sample: ${formatCount(r.total.macsPerSample.dense)} dense -> ${formatCount(Math.round(r.total.macsPerSample.executed))} executed ` +
      `(${pct(reduction(r.total.macsPerSample.dense, r.total.macsPerSample.executed))} skipped)`,
  );
}

export async function sparsityCommand(path: string, opts: SparsityOptions): Promise<void> {
  const maxDrop = parseMaxDrop(opts.maxDrop);
  const blocks = opts.blocks !== undefined ? parseBlocks(opts.blocks) : [...DEFAULT_BLOCKS];
  const epsilons = opts.epsilons !== undefined ? parseEpsilons(opts.epsilons) : [...DEFAULT_EPSILONS];
  const progress = createProgress('zero-block search', opts);
  const onProgress = progressCallback(progress);
  const { model, data, labels } = await loadLabelledModel(path, opts.calib, 'sparsity', progress);

  let search: ZeroBlockSearch;
  try {
    search = searchZeroBlocks(model, { inputs: data.inputs, labels }, {
      maxDrop,
      blocks,
      epsilons,
      onProgress,
    });
  } finally {
    progress.stop();
  }
  validateModel(search.model, opts.output ?? path);
  if (opts.output) await writeFileAtomic(opts.output, writeModel(search.model));
  const report = sparsityReport(search, { model: path, calib: opts.calib, maxDrop, ...(opts.output ? { output: opts.output } : {}) });
  if (opts.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  printReport(search, report);
  if (opts.output) {
    const annotated = search.choices.filter((c) => c.config).length;
    console.log(`wrote ${opts.output}: ${annotated} tensor${annotated === 1 ? '' : 's'} annotated`);
  }
}
