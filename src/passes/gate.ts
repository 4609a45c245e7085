import { unsupported, badInput } from '../errors.js';
import { baseAccumulators } from '../golden/gating.js';
import type { Act } from '../golden/layers.js';
import { modelMacs } from '../golden/macs.js';
import { argmax, runGolden } from '../golden/run.js';
import type { ConvLayer, Model } from '../ir/types.js';
import { applyGating, type GatingSpec } from './apply-gating.js';
import { channelClasses } from './reorder.js';
import { withinDrop, type LabelledData } from './zero-block.js';

/**
 * Post-training channel gating (`gatec gate`): picks gated convs, their base channels and their
 * thresholds on labelled calibration data, within a top-1 accuracy budget. Pure functions over
 * the IR and the golden model.
 *
 * Gateable: groups == 1 convs with 2 or more input channels whose input's channel order can be
 * changed (passes/reorder.ts: not the model input, nothing behind a concat, transpose or grouped
 * conv, ...), not gated already. Convs whose inputs share one channel order (a residual block)
 * would need nested base sets: the one with the most MACs is gated, the others are not.
 *
 * Base channels: the k = max(1, min(Cin - 1, round(base * Cin))) input channels of highest
 * importance, importance[c] = (sum of |w| over the conv's weights of input channel c) x (mean
 * |x_c - zp| over the calibration data): the expected magnitude a channel contributes to the
 * accumulators. Ties go to the lower channel.
 *
 * Thresholds: per output channel, from acc_base (bias + base partial sum) over every position of
 * every calibration sample of the ungated model: for a skip target s, the m = round(s * n)-th
 * smallest of the n values, so the m lowest partial sums (those the activation is most likely
 * to clamp to its floor) are gated off; m = 0 puts the threshold below every value. Upstream
 * gating changes a layer's inputs a little, so measured fractions differ slightly from s.
 *
 * Accuracy budget, greedy and deterministic: every layer at the target; if that loses more than
 * --max-drop points, bisection (6 steps) on one factor a in [0, 1] scaling every layer's target;
 * then, layer by layer from the most MACs, the layer alone back to the full target, else halfway
 * there, each kept only if the whole model stays within the budget.
 */

export interface GateOptions {
  /** Base channels as a fraction of each gated conv's input channels. */
  base: number;
  /** Target fraction of gated-off outputs per layer. */
  targetSkip: number;
  /** Largest allowed top-1 accuracy drop in percentage points versus the ungated model. */
  maxDrop: number;
  /** Only these convs (by layer name); all gateable ones when omitted. */
  layers?: readonly string[];
  onProgress?: (done: number, total: number, phase: string) => void;
}

export interface NotGated {
  layer: string;
  reason: string;
}

/** Why a conv cannot be gated, or undefined. */
function notGateable(l: ConvLayer, cin: number, classes: ReturnType<typeof channelClasses>): string | undefined {
  if (l.gating) return 'already gated';
  if (l.groups !== 1) return `grouped conv (groups ${l.groups})`;
  if (cin < 2) return 'one input channel';
  const fixed = classes.fixed.get(classes.classOf(l.inputs[0]!));
  if (!fixed) return undefined;
  const tied = fixed.tensor === l.inputs[0] ? '' : ` shares its channel order with '${fixed.tensor}', which`;
  return `its input '${l.inputs[0]}'${tied} ${fixed.reason}`;
}

/** The convs to gate (model order) and the others with the reason; `only` picks by name. */
export function gateCandidates(m: Model, only?: readonly string[]): { candidates: ConvLayer[]; notGated: NotGated[] } {
  const classes = channelClasses(m);
  const cinOf = (l: ConvLayer): number => m.tensors.find((t) => t.name === l.inputs[0])!.shape[0]!;
  const macs = new Map(modelMacs(m).map((x) => [x.layer, x.macs]));
  for (const name of only ?? []) {
    if (!m.layers.some((l) => l.name === name && l.op === 'conv')) throw badInput('--layers', `no conv layer '${name}' in the model`);
  }
  const convs = m.layers.filter((l): l is ConvLayer => l.op === 'conv' && (!only || only.includes(l.name)));
  const notGated: NotGated[] = [];
  const byClass = new Map<string, ConvLayer>();
  const gatedClasses = new Set(m.layers.filter((l) => l.op === 'conv' && l.gating).map((l) => classes.classOf(l.inputs[0]!)));
  for (const l of convs) {
    const reason = notGateable(l, cinOf(l), classes);
    const c = classes.classOf(l.inputs[0]!);
    if (reason) notGated.push({ layer: l.name, reason });
    else if (gatedClasses.has(c)) notGated.push({ layer: l.name, reason: 'its input shares its channel order with a gated conv' });
    else {
      const other = byClass.get(c);
      if (!other || macs.get(l.name)! > macs.get(other.name)!) byClass.set(c, l);
    }
  }
  const chosen = new Set(byClass.values());
  for (const l of convs) {
    const c = classes.classOf(l.inputs[0]!);
    const winner = byClass.get(c);
    if (winner && winner !== l && !notGated.some((x) => x.layer === l.name)) {
      notGated.push({ layer: l.name, reason: `its input shares its channel order with '${winner.name}', gated instead (more MACs)` });
    }
  }
  if (only) {
    const refused = notGated.find((x) => only.includes(x.layer));
    if (refused) throw unsupported('--layers', `layer '${refused.layer}' cannot be gated: ${refused.reason}`);
  }
  return { candidates: convs.filter((l) => chosen.has(l)), notGated };
}

