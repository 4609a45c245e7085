import { dequantizeValue, quantizeValue } from '../ir/numerics.js';
import type { Layer, Model, TensorInfo } from '../ir/types.js';
import { GatingCounter, gatedConv, hasGating, isGated, type GatingResult } from './gating.js';
import { add, concat, conv, fc, globalAvgPool, pool, transpose, type Act } from './layers.js';
import { hasZeroBlocks, ZeroBlockCounter, type SparsityResult } from './zero-blocks.js';

export interface GoldenResult {
  /** raw int8 of each model output */
  outputsInt: Int8Array[];
  /** dequantized model outputs */
  outputs: Float64Array[];
  /** every tensor the run produced, by name (input included), for layer-by-layer comparison */
  tensors: Map<string, Act>;
  /**
   * Only for models with zeroBlock annotations: bitmaps and exact per-layer counters (zero
   * blocks, MACs dense/executed, activation bytes dense/actual). Tensors above are as written,
   * i.e. zero blocks already hold the zero point.
   */
  sparsity?: SparsityResult;
  /**
   * Only for models with gated convs: per gated conv, outputs gated off and MACs dense, base
   * and executed (golden/gating.ts). With zero blocks as well, `sparsity` counts the MACs both
   * skip together.
   */
  gating?: GatingResult;
}

/** ONNX QuantizeLinear of the float input with the input tensor's parameters. */
export function quantizeInput(t: TensorInfo, input: ArrayLike<number>): Int8Array {
  const out = new Int8Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = quantizeValue(input[i]!, t.quant.scale, t.quant.zeroPoint);
  return out;
}

export function runLayer(l: Layer, ins: Act[], out: TensorInfo): Act {
  const x = ins[0]!;
  switch (l.op) {
    case 'conv':
      return isGated(l) ? gatedConv(l, x, out.quant).act : conv(l, x, out.quant);
    case 'fc':
      return fc(l, x, out.quant);
    case 'maxpool':
    case 'avgpool':
      return pool(l, x, out.quant);
    case 'globalavgpool':
      return globalAvgPool(l, x, out.quant);
    case 'add':
      return add(l, x, ins[1]!, out.quant);
    case 'concat':
      return concat(l, ins, out.quant);
    case 'reshape':
      return { shape: out.shape, data: x.data, quant: out.quant };
    case 'transpose':
      return transpose(l, x);
  }
}

/** Bit-exact integer inference of one sample (float input values in the model's input shape). */
export function runGolden(m: Model, input: ArrayLike<number>): GoldenResult {
  const infos = new Map(m.tensors.map((t) => [t.name, t]));
  const inInfo = infos.get(m.inputs[0]!)!;
  const tensors = new Map<string, Act>();
  const input0: Act = { shape: inInfo.shape, data: quantizeInput(inInfo, input), quant: inInfo.quant };
  tensors.set(inInfo.name, input0);
  const counter = hasZeroBlocks(m) ? new ZeroBlockCounter(m) : undefined;
  const gating = hasGating(m) ? new GatingCounter() : undefined;
  counter?.write(inInfo.name, input0);
  for (const l of m.layers) {
    const ins = l.inputs.map((i) => tensors.get(i)!);
    const info = infos.get(l.output)!;
    let out: Act;
    let gates: Uint8Array | undefined;
    if (l.op === 'conv' && isGated(l)) {
      ({ act: out, gates } = gatedConv(l, ins[0]!, info.quant));
      gating!.layer(l, ins[0]!.shape[0]!, gates);
    } else {
      out = runLayer(l, ins, info);
    }
    if (counter) {
      // A view shares its producer's (already written) bytes; validation keeps zeroBlock off it.
      if (l.op !== 'reshape') counter.write(l.output, out);
      counter.layer(l, gates);
    }
    tensors.set(l.output, out);
  }
  const outputsInt = m.outputs.map((o) => tensors.get(o)!.data);
  const outputs = m.outputs.map((o) => {
    const t = tensors.get(o)!;
    return Float64Array.from(t.data, (q) => dequantizeValue(q, t.quant.scale, t.quant.zeroPoint));
  });
  return {
    outputsInt,
    outputs,
    tensors,
    ...(counter ? { sparsity: counter.result() } : {}),
    ...(gating ? { gating: gating.result() } : {}),
  };
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}
