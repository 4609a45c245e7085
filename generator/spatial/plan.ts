import { unsupported } from '../../src/errors.js';
import { windowOut } from '../../src/ir/shapes.js';
import type { ConvLayer, FcLayer, Layer, Model, PoolLayer, GlobalAvgPoolLayer, TensorInfo } from '../../src/ir/types.js';
import { layerWhere } from '../engine/common.js';
import { reuseOf, type ReuseConfig } from './reuse.js';

/**
 * The spatial architecture's lowering of an IR model: one pipeline stage per conv, fc or pool
 * layer (reshape is a view and costs nothing), with every multiplier, ROM and register width
 * decided here. The RTL and HLS generators, the resource model and the cycle model all read this
 * one plan, so they cannot disagree about what exists.
 */

/** How a multiplier gets its weight (docs/spatial.md, "Multipliers"). */
export type MultKind =
  /** R > 1 and the slots differ: a ROM indexed by the reuse counter feeds a real multiplier (DSP48E1). */
  | 'rom'
  /** one constant weight (R = 1, or every slot equal): Yosys maps x * const to a DSP48E1 */
  | 'const'
  /** one constant weight +-2^n: Yosys turns it into a shift, no DSP */
  | 'shift';

export interface Multiplier {
  /** output channel whose accumulator it feeds */
  co: number;
  /** multiplier index within the output channel: serves taps j, j + J, j + 2J, ... */
  j: number;
  /** weight per reuse slot r (tap j + J*r; 0 past the last tap or where pruned) */
  weights: number[];
  /** IR weight indices (co*K + k) it serves, one per slot with a tap (pruned ones included) */
  weightIndex: number[];
  kind: MultKind;
}

/** What every stage has: its layer, its window over the input frame, and its output's numerics. */
interface StageWindow {
  layer: number;
  name: string;
  /** input [C,H,W] (a vector is [N,1,1]) and output [Co,OH,OW] */
  in: [number, number, number];
  out: [number, number, number];
  kernel: [number, number];
  stride: [number, number];
  pads: [number, number, number, number];
  zpIn: number;
  zpOut: number;
  clamp: [number, number];
}

export interface MacStage extends StageWindow {
  kind: 'mac';
  op: 'conv' | 'fc';
  bias: number[];
  mult: number[];
  /** per output channel, clamped to the product width (an equal result: docs/spatial.md) */
  shift: number[];
  /** taps per output (C * kh * kw) */
  taps: number;
  /** effective reuse factor, 1..taps */
  reuse: number;
  /** multipliers per output channel before zero removal: ceil(taps / reuse) */
  perChannel: number;
  /** output pixels (OH * OW; 1 for fc) */
  pixels: number;
  /** generated multipliers only: none for a group of all-zero weights or a dead output channel */
  mults: Multiplier[];
  /** per output channel: read downstream (a dead channel has no multiplier; see markLive) */
  liveOut: boolean[];
  /** per input frame element: read by a generated multiplier's tap */
  readIn: boolean[];
  /** signed accumulator width: holds |bias| + sum |w| * max|x - zp| exactly */
  accWidth: number;
  /** requantization lanes ceil(Co / reuse), each serving `steps` channels in turn */
  lanes: number;
  steps: number;
  /** per lane: multiplier constant across its channels (no ROM, and maybe a shift) */
  laneConst: boolean[];
}

export interface PoolStage extends StageWindow {
  kind: 'pool';
  op: 'maxpool' | 'avgpool';
  mult: number;
  shift: number;
  pixels: number;
  accWidth: number;
  /** per channel: read downstream (see markLive) */
  liveOut: boolean[];
  /** per input frame element: read by a live channel's window */
  readIn: boolean[];
}

export type ComputeStage = MacStage | PoolStage;

export interface SpatialPlan {
  name: string;
  /** model input elements (one int8 per stream beat) and its tensor */
  input: TensorInfo;
  inElems: number;
  output: TensorInfo;
  outElems: number;
  stages: ComputeStage[];
}

export const MULT_WIDTH = 15;

export function bitsSigned(maxAbs: number): number {
  let b = 1;
  while (2 ** (b - 1) - 1 < maxAbs) b++;
  return b;
}

export const isPow2 = (v: number): boolean => v !== 0 && (Math.abs(v) & (Math.abs(v) - 1)) === 0;

/** Width of the requantization product: accumulator times the 16-bit signed {0, multiplier}. */
export const prodWidth = (accWidth: number): number => accWidth + MULT_WIDTH + 1;

/** max |x - zp| over int8 x. */
const xMax = (zp: number): number => Math.max(127 - zp, zp + 128);

function chw(shape: readonly number[]): [number, number, number] {
  if (shape.length === 1) return [shape[0]!, 1, 1];
  return [shape[0]!, shape[1]!, shape[2]!];
}

/**
 * Multipliers of one conv/fc layer at reuse factor R: per output channel co, multiplier j serves
 * taps k = j + J*r (r = 0..R-1, J = ceil(K/R)), i.e. IR weights co*K + k. This is the knapsack's
 * "pattern" structure: pruning all of a multiplier's weights removes it.
 */
