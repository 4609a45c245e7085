import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { OnnxGraphBuilder, onnx } from './support/onnx-builder.js';
import { mulberry32 } from './support/prng.js';
import { makeResnet18 } from './support/resnet18.js';

async function run(
  model: Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function floats(tensor: ort.Tensor | undefined): number[] {
  if (tensor === undefined || !(tensor.data instanceof Float32Array)) {
    throw new Error('expected a float32 tensor');
  }
  return Array.from(tensor.data);
}

// toEqual on multi-megabyte Uint8Arrays takes a minute; digests compare instantly.
function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function argmax(values: number[]): number {
  return values.reduce((best, v, i) => (v > (values[best] ?? -Infinity) ? i : best), 0);
}

function convReluModel(): OnnxGraphBuilder {
  return new OnnxGraphBuilder()
    .input('x', [1, 1, 3, 3])
    .initializer('w', [2, 1, 2, 2], Float32Array.of(1, 0, 0, 1, 0, 0.5, -0.5, 0))
    .initializer('b', [2], Float32Array.of(0, 0.25))
    .node('Conv', ['x', 'w', 'b'], ['y'], { kernel_shape: [2, 2], strides: [1, 1] })
    .node('Relu', ['y'], ['z'])
    .output('z', [1, 2, 2, 2]);
}

describe('OnnxGraphBuilder', () => {
  test('Conv + Relu runs in onnxruntime and matches a hand computation', async () => {
    const x = Float32Array.of(1, -2, 3, -4, 5, -6, 7, -8, 9);
    const out = await run(convReluModel().toBytes(), {
      x: new ort.Tensor('float32', x, [1, 1, 3, 3]),
    });
    // Channel 0: x[y][x] + x[y+1][x+1]. Channel 1: (x[y][x+1] - x[y+1][x]) / 2 + 0.25.
    expect(out.z?.dims).toEqual([1, 2, 2, 2]);
    expect(floats(out.z)).toEqual([6, 0, 0, 14, 1.25, 0, 0, 1.25]);
  });

  test('types attributes, names nodes and encodes deterministically', () => {
    const build = (): OnnxGraphBuilder =>
      new OnnxGraphBuilder({ extraOpsets: [{ domain: 'com.example', version: 1 }] })
        .input('a', [2])
        .node('Constant', [], ['c'], {
          value: { kind: 'tensor', dims: [2], data: Float32Array.of(1, 2) },
        })
        .node('Custom', ['a', 'c'], ['d'], {
          int: 3,
          float: 0.5,
          ints: [1, 2],
          floats: [0.5, 1],
          str: 'same',
          forcedFloat: { kind: 'float', value: 1 },
          forcedFloats: { kind: 'floats', value: [1, 2] },
        }, { domain: 'com.example', name: 'custom' })
        .node('Identity', ['d'], ['e'])
        .output('e');
    const bytes = build().toBytes();
    expect(build().toBytes()).toEqual(bytes);

    const graph = onnx.ModelProto.decode(bytes).graph;
    const nodes = graph?.node ?? [];
    expect(nodes.map((n) => n.name)).toEqual(['Constant_0', 'custom', 'Identity_2']);
    expect(nodes[1]?.domain).toBe('com.example');
    const { AttributeType } = onnx.AttributeProto;
    const types = Object.fromEntries(
      (nodes[1]?.attribute ?? []).map((a) => [a.name, AttributeType[a.type ?? 0]]),
    );
    expect(types).toEqual({
      int: 'INT',
      float: 'FLOAT',
      ints: 'INTS',
      floats: 'FLOATS',
      str: 'STRING',
      forcedFloat: 'FLOAT',
      forcedFloats: 'FLOATS',
    });
    const constant = nodes[0]?.attribute?.[0]?.t;
    expect(constant?.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
    expect(Array.from(constant?.rawData ?? [])).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
  });

  test('stores initializers little-endian with the type of their array', () => {
    const model = new OnnxGraphBuilder()
      .initializer('i32', [2], Int32Array.of(1, -2))
      .initializer('i64', [1], BigInt64Array.of(-3n))
      .initializer('u8', [2], Uint8Array.of(7, 255))
      .scalar('zp', -128, 'int8')
      .toModel();
    const byName = new Map((model.graph?.initializer ?? []).map((t) => [t.name, t]));
    const { DataType } = onnx.TensorProto;
    expect(byName.get('i32')?.dataType).toBe(DataType.INT32);
    expect(Array.from(byName.get('i32')?.rawData ?? [])).toEqual([1, 0, 0, 0, 254, 255, 255, 255]);
    expect(byName.get('i64')?.dataType).toBe(DataType.INT64);
    expect(Array.from(byName.get('i64')?.rawData ?? [])).toEqual([253, ...Array(7).fill(255)]);
    expect(byName.get('u8')?.dataType).toBe(DataType.UINT8);
    expect(byName.get('zp')?.dataType).toBe(DataType.INT8);
    expect(byName.get('zp')?.dims).toEqual([]);
    expect(Array.from(byName.get('zp')?.rawData ?? [])).toEqual([128]);
  });

  test('rejects a value defined twice', () => {
    const g = new OnnxGraphBuilder().input('x', [1]);
    expect(() => g.node('Relu', ['x'], ['x'])).toThrow(/defined twice/);
  });
});

describe('makeResnet18', () => {
  const shape = { height: 32, width: 32, classes: 10 };

  test('fp32 and QDQ int8 agree in onnxruntime', async () => {
    const fp32 = await ort.InferenceSession.create(makeResnet18({ ...shape, format: 'fp32' }));
    const qdq = await ort.InferenceSession.create(makeResnet18({ ...shape, format: 'qdq' }));
    try {
      for (const seed of [11, 12, 13, 14]) {
        const rng = mulberry32(seed);
        const x = Float32Array.from({ length: 3 * 32 * 32 }, () => rng());
        const feeds = { input: new ort.Tensor('float32', x, [1, 3, 32, 32]) };
        const [outF, outQ] = [(await fp32.run(feeds)).output, (await qdq.run(feeds)).output];
        expect(outF?.dims).toEqual([1, 10]);
        expect(outQ?.dims).toEqual([1, 10]);
        const logitsF = floats(outF);
        const logitsQ = floats(outQ);
        expect(logitsF.every(Number.isFinite)).toBe(true);
        expect(logitsQ.every(Number.isFinite)).toBe(true);
        expect(new Set(logitsQ).size).toBeGreaterThan(1);
        expect(argmax(logitsQ)).toBe(argmax(logitsF));
      }
    } finally {
      await fp32.release();
      await qdq.release();
    }
  });

  test('QDQ layout: ReLUs folded, every Conv/Gemm input dequantized', () => {
    const graph = onnx.ModelProto.decode(makeResnet18({ ...shape, format: 'qdq' })).graph;
    const nodes = graph?.node ?? [];
    const producer = new Map(nodes.flatMap((n) => (n.output ?? []).map((o) => [o, n.opType])));
    expect(nodes.some((n) => n.opType === 'Relu')).toBe(false);
    const compute = nodes.filter((n) => n.opType === 'Conv' || n.opType === 'Gemm');
    expect(compute).toHaveLength(21);
    for (const node of compute) {
      expect((node.input ?? []).map((i) => producer.get(i))).toEqual(
        Array(3).fill('DequantizeLinear'),
      );
    }
  });

  test('is deterministic for a seed', () => {
    const small = { height: 8, width: 8, classes: 4, format: 'qdq' } as const;
    const reference = digest(makeResnet18(small));
    expect(digest(makeResnet18(small))).toBe(reference);
    expect(digest(makeResnet18({ ...small, seed: 2 }))).not.toBe(reference);
  });
});
