import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { runFloat } from '../src/frontend/onnx/float-executor.js';
import { annotatedGraph, importOnnx, readOnnxGraph } from '../src/frontend/onnx/import.js';
import { runGolden } from '../src/golden/run.js';
import { OnnxGraphBuilder } from './support/onnx-builder.js';
import { mulberry32 } from './support/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'gatec-ops-'));
const rng = mulberry32(11);
const rand = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);

async function ortRun(bytes: Uint8Array, input: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const r = await s.run({ input: new ort.Tensor('float32', input, shape) });
  return r[s.outputNames[0]!]!.data as Float32Array;
}

function save(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('fp32 graph features: channels-last input, BN with negative scale, Clip, Concat, MatMul+Add', () => {
  const b = new OnnxGraphBuilder({ opset: 17 });
  b.input('input', [1, 6, 6, 2]);
  b.node('Transpose', ['input'], ['nchw'], { perm: [0, 3, 1, 2] });
  b.initializer('w1', [4, 2, 3, 3], rand(72, 0.5)).initializer('b1', [4], rand(4, 0.1));
  b.node('Conv', ['nchw', 'w1', 'b1'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.initializer('gamma', [4], Float32Array.of(1.5, -0.7, 0.9, -1.2)).initializer('beta', [4], rand(4, 0.2));
  b.initializer('mean', [4], rand(4, 0.1)).initializer('var', [4], Float32Array.of(0.5, 1, 2, 0.8));
  b.node('BatchNormalization', ['c1', 'gamma', 'beta', 'mean', 'var'], ['bn'], { epsilon: { kind: 'float', value: 1e-5 } });
  b.node('Relu', ['bn'], ['r1']);
  b.initializer('w2', [3, 4, 1, 1], rand(12, 0.6));
  b.node('Conv', ['r1', 'w2'], ['c2'], { kernel_shape: [1, 1] });
  b.scalar('lo', 0, 'float').scalar('hi', 1, 'float');
  b.node('Clip', ['c2', 'lo', 'hi'], ['r2']);
  b.node('Concat', ['r1', 'r2'], ['cat'], { axis: 1 });
  b.node('MaxPool', ['cat'], ['mp'], { kernel_shape: [2, 2], strides: [2, 2] });
  b.node('Flatten', ['mp'], ['flat'], { axis: 1 });
  b.initializer('wfc', [63, 5], rand(315, 0.3)).initializer('bfc', [5], rand(5, 0.1));
  b.node('MatMul', ['flat', 'wfc'], ['mm']);
  b.node('Add', ['mm', 'bfc'], ['output']);
  b.output('output');
  const bytes = b.toBytes();
  const file = save('features_fp32.onnx', bytes);
  const samples = Array.from({ length: 8 }, () => Float32Array.from({ length: 72 }, () => rng()));

  it('float reference executor matches onnxruntime within 1e-4 relative', async () => {
    const g = annotatedGraph(await readOnnxGraph(file));
    for (const x of samples) {
      const ref = await ortRun(bytes, x, [1, 6, 6, 2]);
      const out = runFloat(g, x).get(g.outputs[0]!)!.data;
      const norm = Math.max(...Array.from(ref, Math.abs));
      out.forEach((v, k) => expect(Math.abs(v - ref[k]!)).toBeLessThanOrEqual(1e-4 * norm));
    }
  });

  it('imports to one layer per compute op and its int8 result follows the float one', async () => {
    const calib = { file: 'calib', shape: [1, 6, 6, 2], inputs: samples.map((s) => Float64Array.from(s)), raw: {} };
    const { model, graph } = await importOnnx(file, { calib });
    expect(model.layers.map((l) => l.op)).toEqual(['transpose', 'conv', 'conv', 'concat', 'maxpool', 'reshape', 'fc']);
    for (const x of samples) {
      const ref = runFloat(graph, x).get(graph.outputs[0]!)!.data;
      const range = Math.max(...ref) - Math.min(...ref);
      runGolden(model, x).outputs[0]!.forEach((v, k) => expect(Math.abs(v - ref[k]!)).toBeLessThanOrEqual(0.06 * range));
    }
  });
});

describe('ConvInteger / MatMulInteger (integer ops with float rescaling)', () => {
  it('matches onnxruntime within one output step', async () => {
    const b = new OnnxGraphBuilder({ opset: 13 });
    b.input('input', [1, 2, 5, 5]);
    b.scalar('xs', 1 / 255, 'float').scalar('xz', 0, 'uint8');
    b.node('QuantizeLinear', ['input', 'xs', 'xz'], ['xq']);
    b.initializer('w', [3, 2, 3, 3], Uint8Array.from({ length: 54 }, () => Math.floor(rng() * 256)));
    b.scalar('wz', 128, 'uint8');
    b.node('ConvInteger', ['xq', 'w', 'xz', 'wz'], ['acc'], { kernel_shape: [3, 3] });
    b.node('Cast', ['acc'], ['accf'], { to: 1 });
    b.scalar('ws', (1 / 255) * 0.01, 'float');
    b.node('Mul', ['accf', 'ws'], ['y']);
    b.node('Relu', ['y'], ['r']);
    b.scalar('ys', 0.02, 'float').scalar('yz', 0, 'uint8');
    b.node('QuantizeLinear', ['r', 'ys', 'yz'], ['rq']);
    b.node('Flatten', ['rq'], ['flat'], { axis: 1 });
    b.node('DequantizeLinear', ['flat', 'ys', 'yz'], ['flatf']);
    b.node('QuantizeLinear', ['flatf', 'ys', 'yz'], ['fq']);
    b.initializer('w2', [27, 4], Int8Array.from({ length: 108 }, () => Math.floor(rng() * 255) - 127));
    b.node('MatMulInteger', ['fq', 'w2', 'yz'], ['acc2']);
    b.node('Cast', ['acc2'], ['acc2f'], { to: 1 });
    b.scalar('w2s', 0.02 * 0.01, 'float');
    b.node('Mul', ['acc2f', 'w2s'], ['z']);
    b.scalar('zs', 0.05, 'float').scalar('zz', 128, 'uint8');
    b.node('QuantizeLinear', ['z', 'zs', 'zz'], ['zq']);
    b.node('DequantizeLinear', ['zq', 'zs', 'zz'], ['output']);
    b.output('output');
    const bytes = b.toBytes();
    const { model } = await importOnnx(save('integer_ops.onnx', bytes));
    expect(model.layers.map((l) => l.op)).toEqual(['conv', 'reshape', 'fc']);
    for (let s = 0; s < 6; s++) {
      const x = Float32Array.from({ length: 50 }, () => rng());
      const ref = await ortRun(bytes, x, [1, 2, 5, 5]);
      runGolden(model, x).outputs[0]!.forEach((v, k) => expect(Math.abs(v - ref[k]!) / 0.05).toBeLessThanOrEqual(1 + 1e-4));
    }
  });
});
