import { modelMacs } from '../golden/macs.js';
import { argmax, runGolden } from '../golden/run.js';
import { bitmapBytes, blockDims, scanZeroBlocks, storageTensors, type Block } from '../golden/zero-blocks.js';
import { product } from '../ir/shapes.js';
import type { Model, ZeroBlockConfig } from '../ir/types.js';
import { MAX_ZERO_BLOCK_EPSILON } from '../ir/validate.js';

/**
 * Zero-block pass: chooses, per activation tensor, a block shape and an epsilon that save the
 * most activation DRAM traffic while top-1 accuracy on calibration data stays within a budget.
 * Pure functions over the IR and the golden model; `gatec sparsity` is the command around them.
 *
 * Traffic is the golden model's byte rule (golden/zero-blocks.ts): every layer reads each
 * input tensor once and writes its output once; a tensor with zeroBlock moves the real elements
 * of its non-zero blocks plus a bitmap of ceil(blocks / 8) bytes per read or write.
 */

export const DEFAULT_BLOCKS: readonly Block[] = [
  [1, 1, 1],
  [8, 1, 1],
  [8, 2, 2],
  [8, 4, 4],
  [16, 2, 2],
];
export const DEFAULT_EPSILONS: readonly number[] = [0, 1, 2, 4, 8];

/** Calibration samples with one label (class index) each. */
export interface LabelledData {
  inputs: readonly ArrayLike<number>[];
  labels: readonly number[];
}

/**
 * Tensors the search may annotate: the model input and every layer output except the model
 * outputs (their values are the result) and views (they share their producer's bytes), limited
 * to tensors that some layer moves.
 */
export function sparsityTargets(m: Model): string[] {
  const outputs = new Set(m.outputs);
  const accesses = tensorAccesses(m);
  const names = [m.inputs[0]!, ...m.layers.filter((l) => l.op !== 'reshape').map((l) => l.output)];
  return names.filter((n) => !outputs.has(n) && (accesses.get(n) ?? 0) > 0 && blockDims(shapeOf(m, n)) !== undefined);
}

function shapeOf(m: Model, name: string): number[] {
  return m.tensors.find((t) => t.name === name)!.shape;
}

/**
 * How often the layers move each (storage) tensor: one write by its producing layer (none for
 * the model input, which the host writes) plus one read per layer input naming it or a view of
 * it. Views themselves move nothing. Matches the golden model's per-layer byte counters.
 */
export function tensorAccesses(m: Model): Map<string, number> {
  const storage = storageTensors(m);
  const n = new Map<string, number>();
  const bump = (t: string): void => {
    const s = storage.get(t) ?? t;
    n.set(s, (n.get(s) ?? 0) + 1);
  };
  for (const l of m.layers) {
    if (l.op === 'reshape') continue;
    l.inputs.forEach(bump);
    bump(l.output);
  }
  return n;
}

/** Whether a block shape fits a tensor (no block dimension beyond the tensor's). */
export function blockFits(block: Block, shape: readonly number[]): boolean {
  const dims = blockDims(shape);
  return dims !== undefined && block.every((d, i) => d >= 1 && d <= dims[i]!);
}

/** A copy of the model whose zeroBlock annotations are exactly `configs` (others removed). */
export function withZeroBlocks(m: Model, configs: ReadonlyMap<string, ZeroBlockConfig>): Model {
  return {
    ...m,
    tensors: m.tensors.map((t) => {
      const { zeroBlock: _old, ...rest } = t;
      const cfg = configs.get(t.name);
      return cfg ? { ...rest, zeroBlock: { block: [...cfg.block] as Block, epsilon: cfg.epsilon } } : rest;
    }),
  };
}

export interface TensorCounts {
  zeroBlocks: number;
  totalBlocks: number;
  /** Sum over samples of the bytes one access moves (data of non-zero blocks + bitmap). */
  bytesPerAccess: number;
}

