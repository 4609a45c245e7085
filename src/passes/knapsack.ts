/**
 * Multi-dimensional 0/1 knapsack: choose items maximizing the sum of their values with, in every
 * dimension d, sum of costs[d] <= capacities[d] (docs/pruning.md, "Solver").
 *
 * Exact methods, tried in order:
 * - dynamic programming, when every cost and capacity is a non-negative integer and
 *   items x (product over dimensions of capacity + 1) <= DP_LIMIT (a DSP-only budget over
 *   thousands of structures, say);
 * - depth-first branch and bound otherwise, items in decreasing order of value per surrogate
 *   weight (the dimensions folded into one by weights 1/capacity), bounded by the LP (Dantzig)
 *   bound of the surrogate problem, with one dominance rule: items of identical cost vectors are
 *   taken in decreasing value order (an optimal solution exists that takes a prefix of each such
 *   class, so skipping one closes its class).
 * Past the size limit (more than `maxItems` items after preprocessing) or the node limit, the answer
 * is the best solution found (at least the greedy one) with `exact: false` and the optimality gap
 * against the root LP bound: (bound - value) / bound.
 */

export interface KnapsackItem {
  value: number;
  /** one non-negative cost per dimension */
  costs: readonly number[];
}

export interface KnapsackProblem {
  items: readonly KnapsackItem[];
  /** one non-negative capacity per dimension; Infinity for none */
  capacities: readonly number[];
}

export interface KnapsackOptions {
  /** branch-and-bound nodes before giving up exactness (default 200,000) */
  maxNodes?: number;
  /** items (after preprocessing) past which no exact search is tried (default 20,000) */
  maxItems?: number;
  /** dynamic-programming table cells, items x states (default 50,000,000) */
  dpLimit?: number;
}

export type KnapsackMethod = 'trivial' | 'dp' | 'branch-and-bound' | 'greedy';

export interface KnapsackSolution {
  selected: boolean[];
  value: number;
  /** summed costs of the selected items, per dimension */
  costs: number[];
  /** an upper bound on the optimum (equal to value when exact) */
  bound: number;
  /** (bound - value) / bound, 0 when exact */
  gap: number;
  exact: boolean;
  method: KnapsackMethod;
  /** branch-and-bound nodes visited */
  nodes: number;
}

export const KNAPSACK_DEFAULTS = { maxNodes: 200_000, maxItems: 20_000, dpLimit: 50_000_000 } as const;

/** Relative slack for floating-point cost sums (costs such as BRAM per structure are fractions). */
const EPS = 1e-9;

function fits(used: readonly number[], costs: readonly number[], caps: readonly number[]): boolean {
  for (let d = 0; d < caps.length; d++) if (used[d]! + costs[d]! > caps[d]! * (1 + EPS) + EPS) return false;
  return true;
}

/** Throws on malformed input (a programming error of the caller, not user input). */
function check(p: KnapsackProblem): void {
  const dims = p.capacities.length;
  for (const c of p.capacities) if (!(c >= 0)) throw new Error(`knapsack: capacity ${c} is not >= 0`);
  p.items.forEach((it, i) => {
    if (it.costs.length !== dims) throw new Error(`knapsack: item ${i} has ${it.costs.length} costs for ${dims} dimensions`);
    if (!Number.isFinite(it.value)) throw new Error(`knapsack: item ${i} has value ${it.value}`);
    for (const c of it.costs) if (!(c >= 0) || !Number.isFinite(c)) throw new Error(`knapsack: item ${i} has cost ${c}`);
  });
}

