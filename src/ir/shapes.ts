import type { Layer } from './types.js';

/** Output size of a sliding window along one axis (floor mode, as ONNX with ceil_mode=0). */
export function windowOut(size: number, kernel: number, stride: number, padBefore: number, padAfter: number): number {
  return Math.floor((size + padBefore + padAfter - kernel) / stride) + 1;
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Output shape of a layer from its input shapes, or a reason it cannot be computed.
 * The frontend uses it to infer shapes; validation uses it to check stored ones.
 */
export function inferOutputShape(layer: Layer, inputs: number[][]): number[] | string {
  const x = inputs[0]!;
  switch (layer.op) {
    case 'conv': {
      if (x.length !== 3) return `conv input must be [C,H,W], got [${x.join(',')}]`;
      const [c, h, w] = x as [number, number, number];
      const [kh, kw] = layer.kernel;
      const co = layer.bias.length;
      if (c % layer.groups !== 0 || co % layer.groups !== 0) {
        return `groups ${layer.groups} does not divide ${c} input / ${co} output channels`;
      }
      if (layer.weights.length !== co * (c / layer.groups) * kh * kw) {
        return `weights hold ${layer.weights.length} values, expected ${co}x${c / layer.groups}x${kh}x${kw}`;
      }
      const oh = windowOut(h, kh, layer.stride[0], layer.pads[0], layer.pads[2]);
      const ow = windowOut(w, kw, layer.stride[1], layer.pads[1], layer.pads[3]);
      if (oh < 1 || ow < 1) return `kernel ${kh}x${kw} does not fit input ${h}x${w}`;
      return [co, oh, ow];
    }
    case 'fc': {
      const ci = product(x);
      const co = layer.bias.length;
      if (x.length !== 1) return `fc input must be a vector, got [${x.join(',')}]`;
      if (layer.weights.length !== co * ci) return `weights hold ${layer.weights.length} values, expected ${co}x${ci}`;
      return [co];
    }
    case 'maxpool':
    case 'avgpool': {
      if (x.length !== 3) return `${layer.op} input must be [C,H,W], got [${x.join(',')}]`;
      const [c, h, w] = x as [number, number, number];
      const [kh, kw] = layer.kernel;
      const oh = windowOut(h, kh, layer.stride[0], layer.pads[0], layer.pads[2]);
      const ow = windowOut(w, kw, layer.stride[1], layer.pads[1], layer.pads[3]);
      if (oh < 1 || ow < 1) return `kernel ${kh}x${kw} does not fit input ${h}x${w}`;
      return [c, oh, ow];
    }
    case 'globalavgpool': {
      if (x.length !== 3) return `globalavgpool input must be [C,H,W], got [${x.join(',')}]`;
      return [x[0]!, 1, 1];
    }
    case 'add': {
      const y = inputs[1];
      if (inputs.length !== 2 || !y) return 'add takes two inputs';
      if (x.join(',') !== y.join(',')) return `add inputs differ in shape: [${x.join(',')}] vs [${y.join(',')}]`;
      return [...x];
    }
    case 'concat': {
      if (inputs.some((s) => s.length !== x.length || s.slice(1).join(',') !== x.slice(1).join(','))) {
        return 'concat inputs must agree in all but the channel axis';
      }
      return [inputs.reduce((a, s) => a + s[0]!, 0), ...x.slice(1)];
    }
    case 'reshape':
      return 'reshape output shape is stored, not inferred';
    case 'transpose': {
      if (layer.perm.length !== x.length || [...layer.perm].sort().some((p, i) => p !== i)) {
        return `perm [${layer.perm.join(',')}] is not a permutation of ${x.length} axes`;
      }
      return layer.perm.map((p) => x[p]!);
    }
  }
}

/** Channels a layer's requantization table must cover. */
export function requantEntries(layer: Layer, inputCount: number): number {
  switch (layer.op) {
    case 'conv':
    case 'fc':
      return layer.bias.length;
    case 'add':
    case 'concat':
      return inputCount;
    default:
      return 1;
  }
}