/** Golden-model results of one configuration on the calibration data, summed over samples. */
export interface Evaluation {
  samples: number;
  correct: number;
  /** Activation bytes the layers read and write (read + write), dense and with skipping. */
  bytes: { dense: number; actual: number };
  macs: { dense: number; executed: number };
  /** Per tensor with zeroBlock. */
  tensors: Map<string, TensorCounts>;
}

function emptyEvaluation(samples: number): Evaluation {
  return { samples, correct: 0, bytes: { dense: 0, actual: 0 }, macs: { dense: 0, executed: 0 }, tensors: new Map() };
}

/** Layer reads + writes of every tensor without skipping, per sample. */
function denseTraffic(m: Model): number {
  const accesses = tensorAccesses(m);
  return m.tensors.reduce((a, t) => a + (accesses.get(t.name) ?? 0) * product(t.shape), 0);
}

function denseMacs(m: Model): number {
  return modelMacs(m).reduce((a, l) => a + l.macs, 0);
}

/** Runs the golden model on every sample and sums accuracy and the zero-block counters. */
export function evaluate(m: Model, data: LabelledData, onSample?: (i: number) => void): Evaluation {
  const ev = emptyEvaluation(data.inputs.length);
  const dense = denseTraffic(m);
  const macs = denseMacs(m);
  data.inputs.forEach((x, i) => {
    const r = runGolden(m, x);
    if (argmax(r.outputsInt[0]!) === data.labels[i]) ev.correct++;
    const s = r.sparsity;
    if (s) {
      ev.bytes.dense += s.total.activationBytes.dense.read + s.total.activationBytes.dense.write;
      ev.bytes.actual += s.total.activationBytes.actual.read + s.total.activationBytes.actual.write;
      ev.macs.dense += s.total.macs.dense;
      ev.macs.executed += s.total.macs.executed;
      for (const [name, tb] of s.tensors) {
        const c = ev.tensors.get(name) ?? { zeroBlocks: 0, totalBlocks: 0, bytesPerAccess: 0 };
        c.zeroBlocks += tb.zeroBlocks;
        c.totalBlocks += tb.totalBlocks;
        c.bytesPerAccess += tb.bytes;
        ev.tensors.set(name, c);
      }
    } else {
      ev.bytes.dense += dense;
      ev.bytes.actual += dense;
      ev.macs.dense += macs;
      ev.macs.executed += macs;
    }
    onSample?.(i);
  });
  return ev;
}

export interface CandidateMeasure {
  block: Block;
  /** Summed over samples, at epsilon 0. */
  zeroBlocks: number;
  totalBlocks: number;
  zeroFraction: number;
  /** Activation bytes of this tensor over all samples and accesses with this block at epsilon 0. */
  bytes: number;
}

export interface TensorMeasure {
  tensor: string;
  shape: number[];
  /** Reads and writes by layers per sample (tensorAccesses). */
  accesses: number;
  /** Activation bytes of this tensor over all samples and accesses without skipping. */
  denseBytes: number;
  /** The candidate blocks that fit the tensor, in the order given. */
  candidates: CandidateMeasure[];
}

/**
 * Zero-block fractions and traffic of every target tensor for every candidate block at epsilon
 * 0, from runs of the unannotated model. Exact for the annotated model too: at epsilon 0 a zero
 * block already holds the zero point, so annotations change no value.
 */
