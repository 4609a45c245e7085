import { unsupported } from '../../errors.js';
import {
  INT8_MAX,
  INT8_MIN,
  quantizeMultiplier,
  quantizeMultipliersSharedShift,
  quantizeValue,
  roundHalfEven,
} from '../../ir/numerics.js';
import { inferOutputShape, product } from '../../ir/shapes.js';
import {
  IR_FORMAT,
  IR_VERSION,
  type Clamp,
  type Layer,
  type Model,
  type Quantization,
  type Requant,
  type SourceFormat,
  type TensorInfo,
} from '../../ir/types.js';
import { reshapeTarget } from './float-executor.js';
import { attrFloat, attrInt, attrInts, attrString, nodeWhere, type GraphNode } from './graph.js';
import { inheritsQuant, type NodeGroup } from './layers.js';
import type { AnnotatedGraph, QuantConst } from './qdq.js';

/** Weights of one weighted layer in [Co, K] order, either already integer or still real. */
interface Weights {
  co: number;
  /** integer values with the zero point removed, plus a per-output-channel scale */
  q?: { values: Float64Array; scale: Float64Array };
  real?: Float64Array;
}

interface Bias {
  real: Float64Array;
  /** the int32 values as the model stored them, kept while no folding changed the bias */
  exact?: { values: Float64Array; scale: Float64Array };
}

/** Quantized constant -> [Co, K] integers, per output channel; `outAxis` is the channel axis. */
function quantWeights(c: QuantConst, co: number, outAxis: number, where: string): Weights {
  if (c.scale.length !== 1 && (c.scale.length !== co || c.axis !== outAxis)) {
    throw unsupported(where, 'weights must be quantized per tensor or per output channel');
  }
  const k = c.q.length / co;
  const values = new Float64Array(c.q.length);
  const scale = new Float64Array(co);
  for (let o = 0; o < co; o++) {
    const ch = c.scale.length === 1 ? 0 : o;
    scale[o] = c.scale[ch]!;
    for (let i = 0; i < k; i++) {
      const src = outAxis === 0 ? o * k + i : i * co + o;
      const v = c.q[src]! - c.zeroPoint[ch]!;
      if (v < INT8_MIN || v > INT8_MAX) throw unsupported(where, 'weights minus their zero point do not fit int8');
      values[o * k + i] = v;
    }
  }
  return { co, q: { values, scale } };
}

function realWeights(values: Float64Array, co: number, outAxis: number): Weights {
  if (outAxis === 0) return { co, real: values };
  const k = values.length / co;
  const real = new Float64Array(values.length);
  for (let o = 0; o < co; o++) for (let i = 0; i < k; i++) real[o * k + i] = values[i * co + o]!;
  return { co, real };
}

/** Per-channel symmetric int8 weights (PTQ): scale = max|w| / 127. */
function finalizeWeights(w: Weights, factor: Float64Array): { values: Int8Array; scale: Float64Array } {
  const k = (w.q?.values.length ?? w.real!.length) / w.co;
  const values = new Int8Array(w.co * k);
  const scale = new Float64Array(w.co);
  for (let o = 0; o < w.co; o++) {
    const a = factor[o]!;
    if (w.q) {
      scale[o] = a === 0 ? 1 : Math.abs(a) * w.q.scale[o]!;
      for (let i = 0; i < k; i++) values[o * k + i] = a === 0 ? 0 : Math.sign(a) * w.q.values[o * k + i]!;
    } else {
      let max = 0;
      for (let i = 0; i < k; i++) max = Math.max(max, Math.abs(a * w.real![o * k + i]!));
      const s = max === 0 ? 1 : max / 127;
      scale[o] = s;
      for (let i = 0; i < k; i++) values[o * k + i] = Math.max(-127, Math.min(127, roundHalfEven((a * w.real![o * k + i]!) / s)));
    }
  }
  return { values, scale };
}

function finalizeBias(b: Bias, sx: number, sw: Float64Array, where: string): Int32Array {
  const out = new Int32Array(sw.length);
  for (let o = 0; o < sw.length; o++) {
    const s = sx * sw[o]!;
    const ex = b.exact;
    const v =
      ex && Math.abs(ex.scale[ex.scale.length === 1 ? 0 : o]! / s - 1) < 1e-6 ? ex.values[o]! : Math.round(b.real[o]! / s);
    if (v < -(2 ** 31) || v >= 2 ** 31) throw unsupported(where, 'bias does not fit int32 at scale input x weight');
    out[o] = v;
  }
  return out;
}

