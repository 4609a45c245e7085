import type { Model } from '../../src/ir/types.js';
import { MULT_WIDTH, planSpatial, prodWidth, type ComputeStage, type MacStage, type PlanOptions, type PoolStage, type SpatialPlan } from './plan.js';
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
  /** per accumulator bit of a term added outside the DSP chain (fitted on the R = 1 MLPs: mlp16 dense and pruned, 16-8-4) */
  adderBit: 0.6,
  /**
   * per distinct bit function of a stage's weight ROMs, per 64 slots: every ROM of a stage is
   * indexed by the same reuse counter, and synthesis shares equal functions (at R = 4 there are
   * only 16 functions of two bits; at R = 16, 2^16)
   */
  romFunction: 1,
  /**
   * per product bit of a requantization lane whose multiplier and shift are constants (one
   * channel, a pool, or equal constants), fitted on the R = 1 MLPs and digits8's pools (one such
   * lane synthesized alone takes more, 165 LUTs for a 35-bit product: in a design synthesis
   * merges its constant compares with the adder tree before it)
   */
  requantBit: 0.5,
  /** per product bit of a lane that selects its multiplier or shift per step */
  requantSelBit: 1,
  /** per product bit and per extra shift of a lane whose channels differ in shift (D shifts: D - 1) */
  requantVarBit: 1,
  /** per accumulator bit of a channel with R > 1: the bias-or-accumulator select before the DSP's C port */
  accSelectBit: 1,
  /** per window tap and accumulator bit of a pool channel (compare and select, or add) */
  poolBit: 1,
  /** per live output channel of a stage (its plane's write enable: rq_q and its step) */
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

/** The requantization multiplier is a DSP product unless it is a constant power of two. */
function requantDsp(accWidth: number, constant: boolean, mults: number[]): number {
  if (constant && mults.every((m) => m === 0 || (m & (m - 1)) === 0)) return 0;
  return dspSlices(accWidth, 16);
}

/** Requantization lane ln's channels (lane ln serves channels ln, ln + lanes, ...). */
const laneChannels = (ln: number, lanes: number, steps: number, co: number): number[] =>
  Array.from({ length: steps }, (_, st) => st * lanes + ln).filter((c) => c < co);

const count = (xs: readonly boolean[]): number => xs.filter(Boolean).length;

/**
 * Distinct bit functions of the reuse counter among a stage's weight ROMs (bit b of every 'rom'
 * multiplier's R slots), less the ones that need no LUT: constants and the counter's own bits
 * (an inverted one is an INV cell, which is no LUT either).
 */
function romFunctions(s: MacStage): number {
  const free = new Set<string>([Array(s.reuse).fill('0').join(''), Array(s.reuse).fill('1').join('')]);
  for (let k = 0; 1 << k < s.reuse; k++) {
    const bit = Array.from({ length: s.reuse }, (_, r) => (r >> k) & 1).join('');
    free.add(bit);
    free.add(bit.replace(/[01]/g, (c) => (c === '0' ? '1' : '0')));
  }
  const seen = new Set<string>();
  for (const m of s.mults) {
    if (m.kind !== 'rom') continue;
    for (let b = 0; b < 8; b++) {
      const f = m.weights.map((w) => (w >> b) & 1).join('');
      if (!free.has(f)) seen.add(f);
    }
  }
  return seen.size;
}

/** How the model counts (the knapsack pruner's linear model: src/passes/prune.ts). */
export interface ResourceOptions extends PlanOptions {
  /**
   * every multiplier its own DSP48E1 and post-adder, as if synthesis shared no equal products, and
   * every live requantization lane its DSPs even where it only requantizes constant biases
   */
  unshared?: boolean;
}

/**
 * Multipliers synthesis actually builds: Yosys merges equal cells (opt_merge), so multipliers of a
 * stage that multiply the same tap by the same weights (equal weights on one input across output
 * channels, common in trained networks at R = 1) are one DSP48E1 whose product feeds several
 * accumulators. Only one use can go through the DSP's post-adder; each further use is a fabric adder.
 */
function distinctProducts(s: MacStage, unshared: boolean): number {
  const dsp = s.mults.filter((m) => m.kind !== 'shift');
  return unshared ? dsp.length : new Set(dsp.map((m) => `${m.j}:${m.weights.join(',')}`)).size;
}

