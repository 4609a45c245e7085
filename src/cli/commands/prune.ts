import { DEFAULT_ENGINE_CONFIG } from '../../../generator/engine/config.js';
import { badInput } from '../../errors.js';
import { checkInputShape, readInputData, type InputData } from '../../frontend/data.js';
import { loadModel } from '../../frontend/load.js';
import { argmax, runGolden } from '../../golden/run.js';
import { writeModel } from '../../ir/serialize.js';
import type { Model } from '../../ir/types.js';
import { validateModel } from '../../ir/validate.js';
import { readImportance } from '../../passes/prune-importance.js';
import { BUDGET_KEYS, parseBudget, prune, type PruneArch, type PruneResult, type Score, type StructureKind } from '../../passes/prune.js';
import { writeFileAtomic } from '../atomic-write.js';
import { table } from '../format.js';

export interface PruneCliOptions {
  arch: string;
  budget: string;
  structure?: string;
  calib: string;
  importance?: string;
  score?: string;
  reuse?: string;
  output?: string;
  maskOut?: string;
  json?: boolean;
}

const ARCHS = ['spatial', 'engine'];
const STRUCTURES = ['pattern', 'filter', 'block'];

function accuracy(m: Model, data: InputData): number {
  let ok = 0;
  data.inputs.forEach((x, i) => {
    if (argmax(runGolden(m, x).outputsInt[0]!) === data.labels![i]) ok++;
  });
  return ok / data.inputs.length;
}

/** The pruning mask per layer in the original layout (training/mlp16.py finetune reads it). */
function maskFile(model: string, r: PruneResult) {
  return {
    format: 'gatec-prune-mask',
    version: 1,
    model,
    layers: r.masked.layers.flatMap((l) =>
      (l.op === 'conv' || l.op === 'fc') && l.pruneMask ? [{ name: l.name, op: l.op, weights: l.weights.length, mask: Array.from(l.pruneMask) }] : [],
    ),
  };
}

const fmt = (x: number): string => (Number.isNaN(x) ? '-' : Number.isInteger(x) ? String(x) : x.toFixed(2));

export async function pruneCommand(path: string, opts: PruneCliOptions): Promise<void> {
  if (!ARCHS.includes(opts.arch)) throw badInput('--arch', `unknown architecture '${opts.arch}' (expected ${ARCHS.join(' or ')})`);
  const arch = opts.arch as PruneArch;
  const structure = (opts.structure ?? (arch === 'spatial' ? 'pattern' : 'filter')) as StructureKind;
  if (!STRUCTURES.includes(structure)) throw badInput('--structure', `unknown structure '${structure}' (expected ${STRUCTURES.join(', ')})`);
  const score = (opts.score ?? 'l1') as Score;
  if (score !== 'l1' && score !== 'l2') throw badInput('--score', `unknown score '${opts.score}' (expected l1 or l2)`);
  const reuse = Number(opts.reuse ?? '1');
  if (!Number.isInteger(reuse) || reuse < 1) throw badInput('--reuse', `'${opts.reuse}' is not a positive integer`);
  const budget = parseBudget(opts.budget);
  const data = await readInputData(opts.calib);
  if (!data.labels) throw badInput(opts.calib, 'gatec prune needs "labels" (one class per input) to report top-1 accuracy');
  const model = await loadModel(path, data);
  checkInputShape(data, model.tensors.find((t) => t.name === model.inputs[0])!.shape, path);
  const importance = opts.importance ? await readImportance(opts.importance, model) : undefined;
  const t0 = performance.now();
  const r = prune(model, { arch, structure, budget, score, reuse, engine: { ...DEFAULT_ENGINE_CONFIG }, where: path, ...(importance ? { importance } : {}) });
  const ms = performance.now() - t0;
  for (const b of budget) {
    if (r.after[b.key] > r.budget[b.key]! + 1e-9) {
      throw badInput('--budget', `${b.key}=${b.value}${b.percent ? '%' : ''} cannot be met: the best selection found needs ${fmt(r.after[b.key])}`);
    }
  }
  validateModel(r.model, opts.output ?? path);
  const accBefore = accuracy(model, data);
  const accAfter = accuracy(r.model, data);
  if (opts.output) await writeFileAtomic(opts.output, writeModel(r.model));
  if (opts.maskOut) await writeFileAtomic(opts.maskOut, JSON.stringify(maskFile(path, r)) + '\n');
  const kept = r.kept.filter(Boolean).length;
  const s = r.solution;
  const report = {
    model: path,
    arch,
    structure,
    score: importance ? 'importance' : score,
    ...(arch === 'spatial' ? { reuse } : { peOc: DEFAULT_ENGINE_CONFIG.peOc }),
    budget: r.budget,
    structures: { total: r.structures.length, kept, pruned: r.structures.length - kept },
    layers: r.layers,
    resources: { before: r.before, after: r.after, knapsack: r.knapsack, base: r.base, fixed: r.fixed },
    accuracy: { samples: data.inputs.length, before: accBefore, after: accAfter },
    solver: { method: s.method, exact: s.exact, gap: s.gap, value: s.value, bound: s.bound, nodes: s.nodes, rounds: r.rounds, ms: Math.round(ms) },
    output: opts.output ?? null,
    maskOut: opts.maskOut ?? null,
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v)) + '\n');
    return;
  }
  console.log(`${arch} ${structure} pruning of ${path}: ${kept}/${r.structures.length} structures kept`);
  console.log(table(['layer', 'structures', 'kept', 'pruned'], r.layers.map((l) => [l.layer, l.structures, l.kept, l.structures - l.kept])));
  console.log('');
  console.log(
    table(
      ['resource', 'before', 'after', 'knapsack', 'budget'],
      BUDGET_KEYS.map((k) => [k, fmt(r.before[k]), fmt(r.after[k]), `${fmt(r.knapsack[k])} of ${fmt(r.base[k])}`, r.budget[k] !== undefined ? fmt(r.budget[k]) : '-']),
    ),
  );
  if (arch === 'spatial') {
    console.log("knapsack: its linear model (every kept pattern a multiplier of its own), which the budget and its percentages are of; after: as synthesized (equal products shared, unread channels removed)");
  }
  console.log(
    `solver: ${s.method}, ${s.exact ? 'exact' : `optimality gap ${(100 * s.gap).toFixed(3)}% (bound ${s.bound.toFixed(4)})`}, ${s.nodes} nodes, ${Math.round(ms)} ms`,
  );
  console.log(`accuracy (${data.inputs.length} samples): ${(100 * accBefore).toFixed(1)}% -> ${(100 * accAfter).toFixed(1)}%`);
  if (opts.output) console.log(`wrote ${opts.output}`);
  if (opts.maskOut) console.log(`wrote ${opts.maskOut}`);
}
