import { unsupported } from '../../src/errors.js';
import { MAX_SHIFT, MULTIPLIER_BITS } from '../../src/ir/numerics.js';
import type { ConvLayer, FcLayer, Requant } from '../../src/ir/types.js';
import { ceilDiv } from './common.js';
import type { EngineConfig, RowWidths } from './config.js';
import { dataBytes, regionElementIndex, type RegionGeometry } from './layout.js';

/**
 * Weight and parameter images of conv and fc layers (docs/engine.md, "DRAM layout"). A PE group
 * is PeOc consecutive output channels; it reads the input words ciw0 .. ciw0+nciw-1 of each tap.
 */
export interface GroupWindow {
  ciw0: number;
  nciw: number;
}

export interface WeightImage {
  /** PE groups; together they cover every word of the output, padding lanes included */
  groups: number;
  /** input words each group reads */
  windows: GroupWindow[];
  /** weight-buffer rows of each group (its words padded to whole rows) */
  groupRows: number[];
  /** first row of each group within `weights` */
  firstRow: number[];
  /** kh * kw */
  taps: number;
  /** groups' words, contiguous, each group padded to whole Ww rows */
  weights: Uint8Array;
  /** one Wp row per group: per channel int32 bias, uint16 multiplier, uint8 shift, uint8 0 (a gated conv: then one threshold row per group) */
  params: Uint8Array;
  /** a gated conv (docs/engine.md, "Channel gating"): base and rest sections of the one weight image */
  gate?: GateImage;
}

/**
 * Gated conv weight layout: base words per group, then rest words per output channel. The
 * receptive field of a pixel is packed as two byte streams (docs/engine.md, "Channel gating"):
 * the base channels of every tap side by side (tap t's channel c < k at byte t*k + c) and the
 * rest channels (k .. nciw*L-1, padding lanes included: they hold the zero point) likewise, so a
 * base count that is not a multiple of L costs no partial words per tap.
 */
export interface GateImage {
  /** words of a tap that hold base channels: ceil(k / L) */
  nb: number;
  /** first word of a tap that holds rest channels: floor(k / L) */
  jr: number;
  /** k % L: the lane where the rest channels of word jr start */
  kmod: number;
  /** base weight words per group (and base words of a pixel): ceil(kh*kw*k / L) */
  gstride: number;
  /** rest words of a pixel: ceil(kh*kw*(nciw*L - k) / L) */
  restWords: number;
  /** weight words of one output channel's rest pass: ceil(restWords / PeOc) */
  crest: number;
  /** word of channel 0's rest section within the image: groups * gstride */
  restWord0: number;
}

export const MAX_MULTIPLIER = 2 ** MULTIPLIER_BITS - 1;

/**
 * The requantization unit takes a 15-bit unsigned multiplier and a shift in 1..52; anything
 * else would be silently truncated by the hardware.
 */
export function checkRequant(r: Requant, where: string): void {
  r.multiplier.forEach((m, i) => {
    if (!(m >= 0 && m <= MAX_MULTIPLIER)) {
      throw unsupported(where, `requantization multiplier ${m} (entry ${i}) does not fit ${MULTIPLIER_BITS} bits unsigned`);
    }
  });
  r.shift.forEach((s, i) => {
    if (!(s >= 1 && s <= MAX_SHIFT)) throw unsupported(where, `requantization shift ${s} (entry ${i}) is outside 1..${MAX_SHIFT}`);
  });
}

/**
 * Enough groups to write every output word: with PeOc < L a group fills part of a word, and the
 * spare lanes of the last word must still receive the zero point (padding params give it).
 */
export function groupCount(co: number, c: EngineConfig): number {
  return ceilDiv(ceilDiv(co, c.peIc) * c.peIc, c.peOc);
}

/** Input words read by the real output channels of each group; padding groups reuse the last window. */
function convWindows(l: ConvLayer, ci: number, c: EngineConfig, groups: number): GroupWindow[] {
  const co = l.bias.length;
  const cinPerGroup = ci / l.groups;
  const coPerGroup = co / l.groups;
  const windows: GroupWindow[] = [];
  for (let g = 0; g < groups; g++) {
    const co0 = g * c.peOc;
    if (co0 >= co) {
      windows.push(windows[g - 1]!);
      continue;
    }
    const coLast = Math.min(co0 + c.peOc, co) - 1;
    const lo = Math.floor(co0 / coPerGroup) * cinPerGroup;
    const hi = (Math.floor(coLast / coPerGroup) + 1) * cinPerGroup;
    const ciw0 = Math.floor(lo / c.peIc);
    windows.push({ ciw0, nciw: Math.floor((hi - 1) / c.peIc) - ciw0 + 1 });
  }
  return windows;
}

