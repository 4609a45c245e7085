import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../src/frontend/onnx/import.js';
import type { Act } from '../src/golden/layers.js';
import { layerMacs, tensorShapes } from '../src/golden/macs.js';
import { quantizeInput, runGolden, runLayer } from '../src/golden/run.js';
import { bitmapBytes, packBitmap, scanZeroBlocks, storageTensors, type Block } from '../src/golden/zero-blocks.js';
import { readModel, writeModel } from '../src/ir/serialize.js';
import type { ConvLayer, FcLayer, Model, TensorInfo, ZeroBlockConfig } from '../src/ir/types.js';
import { tensorAccesses, withZeroBlocks } from '../src/passes/zero-block.js';
import { sharedModel } from './fixtures.js';
import { mulberry32 } from './support/prng.js';
import { buildQdqNetwork, networkSpec, type NetworkSpec } from './support/random-network.js';

/** The zero-block rule written directly: element by element, with block indices by division. */
function refEncode(data: Int8Array, dims: Block, zp: number, block: Block, eps: number): { data: Int8Array; bitmap: Uint8Array; nonZeroElements: number } {
  const [c, h, w] = dims;
  const g = [Math.ceil(c / block[0]), Math.ceil(h / block[1]), Math.ceil(w / block[2])] as const;
  const blockOf = (i: number): number => {
    const ch = Math.floor(i / (h * w));
    const y = Math.floor(i / w) % h;
    const x = i % w;
    return (Math.floor(ch / block[0]) * g[1] + Math.floor(y / block[1])) * g[2] + Math.floor(x / block[2]);
  };
  const bitmap = new Uint8Array(g[0] * g[1] * g[2]);
  data.forEach((v, i) => {
    if (Math.abs(v - zp) > eps) bitmap[blockOf(i)] = 1;
  });
  let nonZeroElements = 0;
  data.forEach((_, i) => (nonZeroElements += bitmap[blockOf(i)]!));
  return { data: data.map((v, i) => (bitmap[blockOf(i)] ? v : zp)), bitmap, nonZeroElements };
}

function dimsOf(shape: number[]): Block {
  return shape.length === 1 ? [shape[0]!, 1, 1] : (shape as Block);
}

function checkEncoding(data: Int8Array, dims: Block, zp: number, block: Block, eps: number): ReturnType<typeof scanZeroBlocks> {
  const ref = refEncode(data, dims, zp, block, eps);
  const counted = scanZeroBlocks(data, dims, zp, { block, epsilon: eps }, false);
  const encoded = data.slice();
  const scan = scanZeroBlocks(encoded, dims, zp, { block, epsilon: eps }, true);
  expect(counted).toEqual(scan);
  expect(encoded).toEqual(ref.data);
  expect(scan.bitmap).toEqual(ref.bitmap);
  expect(scan.totalBlocks).toBe(ref.bitmap.length);
  expect(scan.zeroBlocks).toBe(ref.bitmap.filter((b) => b === 0).length);
  expect(scan.nonZeroElements).toBe(ref.nonZeroElements);
  return scan;
}

