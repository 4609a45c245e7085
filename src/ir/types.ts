/**
 * gatec IR v1, in memory. The JSON form (see schema.ts and docs in README) differs only in
 * that typed arrays are base64 strings; serialize.ts converts between the two.
 */
export const IR_FORMAT = 'gatec-ir';
export const IR_VERSION = 1;

export type SourceFormat = 'qdq' | 'qoperator' | 'fp32-ptq' | 'ir';

/** Activation quantization: real = scale * (q - zeroPoint), q in int8. */
export interface Quantization {
  scale: number;
  zeroPoint: number;
}

/** Zero-block skipping of an activation tensor (Zebra): block of bc x bh x bw, |v - zp| <= epsilon. */
export interface ZeroBlockConfig {
  block: [number, number, number];
  epsilon: number;
}

export interface TensorInfo {
  name: string;
  /** Shape without the batch dimension: [C, H, W] for feature maps, [N] for vectors. */
  shape: number[];
  quant: Quantization;
  zeroBlock?: ZeroBlockConfig;
}

/**
 * Requantization of an int32 accumulator to int8 (the one rounding rule, see numerics.ts):
 * y = clamp(zp + ((acc * multiplier + 2^(shift-1)) >> shift), lo, hi).
 * One entry per output channel for conv/fc, one per layer for pools.
 */
export interface Requant {
  multiplier: Int32Array;
  shift: Int32Array;
}

/** Fused activation as a saturating clamp in the output's int8 domain. */
export type Clamp = [number, number];

/**
 * Channel gating of a conv (CGNet, DESIGN.md "Channel gating"). The first `baseChannels` input
 * channels are the base path (a reordering pass put them first); per output activation
 *   acc_base = bias[co] + sum over the base channels and taps of w * (x - zp_x)
 *   gate on  = below[co] ? acc_base < threshold[co] : acc_base > threshold[co]
 *   acc      = gate on ? acc_base + sum over the other channels : acc_base
 * and acc is requantized as usual. `below` is set where the folded BatchNorm scale of the
 * channel is negative (the real partial sum and the accumulator then move in opposite
 * directions); absent means false for every channel. Only for groups == 1.
 */
export interface Gating {
  /** 1 .. Cin - 1 */
  baseChannels: number;
  /** int32 per output channel, accumulator domain (bias included). */
  threshold: Int32Array;
  /** One per output channel: gate on when acc_base is below the threshold instead of above. */
  below?: boolean[];
}

interface LayerBase {
  name: string;
  inputs: string[];
  output: string;
}

export interface ConvLayer extends LayerBase {
  op: 'conv';
  kernel: [number, number];
  stride: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  groups: number;
  /** int8 [Co, Ci/groups, kh, kw] */
  weights: Int8Array;
  /** int32 [Co], at scale s_x * s_w[co] */
  bias: Int32Array;
  requant: Requant;
  clamp: Clamp;
  gating?: Gating;
  /** 1 per kept weight, 0 per pruned one; same layout as weights. */
  pruneMask?: Uint8Array;
}

export interface FcLayer extends LayerBase {
  op: 'fc';
  /** int8 [Co, Ci] */
  weights: Int8Array;
  bias: Int32Array;
  requant: Requant;
  clamp: Clamp;
  pruneMask?: Uint8Array;
}

/** Residual add: acc = (a - zp_a) * m_a + (b - zp_b) * m_b, one shared shift. */
export interface AddLayer extends LayerBase {
  op: 'add';
  requant: Requant;
  clamp: Clamp;
}

export interface PoolLayer extends LayerBase {
  op: 'maxpool' | 'avgpool';
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  requant: Requant;
  clamp: Clamp;
}

export interface GlobalAvgPoolLayer extends LayerBase {
  op: 'globalavgpool';
  requant: Requant;
  clamp: Clamp;
}

/** Concatenation on channels; requant has one entry per input. */
export interface ConcatLayer extends LayerBase {
  op: 'concat';
  requant: Requant;
  clamp: Clamp;
}

/** Flatten/Reshape: a view, same bytes in the same (C, H, W) order, new shape. */
export interface ReshapeLayer extends LayerBase {
  op: 'reshape';
}

/** Layout change (e.g. channels-last to channels-first): perm over the non-batch axes. */
export interface TransposeLayer extends LayerBase {
  op: 'transpose';
  perm: number[];
}

export type Layer =
  | ConvLayer
  | FcLayer
  | AddLayer
  | PoolLayer
  | GlobalAvgPoolLayer
  | ConcatLayer
  | ReshapeLayer
  | TransposeLayer;

export type LayerOp = Layer['op'];

export interface Model {
  format: typeof IR_FORMAT;
  version: typeof IR_VERSION;
  name: string;
  source: { file: string; format: SourceFormat };
  inputs: string[];
  outputs: string[];
  tensors: TensorInfo[];
  layers: Layer[];
}
