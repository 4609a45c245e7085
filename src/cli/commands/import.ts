import { readInputData } from '../../frontend/data.js';
import { readGatingSidecar } from '../../frontend/gating-sidecar.js';
import { importOnnx } from '../../frontend/onnx/import.js';
import { writeModel } from '../../ir/serialize.js';
import { writeFileAtomic } from '../atomic-write.js';
import { createProgress, progressCallback } from '../progress.js';

export async function importCommand(path: string, opts: { calib?: string; gating?: string; output: string; quiet?: boolean }): Promise<void> {
  const calib = opts.calib ? await readInputData(opts.calib) : undefined;
  const gating = opts.gating !== undefined ? await readGatingSidecar(opts.gating) : undefined;
  const progress = createProgress('gatec import', opts);
  let model;
  try {
    ({ model } = await importOnnx(path, { ...(calib ? { calib } : {}), ...(gating ? { gating } : {}), onProgress: progressCallback(progress) }));
  } finally {
    progress.stop();
  }
  await writeFileAtomic(opts.output, writeModel(model));
  const gated = model.layers.filter((l) => l.op === 'conv' && l.gating).length;
  console.error(`wrote ${opts.output}: ${model.layers.length} layers (${model.source.format})${gating ? `, ${gated} gated conv${gated === 1 ? '' : 's'}` : ''}`);
}