function requantOf(reals: number[], where: string): Requant {
  try {
    const m = reals.map(quantizeMultiplier);
    return { multiplier: Int32Array.from(m.map((x) => x.multiplier)), shift: Int32Array.from(m.map((x) => x.shift)) };
  } catch (e) {
    throw unsupported(where, (e as Error).message);
  }
}

function sharedRequant(reals: number[], where: string): Requant {
  try {
    const m = quantizeMultipliersSharedShift(reals);
    if (m.multipliers.some((x) => x >= 2 ** 15)) throw new RangeError('input scales differ by too much');
    return { multiplier: Int32Array.from(m.multipliers), shift: Int32Array.of(m.shift) };
  } catch (e) {
    throw unsupported(where, (e as Error).message);
  }
}

/**
 * How a conv's int32 accumulator relates to the real partial sums of its ONNX weights: one
 * accumulator unit is input * weight[co] in real units of the folded conv, whose weights are the
 * ONNX weights times factor[co] (BatchNormalization gamma / sqrt(var + eps), Mul constants).
 */
export interface ConvScales {
  input: number;
  weight: Float64Array;
  factor: Float64Array;
}

export interface Lowered {
  model: Model;
  /** Per conv layer name. */
  convScales: Map<string, ConvScales>;
}

/**
 * Lowers the grouped float graph to IR v1. Every activation tensor at a layer boundary must have
 * quantization parameters (from QDQ or from calibration); views and max pooling inherit theirs.
 */
