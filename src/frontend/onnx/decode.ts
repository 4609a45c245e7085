import { badInput, unsupported } from '../../errors.js';
import {
  attrFloat,
  attrInt,
  attrInts,
  DT_FLOAT,
  DT_INT32,
  DT_INT64,
  DT_INT8,
  DT_UINT8,
  type ConstTensor,
  type Graph,
  nodeWhere,
  type GraphNode,
} from './graph.js';
import { onnx, type OnnxTypes } from './proto.js';

export const MIN_OPSET = 11;
export const MAX_OPSET = 21;
const DT_INT16 = 5;
const DT_DOUBLE = 11;
const DT_BOOL = 9;

/** Decodes ONNX bytes; the messages tell a truncated file from one that is not ONNX at all. */
export function decodeModelProto(bytes: Uint8Array, file: string): OnnxTypes.ModelProto {
  let model: OnnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const msg = (e as Error).message;
    if (/index out of range/.test(msg)) throw badInput(file, `truncated ONNX protobuf (${msg})`);
    throw badInput(file, `not an ONNX model (${msg})`);
  }
  if (!model.graph || Number(model.irVersion) <= 0 || (model.graph.node ?? []).length === 0) {
    throw badInput(file, 'not an ONNX model (no graph or IR version)');
  }
  return model;
}

function tensorValues(t: OnnxTypes.ITensorProto, where: string): Float64Array {
  const dims = (t.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const dt = t.dataType ?? 0;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw unsupported(where, 'tensors with external data are not supported');
  }
  const raw = t.rawData && t.rawData.length > 0 ? Buffer.from(t.rawData) : undefined;
  const out = new Float64Array(count);
  const read = (i: number): number => {
    if (!raw) throw new Error('unreachable');
    switch (dt) {
      case DT_FLOAT:
        return raw.readFloatLE(i * 4);
      case DT_DOUBLE:
        return raw.readDoubleLE(i * 8);
      case DT_UINT8:
      case DT_BOOL:
        return raw.readUInt8(i);
      case DT_INT8:
        return raw.readInt8(i);
      case DT_INT16:
        return raw.readInt16LE(i * 2);
      case DT_INT32:
        return raw.readInt32LE(i * 4);
      case DT_INT64:
        return Number(raw.readBigInt64LE(i * 8));
      default:
        throw unsupported(where, `tensor data type ${dt} is not supported`);
    }
  };
  if (raw) {
    for (let i = 0; i < count; i++) out[i] = read(i);
    return out;
  }
  const typed: ArrayLike<number | { toNumber(): number }> =
    dt === DT_FLOAT
      ? (t.floatData ?? [])
      : dt === DT_DOUBLE
        ? (t.doubleData ?? [])
        : dt === DT_INT64
          ? (t.int64Data ?? [])
          : [DT_INT32, DT_INT8, DT_UINT8, DT_INT16, DT_BOOL].includes(dt)
            ? (t.int32Data ?? [])
            : [];
  if (typed.length !== count) throw unsupported(where, `tensor data type ${dt} or its storage is not supported`);
  for (let i = 0; i < count; i++) out[i] = Number(typed[i]);
  return out;
}

export function constFromTensor(t: OnnxTypes.ITensorProto, where: string): ConstTensor {
  return { dims: (t.dims ?? []).map(Number), values: tensorValues(t, where), dataType: t.dataType ?? 0 };
}

function constantNodeValue(n: GraphNode, file: string): ConstTensor {
  const where = nodeWhere(file, n);
  const a = n.attrs;
  const t = a.get('value')?.t;
  if (t) return constFromTensor(t, where);
  if (a.has('value_float')) return { dims: [], values: Float64Array.of(attrFloat(n, 'value_float', 0)), dataType: DT_FLOAT };
  if (a.has('value_floats')) {
    const v = a.get('value_floats')!.floats ?? [];
    return { dims: [v.length], values: Float64Array.from(v), dataType: DT_FLOAT };
  }
  if (a.has('value_int')) return { dims: [], values: Float64Array.of(Number(a.get('value_int')!.i)), dataType: DT_INT64 };
  if (a.has('value_ints')) {
    const v = attrInts(n, 'value_ints')!;
    return { dims: [v.length], values: Float64Array.from(v), dataType: DT_INT64 };
  }
  throw unsupported(where, 'only tensor, float and int values are supported');
}

function staticShape(vi: OnnxTypes.IValueInfoProto, file: string): number[] {
  const dims = vi.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d, i) => {
    const v = Number(d.dimValue ?? 0);
    if (v > 0) return v;
    if (i === 0) return 1;
    throw unsupported(`${file}: input '${vi.name}'`, `dimension ${i} is not static`);
  });
}

/**
 * ONNX model -> working graph: initializers and Constant nodes become constants, Identity
 * nodes disappear, the default-domain opset is checked.
 */
export function graphFromModel(model: OnnxTypes.ModelProto, file: string): Graph {
  const opsetEntry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = Number(opsetEntry?.version ?? 0);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw unsupported(file, `opset ${opset} is not supported (supported: ${MIN_OPSET}-${MAX_OPSET})`);
  }
  const g = model.graph!;
  const consts = new Map<string, ConstTensor>();
  for (const t of g.initializer ?? []) consts.set(t.name!, constFromTensor(t, `${file}: initializer '${t.name}'`));
  const alias = new Map<string, string>();
  const resolve = (name: string): string => {
    let n = name;
    while (alias.has(n)) n = alias.get(n)!;
    return n;
  };
  const nodes: GraphNode[] = [];
  (g.node ?? []).forEach((p, idx) => {
    const n: GraphNode = {
      op: p.opType ?? '',
      domain: p.domain ?? '',
      name: p.name || `${p.opType}_${idx}`,
      inputs: (p.input ?? []).map((i) => (i ? resolve(i) : '')),
      outputs: [...(p.output ?? [])],
      attrs: new Map((p.attribute ?? []).map((a) => [a.name ?? '', a])),
    };
    if (n.op === 'Constant' && !n.domain) {
      consts.set(n.outputs[0]!, constantNodeValue(n, file));
    } else if ((n.op === 'Identity' || (n.op === 'Cast' && attrInt(n, 'to', 0) === DT_FLOAT)) && !n.domain) {
      // In the float graph a cast to float (ConvInteger's int32 result, say) changes nothing.
      alias.set(n.outputs[0]!, n.inputs[0]!);
    } else {
      nodes.push(n);
    }
  });
  const realInputs = (g.input ?? []).filter((i) => !consts.has(i.name!));
  if (realInputs.length !== 1) {
    throw unsupported(file, `models with ${realInputs.length} inputs are not supported (exactly one)`);
  }
  const input = realInputs[0]!;
  if (input.type?.tensorType?.elemType !== DT_FLOAT) {
    throw unsupported(`${file}: input '${input.name}'`, 'only float32 model inputs are supported');
  }
  return {
    file,
    opset,
    nodes,
    consts,
    input: { name: input.name!, shape: staticShape(input, file) },
    outputs: (g.output ?? []).map((o) => resolve(o.name!)),
  };
}
