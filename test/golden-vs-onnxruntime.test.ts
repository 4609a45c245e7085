import { describe, expect, it } from 'vitest';
import { importOnnx } from '../src/frontend/onnx/import.js';
import { argmax, runGolden } from '../src/golden/run.js';
import { sharedData, sharedModel } from './fixtures.js';

/**
 * onnxruntime requantizes in float32, gatec with an integer multiplier and shift: rare one-step
 * differences are expected, larger ones are bugs. Steps are measured on dequantized float32
 * logits, hence the 1e-4 allowance for float noise.
 */
const cases = [
  { model: 'digits8_qdq', data: 'digits8', ref: 'ort_qdq' },
  { model: 'digits8_qop', data: 'digits8', ref: 'ort_qop' },
  { model: 'tinyres_qdq', data: 'tinyres', ref: 'ort_qdq' },
] as const;

describe.each(cases)('golden model of $model vs onnxruntime', ({ model, data, ref }) => {
  it('agrees on top-1 for every sample, >=99% of logits within one step, none beyond three', async () => {
    const { model: ir } = await importOnnx(sharedModel(model));
    const d = sharedData(data);
    const scale = ir.tensors.find((t) => t.name === ir.outputs[0])!.quant.scale;
    let within = 0;
    let total = 0;
    let worst = 0;
    d.inputs.forEach((x, i) => {
      const out = runGolden(ir, x).outputs[0]!;
      const expected = d[ref]![i]!;
      expect(argmax(out), `sample ${i}`).toBe(argmax(expected));
      out.forEach((v, k) => {
        const steps = Math.abs(v - expected[k]!) / scale;
        worst = Math.max(worst, steps);
        total++;
        if (steps <= 1 + 1e-4) within++;
      });
    });
    expect(within / total).toBeGreaterThanOrEqual(0.99);
    expect(worst).toBeLessThanOrEqual(3 + 1e-4);
  });
});
