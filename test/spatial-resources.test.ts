// The spatial resource model against the Yosys 0.55 synth_xilinx runs it was calibrated on
// (docs/spatial.md, "Resource model and calibration"). The mlp16 and digits8 runs take minutes
// each: those at reuse 1 and digits8 are repeated by GATEC_BENCH=spatial, the pruned 16-8-4 one
// by rtl-tests/spatial-yosys.test.ts.
// No synthesis here: the recorded counts pin the calibration, so a change of the generated RTL or
// of the model that moves a prediction out of tolerance fails in seconds.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { spatialPatterns } from '../generator/spatial/patterns.js';
import { spatialResources } from '../generator/spatial/resources.js';
import { loadModel } from '../src/frontend/load.js';
import type { Model } from '../src/ir/types.js';
import { parseBudget, prune } from '../src/passes/prune.js';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { OWN, sharedModel } from './fixtures.js';
import { mlpModel } from './support/spatial-mlp.js';

/** Yosys synth_xilinx -flatten -noiopad: DSP48E1, LUT1..6, FD* (BRAM18 was 0 in every run). */
interface Measured {
  dsp: number;
  lut: number;
  ff: number;
}

const mlpSmall = (): Model => mlpModel([16, 8, 4], 3);
const everyOtherPruned = (): Model => {
  const m = mlpSmall();
  spatialPatterns(m, { default: 4 }).forEach((p, i) => {
    if (i % 2 === 0) for (const w of p.weightIndex) (m.layers[p.layerIndex] as { weights: Int8Array }).weights[w] = 0;
  });
  return m;
};

let mlp16: Model;
let digits8: Model;
const pruned = (p: number): Model =>
  prune(mlp16, { arch: 'spatial', structure: 'pattern', budget: parseBudget(`dsp=${p}%`), score: 'l1', reuse: 1, engine: { ...DEFAULT_ENGINE_CONFIG }, where: 'mlp16' }).model;

beforeAll(async () => {
  mlp16 = await loadModel(join(OWN, 'mlp16_qdq.onnx'));
  digits8 = await loadModel(sharedModel('digits8_qdq'));
});

const runs: [string, () => Model, number, Measured][] = [
  ['16-8-4', mlpSmall, 1, { dsp: 165, lut: 1835, ff: 468 }],
  ['16-8-4', mlpSmall, 2, { dsp: 86, lut: 880, ff: 942 }],
  ['16-8-4', mlpSmall, 4, { dsp: 43, lut: 715, ff: 946 }],
  ['16-8-4', mlpSmall, 8, { dsp: 22, lut: 872, ff: 949 }],
  ['16-8-4', mlpSmall, 16, { dsp: 14, lut: 799, ff: 950 }],
  ['16-8-4, every other pattern pruned', everyOtherPruned, 4, { dsp: 14, lut: 499, ff: 634 }],
  ['mlp16', () => mlp16, 1, { dsp: 3456, lut: 57058, ff: 2417 }],
  ['mlp16', () => mlp16, 2, { dsp: 2194, lut: 9252, ff: 7933 }],
  ['mlp16', () => mlp16, 4, { dsp: 1098, lut: 7520, ff: 7941 }],
  ['mlp16', () => mlp16, 16, { dsp: 275, lut: 8762, ff: 7956 }],
  ['mlp16 pruned dsp=50%', () => pruned(50), 1, { dsp: 1768, lut: 30940, ff: 2401 }],
  ['mlp16 pruned dsp=25%', () => pruned(25), 1, { dsp: 886, lut: 17042, ff: 2225 }],
  ['mlp16 pruned dsp=10%', () => pruned(10), 1, { dsp: 308, lut: 8933, ff: 2033 }],
  ['digits8_qdq', () => digits8, 8, { dsp: 535, lut: 22711, ff: 37484 }],
];

describe('spatial resource model vs recorded Yosys runs', () => {
  for (const [name, model, reuse, y] of runs) {
    it(`${name}, reuse ${reuse}: DSP48E1 equal, LUT within 25%, no BRAM`, () => {
      const r = spatialResources(model(), { default: reuse });
      expect(r.dsp).toBe(y.dsp);
      expect(Math.abs(r.lut - y.lut) / y.lut).toBeLessThan(0.25);
      expect(r.bram18).toBe(0);
    });
  }
});
