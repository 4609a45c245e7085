import onnxProto from 'onnx-proto';
// onnx-proto is CommonJS: Node exposes only a default export, and this alias keeps `onnx` usable
// both as a value and as a type namespace.
import onnx = onnxProto.onnx;

export { onnx };

export type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;
export type ValueElemType = 'float' | 'uint8' | 'int8';
export type ScalarType = 'float' | 'int8' | 'uint8' | 'int32';

/** Attribute with an explicit ONNX type, for values the plain forms would type differently. */
export type TypedAttr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; dims: number[]; data: TensorData };

/** Numbers are INT when integral, FLOAT otherwise; a list is INTS only if all are integral. */
export type AttrValue = number | number[] | string | TypedAttr;

export interface OnnxGraphBuilderOptions {
  opset?: number;
  irVersion?: number;
  producer?: string;
  extraOpsets?: { domain: string; version: number }[];
}

export interface NodeOptions {
  name?: string;
  domain?: string;
}

const DataType = onnx.TensorProto.DataType;
const AttrType = onnx.AttributeProto.AttributeType;

const ELEM_TYPES: Record<ValueElemType, onnx.TensorProto.DataType> = {
  float: DataType.FLOAT,
  uint8: DataType.UINT8,
  int8: DataType.INT8,
};

export class OnnxGraphBuilder {
  private readonly opset: number;
  private readonly irVersion: number;
  private readonly producer: string;
  private readonly extraOpsets: { domain: string; version: number }[];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly nodes: onnx.INodeProto[] = [];
  // Every name a value gets (input, initializer, node output); ONNX graphs are single-assignment.
  private readonly defined = new Set<string>();
  private nodeCounter = 0;

  // IR 7 with opset 13 is what PyTorch's exporter and onnxruntime's quantizer write.
  constructor(opts: OnnxGraphBuilderOptions = {}) {
    this.opset = opts.opset ?? 13;
    this.irVersion = opts.irVersion ?? 7;
    this.producer = opts.producer ?? 'gatec-test';
    this.extraOpsets = [...(opts.extraOpsets ?? [])];
  }

  input(name: string, shape: number[], elemType: ValueElemType = 'float'): this {
    this.define(name);
    this.inputs.push(valueInfo(name, shape, elemType));
    return this;
  }

  /** Without a shape the output is declared with its element type only. */
  output(name: string, shape?: number[], elemType: ValueElemType = 'float'): this {
    this.outputs.push(valueInfo(name, shape, elemType));
    return this;
  }

  /** The ONNX data type follows the array type; values are stored as little-endian raw_data. */
  initializer(name: string, dims: number[], data: TensorData): this {
    this.define(name);
    this.initializers.push(tensor(name, dims, data));
    return this;
  }

  /** A rank-0 initializer, the form quantizers use for per-tensor scales and zero points. */
  scalar(name: string, value: number, type: ScalarType): this {
    return this.initializer(name, [], scalarArray(value, type));
  }

  /** Unnamed nodes are called `${opType}_${index}`, index being the node's position. */
  node(
    opType: string,
    inputs: string[],
    outputs: string[],
    attrs: Record<string, AttrValue> = {},
    opts: NodeOptions = {},
  ): this {
    const name = opts.name ?? `${opType}_${this.nodeCounter}`;
    this.nodeCounter += 1;
    // An empty name marks an omitted optional output, which defines nothing.
    for (const output of outputs) if (output !== '') this.define(output);
    const node: onnx.INodeProto = {
      name,
      opType,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([attrName, value]) => attribute(attrName, value)),
    };
    if (opts.domain !== undefined) node.domain = opts.domain;
    this.nodes.push(node);
    return this;
  }

  /**
   * Decoded from the encoded bytes, so callers get message instances with the field
   * representation a parser of a model file sees (int64 fields as Long, for example).
   */
  toModel(): onnx.ModelProto {
    return onnx.ModelProto.decode(this.toBytes());
  }

  toBytes(): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: this.irVersion,
      producerName: this.producer,
      // The default domain is left unset, as exporters write it.
      opsetImport: [{ version: this.opset }, ...this.extraOpsets],
      graph: {
        name: 'main_graph',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  private define(name: string): void {
    if (this.defined.has(name)) throw new Error(`onnx-builder: value '${name}' is defined twice`);
    this.defined.add(name);
  }
}

function valueInfo(
  name: string,
  shape: number[] | undefined,
  elemType: ValueElemType,
): onnx.IValueInfoProto {
  const tensorType: onnx.TypeProto.ITensor = { elemType: ELEM_TYPES[elemType] };
  if (shape !== undefined) tensorType.shape = { dim: shape.map((d) => ({ dimValue: d })) };
  return { name, type: { tensorType } };
}

/** Attribute tensors (Constant values) are unnamed, as exporters write them. */
function tensor(name: string | undefined, dims: number[], data: TensorData): onnx.ITensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    const label = name ?? '<attribute>';
    throw new Error(`onnx-builder: tensor '${label}' has dims [${dims}] but ${data.length} values`);
  }
  const proto: onnx.ITensorProto = {
    dims: [...dims],
    dataType: dataTypeOf(data),
    rawData: littleEndianBytes(data),
  };
  if (name !== undefined) proto.name = name;
  return proto;
}

function dataTypeOf(data: TensorData): onnx.TensorProto.DataType {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Int8Array) return DataType.INT8;
  if (data instanceof Uint8Array) return DataType.UINT8;
  if (data instanceof Int32Array) return DataType.INT32;
  return DataType.INT64;
}

// Typed arrays use the host's byte order; DataView makes the ONNX little-endian layout explicit.
function littleEndianBytes(data: TensorData): Uint8Array {
  if (data instanceof Int8Array || data instanceof Uint8Array) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  }
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else if (data instanceof Int32Array) data.forEach((v, i) => view.setInt32(i * 4, v, true));
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return bytes;
}

function scalarArray(value: number, type: ScalarType): TensorData {
  switch (type) {
    case 'float':
      return Float32Array.of(value);
    case 'int8':
      return Int8Array.of(checkedInt(value, -128, 127));
    case 'uint8':
      return Uint8Array.of(checkedInt(value, 0, 255));
    case 'int32':
      return Int32Array.of(checkedInt(value, -(2 ** 31), 2 ** 31 - 1));
  }
}

// Typed arrays wrap silently; a wrapped zero point would be a confusing test bug.
function checkedInt(value: number, lo: number, hi: number): number {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw new Error(`onnx-builder: ${value} is not an integer in [${lo}, ${hi}]`);
  }
  return value;
}

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: utf8(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: AttrType.INT, i: value }
      : { name, type: AttrType.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      throw new Error(`onnx-builder: attribute '${name}' is an empty list; give it a kind`);
    }
    return value.every(Number.isInteger)
      ? { name, type: AttrType.INTS, ints: [...value] }
      : { name, type: AttrType.FLOATS, floats: [...value] };
  }
  switch (value.kind) {
    case 'int':
      return { name, type: AttrType.INT, i: value.value };
    case 'float':
      return { name, type: AttrType.FLOAT, f: value.value };
    case 'string':
      return { name, type: AttrType.STRING, s: utf8(value.value) };
    case 'ints':
      return { name, type: AttrType.INTS, ints: [...value.value] };
    case 'floats':
      return { name, type: AttrType.FLOATS, floats: [...value.value] };
    case 'strings':
      return { name, type: AttrType.STRINGS, strings: value.value.map(utf8) };
    case 'tensor':
      return { name, type: AttrType.TENSOR, t: tensor(undefined, value.dims, value.data) };
  }
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
