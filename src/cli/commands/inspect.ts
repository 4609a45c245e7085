import { GatecError } from '../../errors.js';
import { readInputData } from '../../frontend/data.js';
import { isIrFile, loadModel } from '../../frontend/load.js';
import { importGraph, readOnnxGraph } from '../../frontend/onnx/import.js';
import { SUPPORTED_OPS } from '../../frontend/onnx/support.js';
import { layerMacs, tensorShapes } from '../../golden/macs.js';
import type { Layer, Model } from '../../ir/types.js';
import { formatCount, table } from '../format.js';

const QUANT_OPS = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'QLinearConv',
  'QLinearMatMul',
  'QGemm',
  'QLinearAdd',
  'QLinearGlobalAveragePool',
  'QLinearAveragePool',
  'QLinearConcat',
  'Identity',
  'Constant',
]);

function layerParams(l: Layer): number {
  return l.op === 'conv' || l.op === 'fc' ? l.weights.length + l.bias.length : 0;
}

function describe(l: Layer): string {
  switch (l.op) {
    case 'conv':
      return `k${l.kernel.join('x')} s${l.stride.join('x')} p${l.pads.join(',')}${l.groups > 1 ? ` g${l.groups}` : ''} clamp[${l.clamp.join(',')}]${l.gating ? ` gated base ${l.gating.baseChannels}` : ''}`;
    case 'maxpool':
    case 'avgpool':
      return `k${l.kernel.join('x')} s${l.stride.join('x')} p${l.pads.join(',')}`;
    case 'transpose':
      return `perm ${l.perm.join(',')}`;
    default:
      return '';
  }
}

export function modelSummary(m: Model) {
  const shapes = tensorShapes(m);
  const layers = m.layers.map((l) => ({
    name: l.name,
    op: l.op,
    inputs: l.inputs,
    output: l.output,
    inputShapes: l.inputs.map((i) => shapes.get(i)!),
    outputShape: shapes.get(l.output)!,
    params: layerParams(l),
    macs: layerMacs(l, shapes),
    attributes: describe(l),
  }));
  return {
    name: m.name,
    format: m.source.format,
    input: { name: m.inputs[0]!, shape: shapes.get(m.inputs[0]!)! },
    outputs: m.outputs.map((o) => ({ name: o, shape: shapes.get(o)! })),
    layers,
    totals: { params: layers.reduce((a, l) => a + l.params, 0), macs: layers.reduce((a, l) => a + l.macs, 0) },
  };
}

export async function inspectCommand(path: string, opts: { calib?: string; json?: boolean }): Promise<void> {
  const calib = opts.calib ? await readInputData(opts.calib) : undefined;
  let onnxOps: { op: string; count: number; supported: boolean }[] = [];
  let model: Model | undefined;
  let failure: GatecError | undefined;
  let calibrated = true;
  try {
    if (isIrFile(path)) {
      model = await loadModel(path);
    } else {
      const g = await readOnnxGraph(path);
      const counts = new Map<string, number>();
      for (const n of g.nodes) counts.set(n.op, (counts.get(n.op) ?? 0) + 1);
      onnxOps = [...counts].map(([op, count]) => ({
        op,
        count,
        supported: (SUPPORTED_OPS as readonly string[]).includes(op) || QUANT_OPS.has(op),
      }));
      const isFloat = !g.nodes.some((n) => n.op === 'QuantizeLinear');
      calibrated = !isFloat || calib !== undefined;
      // Shapes, parameters and MACs do not depend on calibration: a zero input stands in for it.
      const stand = calib ?? { file: '(shape-only calibration)', shape: g.input.shape, inputs: [new Float64Array(g.input.shape.reduce((a, b) => a * b, 1))], raw: {} };
      model = importGraph(g, { calib: stand }).model;
    }
  } catch (e) {
    if (!(e instanceof GatecError)) throw e;
    failure = e;
  }
  const summary = model ? modelSummary(model) : undefined;
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({ file: path, supported: !failure, ...(failure ? { error: failure.message } : {}), calibrated, onnxOps, ...(summary ?? {}) }, null, 2) + '\n',
    );
  } else {
    if (onnxOps.length > 0) {
      console.log(table(['onnx op', 'count', 'status'], onnxOps.map((o) => [o.op, o.count, o.supported ? 'supported' : 'unsupported'])));
      console.log('');
    }
    if (summary) {
      console.log(`${summary.name} (${summary.format}${calibrated ? '' : ', uncalibrated'}): input ${summary.input.name} [${summary.input.shape.join(',')}]`);
      console.log(
        table(
          ['layer', 'op', 'in', 'out', 'params', 'MACs', 'attributes'],
          summary.layers.map((l) => [l.name, l.op, l.inputShapes.map((s) => s.join('x')).join(' + '), l.outputShape.join('x'), l.params, l.macs, l.attributes]),
        ),
      );
      console.log(`total: ${summary.layers.length} layers, ${formatCount(summary.totals.params)} params, ${formatCount(summary.totals.macs)} MACs`);
    }
  }
  if (failure) throw failure;
}
