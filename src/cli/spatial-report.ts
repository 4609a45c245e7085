import { checkInputShape, readInputData } from '../frontend/data.js';
import { layerMacs, tensorShapes } from '../golden/macs.js';
import { openSpatialDir, runSpatial, type SpatialSimResult } from '../sim/spatial-sim.js';
import { GatecError } from '../errors.js';

/** `gatec sim` / `gatec csim` of a spatial build: per-sample table or --json, exit 1 on any mismatch. */
export async function spatialRunCommand(hwDir: string, opts: { inputs: string; json?: boolean }, backend: 'sim' | 'csim'): Promise<void> {
  const data = await readInputData(opts.inputs);
  const d = await openSpatialDir(hwDir);
  checkInputShape(data, d.model.tensors.find((t) => t.name === d.model.inputs[0])!.shape, hwDir);
  const result = await runSpatial(d, data.inputs, backend);
  if (opts.json) printJson(result, data.labels);
  else reportSpatialRun(hwDir, result, data.labels);
  const bad = result.samples.findIndex((s) => !s.match);
  if (bad >= 0 || result.timeout) {
    const s = result.samples[bad];
    const why = s?.mismatch
      ? `output '${s.mismatch.tensor}' element ${s.mismatch.index}: expected ${s.mismatch.expected}, got ${s.mismatch.actual} (${s.mismatch.count} elements differ)`
      : 'no output before the cycle limit';
    throw new GatecError(`${hwDir}: sample ${Math.max(bad, 0)} does not match the golden model: ${why}`);
  }
}

function macs(r: SpatialSimResult): number {
  const shapes = tensorShapes(r.dir.model);
  return r.dir.model.layers.reduce((a, l) => a + layerMacs(l, shapes), 0);
}

function printJson(r: SpatialSimResult, labels: number[] | undefined): void {
  const correct = labels ? r.samples.filter((s, i) => s.top1 === labels[i]).length : undefined;
  const m = macs(r);
  const out = {
    backend: r.backend,
    arch: 'spatial',
    outputs: r.samples.map((s) => Array.from(s.outputs[0]!)),
    outputsInt: r.samples.map((s) => Array.from(s.outputsInt[0]!)),
    top1: r.samples.map((s) => s.top1),
    ...(labels ? { labels, accuracy: correct! / labels.length } : {}),
    match: r.samples.map((s) => s.match),
    cycles: r.samples.map((s) => (r.backend === 'sim' ? s.latency : 0)),
    dramBytes: r.samples.map(() => ({ read: 0, write: 0 })),
    macs: r.samples.map(() => ({ dense: m, executed: m })),
    latency: { ...(r.measured ? { measured: r.measured.latency } : {}), predicted: r.predicted.latency },
    interval: { ...(r.measured ? { measured: r.measured.interval } : {}), predicted: r.predicted.interval },
    ...(r.timingMatch !== undefined ? { timingMatch: r.timingMatch } : {}),
    resources: r.dir.report.resources,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function reportSpatialRun(hwDir: string, r: SpatialSimResult, labels: number[] | undefined): void {
  const lines: string[] = [];
  lines.push(`${hwDir}: spatial ${r.backend === 'sim' ? 'RTL (Verilator)' : 'HLS C simulation (g++)'}, ${r.samples.length} samples streamed back to back`);
  lines.push('sample  top1  label  match' + (r.backend === 'sim' ? '  first beat  last beat  latency' : ''));
  r.samples.forEach((s, i) => {
    const lab = labels?.[i] ?? '-';
    lines.push(
      `${String(i).padEnd(6)}  ${String(s.top1).padStart(4)}  ${String(lab).padStart(5)}  ${(s.match ? 'yes' : 'NO').padStart(5)}` +
        (r.backend === 'sim' ? `  ${String(s.first).padStart(10)}  ${String(s.last).padStart(9)}  ${String(s.latency).padStart(7)}` : ''),
    );
  });
  const ok = r.samples.filter((s) => s.match).length;
  lines.push(`bit-exact vs golden: ${ok}/${r.samples.length}`);
  if (labels) {
    const c = r.samples.filter((s, i) => s.top1 === labels[i]).length;
    lines.push(`accuracy: ${c}/${labels.length} (${((100 * c) / labels.length).toFixed(1)}%)`);
  }
  if (r.measured) {
    lines.push(`latency: ${r.measured.latency} cycles (predicted ${r.predicted.latency}), interval: ${r.measured.interval} cycles (predicted ${r.predicted.interval})`);
  } else {
    lines.push(`latency: ${r.predicted.latency} cycles, interval: ${r.predicted.interval} cycles (predicted; C simulation has no cycles)`);
  }
  const res = r.dir.report.resources;
  lines.push(`resources (model): ${res.dsp} DSP48E1, ${res.lut} LUT, ${res.ff} FF, ${res.bram18} BRAM18`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