describe('zero-block encoding (write path) against a direct reference', () => {
  const dims: Block = [5, 7, 3];
  const blocks: Block[] = [[1, 1, 1], [2, 3, 2], [5, 7, 3], [4, 4, 3], [3, 1, 3], [1, 7, 1]];
  const n = dims[0] * dims[1] * dims[2];

  it.each(blocks.map((b) => [b.join('x'), b] as const))('all zero, none zero, alternating, random density (%s)', (_, block) => {
    for (const zp of [-128, -3, 0, 127]) {
      for (const eps of [0, 1, 5]) {
        const all = new Int8Array(n).fill(zp);
        const s0 = checkEncoding(all, dims, zp, block, eps);
        expect(s0.zeroBlocks).toBe(s0.totalBlocks);
        expect(s0.nonZeroElements).toBe(0);

        const off = zp + eps + 1 <= 127 ? zp + eps + 1 : zp - eps - 1;
        const none = new Int8Array(n).fill(off);
        const s1 = checkEncoding(none, dims, zp, block, eps);
        expect(s1.zeroBlocks).toBe(0);
        expect(s1.nonZeroElements).toBe(n);

        // Alternating: block parity decides; one element per odd block is off.
        const alt = new Int8Array(n).fill(zp);
        const g = [Math.ceil(dims[0] / block[0]), Math.ceil(dims[1] / block[1]), Math.ceil(dims[2] / block[2])];
        for (let cb = 0; cb < g[0]!; cb++) {
          for (let hb = 0; hb < g[1]!; hb++) {
            for (let wb = 0; wb < g[2]!; wb++) {
              if ((cb + hb + wb) % 2 === 1) alt[(cb * block[0] * dims[1] + hb * block[1]) * dims[2] + wb * block[2]] = off;
            }
          }
        }
        const s2 = checkEncoding(alt, dims, zp, block, eps);
        expect(s2.bitmap.every((bit, i) => bit === (((i % g[2]!) + (Math.floor(i / g[2]!) % g[1]!) + Math.floor(i / (g[1]! * g[2]!))) % 2))).toBe(true);

        const rng = mulberry32(zp * 31 + eps * 7 + block[0] * 1000 + block[1] * 100 + block[2]);
        for (const density of [0.05, 0.3, 0.7]) {
          const rnd = Int8Array.from({ length: n }, () => (rng() < density ? -128 + Math.floor(rng() * 256) : zp + Math.round((rng() - 0.5) * 2 * eps)));
          checkEncoding(Int8Array.from(rnd, (v) => Math.max(-128, Math.min(127, v))), dims, zp, block, eps);
        }
      }
    }
  });

  it('epsilon boundary: |v - zp| == eps is zero, eps + 1 is not, on both sides', () => {
    const d: Block = [1, 1, 4];
    for (const [zp, eps] of [[-100, 3], [0, 0], [10, 7], [-128, 2], [127, 2]] as const) {
      const z = (v: number): number => Math.max(-128, Math.min(127, v));
      const zeroBlk = Int8Array.from([zp, z(zp + eps), z(zp - eps), zp]);
      expect(checkEncoding(zeroBlk, d, zp, [1, 1, 4], eps).zeroBlocks).toBe(1);
      if (zp + eps + 1 <= 127) {
        const s = checkEncoding(Int8Array.from([zp, zp, z(zp + eps + 1), zp]), d, zp, [1, 1, 4], eps);
        expect(s.zeroBlocks).toBe(0);
      }
      if (zp - eps - 1 >= -128) {
        const s = checkEncoding(Int8Array.from([z(zp - eps - 1), zp, zp, zp]), d, zp, [1, 1, 4], eps);
        expect(s.zeroBlocks).toBe(0);
      }
    }
  });

  it('partial edge blocks: only real elements decide and count', () => {
    // 3x3 cut into 1x2x2: blocks (0,0) full, (0,1) 2x1, (1,0) 1x2, (1,1) 1x1.
    const zp = -128;
    const data = Int8Array.from([zp, zp, 5, zp, zp, zp, zp, zp, zp]);
    const s = checkEncoding(data, [1, 3, 3], zp, [1, 2, 2], 0);
    expect(Array.from(s.bitmap)).toEqual([0, 1, 0, 0]);
    expect(s.nonZeroElements).toBe(2);
    expect(s.grid).toEqual([1, 2, 2]);
  });

  it('packs the bitmap LSB first, one bit per block', () => {
    expect(Array.from(packBitmap(Uint8Array.from([1, 0, 0, 1, 0, 0, 0, 0, 1, 1])))).toEqual([0b1001, 0b11]);
    expect(bitmapBytes(9)).toBe(2);
    expect(bitmapBytes(8)).toBe(1);
  });
});

