import { buildEngine } from '../../../generator/engine/build.js';
import { engineConfigFromCli, type EngineCliOptions } from '../../../generator/engine/config.js';
import { badInput, unsupported } from '../../errors.js';
import { readInputData } from '../../frontend/data.js';
import { loadModel } from '../../frontend/load.js';

export interface BuildOptions extends EngineCliOptions {
  output: string;
  arch?: string;
  target?: string;
  calib?: string;
}

const ARCHS = ['engine', 'spatial'];
const TARGETS = ['rtl', 'hls'];

/** Only the engine's RTL exists so far; the other documented choices are unsupported, not unknown. */
function checkArchTarget(arch: string, target: string): void {
  if (!ARCHS.includes(arch)) throw badInput('--arch', `unknown architecture '${arch}' (expected ${ARCHS.join(' or ')})`);
  if (arch !== 'engine') throw unsupported('--arch', `the ${arch} architecture is not implemented yet (use --arch engine)`);
  for (const t of target.split(',').map((s) => s.trim())) {
    if (!TARGETS.includes(t)) throw badInput('--target', `unknown target '${t}' (expected ${TARGETS.join(' or ')})`);
    if (t !== 'rtl') throw unsupported('--target', `the ${t} target of the ${arch} architecture is not implemented yet (use --target rtl)`);
  }
}

export async function buildCommand(path: string, opts: BuildOptions): Promise<void> {
  checkArchTarget(opts.arch ?? 'engine', opts.target ?? 'rtl');
  // Hardware options are checked before the (possibly slow) import.
  const config = engineConfigFromCli(opts);
  const model = await loadModel(path, opts.calib ? await readInputData(opts.calib) : undefined);
  const { name, compilation } = await buildEngine(model, config, opts.output, path);
  const { report } = compilation;
  const ms = report.totals.timeUs / 1000;
  console.error(
    `wrote ${opts.output} (${name}_top): ${report.program.instructions} instructions, ` +
      `${report.dram.bytes} bytes of DRAM, ${report.totals.cycles} cycles predicted (${ms.toFixed(3)} ms at ${config.clockMhz} MHz)`,
  );
}
