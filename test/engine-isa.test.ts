import { describe, expect, it } from 'vitest';
import { compileEngine } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { decodeInstruction, encodeInstruction, INSTRUCTION_BYTES, type ConvInstr } from '../generator/engine/isa.js';
import { EXIT_UNSUPPORTED, GatecError } from '../src/errors.js';
import { IrBuilder, randomInput, runOnEngine } from './support/engine-models.js';

const NO_PIPELINE = { pipelineBands: 1, pipelineChunks: 1 };

/** The 32 little-endian halfwords of instruction k, read straight from the image (not via the decoder). */
function halfwords(image: Uint8Array, k: number): number[] {
  const view = new DataView(image.buffer, image.byteOffset + k * INSTRUCTION_BYTES, INSTRUCTION_BYTES);
  return Array.from({ length: 32 }, (_, h) => view.getUint16(2 * h, true));
}

const u16 = (v: number): number => v & 0xffff;

/**
 * conv 3->16, 3x3, stride 2, pads 1 on a 3x32x32 map, default configuration (8x8 PE, 16-byte bus,
 * 64 KiB buffers). Every value below is worked out from docs/engine.md by hand:
 *   L = 8, Wa = 16, Ww = 64, Wp = 64; regions aligned to 64.
 *   input [3,32,32]: ncg 1, pitch roundUp(32*1*8, 16) = 256 -> 8192 bytes, in_pitch 32 words.
 *   output [16,16,16]: ncg 2, pitch roundUp(16*2*8, 16) = 256 -> 4096 bytes, out_pitch 32 words.
 *   groups: 2 of 8 channels; each reads word 0 (nciw 1) at 9 taps: 9 words of 64 bytes = 9 rows.
 *   the whole layer fits: one band (32 rows x 256 <= 64 KiB), one chunk (18 rows <= 1024).
 *   program: LOAD in, LOAD w, LOAD p, CONV, STORE, END = 6 x 64 = 384 bytes.
 *   DRAM: weights at 384 (1152 bytes), params at 1536 (2 rows x 64), input at 1664, output at 9856.
 *   in_start = 0 + (iy0 - band_y0) * in_pitch - pl * ncg_in = (-1 - 0) * 32 - 1 = -33.
 */
