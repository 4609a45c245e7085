import type { OnnxTypes } from './proto.js';

/** A constant tensor as plain numbers (float or integer values, whatever its ONNX type). */
export interface ConstTensor {
  dims: number[];
  values: Float64Array;
  /** ONNX TensorProto.DataType */
  dataType: number;
}

export interface GraphNode {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxTypes.IAttributeProto>;
}

/**
 * The frontend's working graph: ONNX nodes over named tensors, constants folded out of the node
 * list. Passes rewrite it step by step (QOperator -> QDQ -> annotated float graph).
 */
export interface Graph {
  file: string;
  opset: number;
  nodes: GraphNode[];
  consts: Map<string, ConstTensor>;
  input: { name: string; shape: number[] };
  outputs: string[];
}

export const DT_FLOAT = 1;
export const DT_UINT8 = 2;
export const DT_INT8 = 3;
export const DT_INT32 = 6;
export const DT_INT64 = 7;

/** Where-part of an error message: file, node name and op. */
export function nodeWhere(file: string, n: GraphNode): string {
  return `${file}: node '${n.name}' (${n.op})`;
}

export function attrInt(n: GraphNode, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  return a ? Number(a.i ?? 0) : dflt;
}

export function attrFloat(n: GraphNode, name: string, dflt: number): number {
  const a = n.attrs.get(name);
  return a ? Number(a.f ?? 0) : dflt;
}

export function attrInts(n: GraphNode, name: string): number[] | undefined {
  const a = n.attrs.get(name);
  return a ? (a.ints ?? []).map(Number) : undefined;
}

export function attrString(n: GraphNode, name: string): string | undefined {
  const a = n.attrs.get(name);
  return a?.s ? Buffer.from(a.s).toString('utf8') : undefined;
}

/** consumers[t] = nodes reading tensor t, in graph order. */
export function consumerMap(nodes: GraphNode[]): Map<string, GraphNode[]> {
  const m = new Map<string, GraphNode[]>();
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = m.get(i) ?? [];
      list.push(n);
      m.set(i, list);
    }
  }
  return m;
}
