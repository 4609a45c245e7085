import { badInput, unsupported } from '../errors.js';
import { product } from '../ir/shapes.js';
import type { ConvLayer, FcLayer, Layer, Model } from '../ir/types.js';

/**
 * Channel reordering for gating: permutes channels so that each gated conv's base input
 * channels come first, without changing any output bit.
 *
 * Channels of different tensors are tied together by the layers that pass them through one to
 * one: pools, global average pooling, depthwise convs (groups = Cin = Cout) and residual adds
 * (both inputs and the output). Such a group of tensors, a "channel class", can only be
 * permuted as a whole. Permuting a class with pi (new position -> old channel) rewrites:
 * - the output channels of every conv or fc producing one of its tensors (weight rows, pruneMask
 *   rows, bias, requant multiplier and shift, gating thresholds and flags) and of every depthwise
 *   conv inside it;
 * - the input channels of every groups == 1 conv reading one of its tensors (weight columns), and
 *   the columns of every fc reading it directly or through a flattening reshape (blocks of H*W
 *   columns, in the C, H, W order of the view).
 * Pools and adds are channel-agnostic (one requant per layer or per input) and need nothing.
 *
 * A class cannot be permuted if it holds the model input (the host writes it), a model output
 * (its order is the result), a tensor read or written by concat, transpose or a grouped conv, a
 * tensor behind a reshape that something other than fc reads, or a zero-block annotation with
 * blocks of more than one channel (reordering would regroup its blocks). A class needs no
 * permutation when its requested base sets are already the first channels in order.
 */

/** Per conv layer name: its base input channels, in the current channel numbering. */
export type BaseRequests = ReadonlyMap<string, readonly number[]>;

export interface Reordered {
  model: Model;
  /**
   * Per permuted tensor: new position -> old channel. A flattening view of a permuted tensor is
   * listed with its source's permutation: its blocks of H*W elements move like the channels.
   */
  permutations: Map<string, Int32Array>;
}

class UnionFind {
  private readonly parent = new Map<string, string>();

