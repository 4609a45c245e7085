import { unsupported } from '../../errors.js';
import { attrFloat, attrInt, attrInts, attrString, nodeWhere, type Graph, type GraphNode } from './graph.js';

/** Float ops the importer lowers (after QOperator and QDQ nodes have been rewritten away). */
export const SUPPORTED_OPS = [
  'Conv',
  'Gemm',
  'MatMul',
  'Add',
  'Mul',
  'Relu',
  'Clip',
  'BatchNormalization',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Concat',
  'Flatten',
  'Reshape',
  'Transpose',
] as const;

function allOnes(v: number[] | undefined): boolean {
  return !v || v.every((x) => x === 1);
}

function checkAutoPad(n: GraphNode, where: string): void {
  const autoPad = attrString(n, 'auto_pad') ?? 'NOTSET';
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw unsupported(where, `auto_pad=${autoPad} is not supported`);
}

/**
 * Rejects, with exit code 2, every op and attribute value the importer cannot lower exactly,
 * before any work is done: one line naming the node, the op and what is unsupported.
 */
export function checkSupported(g: Graph): void {
  for (const n of g.nodes) {
    const where = nodeWhere(g.file, n);
    if (n.domain && n.domain !== 'ai.onnx') throw unsupported(where, `operator ${n.domain}.${n.op} is not supported`);
    if (!(SUPPORTED_OPS as readonly string[]).includes(n.op)) throw unsupported(where, `operator ${n.op} is not supported`);
    switch (n.op) {
      case 'Conv':
        if (!allOnes(attrInts(n, 'dilations'))) throw unsupported(where, 'dilations other than 1 are not supported');
        checkAutoPad(n, where);
        if ((attrInts(n, 'kernel_shape') ?? [0, 0]).length !== 2 && attrInts(n, 'kernel_shape')) {
          throw unsupported(where, 'only 2-D convolutions are supported');
        }
        break;
      case 'MaxPool':
      case 'AveragePool':
        if (attrInt(n, 'ceil_mode', 0) !== 0) throw unsupported(where, 'ceil_mode=1 is not supported');
        if (!allOnes(attrInts(n, 'dilations'))) throw unsupported(where, 'dilations other than 1 are not supported');
        checkAutoPad(n, where);
        if (n.op === 'MaxPool' && attrInt(n, 'storage_order', 0) !== 0) throw unsupported(where, 'storage_order=1 is not supported');
        if (n.outputs.length > 1 && n.outputs[1]) throw unsupported(where, 'the Indices output is not supported');
        if ((attrInts(n, 'kernel_shape') ?? []).length !== 2) throw unsupported(where, 'only 2-D pooling is supported');
        if (n.op === 'AveragePool' && attrInt(n, 'count_include_pad', 0) === 0 && (attrInts(n, 'pads') ?? []).some((p) => p !== 0)) {
          throw unsupported(where, 'count_include_pad=0 with padding is not supported');
        }
        break;
      case 'Gemm':
        if (attrInt(n, 'transA', 0) !== 0) throw unsupported(where, 'transA=1 is not supported');
        if (!g.consts.has(n.inputs[1]!)) throw unsupported(where, 'B must be a constant (weights)');
        if (attrFloat(n, 'alpha', 1) <= 0) throw unsupported(where, 'alpha must be positive');
        break;
      case 'MatMul':
        if (!g.consts.has(n.inputs[1]!)) throw unsupported(where, 'the second input must be a constant (weights)');
        break;
      case 'Clip':
        for (const k of [1, 2]) {
          if (n.inputs[k] && !g.consts.has(n.inputs[k])) throw unsupported(where, 'min and max must be constants');
        }
        break;
      case 'BatchNormalization':
        if (n.inputs.slice(1).some((i) => !g.consts.has(i))) throw unsupported(where, 'parameters must be constants');
        if (attrInt(n, 'training_mode', 0) !== 0) throw unsupported(where, 'training_mode=1 is not supported');
        break;
      case 'Reshape':
        if (!g.consts.has(n.inputs[1]!)) throw unsupported(where, 'the shape must be a constant');
        break;
      case 'Mul':
        if (!n.inputs.some((i) => g.consts.has(i))) throw unsupported(where, 'only multiplication by a constant is supported');
        break;
    }
  }
}
