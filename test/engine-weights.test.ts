import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, rowWidths, type EngineConfig } from '../generator/engine/config.js';
import { regionSize } from '../generator/engine/layout.js';
import { convWeightImage, fcWeightImage, groupCount } from '../generator/engine/weights.js';
import { EXIT_UNSUPPORTED, GatecError } from '../src/errors.js';
import type { ConvLayer, FcLayer } from '../src/ir/types.js';
import { IrBuilder } from './support/engine-models.js';

function convOf(b: IrBuilder, x: string, o: Parameters<IrBuilder['conv']>[1]): ConvLayer {
  b.conv(x, o);
  const m = b.build([]);
  const l = m.layers[m.layers.length - 1]!;
  if (l.op !== 'conv') throw new Error('conv expected');
  return l;
}

/** int32 bias, uint16 multiplier, uint8 shift, uint8 0, little-endian. */
function paramBytes(bias: number, mult: number, shift: number): number[] {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setInt32(0, bias, true);
  v.setUint16(4, mult, true);
  v.setUint8(6, shift);
  return Array.from(b);
}

describe('weight image of a tiny grouped conv (hand-built bytes)', () => {
  // 4 -> 4 channels, 2 groups, 1x2 kernel; PE 2x4 (L = 4) on a 4-byte bus:
  // Ww = max(4, 2*4) = 8 (one word per row), Wp = max(4, 8*2) = 16.
  const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, peOc: 2, peIc: 4, busBytes: 4 };
  const w = rowWidths(config);
  const b = new IrBuilder('grouped', [4, 3, 3]);
  const layer = convOf(b, b.input, { co: 4, k: [1, 2], groups: 2 });
  // w[o][i][0][kx], i < 2 input channels per group; odd outputs negative to check the byte encoding.
  const wv = (o: number, i: number, kx: number): number => (o % 2 ? -1 : 1) * (o * 16 + i * 4 + kx + 1);
  layer.weights = Int8Array.from({ length: 4 * 2 * 2 }, (_, k) => wv(k >> 2, (k >> 1) & 1, k & 1));
  layer.bias = Int32Array.from([100, -200, 300, -400]);
  const image = convWeightImage(layer, 4, config, w, 'grouped');

  it('has one window and two weight rows per group', () => {
    expect(image.groups).toBe(2);
    expect(image.windows).toEqual([{ ciw0: 0, nciw: 1 }, { ciw0: 0, nciw: 1 }]);
    expect(image.groupRows).toEqual([2, 2]);
    expect(image.firstRow).toEqual([0, 2]);
  });

  it('puts w[co0+r][(ciw0+j)*L+c][ky][kx] at byte r*PeIc+c of word (ky*kw+kx)*nciw+j, zero where not connected', () => {
    const u = (v: number) => v & 0xff;
    // group 0: outputs 0,1 see input channels 0,1 (lanes 0,1); group 1: outputs 2,3 see 2,3 (lanes 2,3).
    const expected = [
      // group 0, tap kx=0: r=0 lanes, r=1 lanes
      u(wv(0, 0, 0)), u(wv(0, 1, 0)), 0, 0, u(wv(1, 0, 0)), u(wv(1, 1, 0)), 0, 0,
      // group 0, tap kx=1
      u(wv(0, 0, 1)), u(wv(0, 1, 1)), 0, 0, u(wv(1, 0, 1)), u(wv(1, 1, 1)), 0, 0,
      // group 1, tap kx=0
      0, 0, u(wv(2, 0, 0)), u(wv(2, 1, 0)), 0, 0, u(wv(3, 0, 0)), u(wv(3, 1, 0)),
      // group 1, tap kx=1
      0, 0, u(wv(2, 0, 1)), u(wv(2, 1, 1)), 0, 0, u(wv(3, 0, 1)), u(wv(3, 1, 1)),
    ];
    expect(Array.from(image.weights)).toEqual(expected);
  });

  it('writes one param row per group: bias, multiplier, shift per channel', () => {
    const m = layer.requant.multiplier;
    const s = layer.requant.shift;
    expect(Array.from(image.params)).toEqual([
      ...paramBytes(100, m[0]!, s[0]!),
      ...paramBytes(-200, m[1]!, s[1]!),
      ...paramBytes(300, m[2]!, s[2]!),
      ...paramBytes(-400, m[3]!, s[3]!),
    ]);
  });
});

