import { buildEngine, type EngineTarget } from '../../../generator/engine/build.js';
import { buildSpatial } from '../../../generator/spatial/build.js';
import { reuseFromCli } from '../../../generator/spatial/reuse.js';
import { readJsonFile } from '../../frontend/read-input-file.js';
import { engineConfigFromCli, type EngineCliOptions } from '../../../generator/engine/config.js';
import { badInput } from '../../errors.js';
import { readInputData } from '../../frontend/data.js';
import { loadModel } from '../../frontend/load.js';
import { writeReportHtml } from '../../report/html.js';
import { createProgress, progressCallback } from '../progress.js';

export interface BuildOptions extends EngineCliOptions {
  output: string;
  quiet?: boolean;
  arch?: string;
  target?: string;
  calib?: string;
  /** channel gating sidecar for an .onnx model (docs/gating.md) */
  gating?: string;
  part?: string;
  reuse?: string;
  reusePerLayer?: string;
}

const ARCHS = ['engine', 'spatial'];
const TARGETS = ['rtl', 'hls'];

/** Both architectures have both targets. */
function checkArchTarget(arch: string, target: string): EngineTarget[] {
  if (!ARCHS.includes(arch)) throw badInput('--arch', `unknown architecture '${arch}' (expected ${ARCHS.join(' or ')})`);
  const targets: EngineTarget[] = [];
  for (const t of target.split(',').map((s) => s.trim())) {
    if (!TARGETS.includes(t)) throw badInput('--target', `unknown target '${t}' (expected ${TARGETS.join(' or ')})`);
    if (!targets.includes(t as EngineTarget)) targets.push(t as EngineTarget);
  }
  return targets;
}

export async function buildCommand(path: string, opts: BuildOptions): Promise<void> {
  const targets = checkArchTarget(opts.arch ?? 'engine', opts.target ?? 'rtl');
  if (opts.part !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(opts.part)) throw badInput('--part', `not an FPGA part name: '${opts.part}'`);
  if (opts.arch === 'spatial') return buildSpatialCommand(path, opts, targets);
  if (opts.reuse !== undefined || opts.reusePerLayer !== undefined) throw badInput('--reuse', 'reuse factors apply to --arch spatial');
  // Hardware options are checked before the (possibly slow) import.
  const config = engineConfigFromCli(opts);
  const progress = createProgress('gatec build', opts);
  let model;
  try {
    model = await loadModel(path, opts.calib ? await readInputData(opts.calib) : undefined, opts.gating, progressCallback(progress));
  } finally {
    progress.stop();
  }
  const { name, compilation } = await buildEngine(model, config, opts.output, path, { targets, ...(opts.part !== undefined ? { part: opts.part } : {}) });
  const { report } = compilation;
  await writeReportHtml(opts.output);
  const ms = report.totals.timeUs / 1000;
  console.error(
    `wrote ${opts.output} (${targets.includes('rtl') ? `${name}_top` : 'gatec_engine_top'}): ${report.program.instructions} instructions, ` +
      `${report.dram.bytes} bytes of DRAM, ${report.totals.cycles} cycles predicted (${ms.toFixed(3)} ms at ${config.clockMhz} MHz)`,
  );
}

async function buildSpatialCommand(path: string, opts: BuildOptions, targets: EngineTarget[]): Promise<void> {
  const model = await loadModel(path, opts.calib ? await readInputData(opts.calib) : undefined);
  const file = opts.reusePerLayer;
  const reuse = reuseFromCli(model, opts.reuse, file, file === undefined ? undefined : await readJsonFile(file));
  const clockMhz = opts.clockMhz === undefined ? undefined : Number(opts.clockMhz);
  if (clockMhz !== undefined && !(clockMhz > 0 && Number.isFinite(clockMhz))) throw badInput('--clock-mhz', `expected a positive number, got '${opts.clockMhz}'`);
  const hls = { ...(opts.part !== undefined ? { part: opts.part } : {}), ...(clockMhz !== undefined ? { clockMhz } : {}) };
  const { name, compilation } = await buildSpatial(model, reuse, opts.output, path, targets, hls);
  const { resources: r, timing: t } = compilation;
  await writeReportHtml(opts.output);
  console.error(
    `wrote ${opts.output} (${name}_top, spatial): ${compilation.plan.stages.length} stages, latency ${t.latency} cycles, interval ${t.interval} cycles; ` +
      `predicted ${r.dsp} DSP48E1, ${r.lut} LUT, ${r.ff} FF, ${r.bram18} BRAM18`,
  );
}
