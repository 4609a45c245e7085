import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printRows, time } from './common.js';
import * as ort from 'onnxruntime-node';
import { importOnnx } from '../src/frontend/onnx/import.js';
import { modelMacs } from '../src/golden/macs.js';
import { runGolden } from '../src/golden/run.js';
import { mulberry32 } from '../test/support/prng.js';
import { makeResnet18 } from '../test/support/resnet18.js';

/**
 * Benchmarks, measured side by side in one run. Golden model and onnxruntime both on one core
 * (onnxruntime with one intra-op thread), on the same ResNet-18-shaped int8 QDQ model.
 */

export async function benchGolden(): Promise<void> {
  const size = Number(process.env['GATEC_BENCH_SIZE'] ?? 224);
  const dir = mkdtempSync(join(tmpdir(), 'gatec-bench-'));
  const file = join(dir, `resnet18_${size}_qdq.onnx`);
  writeFileSync(file, makeResnet18({ height: size, width: size, format: 'qdq', seed: 1 }));

  const imported = await time(() => importOnnx(file));
  const model = imported.value.model;
  const macs = modelMacs(model).reduce((a, l) => a + l.macs, 0);
  const rng = mulberry32(3);
  const input = Float32Array.from({ length: 3 * size * size }, () => rng());

  runGolden(model, input);
  const golden = await time(() => runGolden(model, input));

  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { [model.inputs[0]!]: new ort.Tensor('float32', input, [1, 3, size, size]) };
  await session.run(feeds);
  const runs = 3;
  const ortRun = await time(async () => {
    for (let i = 0; i < runs; i++) await session.run(feeds);
  });
  const ortMs = ortRun.ms / runs;

  const rows: [string, string][] = [
    ['model', `ResNet-18-shaped int8 QDQ, 3x${size}x${size}, ${model.layers.length} layers, ${(macs / 1e9).toFixed(3)} GMAC`],
    ['import (ONNX -> IR)', `${imported.ms.toFixed(0)} ms`],
    ['golden model, one inference', `${golden.ms.toFixed(0)} ms (${(macs / golden.ms / 1e6).toFixed(2)} GMAC/s)`],
    ['onnxruntime-node, one inference, 1 thread', `${ortMs.toFixed(0)} ms (${(macs / ortMs / 1e6).toFixed(2)} GMAC/s)`],
    ['golden / onnxruntime time', `${(golden.ms / ortMs).toFixed(2)}x`],
  ];
  printRows('golden model vs onnxruntime', rows);
}

