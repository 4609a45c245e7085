import { unsupported } from '../errors.js';
import { requantize } from '../ir/numerics.js';
import type { ConvLayer, FcLayer, Layer, Model, ReshapeLayer, TensorInfo } from '../ir/types.js';

/**
 * Structured pruning made real: removes fully pruned output channels of a conv or fc from the
 * network (docs/pruning.md, "Engine: removing pruned filters").
 *
 * A pruned output channel c of layer A (every weight of its filter zero) outputs the constant
 * q_c = requant(bias[c]) at every position. Its consumer B sees (q_c - zp) on each tap that reads
 * it: zero when q_c equals the zero point (a ReLU-clamped channel with a negative bias, say), else a
 * constant that folds into B's bias: bias_B[o] += (q_c - zp) * (sum of B's weights on channel c).
 * The fold is exact where every tap reads a real value: an fc (directly or through a flatten) or a
 * conv without padding; a padded conv reads the zero point at the border, so there a channel with
 * q_c != zp stays. The network's outputs are bit-identical; A and B shrink, and with them the
 * engine's cycles and weight bytes, with no engine change.
 */

/** Why layer A's channels cannot be removed, or the consumer chain that allows it. */
export type Compactability =
  | { ok: true; consumer: ConvLayer | FcLayer; reshape?: ReshapeLayer }
  | { ok: false; reason: string };

function consumersOf(m: Model, tensor: string): Layer[] {
  return m.layers.filter((l) => l.inputs.includes(tensor));
}

export function compactability(m: Model, a: Layer): Compactability {
  if (a.op !== 'conv' && a.op !== 'fc') return { ok: false, reason: 'not a conv or fc' };
  if (a.op === 'conv' && (a.groups !== 1 || a.gating)) return { ok: false, reason: 'grouped or gated conv' };
  if (m.outputs.includes(a.output)) return { ok: false, reason: 'its output is a network output' };
  const info = m.tensors.find((t) => t.name === a.output)!;
  if (info.zeroBlock) return { ok: false, reason: 'its output has a zero-block annotation' };
  const cons = consumersOf(m, a.output);
  if (cons.length !== 1) return { ok: false, reason: `its output has ${cons.length} consumers` };
  let b = cons[0]!;
  let reshape: ReshapeLayer | undefined;
  if (b.op === 'reshape') {
    reshape = b;
    if (m.outputs.includes(b.output)) return { ok: false, reason: 'a flatten of it is a network output' };
    const next = consumersOf(m, b.output);
    if (next.length !== 1 || next[0]!.op !== 'fc') return { ok: false, reason: 'its flatten does not feed one fc' };
    b = next[0]!;
  }
  if (b.op === 'fc') return { ok: true, consumer: b, ...(reshape ? { reshape } : {}) };
  if (b.op === 'conv' && b.groups === 1 && !b.gating) return { ok: true, consumer: b };
  return { ok: false, reason: `its consumer is a ${b.op === 'conv' ? 'grouped or gated conv' : b.op}` };
}

/** The constant int8 output of a fully pruned channel: requant(bias). */
export function prunedChannelValue(a: ConvLayer | FcLayer, c: number, zp: number): number {
  return requantize(a.bias[c]!, a.requant.multiplier[c]!, a.requant.shift[c]!, zp, a.clamp[0], a.clamp[1]);
}

/** Whether channel c of A, fully pruned, can be removed given its consumer. */
export function channelRemovable(m: Model, a: ConvLayer | FcLayer, c: number, consumer: ConvLayer | FcLayer): boolean {
  const zp = m.tensors.find((t) => t.name === a.output)!.quant.zeroPoint;
  if (prunedChannelValue(a, c, zp) === zp) return true;
  return consumer.op === 'fc' || consumer.pads.every((p) => p === 0);
}

function keepRows<T extends Int8Array | Uint8Array | Int32Array>(a: T, rowLen: number, keep: readonly number[]): T {
  const out = new (a.constructor as new (n: number) => T)(keep.length * rowLen);
  keep.forEach((r, k) => out.set(a.subarray(r * rowLen, (r + 1) * rowLen), k * rowLen));
  return out;
}

