import { windowOut } from '../../ir/shapes.js';
import { attrFloat, attrInt, attrInts, type Graph, type GraphNode } from './graph.js';

/** A float tensor with its full ONNX shape (batch included). */
export interface FTensor {
  shape: number[];
  data: Float64Array;
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

function broadcastShape(a: number[], b: number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(da, db));
  }
  return out;
}

function binary(a: FTensor, b: FTensor, f: (x: number, y: number) => number): FTensor {
  const shape = broadcastShape(a.shape, b.shape);
  const n = size(shape);
  const data = new Float64Array(n);
  const strides = (s: number[]): number[] => {
    const padded = [...Array(shape.length - s.length).fill(1), ...s] as number[];
    const st = new Array<number>(shape.length).fill(0);
    let acc = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      st[i] = padded[i] === 1 ? 0 : acc;
      acc *= padded[i]!;
    }
    return st;
  };
  const sa = strides(a.shape);
  const sb = strides(b.shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < shape.length; d++) {
      ia += idx[d]! * sa[d]!;
      ib += idx[d]! * sb[d]!;
    }
    data[i] = f(a.data[ia]!, b.data[ib]!);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape, data };
}

function conv(n: GraphNode, x: FTensor, w: FTensor, b: FTensor | undefined): FTensor {
  const [, , h, wd] = x.shape as [number, number, number, number];
  const [co, cig, kh, kw] = w.shape as [number, number, number, number];
  const groups = attrInt(n, 'group', 1);
  const [sh, sw] = attrInts(n, 'strides') ?? [1, 1];
  const [pt, pl, pb, pr] = attrInts(n, 'pads') ?? [0, 0, 0, 0];
  const oh = windowOut(h, kh, sh!, pt!, pb!);
  const ow = windowOut(wd, kw, sw!, pl!, pr!);
  const out = new Float64Array(co * oh * ow);
  const cog = co / groups;
  for (let o = 0; o < co; o++) {
    const g = Math.floor(o / cog);
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        let acc = b ? b.data[o]! : 0;
        for (let c = 0; c < cig; c++) {
          const cin = g * cig + c;
          for (let ky = 0; ky < kh; ky++) {
            const iy = y * sh! - pt! + ky;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = xo * sw! - pl! + kx;
              if (ix < 0 || ix >= wd) continue;
              acc += x.data[(cin * h + iy) * wd + ix]! * w.data[((o * cig + c) * kh + ky) * kw + kx]!;
            }
          }
        }
        out[(o * oh + y) * ow + xo] = acc;
      }
    }
  }
  return { shape: [1, co, oh, ow], data: out };
}

function pool(n: GraphNode, x: FTensor, kind: 'max' | 'avg'): FTensor {
  const [, c, h, w] = x.shape as [number, number, number, number];
  const [kh, kw] = attrInts(n, 'kernel_shape') as [number, number];
  const [sh, sw] = (attrInts(n, 'strides') ?? [1, 1]) as [number, number];
  const [pt, pl, pb, pr] = (attrInts(n, 'pads') ?? [0, 0, 0, 0]) as [number, number, number, number];
  const oh = windowOut(h, kh, sh, pt, pb);
  const ow = windowOut(w, kw, sw, pl, pr);
  const out = new Float64Array(c * oh * ow);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < oh; y++) {
      for (let xo = 0; xo < ow; xo++) {
        let acc = kind === 'max' ? -Infinity : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = y * sh - pt + ky;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = xo * sw - pl + kx;
            if (ix < 0 || ix >= w) continue;
            const v = x.data[(ch * h + iy) * w + ix]!;
            acc = kind === 'max' ? Math.max(acc, v) : acc + v;
          }
        }
        out[(ch * oh + y) * ow + xo] = kind === 'max' ? acc : acc / (kh * kw);
      }
    }
  }
  return { shape: [1, c, oh, ow], data: out };
}

function matmul(a: FTensor, b: FTensor, transB: boolean): FTensor {
  const m = a.shape[0]!;
  const k = a.shape[1]!;
  const nOut = transB ? b.shape[0]! : b.shape[1]!;
  const out = new Float64Array(m * nOut);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < nOut; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += a.data[i * k + p]! * b.data[transB ? j * k + p : p * nOut + j]!;
      out[i * nOut + j] = acc;
    }
  }
  return { shape: [m, nOut], data: out };
}

