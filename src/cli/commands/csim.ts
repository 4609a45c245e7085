import { checkInputShape, readInputData } from '../../frontend/data.js';
import { csimEngine } from '../../sim/engine-csim.js';
import { openEngineDir, type EngineSimResult } from '../../sim/engine-sim.js';
import { createProgress, progressCallback } from '../progress.js';
import { refreshReport } from '../../report/refresh.js';
import { hwArch } from '../../sim/spatial-sim.js';
import { reportEngineRun } from '../engine-report.js';
import { spatialRunCommand } from '../spatial-report.js';

export interface CsimCommandOptions {
  inputs: string;
  json?: boolean;
  quiet?: boolean;
}

/** `gatec csim`: the HLS kernel of an engine build in C simulation, checked like `gatec sim` checks the RTL. */
export async function csimCommand(hwDir: string, opts: CsimCommandOptions): Promise<void> {
  if ((await hwArch(hwDir)) === 'spatial') return spatialRunCommand(hwDir, opts, 'csim');
  const data = await readInputData(opts.inputs);
  const engine = await openEngineDir(hwDir);
  checkInputShape(data, engine.model.tensors.find((t) => t.name === engine.model.inputs[0])!.shape, hwDir);
  const progress = createProgress('gatec csim', opts);
  let result: EngineSimResult;
  try {
    result = await csimEngine(engine, data.inputs, { onProgress: progressCallback(progress) });
  } finally {
    progress.stop();
  }
  await refreshReport(hwDir, result, 'csim', opts.inputs, data.inputs, data.labels);
  reportEngineRun(hwDir, result, data.labels, { ...(opts.json ? { json: true } : {}), cycles: false, backend: 'csim' });
}
