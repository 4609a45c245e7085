import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatecError } from '../src/errors.js';
import { parseInputData } from '../src/frontend/data.js';
import { parseGatingSidecar } from '../src/frontend/gating-sidecar.js';
import { accumulatorThreshold } from '../src/frontend/onnx/gating.js';
import { importOnnx } from '../src/frontend/onnx/import.js';
import { baseAccumulators, gatedConv, isGated } from '../src/golden/gating.js';
import { layerMacs, tensorShapes } from '../src/golden/macs.js';
import { runGolden } from '../src/golden/run.js';
import { readModel, writeModel } from '../src/ir/serialize.js';
import type { ConvLayer, Model } from '../src/ir/types.js';
import { sharedData, sharedModel } from './fixtures.js';
import { OnnxGraphBuilder } from './support/onnx-builder.js';
import { mulberry32 } from './support/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'gatec-gating-'));

function errorOf(f: () => unknown): GatecError {
  try {
    f();
  } catch (e) {
    if (e instanceof GatecError) return e;
    throw e;
  }
  throw new Error('expected a GatecError');
}

async function asyncErrorOf(f: () => Promise<unknown>): Promise<GatecError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof GatecError) return e;
    throw e;
  }
  throw new Error('expected a GatecError');
}

const identity = { multiplier: Int32Array.of(1 << 14, 1 << 14), shift: Int32Array.of(14, 14) };

/**
 * x [3,1,4] (scale 1, zp 0) -> 1x1 conv, 2 outputs, base 1 channel:
 *   o0: w (1, 1, 1), gate on when acc_base > 0;   o1: w (1, -1, 2), gate on when acc_base < 1.
 */
function handModel(zeroBlocks: boolean): Model {
  return {
    format: 'gatec-ir',
    version: 1,
    name: 'hand',
    source: { file: 'hand', format: 'ir' },
    inputs: ['x'],
    outputs: ['y'],
    tensors: [
      { name: 'x', shape: [3, 1, 4], quant: { scale: 1, zeroPoint: 0 }, ...(zeroBlocks ? { zeroBlock: { block: [1, 1, 1], epsilon: 0 } } : {}) },
      { name: 'y', shape: [2, 1, 4], quant: { scale: 1, zeroPoint: 0 } },
    ],
    layers: [
      {
        op: 'conv',
        name: 'c',
        inputs: ['x'],
        output: 'y',
        kernel: [1, 1],
        stride: [1, 1],
        pads: [0, 0, 0, 0],
        groups: 1,
        weights: Int8Array.of(1, 1, 1, 1, -1, 2),
        bias: Int32Array.of(0, 0),
        requant: identity,
        clamp: [-128, 127],
        gating: { baseChannels: 1, threshold: Int32Array.of(0, 1), below: [false, true] },
      },
    ],
  };
}
const handInput = [1, -1, 2, 0, 3, 3, 3, 3, 1, 1, 0, 1];

describe('gating in the IR', () => {
  const base = (): Model => handModel(false);
  const conv = (m: Model): ConvLayer => m.layers[0] as ConvLayer;

  it('round-trips through JSON, below flags and int32 thresholds as plain arrays', () => {
    const m = base();
    conv(m).gating!.threshold = Int32Array.of(-(2 ** 31), 2 ** 31 - 1);
    const text = writeModel(m);
    expect(JSON.parse(text).layers[0].gating).toEqual({ baseChannels: 1, threshold: [-(2 ** 31), 2 ** 31 - 1], below: [false, true] });
    expect(writeModel(readModel(text, 'm.json'))).toBe(text);
    expect(conv(readModel(text, 'm.json')).gating).toEqual(conv(m).gating);
  });

  it('rejects bad gating with one line naming the layer', () => {
    const cases: [(c: ConvLayer) => void, string, number][] = [
      [(c) => (c.gating!.baseChannels = 0), "m.json: layer 'c': gating baseChannels 0 must be from 1 to 2 (the conv has 3 input channels)", 1],
      [(c) => (c.gating!.baseChannels = 3), "m.json: layer 'c': gating baseChannels 3 must be from 1 to 2 (the conv has 3 input channels)", 1],
      [(c) => (c.gating!.threshold = Int32Array.of(1, 2, 3)), "m.json: layer 'c': gating has 3 thresholds for 2 output channels", 1],
      [(c) => (c.gating!.below = [true]), "m.json: layer 'c': gating has 1 'below' flags for 2 output channels", 1],
    ];
    for (const [edit, message, code] of cases) {
      const m = base();
      edit(conv(m));
      const e = errorOf(() => readModel(writeModel(m), 'm.json'));
      expect(e.message).toBe(message);
      expect(e.exitCode).toBe(code);
    }
    const json = JSON.parse(writeModel(base()));
    json.layers[0].gating.threshold[1] = 2 ** 31;
    expect(errorOf(() => readModel(JSON.stringify(json), 'm.json')).message).toBe(
      'm.json: invalid IR at $.layers[0].gating.threshold[1]: Too big: expected number to be <=2147483647',
    );
  });

  it('rejects gating of a grouped conv as unsupported (exit 2)', () => {
    const m = base();
    m.tensors[0]!.shape = [2, 1, 4];
    Object.assign(conv(m), { groups: 2, weights: Int8Array.of(1, 1), gating: { baseChannels: 1, threshold: Int32Array.of(0, 0) } });
    const e = errorOf(() => readModel(writeModel(m), 'm.json'));
    expect(e.message).toBe("m.json: layer 'c': channel gating of a grouped conv (groups 2) is not supported");
    expect(e.exitCode).toBe(2);
  });
});

