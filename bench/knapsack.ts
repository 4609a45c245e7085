import { solveKnapsack, type KnapsackProblem } from '../src/passes/knapsack.js';
import { printRows, time } from './common.js';

/** Deterministic pseudo-random numbers (LCG) so every run solves the same instances. */
function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/**
 * Pruning-shaped instances of 10,000 structures: per layer one cost class (patterns of a layer all cost
 * one DSP, the layer's LUTs and BRAM share), values spread like weight magnitudes; plus a random
 * instance with every cost vector distinct (the hard case for branch and bound).
 */
function instances(): { name: string; p: KnapsackProblem }[] {
  const r = rng(8);
  const n = 10_000;
  const layers = 12;
  const pattern = Array.from({ length: n }, (_, i) => {
    const l = i % layers;
    return { value: Math.abs(r() - 0.5) * (1 + l), costs: [1, 20 + 3 * l, (8 * (1 + (l % 4))) / 18432] };
  });
  const dspOnly = pattern.map((it) => ({ value: it.value, costs: [it.costs[0]!] }));
  const random = Array.from({ length: n }, () => ({ value: 1 + 100 * r(), costs: [1 + 10 * r(), 1 + 10 * r(), 1 + 10 * r()] }));
  return [
    { name: 'DSP budget only', p: { items: dspOnly, capacities: [n / 2] } },
    { name: 'DSP + LUT + BRAM, 12 cost classes', p: { items: pattern, capacities: [n / 4, 0.25 * pattern.reduce((a, it) => a + it.costs[1]!, 0), 1.2] } },
    { name: 'DSP + LUT + BRAM, all costs distinct', p: { items: random, capacities: [13_000, 13_000, 13_000] } },
  ];
}

export async function benchKnapsack(): Promise<void> {
  const rows: [string, string][] = [];
  for (const { name, p } of instances()) {
    const { value: s, ms } = await time(() => solveKnapsack(p));
    const kept = s.selected.filter(Boolean).length;
    rows.push([
      `${name}: ${p.items.length} structures, ${p.capacities.length} dims`,
      `${ms.toFixed(0)} ms, ${s.method}${s.exact ? ', exact' : `, gap ${(100 * s.gap).toFixed(3)}%`}, ${kept} kept, ${s.nodes} nodes`,
    ]);
  }
  printRows('Knapsack pruning solver (acceptance: 10,000 structures in under 5 s)', rows);
}