/** Columns of a [rows, cols] matrix, keeping column ranges [start, start+len) of `keep` channels. */
function keepCols<T extends Int8Array | Uint8Array>(a: T, rows: number, cols: number, chanLen: number, keep: readonly number[]): T {
  const newCols = keep.length * chanLen;
  const out = new (a.constructor as new (n: number) => T)(rows * newCols);
  for (let o = 0; o < rows; o++) {
    keep.forEach((c, k) => out.set(a.subarray(o * cols + c * chanLen, o * cols + (c + 1) * chanLen), o * newCols + k * chanLen));
  }
  return out;
}

/**
 * Removes the given output channels (sorted or not) of each named layer. Throws (exit 2) when a
 * layer's channels cannot be removed or a channel is not fully pruned; the caller plans with
 * compactability() and channelRemovable() first.
 */
export function compactChannels(m: Model, remove: ReadonlyMap<string, readonly number[]>, where: string): Model {
  let model: Model = m;
  for (const [name, chans] of remove) {
    if (chans.length === 0) continue;
    model = compactOne(model, name, new Set(chans), where);
  }
  return model;
}

function compactOne(m: Model, name: string, drop: ReadonlySet<number>, where: string): Model {
  const a = m.layers.find((l) => l.name === name);
  if (!a || (a.op !== 'conv' && a.op !== 'fc')) throw unsupported(where, `layer '${name}' is not a conv or fc`);
  const can = compactability(m, a);
  if (!can.ok) throw unsupported(where, `layer '${name}': channels cannot be removed (${can.reason})`);
  const b = can.consumer;
  const outInfo = m.tensors.find((t) => t.name === a.output)!;
  const co = a.bias.length;
  const rowLen = a.weights.length / co;
  const zp = outInfo.quant.zeroPoint;
  for (const c of drop) {
    if (c < 0 || c >= co) throw unsupported(where, `layer '${name}' has no channel ${c}`);
    for (let k = 0; k < rowLen; k++) {
      if (a.weights[c * rowLen + k] !== 0) throw unsupported(where, `layer '${name}': channel ${c} is not fully pruned`);
    }
    if (!channelRemovable(m, a, c, b)) throw unsupported(where, `layer '${name}': channel ${c} is a nonzero constant read by a padded conv`);
  }
  if (drop.size === co) throw unsupported(where, `layer '${name}': every channel would be removed`);
  const keep = [...Array(co).keys()].filter((c) => !drop.has(c));
  // producer: drop rows
  const a2 = {
    ...a,
    weights: keepRows(a.weights, rowLen, keep),
    bias: keepRows(a.bias, 1, keep),
    requant: { multiplier: keepRows(a.requant.multiplier, 1, keep), shift: keepRows(a.requant.shift, 1, keep) },
    ...(a.pruneMask ? { pruneMask: keepRows(a.pruneMask, rowLen, keep) } : {}),
  } as ConvLayer | FcLayer;
  // consumer: fold constants into the bias, drop columns
  const bco = b.bias.length;
  const bCols = b.weights.length / bco;
  // inputs of B per channel of A: kh*kw for a conv, H*W through a flatten, 1 for fc on fc
  const chanLen = b.op === 'conv' ? b.kernel[0] * b.kernel[1] : bCols / co;
  const bias = Int32Array.from(b.bias);
  for (const c of drop) {
    const delta = prunedChannelValue(a, c, zp) - zp;
    if (delta === 0) continue;
    // a conv folds the constant once per tap; every tap reads it (no padding, checked above)
    for (let o = 0; o < bco; o++) {
      let s = 0;
      for (let k = 0; k < chanLen; k++) s += b.weights[o * bCols + c * chanLen + k]!;
      const v = bias[o]! + delta * s;
      if (v < -(2 ** 31) || v >= 2 ** 31) throw unsupported(where, `layer '${b.name}': folding channel ${c} of '${name}' overflows the int32 bias`);
      bias[o] = v;
    }
  }
  const b2 = {
    ...b,
    weights: keepCols(b.weights, bco, bCols, chanLen, keep),
    bias,
    ...(b.pruneMask ? { pruneMask: keepCols(b.pruneMask, bco, bCols, chanLen, keep) } : {}),
  } as ConvLayer | FcLayer;
  const tensors: TensorInfo[] = m.tensors.map((t) => {
    if (t.name === a.output) return { ...t, shape: [keep.length, ...t.shape.slice(1)] };
    if (can.reshape && t.name === can.reshape.output) return { ...t, shape: [keep.length * chanLen] };
    return t;
  });
  const layers = m.layers.map((l) => (l === a ? a2 : l === b ? b2 : l));
  return { ...m, tensors, layers };
}