export function solveKnapsack(p: KnapsackProblem, opts: KnapsackOptions = {}): KnapsackSolution {
  check(p);
  const o = { ...KNAPSACK_DEFAULTS, ...opts };
  const n = p.items.length;
  const dims = p.capacities.length;
  const selected = new Array<boolean>(n).fill(false);
  // Preprocessing: free items with a value > 0 are always taken; items of value <= 0 never help;
  // an item that alone exceeds a capacity never fits.
  const free: number[] = [];
  const cand: number[] = [];
  for (let i = 0; i < n; i++) {
    const it = p.items[i]!;
    if (it.value <= 0) continue;
    if (it.costs.every((c) => c === 0)) free.push(i);
    else if (fits(new Array<number>(dims).fill(0), it.costs, p.capacities)) cand.push(i);
  }
  for (const i of free) selected[i] = true;
  const base = free.reduce((a, i) => a + p.items[i]!.value, 0);
  const finish = (method: KnapsackMethod, bound: number, exact: boolean, nodes: number): KnapsackSolution => {
    const costs = new Array<number>(dims).fill(0);
    let value = 0;
    selected.forEach((s, i) => {
      if (!s) return;
      value += p.items[i]!.value;
      for (let d = 0; d < dims; d++) costs[d]! += p.items[i]!.costs[d]!;
    });
    const b = exact ? value : Math.max(bound, value);
    return { selected, value, costs, bound: b, gap: exact || b <= 0 ? 0 : (b - value) / b, exact, method, nodes };
  };
  if (cand.length === 0) return finish('trivial', base, true, 0);

  // Dimensions no candidate can fill are dropped from the search.
  const active: number[] = [];
  for (let d = 0; d < dims; d++) {
    const total = cand.reduce((a, i) => a + p.items[i]!.costs[d]!, 0);
    if (total > p.capacities[d]! * (1 + EPS) + EPS) active.push(d);
  }
  if (active.length === 0) {
    for (const i of cand) selected[i] = true;
    return finish('trivial', base, true, 0);
  }
  const caps = active.map((d) => p.capacities[d]!);
  const costs = cand.map((i) => active.map((d) => p.items[i]!.costs[d]!));
  const values = cand.map((i) => p.items[i]!.value);

  // Dynamic programming over integer costs.
  const integral = caps.every(Number.isInteger) && costs.every((c) => c.every(Number.isInteger));
  if (integral) {
    let states = 1;
    for (const c of caps) states *= c + 1;
    if (states * cand.length <= o.dpLimit) {
      const pick = dp(values, costs, caps);
      pick.forEach((s, k) => (selected[cand[k]!] = s));
      return finish('dp', 0, true, 0);
    }
  }

  // A budget that binds in one dimension only (say DSPs, with a LUT budget to spare): the problem
  // restricted to that dimension is a relaxation, so its exact (DP) optimum, if it also fits the
  // other capacities, is the optimum of the whole problem.
  if (active.length > 1) {
    for (let d = 0; d < active.length; d++) {
      const cd = costs.map((c) => [c[d]!]);
      // integer costs fill at most the integer part of a fractional capacity (dsp=25% of 3894)
      const cap = Math.floor(caps[d]! + EPS);
      if (!cd.every((c) => Number.isInteger(c[0]!)) || (cap + 1) * cand.length > o.dpLimit) continue;
      const pick = dp(values, cd, [cap]);
      const used = caps.map((_, e) => pick.reduce((a, sel, k) => (sel ? a + costs[k]![e]! : a), 0));
      if (!used.every((u, e) => u <= caps[e]! * (1 + EPS) + EPS)) continue;
      pick.forEach((sel, k) => (selected[cand[k]!] = sel));
      return finish('dp', 0, true, 0);
    }
  }

  const bb = branchAndBound(values, costs, caps, cand.length > o.maxItems ? 0 : o.maxNodes);
  bb.pick.forEach((s, k) => (selected[cand[k]!] = s));
  return finish(bb.exact ? 'branch-and-bound' : 'greedy', base + bb.bound, bb.exact, bb.nodes);
}

