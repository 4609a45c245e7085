import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEngine } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../generator/engine/config.js';
import { readInputData } from '../src/frontend/data.js';
import { loadModel } from '../src/frontend/load.js';
import { runGolden } from '../src/golden/run.js';
import type { Model } from '../src/ir/types.js';
import { searchGating } from '../src/passes/gate.js';
import { simulateEngine } from '../src/sim/engine-sim.js';
import { OWN } from '../test/fixtures.js';
import { printRows, time } from './common.js';

/**
 * Channel gating on the engine (issue 6): the ungated and the gated network run the same test
 * samples in Verilator on the same PE array, compute-bound (a 64-byte bus at 64 DRAM bytes per
 * cycle: the bus caps the DRAM rate at one beat per cycle, so a narrower bus is not), and per
 * gated conv the measured speedup (dense cycles / gated cycles) stands next to the theoretical
 * MAC reduction of the golden model on those samples. The trained Fashion-MNIST CGNet
 * (fixtures/fashion_gated_*) when present, else MNIST gated after training by `gatec gate`.
 * GATEC_GATING_PE=OCxIC picks the PE array (default 8x8), GATEC_GATING_BUS the bus width in bytes
 * (default 64; DRAM runs at one beat per cycle), GATEC_GATING_SAMPLES the samples (20).
 */
const SAMPLES = Number(process.env['GATEC_GATING_SAMPLES'] ?? 20);

interface BenchModels {
  label: string;
  /** the gated network's graph without its gating: same weights, the dense engine schedule */
  dense: Model;
  gated: Model;
  /** the accuracy reference: the network trained without gating (the gated graph itself when none) */
  baseline: Model;
  test: Awaited<ReturnType<typeof readInputData>>;
}

async function models(): Promise<BenchModels> {
  const onnx = join(OWN, 'fashion_gated_fp32.onnx');
  const sidecar = join(OWN, 'fashion_gating.json');
  if (existsSync(onnx) && existsSync(sidecar)) {
    const calib = await readInputData(join(OWN, 'fashion_calib.json'));
    const dense = await loadModel(onnx, calib);
    return {
      label: 'Fashion-MNIST CGNet (trained with gating)',
      dense,
      gated: await loadModel(onnx, calib, sidecar),
      baseline: await loadModel(join(OWN, 'fashion_plain_fp32.onnx'), calib),
      test: await readInputData(join(OWN, 'fashion_test.json')),
    };
  }
  const dense = await loadModel(join(OWN, 'mnist_plain_qdq.onnx'));
  const calib = await readInputData(join(OWN, 'mnist_calib.json'));
  const search = searchGating(dense, { inputs: calib.inputs, labels: calib.labels! }, { base: 0.25, targetSkip: 0.8, maxDrop: 2 }, 'mnist_plain_qdq.onnx');
  return { label: 'MNIST plain CNN, gatec gate (base 0.25, target skip 0.8, 2 points)', dense, gated: search.model, baseline: dense, test: await readInputData(join(OWN, 'mnist_test.json')) };
}