describe('weight images: windows, padding groups, fc permutation', () => {
  it('depthwise: each group reads its own input word, weights on the diagonal', () => {
    const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, peOc: 4, peIc: 4, busBytes: 16 };
    const w = rowWidths(config);
    const b = new IrBuilder('dw', [8, 4, 4]);
    const layer = convOf(b, b.input, { co: 8, k: 1, groups: 8 });
    const image = convWeightImage(layer, 8, config, w, 'dw');
    expect(image.windows).toEqual([{ ciw0: 0, nciw: 1 }, { ciw0: 1, nciw: 1 }]);
    for (let g = 0; g < 2; g++) {
      const word = Array.from(image.weights.subarray(g * 16, g * 16 + 16));
      const expected = new Array(16).fill(0);
      for (let r = 0; r < 4; r++) expected[r * 4 + r] = layer.weights[g * 4 + r]! & 0xff;
      expect(word).toEqual(expected);
    }
  });

  it('covers every lane of the last output word with padding channels (PeOc < L)', () => {
    const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, peOc: 2, peIc: 8 };
    const w = rowWidths(config);
    expect(groupCount(1, config)).toBe(4);
    expect(groupCount(3, config)).toBe(4);
    expect(groupCount(9, config)).toBe(8);
    const b = new IrBuilder('pad', [8, 2, 2]);
    const layer = convOf(b, b.input, { co: 3, k: 1 });
    const image = convWeightImage(layer, 8, config, w, 'pad');
    expect(image.groups).toBe(4);
    // Channel 3 (group 1, row 1) and groups 2, 3 are padding: bias 0, multiplier 0, shift 1.
    const row = (g: number, r: number) => Array.from(image.params.subarray(g * w.wp + 8 * r, g * w.wp + 8 * r + 8));
    expect(row(1, 1)).toEqual(paramBytes(0, 0, 1));
    expect(row(3, 0)).toEqual(paramBytes(0, 0, 1));
    expect(row(1, 0)).toEqual(paramBytes(layer.bias[2]!, layer.requant.multiplier[2]!, layer.requant.shift[2]!));
    // Padding groups reuse the last real window and hold zero weights.
    expect(image.windows[3]).toEqual(image.windows[1]);
    expect(image.weights.subarray(image.firstRow[2]! * w.ww).every((v) => v === 0)).toBe(true);
  });

  it('fc after a flatten view: columns follow the region byte order (HWC, padded), padding gets weight 0', () => {
    // [3,2,2] with L = 4 on a 4-byte bus: ncg 1, pitch 8, 16 bytes = 4 input words.
    const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, peOc: 2, peIc: 4, busBytes: 4 };
    const w = rowWidths(config);
    const b = new IrBuilder('fc', [3, 2, 2]);
    b.fc(b.flatten(b.input), 2);
    const layer = b.build([]).layers[1] as FcLayer;
    const region = { shape: [3, 2, 2], ...regionSize([3, 2, 2], w), zeroPoint: 0 };
    expect(region).toMatchObject({ ncg: 1, pitch: 8, bytes: 16 });
    const image = fcWeightImage(layer, region, config, w, 'fc');
    // Two outputs fill half of one 4-lane word: a second, padding group writes the other half.
    expect(image.windows).toEqual([{ ciw0: 0, nciw: 4 }, { ciw0: 0, nciw: 4 }]);
    const expected: number[] = [];
    for (let j = 0; j < 4; j++) {
      for (let r = 0; r < 2; r++) {
        for (let c = 0; c < 4; c++) {
          const p = j * 4 + c; // region byte
          const [h, x, ch] = [p >> 3, (p & 7) >> 2, p & 3];
          expected.push(ch < 3 ? layer.weights[r * 12 + (ch * 2 + h) * 2 + x]! & 0xff : 0);
        }
      }
    }
    expect(Array.from(image.weights)).toEqual([...expected, ...new Array(32).fill(0)]);
  });
});

describe('what the requantization unit cannot hold', () => {
  const config = { ...DEFAULT_ENGINE_CONFIG };
  const w = rowWidths(config);
  const fresh = () => convOf(new IrBuilder('rq', [8, 2, 2]), 'input', { co: 8, k: 1 });
  const expectUnsupported = (f: () => unknown, message: RegExp) => {
    expect(f).toThrow(message);
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(GatecError);
      expect((e as GatecError).exitCode).toBe(EXIT_UNSUPPORTED);
    }
  };

  it('rejects multipliers over 15 bits and shifts outside 1..52; lays out gated convs in base and rest sections', () => {
    const a = fresh();
    a.requant.multiplier[3] = 40000;
    expectUnsupported(() => convWeightImage(a, 8, config, w, "m: layer 'c'"), /^m: layer 'c': requantization multiplier 40000 \(entry 3\) does not fit 15 bits unsigned$/);
    const s = fresh();
    s.requant.shift[0] = 0;
    expectUnsupported(() => convWeightImage(s, 8, config, w, 'm'), /shift 0 \(entry 0\) is outside 1\.\.52/);
    const g = fresh();
    g.gating = { baseChannels: 4, threshold: new Int32Array(8) };
    const img = convWeightImage(g, 8, config, w, 'm');
    const L = config.peIc;
    const taps = g.kernel[0] * g.kernel[1];
    const nciw = Math.ceil(8 / L);
    // packed streams: 4 base bytes per tap, then nciw*L - 4 rest bytes per tap
    const gstride = Math.ceil((taps * 4) / L);
    const restWords = Math.ceil((taps * (nciw * L - 4)) / L);
    expect(img.gate).toEqual({
      nb: Math.ceil(4 / L),
      jr: Math.floor(4 / L),
      kmod: 4 % L,
      gstride,
      restWords,
      crest: Math.ceil(restWords / config.peOc),
      restWord0: img.groups * gstride,
    });
    // two parameter rows per group: the dense ones, then thresholds - bias and the below flags
    expect(img.params.length).toBe(2 * img.groups * w.wp);
  });
});
