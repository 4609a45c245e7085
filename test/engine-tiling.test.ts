import { beforeAll, describe, expect, it } from 'vitest';
import { compileEngine, type EngineCompilation } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG, rowWidths, type EngineConfig } from '../generator/engine/config.js';
import type { ComputeInstr, Instr, LoadInstr } from '../generator/engine/isa.js';
import { physicalOf } from '../generator/engine/layout.js';
import { convWeightImage } from '../generator/engine/weights.js';
import { loadModel } from '../src/frontend/load.js';
import type { Model } from '../src/ir/types.js';
import { sharedData, sharedModel } from './fixtures.js';
import { expectUnsupported, IrBuilder, randomInput, runOnEngine } from './support/engine-models.js';

/** Every op the engine runs, with strides, padding, groups, a residual add, a concat and a flatten view. */
function allOps(): Model {
  const b = new IrBuilder('all_ops', [3, 21, 19], 5);
  let x = b.conv(b.input, { co: 24, k: 3, s: 2, p: 1 });
  x = b.pool(x, 'maxpool', 3, 2, 1);
  const y = b.conv(x, { co: 24, k: 3, p: 1, groups: 24 });
  const z = b.conv(y, { co: 24, k: 1 });
  x = b.add(x, z);
  x = b.concat([x, b.conv(x, { co: 8, k: 1 })]);
  x = b.pool(x, 'avgpool', 2, 2);
  x = b.conv(x, { co: 40, k: [3, 1], p: [1, 0, 1, 0], groups: 2 });
  const f = b.fc(b.flatten(x), 17);
  x = b.gap(x);
  x = b.fc(b.flatten(x), 11);
  return b.build([x, f]);
}

const SMALL: Partial<EngineConfig> = { inBufBytes: 2048, outBufBytes: 1024, wBufBytes: 4096, paramRows: 4 };
const CONFIGS: Record<string, Partial<EngineConfig>> = {
  default: {},
  small: SMALL,
  'pe4x8 bus8 small': { ...SMALL, peOc: 4, peIc: 8, busBytes: 8, wBufBytes: 2048 },
  'pe16x8': { peOc: 16, peIc: 8, inBufBytes: 4096, outBufBytes: 2048, wBufBytes: 8192, paramRows: 8 },
  'pe8x4 bus32': { peOc: 8, peIc: 4, busBytes: 32, inBufBytes: 4096, outBufBytes: 2048, wBufBytes: 8192, paramRows: 4 },
  'pe2x2 bus4 tiny': { peOc: 2, peIc: 2, busBytes: 4, inBufBytes: 2048, outBufBytes: 512, wBufBytes: 1024, paramRows: 16 },
};

const config = (over: Partial<EngineConfig>): EngineConfig => ({ ...DEFAULT_ENGINE_CONFIG, ...over });
const isCompute = (i: Instr): i is ComputeInstr => i.op === 'conv' || i.op === 'pool' || i.op === 'add';

let models: { name: string; model: Model; input: ArrayLike<number> }[] = [];
beforeAll(async () => {
  const shared = async (name: 'digits8' | 'tinyres') => ({ name, model: await loadModel(sharedModel(`${name}_qdq`)), input: sharedData(name).inputs[0]! });
  const ops = allOps();
  models = [await shared('digits8'), await shared('tinyres'), { name: 'all_ops', model: ops, input: randomInput(ops) }];
});

describe('programs run bit-exact against the golden model (reference interpreter of docs/engine.md)', () => {
  for (const [cname, over] of Object.entries(CONFIGS)) {
    it(`${cname}: every model, no buffer race`, () => {
      for (const { name, model, input } of models) {
        const run = runOnEngine(model, config(over), input);
        expect(run.hazards, `${name}`).toEqual([]);
        run.outputs.forEach((o, k) => expect(Array.from(o), `${name} output ${k}`).toEqual(Array.from(run.golden[k]!)));
      }
    });
  }
});

