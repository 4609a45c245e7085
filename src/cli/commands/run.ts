import { badInput } from '../../errors.js';
import { checkInputShape, readInputData } from '../../frontend/data.js';
import { isIrFile, loadModel } from '../../frontend/load.js';
import { runFloat } from '../../frontend/onnx/float-executor.js';
import { annotatedGraph, readOnnxGraph } from '../../frontend/onnx/import.js';
import { modelMacs } from '../../golden/macs.js';
import { argmax, runGolden } from '../../golden/run.js';
import { table } from '../format.js';

export interface RunOptions {
  inputs: string;
  json?: boolean;
  calib?: string;
  float?: boolean;
}

interface SampleResult {
  outputs: number[];
  outputsInt?: number[];
  top1: number;
}

async function floatResults(path: string, data: Awaited<ReturnType<typeof readInputData>>): Promise<SampleResult[]> {
  if (isIrFile(path)) throw badInput(path, '--float needs the ONNX model, not an IR file');
  const g = annotatedGraph(await readOnnxGraph(path));
  checkInputShape(data, g.input.shape.slice(1), path);
  return data.inputs.map((x) => {
    const out = Array.from(runFloat(g, x).get(g.outputs[0]!)!.data);
    return { outputs: out, top1: argmax(out) };
  });
}

export async function runCommand(path: string, opts: RunOptions): Promise<void> {
  const data = await readInputData(opts.inputs);
  let results: SampleResult[];
  let macs: { dense: number; executed: number } | undefined;
  if (opts.float) {
    results = await floatResults(path, data);
  } else {
    const model = await loadModel(path, opts.calib ? await readInputData(opts.calib) : undefined);
    const inShape = model.tensors.find((t) => t.name === model.inputs[0])!.shape;
    checkInputShape(data, inShape, path);
    results = data.inputs.map((x) => {
      const r = runGolden(model, x);
      return { outputs: Array.from(r.outputs[0]!), outputsInt: Array.from(r.outputsInt[0]!), top1: argmax(r.outputsInt[0]!) };
    });
    const dense = modelMacs(model).reduce((a, l) => a + l.macs, 0);
    macs = { dense, executed: dense };
  }
  const labels = data.labels;
  const correct = labels ? results.filter((r, i) => r.top1 === labels[i]).length : undefined;
  if (opts.json) {
    const out = {
      model: path,
      mode: opts.float ? 'float' : 'golden',
      outputs: results.map((r) => r.outputs),
      ...(opts.float ? {} : { outputsInt: results.map((r) => r.outputsInt!) }),
      top1: results.map((r) => r.top1),
      ...(labels ? { labels, accuracy: correct! / labels.length } : {}),
      ...(macs ? { macs } : {}),
    };
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  console.log(
    table(
      ['sample', 'top1', ...(labels ? ['label'] : []), 'outputs'],
      results.map((r, i) => [i, r.top1, ...(labels ? [labels[i]!] : []), r.outputs.slice(0, 4).map((v) => v.toFixed(4)).join(' ') + (r.outputs.length > 4 ? ' ...' : '')]),
    ),
  );
  if (labels) console.log(`accuracy: ${correct}/${labels.length} (${((100 * correct!) / labels.length).toFixed(1)}%)`);
  if (macs) console.log(`MACs per sample: ${macs.dense}`);
}
