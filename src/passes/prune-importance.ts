import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { badInput } from '../errors.js';
import type { Model } from '../ir/types.js';

/**
 * Importance file (docs/pruning.md, "Importance file"): one non-negative score per weight of each
 * named conv/fc layer, in the IR weight layout ([Co, Ci/groups, kh, kw] or [Co, Ci], row-major,
 * as ONNX stores them). A structure's value is the sum over its weights. Layers the file leaves out
 * are scored by magnitude.
 */
const importanceSchema = z.object({
  format: z.literal('gatec-importance'),
  version: z.literal(1),
  layers: z.array(
    z.object({
      name: z.string(),
      shape: z.array(z.number().int().positive()).optional(),
      values: z.array(z.number().nonnegative()),
    }),
  ),
}).passthrough();

export type Importance = ReadonlyMap<string, Float64Array>;

export async function readImportance(file: string, model: Model): Promise<Importance> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw badInput(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not JSON: ${(e as Error).message}`);
  }
  const r = importanceSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw badInput(file, `not a gatec importance file: ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const out = new Map<string, Float64Array>();
  for (const l of r.data.layers) {
    const layer = model.layers.find((x) => x.name === l.name);
    if (!layer || (layer.op !== 'conv' && layer.op !== 'fc')) throw badInput(file, `layer '${l.name}' is not a conv or fc of the model`);
    if (l.values.length !== layer.weights.length) {
      throw badInput(file, `layer '${l.name}': ${l.values.length} values for ${layer.weights.length} weights`);
    }
    if (l.shape && l.shape.reduce((a, b) => a * b, 1) !== layer.weights.length) throw badInput(file, `layer '${l.name}': shape [${l.shape.join(',')}] does not hold ${layer.weights.length} weights`);
    out.set(l.name, Float64Array.from(l.values));
  }
  return out;
}