export function lowerToIr(g: AnnotatedGraph, groups: NodeGroup[], name: string, format: SourceFormat): Lowered {
  const convScales = new Map<string, ConvScales>();
  const tensors = new Map<string, TensorInfo>();
  const layers: Layer[] = [];
  const file = g.file;
  const quantOf = (t: string, where: string): Quantization => {
    const q = g.quant.get(t);
    if (!q) throw unsupported(where, `tensor '${t}' has no quantization parameters (it needs a QuantizeLinear)`);
    return q;
  };
  const inShape = g.input.shape;
  if (inShape[0] !== 1 || (inShape.length !== 4 && inShape.length !== 2)) {
    throw unsupported(`${file}: input '${g.input.name}'`, `shape [${inShape.join(',')}] is not [1,C,H,W] or [1,N]`);
  }
  tensors.set(g.input.name, { name: g.input.name, shape: inShape.slice(1), quant: quantOf(g.input.name, `${file}: input '${g.input.name}'`) });

  for (const grp of groups) {
    const n = grp.main;
    const where = nodeWhere(file, n);
    const ins = n.inputs.filter((i) => i && !g.consts.has(i));
    const inTensors = ins.map((i) => {
      const t = tensors.get(i);
      if (!t) throw unsupported(where, `input '${i}' is not an activation tensor the importer produced`);
      return t;
    });
    const x = inTensors[0];
    if (!x) throw unsupported(where, 'the node has no activation input');
    const outQuant = (): Quantization => {
      if (inheritsQuant(n.op) && grp.fused.length === 0) {
        const q = g.quant.get(grp.output);
        if (q && n.op !== 'MaxPool' && (q.scale !== x.quant.scale || q.zeroPoint !== x.quant.zeroPoint)) {
          throw unsupported(where, 'a layout op cannot change quantization parameters');
        }
        return q ?? x.quant;
      }
      return quantOf(grp.output, where);
    };
    const yq = outQuant();
    const clamp = clampOf(grp.fused, yq, g, where);
    const base = { name: n.name, inputs: ins, output: grp.output };
    let layer: Layer;
    switch (n.op) {
      case 'Conv':
      case 'Gemm':
      case 'MatMul': {
        const wName = n.inputs[1]!;
        const wc = g.consts.get(wName)!;
        const qc = g.qconsts.get(wName);
        const transB = n.op === 'Gemm' && attrInt(n, 'transB', 0) === 1;
        const outAxis = n.op === 'Conv' || transB ? 0 : 1;
        const co = wc.dims[outAxis]!;
        const w = qc ? quantWeights(qc, co, outAxis, where) : realWeights(wc.values, co, outAxis);
        const factor = new Float64Array(co).fill(n.op === 'Gemm' ? attrFloat(n, 'alpha', 1) : 1);
        const bias = biasOf(n, g, co, where);
        foldAffine(grp.fused, g, factor, bias, where);
        const wq = finalizeWeights(w, factor);
        const biasInt = finalizeBias(bias, x.quant.scale, wq.scale, where);
        const requant = requantOf(Array.from(wq.scale, (s) => (x.quant.scale * s) / yq.scale), where);
        if (n.op === 'Conv') {
          const [kh, kw] = [wc.dims[2]!, wc.dims[3]!];
          const autoValid = attrString(n, 'auto_pad') === 'VALID';
          const pads = (autoValid ? [0, 0, 0, 0] : (attrInts(n, 'pads') ?? [0, 0, 0, 0])) as [number, number, number, number];
          const stride = (attrInts(n, 'strides') ?? [1, 1]) as [number, number];
          layer = { op: 'conv', ...base, kernel: [kh, kw], stride, pads, groups: attrInt(n, 'group', 1), weights: wq.values, bias: biasInt, requant, clamp };
          convScales.set(n.name, { input: x.quant.scale, weight: wq.scale, factor });
        } else {
          if (x.shape.length !== 1) throw unsupported(where, `input must be a vector (flatten it first), got [${x.shape.join(',')}]`);
          layer = { op: 'fc', ...base, weights: wq.values, bias: biasInt, requant, clamp };
        }
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const [kh, kw] = attrInts(n, 'kernel_shape') as [number, number];
        const autoValid = attrString(n, 'auto_pad') === 'VALID';
        const pads = (autoValid ? [0, 0, 0, 0] : (attrInts(n, 'pads') ?? [0, 0, 0, 0])) as [number, number, number, number];
        const stride = (attrInts(n, 'strides') ?? [1, 1]) as [number, number];
        const count = n.op === 'MaxPool' ? 1 : kh * kw;
        const requant = requantOf([x.quant.scale / (yq.scale * count)], where);
        layer = { op: n.op === 'MaxPool' ? 'maxpool' : 'avgpool', ...base, kernel: [kh, kw], stride, pads, requant, clamp };
        break;
      }
      case 'GlobalAveragePool': {
        const hw = x.shape.length === 3 ? x.shape[1]! * x.shape[2]! : 1;
        layer = { op: 'globalavgpool', ...base, requant: requantOf([x.quant.scale / (yq.scale * hw)], where), clamp };
        break;
      }
      case 'Add': {
        if (inTensors.length !== 2) throw unsupported(where, 'Add needs two activation inputs');
        layer = { op: 'add', ...base, requant: sharedRequant(inTensors.map((t) => t.quant.scale / yq.scale), where), clamp };
        break;
      }
      case 'Concat': {
        const axis = attrInt(n, 'axis', 1);
        if (axis !== 1 && axis !== 1 - (x.shape.length + 1)) throw unsupported(where, `concat on axis ${axis} is not supported (channels only)`);
        layer = { op: 'concat', ...base, requant: requantOf(inTensors.map((t) => t.quant.scale / yq.scale), where), clamp };
        break;
      }
      case 'Flatten':
      case 'Reshape': {
        const full = [1, ...x.shape];
        let target: number[];
        if (n.op === 'Flatten') {
          const axis = attrInt(n, 'axis', 1);
          const ax = axis < 0 ? axis + full.length : axis;
          if (ax !== 1) throw unsupported(where, `flatten axis ${axis} would merge the batch dimension`);
          target = [1, product(x.shape)];
        } else {
          target = reshapeTarget(full, Array.from(g.consts.get(n.inputs[1]!)!.values), attrInt(n, 'allowzero', 0) === 1);
        }
        if (target[0] !== 1 || product(target) !== product(full)) {
          throw unsupported(where, `reshape to [${target.join(',')}] changes the batch dimension`);
        }
        layer = { op: 'reshape', ...base };
        tensors.set(grp.output, { name: grp.output, shape: target.slice(1), quant: yq });
        layers.push(layer);
        continue;
      }
      case 'Transpose': {
        const perm = attrInts(n, 'perm') ?? [...Array(x.shape.length + 1).keys()].reverse();
        if (perm[0] !== 0) throw unsupported(where, 'transposing the batch dimension is not supported');
        layer = { op: 'transpose', ...base, perm: perm.slice(1).map((p) => p - 1) };
        break;
      }
      default:
        throw unsupported(where, `operator ${n.op} is not supported`);
    }
    const shape = inferOutputShape(layer, inTensors.map((t) => t.shape));
    if (typeof shape === 'string') throw unsupported(where, shape);
    tensors.set(grp.output, { name: grp.output, shape, quant: yq });
    layers.push(layer);
  }
  for (const o of g.outputs) {
    if (!tensors.has(o)) throw unsupported(`${file}: output '${o}'`, 'is not produced by a supported layer');
  }
  const model: Model = {
    format: IR_FORMAT,
    version: IR_VERSION,
    name,
    source: { file, format },
    inputs: [g.input.name],
    outputs: [...g.outputs],
    tensors: [...tensors.values()],
    layers,
  };
  return { model, convScales };
}

