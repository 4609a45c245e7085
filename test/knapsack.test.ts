import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { solveKnapsack, type KnapsackProblem } from '../src/passes/knapsack.js';

/** The best value over all 2^n subsets. */
function bruteForce(p: KnapsackProblem): number {
  const n = p.items.length;
  let best = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let v = 0;
    let ok = true;
    for (let d = 0; d < p.capacities.length && ok; d++) {
      let c = 0;
      for (let i = 0; i < n; i++) if (mask & (1 << i)) c += p.items[i]!.costs[d]!;
      ok = c <= p.capacities[d]! + 1e-9;
    }
    if (!ok) continue;
    for (let i = 0; i < n; i++) if (mask & (1 << i)) v += p.items[i]!.value;
    best = Math.max(best, v);
  }
  return best;
}

function feasible(p: KnapsackProblem, sel: boolean[]): boolean {
  return p.capacities.every((cap, d) => sel.reduce((a, s, i) => a + (s ? p.items[i]!.costs[d]! : 0), 0) <= cap + 1e-9);
}

/** Random instances up to 20 items and 3 dimensions; integer (DP-able) or fractional costs, with repeated cost vectors. */
const problem = (integral: boolean) =>
  fc.integer({ min: 1, max: 3 }).chain((dims) =>
    fc.record({
      items: fc.array(
        fc.record({
          value: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.double({ min: 0, max: 50, noNaN: true })),
          costs: fc.array(integral ? fc.integer({ min: 0, max: 12 }) : fc.oneof(fc.integer({ min: 0, max: 4 }), fc.double({ min: 0, max: 12, noNaN: true })), {
            minLength: dims,
            maxLength: dims,
          }),
        }),
        { minLength: 0, maxLength: 20 },
      ),
      capacities: fc.array(integral ? fc.integer({ min: 0, max: 60 }) : fc.double({ min: 0, max: 60, noNaN: true }), { minLength: dims, maxLength: dims }),
    }),
  );

describe('knapsack solver', () => {
  for (const integral of [true, false]) {
    it(`equals brute force on random instances (${integral ? 'integer costs: DP and B&B' : 'fractional costs: B&B'})`, () => {
      fc.assert(
        fc.property(problem(integral), fc.boolean(), (p, noDp) => {
          const s = solveKnapsack(p, noDp ? { dpLimit: 0 } : {});
          expect(s.exact).toBe(true);
          expect(feasible(p, s.selected)).toBe(true);
          const v = s.selected.reduce((a, x, i) => a + (x ? p.items[i]!.value : 0), 0);
          expect(v).toBeCloseTo(s.value, 6);
          expect(s.value).toBeCloseTo(bruteForce(p), 6);
        }),
        { numRuns: 300, seed: 8 },
      );
    });
  }

  it('reports a bound and a gap when the node limit stops the search', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const items = Array.from({ length: 3000 }, () => ({ value: 1 + 100 * rnd(), costs: [1 + 10 * rnd(), 1 + 10 * rnd(), 1 + 10 * rnd()] }));
    const p = { items, capacities: [4000, 4000, 4000] };
    const s = solveKnapsack(p, { maxNodes: 1000 });
    expect(s.exact).toBe(false);
    expect(s.method).toBe('greedy');
    expect(feasible(p, s.selected)).toBe(true);
    expect(s.bound).toBeGreaterThanOrEqual(s.value);
    expect(s.gap).toBeGreaterThanOrEqual(0);
    expect(s.gap).toBeLessThan(0.05);
    const big = solveKnapsack(p, { maxItems: 100 });
    expect(big.exact).toBe(false);
    expect(big.nodes).toBe(0);
  });

  it('uses DP for one integer dimension and B&B for fractional costs, exactly', () => {
    const items = Array.from({ length: 200 }, (_, i) => ({ value: (i * 37) % 101, costs: [1 + (i % 3)] }));
    const s = solveKnapsack({ items, capacities: [100] });
    expect(s.method).toBe('dp');
    expect(s.exact).toBe(true);
    const f = solveKnapsack({ items: items.map((it) => ({ value: it.value, costs: [it.costs[0]! + 0.5] })), capacities: [100] });
    expect(f.exact).toBe(true);
    expect(f.gap).toBe(0);
  });

  it('takes free items, drops items that never fit, and rejects malformed problems', () => {
    const s = solveKnapsack({ items: [{ value: 3, costs: [0, 0] }, { value: 5, costs: [11, 1] }, { value: 1, costs: [1, 1] }], capacities: [10, 10] });
    expect(s.selected).toEqual([true, false, true]);
    expect(() => solveKnapsack({ items: [{ value: 1, costs: [1] }], capacities: [1, 2] })).toThrow(/costs for 2 dimensions/);
    expect(() => solveKnapsack({ items: [{ value: 1, costs: [-1] }], capacities: [1] })).toThrow(/cost -1/);
  });
});
