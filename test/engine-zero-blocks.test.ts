import { describe, expect, it } from 'vitest';
import { compileEngine } from '../generator/engine/build.js';
import { bitmapBufferBytes, DEFAULT_ENGINE_CONFIG, rowWidths, type EngineConfig } from '../generator/engine/config.js';
import type { Instr, LoadInstr } from '../generator/engine/isa.js';
import { blockFlags, unpackBitmap } from '../generator/engine/layout.js';
import { EXIT_UNSUPPORTED, GatecError } from '../src/errors.js';
import { runGolden } from '../src/golden/run.js';
import type { Model } from '../src/ir/types.js';
import { IrBuilder, runOnEngine, type EngineRun } from './support/engine-models.js';
import { mulberry32 } from './support/prng.js';

/**
 * Programs over zero-block (planar) tensors in the reference interpreter, which implements the
 * decoder and encoder of docs/engine.md: every tensor bit-exact with the golden model, every
 * bitmap the encoder wrote equal to the blocks of the golden values, no buffer race.
 */

/** Small enough that planar layers are cut into bands of a block row or two. */
const SMALL: Partial<EngineConfig> = { inBufBytes: 12288, outBufBytes: 6144, wBufBytes: 12288, paramRows: 4 };
export const ZB_CONFIGS: Record<string, Partial<EngineConfig>> = {
  default: {},
  small: SMALL,
  'pe4x8 bus8 small': { ...SMALL, peOc: 4, peIc: 8, busBytes: 8, wBufBytes: 8192 },
  pe16x8: { peOc: 16, peIc: 8, inBufBytes: 12288, outBufBytes: 8192, wBufBytes: 24576, paramRows: 8 },
  'pe8x4 bus32': { peOc: 8, peIc: 4, busBytes: 32, inBufBytes: 12288, outBufBytes: 8192, wBufBytes: 24576, paramRows: 4 },
  'pe2x2 bus4': { ...SMALL, peOc: 2, peIc: 2, busBytes: 4, wBufBytes: 4096, paramRows: 16 },
};

const config = (over: Partial<EngineConfig>): EngineConfig => ({ ...DEFAULT_ENGINE_CONFIG, ...over });

/** Block widths the engine accepts on a configuration: whole beats per segment. */
const bwUnit = (c: EngineConfig): number => Math.max(1, c.busBytes / c.peIc);

/**
 * Every way a planar tensor meets the engine: model input planar; conv planar -> planar
 * (different blocks), planar -> HWC, HWC -> planar; max pooling planar -> planar (one POOL per
 * plane); an add of three planar tensors with different block heights; 1x1 stride-2 pooling
 * planar -> HWC; global average pooling over a planar tensor; a planar model output that an fc
 * also reads (through a flatten view).
 */
export function zeroBlockModel(c: EngineConfig, seed = 3): Model {
  const L = c.peIc;
  const u = bwUnit(c);
  const b = new IrBuilder(`zb_${L}_${c.busBytes}`, [12, 13, 34], seed);
  b.zeroBlock(b.input, [L, 2, u]);
  const x = b.conv(b.input, { co: 20, k: 3, p: 1, relu: true, bias: [-3000, -300] });
  b.zeroBlock(x, [2 * L, 3, 2 * u]);
  const p = b.pool(x, 'maxpool', 3, 2, 1); // [20,7,17]
  b.zeroBlock(p, [L, 1, u]);
  const y = b.conv(p, { co: 20, k: 1, relu: true, bias: [-2000, 500] }); // HWC
  const z = b.conv(y, { co: 20, k: 3, p: 1, relu: true, bias: [-3000, -300] });
  b.zeroBlock(z, [L, 2, u]);
  const s = b.add(p, z);
  b.zeroBlock(s, [L, 3, 2 * u]);
  const q = b.pool(s, 'avgpool', 1, 2); // 1x1 stride 2, HWC result
  const g = b.gap(s);
  const o = b.conv(q, { co: 16, k: 3, p: 1, relu: true, bias: [-3000, 0] }); // [16,4,9]
  b.zeroBlock(o, [L, 1, u]);
  const f = b.fc(b.flatten(o), 10);
  return b.build([f, g, o]);
}