/** A hand-made model: input 1x3x3 -> conv 3x3 pad 1 (1 channel) -> 1x3x3 -> flatten (view) -> fc 2. */
function tinyModel(inputBlock: ZeroBlockConfig | undefined, convOut: ZeroBlockConfig | undefined): Model {
  const t = (name: string, shape: number[], zp: number, zb?: ZeroBlockConfig): TensorInfo => ({ name, shape, quant: { scale: 1, zeroPoint: zp }, ...(zb ? { zeroBlock: zb } : {}) });
  const conv: ConvLayer = {
    op: 'conv',
    name: 'conv',
    inputs: ['x'],
    output: 'y',
    kernel: [3, 3],
    stride: [1, 1],
    pads: [1, 1, 1, 1],
    groups: 1,
    weights: new Int8Array(9).fill(1),
    bias: Int32Array.from([0]),
    requant: { multiplier: Int32Array.from([1 << 14]), shift: Int32Array.from([14]) },
    clamp: [-128, 127],
  };
  const fcl: FcLayer = {
    op: 'fc',
    name: 'fc',
    inputs: ['f'],
    output: 'z',
    weights: new Int8Array(18).fill(1),
    bias: new Int32Array(2),
    requant: { multiplier: Int32Array.from([1 << 14, 1 << 14]), shift: Int32Array.from([14, 14]) },
    clamp: [-128, 127],
  };
  return {
    format: 'gatec-ir',
    version: 1,
    name: 'tiny',
    source: { file: 'tiny.gir.json', format: 'ir' },
    inputs: ['x'],
    outputs: ['z'],
    tensors: [t('x', [1, 3, 3], -128, inputBlock), t('y', [1, 3, 3], 0, convOut), t('f', [9], 0), t('z', [2], 0)],
    layers: [conv, { op: 'reshape', name: 'flatten', inputs: ['y'], output: 'f' }, fcl],
  };
}

describe('zero-block counters on a hand-computed conv', () => {
  // Only the centre is non-zero (float 5 -> q = -123 with scale 1, zp -128).
  const input = [0, 0, 0, 0, 5, 0, 0, 0, 0];

  it('1x1x1 input blocks: 8 zero elements, 40 of the 49 in-image taps skipped', () => {
    const r = runGolden(tinyModel({ block: [1, 1, 1], epsilon: 0 }, undefined), input);
    const s = r.sparsity!;
    expect(s.tensors.get('x')!.zeroBlocks).toBe(8);
    expect(s.tensors.get('x')!.bytes).toBe(1 + 2);
    const [conv, view, fcl] = s.layers;
    // dense: 9 outputs x 9 taps (padding taps included); in-image taps 7 x 7 = 49 (row counts 2,3,2);
    // the centre feeds all 9 outputs, so 49 - 9 are skipped.
    expect(conv).toEqual({
      layer: 'conv',
      op: 'conv',
      output: 'y',
      zeroBlocks: 0,
      totalBlocks: 0,
      macs: { dense: 81, executed: 41 },
      activationBytes: { dense: { read: 9, write: 9 }, actual: { read: 3, write: 9 } },
    });
    expect(view!.activationBytes).toEqual({ dense: { read: 0, write: 0 }, actual: { read: 0, write: 0 } });
    expect(fcl!.macs).toEqual({ dense: 18, executed: 18 });
    expect(s.total.macs).toEqual({ dense: 99, executed: 59 });
    expect(s.total.activationBytes).toEqual({ dense: { read: 18, write: 11 }, actual: { read: 12, write: 11 } });
  });

  it('1x2x2 input blocks (partial edges) and an all-zero conv output read through a view', () => {
    // Input: block (0,0) holds the centre; blocks (0,1), (1,0), (1,1) are zero: elements (0,2),(1,2),
    // (2,0),(2,1),(2,2) with tap counts 2*2 + 3*2 + 2*2 + 2*3 + 2*2 = 24.
    // Conv output: one 1x3x3 block, epsilon 255: always zero, so the fc behind the flatten view
    // reads 1 bitmap byte and executes none of its 18 MACs.
    const r = runGolden(tinyModel({ block: [1, 2, 2], epsilon: 0 }, { block: [1, 3, 3], epsilon: 255 }), input);
    const s = r.sparsity!;
    expect(Array.from(s.tensors.get('x')!.bitmap)).toEqual([1, 0, 0, 0]);
    expect(Array.from(r.tensors.get('y')!.data)).toEqual(new Array(9).fill(0));
    expect(Array.from(r.tensors.get('f')!.data)).toEqual(new Array(9).fill(0));
    const [conv, , fcl] = s.layers;
    expect(conv!.macs).toEqual({ dense: 81, executed: 57 });
    expect(conv!.activationBytes).toEqual({ dense: { read: 9, write: 9 }, actual: { read: 4 + 1, write: 0 + 1 } });
    expect([conv!.zeroBlocks, conv!.totalBlocks]).toEqual([1, 1]);
    expect(fcl!.macs).toEqual({ dense: 18, executed: 0 });
    expect(fcl!.activationBytes).toEqual({ dense: { read: 9, write: 2 }, actual: { read: 1, write: 2 } });
    // The fc sees real zero only: its outputs are its biases (0) requantized.
    expect(Array.from(r.outputsInt[0]!)).toEqual([0, 0]);
  });

  it('no annotation: no sparsity result and the same tensors as before', () => {
    const r = runGolden(tinyModel(undefined, undefined), input);
    expect(r.sparsity).toBeUndefined();
    expect(runGolden(tinyModel({ block: [1, 1, 1], epsilon: 0 }, { block: [1, 1, 1], epsilon: 0 }), input).outputsInt).toEqual(r.outputsInt);
  });
});

