import { z } from 'zod';
import { IR_FORMAT, IR_VERSION } from './types.js';

/** JSON schema of IR v1 files. Typed arrays travel as base64 of their little-endian bytes. */
const int = z.number().int();
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const pair = z.tuple([int.min(1), int.min(1)]);
const pads = z.tuple([int.min(0), int.min(0), int.min(0), int.min(0)]);
const int8 = int.min(-128).max(127);
const int32 = int.min(-(2 ** 31)).max(2 ** 31 - 1);

const requant = z
  .object({ multiplier: z.array(int.min(0).max(2 ** 15 - 1)), shift: z.array(int.min(1).max(52)) })
  .strict();
const clamp = z.tuple([int8, int8]);
const layerBase = {
  name: z.string().min(1),
  inputs: z.array(z.string().min(1)).min(1),
  output: z.string().min(1),
};

const conv = z
  .object({
    op: z.literal('conv'),
    ...layerBase,
    kernel: pair,
    stride: pair,
    pads,
    groups: int.min(1),
    weights: base64,
    bias: base64,
    requant,
    clamp,
    // Counts against the layer's channels are checked in validate.ts, whose messages name the layer.
    gating: z.object({ baseChannels: int, threshold: z.array(int32), below: z.array(z.boolean()).optional() }).strict().optional(),
    pruneMask: base64.optional(),
  })
  .strict();
const fc = z
  .object({
    op: z.literal('fc'),
    ...layerBase,
    weights: base64,
    bias: base64,
    requant,
    clamp,
    pruneMask: base64.optional(),
  })
  .strict();
const add = z.object({ op: z.literal('add'), ...layerBase, requant, clamp }).strict();
const pool = z
  .object({ op: z.enum(['maxpool', 'avgpool']), ...layerBase, kernel: pair, stride: pair, pads, requant, clamp })
  .strict();
const gap = z.object({ op: z.literal('globalavgpool'), ...layerBase, requant, clamp }).strict();
const concat = z.object({ op: z.literal('concat'), ...layerBase, requant, clamp }).strict();
const reshape = z.object({ op: z.literal('reshape'), ...layerBase }).strict();
const transpose = z.object({ op: z.literal('transpose'), ...layerBase, perm: z.array(int.min(0)) }).strict();

export const tensorJson = z
  .object({
    name: z.string().min(1),
    shape: z.array(int.min(1)).min(1),
    quant: z.object({ scale: z.number().positive(), zeroPoint: int8 }).strict(),
    zeroBlock: z
      // Ranges (block dims >= 1 and within the tensor, 0 <= epsilon <= 255) are checked in
      // validate.ts, whose messages name the tensor.
      .object({ block: z.tuple([int, int, int]), epsilon: int })
      .strict()
      .optional(),
  })
  .strict();

export const layerJson = z.discriminatedUnion('op', [conv, fc, add, pool, gap, concat, reshape, transpose]);

export const modelJson = z
  .object({
    format: z.literal(IR_FORMAT),
    version: z.literal(IR_VERSION),
    name: z.string(),
    source: z.object({ file: z.string(), format: z.enum(['qdq', 'qoperator', 'fp32-ptq', 'ir']) }).strict(),
    inputs: z.array(z.string()).length(1),
    outputs: z.array(z.string()).min(1),
    tensors: z.array(tensorJson),
    layers: z.array(layerJson),
  })
  .strict();

export type ModelJson = z.infer<typeof modelJson>;
export type LayerJson = z.infer<typeof layerJson>;

/** JSON path of a zod issue, e.g. $.layers[3].kernel[0]. */
export function issuePath(path: readonly PropertyKey[]): string {
  return '$' + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}
