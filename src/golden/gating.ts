import { windowOut } from '../ir/shapes.js';
import type { ConvLayer, Gating, Model, Quantization } from '../ir/types.js';
import { centeredPadded, convChannelAcc, requantInto, type Act } from './layers.js';

/**
 * Channel gating (DESIGN.md "Channel gating"), exactly as the hardware does it. Per output
 * activation (co, y, x) of a gated conv with k base channels:
 *   acc_base = bias[co] + sum over input channels 0..k-1 and every tap of w * (x - zp)
 *   gate on  = below[co] ? acc_base < threshold[co] : acc_base > threshold[co]
 *   acc      = gate on ? acc_base + sum over channels k..Cin-1 : acc_base
 * then the usual requantization. Padding taps hold real zero, as in the dense conv.
 *
 * Counted per gated conv, exactly (MACs as golden/macs.ts counts them: every (output, tap)
 * pair, padding taps included):
 * - outputs gated off / total output activations;
 * - MACs dense = outputs * Cin * kh * kw; base = outputs * k * kh * kw (every output runs its
 *   base path); executed = base + (gated-on outputs) * (Cin - k) * kh * kw;
 * - reduction = dense / executed, the theoretical MAC reduction gating alone gives.
 * Zero-block skipping composes on top (golden/zero-blocks.ts): of the executed (output, tap)
 * pairs, those whose input element lies inside the image and in a zero block are skipped too.
 */

export type GatedConvLayer = ConvLayer & { gating: Gating };

export function isGated(l: ConvLayer): l is GatedConvLayer {
  return l.gating !== undefined;
}

export function hasGating(m: Model): boolean {
  return m.layers.some((l) => l.op === 'conv' && l.gating !== undefined);
}

/** Whether one output activation's gate is on, by the IR's rule. */
export function gateOn(accBase: number, threshold: number, below: boolean): boolean {
  return below ? accBase < threshold : accBase > threshold;
}

export interface GatedConvResult {
  act: Act;
  /** One entry per output element in (co, y, x) order: 1 = gate on (rest channels computed). */
  gates: Uint8Array;
}

/** The gated conv kernel (groups == 1, which validation guarantees for gated convs). */
export function gatedConv(l: GatedConvLayer, x: Act, yq: Quantization): GatedConvResult {
  const cin = x.shape[0]!;
  const xp = centeredPadded(x, l.pads);
  const co = l.bias.length;
  const k = l.gating.baseChannels;
  const [oh, ow] = outputSize(l, x.shape);
  const plane = oh * ow;
  const out = new Int8Array(co * plane);
  const gates = new Uint8Array(co * plane);
  const acc = new Int32Array(plane);
  const rest = new Int32Array(plane);
  for (let o = 0; o < co; o++) {
    acc.fill(l.bias[o]!);
    convChannelAcc(l, xp, o, cin, 0, k, oh, ow, acc);
    rest.fill(0);
    convChannelAcc(l, xp, o, cin, k, cin, oh, ow, rest);
    const thr = l.gating.threshold[o]!;
    const below = l.gating.below?.[o] ?? false;
    for (let i = 0; i < plane; i++) {
      if (gateOn(acc[i]!, thr, below)) {
        acc[i]! += rest[i]!;
        gates[o * plane + i] = 1;
      }
    }
    requantInto(out, o * plane, acc, l.requant.multiplier[o]!, l.requant.shift[o]!, yq.zeroPoint, l.clamp);
  }
  return { act: { shape: [co, oh, ow], data: out, quant: yq }, gates };
}

function outputSize(l: ConvLayer, inShape: readonly number[]): [number, number] {
  const [, h, w] = inShape as [number, number, number];
  return [windowOut(h, l.kernel[0], l.stride[0], l.pads[0], l.pads[2]), windowOut(w, l.kernel[1], l.stride[1], l.pads[1], l.pads[3])];
}

/**
 * acc_base of a groups == 1 conv over an arbitrary set of input channels (original numbering),
 * bias included, in (co, y, x) order: the calibration statistics of `gatec gate`, taken before
 * any reordering puts the set first. Equal to the gated kernel's acc_base after reordering
 * (the same integer terms, summed exactly).
 */
