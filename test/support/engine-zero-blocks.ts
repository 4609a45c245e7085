import { expect } from 'vitest';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../../generator/engine/config.js';
import { blockFlags, unpackBitmap } from '../../generator/engine/layout.js';
import { runGolden } from '../../src/golden/run.js';
import type { Model } from '../../src/ir/types.js';
import { IrBuilder, type EngineRun } from './engine-models.js';
import { mulberry32 } from './prng.js';

/**
 * Models, configurations and inputs with zero blocks for the engine's tests: every way a planar
 * tensor meets the engine, and input patterns of zero blocks.
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

export const zbConfig = (over: Partial<EngineConfig>): EngineConfig => ({ ...DEFAULT_ENGINE_CONFIG, ...over });

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

/**
 * Adds that mix an annotated tensor with unannotated ones (as `gatec sparsity` annotates tensors
 * one by one): the compiler lays the others out planar with implied epsilon-0 blocks. t0 is
 * annotated (epsilon 1); input, t1 = t0 + input, t2 and t3 = t1 + t2 are implied.
 */
export function mixedAddModel(c: EngineConfig, seed = 4): Model {
  const u = bwUnit(c);
  const b = new IrBuilder('zbmix', [2 * c.peIc, 9, 4 * u], seed);
  const x = b.conv(b.input, { co: 2 * c.peIc, k: 3, p: 1, relu: true, bias: [-3000, -200] });
  b.zeroBlock(x, [c.peIc, 2, 2 * u], 1);
  const s = b.add(x, b.input);
  const y = b.conv(x, { co: 2 * c.peIc, k: 1, relu: true, bias: [-2000, 0] });
  const t = b.add(s, y);
  return b.build([b.gap(t)]);
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

/**
 * Every feature map a block fits annotated with it (not the model input, outputs or views): how the
 * fixture tests turn the shared models into zero-block ones.
 */
export function annotate(model: Model, block: [number, number, number], epsilon: number): Model {
  const views = new Set(model.layers.filter((l) => l.op === 'reshape').map((l) => l.output));
  const tensors = model.tensors.map((t) => {
    const [c = 0, h = 0, w = 0] = t.shape;
    const fits = t.shape.length === 3 && c >= block[0] && h >= block[1] && w >= block[2];
    return fits && !views.has(t.name) && !model.outputs.includes(t.name) && t.name !== model.inputs[0] ? { ...t, zeroBlock: { block, epsilon } } : t;
  });
  return { ...model, tensors };
}
