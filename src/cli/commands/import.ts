import { readInputData } from '../../frontend/data.js';
import { importOnnx } from '../../frontend/onnx/import.js';
import { writeModel } from '../../ir/serialize.js';
import { writeFileAtomic } from '../atomic-write.js';

export async function importCommand(path: string, opts: { calib?: string; output: string }): Promise<void> {
  const calib = opts.calib ? await readInputData(opts.calib) : undefined;
  const { model } = await importOnnx(path, calib ? { calib } : {});
  await writeFileAtomic(opts.output, writeModel(model));
  console.error(`wrote ${opts.output}: ${model.layers.length} layers (${model.source.format})`);
}
