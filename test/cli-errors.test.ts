import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, sharedModel, SHARED } from './fixtures.js';
import { OnnxGraphBuilder } from './support/onnx-builder.js';

const dir = mkdtempSync(join(tmpdir(), 'gatec-cli-'));
const digitsData = join(SHARED, 'digits8_data.json');
const qdq = sharedModel('digits8_qdq');

async function gatec(...args: string[]) {
  const r = await execa('node', [CLI, ...args], { reject: false });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** A float model Conv -> <op> built in memory, to provoke one unsupported feature at a time. */
function convModel(convAttrs: Record<string, number[]>, tail?: { op: string; attrs?: Record<string, number | number[]> }, opset = 13): string {
  const b = new OnnxGraphBuilder({ opset });
  b.input('x', [1, 1, 8, 8]);
  b.initializer('w', [2, 1, 3, 3], new Float32Array(18).fill(0.1));
  b.node('Conv', ['x', 'w'], [tail ? 'c' : 'y'], { kernel_shape: [3, 3], ...convAttrs }, { name: 'conv0' });
  if (tail) b.node(tail.op, ['c'], ['y'], tail.attrs ?? {}, { name: 'tail0' });
  b.output('y');
  return file(`m${Math.random().toString(36).slice(2)}.onnx`, b.toBytes());
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm test" (it builds first)`);
});

describe('CLI errors: one line, no stack trace, documented exit code', () => {
  const cases: { name: string; args: () => string[]; code: number; message: string | RegExp }[] = [
    { name: 'missing model file', args: () => ['run', join(dir, 'nope.onnx'), '--inputs', digitsData], code: 1, message: `${join(dir, 'nope.onnx')}: no such file` },
    { name: 'missing data file', args: () => ['run', qdq, '--inputs', join(dir, 'nope.json')], code: 1, message: `${join(dir, 'nope.json')}: no such file` },
    {
      name: 'not an ONNX file',
      args: () => ['inspect', file('text.onnx', 'hello, this is not a model\n')],
      code: 1,
      message: new RegExp(`^${join(dir, 'text.onnx')}: not an ONNX model \\(`),
    },
    {
      name: 'truncated protobuf',
      args: () => {
        const bytes = readFileSync(qdq);
        return ['inspect', file('half.onnx', bytes.subarray(0, bytes.length >> 1))];
      },
      code: 1,
      message: new RegExp(`^${join(dir, 'half.onnx')}: truncated ONNX protobuf \\(index out of range`),
    },
    {
      name: 'wrong input shape',
      args: () => ['run', qdq, '--inputs', file('shape.json', JSON.stringify({ shape: [1, 1, 4, 4], inputs: [new Array(16).fill(0)] }))],
      code: 1,
      message: `${join(dir, 'shape.json')}: input shape [1,1,4,4] does not match model ${qdq} input [1,1,8,8]`,
    },
    {
      name: 'wrong value count',
      args: () => ['run', qdq, '--inputs', file('count.json', JSON.stringify({ shape: [1, 1, 8, 8], inputs: [new Array(10).fill(0)] }))],
      code: 1,
      message: `${join(dir, 'count.json')}: input 0 has 10 values, shape [1,1,8,8] needs 64`,
    },
    {
      name: 'NaN input',
      args: () => ['run', qdq, '--inputs', file('nan.json', `{"shape":[1,1,8,8],"inputs":[[0,0,0,NaN${',0'.repeat(60)}]]}`)],
      code: 1,
      message: `${join(dir, 'nan.json')}: input 0 value 3 is not a finite number (NaN or infinity)`,
    },
    {
      name: 'fp32 model without calibration',
      args: () => ['import', sharedModel('digits8_fp32'), '-o', join(dir, 'x.json')],
      code: 1,
      message: `${sharedModel('digits8_fp32')}: the model is fp32: quantizing it needs calibration data (pass --calib data.json)`,
    },
    {
      name: 'unsupported operator',
      args: () => ['run', convModel({}, { op: 'Sigmoid' }), '--inputs', digitsData, '--float'],
      code: 2,
      message: /: node 'tail0' \(Sigmoid\): operator Sigmoid is not supported$/,
    },
    {
      name: 'unsupported dilations',
      args: () => ['inspect', convModel({ dilations: [2, 2] })],
      code: 2,
      message: /: node 'conv0' \(Conv\): dilations other than 1 are not supported$/,
    },
    {
      name: 'unsupported ceil_mode',
      args: () => ['inspect', convModel({}, { op: 'MaxPool', attrs: { kernel_shape: [2, 2], ceil_mode: 1 } })],
      code: 2,
      message: /: node 'tail0' \(MaxPool\): ceil_mode=1 is not supported$/,
    },
    {
      name: 'unsupported opset',
      args: () => ['inspect', convModel({}, undefined, 9)],
      code: 2,
      message: /\.onnx: opset 9 is not supported \(supported: 11-21\)$/,
    },
    {
      name: 'schema-invalid IR file',
      args: () => ['run', file('bad.gir.json', '{"format":"gatec-ir","version":1}'), '--inputs', digitsData],
      code: 1,
      message: `${join(dir, 'bad.gir.json')}: invalid IR at $.name: Invalid input: expected string, received undefined`,
    },
  ];

  it.each(cases)('$name', async ({ args, code, message }) => {
    const r = await gatec(...args());
    expect(r.code).toBe(code);
    const lines = r.stderr.split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith('gatec: error: ')).toBe(true);
    const text = lines[0]!.slice('gatec: error: '.length);
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
  });
});

describe('CLI success paths', () => {
  it('run --json prints one JSON object with outputs, outputsInt, top1 and MACs', async () => {
    const r = await gatec('run', qdq, '--inputs', digitsData, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { outputs: number[][]; outputsInt: number[][]; top1: number[]; accuracy: number; macs: { dense: number } };
    expect(out.outputs).toHaveLength(100);
    expect(out.outputsInt[0]).toHaveLength(10);
    expect(out.top1).toHaveLength(100);
    expect(out.accuracy).toBe(0.99);
    // 8x1x3x3x64 + 16x8x3x3x64 + 16x16x3x3x16 + 10x64
    expect(out.macs.dense).toBe(4608 + 73728 + 36864 + 640);
  });

  it('import writes an IR file that run reads with identical results', async () => {
    const ir = join(dir, 'digits.gir.json');
    expect((await gatec('import', qdq, '-o', ir)).code).toBe(0);
    const a = await gatec('run', qdq, '--inputs', digitsData, '--json');
    const b = await gatec('run', ir, '--inputs', digitsData, '--json');
    expect(JSON.parse(b.stdout).outputsInt).toEqual(JSON.parse(a.stdout).outputsInt);
  });
});
