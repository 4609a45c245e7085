import { describe, expect, it } from 'vitest';
import { compileEngine } from '../generator/engine/build.js';
import { bitmapBufferBytes, rowWidths, type EngineConfig } from '../generator/engine/config.js';
import type { Instr, LoadInstr } from '../generator/engine/isa.js';
import type { Model } from '../src/ir/types.js';
import { expectUnsupported, IrBuilder, runOnEngine } from './support/engine-models.js';
import { checkRun, goldenAppliesEpsilon, mixedAddModel, PATTERNS, patternInput, ZB_CONFIGS, zbConfig as config, zeroBlockModel } from './support/engine-zero-blocks.js';

/**
 * Programs over zero-block (planar) tensors in the reference interpreter, which implements the
 * decoder and encoder of docs/engine.md: every tensor bit-exact with the golden model, every
 * bitmap the encoder wrote equal to the blocks of the golden values, no buffer race.
 */

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

describe('adds that mix annotated and unannotated tensors', () => {
  it('lay the unannotated ones out planar with implied epsilon-0 blocks, bit-exact, bytes as predicted', () => {
    for (const [cname, over] of Object.entries(ZB_CONFIGS)) {
      const c = config(over);
      const u = Math.max(1, c.busBytes / c.peIc);
      const model = mixedAddModel(c);
      const comp = compileEngine(model, c);
      const implied = comp.map.tensors.filter((r) => r.zeroBlock?.implied).map((r) => r.name).sort();
      expect(implied, cname).toEqual(['input', 't1', 't2', 't3']);
      for (const r of comp.map.tensors.filter((q) => q.zeroBlock?.implied)) expect(r.zeroBlock).toMatchObject({ block: [c.peIc, 2, 2 * u], epsilon: 0 });
      expect(comp.report.zeroBlock!.tensors.filter((r) => r.implied).length).toBe(4);
      for (const pattern of PATTERNS) {
        const run = runOnEngine(model, c, patternInput(model, pattern));
        checkRun(run, model, `${cname} ${pattern}`);
      }
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

  it('is deterministic', () => {
    const again = compileEngine(zeroBlockModel(c), c);
    expect(Buffer.from(again.image).equals(Buffer.from(comp.image))).toBe(true);
    expect(JSON.stringify(again.map)).toBe(JSON.stringify(comp.map));
    expect(JSON.stringify(again.report)).toBe(JSON.stringify(comp.report));
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
  const fails = (model: Model, over: Partial<EngineConfig>, message: RegExp) => expectUnsupported(model, config(over), message);

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

  it('an add mixing planar and HWC tensors that a concat also needs HWC', () => {
    const b = new IrBuilder('zbadd', [8, 4, 4]);
    const y = b.conv(b.input, { co: 8, k: 1 });
    b.zeroBlock(y, [8, 1, 2]);
    const x = b.add(y, b.input);
    fails(b.build([x, b.concat([b.input, b.input])]), {}, /layer 'add1' \(add\): an add needs its operands and result all zero-block annotated or none .*'t0' zero-block \(planar\), 'input' dense \(HWC\), 't1' zero-block \(planar\)$/);
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
