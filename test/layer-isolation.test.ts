import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { onnx } from '../src/frontend/onnx/proto.js';
import { importOnnx } from '../src/frontend/onnx/import.js';
import type { Act } from '../src/golden/layers.js';
import { quantizeInput, runLayer } from '../src/golden/run.js';
import { sharedData, sharedModel } from './fixtures.js';

/**
 * Exposes every quantized tensor of a QDQ model (the output of each QuantizeLinear) as an
 * onnxruntime graph output, so each golden layer can be fed onnxruntime's own inputs: a
 * difference then belongs to that one layer.
 */
function exposeQuantizedTensors(bytes: Uint8Array): { model: Uint8Array; quantizedOf: Map<string, string> } {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph!;
  const quantizedOf = new Map<string, string>();
  for (const n of g.node!) {
    if (n.opType !== 'QuantizeLinear') continue;
    quantizedOf.set(n.input![0]!, n.output![0]!);
    if (!g.output!.some((o) => o.name === n.output![0])) {
      g.output!.push(onnx.ValueInfoProto.create({ name: n.output![0]!, type: { tensorType: { elemType: 3 } } }));
    }
  }
  return { model: onnx.ModelProto.encode(m).finish(), quantizedOf };
}

describe.each([
  { model: 'digits8_qdq', data: 'digits8' as const, samples: 20 },
  { model: 'tinyres_qdq', data: 'tinyres' as const, samples: 4 },
])('layer isolation of $model', ({ model, data, samples }) => {
  it('every golden layer, fed onnxruntime inputs, is within one step of onnxruntime output', async () => {
    const path = sharedModel(model);
    const { model: ir } = await importOnnx(path);
    const { model: exposed, quantizedOf } = exposeQuantizedTensors(readFileSync(path));
    const session = await ort.InferenceSession.create(exposed, { logSeverityLevel: 3 });
    const infos = new Map(ir.tensors.map((t) => [t.name, t]));
    const d = sharedData(data);
    const worst = new Map<string, number>();
    for (const x of d.inputs.slice(0, samples)) {
      const feeds = { [ir.inputs[0]!]: new ort.Tensor('float32', Float32Array.from(x), d.shape) };
      const results = await session.run(feeds);
      const ortAct = (name: string): Act => {
        const info = infos.get(name)!;
        const q = quantizedOf.get(name);
        expect(q, `tensor ${name} is quantized in the model`).toBeDefined();
        return { shape: info.shape, data: new Int8Array((results[q!]!.data as Int8Array).buffer.slice(0)), quant: info.quant };
      };
      const inputInfo = infos.get(ir.inputs[0]!)!;
      const inputSteps = maxSteps(quantizeInput(inputInfo, x), ortAct(inputInfo.name).data);
      worst.set('(input quantization)', Math.max(worst.get('(input quantization)') ?? 0, inputSteps));
      for (const l of ir.layers) {
        if (l.op === 'reshape') continue;
        const got = runLayer(l, l.inputs.map(ortAct), infos.get(l.output)!);
        worst.set(l.name, Math.max(worst.get(l.name) ?? 0, maxSteps(got.data, ortAct(l.output).data)));
      }
    }
    for (const [layer, steps] of worst) expect(steps, `layer ${layer}`).toBeLessThanOrEqual(1);
  });
});

function maxSteps(a: Int8Array, b: Int8Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}