export type Pattern = 'all-zero' | 'none-zero' | 'alternating' | 'random';
export const PATTERNS: Pattern[] = ['all-zero', 'none-zero', 'alternating', 'random'];

/**
 * A float input whose blocks (of the input's zeroBlock) are real zero (the zero point once
 * quantized) or all clearly non-zero, by pattern.
 */
export function patternInput(model: Model, pattern: Pattern, seed = 11): Float32Array {
  const info = model.tensors.find((t) => t.name === model.inputs[0])!;
  const [c, h, w] = info.shape as [number, number, number];
  const [bc, bh, bw] = info.zeroBlock?.block ?? [1, 1, 1];
  const rng = mulberry32(seed);
  const density = 0.1 + 0.5 * rng();
  const zero = new Map<string, boolean>();
  const isZero = (cb: number, hb: number, wb: number): boolean => {
    const key = `${cb},${hb},${wb}`;
    if (!zero.has(key)) {
      const z = pattern === 'all-zero' ? true : pattern === 'none-zero' ? false : pattern === 'alternating' ? (cb + hb + wb) % 2 === 0 : rng() >= density;
      zero.set(key, z);
    }
    return zero.get(key)!;
  };
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        out[(ch * h + y) * w + x] = isZero(Math.floor(ch / bc), Math.floor(y / bh), Math.floor(x / bw)) ? 0 : 0.3 + 0.7 * rng();
      }
    }
  }
  return out;
}

/** Every region equals the golden tensor; every planar region's bitmap is the golden blocks'. */
export function checkRun(run: EngineRun, model: Model, label: string): { planar: number; zeroBlocks: number; blocks: number } {
  expect(run.hazards, label).toEqual([]);
  let planar = 0;
  let zeroBlocks = 0;
  let blocks = 0;
  for (const t of run.compilation.map.tensors) {
    if (t.viewOf !== undefined) continue;
    const want = run.goldenTensors.get(t.name)!;
    const got = run.tensors.get(t.name)!;
    const diff = want.findIndex((v, i) => v !== got[i]);
    expect(diff, `${label}: tensor '${t.name}' first differs at ${diff}`).toBe(-1);
    if (!t.zeroBlock) continue;
    planar++;
    const flags = blockFlags(want, t.shape as [number, number, number], t.zeroPoint, t.zeroBlock.block);
    const written = unpackBitmap(t, run.dram.subarray(t.addr, t.addr + t.bytes));
    expect(Array.from(written), `${label}: bitmap of '${t.name}'`).toEqual(Array.from(flags));
    blocks += flags.length;
    zeroBlocks += flags.filter((v) => v === 0).length;
  }
  expect(model.outputs.length).toBe(run.outputs.length);
  run.outputs.forEach((o, k) => expect(Array.from(o), `${label}: output ${k}`).toEqual(Array.from(run.golden[k]!)));
  return { planar, zeroBlocks, blocks };
}

describe('zero-block programs run bit-exact against the golden model (epsilon 0)', () => {
  for (const [cname, over] of Object.entries(ZB_CONFIGS)) {
    it(`${cname}: every pattern`, () => {
      const c = config(over);
      const model = zeroBlockModel(c);
      let zero = 0;
      let total = 0;
      for (const pattern of PATTERNS) {
        const run = runOnEngine(model, c, patternInput(model, pattern));
        const r = checkRun(run, model, `${cname} ${pattern}`);
        expect(r.planar).toBe(6);
        zero += r.zeroBlocks;
        total += r.blocks;
        if (pattern === 'all-zero') expect(r.zeroBlocks, 'all-zero input: zero blocks downstream too').toBeGreaterThan(r.blocks / 3);
      }
      // Some blocks skipped, some not, over the patterns.
      expect(zero).toBeGreaterThan(0);
      expect(zero).toBeLessThan(total);
    });
  }
});

/**
 * Whether the golden model applies epsilon (replaces blocks within epsilon of the zero point):
 * the engine's encoder always does, so epsilon > 0 compares only once the golden model does too.
 */
