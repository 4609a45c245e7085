import { compileEngine } from '../../generator/engine/build.js';
import type { EngineConfig } from '../../generator/engine/config.js';
import { engineResources } from '../../generator/engine/resources.js';
import { badInput, unsupported } from '../errors.js';
import type { ConvLayer, FcLayer, Model } from '../ir/types.js';
import { channelRemovable, compactChannels, compactability } from './compact-channels.js';
import { solveKnapsack, type KnapsackSolution } from './knapsack.js';
import type { Importance } from './prune-importance.js';
import { spatialPatterns } from '../../generator/spatial/patterns.js';
import { spatialResources, type ResourceOptions } from '../../generator/spatial/resources.js';
import { planSpatial } from '../../generator/spatial/plan.js';
import { predictTiming } from '../../generator/spatial/timing.js';

/**
 * Resource-aware structured pruning (docs/pruning.md): structures that map to hardware resources,
 * scored, chosen by a multi-dimensional 0/1 knapsack within a budget, applied to the IR.
 */
export const BUDGET_KEYS = ['dsp', 'bram', 'lut', 'cycles'] as const;
export type BudgetKey = (typeof BUDGET_KEYS)[number];
export type Resources = Record<BudgetKey, number>;
export interface BudgetEntry {
  key: BudgetKey;
  value: number;
  /** value is a percentage of the unpruned model's figure */
  percent: boolean;
}
export type PruneArch = 'spatial' | 'engine';
export type StructureKind = 'pattern' | 'filter' | 'block';
export type Score = 'l1' | 'l2';

/** "dsp=40,lut=50%" -> entries; one line errors (exit 1) for unknown keys and bad numbers. */
export function parseBudget(text: string): BudgetEntry[] {
  const out: BudgetEntry[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const m = /^([a-z]+)=([0-9]+(?:\.[0-9]+)?)(%?)$/.exec(part);
    if (!m) throw badInput('--budget', `'${part}' is not key=number or key=percent% (keys: ${BUDGET_KEYS.join(', ')})`);
    if (!(BUDGET_KEYS as readonly string[]).includes(m[1]!)) throw badInput('--budget', `unknown budget key '${m[1]}' (expected ${BUDGET_KEYS.join(', ')})`);
    if (out.some((e) => e.key === m[1])) throw badInput('--budget', `budget key '${m[1]}' given twice`);
    out.push({ key: m[1] as BudgetKey, value: Number(m[2]), percent: m[3] === '%' });
  }
  if (out.length === 0) throw badInput('--budget', 'no budget given (e.g. dsp=40 or dsp=50%)');
  return out;
}

export interface PruneOptions {
  arch: PruneArch;
  structure: StructureKind;
  budget: readonly BudgetEntry[];
  score: Score;
  importance?: Importance;
  /** spatial: reuse factor of every conv/fc layer */
  reuse: number;
  engine: EngineConfig;
  where: string;
}

export interface Structure {
  layer: string;
  /** pattern: multiplier index; filter: first output channel of the group */
  index: number;
  /** flat weight indices */
  weights: number[];
  /** engine filter groups: the output channels */
  channels?: number[];
  value: number;
  costs: Resources;
}

export interface LayerSummary {
  layer: string;
  structures: number;
  kept: number;
}

export interface PruneResult {
  /** the IR to write: masked (spatial) or with the pruned channels removed (engine) */
  model: Model;
  /** the input model with pruned weights zeroed and pruneMask set, same shapes */
  masked: Model;
  structures: Structure[];
  kept: boolean[];
  layers: LayerSummary[];
  before: Resources;
  /** the pruned model's resources as synthesis counts them (dead channels removed: generator/spatial/plan.ts) */
  after: Resources;
  /**
   * the same in the knapsack's own linear model (spatial: every kept pattern its own multiplier,
   * ResourceOptions keepDead and unshared), the figure checked against the budget: after <=
   * knapsack <= budget
   */
  knapsack: Resources;
  /** the unpruned model in the knapsack's model: what budget percentages are of */
  base: Resources;
  /** resources no structure can remove (the knapsack's capacities are the budget less these) */
  fixed: Resources;
  budget: Partial<Resources>;
  solution: KnapsackSolution;
  /** engine: solves until the exact prediction met the cycle budget */
  rounds: number;
}

const isWeighted = (l: Model['layers'][number]): l is ConvLayer | FcLayer => l.op === 'conv' || l.op === 'fc';