describe('instruction encoding of a known layer', () => {
  const b = new IrBuilder('isa', [3, 32, 32]);
  const y = b.conv(b.input, { co: 16, k: 3, s: 2, p: 1 });
  const model = b.build([y]);
  const info = (name: string) => model.tensors.find((t) => t.name === name)!;
  const layer = model.layers[0]!;
  if (layer.op !== 'conv') throw new Error('conv expected');
  // Pipelining off: the layer fits at once, so this is the program worked out by hand.
  const comp = compileEngine(model, { ...DEFAULT_ENGINE_CONFIG }, model.source.file, NO_PIPELINE);
  const h = (k: number) => halfwords(comp.image, k);

  it('lays the program and data out as worked out by hand', () => {
    expect(comp.program.map((i) => i.op)).toEqual(['load', 'load', 'load', 'conv', 'store', 'end']);
    expect(comp.map.tensors.map((t) => [t.name, t.addr, t.pitch, t.bytes])).toEqual([
      ['input', 1664, 256, 8192],
      [y, 9856, 256, 4096],
    ]);
    expect(comp.map.dramBytes).toBe(9856 + 4096);
    expect(comp.image.length).toBe(1664);
  });

  it('encodes the three LOADs', () => {
    // h0 opcode 1, no waits; h1 tag 0; h2..h3 address; h4..h5 bytes; h6 target; h7 first row.
    expect(h(0).slice(0, 8)).toEqual([1, 0, 1664, 0, 8192, 0, 0, 0]);
    expect(h(1).slice(0, 8)).toEqual([1, 0, 384, 0, 1152, 0, 1, 0]);
    expect(h(2).slice(0, 8)).toEqual([1, 0, 1536, 0, 128, 0, 2, 0]);
    for (const k of [0, 1, 2]) expect(h(k).slice(8).every((v) => v === 0)).toBe(true);
  });

  it('encodes CONV field by field', () => {
    const w = h(3);
    const zpIn = info('input').quant.zeroPoint;
    const zpOut = info(y).quant.zeroPoint;
    const expected: [number, number, string][] = [
      [0, 3 | (1 << 4), 'opcode 3, wait_dma'],
      [1, 0, 'tag'],
      [2, u16(-33), 'in_start low'],
      [3, 0xffff, 'in_start high (sign)'],
      [4, 32, 'img_h'],
      [5, 32, 'img_w'],
      [6, 32, 'in_pitch'],
      [7, 1, 'ncg_in'],
      [8, 0, 'ciw0_off = ciw0 * cw_stride'],
      [9, 1, 'nciw'],
      [10, u16(-1), 'iy0 = 0*2 - 1'],
      [11, 16, 'oy_cnt'],
      [12, 16, 'out_w'],
      [13, 3 | (3 << 8), 'kh | kw<<8'],
      [14, 2 | (2 << 8), 'sh | sw<<8'],
      [15, 1 | (1 << 8), 'pt | pl<<8'],
      [16, 0, 'wb0'],
      [17, 9, 'gstride'],
      [18, 2, 'ng'],
      [19, 0, 'pb0'],
      [20, 0, 'out_goff = floor(g0 * PeOc / L) * out_cw_stride'],
      [21, 0, 'out_base'],
      [22, 32, 'out_pitch'],
      [23, 2, 'ncg_out (output pixel stride)'],
      [24, zpIn & 0xff, 'zp_in in the low byte, g0_lane 0 in bits 12:8'],
      [25, u16(zpOut), 'zp_out'],
      [26, (layer.clamp[0] & 0xff) | ((layer.clamp[1] & 0xff) << 8), 'lo | hi << 8'],
      [27, 2, 'words_left = ncg_out - floor(g0 * PeOc / L)'],
      [28, 64, 'pitch_sh = 2 * 32'],
      [29, 2, 'ncg_sw = 2 * 1'],
      [30, 1, 'cw_stride (HWC)'],
      [31, 1, 'out_cw_stride (HWC)'],
    ];
    for (const [k, v, what] of expected) expect(w[k], `h${k} ${what}`).toBe(v);
  });

  it('encodes the last STORE with wait_cmp and END', () => {
    expect(h(4).slice(0, 8)).toEqual([2 | (1 << 5), 0, 9856, 0, 4096, 0, 0, 0]);
    expect(h(5)).toEqual(new Array(32).fill(0));
  });

  it('decodes what it encodes', () => {
    const d = decodeInstruction(comp.image, 3 * INSTRUCTION_BYTES);
    expect(d).toMatchObject({ op: 'conv', waitDma: true, waitCmp: false, tag: 0 });
    expect(d.fields).toMatchObject({
      in_start: -33, iy0: -1, kh: 3, kw: 3, pitch_sh: 64, ncg_sw: 2, zp_in: info('input').quant.zeroPoint,
      g0_lane: 0, lo: layer.clamp[0], hi: layer.clamp[1], words_left: 2, cw_stride: 1, out_cw_stride: 1,
    });
  });
});

describe('POOL and ADD encoding', () => {
  const b = new IrBuilder('pool', [16, 8, 8]);
  const p = b.pool(b.input, 'avgpool', 3, 2, 1);
  const a = b.add(p, p);
  const model = b.build([a]);
  const comp = compileEngine(model, { ...DEFAULT_ENGINE_CONFIG }, model.source.file, NO_PIPELINE);
  const find = (op: string) => comp.program.findIndex((i) => i.op === op);

  it('POOL: kernel, stride, pads, multiplier, shift and mode in their halfwords', () => {
    const l = model.layers[0]!;
    if (l.op !== 'avgpool') throw new Error('avgpool expected');
    // input [16,8,8]: ncg 2, pitch 8*2*8 = 128 bytes = 16 words; output [16,4,4]: pitch 64 = 8 words.
    const w = halfwords(comp.image, find('pool'));
    expect(w[0]).toBe(4 | (1 << 4));
    expect([w[2], w[3]]).toEqual([u16(-16 - 2), 0xffff]); // (iy0 - 0) * 16 - pl * ncg = -16 - 2
    expect(w.slice(4, 8)).toEqual([8, 8, 16, 2]);
    expect([w[8], w[9]]).toEqual([1, 1]); // cw_stride, out_cw_stride (HWC)
    expect(w.slice(10, 16)).toEqual([u16(-1), 4, 4, 3 | (3 << 8), 2 | (2 << 8), 1 | (1 << 8)]);
    expect(w.slice(21, 23)).toEqual([0, 8]);
    expect([w[28], w[29]]).toEqual([2 * 16, 2 * 2]);
    expect(w[30]).toBe(l.requant.multiplier[0]);
    expect(w[31]).toBe(l.requant.shift[0]! | (1 << 8));
  });

  it('ADD: both operands in the in buffer, multipliers and the shared shift', () => {
    const l = model.layers[1]!;
    if (l.op !== 'add') throw new Error('add expected');
    const w = halfwords(comp.image, find('add'));
    // [16,4,4]: 4 rows of 64 bytes; A at word 0, B after A's 4 rows (4 * 64 / 8 = 32 words).
    expect(w.slice(0, 7)).toEqual([5 | (1 << 4), 1, 0, 32, 4, 4 * 2, 8]);
    expect(w.slice(21, 23)).toEqual([0, 8]);
    expect([w[29], w[30], w[31]]).toEqual([l.requant.multiplier[0], l.requant.multiplier[1], l.requant.shift[0]]);
  });
});