/** Input channels by importance, highest first (ties: lower channel first). */
export function channelImportance(l: ConvLayer, meanAbs: Float64Array): Float64Array {
  const cin = meanAbs.length;
  const co = l.bias.length;
  const taps = l.kernel[0] * l.kernel[1];
  const imp = new Float64Array(cin);
  for (let o = 0; o < co; o++) {
    for (let c = 0; c < cin; c++) {
      let s = 0;
      for (let t = 0; t < taps; t++) s += Math.abs(l.weights[(o * cin + c) * taps + t]!);
      imp[c]! += s;
    }
  }
  for (let c = 0; c < cin; c++) imp[c]! *= meanAbs[c]!;
  return imp;
}

export function baseCount(fraction: number, cin: number): number {
  return Math.max(1, Math.min(cin - 1, Math.round(fraction * cin)));
}

/** The k most important channels, ascending. */
export function pickBase(importance: Float64Array, k: number): number[] {
  const order = [...importance.keys()].sort((a, b) => importance[b]! - importance[a]! || a - b);
  return order.slice(0, k).sort((a, b) => a - b);
}

/** Per output channel, the sorted acc_base values of the calibration data. */
export interface LayerStats {
  layer: ConvLayer;
  cin: number;
  base: number[];
  importance: Float64Array;
  sorted: Int32Array[];
}

/** Thresholds gating off round(s * n) of each output channel's n calibration values. */
export function thresholdsFor(stats: LayerStats, s: number): Int32Array {
  return Int32Array.from(stats.sorted, (v) => {
    const m = Math.round(s * v.length);
    return m === 0 ? Math.max(-(2 ** 31), v[0]! - 1) : v[m - 1]!;
  });
}

function meanAbsPerChannel(acts: readonly Act[]): Float64Array {
  const cin = acts[0]!.shape[0]!;
  const sums = new Float64Array(cin);
  let per = 0;
  for (const a of acts) {
    const inner = a.data.length / cin;
    per += inner;
    for (let c = 0; c < cin; c++) {
      let s = 0;
      for (let i = c * inner; i < (c + 1) * inner; i++) s += Math.abs(a.data[i]! - a.quant.zeroPoint);
      sums[c]! += s;
    }
  }
  return sums.map((s) => s / per);
}

/** Sorted acc_base per output channel over every sample and position. */
function sortedBaseAccumulators(l: ConvLayer, acts: readonly Act[], base: readonly number[]): Int32Array[] {
  const co = l.bias.length;
  const perSample = acts.map((x) => baseAccumulators(l, x, base));
  const plane = perSample[0]!.length / co;
  return Array.from({ length: co }, (_, o) => {
    const v = new Int32Array(plane * acts.length);
    perSample.forEach((acc, i) => v.set(acc.subarray(o * plane, (o + 1) * plane), i * plane));
    return v.sort();
  });
}

export interface Evaluation {
  correct: number;
  /** Model MACs over all samples. */
  macs: { dense: number; executed: number };
  /** Per gated layer, summed over samples. */
  layers: Map<string, { gatedOff: number; outputs: number; dense: number; executed: number }>;
}

export interface LayerChoice {
  layer: string;
  inputChannels: number;
  /** Base channels in the ungated model's numbering (the gated IR has them first). */
  base: number[];
  /** The per-layer skip target the search settled on (0: left ungated). */
  skip: number;
  gatedOff: number;
  outputs: number;
  macs: { dense: number; executed: number };
}

export interface GateSearch {
  model: Model;
  samples: number;
  baseline: Evaluation;
  final: Evaluation;
  layers: LayerChoice[];
  notGated: NotGated[];
  evaluations: number;
}

function specsFor(stats: readonly LayerStats[], skips: readonly number[]): Map<string, GatingSpec> {
  const specs = new Map<string, GatingSpec>();
  stats.forEach((s, i) => {
    if (skips[i]! > 0) specs.set(s.layer.name, { base: s.base, threshold: thresholdsFor(s, skips[i]!) });
  });
  return specs;
}