/** Per weight: |w * s_w| (l1) or (w * s_w)^2 (l2), s_w[co] = requant[co] * s_y / s_x; or the importance file's value. */
function weightScores(m: Model, l: ConvLayer | FcLayer, score: Score, imp?: Importance): Float64Array {
  const given = imp?.get(l.name);
  if (given) return given;
  const q = (name: string) => m.tensors.find((t) => t.name === name)!.quant.scale;
  const ratio = q(l.output) / q(l.inputs[0]!);
  const co = l.bias.length;
  const rowLen = l.weights.length / co;
  const out = new Float64Array(l.weights.length);
  for (let o = 0; o < co; o++) {
    const sw = (l.requant.multiplier[o]! / 2 ** l.requant.shift[o]!) * ratio;
    for (let k = 0; k < rowLen; k++) {
      const v = Math.abs(l.weights[o * rowLen + k]! * sw);
      out[o * rowLen + k] = score === 'l1' ? v : v * v;
    }
  }
  return out;
}


/**
 * The spatial cost model the knapsack is linear in: every pattern costs its own multiplier, kept
 * whether or not its channel is read downstream and whether or not synthesis shares its product.
 */
const LINEAR: ResourceOptions = { keepDead: true, unshared: true };

/**
 * Spatial totals from the spatial generator's resource model (generator/spatial/resources.ts,
 * docs/spatial.md): DSP48E1, LUT, BRAM18 and the latency of one sample in cycles.
 */
export function spatialTotals(m: Model, reuse: number, opts: ResourceOptions = {}): Resources {
  const r = spatialResources(m, { default: reuse }, opts);
  return { dsp: r.dsp, bram: r.bram18, lut: r.lut, cycles: predictTiming(planSpatial(m, { default: reuse })).latency };
}

/** Engine totals: the PE array's DSPs and buffer BRAM18s are fixed by the configuration; cycles predicted. */
export function engineTotals(m: Model, c: EngineConfig, where: string): Resources {
  const res = engineResources(c);
  const cycles = compileEngine(m, c, where).report.totals.cycles;
  return { dsp: res.dsp, bram: Math.ceil(res.bufferBits / 18432), lut: Number.NaN, cycles };
}

/**
 * Spatial structures. pattern: one multiplier and the weights it serves across the reuse factor,
 * as the generator groups them (spatialPatterns); its DSP and ROM bits come from there, its LUTs
 * are the layer's LUTs that pruning every pattern removes, shared evenly (the one linear estimate:
 * spatialTotals of the result is exact). filter: one output channel, its patterns' costs summed.
 */
function spatialStructures(m: Model, o: PruneOptions): Structure[] {
  const reuse = { default: o.reuse };
  // Linear costs (LINEAR): each pattern its own multiplier; what synthesis removes beyond that
  // (channels no kept pattern reads) only makes the honest totals of the solution smaller.
  const patterns = spatialPatterns(m, reuse, LINEAR).filter((p) => p.weightIndex.some((i) => (m.layers[p.layerIndex] as ConvLayer | FcLayer).weights[i] !== 0));
  const dense = spatialResources(m, reuse, LINEAR).perLayer;
  const emptied = spatialResources(zeroLayers(m, new Set(patterns.map((p) => p.layer))), reuse, LINEAR).perLayer;
  const live = new Map<string, number>();
  for (const p of patterns) live.set(p.layer, (live.get(p.layer) ?? 0) + 1);
  const lutPer = (layer: string) => {
    const a = dense.find((x) => x.layer === layer)!;
    const b = emptied.find((x) => x.layer === layer)!;
    return Math.max(0, a.lut - b.lut) / live.get(layer)!;
  };
  const out: Structure[] = [];
  const scores = new Map<string, Float64Array>();
  for (const p of patterns) {
    const l = m.layers[p.layerIndex] as ConvLayer | FcLayer;
    let sc = scores.get(l.name);
    if (!sc) scores.set(l.name, (sc = weightScores(m, l, o.score, o.importance)));
    const s: Structure = {
      layer: l.name,
      index: o.structure === 'pattern' ? out.length : p.co,
      weights: p.weightIndex,
      value: p.weightIndex.reduce((a, i) => a + sc[i]!, 0),
      costs: { dsp: p.dsp, lut: lutPer(l.name), bram: p.romBits / 18432, cycles: 0 },
    };
    const prev = out.at(-1);
    if (o.structure === 'filter' && prev && prev.layer === s.layer && prev.index === p.co) {
      prev.weights = [...prev.weights, ...s.weights];
      prev.value += s.value;
      for (const k of BUDGET_KEYS) prev.costs[k] += s.costs[k];
    } else {
      out.push(s);
    }
  }
  return out;
}

