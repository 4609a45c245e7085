import type { ConvLayer, FcLayer, Model } from '../ir/types.js';

/**
 * Resources of the spatial architecture (hls4ml-like: constant weights, one pipeline stage per
 * layer, reuse factor R per layer) as pruning needs them. This is an interim estimate written to the
 * interface pruning uses (SpatialCostModel); the spatial generator's own resource model
 * (generator/spatial/resources.ts, docs/spatial.md) replaces it when it lands. docs/pruning.md,
 * "Spatial: patterns", states the formulas.
 *
 * A layer of n weights (IR layout, [Co, Ci/g, kh, kw] flattened) with reuse R has M = ceil(n / R)
 * multipliers; multiplier m computes weights m, m + M, m + 2M, ... in turn (hls4ml's "pattern").
 * A multiplier whose weights are all zero is not generated.
 */
export interface SpatialLayerResources {
  layer: string;
  reuse: number;
  /** generated multipliers (DSP48E1 slices: an int8 x int8 product fits one) */
  dsp: number;
  lut: number;
  bram18: number;
  /** cycles from the layer's first input to its last output */
  latency: number;
  /** multipliers a fully dense layer has */
  multipliers: number;
}

export interface SpatialCostModel {
  layer(l: ConvLayer | FcLayer, reuse: number, model: Model): SpatialLayerResources;
  /** marginal cost of one multiplier of a layer: what pruning its whole pattern saves */
  perMultiplier(l: ConvLayer | FcLayer, reuse: number): { dsp: number; lut: number; bram: number };
}

/** LUTs of a multiplier's accumulator (a 24-bit adder) */
const LUT_ACC = 24;
/** LUTs of the requant and clamp of one output channel */
const LUT_PER_OUTPUT = 40;
/** the weight multiplexer of a reused multiplier: 8 bits x an R:1 mux, a LUT6 per 4 inputs */
const lutMux = (r: number): number => (r > 1 ? 8 * Math.ceil(r / 4) : 0);
/** weights of a reused layer live in BRAM18 (18,432 bits) when they exceed a LUTRAM's worth */
const BRAM_BITS = 18432;
const LUTRAM_MAX_BITS = 4096;

export function multiplierOf(index: number, weights: number, reuse: number): number {
  return index % Math.ceil(weights / reuse);
}

function outputPixels(l: ConvLayer | FcLayer, model: Model): number {
  if (l.op === 'fc') return 1;
  const t = model.tensors.find((x) => x.name === l.output)!;
  return t.shape[1]! * t.shape[2]!;
}

export const INTERIM_SPATIAL_MODEL: SpatialCostModel = {
  layer(l, reuse, model) {
    const n = l.weights.length;
    const m = Math.ceil(n / reuse);
    const active = new Uint8Array(m);
    for (let i = 0; i < n; i++) if (l.weights[i] !== 0) active[i % m] = 1;
    const dsp = active.reduce((a, x) => a + x, 0);
    const bits = dsp * reuse * 8;
    const co = l.bias.length;
    const fanIn = n / co;
    return {
      layer: l.name,
      reuse,
      dsp,
      lut: dsp * (LUT_ACC + lutMux(reuse)) + co * LUT_PER_OUTPUT,
      bram18: reuse > 1 && bits > LUTRAM_MAX_BITS ? Math.ceil(bits / BRAM_BITS) : 0,
      latency: outputPixels(l, model) * reuse + Math.ceil(Math.log2(Math.max(2, fanIn))) + 2,
      multipliers: m,
    };
  },
  perMultiplier(l, reuse) {
    const m = Math.ceil(l.weights.length / reuse);
    const usesBram = reuse > 1 && m * reuse * 8 > LUTRAM_MAX_BITS;
    return { dsp: 1, lut: LUT_ACC + lutMux(reuse), bram: usesBram ? (reuse * 8) / BRAM_BITS : 0 };
  },
};