/** Row bookkeeping of a set of group windows. */
function imageShape(windows: GroupWindow[], taps: number, w: RowWidths): Pick<WeightImage, 'groupRows' | 'firstRow'> & { rows: number } {
  const groupRows = windows.map((win) => ceilDiv(taps * win.nciw * w.weightWord, w.ww));
  const firstRow: number[] = [];
  let rows = 0;
  for (const r of groupRows) {
    firstRow.push(rows);
    rows += r;
  }
  return { groupRows, firstRow, rows };
}

/** Word `(ky*kw+kx)*nciw + j` of group g, byte `r*PeIc + c` = w[co0+r][(ciw0+j)*L+c][ky][kx] when connected. */
export function convWeightImage(l: ConvLayer, ci: number, c: EngineConfig, w: RowWidths, where: string): WeightImage {
  checkRequant(l.requant, where);
  if (l.gating) return gatedConvWeightImage(l, ci, c, w, where);
  const co = l.bias.length;
  const [kh, kw] = l.kernel;
  const taps = kh * kw;
  const groups = groupCount(co, c);
  const windows = convWindows(l, ci, c, groups);
  const shape = imageShape(windows, taps, w);
  const out = new Uint8Array(shape.rows * w.ww);
  const cinPerGroup = ci / l.groups;
  const coPerGroup = co / l.groups;
  const L = c.peIc;
  for (let g = 0; g < groups; g++) {
    const { ciw0, nciw } = windows[g]!;
    const base = shape.firstRow[g]! * w.ww;
    const tapStride = nciw * w.weightWord;
    for (let r = 0; r < c.peOc; r++) {
      const o = g * c.peOc + r;
      if (o >= co) break;
      const ciLo = Math.floor(o / coPerGroup) * cinPerGroup;
      const from = Math.max(ciLo, ciw0 * L);
      const to = Math.min(ciLo + cinPerGroup, (ciw0 + nciw) * L);
      for (let i = from; i < to; i++) {
        const dst = base + (Math.floor(i / L) - ciw0) * w.weightWord + r * L + (i % L);
        const src = (o * cinPerGroup + i - ciLo) * taps;
        for (let t = 0; t < taps; t++) out[dst + t * tapStride] = l.weights[src + t]! & 0xff;
      }
    }
  }
  return { groups, windows, ...shape, taps, weights: out, params: paramImage(l.bias, l.requant, groups, c, w) };
}

/**
 * A fully connected layer is a 1x1 conv over one pixel: the whole input region's data (a planar
 * region's bitmap excluded), `dataBytes / L` words. Its weight columns follow the region's byte
 * order (a flatten view of a [C,H,W] map is HWC with padding, or CHWc planar); padding bytes get
 * weight 0.
 */
export function fcWeightImage(l: FcLayer, input: RegionGeometry & { bytes: number }, c: EngineConfig, w: RowWidths, where: string): WeightImage {
  checkRequant(l.requant, where);
  const co = l.bias.length;
  const ci = l.weights.length / co;
  const groups = groupCount(co, c);
  const window = { ciw0: 0, nciw: dataBytes(input) / c.peIc };
  const windows = Array.from({ length: groups }, () => window);
  const shape = imageShape(windows, 1, w);
  const out = new Uint8Array(shape.rows * w.ww);
  const element = regionElementIndex(input, c.peIc);
  const L = c.peIc;
  for (let o = 0; o < co; o++) {
    const g = Math.floor(o / c.peOc);
    const lane = (o % c.peOc) * L;
    const base = shape.firstRow[g]! * w.ww;
    for (let p = 0; p < element.length; p++) {
      const e = element[p]!;
      if (e >= 0) out[base + Math.floor(p / L) * w.weightWord + lane + (p % L)] = l.weights[o * ci + e]! & 0xff;
    }
  }
  return { groups, windows, ...shape, taps: 1, weights: out, params: paramImage(l.bias, l.requant, groups, c, w) };
}