export function layerMultipliers(l: ConvLayer | FcLayer, taps: number, reuse: number): { reuse: number; perChannel: number; all: Multiplier[] } {
  const co = l.bias.length;
  const r = Math.max(1, Math.min(reuse, taps));
  const J = Math.ceil(taps / r);
  const all: Multiplier[] = [];
  for (let o = 0; o < co; o++) {
    for (let j = 0; j < J; j++) {
      const weights: number[] = [];
      const weightIndex: number[] = [];
      for (let s = 0; s < r; s++) {
        const k = j + J * s;
        if (k < taps) {
          weightIndex.push(o * taps + k);
          weights.push(l.weights[o * taps + k]!);
        } else weights.push(0);
      }
      const allEqual = weights.every((w) => w === weights[0]);
      const kind: MultKind = allEqual ? (isPow2(weights[0]!) ? 'shift' : 'const') : 'rom';
      all.push({ co: o, j, weights, weightIndex, kind });
    }
  }
  return { reuse: r, perChannel: J, all };
}

function macStage(l: ConvLayer | FcLayer, index: number, x: TensorInfo, y: TensorInfo, reuse: number, where: string): MacStage {
  const inShape = chw(x.shape);
  const outShape = chw(y.shape);
  const conv = l.op === 'conv';
  if (conv && l.groups !== 1) throw unsupported(where, `grouped convolution (groups=${l.groups}) is not supported by the spatial architecture`);
  if (conv && l.gating) throw unsupported(where, 'channel gating is not supported by the spatial architecture');
  const kernel: [number, number] = conv ? l.kernel : [1, 1];
  const taps = conv ? inShape[0] * kernel[0] * kernel[1] : inShape[0] * inShape[1] * inShape[2];
  const fcIn: [number, number, number] = [taps, 1, 1];
  const { reuse: R, perChannel, all } = layerMultipliers(l, taps, reuse);
  const co = l.bias.length;
  const xm = xMax(x.quant.zeroPoint);
  let bound = 0;
  for (let o = 0; o < co; o++) {
    let s = Math.abs(l.bias[o]!);
    for (let k = 0; k < taps; k++) s += Math.abs(l.weights[o * taps + k]!) * xm;
    bound = Math.max(bound, s);
  }
  // int32 wraps like the golden model's Int32Array accumulators; never wider.
  const accWidth = Math.min(32, Math.max(2, bitsSigned(bound)));
  const pw = prodWidth(accWidth);
  const lanes = Math.ceil(co / R);
  const steps = Math.ceil(co / lanes);
  const mult = Array.from(l.requant.multiplier);
  const laneConst = Array.from({ length: lanes }, (_, ln) => {
    const ms: number[] = [];
    for (let s = 0; s < steps; s++) if (s * lanes + ln < co) ms.push(mult[s * lanes + ln]!);
    return ms.every((m) => m === ms[0]);
  });
  return {
    kind: 'mac',
    layer: index,
    name: l.name,
    op: l.op,
    in: conv ? inShape : fcIn,
    out: outShape,
    kernel,
    stride: conv ? l.stride : [1, 1],
    pads: conv ? l.pads : [0, 0, 0, 0],
    zpIn: x.quant.zeroPoint,
    zpOut: y.quant.zeroPoint,
    clamp: l.clamp,
    bias: Array.from(l.bias),
    mult,
    shift: Array.from(l.requant.shift, (s) => Math.min(s, pw)),
    taps,
    reuse: R,
    perChannel,
    pixels: outShape[1] * outShape[2],
    mults: all.filter((m) => m.weights.some((w) => w !== 0)),
    liveOut: new Array<boolean>(co).fill(true),
    readIn: new Array<boolean>(conv ? inShape[0] * inShape[1] * inShape[2] : taps).fill(true),
    accWidth,
    lanes,
    steps,
    laneConst,
  };
}

function poolStage(l: PoolLayer | GlobalAvgPoolLayer, index: number, x: TensorInfo, y: TensorInfo, where: string): PoolStage {
  const inShape = chw(x.shape);
  const outShape = chw(y.shape);
  const global = l.op === 'globalavgpool';
  const kernel: [number, number] = global ? [inShape[1], inShape[2]] : l.kernel;
  const pads: [number, number, number, number] = global ? [0, 0, 0, 0] : l.pads;
  const stride: [number, number] = global ? [1, 1] : l.stride;
  const op = l.op === 'maxpool' ? 'maxpool' : 'avgpool';
  if (op === 'maxpool' && (pads[0] >= kernel[0] || pads[1] >= kernel[1] || pads[2] >= kernel[0] || pads[3] >= kernel[1])) {
    throw unsupported(where, 'max pooling with a window entirely in padding');
  }
  const oh = windowOut(inShape[1], kernel[0], stride[0], pads[0], pads[2]);
  const ow = windowOut(inShape[2], kernel[1], stride[1], pads[1], pads[3]);
  // Max pooling keeps a -256 sentinel for taps outside the image: 10 bits.
  const accWidth = op === 'maxpool' ? 10 : bitsSigned(255 * kernel[0] * kernel[1]);
  const pw = prodWidth(accWidth);
  return {
    kind: 'pool',
    layer: index,
    name: l.name,
    op,
    in: inShape,
    out: [outShape[0], oh, ow],
    kernel,
    stride,
    pads,
    zpIn: x.quant.zeroPoint,
    zpOut: y.quant.zeroPoint,
    clamp: l.clamp,
    mult: l.requant.multiplier[0]!,
    shift: Math.min(l.requant.shift[0]!, pw),
    pixels: oh * ow,
    accWidth,
    liveOut: new Array<boolean>(outShape[0]).fill(true),
    readIn: new Array<boolean>(inShape[0] * inShape[1] * inShape[2]).fill(true),
  };
}