  find(a: string): string {
    let r = a;
    while (this.parent.has(r)) r = this.parent.get(r)!;
    return r;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

function isDepthwise(l: ConvLayer, cin: number): boolean {
  return l.groups > 1 && l.groups === cin && l.bias.length === cin;
}

interface ChannelClasses {
  classOf: (tensor: string) => string;
  /** Per class: why it cannot be permuted (the first reason found): which tensor and why. */
  fixed: Map<string, { tensor: string; reason: string }>;
}

/** Ties tensors into channel classes and records why a class must keep its order. */
export function channelClasses(m: Model): ChannelClasses {
  const shapes = new Map(m.tensors.map((t) => [t.name, t.shape]));
  const uf = new UnionFind();
  for (const l of m.layers) {
    const cin = shapes.get(l.inputs[0]!)![0]!;
    if (l.op === 'maxpool' || l.op === 'avgpool' || l.op === 'globalavgpool' || (l.op === 'conv' && isDepthwise(l, cin))) {
      uf.union(l.inputs[0]!, l.output);
    } else if (l.op === 'add') {
      for (const i of l.inputs) uf.union(i, l.output);
    }
  }
  const fixed = new Map<string, { tensor: string; reason: string }>();
  const fix = (tensor: string, reason: string): void => {
    const c = uf.find(tensor);
    if (!fixed.has(c)) fixed.set(c, { tensor, reason });
  };
  fix(m.inputs[0]!, 'is the model input');
  for (const o of m.outputs) fix(o, 'is a model output');
  const readers = new Map<string, Layer[]>();
  for (const l of m.layers) for (const i of l.inputs) readers.set(i, [...(readers.get(i) ?? []), l]);
  for (const l of m.layers) {
    const cin = shapes.get(l.inputs[0]!)![0]!;
    if (l.op === 'concat' || l.op === 'transpose') {
      for (const t of [...l.inputs, l.output]) fix(t, `is read or written by ${l.op} '${l.name}'`);
    } else if (l.op === 'conv' && l.groups > 1 && !isDepthwise(l, cin)) {
      for (const t of [...l.inputs, l.output]) fix(t, `is read or written by grouped conv '${l.name}' (groups ${l.groups})`);
    } else if (l.op === 'reshape') {
      fix(l.output, `is a view (reshape '${l.name}') of '${l.inputs[0]}'`);
      const other = (readers.get(l.output) ?? []).find((r) => r.op !== 'fc');
      if (other) fix(l.inputs[0]!, `is viewed by reshape '${l.name}', which ${other.op} '${other.name}' reads`);
    }
  }
  for (const t of m.tensors) {
    if (t.zeroBlock && t.zeroBlock.block[0] > 1) {
      fix(t.name, `has zero blocks of ${t.zeroBlock.block[0]} channels, which reordering would regroup (gate before gatec sparsity)`);
    }
  }
  return { classOf: (t) => uf.find(t), fixed };
}

interface ClassRequest {
  layer: string;
  tensor: string;
  base: readonly number[];
}

/**
 * The permutation that puts every requested base set first, or a reason there is none. The sets
 * must nest (one conv's base set inside another's): the smallest comes first, then what the next
 * adds, and so on, each part and the remaining channels in their old order.
 */
function classPermutation(channels: number, requests: ClassRequest[], where: (r: ClassRequest) => string): Int32Array {
  const sorted = [...requests].sort((a, b) => a.base.length - b.base.length);
  const order: number[] = [];
  const placed = new Uint8Array(channels);
  let prev: ClassRequest | undefined;
  for (const r of sorted) {
    const set = new Set(r.base);
    if (prev && prev.base.some((c) => !set.has(c))) {
      throw unsupported(
        where(r),
        `its base channels and those of layer '${prev.layer}' neither nest nor agree, but both follow the channel order of tensor '${r.tensor}'`,
      );
    }
    for (const c of [...r.base].sort((a, b) => a - b)) {
      if (!placed[c]) {
        placed[c] = 1;
        order.push(c);
      }
    }
    prev = r;
  }
  for (let c = 0; c < channels; c++) if (!placed[c]) order.push(c);
  return Int32Array.from(order);
}

function isIdentity(p: Int32Array): boolean {
  return p.every((v, i) => v === i);
}

function checkRequest(l: Layer | undefined, name: string, base: readonly number[], cin: number, file: string): asserts l is ConvLayer {
  const where = `${file}: layer '${name}'`;
  if (!l || l.op !== 'conv') throw badInput(where, 'base channels requested for a layer that is not a conv');
  if (l.groups !== 1) throw unsupported(where, `channel gating of a grouped conv (groups ${l.groups}) is not supported`);
  if (base.length < 1 || base.length > cin - 1) throw badInput(where, `${base.length} base channels: it must be from 1 to ${cin - 1}`);
  if (new Set(base).size !== base.length || base.some((c) => !Number.isInteger(c) || c < 0 || c >= cin)) {
    throw badInput(where, `base channels must be distinct indices from 0 to ${cin - 1}`);
  }
}

/** Rows (axis 0, `rowSize` values each) of a typed array in the order `perm` (new -> old). */
function permuteRows<T extends Int8Array | Uint8Array | Int32Array>(a: T, perm: Int32Array, rowSize: number): T {
  const out = a.slice() as T;
  perm.forEach((old, i) => out.set(a.subarray(old * rowSize, (old + 1) * rowSize), i * rowSize));
  return out;
}

/**
 * Columns of a [rows, cols] matrix grouped in blocks of `block` columns, blocks in the order
 * `perm` (new -> old), for every row; `inner` values per column (kh * kw for conv weights).
 */
function permuteColumns<T extends Int8Array | Uint8Array>(a: T, perm: Int32Array, block: number, inner: number): T {
  const cols = perm.length * block;
  const rowSize = cols * inner;
  const chunk = block * inner;
  const out = a.slice() as T;
  for (let r = 0; r < a.length / rowSize; r++) {
    perm.forEach((old, i) => out.set(a.subarray(r * rowSize + old * chunk, r * rowSize + (old + 1) * chunk), r * rowSize + i * chunk));
  }
  return out;
}

function permuteWeighted<L extends ConvLayer | FcLayer>(l: L, rows: Int32Array | undefined, cols: { perm: Int32Array; block: number } | undefined, inner: number): L {
  let weights = l.weights;
  let mask = l.pruneMask;
  const co = l.bias.length;
  const rowSize = l.weights.length / co;
  if (rows) {
    weights = permuteRows(weights, rows, rowSize);
    if (mask) mask = permuteRows(mask, rows, rowSize);
  }
  if (cols) {
    weights = permuteColumns(weights, cols.perm, cols.block, inner);
    if (mask) mask = permuteColumns(mask, cols.perm, cols.block, inner);
  }
  if (!rows) return { ...l, weights, ...(mask ? { pruneMask: mask } : {}) };
  const pick = (a: Int32Array): Int32Array => Int32Array.from(rows, (old) => a[old]!);
  const out: L = {
    ...l,
    weights,
    bias: pick(l.bias),
    requant: { multiplier: pick(l.requant.multiplier), shift: pick(l.requant.shift) },
    ...(mask ? { pruneMask: mask } : {}),
  };
  if (out.op === 'conv' && out.gating) {
    const g = out.gating;
    out.gating = { baseChannels: g.baseChannels, threshold: pick(g.threshold), ...(g.below ? { below: Array.from(rows, (old) => g.below![old]!) } : {}) };
  }
  return out;
}

/**
 * Reorders channels so that each requested conv's base channels are its first input channels.
 * Convs already gated and not in `requests` keep their first gating.baseChannels channels
 * first. Throws (exit 2, naming the conv and the tensor) where the permutation is impossible.
 */
export function reorderChannels(m: Model, requests: BaseRequests, file: string): Reordered {
  const shapes = new Map(m.tensors.map((t) => [t.name, t.shape]));
  const layers = new Map(m.layers.map((l) => [l.name, l]));
  const classes = channelClasses(m);
  const byClass = new Map<string, ClassRequest[]>();
  const want = (layer: string, tensor: string, base: readonly number[]): void => {
    const c = classes.classOf(tensor);
    byClass.set(c, [...(byClass.get(c) ?? []), { layer, tensor, base }]);
  };
  for (const [name, base] of requests) {
    const l = layers.get(name);
    const cin = l ? shapes.get(l.inputs[0]!)![0]! : 0;
    checkRequest(l, name, base, cin, file);
    want(name, l.inputs[0]!, base);
  }
  for (const l of m.layers) {
    if (l.op === 'conv' && l.gating && !requests.has(l.name)) want(l.name, l.inputs[0]!, [...Array(l.gating.baseChannels).keys()]);
  }
  const perms = new Map<string, Int32Array>();
  for (const [c, reqs] of byClass) {
    const where = (r: ClassRequest): string => `${file}: layer '${r.layer}'`;
    const perm = classPermutation(shapes.get(reqs[0]!.tensor)![0]!, reqs, where);
    if (isIdentity(perm)) continue;
    const fixed = classes.fixed.get(c);
    if (fixed) {
      const r = reqs.find((q) => !isIdentity(classPermutation(perm.length, [q], where))) ?? reqs[0]!;
      const tied = fixed.tensor === r.tensor ? '' : ` shares its channel order with '${fixed.tensor}', which`;
      throw unsupported(where(r), `cannot move its base channels first: its input '${r.tensor}'${tied} ${fixed.reason}`);
    }
    perms.set(c, perm);
  }
  if (perms.size === 0) return { model: m, permutations: new Map() };
  const permOf = (t: string): Int32Array | undefined => perms.get(classes.classOf(t));
  const viewed = new Map(m.layers.filter((l) => l.op === 'reshape').map((l) => [l.output, l.inputs[0]!]));
  const out = m.layers.map((l): Layer => {
    if (l.op === 'conv') {
      const [kh, kw] = l.kernel;
      const rows = permOf(l.output);
      const inPerm = l.groups === 1 ? permOf(l.inputs[0]!) : undefined;
      return rows || inPerm ? permuteWeighted(l, rows, inPerm && { perm: inPerm, block: 1 }, kh * kw) : l;
    }
    if (l.op === 'fc') {
      const rows = permOf(l.output);
      const src = viewed.get(l.inputs[0]!);
      const direct = permOf(l.inputs[0]!);
      const viaView = src !== undefined ? permOf(src) : undefined;
      const cols = direct
        ? { perm: direct, block: 1 }
        : viaView && { perm: viaView, block: product(shapes.get(src!)!) / viaView.length };
      return rows || cols ? permuteWeighted(l, rows, cols, 1) : l;
    }
    return l;
  });
  const permutations = new Map<string, Int32Array>();
  for (const t of m.tensors) {
    const src = viewed.get(t.name);
    const p = permOf(t.name) ?? (src !== undefined ? permOf(src) : undefined);
    if (p) permutations.set(t.name, p);
  }
  return { model: { ...m, layers: out }, permutations };
}
