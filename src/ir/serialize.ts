import { badInput } from '../errors.js';
import { issuePath, modelJson, type LayerJson, type ModelJson } from './schema.js';
import type { Gating, Layer, Model, Requant, TensorInfo } from './types.js';
import { validateModel } from './validate.js';

type GatingJson = NonNullable<Extract<LayerJson, { op: 'conv' }>['gating']>;
type TypedArray = Int8Array | Uint8Array | Int32Array;

export function encodeBase64(a: TypedArray): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function decodeBytes(s: string): Buffer {
  return Buffer.from(s, 'base64');
}

export function decodeInt8(s: string): Int8Array {
  const b = decodeBytes(s);
  return new Int8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function decodeUint8(s: string): Uint8Array {
  return new Uint8Array(decodeBytes(s));
}

export function decodeInt32(s: string, where: string): Int32Array {
  const b = decodeBytes(s);
  if (b.byteLength % 4 !== 0) throw badInput(where, 'int32 array length is not a multiple of 4 bytes');
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function requantToJson(r: Requant): { multiplier: number[]; shift: number[] } {
  return { multiplier: Array.from(r.multiplier), shift: Array.from(r.shift) };
}

function requantFromJson(r: { multiplier: number[]; shift: number[] }): Requant {
  return { multiplier: Int32Array.from(r.multiplier), shift: Int32Array.from(r.shift) };
}

function gatingToJson(g: Gating): GatingJson {
  return { baseChannels: g.baseChannels, threshold: Array.from(g.threshold), ...(g.below ? { below: [...g.below] } : {}) };
}

function gatingFromJson(g: GatingJson): Gating {
  return { baseChannels: g.baseChannels, threshold: Int32Array.from(g.threshold), ...(g.below ? { below: [...g.below] } : {}) };
}

/** Builds the JSON object with a fixed key order, so equal models give equal bytes. */
function layerToJson(l: Layer): LayerJson {
  const base = { name: l.name, inputs: [...l.inputs], output: l.output };
  switch (l.op) {
    case 'conv':
      return {
        op: l.op,
        ...base,
        kernel: l.kernel,
        stride: l.stride,
        pads: l.pads,
        groups: l.groups,
        weights: encodeBase64(l.weights),
        bias: encodeBase64(l.bias),
        requant: requantToJson(l.requant),
        clamp: l.clamp,
        ...(l.gating ? { gating: gatingToJson(l.gating) } : {}),
        ...(l.pruneMask ? { pruneMask: encodeBase64(l.pruneMask) } : {}),
      };
    case 'fc':
      return {
        op: l.op,
        ...base,
        weights: encodeBase64(l.weights),
        bias: encodeBase64(l.bias),
        requant: requantToJson(l.requant),
        clamp: l.clamp,
        ...(l.pruneMask ? { pruneMask: encodeBase64(l.pruneMask) } : {}),
      };
    case 'maxpool':
    case 'avgpool':
      return {
        op: l.op,
        ...base,
        kernel: l.kernel,
        stride: l.stride,
        pads: l.pads,
        requant: requantToJson(l.requant),
        clamp: l.clamp,
      };
    case 'add':
    case 'globalavgpool':
    case 'concat':
      return { op: l.op, ...base, requant: requantToJson(l.requant), clamp: l.clamp };
    case 'reshape':
      return { op: l.op, ...base };
    case 'transpose':
      return { op: l.op, ...base, perm: [...l.perm] };
  }
}

function layerFromJson(l: LayerJson, where: string): Layer {
  const base = { name: l.name, inputs: l.inputs, output: l.output };
  switch (l.op) {
    case 'conv':
      return {
        op: l.op,
        ...base,
        kernel: l.kernel,
        stride: l.stride,
        pads: l.pads,
        groups: l.groups,
        weights: decodeInt8(l.weights),
        bias: decodeInt32(l.bias, `${where}.bias`),
        requant: requantFromJson(l.requant),
        clamp: l.clamp,
        ...(l.gating ? { gating: gatingFromJson(l.gating) } : {}),
        ...(l.pruneMask ? { pruneMask: decodeUint8(l.pruneMask) } : {}),
      };
    case 'fc':
      return {
        op: l.op,
        ...base,
        weights: decodeInt8(l.weights),
        bias: decodeInt32(l.bias, `${where}.bias`),
        requant: requantFromJson(l.requant),
        clamp: l.clamp,
        ...(l.pruneMask ? { pruneMask: decodeUint8(l.pruneMask) } : {}),
      };
    case 'maxpool':
    case 'avgpool':
      return { ...l, ...base, requant: requantFromJson(l.requant) };
    case 'add':
    case 'globalavgpool':
    case 'concat':
      return { op: l.op, ...base, requant: requantFromJson(l.requant), clamp: l.clamp };
    case 'reshape':
      return { op: l.op, ...base };
    case 'transpose':
      return { op: l.op, ...base, perm: l.perm };
  }
}

function tensorToJson(t: TensorInfo): ModelJson['tensors'][number] {
  return {
    name: t.name,
    shape: [...t.shape],
    quant: { scale: t.quant.scale, zeroPoint: t.quant.zeroPoint },
    ...(t.zeroBlock ? { zeroBlock: { block: t.zeroBlock.block, epsilon: t.zeroBlock.epsilon } } : {}),
  };
}

export function modelToJson(m: Model): ModelJson {
  return {
    format: m.format,
    version: m.version,
    name: m.name,
    source: { file: m.source.file, format: m.source.format },
    inputs: [...m.inputs],
    outputs: [...m.outputs],
    tensors: m.tensors.map(tensorToJson),
    layers: m.layers.map(layerToJson),
  };
}

/** Indented JSON with arrays of scalars kept on one line, so weight-heavy files stay readable. */
function formatJson(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) {
      return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    }
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const inner = indent + '  ';
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

export function writeModel(m: Model): string {
  return formatJson(modelToJson(m), '') + '\n';
}

/** Parses and validates an IR file's text; `file` names it in error messages. */
export function readModel(text: string, file: string): Model {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw badInput(file, `not a valid JSON IR file (${(e as Error).message})`);
  }
  const parsed = modelJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badInput(file, `invalid IR at ${issuePath(issue.path)}: ${issue.message}`);
  }
  const j = parsed.data;
  const model: Model = {
    format: j.format,
    version: j.version,
    name: j.name,
    source: j.source,
    inputs: j.inputs,
    outputs: j.outputs,
    tensors: j.tensors.map((t) => ({
      name: t.name,
      shape: t.shape,
      quant: t.quant,
      ...(t.zeroBlock ? { zeroBlock: { block: t.zeroBlock.block, epsilon: t.zeroBlock.epsilon } } : {}),
    })),
    layers: j.layers.map((l, i) => layerFromJson(l, `$.layers[${i}]`)),
  };
  validateModel(model, file);
  return model;
}