export function baseAccumulators(l: ConvLayer, x: Act, channels: readonly number[]): Int32Array {
  const cin = x.shape[0]!;
  const xp = centeredPadded(x, l.pads);
  const [oh, ow] = outputSize(l, x.shape);
  const plane = oh * ow;
  const co = l.bias.length;
  const out = new Int32Array(co * plane);
  const acc = new Int32Array(plane);
  for (let o = 0; o < co; o++) {
    acc.fill(l.bias[o]!);
    for (const c of channels) convChannelAcc(l, xp, o, cin, c, c + 1, oh, ow, acc);
    out.set(acc, o * plane);
  }
  return out;
}

function countOnes(a: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += a[i]!;
  return n;
}

export interface GatingMacs {
  dense: number;
  /** The base path of every output. */
  base: number;
  /** base + the rest channels of gated-on outputs. */
  executed: number;
}

/** MACs of a gated conv given its gates (see the counting rule above). */
export function gatedMacs(l: GatedConvLayer, cin: number, gates: Uint8Array): GatingMacs {
  const taps = l.kernel[0] * l.kernel[1];
  const k = l.gating.baseChannels;
  const outputs = gates.length;
  const base = outputs * k * taps;
  return { dense: outputs * cin * taps, base, executed: base + countOnes(gates) * (cin - k) * taps };
}

/**
 * Of the (output, tap) pairs a gated conv executes, those whose input element lies inside the
 * image and is flagged in `mask` (zero-block elements of its input): every output's base taps,
 * the rest taps only for gated-on outputs.
 */
export function gatedMaskedMacs(l: GatedConvLayer, inShape: readonly number[], mask: Uint8Array, gates: Uint8Array): number {
  const [cin, h, w] = inShape as [number, number, number];
  const [oh, ow] = outputSize(l, inShape);
  const [kh, kw] = l.kernel;
  const k = l.gating.baseChannels;
  const plane = oh * ow;
  // Flagged taps per output position, for the base and the rest channels (the same for every co).
  const base = new Float64Array(plane);
  const rest = new Float64Array(plane);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let b = 0;
      let r = 0;
      for (let ky = 0; ky < kh; ky++) {
        const iy = y * l.stride[0] - l.pads[0] + ky;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = x * l.stride[1] - l.pads[1] + kx;
          if (ix < 0 || ix >= w) continue;
          for (let c = 0; c < cin; c++) {
            if (!mask[(c * h + iy) * w + ix]) continue;
            if (c < k) b++;
            else r++;
          }
        }
      }
      base[y * ow + x] = b;
      rest[y * ow + x] = r;
    }
  }
  let skipped = 0;
  for (let i = 0; i < gates.length; i++) {
    const p = i % plane;
    skipped += base[p]! + (gates[i] ? rest[p]! : 0);
  }
  return skipped;
}

export interface LayerGating {
  layer: string;
  inputChannels: number;
  baseChannels: number;
  outputs: { gatedOff: number; total: number };
  macs: GatingMacs;
  /** dense / executed MACs: the theoretical reduction gating gives this layer. */
  reduction: number;
}

export interface GatingTotals {
  outputs: { gatedOff: number; total: number };
  macs: GatingMacs;
  reduction: number;
}

export interface GatingResult {
  /** One entry per gated conv, in model order. */
  layers: LayerGating[];
  /** Sums over the gated convs (ungated layers are not included). */
  total: GatingTotals;
}

/** Collects the per-layer gating counters of one golden run. */
export class GatingCounter {
  readonly layers: LayerGating[] = [];

  layer(l: GatedConvLayer, cin: number, gates: Uint8Array): void {
    const macs = gatedMacs(l, cin, gates);
    const on = countOnes(gates);
    this.layers.push({
      layer: l.name,
      inputChannels: cin,
      baseChannels: l.gating.baseChannels,
      outputs: { gatedOff: gates.length - on, total: gates.length },
      macs,
      reduction: macs.dense / macs.executed,
    });
  }

  result(): GatingResult {
    const total: GatingTotals = { outputs: { gatedOff: 0, total: 0 }, macs: { dense: 0, base: 0, executed: 0 }, reduction: 1 };
    for (const l of this.layers) {
      total.outputs.gatedOff += l.outputs.gatedOff;
      total.outputs.total += l.outputs.total;
      total.macs.dense += l.macs.dense;
      total.macs.base += l.macs.base;
      total.macs.executed += l.macs.executed;
    }
    total.reduction = total.macs.executed > 0 ? total.macs.dense / total.macs.executed : 1;
    return { layers: this.layers, total };
  }
}