describe('field range checks', () => {
  const conv: ConvInstr = {
    op: 'conv', tag: 7, waitDma: true, waitCmp: false, inStart: 0, imgH: 1, imgW: 1, inPitch: 70000, iy0: 0, oyCnt: 1, outW: 1,
    kh: 1, kw: 1, sh: 1, sw: 1, pt: 0, pl: 0, outBase: 0, outPitch: 1, zpIn: 0, zpOut: 0, lo: -128, hi: 127, ncgIn: 1,
    ciw0Off: 0, nciw: 1, wb0: 0, gstride: 1, ng: 1, pb0: 0, outGoff: 0, g0Lane: 0, wordsLeft: 1, ncgOut: 1, cwStride: 1, outCwStride: 1,
  };
  const encode = (i: ConvInstr) => encodeInstruction(i, new Uint8Array(64), 0, (tag) => `m.onnx: layer 'L${tag}' (conv)`);

  it('rejects a field that does not fit, naming the layer and the field', () => {
    expect(() => encode(conv)).toThrow(/^m\.onnx: layer 'L7' \(conv\): CONV field in_pitch = 70000 does not fit the instruction \(u16, 0\.\.65535\)$/);
    try {
      encode(conv);
    } catch (e) {
      expect(e).toBeInstanceOf(GatecError);
      expect((e as GatecError).exitCode).toBe(EXIT_UNSUPPORTED);
    }
    expect(() => encode({ ...conv, inPitch: 1, kh: 256 })).toThrow(/field kh = 256/);
    expect(() => encode({ ...conv, inPitch: 1, zpIn: 128 })).toThrow(/field zp_in = 128/);
    expect(() => encode({ ...conv, inPitch: 1, iy0: -40000 })).toThrow(/field iy0 = -40000/);
    // pitch_sh is derived: sh * in_pitch must fit too.
    expect(() => encode({ ...conv, inPitch: 40000, sh: 2 })).toThrow(/field pitch_sh = 80000/);
  });
});

describe('CONV output fields of later groups (PeOc != L)', () => {
  // 1x1 convs from 8 channels; two param rows force one group per chunk, so every group gets its
  // own CONV. L = 8. PeOc 4, 24 channels (3 words): 6 groups, two per word (lanes 0 and 4).
  // PeOc 16, 40 channels (5 words): 3 groups of two words; the last group's second word does not
  // exist (words_left 1).
  const cases: [number, number, number[][]][] = [
    [4, 24, [[0, 0, 3], [0, 4, 3], [1, 0, 2], [1, 4, 2], [2, 0, 1], [2, 4, 1]]],
    [16, 40, [[0, 0, 5], [2, 0, 3], [4, 0, 1]]],
  ];
  for (const [peOc, co, expected] of cases) {
    it(`PeOc ${peOc}: out_goff, g0_lane, words_left; runs bit-exact`, () => {
      const b = new IrBuilder('groups', [8, 3, 2]);
      const model = b.build([b.conv(b.input, { co, k: 1 })]);
      const config = { ...DEFAULT_ENGINE_CONFIG, peOc, peIc: 8, paramRows: 2 };
      const comp = compileEngine(model, config, model.source.file, NO_PIPELINE);
      const convs = comp.program.flatMap((i, k) => (i.op === 'conv' ? [decodeInstruction(comp.image, k * INSTRUCTION_BYTES).fields] : []));
      expect(convs.map((f) => [f['out_goff'], f['g0_lane'], f['words_left']])).toEqual(expected);
      const run = runOnEngine(model, config, randomInput(model));
      expect(run.hazards).toEqual([]);
      expect(Array.from(run.outputs[0]!)).toEqual(Array.from(run.golden[0]!));
    });
  }
});
