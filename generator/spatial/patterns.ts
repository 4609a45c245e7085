import type { Model } from '../../src/ir/types.js';
import { layerMultipliers, planSpatial, type PlanOptions } from './plan.js';
import type { ReuseConfig } from './reuse.js';

/**
 * One multiplier of a conv/fc layer and the weights it serves across the reuse factor (hls4ml's
 * "pattern"): the unit of resource-aware pruning. Zeroing every weight in `weightIndex` removes
 * the multiplier (its DSP, its ROM and its adder input) from the generated design.
 */
export interface SpatialPattern {
  /** IR layer index and name */
  layerIndex: number;
  layer: string;
  /** output channel and multiplier index within it */
  co: number;
  j: number;
  /** indices into the layer's weights array (co*K + k) */
  weightIndex: number[];
  /** DSP48E1 the multiplier takes while any of its weights is non-zero (0 for a +-2^n constant, or
   *  in a channel no later layer reads: pruning a channel's readers can free more than their own DSPs) */
  dsp: number;
  /** weight ROM bits it takes (8 per slot when R > 1 and the slots differ) */
  romBits: number;
}

/**
 * Every multiplier position of every conv/fc layer at the given reuse factors, pruned ones (all
 * weights zero, dsp 0) included, in layer, output channel, multiplier order. The same grouping
 * the RTL generator and spatialResources use (generator/spatial/plan.ts, layerMultipliers).
 */
export function spatialPatterns(model: Model, reuse: ReuseConfig, opts: PlanOptions = {}): SpatialPattern[] {
  const plan = planSpatial(model, reuse, model.source.file, opts);
  const out: SpatialPattern[] = [];
  for (const s of plan.stages) {
    if (s.kind !== 'mac') continue;
    const l = model.layers[s.layer]!;
    if (l.op !== 'conv' && l.op !== 'fc') continue;
    for (const m of layerMultipliers(l, s.taps, s.reuse).all) {
      // a multiplier of a channel nothing reads downstream is not generated (plan.ts, markLive)
      const live = m.weights.some((w) => w !== 0) && s.liveOut[m.co]!;
      out.push({
        layerIndex: s.layer,
        layer: s.name,
        co: m.co,
        j: m.j,
        weightIndex: m.weightIndex,
        dsp: live && m.kind !== 'shift' ? 1 : 0,
        romBits: live && m.kind === 'rom' ? 8 * s.reuse : 0,
      });
    }
  }
  return out;
}
