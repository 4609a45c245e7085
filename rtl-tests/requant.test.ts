import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantizeMultiplier, requantize } from '../src/ir/numerics.js';
import { buildVerilator } from '../src/sim/verilator.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let exe = '';

beforeAll(async () => {
  exe = await buildVerilator({
    top: 'gatec_requant',
    sources: [join(root, 'templates/rtl/engine/gatec_requant.sv')],
    harness: [join(root, 'rtl-tests/requant/tb_requant.cpp')],
    objDir: join(root, '.cache/rtl-tests/requant'),
  });
});

type Case = [acc: number, mult: number, shift: number, zp: number, lo: number, hi: number];

/** Random accumulators and scales, plus exact ties, which round half to even. */
const caseArb: fc.Arbitrary<Case> = fc
  .tuple(
    fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -5000, max: 5000 })),
    fc.double({ min: 1e-9, max: 100, noNaN: true }),
    fc.integer({ min: -128, max: 127 }),
    fc.integer({ min: -128, max: 127 }),
    fc.integer({ min: -128, max: 127 }),
  )
  .map(([acc, real, zp, a, b]) => {
    const { multiplier, shift } = quantizeMultiplier(real);
    return [acc, multiplier, shift, zp, Math.min(a, b), Math.max(a, b)];
  });

const ties: Case[] = [-7, -5, -3, -1, 1, 3, 5, 7].map((acc) => [acc, 2 ** 14, 15, 0, -128, 127]);

describe('gatec_requant (Verilator) vs the numerics.ts rule', () => {
  it('is bit-exact on random and tie cases', async () => {
    const cases = [...ties, ...fc.sample(caseArb, { numRuns: 4000, seed: 42 })];
    const stdin = cases.map((c) => c.join(' ')).join('\n') + '\n';
    const { stdout } = await execa(exe, [], { input: stdin });
    const got = stdout.trim().split('\n').map(Number);
    const want = cases.map(([acc, m, s, zp, lo, hi]) => requantize(acc, m, s, zp, lo, hi));
    expect(got).toEqual(want);
    expect(want.slice(0, 8)).toEqual([-4, -2, -2, 0, 0, 2, 2, 4]);
  });
});