/** The model with every weight of the named layers zeroed. */
function zeroLayers(m: Model, names: ReadonlySet<string>): Model {
  return { ...m, layers: m.layers.map((l) => (isWeighted(l) && names.has(l.name) ? { ...l, weights: new Int8Array(l.weights.length) } : l)) };
}

/** Zeroes the given output channels' weights of a layer (a copy of the model). */
function zeroChannels(m: Model, layer: string, chans: readonly number[]): Model {
  return {
    ...m,
    layers: m.layers.map((l) => {
      if (l.name !== layer || !isWeighted(l)) return l;
      const w = Int8Array.from(l.weights);
      const rowLen = w.length / l.bias.length;
      for (const c of chans) w.fill(0, c * rowLen, (c + 1) * rowLen);
      return { ...l, weights: w };
    }),
  };
}

function engineStructures(m: Model, o: PruneOptions, dense: Resources): Structure[] {
  const out: Structure[] = [];
  const pe = o.engine.peOc;
  for (const l of m.layers) {
    if (!isWeighted(l)) continue;
    const can = compactability(m, l);
    if (!can.ok) continue;
    const s = weightScores(m, l, o.score, o.importance);
    const co = l.bias.length;
    const rowLen = l.weights.length / co;
    const groups: number[][] = [];
    for (let g = 0; g * pe < co; g++) {
      const chans = Array.from({ length: Math.min(pe, co - g * pe) }, (_, k) => g * pe + k);
      if (chans.every((c) => channelRemovable(m, l, c, can.consumer))) groups.push(chans);
    }
    if (groups.length === 0) continue;
    // the cycles one group saves: the exact prediction with the last full group of this layer removed
    const probe = groups.filter((g) => g.length === pe).at(-1) ?? groups.at(-1)!;
    if (probe.length === co) continue;
    const removed = compactChannels(zeroChannels(m, l.name, probe), new Map([[l.name, probe]]), o.where);
    const saved = dense.cycles - compileEngine(removed, o.engine, o.where).report.totals.cycles;
    // A layer keeps at least one group (removing every channel would leave no layer): its most
    // valuable group is no structure.
    const value = (chans: readonly number[]) => chans.reduce((a, c) => a + s.subarray(c * rowLen, (c + 1) * rowLen).reduce((x, y) => x + y, 0), 0);
    if (groups.length * pe >= co) {
      let top = 0;
      groups.forEach((g, k) => {
        if (value(g) > value(groups[top]!)) top = k;
      });
      groups.splice(top, 1);
    }
    for (const chans of groups) {
      const weights = chans.flatMap((c) => Array.from({ length: rowLen }, (_, k) => c * rowLen + k));
      out.push({
        layer: l.name,
        index: chans[0]!,
        weights,
        channels: chans,
        value: weights.reduce((a, i) => a + s[i]!, 0),
        costs: { dsp: 0, bram: 0, lut: 0, cycles: Math.max(0, (saved * chans.length) / probe.length) },
      });
    }
  }
  return out;
}

/** The model with the dropped structures' weights zeroed and pruneMask set on every layer that has any. */
export function applyMask(m: Model, structures: readonly Structure[], kept: readonly boolean[]): Model {
  const drop = new Map<string, number[]>();
  structures.forEach((s, i) => {
    if (!kept[i]) drop.set(s.layer, [...(drop.get(s.layer) ?? []), ...s.weights]);
  });
  return {
    ...m,
    layers: m.layers.map((l) => {
      const d = drop.get(l.name);
      if (!d || !isWeighted(l)) return l;
      const weights = Int8Array.from(l.weights);
      const mask = l.pruneMask ? Uint8Array.from(l.pruneMask) : new Uint8Array(weights.length).fill(1);
      for (const i of d) {
        weights[i] = 0;
        mask[i] = 0;
      }
      return { ...l, weights, pruneMask: mask };
    }),
  };
}