/**
 * Dead logic (docs/spatial.md, "Resource model"): an output channel that no generated multiplier
 * (or pool window) of the next stage reads feeds nothing, and synthesis removes it with its
 * multipliers, accumulator, requantization lane and frame bits, which in turn can leave channels
 * of the stage before unread. Pruning every pattern that reads a channel prunes the channel, so
 * the plan drops those multipliers itself (the RTL and HLS never generate them) and the resource
 * model counts what Yosys keeps. Walks the chain from the output, whose every channel is live.
 * A tap reads its frame element in every reuse slot (the R:1 mux does not know that a slot's
 * weight is zero), and a conv frame rotates through whole channel planes, so conv inputs are read
 * plane by plane.
 */
function markLive(stages: ComputeStage[]): void {
  let readNext: boolean[] | undefined;
  for (let k = stages.length - 1; k >= 0; k--) {
    const s = stages[k]!;
    const P = s.pixels;
    s.liveOut = s.liveOut.map((_, c) => readNext === undefined || readNext.slice(c * P, (c + 1) * P).some(Boolean));
    const [c, h, w] = s.in;
    const plane = h * w;
    const read = new Array<boolean>(c * plane).fill(false);
    const markPlane = (ch: number) => read.fill(true, ch * plane, (ch + 1) * plane);
    if (s.kind === 'mac') {
      s.mults = s.mults.filter((m) => s.liveOut[m.co]);
      const area = s.kernel[0] * s.kernel[1];
      for (const m of s.mults) {
        for (let r = 0; r < s.reuse; r++) {
          const t = m.j + s.perChannel * r;
          if (t >= s.taps) continue;
          if (s.op === 'fc') read[t] = true;
          else markPlane(Math.floor(t / area));
        }
      }
    } else {
      s.liveOut.forEach((live, ch) => live && markPlane(ch));
    }
    s.readIn = read;
    readNext = read;
  }
}

/**
 * The spatial plan of a model: a chain of layers from its one input to its one output. Refuses
 * (exit 2) what the spatial architecture does not build: branches, adds, concats, transposes,
 * grouped or gated convs.
 */
export interface PlanOptions {
  /**
   * Keep the multipliers of channels nothing reads downstream (markLive), as a netlist before
   * synthesis has them: the knapsack pruner's linear cost model, where every pattern costs its
   * own multiplier whatever else is pruned. Default false: the design that is generated.
   */
  keepDead?: boolean;
}

export function planSpatial(model: Model, reuse: ReuseConfig, source: string = model.source.file, opts: PlanOptions = {}): SpatialPlan {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw unsupported(source, `the spatial architecture builds models with one input and one output (this one has ${model.inputs.length} and ${model.outputs.length})`);
  }
  const infos = new Map(model.tensors.map((t) => [t.name, t]));
  const input = infos.get(model.inputs[0]!)!;
  let current = input.name;
  const stages: ComputeStage[] = [];
  model.layers.forEach((l: Layer, i) => {
    const where = layerWhere(source, l);
    if (l.inputs.length !== 1 || l.inputs[0] !== current) {
      throw unsupported(where, 'the spatial architecture builds chains of layers (each layer reads the previous one\'s output)');
    }
    const x = infos.get(current)!;
    const y = infos.get(l.output)!;
    switch (l.op) {
      case 'conv':
      case 'fc':
        stages.push(macStage(l, i, x, y, reuseOf(reuse, l.name), where));
        break;
      case 'maxpool':
      case 'avgpool':
      case 'globalavgpool':
        stages.push(poolStage(l, i, x, y, where));
        break;
      case 'reshape':
        break;
      default:
        throw unsupported(where, `${l.op} is not supported by the spatial architecture`);
    }
    current = l.output;
  });
  if (current !== model.outputs[0]) throw unsupported(source, 'the model output is not the last layer\'s output');
  if (stages.length === 0) throw unsupported(source, 'the model has no conv, fc or pool layer');
  if (!opts.keepDead) markLive(stages);
  const output = infos.get(current)!;
  const elems = (t: TensorInfo) => t.shape.reduce((a, b) => a * b, 1);
  return { name: model.name, input, inElems: elems(input), output, outElems: elems(output), stages };
}
