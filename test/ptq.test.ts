import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInputData, type InputData } from '../src/frontend/data.js';
import { runFloat } from '../src/frontend/onnx/float-executor.js';
import { annotatedGraph, importOnnx, readOnnxGraph } from '../src/frontend/onnx/import.js';
import { argmax, runGolden } from '../src/golden/run.js';
import { OWN, sharedData, sharedModel } from './fixtures.js';
import { mulberry32 } from './support/prng.js';

/** Calibration inputs for tinyres: uniform [0,1) like its test inputs, but other values. */
function tinyresCalibration(): InputData {
  const rng = mulberry32(7);
  const inputs = Array.from({ length: 16 }, () => Float64Array.from({ length: 3 * 32 * 32 }, () => Math.fround(rng())));
  return { file: 'tinyres-calibration', shape: [1, 3, 32, 32], inputs, raw: {} };
}

describe('post-training quantization of fp32 models', () => {
  it('digits8: accuracy on the 100 held-out samples within 2 points of onnxruntime fp32', async () => {
    const calibFile = join(OWN, 'digits8_calib.json');
    const calib = parseInputData(readFileSync(calibFile, 'utf8'), calibFile);
    const { model } = await importOnnx(sharedModel('digits8_fp32'), { calib });
    expect(model.source.format).toBe('fp32-ptq');
    const d = sharedData('digits8');
    const labels = d.labels!;
    const ours = d.inputs.filter((x, i) => argmax(runGolden(model, x).outputsInt[0]!) === labels[i]).length;
    const ort = d.ort_fp32!.filter((y, i) => argmax(y) === labels[i]).length;
    expect(Math.abs(ours - ort)).toBeLessThanOrEqual(2);
  });

  it('tinyres: quantized logits follow onnxruntime fp32 within a few percent of their range', async () => {
    const { model } = await importOnnx(sharedModel('tinyres_fp32'), { calib: tinyresCalibration() });
    const d = sharedData('tinyres');
    d.inputs.forEach((x, i) => {
      const ours = runGolden(model, x).outputs[0]!;
      const ref = d.ort_fp32![i]!;
      const range = Math.max(...ref) - Math.min(...ref);
      ours.forEach((v, k) => expect(Math.abs(v - ref[k]!)).toBeLessThanOrEqual(0.05 * range));
    });
  });
});

describe.each(['digits8', 'tinyres'] as const)('float reference executor on %s_fp32', (name) => {
  it('matches onnxruntime within 1e-4 relative to the largest logit', async () => {
    const g = annotatedGraph(await readOnnxGraph(sharedModel(`${name}_fp32`)));
    const d = sharedData(name);
    d.inputs.forEach((x, i) => {
      const out = runFloat(g, x).get(g.outputs[0]!)!.data;
      const ref = d.ort_fp32![i]!;
      const norm = Math.max(...ref.map(Math.abs));
      out.forEach((v, k) => expect(Math.abs(v - ref[k]!)).toBeLessThanOrEqual(1e-4 * norm));
    });
  });
});