/** Units of each LUT_MODEL term in a stage: LUTs = the sum of units times coefficient. */
export type LutTerms = Record<keyof typeof LUT_MODEL, number>;

const noTerms = (): LutTerms => ({ muxBit: 0, adderBit: 0, romFunction: 0, requantBit: 0, requantSelBit: 0, requantVarBit: 0, accSelectBit: 0, poolBit: 0, writeElem: 0, control: 1 });

/** LUTs of a stage's terms under LUT_MODEL. */
export function lutOf(t: LutTerms): number {
  return Math.round((Object.keys(t) as (keyof LutTerms)[]).reduce((a, k) => a + t[k] * LUT_MODEL[k], 0));
}

/** Units of an n:1 mux of `bits` bits (a LUT6 per 3 extra inputs per bit). */
const muxUnits = (n: number, bits: number): number => (n <= 1 ? 0 : bits * Math.ceil((n - 1) / 3));

interface Lane {
  /** every channel the lane steps through (a dead channel's step is a constant) */
  chans: number[];
  /** the channels whose results are read, and the lane's index */
  live: number[];
  index: number;
  multConst: boolean;
  /** distinct shifts over the lane's steps */
  shifts: number;
}

/** Live requantization lanes of a MAC stage: the RTL selects over every step of a lane. */
function macLanes(s: MacStage): Lane[] {
  const co = s.out[0];
  const lanes: Lane[] = [];
  for (let ln = 0; ln < s.lanes; ln++) {
    const all = laneChannels(ln, s.lanes, s.steps, co);
    const live = all.filter((c) => s.liveOut[c]);
    if (live.length === 0) continue;
    lanes.push({ chans: all, live, index: ln, multConst: all.every((c) => s.mult[c] === s.mult[all[0]!]), shifts: new Set(all.map((c) => s.shift[c])).size });
  }
  return lanes;
}

/**
 * The LUT terms of a MAC stage, from the generated RTL's structure (templates/spatial/rtl,
 * generator/spatial/rtl.ts). Only what is read downstream exists after synthesis (plan.ts,
 * markLive): s.mults already excludes dead channels; lanes, frames and accumulators are live ones.
 */
export function macLutTerms(s: MacStage, unshared = false): LutTerms {
  const t = noTerms();
  const inRead = count(s.readIn);
  // Taps read by some multiplier sit at fixed positions of the (rotating) frame: an R:1 mux each.
  t.muxBit += new Set(s.mults.map((m) => m.j)).size * muxUnits(s.reuse, 8);
  // The rotation: a 2:1 (or, with a row jump, 3:1) mux in front of every frame bit read.
  if (s.pixels > 1) t.muxBit += inRead * 8;
  // x - zp is an adder only where no DSP pre-adder or MSB flip absorbs it: not counted.
  t.romFunction = romFunctions(s) * Math.ceil(s.reuse / 64);
  // With R > 1 the products chain through the DSPs' post-adders (only a further use of a shared
  // product needs a fabric adder). With R = 1 the sum bias + x0*w0 + x1*w1 + ... of constant
  // products is an adder tree that synthesis builds largely in fabric (shifted terms included):
  // a share of every term's width, fitted on the R = 1 MLPs (LUT_MODEL.adderBit).
  t.adderBit = (s.reuse === 1 ? s.mults.length : s.mults.length - distinctProducts(s, unshared)) * s.accWidth;
  // With R > 1 the chain starts from (r == 0 ? bias : acc_q): a LUT per bit in front of the DSP's
  // C port (the accumulator stays in fabric flip-flops, so the DSP's OPMODE cannot select it).
  if (s.reuse > 1) t.accSelectBit = new Set(s.mults.map((m) => m.co)).size * s.accWidth;
  // Per lane: its channels' accumulators, multipliers and shifts selected by the step counter (an
  // S:1 mux of the accumulator, ROMs of the constants), then requantized. With one shift the
  // shifter is wiring and rounding compares with constants; with D shifts synthesis builds a
  // D-way choice per product bit (the shift is a function of the step counter only).
  const pw = prodWidth(s.accWidth);
  for (const l of macLanes(s)) {
    t.muxBit += muxUnits(l.chans.length, s.accWidth) + (l.chans.length > 1 ? (l.multConst ? 0 : MULT_WIDTH) + (l.shifts > 1 ? clog2(pw + 1) : 0) : 0);
    if (l.multConst && l.shifts === 1) t.requantBit += pw;
    else t.requantSelBit += pw;
    t.requantVarBit += pw * (l.shifts - 1);
  }
  // A channel's output plane is a shift register enabled at its step: one decode per channel.
  t.writeElem = count(s.liveOut);
  return t;
}