describe('gating in the golden model', () => {
  it('computes gated outputs and exact counters on a hand-computable conv', () => {
    const r = runGolden(handModel(false), handInput);
    // o0: base (1,-1,2,0) > 0 -> on,off,on,off; full sums (5,3,5,4). o1: base < 1 -> off,on,off,on; rest -3+2*x2.
    expect(Array.from(r.outputsInt[0]!)).toEqual([5, -1, 5, 0, 1, -2, 2, -1]);
    expect(r.gating!.layers).toEqual([
      { layer: 'c', inputChannels: 3, baseChannels: 1, outputs: { gatedOff: 4, total: 8 }, macs: { dense: 24, base: 8, executed: 16 }, reduction: 1.5 },
    ]);
    expect(r.gating!.total).toEqual({ outputs: { gatedOff: 4, total: 8 }, macs: { dense: 24, base: 8, executed: 16 }, reduction: 1.5 });
    expect(r.sparsity).toBeUndefined();
  });

  it('composes with zero-block skipping: zero taps count only where they are executed', () => {
    const r = runGolden(handModel(true), handInput);
    expect(Array.from(r.outputsInt[0]!)).toEqual([5, -1, 5, 0, 1, -2, 2, -1]);
    // Zero elements: x0[3] (base: both outputs at position 3) and x2[2] (rest: only o0 is on there).
    expect(r.sparsity!.layers[0]!.macs).toEqual({ dense: 24, executed: 13 });
    expect(r.gating!.layers[0]!.macs.executed).toBe(16);
  });

  it('a gated conv with every gate on equals the dense conv; counters agree with macs.ts (padding taps included)', async () => {
    const { model } = await importOnnx(sharedModel('digits8_qdq'));
    const l = model.layers.find((x) => x.name === '/7/Conv') as ConvLayer;
    const on: Model = { ...model, layers: model.layers.map((x) => (x === l ? { ...l, gating: { baseChannels: 5, threshold: new Int32Array(16).fill(-(2 ** 31)) } } : x)) };
    const off: Model = { ...model, layers: model.layers.map((x) => (x === l ? { ...l, gating: { baseChannels: 5, threshold: new Int32Array(16).fill(2 ** 31 - 1) } } : x)) };
    const x = sharedData('digits8').inputs[3]!;
    const dense = runGolden(model, x);
    const allOn = runGolden(on, x);
    expect(allOn.outputsInt).toEqual(dense.outputsInt);
    const g = allOn.gating!.layers[0]!;
    expect(g.macs.dense).toBe(layerMacs(l, tensorShapes(model)));
    expect(g.macs.executed).toBe(g.macs.dense);
    const allOff = runGolden(off, x).gating!.layers[0]!;
    expect(allOff.outputs.gatedOff).toBe(allOff.outputs.total);
    expect(allOff.macs.executed).toBe(allOff.macs.base);
    expect(allOff.macs.base * 16).toBe(allOff.macs.dense * 5);
  });
});

