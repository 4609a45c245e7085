import { unsupported } from '../../errors.js';
import { consumerMap, nodeWhere, type Graph, type GraphNode } from './graph.js';
import type { Quantization } from '../../ir/types.js';

/** A layer-to-be: one main node plus the activation/affine nodes fused after it. */
export interface NodeGroup {
  main: GraphNode;
  fused: GraphNode[];
  /** The tensor the group writes (the last fused node's output). */
  output: string;
}

const WEIGHTED = new Set(['Conv', 'Gemm', 'MatMul']);
const VIEWS = new Set(['Flatten', 'Reshape', 'Transpose']);
const ACTIVATIONS = new Set(['Relu', 'Clip']);
const AFFINE = new Set(['BatchNormalization', 'Mul', 'Add']);

export function isView(op: string): boolean {
  return VIEWS.has(op);
}

/** Ops whose output quantization equals their input's without calibration. */
export function inheritsQuant(op: string): boolean {
  return VIEWS.has(op) || op === 'MaxPool';
}

function isConstOperandOp(g: Graph, n: GraphNode, from: string): boolean {
  return n.inputs.length === 2 && n.inputs.includes(from) && n.inputs.some((i) => i !== from && g.consts.has(i));
}

/**
 * Cuts the float graph into layers. A chain grows while its tensor is not quantized (a layer
 * boundary in QDQ models), not a graph output, read by exactly one node, and that node can be
 * fused: ReLU/Clip after any computing op, BatchNormalization or Mul/Add by a constant after a
 * weighted op and before its activation.
 */
export function groupLayers(g: Graph, quant: ReadonlyMap<string, Quantization>): NodeGroup[] {
  const consumers = consumerMap(g.nodes);
  const fusedAway = new Set<GraphNode>();
  const groups: NodeGroup[] = [];
  for (const n of g.nodes) {
    if (fusedAway.has(n)) continue;
    const where = nodeWhere(g.file, n);
    if (ACTIVATIONS.has(n.op) || n.op === 'BatchNormalization' || (AFFINE.has(n.op) && n.inputs.some((i) => g.consts.has(i)))) {
      throw unsupported(where, `${n.op} must follow a Conv, Gemm, MatMul, pool or Add in the same quantized layer`);
    }
    const group: NodeGroup = { main: n, fused: [], output: n.outputs[0]! };
    let activated = false;
    while (!VIEWS.has(n.op)) {
      const cur = group.output;
      const readers = consumers.get(cur) ?? [];
      if (quant.has(cur) || g.outputs.includes(cur) || readers.length !== 1) break;
      const c = readers[0]!;
      const fusesActivation = ACTIVATIONS.has(c.op) && c.inputs[0] === cur;
      const fusesAffine =
        WEIGHTED.has(n.op) &&
        !activated &&
        ((c.op === 'BatchNormalization' && c.inputs[0] === cur) ||
          ((c.op === 'Mul' || c.op === 'Add') && isConstOperandOp(g, c, cur)));
      if (!fusesActivation && !fusesAffine) break;
      activated ||= fusesActivation;
      group.fused.push(c);
      fusedAway.add(c);
      group.output = c.outputs[0]!;
    }
    groups.push(group);
  }
  return groups;
}
