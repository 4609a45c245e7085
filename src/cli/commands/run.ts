import { badInput } from '../../errors.js';
import { checkInputShape, readInputData } from '../../frontend/data.js';
import { isIrFile, loadModel } from '../../frontend/load.js';
import { runFloat } from '../../frontend/onnx/float-executor.js';
import { annotatedGraph, readOnnxGraph } from '../../frontend/onnx/import.js';
import { modelMacs } from '../../golden/macs.js';
import { argmax, runGolden } from '../../golden/run.js';
import type { GatingResult } from '../../golden/gating.js';
import type { Model } from '../../ir/types.js';
import type { SparsityResult } from '../../golden/zero-blocks.js';
import { table } from '../format.js';
import { createProgress, progressCallback } from '../progress.js';

export interface RunOptions {
  inputs: string;
  json?: boolean;
  calib?: string;
  gating?: string;
  float?: boolean;
  quiet?: boolean;
}

interface SampleResult {
  outputs: number[];
  outputsInt?: number[];
  top1: number;
  sparsity?: SampleSparsity;
  /** Models with gated convs: per gated conv and in total (golden/gating.ts). */
  gating?: GatingResult;
}

/** `sparsity` of one sample in `gatec run --json` (models with zeroBlock annotations only). */
export interface SampleSparsity {
  /** The model input as the host writes it through the zero-block rule (when annotated). */
  input?: { tensor: string; zeroBlocks: number; totalBlocks: number; bytes: { dense: number; actual: number } };
  layers: SparsityResult['layers'];
  total: SparsityResult['total'];
}

function sampleSparsity(s: SparsityResult, input: string, inputElements: number): SampleSparsity {
  const tb = s.tensors.get(input);
  return {
    ...(tb ? { input: { tensor: input, zeroBlocks: tb.zeroBlocks, totalBlocks: tb.totalBlocks, bytes: { dense: inputElements, actual: tb.bytes } } } : {}),
    layers: s.layers,
    total: s.total,
  };
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/** Per gated conv, summed over the samples: outputs gated off, MACs executed vs dense. */
function printGating(samples: GatingResult[]): void {
  const rows = samples[0]!.layers.map((l, i) => {
    const off = samples.reduce((a, s) => a + s.layers[i]!.outputs.gatedOff, 0);
    const total = samples.reduce((a, s) => a + s.layers[i]!.outputs.total, 0);
    const dense = samples.reduce((a, s) => a + s.layers[i]!.macs.dense, 0);
    const executed = samples.reduce((a, s) => a + s.layers[i]!.macs.executed, 0);
    return [l.layer, l.inputChannels, l.baseChannels, `${((100 * off) / total).toFixed(1)}%`, `${(dense / executed).toFixed(2)}x`];
  });
  console.log(table(['gated conv', 'Cin', 'base', 'gated off', 'MAC reduction'], rows));
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
  let sparsity: SampleSparsity[] | undefined;
  let gating: GatingResult[] | undefined;
  if (opts.float) {
    results = await floatResults(path, data);
  } else {
    // Calibration of an fp32 model and the golden runs, under one progress bar; it stops before any output.
    const progress = createProgress('gatec run', opts);
    const onProgress = progressCallback(progress);
    let model: Model;
    try {
      model = await loadModel(path, opts.calib ? await readInputData(opts.calib) : undefined, opts.gating, onProgress);
    } finally {
      progress.stop();
    }
    const inShape = model.tensors.find((t) => t.name === model.inputs[0])!.shape;
    checkInputShape(data, inShape, path);
    const inElements = inShape.reduce((a, b) => a * b, 1);
    results = data.inputs.map((x, i) => {
      onProgress(i, data.inputs.length, 'golden model');
      const r = runGolden(model, x);
      return {
        outputs: Array.from(r.outputs[0]!),
        outputsInt: Array.from(r.outputsInt[0]!),
        top1: argmax(r.outputsInt[0]!),
        ...(r.sparsity ? { sparsity: sampleSparsity(r.sparsity, model.inputs[0]!, inElements) } : {}),
        ...(r.gating ? { gating: r.gating } : {}),
      };
    });
    progress.stop();
    const dense = modelMacs(model).reduce((a, l) => a + l.macs, 0);
    // With zero-block skipping, executed MACs vary per sample: the mean, as gatec sim reports.
    sparsity = results.every((r) => r.sparsity) ? results.map((r) => r.sparsity!) : undefined;
    gating = results.every((r) => r.gating) ? results.map((r) => r.gating!) : undefined;
    // With zero-block skipping or gating, executed MACs vary per sample: the mean, as gatec sim
    // reports. Zero-block counters already include gating's savings (golden/zero-blocks.ts).
    const executed = results.map((r) => r.sparsity?.total.macs.executed ?? dense - (r.gating ? r.gating.total.macs.dense - r.gating.total.macs.executed : 0));
    macs = { dense, executed: mean(executed) };
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
      ...(sparsity ? { sparsity } : {}),
      ...(gating ? { gating } : {}),
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
  if (gating) printGating(gating);
  if (macs && !sparsity && !gating) console.log(`MACs per sample: ${macs.dense}`);
  if (macs && !sparsity && gating) {
    console.log(`MACs per sample: ${macs.dense} dense, ${macs.executed.toFixed(1)} executed (mean, gating; ${(macs.dense / macs.executed).toFixed(2)}x fewer)`);
  }
  if (macs && sparsity) {
    const dense = sparsity[0]!.total.activationBytes.dense;
    const actual = mean(sparsity.map((s) => s.total.activationBytes.actual.read + s.total.activationBytes.actual.write));
    const zero = sparsity.reduce((a, s) => a + s.total.zeroBlocks, 0) / Math.max(1, sparsity.reduce((a, s) => a + s.total.totalBlocks, 0));
    const denseBytes = dense.read + dense.write;
    console.log(`MACs per sample: ${macs.dense} dense, ${macs.executed.toFixed(1)} executed (mean, zero-block skipping${gating ? ' and gating' : ''})`);
    console.log(
      `activation bytes per sample: ${denseBytes} dense, ${actual.toFixed(1)} with zero-block skipping (mean, ${(100 * (1 - actual / denseBytes)).toFixed(1)}% less); ` +
        `zero blocks: ${(100 * zero).toFixed(1)}% of layer outputs' blocks`,
    );
  }
}