export function goldenAppliesEpsilon(): boolean {
  const b = new IrBuilder('probe', [8, 1, 2]);
  b.zeroBlock(b.input, [8, 1, 2], 255);
  const m = b.build([b.conv(b.input, { co: 8, k: 1 })]);
  const zp = m.tensors.find((t) => t.name === 'input')!.quant.zeroPoint;
  return runGolden(m, new Float32Array(16).fill(0.5)).tensors.get('input')!.data.every((v) => v === zp);
}

describe('zero-block programs with epsilon > 0', () => {
  it.skipIf(!goldenAppliesEpsilon())('encode exactly where the golden model does, bit-exact, on every configuration', () => {
    for (const [cname, over] of Object.entries(ZB_CONFIGS)) {
      const c = config(over);
      const model = zeroBlockModel(c, 5);
      const eps = [2, 6, 1, 30, 4, 9];
      model.tensors.filter((t) => t.zeroBlock).forEach((t, i) => (t.zeroBlock!.epsilon = eps[i % eps.length]!));
      for (const pattern of PATTERNS) checkRun(runOnEngine(model, c, patternInput(model, pattern, 23)), model, `${cname} ${pattern} eps`);
    }
  });
});

describe('zero-block lowering', () => {
  const c = config(ZB_CONFIGS['small']!);
  const model = zeroBlockModel(c);
  const comp = compileEngine(model, c);
  const regions = new Map(comp.map.tensors.map((t) => [t.name, t]));
  const tensorOf = (i: Instr): string | undefined =>
    i.op === 'load' || i.op === 'store' ? comp.map.tensors.find((t) => t.viewOf === undefined && i.addr >= t.addr && i.addr < t.addr + t.bytes)?.name : undefined;

  it('moves every planar tensor in whole block rows through the decoder and the encoder, and HWC ones as before', () => {
    let zb = 0;
    for (const i of comp.program) {
      if (i.op !== 'load' && i.op !== 'store') continue;
      if (i.op === 'load' && i.target !== 'in') continue;
      const t = regions.get(tensorOf(i)!)!;
      expect(i.zb !== undefined, `${i.op} of '${t.name}'`).toBe(t.zeroBlock !== undefined);
      if (!i.zb || !t.zeroBlock) continue;
      zb++;
      const [, bh, bw] = t.zeroBlock.block;
      const y0 = (i.addr - t.addr) / t.pitch;
      expect(y0 % bh).toBe(0);
      expect(i.zb.rows % bh).toBe(0);
      expect(y0 + i.zb.rows).toBeLessThanOrEqual(t.zeroBlock.nHb * bh);
      expect(i.zb.bitmapAddr).toBe(t.addr + t.zeroBlock.bitmapOffset + (y0 / bh) * t.zeroBlock.bitmapRowBytes);
      expect(i.bytes).toBe((i.zb.rows / bh) * t.zeroBlock.bitmapRowBytes);
      expect(i.zb).toMatchObject({ planes: t.ncg, nWb: t.zeroBlock.nWb, segBeats: (bw * c.peIc) / c.busBytes, bh, planeBytes: t.zeroBlock.planeBytes, k: t.zeroBlock.k, zeroPoint: t.zeroPoint });
      if (i.op === 'store') {
        const w = rowWidths(c);
        expect(i.zb).toMatchObject({ validRows: Math.min(i.zb.rows, t.shape[1]! - y0), width: t.shape[2], epsilon: t.zeroBlock.epsilon, planeRows: (i.zb.rows * t.pitch) / w.wa, rowRows: t.pitch / w.wa });
      }
    }
    expect(zb).toBeGreaterThan(10);
  });

  it('cuts the small configuration into several bands per planar tensor', () => {
    const stores = comp.program.filter((i) => i.op === 'store' && i.zb);
    const perTensor = new Map<string, number>();
    for (const s of stores) perTensor.set(tensorOf(s)!, (perTensor.get(tensorOf(s)!) ?? 0) + 1);
    expect([...perTensor.values()].some((n) => n > 1)).toBe(true);
  });

  it('pools a planar input one plane at a time and strides planar outputs by the band plane', () => {
    const pools = comp.program.filter((i) => i.op === 'pool');
    expect(pools.some((p) => p.op === 'pool' && p.ncg === 1 && p.cwOff > 0)).toBe(true);
    const convs = comp.program.filter((i) => i.op === 'conv');
    expect(convs.some((v) => v.op === 'conv' && v.cwStride > 1 && v.ncgIn === 1)).toBe(true);
    expect(convs.some((v) => v.op === 'conv' && v.outCwStride > 1 && v.ncgOut === 1)).toBe(true);
    const adds = comp.program.filter((i) => i.op === 'add');
    expect(adds.length).toBeGreaterThan(1);
  });
});

