import { quantizeMultiplier } from '../../src/ir/numerics.js';
import type { FcLayer, Model, TensorInfo } from '../../src/ir/types.js';
import { mulberry32 } from './prng.js';

/**
 * A quantized MLP as an IR model (ReLU layers clamp at the zero point), seeded: sizes [in, h1, ...,
 * out]. Scales are chosen so activations spread over the int8 range; `sparsity` is the fraction of
 * weights set to zero (as pruning leaves them).
 */
export function mlpModel(sizes: number[], seed = 1, sparsity = 0): Model {
  const rng = mulberry32(seed);
  const tensors: TensorInfo[] = [{ name: 'x', shape: [sizes[0]!], quant: { scale: 1 / 64, zeroPoint: -128 } }];
  const layers: FcLayer[] = [];
  for (let i = 1; i < sizes.length; i++) {
    const ci = sizes[i - 1]!;
    const co = sizes[i]!;
    const last = i === sizes.length - 1;
    const out: TensorInfo = { name: last ? 'y' : `h${i}`, shape: [co], quant: { scale: 1 / 32, zeroPoint: last ? 0 : -128 } };
    const weights = Int8Array.from({ length: co * ci }, () => (rng() < sparsity ? 0 : Math.round((rng() * 2 - 1) * 127)));
    const bias = Int32Array.from({ length: co }, () => Math.round((rng() * 2 - 1) * 2000));
    const sx = tensors[tensors.length - 1]!.quant.scale;
    const mults = Array.from({ length: co }, () => quantizeMultiplier((sx * (0.002 + rng() * 0.004)) / out.quant.scale));
    layers.push({
      op: 'fc',
      name: `fc${i}`,
      inputs: [tensors[tensors.length - 1]!.name],
      output: out.name,
      weights,
      bias,
      requant: { multiplier: Int32Array.from(mults, (m) => m.multiplier), shift: Int32Array.from(mults, (m) => m.shift) },
      clamp: last ? [-128, 127] : [-128, 127],
    });
    tensors.push(out);
  }
  return { format: 'gatec-ir', version: 1, name: `mlp_${sizes.join('_')}`, source: { file: 'mlp.gir.json', format: 'ir' }, inputs: ['x'], outputs: ['y'], tensors, layers };
}

/** Seeded float inputs in the input's range. */
export function mlpInputs(n: number, size: number, seed = 7): number[][] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, () => Array.from({ length: size }, () => rng() * 3.9));
}
