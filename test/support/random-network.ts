import fc from 'fast-check';
import { OnnxGraphBuilder } from './onnx-builder.js';
import { mulberry32 } from './prng.js';

/** One layer of a random QDQ network; sizes are resolved against the running shape at build time. */
export type LayerSpec =
  | { kind: 'conv'; co: number; k: 1 | 3; stride: 1 | 2; pad: 0 | 1; depthwise: boolean; relu: boolean }
  | { kind: 'pool'; op: 'MaxPool' | 'AveragePool' }
  | { kind: 'residual' };

export interface NetworkSpec {
  c: number;
  h: number;
  w: number;
  layers: LayerSpec[];
  head: 'gap-fc' | 'flatten-fc' | 'none';
  classes: number;
  seed: number;
}

export const layerSpec: fc.Arbitrary<LayerSpec> = fc.oneof(
  fc.record({
    kind: fc.constant('conv' as const),
    co: fc.integer({ min: 1, max: 6 }),
    k: fc.constantFrom(1 as const, 3 as const),
    stride: fc.constantFrom(1 as const, 2 as const),
    pad: fc.constantFrom(0 as const, 1 as const),
    depthwise: fc.boolean(),
    relu: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('pool' as const), op: fc.constantFrom('MaxPool' as const, 'AveragePool' as const) }),
  fc.record({ kind: fc.constant('residual' as const) }),
);

export const networkSpec: fc.Arbitrary<NetworkSpec> = fc.record({
  c: fc.integer({ min: 1, max: 4 }),
  h: fc.integer({ min: 3, max: 9 }),
  w: fc.integer({ min: 3, max: 9 }),
  layers: fc.array(layerSpec, { minLength: 1, maxLength: 4 }),
  head: fc.constantFrom('gap-fc' as const, 'flatten-fc' as const, 'none' as const),
  classes: fc.integer({ min: 1, max: 5 }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

/**
 * Builds the spec as an int8 QDQ model in onnxruntime's layout (per-channel weights, int32 bias
 * at input x weight scale, Q/DQ after every layer). Layers that do not fit the current shape are
 * skipped, so every spec gives a valid model.
 */
export function buildQdqNetwork(spec: NetworkSpec): Uint8Array {
  const rng = mulberry32(spec.seed);
  const b = new OnnxGraphBuilder({ opset: 13 });
  let uid = 0;
  const actQuant = new Map<string, [number, number]>();
  /** Quantizes float tensor t with fresh parameters and returns the dequantized name. */
  const qdq = (t: string, scale = 0.01 + 0.09 * rng(), zp = -128 + Math.floor(rng() * 160)): string => {
    const id = uid++;
    b.scalar(`s${id}`, scale, 'float').scalar(`z${id}`, zp, 'int8');
    b.node('QuantizeLinear', [t, `s${id}`, `z${id}`], [`${t}_q`]);
    b.node('DequantizeLinear', [`${t}_q`, `s${id}`, `z${id}`], [`${t}_dq`]);
    actQuant.set(`${t}_dq`, [scale, zp]);
    return `${t}_dq`;
  };
  const weights = (dims: number[], name: string, inScale: number): { w: string; bias: string } => {
    const co = dims[0]!;
    const count = dims.reduce((a, c) => a * c, 1);
    const q = Int8Array.from({ length: count }, () => Math.floor(rng() * 255) - 127);
    const scales = Float32Array.from({ length: co }, () => (0.002 + 0.02 * rng()) / Math.sqrt(count / co));
    b.initializer(`${name}_wq`, dims, q).initializer(`${name}_ws`, [co], scales).initializer(`${name}_wz`, [co], new Int8Array(co));
    b.node('DequantizeLinear', [`${name}_wq`, `${name}_ws`, `${name}_wz`], [`${name}_w`], { axis: 0 });
    const bq = Int32Array.from({ length: co }, () => Math.floor((rng() - 0.5) * 2000));
    const bs = scales.map((s) => Math.fround(s * inScale));
    b.initializer(`${name}_bq`, [co], bq).initializer(`${name}_bs`, [co], bs).initializer(`${name}_bz`, [co], new Int32Array(co));
    b.node('DequantizeLinear', [`${name}_bq`, `${name}_bs`, `${name}_bz`], [`${name}_b`], { axis: 0 });
    return { w: `${name}_w`, bias: `${name}_b` };
  };

  b.input('input', [1, spec.c, spec.h, spec.w]);
  let x = qdq('input', 1 / 255, -128);
  let [c, h, w] = [spec.c, spec.h, spec.w];
  spec.layers.forEach((l, i) => {
    const name = `l${i}`;
    if (l.kind === 'conv') {
      if (h + 2 * l.pad < l.k || w + 2 * l.pad < l.k) return;
      const groups = l.depthwise ? c : 1;
      const co = l.depthwise ? c : l.co;
      const { w: wt, bias } = weights([co, c / groups, l.k, l.k], name, actQuant.get(x)![0]);
      b.node('Conv', [x, wt, bias], [`${name}_y`], { kernel_shape: [l.k, l.k], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad], group: groups });
      x = qdq(`${name}_y`, undefined, l.relu ? -128 : undefined);
      c = co;
      h = Math.floor((h + 2 * l.pad - l.k) / l.stride) + 1;
      w = Math.floor((w + 2 * l.pad - l.k) / l.stride) + 1;
    } else if (l.kind === 'pool') {
      if (h < 2 || w < 2) return;
      b.node(l.op, [x], [`${name}_y`], { kernel_shape: [2, 2], strides: [2, 2] });
      x = l.op === 'MaxPool' ? qdq(`${name}_y`, ...actQuant.get(x)!) : qdq(`${name}_y`);
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    } else {
      const { w: wt, bias } = weights([c, c, 3, 3], name, actQuant.get(x)![0]);
      b.node('Conv', [x, wt, bias], [`${name}_c`], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
      const branch = qdq(`${name}_c`);
      b.node('Add', [x, branch], [`${name}_y`]);
      x = qdq(`${name}_y`, undefined, -128);
    }
  });
  if (spec.head !== 'none') {
    if (spec.head === 'gap-fc') {
      b.node('GlobalAveragePool', [x], ['gap']);
      x = qdq('gap');
      h = w = 1;
    }
    b.node('Flatten', [x], ['flat'], { axis: 1 });
    const [s, z] = actQuant.get(x)!;
    x = qdq('flat', s, z);
    const { w: wt, bias } = weights([spec.classes, c * h * w], 'fc', s);
    b.node('Gemm', [x, wt, bias], ['logits'], { transB: 1 });
    x = qdq('logits');
  }
  b.node('Identity', [x], ['output']);
  b.output('output');
  return b.toBytes();
}
