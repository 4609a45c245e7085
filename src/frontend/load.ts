import { badInput } from '../errors.js';
import { readModel } from '../ir/serialize.js';
import type { Model } from '../ir/types.js';
import type { InputData } from './data.js';
import { readGatingSidecar } from './gating-sidecar.js';
import { importOnnx } from './onnx/import.js';
import { readInputFile } from './read-input-file.js';

export function isIrFile(path: string): boolean {
  return /\.json$/i.test(path);
}

/**
 * `<model>` of the CLI: an .onnx file (imported, with an optional gating sidecar) or an IR file
 * (read and validated; it carries its own gating).
 */
export async function loadModel(path: string, calib?: InputData, gatingFile?: string, onProgress?: (done: number, total: number, phase: string) => void): Promise<Model> {
  if (!isIrFile(path)) {
    const gating = gatingFile !== undefined ? await readGatingSidecar(gatingFile) : undefined;
    return (await importOnnx(path, { ...(calib ? { calib } : {}), ...(gating ? { gating } : {}), ...(onProgress ? { onProgress } : {}) })).model;
  }
  if (gatingFile !== undefined) throw badInput(gatingFile, `--gating applies to .onnx models; the IR file ${path} carries its own gating`);
  return readModel(await readInputFile(path, 'utf8'), path);
}