describe('zero-block validation: one line naming the file and the tensor', () => {
  async function digitsJson(): Promise<{ json: any; names: string[] }> {
    const json = JSON.parse(writeModel((await importOnnx(sharedModel('digits8_qdq'))).model));
    return { json, names: json.tensors.map((t: { name: string }) => t.name) };
  }
  const read = (json: unknown, file = 'zb.gir.json'): Model => readModel(JSON.stringify(json), file);

  it('accepts partial edge blocks and vectors blocked as [N,1,1]', async () => {
    const { json } = await digitsJson();
    json.tensors[1].zeroBlock = { block: [3, 3, 5], epsilon: 2 }; // 8x8x8: partial in every axis
    const fcOut = json.tensors.find((t: { shape: number[] }) => t.shape.length === 1 && t.shape[0] === 10);
    fcOut.zeroBlock = { block: [4, 1, 1], epsilon: 0 };
    const m = read(json);
    expect(m.tensors[1]!.zeroBlock).toEqual({ block: [3, 3, 5], epsilon: 2 });
    expect(writeModel(readModel(writeModel(m), 'again.json'))).toBe(writeModel(m));
  });

  it.each([
    ['a negative epsilon', { block: [1, 1, 1], epsilon: -1 }, 'zeroBlock epsilon -1 is negative: it must be an integer from 0 to 255'],
    ['an epsilon beyond int8', { block: [1, 1, 1], epsilon: 256 }, 'zeroBlock epsilon 256 exceeds 255 (|v - zp| of int8 values is at most 255)'],
    ['a zero dimension', { block: [8, 0, 2], epsilon: 0 }, 'zeroBlock block 8x0x2: every dimension must be a positive integer'],
    ['a block larger than the tensor', { block: [16, 2, 2], epsilon: 0 }, 'zeroBlock block 16x2x2 is larger than the tensor 8x8x8'],
  ])('rejects %s', async (_, zb, reason) => {
    const { json, names } = await digitsJson();
    json.tensors[1].zeroBlock = zb;
    expect(() => read(json)).toThrow(`zb.gir.json: tensor '${names[1]}': ${reason}`);
    try {
      read(json);
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
    }
  });

  it('rejects a block larger than a vector, naming its [N,1,1] form', async () => {
    const { json } = await digitsJson();
    const fcOut = json.tensors.find((t: { shape: number[] }) => t.shape.length === 1 && t.shape[0] === 10);
    fcOut.zeroBlock = { block: [8, 2, 1], epsilon: 0 };
    expect(() => read(json)).toThrow(`zb.gir.json: tensor '${fcOut.name}': zeroBlock block 8x2x1 is larger than the tensor 10x1x1 (a vector [10] is blocked as 10x1x1)`);
  });

  it('rejects zeroBlock on a view (reshape output)', async () => {
    const { json } = await digitsJson();
    const flatten = json.layers.find((l: { op: string }) => l.op === 'reshape');
    json.tensors.find((t: { name: string }) => t.name === flatten.output).zeroBlock = { block: [8, 1, 1], epsilon: 0 };
    expect(() => read(json)).toThrow(
      `zb.gir.json: tensor '${flatten.output}': zeroBlock on the output of view layer '${flatten.name}' (reshape), which shares the bytes of '${flatten.inputs[0]}': annotate that tensor instead`,
    );
  });
});

