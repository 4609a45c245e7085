import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSpatial } from '../generator/spatial/build.js';
import { readInputData, type InputData } from '../src/frontend/data.js';
import { loadModel } from '../src/frontend/load.js';
import { argmax, runGolden } from '../src/golden/run.js';
import type { Model } from '../src/ir/types.js';
import { parseBudget, prune } from '../src/passes/prune.js';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { openSpatialDir, runSpatial } from '../src/sim/spatial-sim.js';
import { OWN, sharedData, sharedModel } from '../test/fixtures.js';
import { synthXilinx, type SynthStat } from '../test/support/synth-xilinx.js';
import { time } from './common.js';

/**
 * Spatial architecture figures of issue 8 (GATEC_BENCH=spatial; table in docs/spatial.md): the
 * trained mlp16 (16-64-32-32-5) dense and pruned by the knapsack to 50/25/10% of its DSPs, each
 * built, synthesized by Yosys synth_xilinx (DSP, LUT, FF, BRAM18 against the resource model),
 * simulated in Verilator on test samples (bit-exact, latency and interval against the cycle
 * model), with golden top-1 accuracy before and after pruning; and digits8 dense at reuse 8.
 * Reuse 1 for mlp16: the pruning of docs/pruning.md's table, whose fine-tuned accuracies (trained
 * on the device, training/mlp16.py) the table quotes. A Yosys run of these designs takes minutes on
 * two cores, so results are cached by the RTL's content (Yosys is deterministic).
 */

const MLP_REUSE = 1;
const DIGITS_REUSE = 8;
/**
 * Test samples through Verilator (timing is data-independent; bit-exactness is checked on these).
 * Pruning changes no stage's schedule, so of the pruned designs only the smallest is simulated:
 * a Verilator build of an mlp16 design at reuse 1 takes minutes here.
 */
const SIM_SAMPLES = 20;
/** Fine-tuned int8 accuracy (%) on mlp16_test of the same budgets, docs/pruning.md (training/mlp16.py finetune on the device). */
const FINE_TUNED: Record<string, string> = { 'dsp=50%': '91.0', 'dsp=25%': '92.4', 'dsp=10%': '87.0' };

interface Row {
  design: string;
  kept: string;
  /** the knapsack's linear DSP count (every kept pattern a multiplier), which the budget limits */
  knapsack: string;
  /** fraction of the patterns pruned */
  prunedFrac: number;
  model: { dsp: number; lut: number; ff: number; bram18: number };
  yosys: SynthStat;
  yosysS: number;
  latency: string;
  interval: string;
  sim: string;
  acc: string;
  ft: string;
}

const cacheDir = join(process.env['GATEC_CACHE_DIR'] ?? join(homedir(), '.cache', 'gatec'), 'synth');

/** synthXilinx, cached by the content of the build's RTL files and the top's name. */
async function cachedSynth(dir: string, top: string): Promise<{ stat: SynthStat; s: number }> {
  const files = (await readFile(join(dir, 'files.f'), 'utf8')).trim().split('\n');
  const h = createHash('sha256').update(`synth_xilinx -flatten -noiopad -top ${top}\n`);
  for (const f of files) h.update(f).update(await readFile(join(dir, f)));
  const file = join(cacheDir, `${h.digest('hex').slice(0, 32)}.json`);
  if (existsSync(file)) return { stat: JSON.parse(await readFile(file, 'utf8')) as SynthStat, s: Number.NaN };
  const { value: stat, ms } = await time(() => synthXilinx(dir, top));
  await mkdir(cacheDir, { recursive: true });
  await writeFile(file, JSON.stringify(stat));
  return { stat, s: ms / 1000 };
}

function accuracy(m: Model, data: InputData): number {
  let ok = 0;
  data.inputs.forEach((x, i) => {
    if (argmax(runGolden(m, x).outputsInt[0]!) === data.labels![i]) ok++;
  });
  return (100 * ok) / data.inputs.length;
}

/** Build, synthesize and simulate one design; syntheses of several designs overlap (own processes). */
async function measure(work: string, name: string, model: Model, reuse: number, inputs: ArrayLike<number>[], simulate = true): Promise<Omit<Row, 'design' | 'kept' | 'knapsack' | 'prunedFrac' | 'acc' | 'ft'>> {
  const dir = join(work, name);
  const b = await buildSpatial(model, { default: reuse }, dir, `${name}.gir.json`, ['rtl']);
  const r = b.compilation.resources;
  const synth = cachedSynth(dir, `${name}_top`);
  const sim = simulate ? await runSpatial(await openSpatialDir(dir), inputs, 'sim') : undefined;
  const { stat, s } = await synth;
  const t = b.compilation.timing;
  const m = sim?.measured;
  const mark = (pred: number, got: number | undefined) => (got === undefined ? '' : got === pred ? ' =' : ` (sim ${got})`);
  return {
    model: { dsp: r.dsp, lut: r.lut, ff: r.ff, bram18: r.bram18 },
    yosys: stat,
    yosysS: s,
    latency: `${t.latency}${mark(t.latency, m?.latency)}`,
    interval: `${t.interval}${mark(t.interval, m?.interval)}`,
    sim: sim ? `${sim.samples.filter((x) => x.match).length}/${inputs.length} exact${sim.timingMatch ? '' : ', schedule differs'}` : '-',
  };
}

