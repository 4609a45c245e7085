import { unsupported } from '../../errors.js';
import { attrFloat, attrInt, DT_FLOAT, nodeWhere, type Graph, type GraphNode } from './graph.js';
import type { OnnxTypes } from './proto.js';

/**
 * Rewrites onnxruntime's QOperator format into the QDQ form: every QLinear* node becomes
 * DequantizeLinear on its inputs, the float op, and QuantizeLinear on its output; plain ops
 * that read a raw quantized tensor (MaxPool, Flatten, ...) get the same wrapping with the
 * input's parameters. One import path then serves both formats.
 */
export function qoperatorToQdq(g: Graph): Graph {
  const nodes: GraphNode[] = [];
  const consts = new Map(g.consts);
  /** raw quantized tensor -> its [scale, zero point] constant names */
  const raw = new Map<string, [string, string]>();
  let counter = 0;
  const fresh = (base: string): string => `${base}__gatec${counter++}`;
  const emit = (op: string, inputs: string[], outputs: string[], name: string, attrs = new Map<string, OnnxTypes.IAttributeProto>()): void => {
    nodes.push({ op, domain: '', name, inputs, outputs, attrs });
  };
  const intAttr = (name: string, i: number): OnnxTypes.IAttributeProto => ({ name, i, type: 2 });
  const dq = (n: GraphNode, x: string, s: string, z: string | undefined, axis?: number): string => {
    const out = fresh(`${x}_dq`);
    const attrs = new Map<string, OnnxTypes.IAttributeProto>();
    if (axis !== undefined) attrs.set('axis', intAttr('axis', axis));
    emit('DequantizeLinear', z ? [x, s, z] : [x, s], [out], fresh(`${n.name}_dq`), attrs);
    return out;
  };
  const q = (n: GraphNode, floatOut: string, out: string, s: string, z: string): void => {
    emit('QuantizeLinear', [floatOut, s, z], [out], fresh(`${n.name}_q`));
    raw.set(out, [s, z]);
  };
  const product = (n: GraphNode, a: string, b: string, factor: number): string => {
    const ca = consts.get(a);
    const cb = consts.get(b);
    if (!ca || !cb) throw unsupported(nodeWhere(g.file, n), 'quantization parameters must be constants');
    const len = Math.max(ca.values.length, cb.values.length);
    const values = new Float64Array(len);
    for (let i = 0; i < len; i++) {
      values[i] = Math.fround(factor * ca.values[ca.values.length === 1 ? 0 : i]! * cb.values[cb.values.length === 1 ? 0 : i]!);
    }
    const name = fresh(`${n.name}_bias_scale`);
    consts.set(name, { dims: len === 1 ? [] : [len], values, dataType: DT_FLOAT });
    return name;
  };
  const perChannel = (name: string): boolean => (consts.get(name)?.values.length ?? 1) > 1;
  const attrsWithout = (n: GraphNode, drop: string[]): Map<string, OnnxTypes.IAttributeProto> =>
    new Map([...n.attrs].filter(([k]) => !drop.includes(k)));

  for (const n of g.nodes) {
    const i = n.inputs;
    const where = nodeWhere(g.file, n);
    const out = n.outputs[0]!;
    const f = fresh(`${out}_float`);
    if (n.op === 'QuantizeLinear' && !n.domain) {
      nodes.push(n);
      raw.set(out, [i[1]!, i[2]!]);
    } else if (n.op === 'QLinearConv') {
      const x = dq(n, i[0]!, i[1]!, i[2]);
      const w = dq(n, i[3]!, i[4]!, i[5], perChannel(i[4]!) ? 0 : undefined);
      const ins = [x, w];
      if (i[8]) ins.push(dq(n, i[8], product(n, i[1]!, i[4]!, 1), undefined, perChannel(i[4]!) ? 0 : undefined));
      emit('Conv', ins, [f], n.name, n.attrs);
      q(n, f, out, i[6]!, i[7]!);
    } else if (n.op === 'QLinearMatMul') {
      const a = dq(n, i[0]!, i[1]!, i[2]);
      const b = dq(n, i[3]!, i[4]!, i[5], perChannel(i[4]!) ? 1 : undefined);
      emit('MatMul', [a, b], [f], n.name);
      q(n, f, out, i[6]!, i[7]!);
    } else if (n.op === 'QGemm' && n.domain === 'com.microsoft') {
      if (!i[7]) throw unsupported(where, 'QGemm with a float output is not supported');
      const transB = attrInt(n, 'transB', 0);
      const a = dq(n, i[0]!, i[1]!, i[2]);
      const b = dq(n, i[3]!, i[4]!, i[5], perChannel(i[4]!) ? (transB ? 0 : 1) : undefined);
      const ins = [a, b];
      if (i[6]) ins.push(dq(n, i[6], product(n, i[1]!, i[4]!, attrFloat(n, 'alpha', 1)), undefined, perChannel(i[4]!) ? 0 : undefined));
      emit('Gemm', ins, [f], n.name, n.attrs);
      q(n, f, out, i[7], i[8]!);
    } else if (n.op === 'QLinearAdd' && n.domain === 'com.microsoft') {
      emit('Add', [dq(n, i[0]!, i[1]!, i[2]), dq(n, i[3]!, i[4]!, i[5])], [f], n.name);
      q(n, f, out, i[6]!, i[7]!);
    } else if ((n.op === 'QLinearGlobalAveragePool' || n.op === 'QLinearAveragePool') && n.domain === 'com.microsoft') {
      if (attrInt(n, 'channels_last', 0) !== 0) throw unsupported(where, 'channels_last=1 is not supported');
      const op = n.op === 'QLinearAveragePool' ? 'AveragePool' : 'GlobalAveragePool';
      emit(op, [dq(n, i[0]!, i[1]!, i[2])], [f], n.name, attrsWithout(n, ['channels_last']));
      q(n, f, out, i[3]!, i[4]!);
    } else if (n.op === 'QLinearConcat' && n.domain === 'com.microsoft') {
      const ins: string[] = [];
      for (let k = 2; k + 2 < i.length + 1; k += 3) ins.push(dq(n, i[k]!, i[k + 1]!, i[k + 2]));
      emit('Concat', ins, [f], n.name, n.attrs);
      q(n, f, out, i[0]!, i[1]!);
    } else if ((n.op === 'ConvInteger' || n.op === 'MatMulInteger') && !n.domain) {
      // The int32 result equals a float op on x - zx and w - zw: dequantize x with its own
      // parameters and the weights at 1/s_x, and the float output is the integer accumulator;
      // the Mul by a scale that follows folds like any other per-channel factor.
      const src = raw.get(i[0]!);
      if (!src) throw unsupported(where, 'the data input must come from a QuantizeLinear');
      const sx = consts.get(src[0]);
      if (!sx) throw unsupported(where, 'quantization parameters must be constants');
      const x = dq(n, i[0]!, src[0], src[1]);
      const wz = i[3] ? consts.get(i[3]) : undefined;
      const channels = wz?.values.length ?? 1;
      const inv = fresh(`${n.name}_unit_scale`);
      consts.set(inv, { dims: channels > 1 ? [channels] : [], values: new Float64Array(channels).fill(1 / sx.values[0]!), dataType: DT_FLOAT });
      const isConv = n.op === 'ConvInteger';
      const w = dq(n, i[1]!, inv, i[3] || undefined, channels > 1 ? (isConv ? 0 : 1) : undefined);
      emit(isConv ? 'Conv' : 'MatMul', [x, w], [out], n.name, isConv ? n.attrs : undefined);
    } else if (n.domain && n.domain !== 'ai.onnx') {
      throw unsupported(where, `operator ${n.domain}.${n.op} is not supported`);
    } else if (n.op !== 'DequantizeLinear' && raw.has(i[0] ?? '')) {
      const [s, z] = raw.get(i[0]!)!;
      emit(n.op, [dq(n, i[0]!, s, z), ...i.slice(1)], [f, ...n.outputs.slice(1)], n.name, n.attrs);
      q(n, f, out, s, z);
    } else {
      nodes.push(n);
    }
  }
  return { ...g, nodes, consts };
}