describe('threshold conversion into the accumulator domain', () => {
  it('floors for a positive scale, ceils and flips for a negative one, exactly at integers', () => {
    expect(accumulatorThreshold(2.5, 100, 2)).toEqual({ threshold: 105, below: false });
    expect(accumulatorThreshold(2.3, 100, 2)).toEqual({ threshold: 104, below: false });
    expect(accumulatorThreshold(2.3, 100, -2)).toEqual({ threshold: 96, below: true });
    expect(accumulatorThreshold(-2.5, 0, -2)).toEqual({ threshold: 5, below: true });
    expect(accumulatorThreshold(1, 7, 0)).toEqual({ threshold: 7, below: false });
    expect(accumulatorThreshold(1e12, 0, 1)).toEqual({ threshold: 2 ** 31 - 1, below: false });
    // The integer comparison is the real one: A > 4.6 <=> A > 4, A < -4.6 <=> A < -4.
    for (let a = -10; a <= 10; a++) {
      expect(a > accumulatorThreshold(2.3, 0, 2).threshold).toBe(a > 4.6);
      expect(a < accumulatorThreshold(2.3, 0, -2).threshold).toBe(a < -4.6);
    }
  });
});

interface BnModel {
  file: string;
  /** ONNX weights of the gated conv, [3, 4, 3, 3]. */
  w: Float64Array;
  gamma: number[];
}

/**
 * fp32: x [1,2,5,5] -> Conv 1x1 (4) -> Relu -> Conv 3x3 pad 1 (3, bias) 'gated' -> BN (one negative
 * gamma) -> Relu. The gated conv's weights are integers times 0.01 with one +-127 per output
 * channel, so per-channel int8 quantization after folding is exact and the accumulator is the
 * real partial sum up to float rounding.
 */
function bnModel(): BnModel {
  const rng = mulberry32(77);
  const b = new OnnxGraphBuilder({ opset: 13 });
  b.input('x', [1, 2, 5, 5]);
  b.initializer('w0', [4, 2, 1, 1], Float32Array.from({ length: 8 }, () => rng() - 0.3));
  b.node('Conv', ['x', 'w0'], ['c0'], { kernel_shape: [1, 1] }, { name: 'first' });
  b.node('Relu', ['c0'], ['r0']);
  const w = new Float64Array(3 * 4 * 9);
  for (let o = 0; o < 3; o++) {
    for (let i = 0; i < 36; i++) w[o * 36 + i] = Math.round((rng() - 0.5) * 200) * 0.01;
    w[o * 36 + 5] = (o === 1 ? -127 : 127) * 0.01;
  }
  const w32 = Float32Array.from(w);
  b.initializer('w1', [3, 4, 3, 3], w32);
  b.initializer('b1', [3], Float32Array.of(0.1, -0.2, 0.05));
  b.node('Conv', ['r0', 'w1', 'b1'], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'gated' });
  const gamma = [1.5, -0.8, 0.5];
  b.initializer('gamma', [3], Float32Array.from(gamma))
    .initializer('beta', [3], Float32Array.of(0.1, 0.2, -0.1))
    .initializer('mean', [3], Float32Array.of(0.3, -0.1, 0))
    .initializer('var', [3], Float32Array.of(1, 0.5, 2));
  b.node('BatchNormalization', ['c1', 'gamma', 'beta', 'mean', 'var'], ['bn'], { epsilon: { kind: 'float', value: 1e-5 } });
  b.node('Relu', ['bn'], ['y']);
  b.output('y');
  const file = join(dir, 'bn.onnx');
  writeFileSync(file, b.toBytes());
  return { file, w: Float64Array.from(w32), gamma };
}

/** Real partial sums of the ONNX weights over `base` input channels, per (co, y, x). */
function realBaseSums(w: Float64Array, x: Float64Array, shape: number[], co: number, base: number[]): Float64Array {
  const [cin, h, wd] = shape as [number, number, number];
  const out = new Float64Array(co * h * wd);
  for (let o = 0; o < co; o++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < wd; xx++) {
        let s = 0;
        for (const c of base) {
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const iy = y + ky - 1;
              const ix = xx + kx - 1;
              if (iy >= 0 && iy < h && ix >= 0 && ix < wd) s += w[((o * cin + c) * 3 + ky) * 3 + kx]! * x[(c * h + iy) * wd + ix]!;
            }
          }
        }
        out[(o * h + y) * wd + xx] = s;
      }
    }
  }
  return out;
}

