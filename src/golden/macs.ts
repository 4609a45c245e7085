import { product } from '../ir/shapes.js';
import type { Layer, Model } from '../ir/types.js';

/** Dense multiply-accumulates of a layer (conv and fc; pools and adds do none). */
export function layerMacs(l: Layer, shapes: ReadonlyMap<string, number[]>): number {
  if (l.op === 'conv') {
    const out = shapes.get(l.output)!;
    return product(out) * l.weights.length / l.bias.length;
  }
  if (l.op === 'fc') return l.weights.length;
  return 0;
}

export function tensorShapes(m: Model): Map<string, number[]> {
  return new Map(m.tensors.map((t) => [t.name, t.shape]));
}

export function modelMacs(m: Model): { layer: string; op: string; macs: number }[] {
  const shapes = tensorShapes(m);
  return m.layers.map((l) => ({ layer: l.name, op: l.op, macs: layerMacs(l, shapes) }));
}