/** A random block shape that fits dims, from a seeded generator. */
function randomBlock(rng: () => number, dims: Block): Block {
  return dims.map((d) => 1 + Math.floor(rng() * Math.min(d, 9))) as Block;
}

/** Every non-view tensor annotated with a random block and an epsilon from `eps`. */
function annotateAll(m: Model, seed: number, eps: () => number): Model {
  const rng = mulberry32(seed);
  const views = new Set(m.layers.filter((l) => l.op === 'reshape').map((l) => l.output));
  const cfg = new Map<string, ZeroBlockConfig>();
  for (const t of m.tensors) if (!views.has(t.name)) cfg.set(t.name, { block: randomBlock(rng, dimsOf(t.shape)), epsilon: eps() });
  return withZeroBlocks(m, cfg);
}

/**
 * Reference run: layer by layer with runLayer, each written tensor encoded by refEncode, and
 * the counters by enumeration of (output, tap) pairs.
 */
function referenceRun(m: Model, input: ArrayLike<number>) {
  const infos = new Map(m.tensors.map((t) => [t.name, t]));
  const storage = storageTensors(m);
  const shapes = tensorShapes(m);
  const tensors = new Map<string, Act>();
  const bitmaps = new Map<string, Uint8Array>();
  const write = (name: string, act: Act): Act => {
    const zb = infos.get(name)!.zeroBlock;
    if (!zb) return act;
    const r = refEncode(act.data, dimsOf(act.shape), act.quant.zeroPoint, zb.block, zb.epsilon);
    bitmaps.set(name, r.bitmap);
    return { ...act, data: r.data };
  };
  /** Whether flat element i of (storage) tensor `name` lies in a zero block. */
  const inZeroBlock = (name: string, i: number): boolean => {
    const base = storage.get(name)!;
    const zb = infos.get(base)!.zeroBlock;
    if (!zb) return false;
    const [, h, w] = dimsOf(shapes.get(base)!);
    const [bc, bh, bw] = zb.block;
    const g1 = Math.ceil(h / bh);
    const g2 = Math.ceil(w / bw);
    const ch = Math.floor(i / (h * w));
    return bitmaps.get(base)![(Math.floor(ch / bc) * g1 + Math.floor((Math.floor(i / w) % h) / bh)) * g2 + Math.floor((i % w) / bw)] === 0;
  };
  const bytes = (name: string): [number, number] => {
    const base = storage.get(name)!;
    const n = shapes.get(name)!.reduce((a, b) => a * b, 1);
    const bm = bitmaps.get(base);
    if (!bm) return [n, n];
    let actual = bitmapBytes(bm.length);
    for (let i = 0; i < n; i++) if (!inZeroBlock(name, i)) actual++;
    return [n, actual];
  };
  const inInfo = infos.get(m.inputs[0]!)!;
  tensors.set(inInfo.name, write(inInfo.name, { shape: inInfo.shape, data: quantizeInput(inInfo, input), quant: inInfo.quant }));
  const layers = m.layers.map((l) => {
    const out = runLayer(l, l.inputs.map((i) => tensors.get(i)!), infos.get(l.output)!);
    tensors.set(l.output, l.op === 'reshape' ? out : write(l.output, out));
    let skipped = 0;
    if (l.op === 'conv') {
      const [ci, h, w] = shapes.get(l.inputs[0]!)! as Block;
      const [co, oh, ow] = shapes.get(l.output)! as Block;
      const cig = ci / l.groups;
      for (let o = 0; o < co; o++) {
        for (let oy = 0; oy < oh; oy++) {
          for (let ox = 0; ox < ow; ox++) {
            for (let c = 0; c < cig; c++) {
              for (let ky = 0; ky < l.kernel[0]; ky++) {
                for (let kx = 0; kx < l.kernel[1]; kx++) {
                  const iy = oy * l.stride[0] - l.pads[0] + ky;
                  const ix = ox * l.stride[1] - l.pads[1] + kx;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                  const cin = Math.floor(o / (co / l.groups)) * cig + c;
                  if (inZeroBlock(l.inputs[0]!, (cin * h + iy) * w + ix)) skipped++;
                }
              }
            }
          }
        }
      }
    } else if (l.op === 'fc') {
      const n = shapes.get(l.inputs[0]!)!.reduce((a, b) => a * b, 1);
      for (let o = 0; o < l.bias.length; o++) for (let i = 0; i < n; i++) if (inZeroBlock(l.inputs[0]!, i)) skipped++;
    }
    const dense = layerMacs(l, shapes);
    const rd = l.op === 'reshape' ? [] : l.inputs.map(bytes);
    const wr = l.op === 'reshape' ? [0, 0] : bytes(l.output);
    const bm = l.op === 'reshape' ? undefined : bitmaps.get(l.output);
    return {
      layer: l.name,
      op: l.op,
      output: l.output,
      zeroBlocks: bm ? bm.filter((b) => b === 0).length : 0,
      totalBlocks: bm ? bm.length : 0,
      macs: { dense, executed: dense - skipped },
      activationBytes: {
        dense: { read: rd.reduce((a, b) => a + b[0], 0), write: wr[0] },
        actual: { read: rd.reduce((a, b) => a + b[1], 0), write: wr[1] },
      },
    };
  });
  return { tensors, bitmaps, layers };
}

