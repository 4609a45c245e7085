import { readModel } from '../ir/serialize.js';
import type { Model } from '../ir/types.js';
import type { InputData } from './data.js';
import { importOnnx } from './onnx/import.js';
import { readInputFile } from './read-input-file.js';

export function isIrFile(path: string): boolean {
  return /\.json$/i.test(path);
}

/** `<model>` of the CLI: an .onnx file (imported) or an IR file (read and validated). */
export async function loadModel(path: string, calib?: InputData): Promise<Model> {
  if (!isIrFile(path)) return (await importOnnx(path, calib ? { calib } : {})).model;
  return readModel(await readInputFile(path, 'utf8'), path);
}