/** Per layer: the input rows each compute reads were loaded by the last input LOAD before it, exactly. */
function checkBands(comp: EngineCompilation, model: Model): { bands: number; chunked: number } {
  const tensors = new Map(comp.map.tensors.map((t) => [t.name, t]));
  const w = rowWidths(comp.config);
  let bands = 0;
  let chunked = 0;
  model.layers.forEach((layer, tag) => {
    if (layer.op !== 'conv' && layer.op !== 'maxpool' && layer.op !== 'avgpool') return;
    const input = physicalOf(tensors, layer.inputs[0]!);
    const output = physicalOf(tensors, layer.output);
    const [, h] = input.shape as [number, number, number];
    const instrs = comp.program.filter((i) => i.tag === tag);
    let band: LoadInstr | undefined;
    const covered = new Array<number>(output.shape[1]!).fill(0);
    for (const i of instrs) {
      if (i.op === 'load' && i.target === 'in') {
        band = i;
        bands++;
        continue;
      }
      if (i.op !== 'conv' && i.op !== 'pool') continue;
      const needed = [Math.max(0, i.iy0), Math.min(h, i.iy0 + (i.oyCnt - 1) * i.sh + i.kh)];
      const y0 = (band!.addr - input.addr) / input.pitch;
      expect([y0, y0 + band!.bytes / input.pitch], `layer ${tag} rows loaded for iy0 ${i.iy0}`).toEqual(needed);
      const ncg = i.op === 'conv' ? i.ncgIn : i.ncg;
      expect(i.inStart).toBe((band!.row * w.wa) / w.lanes + (i.iy0 - y0) * i.inPitch - i.pl * ncg);
      const oy0 = (i.iy0 + i.pt) / i.sh;
      for (let oy = oy0; oy < oy0 + i.oyCnt; oy++) covered[oy]! += i.op === 'conv' ? i.ng : 1;
    }
    // Every output row once per group (conv) or once (pool).
    const groups = layer.op === 'conv' ? Math.ceil((Math.ceil(layer.bias.length / w.lanes) * w.lanes) / comp.config.peOc) : 1;
    expect(covered, `layer ${tag}`).toEqual(new Array(covered.length).fill(groups));
    if (instrs.filter((i) => i.op === 'load' && i.target === 'weight').length > 1) chunked++;
  });
  return { bands, chunked };
}

describe('tiling', () => {
  it('cuts layers into several bands and weight chunks when buffers are small, loading exactly the rows each band needs', () => {
    for (const { name, model } of models) {
      const big = checkBands(compileEngine(model, config({})), model);
      const small = checkBands(compileEngine(model, config(SMALL)), model);
      expect(small.bands, name).toBeGreaterThan(big.bands);
      if (name !== 'digits8') expect(small.chunked, name).toBeGreaterThan(0);
    }
  });

  it('loads the whole weight image once per band in contiguous chunks, or once when it fits', () => {
    const { model } = models.find((m) => m.name === 'tinyres')!;
    const shapes = new Map(model.tensors.map((t) => [t.name, t.shape]));
    for (const over of [{}, SMALL]) {
      const c = config(over);
      const comp = compileEngine(model, c);
      model.layers.forEach((l, tag) => {
        if (l.op !== 'conv') return;
        const image = convWeightImage(l, shapes.get(l.inputs[0]!)![0]!, c, rowWidths(c), 'x');
        const loads = comp.program.filter((i): i is LoadInstr => i.tag === tag && i.op === 'load');
        const bands = loads.filter((i) => i.target === 'in').length;
        const chunks = loads.filter((i) => i.target === 'weight');
        const params = loads.filter((i) => i.target === 'param');
        if (chunks.length === 1) {
          expect(chunks[0]!.bytes).toBe(image.weights.length);
          expect(params[0]!.bytes).toBe(image.params.length);
          return;
        }
        const perBand = chunks.length / bands;
        for (let b = 0; b < bands; b++) {
          const mine = chunks.slice(b * perBand, (b + 1) * perBand);
          mine.forEach((k, i) => i > 0 && expect(k.addr).toBe(mine[i - 1]!.addr + mine[i - 1]!.bytes));
          expect(mine.reduce((a, k) => a + k.bytes, 0)).toBe(image.weights.length);
          expect(params.slice(b * perBand, (b + 1) * perBand).reduce((a, k) => a + k.bytes, 0)).toBe(image.params.length);
        }
      });
    }
  });

  it('sets the wait bits as docs/engine.md says', () => {
    for (const { model } of models) {
      for (const over of Object.values(CONFIGS)) {
        const p = compileEngine(model, config(over)).program;
        expect(p[p.length - 1]!.op).toBe('end');
        p.forEach((i, k) => {
          if (isCompute(i)) expect([i.waitDma, i.waitCmp], `compute ${k}`).toEqual([true, false]);
          if (i.op === 'load') expect([i.waitDma, i.waitCmp], `load ${k}`).toEqual([false, false]);
          const lastOfLayer = p[k + 1]?.tag !== i.tag || p[k + 1]?.op === 'end';
          if (i.op === 'store') expect(i.waitCmp, `store ${k}`).toBe(lastOfLayer);
          if (i.op !== 'end' && lastOfLayer) expect(i.op, `last of layer ${i.tag}`).toBe('store');
        });
      }
    }
  });

  it('moves whole buffer rows in every LOAD and STORE', () => {
    for (const { model } of models) {
      for (const over of Object.values(CONFIGS)) {
        const c = config(over);
        const w = rowWidths(c);
        const widths = { in: w.wa, weight: w.ww, param: w.wp };
        for (const i of compileEngine(model, c).program) {
          if (i.op === 'load') expect(i.bytes % widths[i.target]).toBe(0);
          if (i.op === 'store') expect(i.bytes % w.wa).toBe(0);
        }
      }
    }
  });
});

