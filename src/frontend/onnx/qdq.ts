import { unsupported } from '../../errors.js';
import type { Quantization } from '../../ir/types.js';
import { attrInt, DT_UINT8, nodeWhere, type ConstTensor, type Graph, type GraphNode } from './graph.js';

/** A constant stored quantized (weights, biases): real = scale[c] * (q - zeroPoint[c]) along axis. */
export interface QuantConst {
  dims: number[];
  q: Float64Array;
  scale: Float64Array;
  zeroPoint: Float64Array;
  axis: number;
}

/** Float graph whose activation tensors carry int8 quantization, and whose constants may be quantized. */
export interface AnnotatedGraph extends Graph {
  quant: Map<string, Quantization>;
  qconsts: Map<string, QuantConst>;
}

/** uint8 activations are shifted to int8 exactly: q - 128, zp - 128. */
function int8ZeroPoint(zp: ConstTensor | undefined): number {
  if (!zp) return -128;
  const v = zp.values[0]!;
  return zp.dataType === DT_UINT8 ? v - 128 : v;
}

/**
 * Removes QuantizeLinear/DequantizeLinear pairs: the quantized tensor's parameters move onto the
 * float tensor the Q read, and readers of the DQ read that tensor. DQ of a constant becomes a
 * quantized constant (its float value stays available to the float executor).
 */
export function stripQdq(g: Graph): AnnotatedGraph {
  const quant = new Map<string, Quantization>();
  const qconsts = new Map<string, QuantConst>();
  const consts = new Map(g.consts);
  const alias = new Map<string, string>();
  /** Q output -> the float tensor it quantizes */
  const qSource = new Map<string, string>();
  const nodes: GraphNode[] = [];
  const resolve = (t: string): string => alias.get(t) ?? t;

  const params = (n: GraphNode): Quantization => {
    const s = consts.get(n.inputs[1]!);
    const z = n.inputs[2] ? consts.get(n.inputs[2]) : undefined;
    if (!s || (n.inputs[2] && !z)) throw unsupported(nodeWhere(g.file, n), 'scale and zero point must be constants');
    if (s.values.length !== 1) throw unsupported(nodeWhere(g.file, n), 'per-axis quantization of activations is not supported');
    if (z && z.dataType !== DT_UINT8 && z.dataType !== 3) {
      throw unsupported(nodeWhere(g.file, n), 'only int8 and uint8 quantization is supported');
    }
    return { scale: s.values[0]!, zeroPoint: int8ZeroPoint(z) };
  };

  for (const n0 of g.nodes) {
    const n = { ...n0, inputs: n0.inputs.map(resolve) };
    const where = nodeWhere(g.file, n);
    if (n.op === 'QuantizeLinear') {
      const x = n.inputs[0]!;
      if (consts.has(x)) throw unsupported(where, 'quantizing a constant at run time is not supported');
      const p = params(n);
      const prev = quant.get(x);
      if (prev && (prev.scale !== p.scale || prev.zeroPoint !== p.zeroPoint)) {
        throw unsupported(where, `tensor '${x}' is quantized twice with different parameters`);
      }
      quant.set(x, p);
      qSource.set(n.outputs[0]!, x);
    } else if (n.op === 'DequantizeLinear') {
      const x = n.inputs[0]!;
      const src = qSource.get(x);
      const c = consts.get(x);
      if (src !== undefined) {
        const p = params(n);
        const q = quant.get(src)!;
        if (q.scale !== p.scale || q.zeroPoint !== p.zeroPoint) {
          throw unsupported(where, 'DequantizeLinear parameters differ from its QuantizeLinear');
        }
        alias.set(n.outputs[0]!, src);
      } else if (c) {
        const s = consts.get(n.inputs[1]!);
        const z = n.inputs[2] ? consts.get(n.inputs[2]) : undefined;
        if (!s) throw unsupported(where, 'scale must be a constant');
        const axisRaw = attrInt(n, 'axis', 1);
        const axis = axisRaw < 0 ? axisRaw + c.dims.length : axisRaw;
        const channels = s.values.length;
        const qc: QuantConst = {
          dims: c.dims,
          q: c.values,
          scale: s.values,
          zeroPoint: z ? z.values : new Float64Array(channels),
          axis: channels === 1 ? 0 : axis,
        };
        qconsts.set(n.outputs[0]!, qc);
        consts.set(n.outputs[0]!, { dims: c.dims, values: dequantizeConst(qc), dataType: 1 });
      } else {
        throw unsupported(where, `input '${x}' is neither a constant nor the output of a QuantizeLinear`);
      }
    } else {
      nodes.push(n);
    }
  }
  const outputs = g.outputs.map((o) => qSource.get(resolve(o)) ?? resolve(o));
  return { ...g, nodes, consts, outputs, quant, qconsts };
}

export function dequantizeConst(c: QuantConst): Float64Array {
  const out = new Float64Array(c.q.length);
  const inner = c.dims.slice(c.axis + 1).reduce((a, b) => a * b, 1);
  const channels = c.scale.length;
  for (let i = 0; i < out.length; i++) {
    const ch = channels === 1 ? 0 : Math.floor(i / inner) % channels;
    out[i] = Math.fround(c.scale[ch]! * (c.q[i]! - c.zeroPoint[ch]!));
  }
  return out;
}