function evaluate(m: Model, data: LabelledData, onSample: () => void): Evaluation {
  const dense = modelMacs(m).reduce((a, l) => a + l.macs, 0);
  const ev: Evaluation = { correct: 0, macs: { dense: 0, executed: 0 }, layers: new Map() };
  data.inputs.forEach((x, i) => {
    const r = runGolden(m, x);
    if (argmax(r.outputsInt[0]!) === data.labels[i]) ev.correct++;
    ev.macs.dense += dense;
    ev.macs.executed += dense - (r.gating ? r.gating.total.macs.dense - r.gating.total.macs.executed : 0);
    for (const l of r.gating?.layers ?? []) {
      const c = ev.layers.get(l.layer) ?? { gatedOff: 0, outputs: 0, dense: 0, executed: 0 };
      c.gatedOff += l.outputs.gatedOff;
      c.outputs += l.outputs.total;
      c.dense += l.macs.dense;
      c.executed += l.macs.executed;
      ev.layers.set(l.layer, c);
    }
    onSample();
  });
  return ev;
}

const BISECTION_STEPS = 6;

export function searchGating(m: Model, data: LabelledData, opts: GateOptions, file: string): GateSearch {
  const n = data.inputs.length;
  const { candidates, notGated } = gateCandidates(m, opts.layers);
  const layerMacs = new Map(modelMacs(m).map((x) => [x.layer, x.macs]));
  let done = 0;
  let total = n * (2 + BISECTION_STEPS + 2 * candidates.length);
  const tick = (phase: string) => (): void => {
    done++;
    opts.onProgress?.(done, total, phase);
  };

  // Baseline run: accuracy and every candidate's input activations.
  const inputs = new Map(candidates.map((l) => [l.name, [] as Act[]]));
  const baseline: Evaluation = { correct: 0, macs: { dense: 0, executed: 0 }, layers: new Map() };
  const dense = modelMacs(m).reduce((a, l) => a + l.macs, 0);
  data.inputs.forEach((x, i) => {
    const r = runGolden(m, x);
    if (argmax(r.outputsInt[0]!) === data.labels[i]) baseline.correct++;
    baseline.macs.dense += dense;
    baseline.macs.executed += dense;
    for (const l of candidates) inputs.get(l.name)!.push(r.tensors.get(l.inputs[0]!)!);
    tick('baseline')();
  });
  const stats: LayerStats[] = candidates.map((l) => {
    const acts = inputs.get(l.name)!;
    const cin = acts[0]!.shape[0]!;
    const importance = channelImportance(l, meanAbsPerChannel(acts));
    const base = pickBase(importance, baseCount(opts.base, cin));
    return { layer: l, cin, base, importance, sorted: sortedBaseAccumulators(l, acts, base) };
  });
  inputs.clear();
  if (stats.length === 0) return { model: m, samples: n, baseline, final: baseline, layers: [], notGated, evaluations: 1 };

  let evaluations = 1;
  const run = (skips: readonly number[], phase: string): { model: Model; ev: Evaluation } => {
    evaluations++;
    const gated = applyGating(m, specsFor(stats, skips), file);
    return { model: gated, ev: evaluate(gated, data, tick(phase)) };
  };
  const ok = (ev: Evaluation): boolean => withinDrop(ev.correct, baseline.correct, n, opts.maxDrop);

  const target = opts.targetSkip;
  let skips = stats.map(() => target);
  let best = run(skips, 'all layers at the target');
  if (!ok(best.ev)) {
    let lo = 0;
    let hi = 1;
    skips = stats.map(() => 0);
    best = { model: m, ev: baseline };
    for (let step = 0; step < BISECTION_STEPS; step++) {
      const mid = (lo + hi) / 2;
      const trial = stats.map(() => mid * target);
      const r = run(trial, `bisection ${step + 1}/${BISECTION_STEPS}`);
      if (ok(r.ev)) {
        lo = mid;
        skips = trial;
        best = r;
      } else {
        hi = mid;
      }
    }
    const order = stats.map((_, i) => i).sort((a, b) => layerMacs.get(stats[b]!.layer.name)! - layerMacs.get(stats[a]!.layer.name)! || a - b);
    for (const i of order) {
      for (const s of [target, (skips[i]! + target) / 2]) {
        if (s <= skips[i]!) continue;
        const trial = skips.map((v, j) => (j === i ? s : v));
        const r = run(trial, `layer ${stats[i]!.layer.name}`);
        if (ok(r.ev)) {
          skips = trial;
          best = r;
          break;
        }
      }
    }
  }
  total = done;
  opts.onProgress?.(done, total, 'done');

  const layers: LayerChoice[] = stats.map((s, i) => {
    const c = best.ev.layers.get(s.layer.name);
    const d = layerMacs.get(s.layer.name)! * n;
    return {
      layer: s.layer.name,
      inputChannels: s.cin,
      base: s.base,
      skip: skips[i]!,
      gatedOff: c?.gatedOff ?? 0,
      outputs: c?.outputs ?? 0,
      macs: { dense: d, executed: c?.executed ?? d },
    };
  });
  return { model: best.model, samples: n, baseline, final: best.ev, layers, notGated, evaluations };
}