export function measureCandidates(m: Model, data: LabelledData, blocks: readonly Block[], onSample?: (i: number) => void): { baseline: Evaluation; tensors: TensorMeasure[] } {
  const plain = withZeroBlocks(m, new Map());
  const accesses = tensorAccesses(plain);
  const measures: TensorMeasure[] = sparsityTargets(plain).map((name) => {
    const shape = shapeOf(plain, name);
    return {
      tensor: name,
      shape,
      accesses: accesses.get(name)!,
      denseBytes: 0,
      candidates: blocks.filter((b) => blockFits(b, shape)).map((b) => ({ block: [...b] as Block, zeroBlocks: 0, totalBlocks: 0, zeroFraction: 0, bytes: 0 })),
    };
  });
  const baseline = emptyEvaluation(data.inputs.length);
  const perSampleDense = denseTraffic(plain);
  const macs = denseMacs(plain);
  data.inputs.forEach((x, i) => {
    const r = runGolden(plain, x);
    if (argmax(r.outputsInt[0]!) === data.labels[i]) baseline.correct++;
    baseline.bytes.dense += perSampleDense;
    baseline.bytes.actual += perSampleDense;
    baseline.macs.dense += macs;
    baseline.macs.executed += macs;
    for (const t of measures) {
      const act = r.tensors.get(t.tensor)!;
      const dims = blockDims(act.shape)!;
      t.denseBytes += t.accesses * act.data.length;
      for (const c of t.candidates) {
        const s = scanZeroBlocks(act.data, dims, act.quant.zeroPoint, { block: c.block, epsilon: 0 }, false);
        c.zeroBlocks += s.zeroBlocks;
        c.totalBlocks += s.totalBlocks;
        c.bytes += t.accesses * (s.nonZeroElements + bitmapBytes(s.totalBlocks));
      }
    }
    onSample?.(i);
  });
  for (const t of measures) for (const c of t.candidates) c.zeroFraction = c.totalBlocks > 0 ? c.zeroBlocks / c.totalBlocks : 0;
  return { baseline, tensors: measures };
}

export interface SearchOptions {
  /** Largest allowed top-1 accuracy drop in percentage points versus the unannotated model. */
  maxDrop: number;
  blocks: readonly Block[];
  /** Candidate epsilons (0 is always the starting point). */
  epsilons: readonly number[];
  /** Called once per calibration sample run: done and (current estimate of) total sample runs. */
  onProgress?: (done: number, total: number, phase: string) => void;
}

/** One epsilon tried on one tensor. */
export interface EpsilonTrial {
  tensor: string;
  epsilon: number;
  /** Alone on top of the epsilon-0 configuration: bytes saved over all samples, correct samples lost. */
  saving: number;
  cost: number;
  /** Whether it entered the final configuration (re-checked jointly). */
  accepted: boolean;
}

export interface TensorChoice {
  tensor: string;
  shape: number[];
  /** undefined: left unannotated (no block shape saves traffic). */
  config?: ZeroBlockConfig;
  /** In the final configuration, summed over samples. */
  zeroBlocks: number;
  totalBlocks: number;
  bytes: { dense: number; actual: number };
}

export interface ZeroBlockSearch {
  /** The input model with the chosen annotations (and no others). */
  model: Model;
  samples: number;
  baseline: Evaluation;
  final: Evaluation;
  measures: TensorMeasure[];
  choices: TensorChoice[];
  trials: EpsilonTrial[];
  /** Passes over the calibration data. */
  evaluations: number;
}

/** Whether `correct` is within `maxDrop` percentage points of `base` on `n` samples. */
export function withinDrop(correct: number, base: number, n: number, maxDrop: number): boolean {
  return ((base - correct) * 100) / n <= maxDrop + 1e-9;
}

/**
 * The search, greedy and deterministic:
 * 1. Measure every target tensor with every candidate block at epsilon 0 (one pass of the
 *    unannotated model, which also gives the baseline accuracy). Each tensor's block is the one
 *    that moves the fewest bytes, bitmap included. Tensors it saves bytes on are annotated at
 *    epsilon 0 (which changes no value, so accuracy is the baseline's); the others stay
 *    unannotated for now, since the bitmap would cost more than the zero blocks save.
 * 2. For every target tensor with a block and every candidate epsilon > 0, evaluate that tensor
 *    at that epsilon alone on top of the step-1 configuration: saving = whole-model activation
 *    bytes saved (downstream tensors change too, and a tensor step 1 left out pays its bitmap),
 *    cost = calibration samples no longer classified correctly (>= 0). Trials that save nothing
 *    or alone exceed the accuracy budget are dropped.
 * 3. Apply the trials in decreasing saving / (cost + 1) (ties: larger saving, then model order,
 *    then smaller epsilon), each on top of the configuration so far, skipping those that would
 *    not raise the tensor's epsilon. Re-run the joint configuration and keep the trial only if it
 *    stays within --max-drop of the baseline and saves bytes; otherwise revert it.
 */
