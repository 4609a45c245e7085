import type { Layer } from '../../src/ir/types.js';

export function roundUp(x: number, multiple: number): number {
  return Math.ceil(x / multiple) * multiple;
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

/** `<file>: layer '<name>' (<op>)`, the prefix of every error the engine back end raises about a layer. */
export function layerWhere(source: string, layer: Pick<Layer, 'name' | 'op'>): string {
  return `${source}: layer '${layer.name}' (${layer.op})`;
}

/** [C,H,W] of an IR shape; a vector [N] is the tensor [N,1,1] (docs/engine.md, DRAM layout). */
export function chw(shape: readonly number[]): [number, number, number] | undefined {
  if (shape.length === 1) return [shape[0]!, 1, 1];
  if (shape.length === 3) return [shape[0]!, shape[1]!, shape[2]!];
  return undefined;
}