function macResources(s: MacStage, unshared: boolean): LayerResources {
  const rom = s.mults.filter((m) => m.kind === 'rom').length;
  const cnst = s.mults.filter((m) => m.kind === 'const').length;
  const shift = s.mults.filter((m) => m.kind === 'shift').length;
  const lanes = macLanes(s);
  // A lane whose channels all lost every multiplier requantizes constants (their biases), which
  // synthesis folds; the linear model (unshared) keeps it, a cost no pattern removes.
  const fed = new Set(s.mults.map((m) => m.co));
  const reqDsp = lanes.reduce((a, l) => a + (unshared || l.chans.some((c) => fed.has(c)) ? requantDsp(s.accWidth, s.laneConst[l.index]!, l.live.map((c) => s.mult[c]!)) : 0), 0);
  const inRead = count(s.readIn);
  const liveOut = count(s.liveOut) * s.pixels;
  const counters = clog2(s.reuse) + 2 * clog2(s.pixels + 1) + clog2(s.steps + 1) + 2 * 8 + 4;
  // A channel without multipliers accumulates its constant bias: no register survives. With R > 1
  // the running sum and the result (acc_q, racc_q) are fabric registers; with R = 1 there is only
  // the result, which Yosys packs into the last DSP48E1's P register of the channel's chain.
  const accumulating = new Set(s.mults.map((m) => m.co)).size;
  const withDsp = new Set(s.mults.filter((m) => m.kind !== 'shift').map((m) => m.co)).size;
  const accRegs = s.reuse > 1 ? 2 * accumulating : accumulating - withDsp;
  const ff = inRead * 8 + liveOut * 8 + accRegs * s.accWidth + counters;
  return {
    layer: s.name,
    op: s.op,
    dsp: distinctProducts(s, unshared) + reqDsp,
    lut: lutOf(macLutTerms(s, unshared)),
    ff,
    bram18: 0,
    multipliers: { rom, const: cnst, shift },
    requantLanes: lanes.length,
    requantDsp: reqDsp,
    romBits: rom * 8 * s.reuse,
  };
}

/** The LUT terms of a pool stage: per live channel a window of compares or adds, one constant lane. */
export function poolLutTerms(s: PoolStage): LutTerms {
  const t = noTerms();
  const live = count(s.liveOut);
  t.poolBit = live * s.kernel[0] * s.kernel[1] * s.accWidth;
  if (s.pixels > 1) t.muxBit = count(s.readIn) * 8;
  t.requantBit = live * prodWidth(s.accWidth);
  t.writeElem = live;
  return t;
}

function poolResources(s: PoolStage): LayerResources {
  const live = count(s.liveOut);
  const inRead = count(s.readIn);
  const outElems = live * s.pixels;
  const reqDsp = live * requantDsp(s.accWidth, true, [s.mult]);
  const ff = inRead * 8 + outElems * 8 + 2 * clog2(s.pixels + 1) + 2 * 8 + 2;
  return { layer: s.name, op: s.op, dsp: reqDsp, lut: lutOf(poolLutTerms(s)), ff, bram18: 0, multipliers: { rom: 0, const: 0, shift: 0 }, requantLanes: live, requantDsp: reqDsp, romBits: 0 };
}

/** A stage's LUT terms (calibration: docs/spatial.md). */
export function stageLutTerms(s: ComputeStage): LutTerms {
  return s.kind === 'mac' ? macLutTerms(s) : poolLutTerms(s);
}

export function stageResources(s: ComputeStage, unshared = false): LayerResources {
  return s.kind === 'mac' ? macResources(s, unshared) : poolResources(s);
}

/** Resources of a plan (generator/spatial/plan.ts). */
export function planResources(plan: SpatialPlan, unshared = false): SpatialResources {
  const perLayer = plan.stages.map((s) => stageResources(s, unshared));
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
export function spatialResources(model: Model, reuse: ReuseConfig, opts: ResourceOptions = {}): SpatialResources {
  return planResources(planSpatial(model, reuse, model.source.file, opts), opts.unshared ?? false);
}