/** Padding channels: bias 0, multiplier 0, shift 1, so their output is the zero point. */
function paramImage(bias: Int32Array, r: Requant, groups: number, c: EngineConfig, w: RowWidths): Uint8Array {
  const out = new Uint8Array(groups * w.wp);
  const view = new DataView(out.buffer);
  for (let g = 0; g < groups; g++) {
    for (let k = 0; k < c.peOc; k++) {
      const o = g * c.peOc + k;
      const at = g * w.wp + 8 * k;
      const real = o < bias.length;
      view.setInt32(at, real ? bias[o]! : 0, true);
      view.setUint16(at + 4, real ? r.multiplier[o]! : 0, true);
      view.setUint8(at + 6, real ? r.shift[o]! : 1);
    }
  }
  return out;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

/**
 * A gated conv (groups 1): the base section holds, per group, `gstride` words of the packed base
 * stream: byte `p = word*L + lane` of row r is `w[co0+r][ci = p % k][tap = floor(p / k)]`; the
 * rest section, per output channel c (padding channels included, all zero), `crest` words whose
 * row r, word i holds rest word `rt = i*PeOc + r` of the packed rest stream: byte
 * `p = rt*L + lane` is channel `k + p % R` of tap `floor(p / R)` with `R = nciw*L - k` (0 for
 * padding channels and bytes past the stream). Parameter rows: `groups` rows as for a dense conv, then `groups`
 * threshold rows: per channel at 8r int32 `threshold - bias` (clamped to int32: the hardware
 * compares the base sum before the bias) and at 8r+4 the below flag; padding channels int32 max
 * and below 0, never on.
 */
function gatedConvWeightImage(l: ConvLayer, ci: number, c: EngineConfig, w: RowWidths, where: string): WeightImage {
  const gating = l.gating!;
  const co = l.bias.length;
  const [kh, kw] = l.kernel;
  const taps = kh * kw;
  const L = c.peIc;
  const groups = groupCount(co, c);
  const nciw = ceilDiv(ci, L);
  const k = gating.baseChannels;
  const nb = ceilDiv(k, L);
  const jr = Math.floor(k / L);
  const R = nciw * L - k;
  const gstride = ceilDiv(taps * k, L);
  const restWords = ceilDiv(taps * R, L);
  const crest = ceilDiv(restWords, c.peOc);
  if (nb > 255) throw unsupported(where, `gated conv: ${nb} base channel words per tap exceed the 255 of the instruction`);
  const restWord0 = groups * gstride;
  const words = restWord0 + groups * c.peOc * crest;
  const rows = ceilDiv(words * w.weightWord, w.ww);
  const out = new Uint8Array(rows * w.ww);
  const W = (o: number, i: number, t: number): number => l.weights[(o * ci + i) * taps + t]! & 0xff;
  for (let o = 0; o < co; o++) {
    const g = Math.floor(o / c.peOc);
    const r = o % c.peOc;
    for (let p = 0; p < taps * k; p++) {
      const word = g * gstride + Math.floor(p / L);
      out[word * w.weightWord + r * L + (p % L)] = W(o, p % k, Math.floor(p / k));
    }
    for (let p = 0; p < taps * R; p++) {
      const i = k + (p % R);
      if (i >= ci) continue;
      const rt = Math.floor(p / L);
      const word = restWord0 + o * crest + Math.floor(rt / c.peOc);
      out[word * w.weightWord + (rt % c.peOc) * L + (p % L)] = W(o, i, Math.floor(p / R));
    }
  }
  const dense = paramImage(l.bias, l.requant, groups, c, w);
  const params = new Uint8Array(2 * groups * w.wp);
  params.set(dense);
  const view = new DataView(params.buffer);
  for (let g = 0; g < groups; g++) {
    for (let r = 0; r < c.peOc; r++) {
      const o = g * c.peOc + r;
      const at = (groups + g) * w.wp + 8 * r;
      const real = o < co;
      const thr = real ? Math.min(INT32_MAX, Math.max(INT32_MIN, gating.threshold[o]! - l.bias[o]!)) : INT32_MAX;
      view.setInt32(at, thr, true);
      view.setUint8(at + 4, real && gating.below?.[o] ? 1 : 0);
    }
  }
  const window = { ciw0: 0, nciw };
  return {
    groups,
    windows: Array.from({ length: groups }, () => window),
    groupRows: [rows],
    firstRow: [0],
    taps,
    weights: out,
    params,
    gate: { nb, jr, kmod: k % L, gstride, restWords, crest, restWord0 },
  };
}