/** 0/1 knapsack by dynamic programming over the mixed-radix index of the used capacities. */
function dp(values: readonly number[], costs: readonly (readonly number[])[], caps: readonly number[]): boolean[] {
  const n = values.length;
  const dims = caps.length;
  const radix: number[] = [];
  let states = 1;
  for (const c of caps) {
    radix.push(states);
    states *= c + 1;
  }
  // coordinate of each state in each dimension, to check that an item fits below it
  const coord = caps.map((c, d) => {
    const a = new Int32Array(states);
    for (let s = 0; s < states; s++) a[s] = Math.floor(s / radix[d]!) % (c + 1);
    return a;
  });
  const best = new Float64Array(states);
  const keep = new Uint8Array(Math.ceil((n * states) / 8));
  for (let i = 0; i < n; i++) {
    const cost = costs[i]!;
    let off = 0;
    for (let d = 0; d < dims; d++) off += cost[d]! * radix[d]!;
    const v = values[i]!;
    const row = i * states;
    for (let s = states - 1; s >= off; s--) {
      let ok = true;
      for (let d = 0; d < dims; d++) if (coord[d]![s]! < cost[d]!) { ok = false; break; }
      if (!ok) continue;
      const t = best[s - off]! + v;
      if (t > best[s]!) {
        best[s] = t;
        const bit = row + s;
        keep[bit >> 3]! |= 1 << (bit & 7);
      }
    }
  }
  const pick = new Array<boolean>(n).fill(false);
  let s = states - 1;
  for (let i = n - 1; i >= 0; i--) {
    const bit = i * states + s;
    if (keep[bit >> 3]! & (1 << (bit & 7))) {
      pick[i] = true;
      for (let d = 0; d < dims; d++) s -= costs[i]![d]! * radix[d]!;
    }
  }
  return pick;
}

interface BBResult {
  pick: boolean[];
  bound: number;
  exact: boolean;
  nodes: number;
}