describe('gating sidecar import', () => {
  const calibOf = (n: number, seed: number, len: number): number[][] => {
    const rng = mulberry32(seed);
    return Array.from({ length: n }, () => Array.from({ length: len }, () => rng() * 2 - 0.5));
  };

  it('converts real thresholds through BN folding (a negative scale flips the gate): decisions equal the float reference but within 1 LSB', async () => {
    const { file, w, gamma } = bnModel();
    const samples = calibOf(8, 5, 50);
    const calib = parseInputData(JSON.stringify({ shape: [1, 2, 5, 5], inputs: samples }), 'calib.json');
    const base = [3, 1];
    const plain = (await importOnnx(file, { calib })).model;
    const conv0 = plain.layers.find((l) => l.name === 'gated') as ConvLayer;
    // Thresholds at the median real partial sum of each channel, so many outputs sit near them.
    const sums = samples.map((s) => {
      const t = runGolden(plain, s).tensors.get(conv0.inputs[0]!)!;
      const xr = Float64Array.from(t.data, (q) => (q - t.quant.zeroPoint) * t.quant.scale);
      return { q: t, real: realBaseSums(w, xr, t.shape, 3, base) };
    });
    const thresholds = [0, 1, 2].map((o) => {
      const v = sums.flatMap((s) => Array.from(s.real.subarray(o * 25, (o + 1) * 25))).sort((a, b) => a - b);
      return v[v.length >> 1]!;
    });
    const sidecar = parseGatingSidecar(JSON.stringify({ format: 'gatec-gating', version: 1, layers: { gated: { base, thresholds } } }), 'g.json');
    const gated = (await importOnnx(file, { calib, gating: sidecar })).model;
    const gl = gated.layers.find((l) => l.name === 'gated') as ConvLayer;
    expect(gl.gating!.baseChannels).toBe(2);
    expect(gl.gating!.below).toEqual(gamma.map((g) => g < 0));
    let on = 0;
    let off = 0;
    let near = 0;
    samples.forEach((s, i) => {
      const input = runGolden(gated, s).tensors.get(gl.inputs[0]!)!;
      if (!isGated(gl)) throw new Error('not gated');
      const { gates } = gatedConv(gl, input, gated.tensors.find((t) => t.name === gl.output)!.quant);
      const acc = baseAccumulators(conv0, sums[i]!.q, base);
      gates.forEach((g, k) => {
        const o = Math.floor(k / 25);
        const want = sums[i]!.real[k]! > thresholds[o]!;
        if (g) on++;
        else off++;
        if ((g === 1) !== want) {
          near++;
          expect(Math.abs(acc[k]! - gl.gating!.threshold[o]!)).toBeLessThanOrEqual(1);
        }
      });
    });
    expect(on).toBeGreaterThan(100);
    expect(off).toBeGreaterThan(100);
    expect(near).toBeLessThanOrEqual(3);
  });

  it('works on QDQ models (weights already int8): digits8 /3/Conv against the float reference', async () => {
    const file = sharedModel('digits8_qdq');
    const { model: plain, graph } = await importOnnx(file);
    const l = plain.layers.find((x) => x.name === '/3/Conv') as ConvLayer;
    const node = graph.nodes.find((n) => n.name === '/3/Conv')!;
    const w = graph.consts.get(node.inputs[1]!)!.values;
    const base = [7, 0, 4];
    const thresholds = Array.from({ length: 16 }, (_, o) => (o % 4) * 0.3 - 0.2);
    const sidecar = parseGatingSidecar(JSON.stringify({ format: 'gatec-gating', version: 1, layers: { '/3/Conv': { base, thresholds } } }), 'g.json');
    const gated = (await importOnnx(file, { gating: sidecar })).model;
    const gl = gated.layers.find((x) => x.name === '/3/Conv') as ConvLayer;
    expect(gl.gating!.below).toBeUndefined();
    let mismatches = 0;
    let on = 0;
    for (const s of sharedData('digits8').inputs.slice(0, 10)) {
      const x = runGolden(plain, s).tensors.get(l.inputs[0]!)!;
      const xr = Float64Array.from(x.data, (q) => (q - x.quant.zeroPoint) * x.quant.scale);
      const real = realBaseSums(w, xr, x.shape, 16, base);
      const acc = baseAccumulators(l, x, base);
      const { gates } = gatedConv(gl as ConvLayer & { gating: NonNullable<ConvLayer['gating']> }, runGolden(gated, s).tensors.get(gl.inputs[0]!)!, plain.tensors.find((t) => t.name === l.output)!.quant);
      gates.forEach((g, k) => {
        on += g;
        const o = Math.floor(k / 64);
        if ((g === 1) !== real[k]! > thresholds[o]!) {
          mismatches++;
          expect(Math.abs(acc[k]! - gl.gating!.threshold[o]!)).toBeLessThanOrEqual(1);
        }
      });
    }
    expect(on).toBeGreaterThan(1000);
    expect(mismatches).toBeLessThanOrEqual(5);
  });

  it('rejects mismatches with one line naming the sidecar and the node (exit 1)', async () => {
    const file = sharedModel('digits8_qdq');
    const side = (layers: unknown, head: Record<string, unknown> = { format: 'gatec-gating', version: 1 }) =>
      JSON.stringify({ ...head, layers });
    const t16 = new Array(16).fill(0);
    const cases: [string, string][] = [
      [side({ '/9/Conv': { base: [0], thresholds: t16 } }), `g.json: node '/9/Conv': no node of that name in ${file}`],
      [side({ '/11/Gemm': { base: [0], thresholds: [] } }), "g.json: node '/11/Gemm' (Gemm): gating applies to Conv nodes only"],
      [side({ '/3/Conv': { base: [0, 8], thresholds: t16 } }), "g.json: node '/3/Conv' (Conv): base index 8 is out of range (the conv has 8 input channels, 0..7)"],
      [side({ '/3/Conv': { base: [2, 5, 2], thresholds: t16 } }), "g.json: node '/3/Conv' (Conv): base index 2 appears twice"],
      [side({ '/3/Conv': { base: [], thresholds: t16 } }), "g.json: node '/3/Conv' (Conv): base is empty: it needs 1 to 7 of the 8 input channels"],
      [side({ '/3/Conv': { base: [0, 1, 2, 3, 4, 5, 6, 7], thresholds: t16 } }), "g.json: node '/3/Conv' (Conv): base lists all 8 input channels: nothing is left to gate (at most 7)"],
      [side({ '/3/Conv': { base: [1], thresholds: [0, 1] } }), "g.json: node '/3/Conv' (Conv): 2 thresholds for 16 output channels"],
      [side({ '/3/Conv': { base: [1], thresholds: [0, NaN, ...new Array(14).fill(0)] } }).replace('null', 'NaN'), "g.json: node '/3/Conv' (Conv): threshold 1 is not a finite number"],
    ];
    for (const [text, message] of cases) {
      const e = await asyncErrorOf(async () => importOnnx(file, { gating: parseGatingSidecar(text, 'g.json') }));
      expect(e.message).toBe(message);
      expect(e.exitCode).toBe(1);
    }
    expect(errorOf(() => parseGatingSidecar(side({}, { format: 'other', version: 1 }), 'g.json')).message).toBe('g.json: not a gating sidecar: "format" must be "gatec-gating"');
    expect(errorOf(() => parseGatingSidecar(side({}, { format: 'gatec-gating', version: 2 }), 'g.json')).message).toBe(
      'g.json: gating sidecar version 2 is not supported (this gatec reads version 1)',
    );
    expect(errorOf(() => parseGatingSidecar(side({ a: { base: [0] } }), 'g.json')).message).toMatch(/^g\.json: invalid gating sidecar at \$\.layers\.a\.thresholds: /);
    // A conv on the model input can only gate channels already first: exit 2 otherwise.
    const d8 = sharedModel('tinyres_qdq');
    const e = await asyncErrorOf(async () =>
      importOnnx(d8, { gating: parseGatingSidecar(side({ '/0/Conv': { base: [2], thresholds: t16 } }), 'g.json') }),
    );
    expect(e.message).toBe("g.json: layer '/0/Conv': cannot move its base channels first: its input 'input' is the model input");
    expect(e.exitCode).toBe(2);
  });
});
