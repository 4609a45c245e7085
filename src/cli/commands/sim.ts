import { badInput } from '../../errors.js';
import { checkInputShape, readInputData } from '../../frontend/data.js';
import { join } from 'node:path';
import { openEngineDir, simulateEngine, type EngineSimResult } from '../../sim/engine-sim.js';
import { createProgress, progressCallback } from '../progress.js';
import { refreshReport } from '../../report/refresh.js';
import { hwArch } from '../../sim/spatial-sim.js';
import { reportEngineRun } from '../engine-report.js';
import { spatialRunCommand } from '../spatial-report.js';

export interface SimOptions {
  inputs: string;
  json?: boolean;
  quiet?: boolean;
  /** --trace [file.fst]: true for the default file */
  trace?: string | boolean;
  dramBw?: string;
  dramLatency?: string;
}

function parseNumberFlag(flag: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v)) || (!integer && v === 0)) {
    throw badInput(flag, `expected a ${integer ? 'non-negative integer' : 'positive number'}, got '${text}'`);
  }
  return v;
}

export async function simCommand(hwDir: string, opts: SimOptions): Promise<void> {
  if ((await hwArch(hwDir)) === 'spatial') return spatialRunCommand(hwDir, opts, 'sim');
  const bw = parseNumberFlag('--dram-bw', opts.dramBw, false);
  const latency = parseNumberFlag('--dram-latency', opts.dramLatency, true);
  const data = await readInputData(opts.inputs);
  const engine = await openEngineDir(hwDir);
  checkInputShape(data, engine.model.tensors.find((t) => t.name === engine.model.inputs[0])!.shape, hwDir);
  const trace = opts.trace === undefined || opts.trace === false ? undefined : opts.trace === true ? join(hwDir, 'waves.fst') : opts.trace;
  const progress = createProgress('gatec sim', opts);
  let result: EngineSimResult;
  try {
    result = await simulateEngine(engine, data.inputs, {
      ...(bw !== undefined ? { dramBytesPerCycle: bw } : {}),
      ...(latency !== undefined ? { dramLatency: latency } : {}),
      ...(trace !== undefined ? { trace } : {}),
      onProgress: progressCallback(progress),
    });
  } finally {
    progress.stop();
  }
  await refreshReport(hwDir, result, 'sim', opts.inputs, data.inputs, data.labels);
  if (trace !== undefined) console.error(`wrote ${trace}: waveform of sample 0 (FST: GTKWave or Surfer)`);
  reportEngineRun(hwDir, result, data.labels, { ...(opts.json ? { json: true } : {}), cycles: true, backend: 'sim' });
}