function biasOf(n: GraphNode, g: AnnotatedGraph, co: number, where: string): Bias {
  const bName = n.inputs[2];
  if (!bName) return { real: new Float64Array(co) };
  const c = g.consts.get(bName);
  if (!c || c.values.length !== co) throw unsupported(where, `bias must be a constant of ${co} values`);
  const beta = n.op === 'Gemm' ? attrFloat(n, 'beta', 1) : 1;
  const qc = g.qconsts.get(bName);
  const real = c.values.map((v) => v * beta);
  if (qc && beta === 1 && qc.zeroPoint.every((z) => z === 0)) return { real, exact: { values: qc.q, scale: qc.scale } };
  return { real };
}

/** Values of a constant broadcast along the output channels, or undefined if it is not per channel. */
function perChannel(values: Float64Array, dims: number[], co: number): Float64Array | undefined {
  if (values.length === 1) return new Float64Array(co).fill(values[0]!);
  if (values.length === co && dims.filter((d) => d !== 1).length === 1) return values;
  return undefined;
}

/** Folds BatchNormalization and Mul/Add by constants into the per-channel weight factor and bias. */
function foldAffine(fused: GraphNode[], g: AnnotatedGraph, factor: Float64Array, bias: Bias, where: string): void {
  const co = factor.length;
  for (const f of fused) {
    if (f.op === 'BatchNormalization') {
      const [gamma, beta, mean, variance] = f.inputs.slice(1).map((i) => g.consts.get(i)!.values);
      const eps = attrFloat(f, 'epsilon', 1e-5);
      if (gamma!.length !== co) throw unsupported(where, `BatchNormalization has ${gamma!.length} channels, expected ${co}`);
      for (let o = 0; o < co; o++) {
        const k = gamma![o]! / Math.sqrt(variance![o]! + eps);
        factor[o]! *= k;
        bias.real[o] = (bias.real[o]! - mean![o]!) * k + beta![o]!;
      }
      delete bias.exact;
    } else if (f.op === 'Mul' || f.op === 'Add') {
      const c = g.consts.get(f.inputs.find((i) => g.consts.has(i))!)!;
      const v = perChannel(c.values, c.dims, co);
      if (!v) throw unsupported(nodeWhere(g.file, f), 'the constant must be a scalar or one value per output channel');
      for (let o = 0; o < co; o++) {
        if (f.op === 'Mul') {
          factor[o]! *= v[o]!;
          bias.real[o]! *= v[o]!;
        } else {
          bias.real[o]! += v[o]!;
        }
      }
      delete bias.exact;
    }
  }
}

/** Fused ReLU/Clip as a clamp in the output's int8 domain (quantization is monotonic, so exact). */
function clampOf(fused: GraphNode[], yq: Quantization, g: AnnotatedGraph, where: string): Clamp {
  let lo = INT8_MIN;
  let hi = INT8_MAX;
  for (const f of fused) {
    if (f.op === 'Relu') {
      lo = Math.max(lo, quantizeValue(0, yq.scale, yq.zeroPoint));
    } else if (f.op === 'Clip') {
      const min = f.inputs[1] ? g.consts.get(f.inputs[1])?.values[0] : undefined;
      const max = f.inputs[2] ? g.consts.get(f.inputs[2])?.values[0] : undefined;
      if (min !== undefined) lo = Math.max(lo, quantizeValue(min, yq.scale, yq.zeroPoint));
      if (max !== undefined) hi = Math.min(hi, quantizeValue(max, yq.scale, yq.zeroPoint));
    }
  }
  if (lo > hi) throw unsupported(where, 'the activation range is empty after quantization');
  return [lo, hi];
}
