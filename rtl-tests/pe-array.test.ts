// gatec_pe_array against a TypeScript reference: random int8 weights and 9-bit centred
// activations (full 9-bit range, the int8-difference range and the extremes), random valid
// patterns, two parameterizations. Checks every row sum and the 2-cycle latency of sum/valid.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng, buildBench, root, rtl, runBench } from './common/bench.js';

interface Cycle {
  valid: boolean;
  x: number[];
  w: number[];
}

/** Row sums of one input vector: sum_c w[r*PeIc+c] * x[c]. */
export function peRowSums(peOc: number, peIc: number, x: number[], w: number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < peOc; r++) {
    let s = 0;
    for (let c = 0; c < peIc; c++) s += w[r * peIc + c]! * x[c]!;
    out.push(s);
  }
  return out;
}

function stimulus(peOc: number, peIc: number, n: number, seed: number): Cycle[] {
  const rng = new Rng(seed);
  const xExtremes = [-256, 255, -255, -128, 127, 0, -1, 1];
  const wExtremes = [-128, 127, -127, 0, -1, 1];
  const cycles: Cycle[] = [];
  for (let t = 0; t < n; t++) {
    // kinds: 0 full 9-bit range, 1 int8 range, 2 extremes, 3 all-max-magnitude (worst-case sums)
    const kind = rng.int(0, 3);
    const x: number[] = [];
    for (let c = 0; c < peIc; c++) {
      x.push(kind === 0 ? rng.int(-256, 255) : kind === 1 ? rng.int(-128, 127) : kind === 2 ? rng.pick(xExtremes) : -256);
    }
    const w: number[] = [];
    for (let k = 0; k < peOc * peIc; k++) {
      w.push(kind === 3 ? (rng.bool() ? -128 : 127) : kind === 2 ? rng.pick(wExtremes) : rng.int(-128, 127));
    }
    cycles.push({ valid: rng.bool(0.7), x, w });
  }
  return cycles;
}

const configs = [
  { peOc: 4, peIc: 8 },
  { peOc: 16, peIc: 2 },
  { peOc: 1, peIc: 1 },
];

describe.each(configs)('gatec_pe_array PeOc=$peOc PeIc=$peIc (Verilator) vs TS reference', ({ peOc, peIc }) => {
  it('row sums and valid arrive exactly two cycles after their inputs', async () => {
    const exe = await buildBench({
      name: `pe-array-${peOc}x${peIc}`,
      top: 'gatec_pe_array',
      sources: [rtl('gatec_pe_array')],
      harness: join(root, 'rtl-tests/pe-array/tb_pe_array.cpp'),
      params: { PeOc: peOc, PeIc: peIc },
    });
    const cycles = stimulus(peOc, peIc, 3000, 1000 * peOc + peIc);
    const input =
      `${peOc} ${peIc}\n` + cycles.map((c) => `${c.valid ? 1 : 0} ${c.x.join(' ')} ${c.w.join(' ')}`).join('\n') + '\n';
    const lines = await runBench(exe, input);
    expect(lines.length).toBe(cycles.length + 2);
    const got = lines.map((l) => l.trim().split(' ').map(Number));
    // out of reset, nothing is valid for the first two cycles
    expect(got[0]![0]).toBe(0);
    expect(got[1]![0]).toBe(0);
    let checked = 0;
    const bad: string[] = [];
    for (let t = 2; t < got.length; t++) {
      const src = cycles[t - 2]!;
      const [v, ...sums] = got[t]!;
      if (v !== (src.valid ? 1 : 0)) bad.push(`cycle ${t}: valid_o=${v}, valid_i two cycles earlier=${src.valid}`);
      // the row sums are not gated by valid: every cycle's inputs appear two cycles later
      const want = peRowSums(peOc, peIc, src.x, src.w);
      if (sums.join(',') !== want.join(',')) bad.push(`cycle ${t}: sum_o=[${sums}] want [${want}] (inputs of cycle ${t - 2})`);
      checked++;
      if (bad.length > 10) break;
    }
    expect(bad).toEqual([]);
    expect(checked).toBe(cycles.length);
  });
});