const dir = mkdtempSync(join(tmpdir(), 'gatec-zb-'));
const runs = Number(process.env['GATEC_PROPERTY_RUNS'] ?? 40);

describe('zero-block golden model on random QDQ networks (fast-check)', () => {
  async function load(spec: NetworkSpec): Promise<{ model: Model; input: number[] }> {
    const file = join(dir, `net${spec.seed}.onnx`);
    writeFileSync(file, buildQdqNetwork(spec));
    const { model } = await importOnnx(file);
    const rng = mulberry32(spec.seed ^ 0x2545f491);
    const input = Array.from({ length: spec.c * spec.h * spec.w }, () => (rng() < 0.4 ? 0 : Math.fround(rng())));
    return { model, input };
  }

  it('epsilon 0 on every tensor changes no value; skipped MACs never exceed dense; counters equal the reference', async () => {
    await fc.assert(
      fc.asyncProperty(networkSpec, fc.integer({ min: 1, max: 2 ** 30 }), async (spec, blockSeed) => {
        const { model, input } = await load(spec);
        const plain = runGolden(model, input);
        const annotated = annotateAll(model, blockSeed, () => 0);
        const r = runGolden(annotated, input);
        expect(r.outputsInt).toEqual(plain.outputsInt);
        for (const [name, t] of plain.tensors) expect(r.tensors.get(name)!.data).toEqual(t.data);
        for (const l of r.sparsity!.layers) {
          expect(l.macs.executed).toBeGreaterThanOrEqual(0);
          expect(l.macs.executed).toBeLessThanOrEqual(l.macs.dense);
        }
        expect(r.sparsity!.layers).toEqual(referenceRun(annotated, input).layers);
      }),
      { numRuns: runs, seed: 20260517 },
    );
  });

  it('any epsilon: tensors, bitmaps and counters equal the layer-by-layer reference; per-tensor traffic sums to the total', async () => {
    await fc.assert(
      fc.asyncProperty(networkSpec, fc.integer({ min: 1, max: 2 ** 30 }), async (spec, seed) => {
        const { model, input } = await load(spec);
        const rng = mulberry32(seed ^ 0x9e3779b9);
        const annotated = annotateAll(model, seed, () => [0, 1, 3, 8, 40][Math.floor(rng() * 5)]!);
        const r = runGolden(annotated, input);
        const ref = referenceRun(annotated, input);
        for (const [name, t] of ref.tensors) expect(r.tensors.get(name)!.data).toEqual(t.data);
        for (const [name, bm] of ref.bitmaps) expect(r.sparsity!.tensors.get(name)!.bitmap).toEqual(bm);
        expect(r.sparsity!.layers).toEqual(ref.layers);
        // The pass's per-tensor view of traffic (accesses x bytes per access) is the layers' sum.
        const accesses = tensorAccesses(annotated);
        let actual = 0;
        for (const t of annotated.tensors) actual += (accesses.get(t.name) ?? 0) * (r.sparsity!.tensors.get(t.name)?.bytes ?? t.shape.reduce((a, b) => a * b, 1));
        const tot = r.sparsity!.total.activationBytes.actual;
        expect(actual).toBe(tot.read + tot.write);
      }),
      { numRuns: runs, seed: 20260518 },
    );
  });
});
