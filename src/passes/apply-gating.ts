import type { Model } from '../ir/types.js';
import { validateModel } from '../ir/validate.js';
import { reorderChannels } from './reorder.js';

/** Gating of one conv in the model's current channel numbering. */
export interface GatingSpec {
  /** Base input channels (any order, distinct). */
  base: readonly number[];
  /** int32 per output channel, accumulator domain (bias included). */
  threshold: Int32Array;
  /** Per output channel: gate on when acc_base < threshold; omitted = all false. */
  below?: readonly boolean[];
}

/**
 * Gates the named convs: attaches each spec's thresholds in the current output-channel order,
 * then reorders channels (passes/reorder.ts) so every base set comes first, which also moves
 * thresholds wherever a conv's output channels move. Replaces existing gating of the named
 * convs; other gated convs keep theirs. `file` names the source of the specs in errors.
 */
export function applyGating(m: Model, specs: ReadonlyMap<string, GatingSpec>, file: string): Model {
  const attached: Model = {
    ...m,
    layers: m.layers.map((l) => {
      const s = specs.get(l.name);
      if (!s || l.op !== 'conv') return l;
      const below = s.below?.some((b) => b) ? { below: [...s.below] } : {};
      return { ...l, gating: { baseChannels: s.base.length, threshold: Int32Array.from(s.threshold), ...below } };
    }),
  };
  const { model } = reorderChannels(attached, new Map([...specs].map(([name, s]) => [name, s.base])), file);
  validateModel(model, file);
  return model;
}
