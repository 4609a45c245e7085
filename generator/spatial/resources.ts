import type { Model } from '../../src/ir/types.js';
import { planSpatial, prodWidth, type ComputeStage, type MacStage, type PlanOptions, type PoolStage, type SpatialPlan } from './plan.js';
import type { ReuseConfig } from './reuse.js';

/**
 * Resource model of the spatial architecture (docs/spatial.md, "Resource model"): DSP48E1, LUT,
 * FF and BRAM18 of the generated RTL as Yosys `synth_xilinx` maps it. DSPs and FFs are counted
 * from the structure (exact by construction, checked against Yosys); LUTs are a structural
 * estimate with coefficients fitted to Yosys runs (LUT_MODEL, calibration in docs/spatial.md).
 * Pure and deterministic: the knapsack pruner calls it for every candidate.
 */

export interface LayerResources {
  /** IR layer name and op */
  layer: string;
  op: string;
  dsp: number;
  lut: number;
  ff: number;
  bram18: number;
  /** generated MAC multipliers by kind (DSP: rom + const; shift: none) */
  multipliers: { rom: number; const: number; shift: number };
  /** requantization lanes and the DSPs they take */
  requantLanes: number;
  requantDsp: number;
  /** weight ROM bits (8 per slot of every 'rom' multiplier) */
  romBits: number;
}

export interface SpatialResources {
  dsp: number;
  lut: number;
  ff: number;
  bram18: number;
  /** compute stages in pipeline order (reshape layers have none) */
  perLayer: LayerResources[];
  /** the stream input loader and output streamer */
  io: { lut: number; ff: number };
}

/**
 * LUT coefficients, fitted to Yosys 0.55 synth_xilinx on generated designs (docs/spatial.md).
 * Each term is LUTs per unit of the structure named.
 */
export const LUT_MODEL = {
  /** per bit and per 3 extra inputs of a mux (a LUT6 is a 4:1 mux) */
  muxBit: 1,
  /** per accumulator bit of an adder whose operand does not come from a DSP */
  adderBit: 1,
  /** per bit of a ROM output (8 per 'rom' multiplier, per 64 slots); a 2-slot ROM is a wire or an inverter of the reuse counter */
  romBit: 1,
  /** per product bit of a requantization lane (shift, rounding, clamp) */
  requantBit: 4,
  /** per output element of a stage's frame buffer (write enable decode) */
  writeElem: 1,
  /** per stage: counters and handshake */
  control: 10,
} as const;

/** DSP48E1 slices of a signed a x b product (25 x 18 per slice). */
export function dspSlices(aBits: number, bBits: number): number {
  const [a, b] = aBits >= bBits ? [aBits, bBits] : [bBits, aBits];
  if (a <= 25 && b <= 18) return 1;
  if (a <= 42 && b <= 18) return 2;
  return Math.ceil(a / 17) * Math.ceil(b / 17);
}

const clog2 = (n: number): number => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));
/** LUT6s of an n:1 mux of `bits` bits. */
const muxLuts = (n: number, bits: number): number => (n <= 1 ? 0 : bits * Math.ceil((n - 1) / 3) * LUT_MODEL.muxBit);

/** The requantization multiplier is a DSP product unless it is a constant power of two. */
function requantDsp(accWidth: number, constant: boolean, mults: number[]): number {
  if (constant && mults.every((m) => m === 0 || (m & (m - 1)) === 0)) return 0;
  return dspSlices(accWidth, 16);
}

/** Requantization lane ln's channels (lane ln serves channels ln, ln + lanes, ...). */
const laneChannels = (ln: number, lanes: number, steps: number, co: number): number[] =>
  Array.from({ length: steps }, (_, st) => st * lanes + ln).filter((c) => c < co);

const count = (xs: readonly boolean[]): number => xs.filter(Boolean).length;

