import { z } from 'zod';
import { badInput } from '../errors.js';
import { issuePath } from '../ir/schema.js';
import { readInputFile } from './read-input-file.js';

/**
 * The gating sidecar a training script writes next to its ONNX model (docs/gating.md):
 *   {"format": "gatec-gating", "version": 1,
 *    "layers": {"<Conv node name>": {"base": [input channels], "thresholds": [one per output channel]}}}
 * Thresholds are real numbers on the base path's partial sum of the conv's own ONNX weights,
 * bias excluded, before any BatchNormalization. This module checks the file's structure only;
 * checks against the model (node names, channel counts) happen at conversion, where the
 * messages can name the node.
 */
export const GATING_FORMAT = 'gatec-gating';
export const GATING_VERSION = 1;

const layerEntry = z
  .object({
    base: z.array(z.number()),
    // null: a NaN or infinity (Python's json writes them as bare words), reported per node.
    thresholds: z.array(z.number().nullable()),
  })
  .strict();

const sidecarJson = z.object({ format: z.string(), version: z.number(), layers: z.record(z.string(), layerEntry) }).strict();

export interface SidecarLayer {
  base: number[];
  thresholds: (number | null)[];
}

export interface GatingSidecar {
  file: string;
  /** In file order. */
  layers: Map<string, SidecarLayer>;
}

export function parseGatingSidecar(text: string, file: string): GatingSidecar {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/-?\b(NaN|Infinity)\b/g, 'null'));
  } catch (e) {
    throw badInput(file, `not valid JSON (${(e as Error).message})`);
  }
  const head = raw as { format?: unknown; version?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== GATING_FORMAT) {
    throw badInput(file, `not a gating sidecar: "format" must be "${GATING_FORMAT}"`);
  }
  if (head.version !== GATING_VERSION) {
    throw badInput(file, `gating sidecar version ${JSON.stringify(head.version)} is not supported (this gatec reads version ${GATING_VERSION})`);
  }
  const parsed = sidecarJson.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badInput(file, `invalid gating sidecar at ${issuePath(issue.path)}: ${issue.message}`);
  }
  return { file, layers: new Map(Object.entries(parsed.data.layers)) };
}

export async function readGatingSidecar(file: string): Promise<GatingSidecar> {
  return parseGatingSidecar(await readInputFile(file, 'utf8'), file);
}