export function searchZeroBlocks(m: Model, data: LabelledData, opts: SearchOptions): ZeroBlockSearch {
  const n = data.inputs.length;
  const epsilons = [...new Set(opts.epsilons)].filter((e) => e > 0 && e <= MAX_ZERO_BLOCK_EPSILON).sort((a, b) => a - b);
  let evaluations = 0;
  let done = 0;
  // Sample runs, an upper bound that only shrinks as the search learns more (a monotone bar).
  let totalRuns = n * (2 + 2 * sparsityTargets(m).length * epsilons.length);
  const tick = (phase: string) => (): void => {
    done++;
    opts.onProgress?.(done, totalRuns, phase);
  };
  const run = (cfg: ReadonlyMap<string, ZeroBlockConfig>, phase: string): Evaluation => {
    evaluations++;
    return evaluate(withZeroBlocks(m, cfg), data, tick(phase));
  };

  // Step 1.
  const { baseline, tensors: measures } = measureCandidates(m, data, opts.blocks, tick('measure'));
  evaluations++;
  const config = new Map<string, ZeroBlockConfig>();
  const blockOf = new Map<string, Block>();
  for (const t of measures) {
    let best: CandidateMeasure | undefined;
    for (const c of t.candidates) if (!best || c.bytes < best.bytes) best = c;
    if (!best) continue;
    blockOf.set(t.tensor, best.block);
    if (best.bytes < t.denseBytes) config.set(t.tensor, { block: best.block, epsilon: 0 });
  }
  totalRuns = n * (2 + 2 * blockOf.size * epsilons.length);
  let current = run(config, 'epsilon 0');

  // Step 2.
  const order = new Map(measures.map((t, i) => [t.tensor, i]));
  const trials: EpsilonTrial[] = [];
  for (const [tensor, block] of blockOf) {
    for (const epsilon of epsilons) {
      const ev = run(new Map(config).set(tensor, { block, epsilon }), `try ${tensor} eps ${epsilon}`);
      const saving = current.bytes.actual - ev.bytes.actual;
      if (saving > 0 && withinDrop(ev.correct, baseline.correct, n, opts.maxDrop)) {
        trials.push({ tensor, epsilon, saving, cost: Math.max(0, current.correct - ev.correct), accepted: false });
      }
    }
  }
  trials.sort(
    (a, b) =>
      b.saving / (b.cost + 1) - a.saving / (a.cost + 1) ||
      b.saving - a.saving ||
      order.get(a.tensor)! - order.get(b.tensor)! ||
      a.epsilon - b.epsilon,
  );
  totalRuns = done + n * trials.length;

  // Step 3.
  for (const trial of trials) {
    const cfg = config.get(trial.tensor);
    if (cfg && trial.epsilon <= cfg.epsilon) {
      totalRuns -= n;
      continue;
    }
    const next = new Map(config).set(trial.tensor, { block: blockOf.get(trial.tensor)!, epsilon: trial.epsilon });
    const ev = run(next, `check ${trial.tensor} eps ${trial.epsilon}`);
    if (withinDrop(ev.correct, baseline.correct, n, opts.maxDrop) && ev.bytes.actual < current.bytes.actual) {
      config.set(trial.tensor, next.get(trial.tensor)!);
      current = ev;
      trial.accepted = true;
    }
  }
  opts.onProgress?.(totalRuns, totalRuns, 'done');

  const choices: TensorChoice[] = measures.map((t) => {
    const cfg = config.get(t.tensor);
    const c = current.tensors.get(t.tensor);
    return {
      tensor: t.tensor,
      shape: t.shape,
      ...(cfg ? { config: cfg } : {}),
      zeroBlocks: c?.zeroBlocks ?? 0,
      totalBlocks: c?.totalBlocks ?? 0,
      bytes: { dense: t.denseBytes, actual: c ? t.accesses * c.bytesPerAccess : t.denseBytes },
    };
  });
  return { model: withZeroBlocks(m, config), samples: n, baseline, final: current, measures, choices, trials, evaluations };
}