function engineModel(masked: Model, structures: readonly Structure[], kept: readonly boolean[], where: string): Model {
  const remove = new Map<string, number[]>();
  structures.forEach((s, i) => {
    if (!kept[i]) remove.set(s.layer, [...(remove.get(s.layer) ?? []), ...s.channels!]);
  });
  const out = compactChannels(masked, remove, where);
  // the removed channels took their mask rows with them; what remains is whatever was pruned before
  return {
    ...out,
    layers: out.layers.map((l) => {
      if (!isWeighted(l) || !l.pruneMask || l.pruneMask.some((b) => b === 0)) return l;
      const { pruneMask: _, ...rest } = l;
      return rest as typeof l;
    }),
  };
}

export function prune(m: Model, o: PruneOptions): PruneResult {
  if (o.structure === 'block') throw unsupported('--structure', 'block structures are not implemented: use pattern (spatial) or filter (docs/pruning.md)');
  if (o.arch === 'engine' && o.structure !== 'filter') throw unsupported('--structure', `the engine prunes filter groups (--structure filter), not ${o.structure}s`);
  if (o.arch === 'engine' && o.budget.some((b) => b.key === 'lut')) throw unsupported('--budget', 'the engine has no LUT model: budget dsp, bram or cycles');
  const totals = (x: Model) => (o.arch === 'spatial' ? spatialTotals(x, o.reuse) : engineTotals(x, o.engine, o.where));
  const before = totals(m);
  const structures = o.arch === 'spatial' ? spatialStructures(m, o) : engineStructures(m, o, before);
  const all = structures.map(() => false);
  // Spatial: the knapsack's costs are linear (LINEAR), so is what no structure removes; the result's
  // honest totals (dead channels removed, generator/spatial/plan.ts) are at most the linear ones.
  const fixed = o.arch === 'spatial' ? spatialTotals(applyMask(m, structures, all), o.reuse, LINEAR) : totals(engineModel(applyMask(m, structures, all), structures, all, o.where));
  // Percentages of the model as the knapsack counts it (LINEAR): equal to `before` unless the
  // model already has dead channels, where 100% then keeps every structure.
  const base = o.arch === 'spatial' ? spatialTotals(m, o.reuse, LINEAR) : before;
  const budget: Partial<Resources> = {};
  for (const b of o.budget) {
    const v = b.percent ? (base[b.key] * b.value) / 100 : b.value;
    budget[b.key] = v;
    if (fixed[b.key] > v + 1e-9) {
      throw badInput('--budget', `${b.key}=${b.value}${b.percent ? '%' : ''} cannot be met: pruning every structure leaves ${round(fixed[b.key])} ${b.key} (the model has ${round(before[b.key])})`);
    }
  }
  const keys = o.budget.map((b) => b.key);
  const capacities = keys.map((k) => budget[k]! - fixed[k]);
  let solution!: KnapsackSolution;
  let masked!: Model;
  let out!: Model;
  let after!: Resources;
  let check!: Resources;
  let rounds = 0;
  // The engine's per-group cycle costs are linear estimates; the exact prediction of the chosen
  // network decides, and a miss tightens the capacity by the excess (a few rounds at most).
  for (;;) {
    rounds++;
    solution = solveKnapsack({ items: structures.map((s) => ({ value: s.value, costs: keys.map((k) => s.costs[k]) })), capacities });
    masked = applyMask(m, structures, solution.selected);
    out = o.arch === 'spatial' ? masked : engineModel(masked, structures, solution.selected, o.where);
    // Spatial: the budget is checked in the knapsack's own (linear) model, an upper bound of the
    // honest totals reported, so that dead channels the solution happens to leave do not change
    // the search (a looser check would re-solve a different, harder instance).
    check = o.arch === 'spatial' ? spatialTotals(out, o.reuse, LINEAR) : totals(out);
    const over = keys.findIndex((k) => check[k] > budget[k]! + 1e-9);
    if (over < 0 || rounds >= 8) break;
    capacities[over] = Math.max(0, capacities[over]! - (check[keys[over]!] - budget[keys[over]!]!));
  }
  after = totals(out);
  const layers: LayerSummary[] = [];
  structures.forEach((s, i) => {
    let row = layers.find((r) => r.layer === s.layer);
    if (!row) layers.push((row = { layer: s.layer, structures: 0, kept: 0 }));
    row.structures++;
    if (solution.selected[i]) row.kept++;
  });
  return { model: out, masked, structures, kept: solution.selected, layers, before, after, knapsack: check, base, fixed, budget, solution, rounds };
}

const round = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));
