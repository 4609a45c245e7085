import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEngine } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { readInputData } from '../src/frontend/data.js';
import { loadModel } from '../src/frontend/load.js';
import { searchZeroBlocks } from '../src/passes/zero-block.js';
import { simulateEngine, type EngineSampleResult } from '../src/sim/engine-sim.js';
import { OWN } from '../test/fixtures.js';
import { printRows, time } from './common.js';

/**
 * Zero-block skipping (issue 5) on the Zebra-regularized MNIST fixture: gatec sparsity picks
 * engine-skippable blocks and epsilons on the calibration data, then the dense and the annotated
 * design run the same test samples side by side in Verilator, at the default DRAM bandwidth and
 * memory-bound (1 byte per cycle): activation traffic, accuracy, cycles per layer and the speedup
 * next to the ideal ones (the ratio of bytes moved; for convs, the ratio of MACs executed).
 */
const SAMPLES = 20;

function activationBytes(s: EngineSampleResult, fixed: number): number {
  return s.dramBytes.read + s.dramBytes.write - fixed;
}

export async function benchZeroBlocks(): Promise<void> {
  const model = await loadModel(join(OWN, 'mnist_zebra_qdq.onnx'));
  const calib = await readInputData(join(OWN, 'mnist_calib.json'));
  const test = await readInputData(join(OWN, 'mnist_test.json'));
  const search = await time(() =>
    searchZeroBlocks(model, { inputs: calib.inputs, labels: calib.labels! }, { maxDrop: 1, blocks: [[8, 1, 2], [8, 2, 2], [8, 4, 4]], epsilons: [1, 2, 4, 8] }),
  );
  const work = await mkdtemp(join(tmpdir(), 'gatec-bench-zb-'));
  const dense = await buildEngine(model, { ...DEFAULT_ENGINE_CONFIG }, join(work, 'mnist_dense'));
  const skip = await buildEngine(search.value.model, { ...DEFAULT_ENGINE_CONFIG }, join(work, 'mnist_zb'));
  // program, weights and parameters are read once per inference in both designs
  const fixed = (d: typeof dense) => d.compilation.image.length;
  const inputs = test.inputs.slice(0, SAMPLES);
  const labels = test.labels!.slice(0, SAMPLES);
  const rows: [string, string][] = [
    ['annotated tensors', search.value.choices.flatMap((c) => (c.config ? [`${c.tensor} ${c.config.block.join('x')} eps ${c.config.epsilon}`] : [])).join('; ')],
    ['gatec sparsity search (200 calibration samples)', `${(search.ms / 1000).toFixed(1)} s`],
  ];
  for (const bw of [16, 1]) {
    const d = await simulateEngine(dense.dir, inputs, { dramBytesPerCycle: bw });
    const z = await simulateEngine(skip.dir, inputs, { dramBytesPerCycle: bw });
    const acc = (r: typeof d) => r.samples.filter((s, i) => s.top1 === labels[i]).length;
    const s0 = d.samples[0]!;
    const z0 = z.samples[0]!;
    const dAct = activationBytes(s0, fixed(dense));
    const zAct = activationBytes(z0, fixed(skip));
    rows.push(
      [`DRAM ${bw} B/cycle: bit-exact dense / skipping`, `${d.samples.filter((s) => s.match).length}/${SAMPLES} / ${z.samples.filter((s) => s.match).length}/${SAMPLES}`],
      [`  top-1 on ${SAMPLES} test samples, dense / skipping`, `${acc(d)} / ${acc(z)}`],
      [`  activation DRAM bytes, sample 0`, `${dAct} -> ${zAct} (${(100 * (1 - zAct / dAct)).toFixed(1)}% less)`],
      [`  cycles, sample 0`, `${s0.cycles} -> ${z0.cycles} (${(s0.cycles / z0.cycles).toFixed(2)}x)`],
    );
    s0.layers.forEach((l, i) => {
      const zl = z0.layers[i]!;
      if (l.cycles === 0) return;
      const ideal = (l.dramRead + l.dramWrite) / Math.max(1, zl.dramRead + zl.dramWrite);
      // a conv's compute-bound ideal: the MACs it no longer executes
      const macIdeal = zl.macsSkipped > 0 ? `, ${(zl.macs / (zl.macs - zl.macsSkipped)).toFixed(2)}x ideal (MACs, ${zl.zeroTaps} taps skipped)` : '';
      rows.push([`    ${l.name}`, `${l.cycles} -> ${zl.cycles} cycles: ${(l.cycles / zl.cycles).toFixed(2)}x measured, ${ideal.toFixed(2)}x ideal (bytes)${macIdeal}`]);
    });
  }
  printRows('zero-block skipping: Zebra MNIST, dense vs annotated engine design', rows);
}
