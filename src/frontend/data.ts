import { z } from 'zod';
import { badInput } from '../errors.js';
import { issuePath } from '../ir/schema.js';
import { readInputFile } from './read-input-file.js';

/** data.json: {"shape":[1,C,H,W],"inputs":[[...], ...]}, extra keys (labels, references) allowed. */
const dataJson = z
  .object({
    shape: z.array(z.number().int().positive()).min(1),
    inputs: z.array(z.array(z.number().nullable())).min(1),
    labels: z.array(z.number().int()).optional(),
  })
  .passthrough();

export interface InputData {
  file: string;
  shape: number[];
  inputs: Float64Array[];
  labels?: number[];
  raw: Record<string, unknown>;
}

export function parseInputData(text: string, file: string): InputData {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // Python's json writes NaN/Infinity as bare words; read them as null to name the value.
    try {
      raw = JSON.parse(text.replace(/-?\b(NaN|Infinity)\b/g, 'null'));
    } catch {
      throw badInput(file, `not valid JSON (${(e as Error).message})`);
    }
  }
  const parsed = dataJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badInput(file, `invalid input data at ${issuePath(issue.path)}: ${issue.message}`);
  }
  const d = parsed.data;
  const count = d.shape.reduce((a, b) => a * b, 1);
  const inputs = d.inputs.map((values, i) => {
    if (values.length !== count) {
      throw badInput(file, `input ${i} has ${values.length} values, shape [${d.shape.join(',')}] needs ${count}`);
    }
    const idx = values.findIndex((v) => v === null || !Number.isFinite(v));
    if (idx >= 0) throw badInput(file, `input ${i} value ${idx} is not a finite number (NaN or infinity)`);
    return Float64Array.from(values as number[]);
  });
  if (d.labels && d.labels.length !== inputs.length) {
    throw badInput(file, `${d.labels.length} labels for ${inputs.length} inputs`);
  }
  return { file, shape: d.shape, inputs, ...(d.labels ? { labels: d.labels } : {}), raw: d };
}

export async function readInputData(file: string): Promise<InputData> {
  return parseInputData(await readInputFile(file, 'utf8'), file);
}

/** Checks data against a model input shape ([1,C,H,W] with the batch of 1). */
export function checkInputShape(data: InputData, modelShape: number[], model: string): void {
  const want = [1, ...modelShape];
  if (data.shape.join(',') !== want.join(',')) {
    throw badInput(data.file, `input shape [${data.shape.join(',')}] does not match model ${model} input [${want.join(',')}]`);
  }
}