describe('what does not fit, or is not supported, is an unsupported-feature error naming the layer', () => {
  const fails = (model: Model, over: Partial<EngineConfig>, message: RegExp) => expectUnsupported(model, config(over), message);

  it('input rows of one output row larger than half the in buffer', () => {
    const b = new IrBuilder('wide', [64, 40, 40]);
    const m = b.build([b.conv(b.input, { co: 8, k: 3, p: 1 })]);
    // 64 channels x 40 pixels = 2560 bytes per row; one output row reads 2 or 3 of them.
    fails(m, { inBufBytes: 8192 }, /^wide\.gir\.json: layer 'conv0' \(conv\): one output row reads 2 input rows of 2560 bytes \(5120\); half the in buffer holds 4096 \(--in-buf 8192 is double-buffered; it needs at least 10240\)$/);
  });

  it('one group of weights larger than half the weight buffer', () => {
    const b = new IrBuilder('deep', [128, 4, 4]);
    const m = b.build([b.conv(b.input, { co: 16, k: 3, p: 1 })]);
    fails(m, { wBufBytes: 16384 }, /layer 'conv0' \(conv\): one group of 8 output channels needs 9216 bytes of weights \(9 taps x 16 words x 64 bytes\); .* half of it: 8192 \(--w-buf 16384; it needs at least 18432\)$/);
  });

  it('an fc input larger than the in buffer', () => {
    const b = new IrBuilder('fcbig', [64, 32, 40]);
    const m = b.build([b.fc(b.flatten(b.input), 4)]);
    fails(m, {}, /layer 'fc1' \(fc\): the layer reads 81920 bytes of input at once; the in buffer holds 65536 \(--in-buf needs at least 81920\)$/);
  });

  it('global average pooling over more than 255 columns', () => {
    const b = new IrBuilder('gap', [8, 1, 300]);
    const m = b.build([b.gap(b.input)]);
    fails(m, { inBufBytes: 8192 }, /layer 'gap0' \(globalavgpool\): the 1x300 map exceeds the 255x255 pooling window/);
  });

  it('concat at a channel that is not a whole word, and transpose', () => {
    const b = new IrBuilder('cat', [8, 4, 4]);
    const m = b.build([b.concat([b.conv(b.input, { co: 3, k: 1 }), b.conv(b.input, { co: 8, k: 1 })])]);
    fails(m, {}, /^cat\.gir\.json: layer 'concat2' \(concat\): input 1 \('t1'\) starts at channel 3, not a multiple of the 8 lanes of an activation word$/);
    const t = new IrBuilder('tr', [8, 4, 4]).build(['input']);
    t.layers.push({ op: 'transpose', name: 'tp', inputs: ['input'], output: 'tt', perm: [1, 2, 0] });
    t.tensors.push({ name: 'tt', shape: [4, 4, 8], quant: { scale: 1, zeroPoint: 0 } });
    t.outputs = ['tt'];
    fails(t, {}, /layer 'tp' \(transpose\): transpose is not supported by the engine/);
  });
});