function branchAndBound(values: readonly number[], costs: readonly (readonly number[])[], caps: readonly number[], maxNodes: number): BBResult {
  const n = values.length;
  const dims = caps.length;
  // Surrogate weights: candidate multipliers are each dimension alone and all of them folded by
  // 1/capacity; the one with the smallest root LP bound is the tightest relaxation and orders the
  // search. (A zero capacity was preprocessed away for every item with a cost in it.)
  const fold = caps.map((c) => (c > 0 ? 1 / c : 0));
  const candidates = [fold, ...caps.map((c, d) => caps.map((_, e) => (e === d && c > 0 ? 1 / c : 0)))];
  const lpRoot = (lam: readonly number[]): { bound: number; order: number[]; sw: number[] } => {
    const sw = costs.map((c) => c.reduce((a, x, d) => a + x * lam[d]!, 0));
    const order = [...values.keys()].sort((a, b) => {
      const ea = sw[a]! > 0 ? values[a]! / sw[a]! : Infinity;
      const eb = sw[b]! > 0 ? values[b]! / sw[b]! : Infinity;
      return eb - ea || values[b]! - values[a]! || a - b;
    });
    let room = lam.reduce((a, l, d) => a + l * caps[d]!, 0);
    let bound = 0;
    for (const i of order) {
      if (sw[i]! <= room) {
        room -= sw[i]!;
        bound += values[i]!;
      } else {
        bound += (values[i]! * room) / sw[i]!;
        break;
      }
    }
    return { bound, order, sw };
  };
  const roots = candidates.map(lpRoot);
  let chosen = 0;
  roots.forEach((r, k) => {
    if (r.bound < roots[chosen]!.bound) chosen = k;
  });
  const lambda = candidates[chosen]!;
  const { order, sw } = roots[chosen]!;
  const V = order.map((i) => values[i]!);
  const W = order.map((i) => sw[i]!);
  const C = order.map((i) => costs[i]!);
  // class of identical cost vectors
  const keyOf = new Map<string, number>();
  const cls = C.map((c) => {
    const k = c.join(',');
    let id = keyOf.get(k);
    if (id === undefined) keyOf.set(k, (id = keyOf.size));
    return id;
  });
  const closed = new Uint8Array(keyOf.size);
  const capS = lambda.reduce((a, l, d) => a + l * caps[d]!, 0);

  /** LP bound of the surrogate problem over items k.. with surrogate room `room`. */
  const lpBound = (k: number, room: number): number => {
    let b = 0;
    for (let j = k; j < n; j++) {
      if (closed[cls[j]!]) continue;
      if (W[j]! <= room) {
        room -= W[j]!;
        b += V[j]!;
      } else {
        b += (V[j]! * room) / W[j]!;
        break;
      }
    }
    return b;
  };
  const rootBound = Math.min(...roots.map((r) => r.bound));

  // greedy: in each candidate order, take whatever fits; the best fill is the first incumbent
  // (kept in the search order's positions)
  const pos = new Int32Array(n);
  order.forEach((i, j) => (pos[i] = j));
  let greedy = new Array<boolean>(n).fill(false);
  let bestValue = -1;
  for (const r of roots) {
    const used = new Array<number>(dims).fill(0);
    const pick = new Array<boolean>(n).fill(false);
    let v = 0;
    for (const i of r.order) {
      if (fits(used, costs[i]!, caps)) {
        pick[pos[i]!] = true;
        v += values[i]!;
        for (let d = 0; d < dims; d++) used[d]! += costs[i]![d]!;
      }
    }
    if (v > bestValue) {
      bestValue = v;
      greedy = pick;
    }
  }
  let best = greedy.slice();
  let nodes = 0;
  let exhausted = false;
  if (maxNodes > 0) {
    // Iterative depth-first search (an explicit stack: 10,000 levels overflow the JS call stack).
    // Per level: phase 0 bounds and tries to take item k, phase 1 undoes that and skips item k
    // (closing its cost class), phase 2 reopens the class and returns.
    const cur = new Array<boolean>(n).fill(false);
    const u = new Array<number>(dims).fill(0);
    const ks = new Int32Array(n + 1);
    const phase = new Uint8Array(n + 1);
    let depth = 0;
    let value = 0;
    let roomS = capS;
    while (depth >= 0) {
      let k = ks[depth]!;
      if (phase[depth] === 0) {
        if (++nodes > maxNodes) {
          exhausted = true;
          break;
        }
        while (k < n && closed[cls[k]!]) k++;
        ks[depth] = k;
        if (k === n) {
          if (value > bestValue) {
            bestValue = value;
            best = cur.slice();
          }
          depth--;
          continue;
        }
        // the bound must beat the incumbent by more than rounding noise
        if (value + lpBound(k, roomS) <= bestValue * (1 + 1e-12) + 1e-12) {
          depth--;
          continue;
        }
        phase[depth] = 1;
        if (fits(u, C[k]!, caps)) {
          cur[k] = true;
          for (let d = 0; d < dims; d++) u[d]! += C[k]![d]!;
          value += V[k]!;
          roomS -= W[k]!;
          depth++;
          ks[depth] = k + 1;
          phase[depth] = 0;
        }
        continue;
      }
      if (phase[depth] === 1) {
        if (cur[k]) {
          if (value > bestValue) {
            bestValue = value;
            best = cur.slice();
          }
          cur[k] = false;
          for (let d = 0; d < dims; d++) u[d]! -= C[k]![d]!;
          value -= V[k]!;
          roomS += W[k]!;
        }
        // skipping item k closes its class: later items of the same costs are worth no more
        closed[cls[k]!] = 1;
        phase[depth] = 2;
        depth++;
        ks[depth] = k + 1;
        phase[depth] = 0;
        continue;
      }
      closed[cls[k]!] = 0;
      depth--;
    }
  }
  const exact = maxNodes > 0 && !exhausted;
  const pick = new Array<boolean>(n).fill(false);
  best.forEach((s, j) => (pick[order[j]!] = s));
  return { pick, bound: exact ? bestValue : rootBound, exact, nodes };
}