function transpose(x: FTensor, perm: number[]): FTensor {
  const shape = perm.map((p) => x.shape[p]!);
  const inStrides = x.shape.map((_, i) => size(x.shape.slice(i + 1)));
  const data = new Float64Array(x.data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < data.length; i++) {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += idx[d]! * inStrides[perm[d]!]!;
    data[i] = x.data[src]!;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { shape, data };
}

export function reshapeTarget(inShape: number[], spec: number[], allowZero: boolean): number[] {
  const out = spec.map((d, i) => (d === 0 && !allowZero ? inShape[i]! : d));
  const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return out.map((d) => (d === -1 ? size(inShape) / known : d));
}

/** Executes one float node; `get` reads an input (activation or constant). */
function execNode(n: GraphNode, get: (name: string) => FTensor, constValue: (name: string) => number | undefined): FTensor {
  const x = get(n.inputs[0]!);
  switch (n.op) {
    case 'Conv':
      return conv(n, x, get(n.inputs[1]!), n.inputs[2] ? get(n.inputs[2]) : undefined);
    case 'Gemm': {
      const alpha = attrFloat(n, 'alpha', 1);
      const beta = attrFloat(n, 'beta', 1);
      const y = matmul(x, get(n.inputs[1]!), attrInt(n, 'transB', 0) === 1);
      const scaled = { shape: y.shape, data: y.data.map((v) => v * alpha) };
      if (!n.inputs[2]) return scaled;
      const c = get(n.inputs[2]);
      return binary(scaled, { shape: c.shape, data: c.data.map((v) => v * beta) }, (p, q) => p + q);
    }
    case 'MatMul':
      return matmul(x, get(n.inputs[1]!), false);
    case 'Add':
      return binary(x, get(n.inputs[1]!), (p, q) => p + q);
    case 'Mul':
      return binary(x, get(n.inputs[1]!), (p, q) => p * q);
    case 'Relu':
      return { shape: x.shape, data: x.data.map((v) => Math.max(0, v)) };
    case 'Clip': {
      const lo = n.inputs[1] ? (constValue(n.inputs[1]) ?? -Infinity) : attrFloat(n, 'min', -Infinity);
      const hi = n.inputs[2] ? (constValue(n.inputs[2]) ?? Infinity) : attrFloat(n, 'max', Infinity);
      return { shape: x.shape, data: x.data.map((v) => Math.min(hi, Math.max(lo, v))) };
    }
    case 'BatchNormalization': {
      const [scale, bias, mean, variance] = n.inputs.slice(1).map((i) => get(i).data);
      const eps = attrFloat(n, 'epsilon', 1e-5);
      const c = x.shape[1]!;
      const inner = size(x.shape.slice(2));
      const data = x.data.map((v, i) => {
        const ch = Math.floor(i / inner) % c;
        return ((v - mean![ch]!) / Math.sqrt(variance![ch]! + eps)) * scale![ch]! + bias![ch]!;
      });
      return { shape: x.shape, data };
    }
    case 'MaxPool':
      return pool(n, x, 'max');
    case 'AveragePool':
      return pool(n, x, 'avg');
    case 'GlobalAveragePool': {
      const [, c, h, w] = x.shape as [number, number, number, number];
      const data = new Float64Array(c);
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let i = 0; i < h * w; i++) acc += x.data[ch * h * w + i]!;
        data[ch] = acc / (h * w);
      }
      return { shape: [1, c, 1, 1], data };
    }
    case 'Concat': {
      const parts = n.inputs.map(get);
      const axis = attrInt(n, 'axis', 1);
      const ax = axis < 0 ? axis + x.shape.length : axis;
      const outer = size(x.shape.slice(0, ax));
      const shape = [...x.shape];
      shape[ax] = parts.reduce((a, p) => a + p.shape[ax]!, 0);
      const data = new Float64Array(size(shape));
      let off = 0;
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const chunk = size(p.shape.slice(ax));
          data.set(p.data.subarray(o * chunk, (o + 1) * chunk), off);
          off += chunk;
        }
      }
      return { shape, data };
    }
    case 'Flatten': {
      const axis = attrInt(n, 'axis', 1);
      const ax = axis < 0 ? axis + x.shape.length : axis;
      return { shape: [size(x.shape.slice(0, ax)), size(x.shape.slice(ax))], data: x.data };
    }
    case 'Reshape':
      return { shape: reshapeTarget(x.shape, Array.from(get(n.inputs[1]!).data), attrInt(n, 'allowzero', 0) === 1), data: x.data };
    case 'Transpose':
      return transpose(x, attrInts(n, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i));
    default:
      throw new Error(`float executor: operator ${n.op} is not implemented`);
  }
}

/**
 * Runs the float graph on one input (values in the model input's shape, batch 1) and returns
 * every tensor it computed, by name. Used as the fp32 reference and for PTQ calibration.
 */
export function runFloat(g: Graph, input: ArrayLike<number>): Map<string, FTensor> {
  const values = new Map<string, FTensor>();
  values.set(g.input.name, { shape: g.input.shape, data: Float64Array.from(input) });
  const get = (name: string): FTensor => {
    const v = values.get(name);
    if (v) return v;
    const c = g.consts.get(name);
    if (!c) throw new Error(`float executor: tensor '${name}' has no value`);
    return { shape: c.dims, data: c.values };
  };
  const constValue = (name: string): number | undefined => g.consts.get(name)?.values[0];
  for (const n of g.nodes) values.set(n.outputs[0]!, execNode(n, get, constValue));
  return values;
}
