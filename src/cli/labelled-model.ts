import { badInput } from '../errors.js';
import { checkInputShape, readInputData, type InputData } from '../frontend/data.js';
import { loadModel } from '../frontend/load.js';
import type { Model } from '../ir/types.js';
import { progressCallback, type Progress } from './progress.js';

/** The model of a search command and its labelled calibration data (which also calibrates an fp32 model). */
export interface LabelledModel {
  model: Model;
  data: InputData;
  labels: number[];
}

/**
 * Reads `--calib` (labels required: the search keeps top-1 accuracy within a budget) and loads the
 * model, an fp32 model's calibration on `progress` (stopped after it; the search restarts it);
 * the input shape must match.
 */
export async function loadLabelledModel(path: string, calib: string, command: string, progress: Progress): Promise<LabelledModel> {
  const data = await readInputData(calib);
  const labels = data.labels;
  if (!labels) throw badInput(calib, `gatec ${command} needs "labels" (one class per input) to measure top-1 accuracy`);
  let model: Model;
  try {
    model = await loadModel(path, data, undefined, progressCallback(progress));
  } finally {
    progress.stop();
  }
  checkInputShape(data, model.tensors.find((t) => t.name === model.inputs[0])!.shape, path);
  return { model, data, labels };
}
