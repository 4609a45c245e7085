import { badInput } from '../errors.js';
import { inferOutputShape, product, requantEntries } from './shapes.js';
import type { Model } from './types.js';

/**
 * Semantic checks the schema cannot express: references, topological order, shapes, table
 * sizes. Throws a GatecError naming the file and the layer.
 */
export function validateModel(m: Model, file: string): void {
  const shapes = new Map<string, number[]>();
  for (const t of m.tensors) {
    if (shapes.has(t.name)) throw badInput(file, `tensor '${t.name}' is declared twice`);
    shapes.set(t.name, t.shape);
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
      const cin = shapes.get(l.inputs[0]!)![0]! / l.groups;
      if (l.gating.baseChannels > cin) throw badInput(where, `gating base ${l.gating.baseChannels} exceeds ${cin} input channels`);
      if (l.gating.threshold.length !== l.bias.length) throw badInput(where, 'gating needs one threshold per output channel');
    }
    produced.add(l.output);
  }
  for (const o of m.outputs) {
    if (!produced.has(o)) throw badInput(file, `output '${o}' is never produced`);
  }
}