describe('what the engine cannot do with zero blocks is an unsupported-feature error naming the tensor or layer', () => {
  const fails = (model: Model, over: Partial<EngineConfig>, message: RegExp) => {
    let error: unknown;
    try {
      compileEngine(model, config(over));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatecError);
    expect((error as GatecError).exitCode).toBe(EXIT_UNSUPPORTED);
    expect((error as GatecError).message).toMatch(message);
  };

  it('a block the engine cannot skip', () => {
    const b = new IrBuilder('zbbad', [8, 4, 4]);
    const y = b.conv(b.input, { co: 8, k: 1 });
    b.zeroBlock(y, [8, 1, 1]);
    fails(b.build([y]), {}, /^zbbad\.gir\.json: tensor 't0': the engine cannot skip zero blocks of 8x1x1: a block row segment of bw\*L = 1\*8 = 8 bytes is not whole 16-byte DRAM beats \(--bus-bytes\)$/);
  });

  it('a concat of annotated tensors', () => {
    const b = new IrBuilder('zbcat', [8, 4, 4]);
    const y = b.conv(b.input, { co: 8, k: 1 });
    b.zeroBlock(y, [8, 1, 2]);
    fails(b.build([b.concat([y, b.input])]), {}, /^zbcat\.gir\.json: layer 'concat1' \(concat\): concat of zero-block tensors is not supported by the engine: 't0' has a zeroBlock annotation/);
  });

  it('an add mixing planar and HWC tensors', () => {
    const b = new IrBuilder('zbadd', [8, 4, 4]);
    const y = b.conv(b.input, { co: 8, k: 1 });
    b.zeroBlock(y, [8, 1, 2]);
    fails(b.build([b.add(y, b.input)]), {}, /layer 'add1' \(add\): an add needs its operands and result all zero-block annotated or none .*'t0' zero-block \(planar\), 'input' dense \(HWC\), 't1' dense \(HWC\)$/);
  });

  it('a band whose bitmap rows exceed the bitmap buffer', () => {
    // [8, 200, 2] in 8x1x2 blocks: one bitmap row (16 bytes, a beat) per image row; an fc loads
    // all 200 rows at once, 3200 bytes of bitmap. A conv cuts its bands to fit instead.
    const b = new IrBuilder('zbbm', [8, 200, 2]);
    b.zeroBlock(b.input, [8, 1, 2]);
    fails(b.build([b.fc(b.flatten(b.input), 2)]), {}, /^zbbm\.gir\.json: layer 'fc1' \(fc\): a band of 200 rows of zero-block tensor 'input' has 3200 bytes of bitmap rows; the decoder's bitmap buffer holds 2048 \(a 32nd of --in-buf\)$/);
    const c = new IrBuilder('zbbm2', [8, 200, 2]);
    c.zeroBlock(c.input, [8, 1, 2]);
    const comp = compileEngine(c.build([c.conv(c.input, { co: 8, k: 3, p: 1 })]), config({}));
    const loads = comp.program.filter((i): i is LoadInstr => i.op === 'load' && i.zb !== undefined);
    expect(loads.length).toBeGreaterThan(1);
    for (const i of loads) expect(i.bytes).toBeLessThanOrEqual(2048);
    expect(bitmapBufferBytes(config({}), 'in')).toBe(2048);
    expect(bitmapBufferBytes(config({ outBufBytes: 1024, busBytes: 32 }), 'out')).toBe(64);
    expect(bitmapBufferBytes(config({ inBufBytes: 2064 * 16 }), 'in')).toBe(1024);
  });
});
