import { badInput, unsupported } from '../errors.js';
import { inferOutputShape, product, requantEntries } from './shapes.js';
import type { ConvLayer, Model, TensorInfo } from './types.js';

/** Largest zero-block epsilon: |v - zp| of two int8 values never exceeds 255. */
export const MAX_ZERO_BLOCK_EPSILON = 255;

/**
 * Why a tensor's zeroBlock annotation does not suit its shape, or undefined. Feature maps
 * [C,H,W] are cut into bc x bh x bw blocks; a vector [N] counts as [N,1,1]. Edge blocks may be
 * partial (the tensor is logically padded with its zero point), so a block need not divide the
 * tensor, but no block dimension may exceed the tensor's.
 */
export function zeroBlockProblem(t: TensorInfo): string | undefined {
  const zb = t.zeroBlock;
  if (!zb) return undefined;
  const { block, epsilon } = zb;
  if (!Number.isInteger(epsilon) || epsilon < 0) return `zeroBlock epsilon ${epsilon} is negative: it must be an integer from 0 to ${MAX_ZERO_BLOCK_EPSILON}`;
  if (epsilon > MAX_ZERO_BLOCK_EPSILON) return `zeroBlock epsilon ${epsilon} exceeds ${MAX_ZERO_BLOCK_EPSILON} (|v - zp| of int8 values is at most 255)`;
  if (block.some((d) => !Number.isInteger(d) || d < 1)) return `zeroBlock block ${block.join('x')}: every dimension must be a positive integer`;
  const dims = t.shape.length === 3 ? t.shape : t.shape.length === 1 ? [t.shape[0]!, 1, 1] : undefined;
  if (!dims) return `zeroBlock needs a [C,H,W] or [N] tensor, got [${t.shape.join(',')}]`;
  if (block.some((d, i) => d > dims[i]!)) {
    const as = t.shape.length === 1 ? ` (a vector [${t.shape[0]}] is blocked as ${dims.join('x')})` : '';
    return `zeroBlock block ${block.join('x')} is larger than the tensor ${dims.join('x')}${as}`;
  }
  return undefined;
}

/**
 * Why a conv's gating does not suit the layer, or undefined. Grouped convs are a feature gating
 * does not have (the base path would need one channel split per group), hence `unsupported`.
 */
export function gatingProblem(l: ConvLayer, cin: number): { reason: string; unsupported?: true } | undefined {
  const g = l.gating;
  if (!g) return undefined;
  const co = l.bias.length;
  if (l.groups !== 1) return { reason: `channel gating of a grouped conv (groups ${l.groups}) is not supported`, unsupported: true };
  if (g.baseChannels < 1 || g.baseChannels > cin - 1) {
    return { reason: `gating baseChannels ${g.baseChannels} must be from 1 to ${cin - 1} (the conv has ${cin} input channels)` };
  }
  if (g.threshold.length !== co) return { reason: `gating has ${g.threshold.length} thresholds for ${co} output channels` };
  if (g.below && g.below.length !== co) return { reason: `gating has ${g.below.length} 'below' flags for ${co} output channels` };
  return undefined;
}

/**
 * Semantic checks the schema cannot express: references, topological order, shapes, table
 * sizes. Throws a GatecError naming the file and the layer.
 */
export function validateModel(m: Model, file: string): void {
  const shapes = new Map<string, number[]>();
  const zeroBlocked = new Set<string>();
  for (const t of m.tensors) {
    if (shapes.has(t.name)) throw badInput(file, `tensor '${t.name}' is declared twice`);
    shapes.set(t.name, t.shape);
    const zb = zeroBlockProblem(t);
    if (zb) throw badInput(`${file}: tensor '${t.name}'`, zb);
    if (t.zeroBlock) zeroBlocked.add(t.name);
  }
  const produced = new Set<string>(m.inputs);
  for (const name of m.inputs) {
    if (!shapes.has(name)) throw badInput(file, `input '${name}' is not a declared tensor`);
  }
  for (const l of m.layers) {
    const where = `${file}: layer '${l.name}'`;
    for (const i of l.inputs) {
      if (!produced.has(i)) throw badInput(where, `input '${i}' is not produced by an earlier layer`);
    }
    if (produced.has(l.output)) throw badInput(where, `output '${l.output}' is produced twice`);
    const out = shapes.get(l.output);
    if (!out) throw badInput(where, `output '${l.output}' is not a declared tensor`);
    const ins = l.inputs.map((i) => shapes.get(i)!);
    if (l.op === 'reshape') {
      if (product(out) !== product(ins[0]!)) throw badInput(where, 'reshape changes the element count');
      if (zeroBlocked.has(l.output)) {
        throw badInput(
          `${file}: tensor '${l.output}'`,
          `zeroBlock on the output of view layer '${l.name}' (reshape), which shares the bytes of '${l.inputs[0]}': annotate that tensor instead`,
        );
      }
    } else {
      const inferred = inferOutputShape(l, ins);
      if (typeof inferred === 'string') throw badInput(where, inferred);
      if (inferred.join(',') !== out.join(',')) {
        throw badInput(where, `output shape [${out.join(',')}] should be [${inferred.join(',')}]`);
      }
    }
    if ('requant' in l) {
      const n = requantEntries(l, l.inputs.length);
      const sharedShift = l.op === 'add' ? 1 : n;
      if (l.requant.multiplier.length !== n || l.requant.shift.length !== sharedShift) {
        throw badInput(where, `requant needs ${n} multipliers and ${sharedShift} shifts`);
      }
      if (l.clamp[0] > l.clamp[1]) throw badInput(where, `clamp [${l.clamp.join(',')}] is empty`);
    }
    if ((l.op === 'conv' || l.op === 'fc') && l.pruneMask && l.pruneMask.length !== l.weights.length) {
      throw badInput(where, 'pruneMask length differs from the weight count');
    }
    if (l.op === 'conv' && l.gating) {
      const problem = gatingProblem(l, shapes.get(l.inputs[0]!)![0]!);
      if (problem) throw problem.unsupported ? unsupported(where, problem.reason) : badInput(where, problem.reason);
    }
    produced.add(l.output);
  }
  for (const o of m.outputs) {
    if (!produced.has(o)) throw badInput(file, `output '${o}' is never produced`);
  }
}
