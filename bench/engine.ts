import fc from 'fast-check';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEngine } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../generator/engine/config.js';
import { loadModel } from '../src/frontend/load.js';
import { importOnnx } from '../src/frontend/onnx/import.js';
import type { Model } from '../src/ir/types.js';
import { csimEngine } from '../src/sim/engine-csim.js';
import { simulateEngine, type EngineSampleResult } from '../src/sim/engine-sim.js';
import { sharedData, sharedModel } from '../test/fixtures.js';
import { engineCase, runEngineCase } from '../test/support/engine-property.js';
import { mulberry32 } from '../test/support/prng.js';
import { makeResnet18 } from '../test/support/resnet18.js';
import { printRows, time } from './common.js';

/**
 * Engine figures of issue 4: PE utilization per conv layer when DRAM is not the bottleneck,
 * Verilator speed, one full ResNet-18-shaped 3x64x64 inference in simulation, time to generate
 * a design, and the RTL == golden property at a larger count than CI runs.
 */

/** 8x8 PEs; a 64-byte bus at 64 bytes per cycle keeps DRAM off the critical path. */
const FAST_DRAM: EngineConfig = { ...DEFAULT_ENGINE_CONFIG, busBytes: 64, dramBytesPerCycle: 64 };

function convUtilization(model: Model, s: EngineSampleResult, c: EngineConfig): [string, string][] {
  const pes = c.peOc * c.peIc;
  return s.layers
    .filter((l) => l.op === 'conv' && l.cycles > 0)
    .map((l) => {
      const layer = model.layers[l.index]!;
      const channels = layer.op === 'conv' ? `${layer.weights.length / (layer.kernel[0] * layer.kernel[1] * layer.bias.length) * layer.groups}->${layer.bias.length}${layer.groups > 1 ? ` g${layer.groups}` : ''}` : '';
      return [`  ${l.name} (${channels})`, `${(l.macs / (pes * l.cycles)).toFixed(3)}  (${l.cycles} cycles)`] as [string, string];
    });
}

async function resnet18(work: string): Promise<void> {
  const size = 64;
  const file = join(work, 'resnet18_64.onnx');
  await writeFile(file, makeResnet18({ height: size, width: size, format: 'qdq', seed: 1 }));
  const { model } = await importOnnx(file);
  const dir = join(work, 'resnet18_64');
  const gen = await time(() => buildEngine(model, FAST_DRAM, dir, undefined, { targets: ['rtl', 'hls'] }));
  const rng = mulberry32(7);
  const input = Float32Array.from({ length: 3 * size * size }, () => rng());
  const cold = await time(() => simulateEngine(dir, [input]));
  const warm = await time(() => simulateEngine(dir, [input]));
  const s = warm.value.samples[0]!;
  // The HLS kernel of the same build in C simulation (g++ -O2), same comparisons and byte checks.
  const csimCold = await time(() => csimEngine(dir, [input]));
  const csimWarm = await time(() => csimEngine(dir, [input]));
  const c = csimWarm.value.samples[0]!;
  printRows(`ResNet-18-shaped 3x${size}x${size} on the engine (8x8 PEs, 64-byte bus, 64 B/cycle, latency 20)`, [
    ['generate the design (gatec build)', `${gen.ms.toFixed(0)} ms (goal < 2000 ms)`],
    ['bit-exact with the golden model', `${s.match}`],
    ['cycles', `${s.cycles} (${(s.cycles / FAST_DRAM.clockMhz / 1000).toFixed(2)} ms at ${FAST_DRAM.clockMhz} MHz)`],
    ['overall PE utilization', `${(s.macs.dense / (64 * s.cycles)).toFixed(3)}`],
    ['one inference in simulation, cold (Verilator build included)', `${(cold.ms / 1000).toFixed(1)} s`],
    ['one inference in simulation, warm', `${(warm.ms / 1000).toFixed(1)} s (goal < 60 s)`],
    ['Verilator speed (warm, golden comparison included)', `${(s.cycles / (warm.ms / 1000) / 1000).toFixed(0)} kcycles/s`],
    ['HLS C simulation bit-exact, DRAM bytes as predicted', `${c.match}`],
    ['one inference in C simulation, cold (g++ build included)', `${(csimCold.ms / 1000).toFixed(1)} s`],
    ['one inference in C simulation, warm', `${(csimWarm.ms / 1000).toFixed(1)} s (${(warm.ms / csimWarm.ms).toFixed(1)}x faster than Verilator)`],
    ['PE utilization per conv layer', ''],
    ...convUtilization(model, s, FAST_DRAM),
  ]);
}

async function tinyres(): Promise<void> {
  const model = await loadModel(sharedModel('tinyres_qdq'));
  const dir = await mkdtemp(join(tmpdir(), 'gatec-bench-tinyres-'));
  await buildEngine(model, FAST_DRAM, dir);
  const sim = await simulateEngine(dir, sharedData('tinyres').inputs.slice(0, 1));
  const s = sim.samples[0]!;
  printRows('tinyres_qdq on the engine (same configuration)', [
    ['bit-exact with the golden model', `${s.match}`],
    ['cycles', `${s.cycles}`],
    ['PE utilization per conv layer', ''],
    ...convUtilization(model, s, FAST_DRAM),
  ]);
}

async function property(work: string): Promise<void> {
  const runs = Number(process.env['GATEC_BENCH_PROPERTY_RUNS'] ?? 100);
  let matched = 0;
  let rejected = 0;
  let n = 0;
  const t = await time(() =>
    fc.assert(
      fc.asyncProperty(engineCase, async (c) => {
        const o = await runEngineCase(c, work, `p${n++}`);
        if (o.kind === 'match') matched++;
        else rejected++;
      }),
      { numRuns: runs },
    ),
  );
  printRows(`RTL == golden on random networks and configurations (fast-check, ${runs} cases)`, [
    ['bit-exact', `${matched}`],
    ['rejected by the compiler as unsupported for the configuration', `${rejected}`],
    ['wall time', `${(t.ms / 1000).toFixed(1)} s`],
  ]);
}

export async function benchEngine(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'gatec-bench-engine-'));
  await resnet18(work);
  await tinyres();
  await property(work);
}