export async function benchGating(): Promise<void> {
  const { label, dense, gated, baseline, test } = await models();
  const [oc, ic] = (process.env['GATEC_GATING_PE'] ?? '8x8').split('x').map(Number) as [number, number];
  const bus = Number(process.env['GATEC_GATING_BUS'] ?? 64);
  const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, peOc: oc, peIc: ic, busBytes: bus, dramBytesPerCycle: bus };
  const work = await mkdtemp(join(tmpdir(), 'gatec-bench-gating-'));
  const dd = await buildEngine(dense, { ...config }, join(work, 'dense'));
  const gd = await buildEngine(gated, { ...config }, join(work, 'gated'));
  const inputs = test.inputs.slice(0, SAMPLES);
  const d = await time(() => simulateEngine(dd.dir, inputs));
  const g = await time(() => simulateEngine(gd.dir, inputs));

  // golden: accuracy on every test sample, MACs of the simulated samples per gated conv
  const labels = test.labels!;
  let accDense = 0;
  let accGated = 0;
  let macsDense = 0;
  let macsExec = 0;
  const perLayer = new Map<string, { dense: number; executed: number; cin: number; cout: number }>();
  test.inputs.forEach((x, s) => {
    const rd = runGolden(baseline, x);
    const rg = runGolden(gated, x);
    if (argmaxOf(rd.outputsInt[0]!) === labels[s]) accDense++;
    if (argmaxOf(rg.outputsInt[0]!) === labels[s]) accGated++;
    if (s >= SAMPLES) return;
    for (const l of rg.gating?.layers ?? []) {
      const e = perLayer.get(l.layer) ?? { dense: 0, executed: 0, cin: l.inputChannels, cout: 0 };
      e.dense += l.macs.dense;
      e.executed += l.macs.executed;
      e.cout = l.outputs.total / 1;
      perLayer.set(l.layer, e);
    }
    macsDense += rg.gating!.total.macs.dense;
    macsExec += rg.gating!.total.macs.executed;
  });
  const sum = (r: typeof d.value, name: string, f: (l: (typeof r.samples)[0]['layers'][0]) => number) =>
    r.samples.reduce((a, s) => a + f(s.layers.find((l) => l.name === name)!), 0);
  const rows: [string, string][] = [
    ['model', label],
    ['engine', `PE ${oc}x${ic}, bus ${config.busBytes} B, DRAM ${config.dramBytesPerCycle} B/cycle (one beat per cycle${bus >= 64 ? ', compute-bound' : ''}), ${SAMPLES} samples`],
    ['bit-exact dense / gated', `${d.value.samples.filter((s) => s.match).length}/${SAMPLES} / ${g.value.samples.filter((s) => s.match).length}/${SAMPLES}`],
    ['Verilator time dense / gated', `${(d.ms / 1000).toFixed(1)} s / ${(g.ms / 1000).toFixed(1)} s`],
    ['layer (Cin)', 'dense cycles  gated cycles  speedup  MAC reduction  ratio  gated-on (measured = predicted)'],
  ];
  for (const [name, m] of perLayer) {
    const dc = sum(d.value, name, (l) => l.cycles) / SAMPLES;
    const gc = sum(g.value, name, (l) => l.cycles) / SAMPLES;
    const on = sum(g.value, name, (l) => l.gatedOn);
    const onPred = sum(g.value, name, (l) => l.predicted.gatedOn);
    const pc = sum(g.value, name, (l) => l.predicted.cycles) / SAMPLES;
    const speedup = dc / gc;
    const red = m.dense / m.executed;
    rows.push([
      `  ${name} (${m.cin})`,
      `${dc.toFixed(0).padStart(12)}  ${gc.toFixed(0).padStart(12)}  ${speedup.toFixed(2).padStart(6)}x  ${red.toFixed(2).padStart(12)}x  ${(speedup / red).toFixed(2)}  ${on} ${on === onPred ? '=' : '!='} ${onPred}, cycles predicted ${pc.toFixed(0)}`,
    ]);
  }
  const bytes = (r: typeof d.value) => r.samples.reduce((a, s) => a + s.dramBytes.read + s.dramBytes.write, 0) / SAMPLES;
  const cyc = (r: typeof d.value) => r.samples.reduce((a, s) => a + s.cycles, 0) / SAMPLES;
  rows.push(
    [`top-1 (golden int8, ${test.inputs.length} test samples)`, `ungated baseline ${((100 * accDense) / test.inputs.length).toFixed(1)}%, gated ${((100 * accGated) / test.inputs.length).toFixed(1)}%`],
    ['gated convs: MACs per sample', `${(macsDense / SAMPLES).toFixed(0)} -> ${(macsExec / SAMPLES).toFixed(0)} (${(macsDense / macsExec).toFixed(2)}x)`],
    ['DRAM bytes per inference (measured)', `${bytes(d.value).toFixed(0)} -> ${bytes(g.value).toFixed(0)} (${(100 * (1 - bytes(g.value) / bytes(d.value))).toFixed(1)}% less)`],
    ['whole network cycles', `${cyc(d.value).toFixed(0)} -> ${cyc(g.value).toFixed(0)} (${(cyc(d.value) / cyc(g.value)).toFixed(2)}x)`],
  );
  printRows('channel gating: ungated vs gated engine design, same PE array', rows);
}

function argmaxOf(v: Int8Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}
