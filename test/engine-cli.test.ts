import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeModel } from '../src/ir/serialize.js';
import { CLI, SHARED, sharedModel } from './fixtures.js';
import { IrBuilder } from './support/engine-models.js';

const dir = mkdtempSync(join(tmpdir(), 'gatec-engine-cli-'));
const digits = sharedModel('digits8_qdq');

async function gatec(...args: string[]) {
  const r = await execa('node', [CLI, ...args], { reject: false });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

function irFile(name: string, build: (b: IrBuilder) => string, shape = [8, 6, 6]): string {
  const b = new IrBuilder(name, shape);
  const file = join(dir, `${name}.gir.json`);
  writeFileSync(file, writeModel(b.build([build(b)])));
  return file;
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm test" (it builds first)`);
});

describe('gatec build', () => {
  it('builds an ONNX model and says what it wrote', async () => {
    const out = join(dir, 'hw', 'digits');
    const r = await gatec('build', digits, '--pe', '8x8', '--in-buf', '32K', '-o', out);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^wrote ${out} \\(digits_top\\): \\d+ instructions, \\d+ bytes of DRAM, \\d+ cycles predicted \\([0-9.]+ ms at 200 MHz\\)$`));
    expect(readdirSync(out).sort()).toEqual(['digits.core', 'files.f', 'mem', 'model.gir.json', 'report.html', 'report.json', 'rtl', 'synth.ys', 'tb']);
  });

  it('builds a model with zero-block tensors: planar regions in map.json, dense figures in report.json', async () => {
    const file = irFile(
      'zb',
      (b) => {
        b.zeroBlock(b.input, [8, 2, 2], 1);
        const y = b.conv(b.input, { co: 16, k: 3, p: 1 });
        b.zeroBlock(y, [16, 1, 4], 0);
        return b.gap(y);
      },
      [8, 7, 9],
    );
    const out = join(dir, 'hw', 'zb');
    const r = await gatec('build', file, '-o', out);
    expect(r.code).toBe(0);
    const map = JSON.parse(readFileSync(join(out, 'mem', 'map.json'), 'utf8')) as { tensors: { name: string; bytes: number; zeroBlock?: Record<string, unknown> }[] };
    // input [8,7,9] in 8x2x2 blocks: 1 plane, nWb 5, nHb 4; pitchP 80, planeB 640; bitmap rows of one beat.
    expect(map.tensors.find((t) => t.name === 'input')).toMatchObject({ bytes: 640 + 4 * 16, zeroBlock: { block: [8, 2, 2], epsilon: 1, nWb: 5, nHb: 4, nCb: 1, planeBytes: 640, bitmapRowBytes: 16 } });
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { layers: { zeroBlock?: unknown }[]; zeroBlock: { tensors: { name: string }[] } };
    expect(report.layers[0]!.zeroBlock).toEqual({ read: ['input'], write: ['t0'] });
    expect(report.layers[1]!.zeroBlock).toEqual({ read: ['t0'], write: [] });
    expect(report.zeroBlock.tensors.map((t) => t.name)).toEqual(['input', 't0']);
  });

  const out = () => join(dir, 'hw', 'x');
  const cases: { name: string; args: () => string[]; code: number; message: string | RegExp }[] = [
    { name: 'malformed --pe', args: () => ['build', digits, '--pe', '8', '-o', out()], code: 1, message: "--pe: expected <output channels>x<input channels> such as 8x8, got '8'" },
    { name: '--pe not a power of two', args: () => ['build', digits, '--pe', '3x8', '-o', out()], code: 1, message: '--pe: PeOc must be a power of two in 1..32' },
    { name: '--pe too large', args: () => ['build', digits, '--pe', '8x64', '-o', out()], code: 1, message: '--pe: PeIc must be a power of two in 1..32' },
    { name: 'bad size', args: () => ['build', digits, '--in-buf', '12Q', '-o', out()], code: 1, message: "--in-buf: expected a size in bytes such as 65536 or 64K, got '12Q'" },
    {
      name: 'buffer not whole rows',
      args: () => ['build', digits, '--in-buf', '1000', '-o', out()],
      code: 1,
      message: '--in-buf: the in buffer (1000 bytes) is not a multiple of its 16-byte row width',
    },
    { name: 'bus width', args: () => ['build', digits, '--bus-bytes', '24', '-o', out()], code: 1, message: '--bus-bytes: the bus width must be a power of two in 4..64' },
    { name: 'unknown architecture', args: () => ['build', digits, '--arch', 'gpu', '-o', out()], code: 1, message: "--arch: unknown architecture 'gpu' (expected engine or spatial)" },
    { name: 'spatial reuse factor', args: () => ['build', digits, '--arch', 'spatial', '--reuse', '0', '-o', out()], code: 1, message: '--reuse: reuse factor must be an integer in 1..65536, got 0' },
    { name: 'FPGA part', args: () => ['build', digits, '--target', 'hls', '--part', 'xc 7', '-o', out()], code: 1, message: "--part: not an FPGA part name: 'xc 7'" },
    {
      name: 'concat input at a partial word',
      args: () => ['build', irFile('cat', (b) => b.concat([b.conv(b.input, { co: 3, k: 1 }), b.conv(b.input, { co: 8, k: 1 })])), '-o', out()],
      code: 2,
      message: new RegExp(`^${join(dir, 'cat.gir.json')}: layer 'concat2' \\(concat\\): input 1 \\('t1'\\) starts at channel 3, not a multiple of the 8 lanes`),
    },
    {
      name: 'zero blocks the engine cannot skip',
      args: () => [
        'build',
        irFile('zbbad', (b) => {
          const y = b.conv(b.input, { co: 8, k: 1 });
          b.zeroBlock(y, [8, 1, 1]);
          return y;
        }),
        '-o',
        out(),
      ],
      code: 2,
      message: `${join(dir, 'zbbad.gir.json')}: tensor 't0': the engine cannot skip zero blocks of 8x1x1: a block row segment of bw*L = 1*8 = 8 bytes is not whole 16-byte DRAM beats (--bus-bytes)`,
    },
    {
      name: 'layer larger than the buffers',
      args: () => ['build', digits, '--w-buf', '1K', '-o', out()],
      code: 2,
      message: new RegExp(`^${digits}: layer '/3/Conv' \\(conv\\): one group of 8 output channels needs 576 bytes of weights .*it needs at least 1152\\)$`),
    },
    {
      name: 'output over a directory that is not a build',
      args: () => {
        const d = join(dir, 'mine');
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'notes.txt'), 'keep');
        return ['build', digits, '-o', d];
      },
      code: 1,
      message: `${join(dir, 'mine')}: exists and is not a gatec build output; refusing to replace it`,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: one line, exit ${c.code}`, async () => {
      const r = await gatec(...c.args());
      expect(r.code).toBe(c.code);
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      expect(lines).toHaveLength(1);
      expect(lines[0]!.startsWith('gatec: error: ')).toBe(true);
      const msg = lines[0]!.slice('gatec: error: '.length);
      if (typeof c.message === 'string') expect(msg).toBe(c.message);
      else expect(msg).toMatch(c.message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }
});

describe('gatec build --target hls and gatec csim', () => {
  const data = join(SHARED, 'digits8_data.json');

  it('writes hls/ (with rtl/ for rtl,hls) and csim checks every sample like gatec sim', async () => {
    const both = join(dir, 'hw', 'both');
    const r = await gatec('build', digits, '--target', 'rtl,hls', '-o', both);
    expect(r.code).toBe(0);
    expect(readdirSync(both).sort()).toEqual(['both.core', 'files.f', 'hls', 'mem', 'model.gir.json', 'report.html', 'report.json', 'rtl', 'synth.ys', 'tb']);
    expect(readdirSync(join(both, 'hls')).sort()).toEqual(['both.cpp', 'both.h', 'gatec_hls_compat.h', 'run_hls.tcl', 'tb.cpp']);

    const hls = join(dir, 'hw', 'hlsonly');
    expect((await gatec('build', digits, '--target', 'hls', '--part', 'xcvu9p-flga2104-2-i', '-o', hls)).code).toBe(0);
    expect(readdirSync(hls).sort()).toEqual(['hls', 'mem', 'model.gir.json', 'report.html', 'report.json']);
    expect(readFileSync(join(hls, 'hls', 'run_hls.tcl'), 'utf8')).toContain('set part xcvu9p-flga2104-2-i');

    const json = await gatec('csim', hls, '--inputs', data, '--json');
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as { backend: string; match: boolean; accuracy: number; top1: number[]; dramBytes: { read: number }; layers: { dramRead: number; predicted: { dramRead: number } }[]; samples: unknown[] };
    expect(out.backend).toBe('csim');
    expect(out.match).toBe(true);
    expect(out.samples).toHaveLength(100);
    expect(out.accuracy).toBeGreaterThan(0.9);
    for (const l of out.layers) expect(l.dramRead).toBe(l.predicted.dramRead);

    const human = await gatec('csim', hls, '--inputs', data);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/layers of sample 0 \(8x8 PEs, C simulation\):/);
    expect(human.stdout).toMatch(/bit-exact vs golden: 100\/100/);
  });

  it('refuses a build without hls/: one line, exit 1', async () => {
    const rtl = join(dir, 'hw', 'rtlonly');
    expect((await gatec('build', digits, '-o', rtl)).code).toBe(0);
    const r = await gatec('csim', rtl, '--inputs', data);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gatec: error: ${rtl}: no hls/ directory: build with --target hls (or rtl,hls)`);
  });
});