const pct = (model: number, yosys: number): string => (yosys === 0 ? (model === 0 ? '0%' : '-') : `${(((model - yosys) / yosys) * 100).toFixed(0)}%`);

export async function benchSpatial(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'gatec-bench-spatial-'));
  const mlpFile = join(OWN, 'mlp16_qdq.onnx');
  const test = await readInputData(join(OWN, 'mlp16_test.json'));
  const mlp = await loadModel(mlpFile, await readInputData(join(OWN, 'mlp16_calib.json')));
  const simIn = test.inputs.slice(0, SIM_SAMPLES);
  const dense = accuracy(mlp, test);
  const jobs: (() => Promise<Row>)[] = [];
  const mlpRow = async (design: string, name: string, m: Model, extra: Pick<Row, 'kept' | 'knapsack' | 'prunedFrac' | 'acc' | 'ft'>, simulate = true): Promise<Row> => ({
    design,
    ...extra,
    ...(await measure(work, name, m, MLP_REUSE, simIn, simulate)),
  });
  const base = prune(mlp, { arch: 'spatial', structure: 'pattern', budget: parseBudget('dsp=100%'), score: 'l1', reuse: MLP_REUSE, engine: { ...DEFAULT_ENGINE_CONFIG }, where: mlpFile });
  const all = base.structures.length;
  jobs.push(() => mlpRow('mlp16 dense', `mlp16_r${MLP_REUSE}`, mlp, { kept: `${all}/${all}`, knapsack: `${base.base.dsp}`, prunedFrac: 0, acc: dense.toFixed(1), ft: '-' }));
  for (const p of [50, 25, 10]) {
    const budget = `dsp=${p}%`;
    // As `gatec prune fixtures/mlp16_qdq.onnx --arch spatial --budget dsp=P% --reuse 1` (magnitude scores).
    const r = prune(mlp, { arch: 'spatial', structure: 'pattern', budget: parseBudget(budget), score: 'l1', reuse: MLP_REUSE, engine: { ...DEFAULT_ENGINE_CONFIG }, where: mlpFile });
    const n = r.kept.filter(Boolean).length;
    const acc = `${dense.toFixed(1)} -> ${accuracy(r.model, test).toFixed(1)}`;
    const extra = { kept: `${n}/${r.structures.length}`, knapsack: `${r.knapsack.dsp} (budget ${Math.floor(r.budget.dsp!)})`, prunedFrac: 1 - n / r.structures.length, acc, ft: FINE_TUNED[budget]! };
    jobs.push(() => mlpRow(`mlp16 ${budget}`, `mlp16p${p}`, r.model, extra, p === 10));
  }
  const digits = await loadModel(sharedModel('digits8_qdq'));
  const dData = sharedData('digits8');
  jobs.push(() =>
    measure(work, `digits8_r${DIGITS_REUSE}`, digits, DIGITS_REUSE, dData.inputs.slice(0, 4)).then((x) => ({ design: `digits8_qdq (reuse ${DIGITS_REUSE})`, kept: '-', knapsack: '-', prunedFrac: 0, acc: '-', ft: '-', ...x })),
  );
  // Two designs at a time: Yosys and Verilator are single-threaded, the machine has two cores.
  const rows: Row[] = [];
  for (let i = 0; i < jobs.length; i += 2) rows.push(...(await Promise.all(jobs.slice(i, i + 2).map((j) => j()))));
  console.log(`\n## Spatial architecture: resource model vs Yosys synth_xilinx (mlp16 at reuse ${MLP_REUSE}, pruned by gatec prune --budget dsp=P%)`);
  console.log('| design | patterns kept | DSP knapsack | DSP model / Yosys | LUT model / Yosys | FF model / Yosys | BRAM18 model / Yosys | latency | interval | Verilator | top-1 % (golden, no FT) | top-1 % fine-tuned |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const y = r.yosys;
    console.log(
      `| ${r.design} | ${r.kept} | ${r.knapsack} | ${r.model.dsp} / ${y.dsp} | ${r.model.lut} / ${y.lut} (${pct(r.model.lut, y.lut)}) | ${r.model.ff} / ${y.ff} (${pct(r.model.ff, y.ff)}) | ${r.model.bram18} / ${y.bram18} | ${r.latency} | ${r.interval} | ${r.sim} | ${r.acc} | ${r.ft} |`,
    );
  }
  const d0 = rows[0]!.yosys.dsp;
  console.log(
    `\nPatterns pruned vs DSP48E1 saved by Yosys (of dense ${d0}): ${rows
      .slice(1, 4)
      .map((r) => `${r.design.split(' ')[1]}: ${(100 * r.prunedFrac).toFixed(1)}% pruned, ${(100 * (1 - r.yosys.dsp / d0)).toFixed(1)}% fewer DSPs`)
      .join('; ')}`,
  );
  console.log(`Yosys seconds per design (cached: a run before with the same RTL): ${rows.map((r) => `${r.design}: ${Number.isNaN(r.yosysS) ? 'cached' : r.yosysS.toFixed(0)}`).join(', ')}`);
  console.log('latency/interval: cycle model; "=" where Verilator measured the same on the simulated samples');
}