function macResources(s: MacStage): LayerResources {
  const [co] = s.out;
  // Only what is read downstream exists after synthesis (plan.ts, markLive): s.mults already
  // excludes dead channels; lanes, frames and accumulators are counted for live ones.
  const inRead = count(s.readIn);
  const liveOut = count(s.liveOut) * s.pixels;
  const rom = s.mults.filter((m) => m.kind === 'rom').length;
  const cnst = s.mults.filter((m) => m.kind === 'const').length;
  const shift = s.mults.filter((m) => m.kind === 'shift').length;
  let reqDsp = 0;
  let liveLanes = 0;
  for (let ln = 0; ln < s.lanes; ln++) {
    const chans = laneChannels(ln, s.lanes, s.steps, co).filter((c) => s.liveOut[c]);
    if (chans.length === 0) continue;
    liveLanes++;
    reqDsp += requantDsp(s.accWidth, s.laneConst[ln]!, chans.map((c) => s.mult[c]!));
  }
  // Taps read by some multiplier: one mux each over the slots (fc) or the whole frame (conv).
  const usedJ = new Set(s.mults.map((m) => m.j)).size;
  // Taps sit at fixed positions of the rotating frame: an R:1 mux each (docs/spatial.md).
  const tapMux = muxLuts(s.reuse, 8);
  // The rotation: a 2:1 (or, with a row jump, 3:1) mux in front of every frame bit read.
  const rotation = s.pixels > 1 ? inRead * 8 * LUT_MODEL.muxBit : 0;
  // x - zp is an adder only where no DSP pre-adder or MSB flip absorbs it: not counted.
  const taps = usedJ * tapMux;
  const roms = s.reuse <= 2 ? 0 : rom * 8 * Math.ceil(s.reuse / 64) * LUT_MODEL.romBit;
  // DSP products chain through the slices' post-adders; shifted terms need fabric adders.
  const adders = shift * s.accWidth * LUT_MODEL.adderBit;
  // The bias-or-accumulator select folds into the DSP48E1's OPMODE (Yosys xilinx_dsp): no LUTs.
  const accMux = 0;
  const pw = prodWidth(s.accWidth);
  const requant = liveLanes * pw * LUT_MODEL.requantBit;
  const write = liveOut * LUT_MODEL.writeElem;
  const lut = Math.round(taps + rotation + roms + adders + accMux + requant + write + LUT_MODEL.control);
  const counters = clog2(s.reuse) + 2 * clog2(s.pixels + 1) + clog2(s.steps + 1) + 2 * 8 + 4;
  // A channel without multipliers accumulates its constant bias: no register survives.
  const accumulating = new Set(s.mults.map((m) => m.co)).size;
  const ff = inRead * 8 + liveOut * 8 + 2 * accumulating * s.accWidth + counters;
  return {
    layer: s.name,
    op: s.op,
    dsp: rom + cnst + reqDsp,
    lut,
    ff,
    bram18: 0,
    multipliers: { rom, const: cnst, shift },
    requantLanes: liveLanes,
    requantDsp: reqDsp,
    romBits: rom * 8 * s.reuse,
  };
}

function poolResources(s: PoolStage): LayerResources {
  const live = count(s.liveOut);
  const inRead = count(s.readIn);
  const outElems = live * s.pixels;
  const taps = s.kernel[0] * s.kernel[1];
  const reqDsp = live * requantDsp(s.accWidth, true, [s.mult]);
  const pw = prodWidth(s.accWidth);
  const window = live * taps * s.accWidth + (s.pixels > 1 ? inRead * 8 * LUT_MODEL.muxBit : 0);
  const lut = Math.round(window + live * pw * LUT_MODEL.requantBit + outElems * LUT_MODEL.writeElem + LUT_MODEL.control);
  const ff = inRead * 8 + outElems * 8 + 2 * clog2(s.pixels + 1) + 2 * 8 + 2;
  return { layer: s.name, op: s.op, dsp: reqDsp, lut, ff, bram18: 0, multipliers: { rom: 0, const: 0, shift: 0 }, requantLanes: live, requantDsp: reqDsp, romBits: 0 };
}

export function stageResources(s: ComputeStage): LayerResources {
  return s.kind === 'mac' ? macResources(s) : poolResources(s);
}

/** Resources of a plan (generator/spatial/plan.ts). */
export function planResources(plan: SpatialPlan): SpatialResources {
  const perLayer = plan.stages.map(stageResources);
  const io = {
    lut: 2 * LUT_MODEL.control,
    ff: plan.inElems * 8 + plan.outElems * 8 + clog2(plan.inElems + 1) + clog2(plan.outElems + 1) + 4,
  };
  const sum = (k: 'dsp' | 'lut' | 'ff' | 'bram18') => perLayer.reduce((a, l) => a + l[k], 0);
  return { dsp: sum('dsp'), lut: sum('lut') + io.lut, ff: sum('ff') + io.ff, bram18: sum('bram18'), perLayer, io };
}

/**
 * DSP, LUT, FF and BRAM18 of `gatec build --arch spatial` for a model and its reuse factors.
 * Zero weights are what is pruned: a multiplier whose every weight is zero does not exist.
 * Throws (GatecError, exit 2) for models the spatial architecture does not build.
 */
export function spatialResources(model: Model, reuse: ReuseConfig, opts: PlanOptions = {}): SpatialResources {
  return planResources(planSpatial(model, reuse, model.source.file, opts));
}
