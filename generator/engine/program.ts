import { unsupported } from '../../src/errors.js';
import { windowOut } from '../../src/ir/shapes.js';
import type { AddLayer, ConcatLayer, ConvLayer, FcLayer, GlobalAvgPoolLayer, Layer, Model, PoolLayer } from '../../src/ir/types.js';
import { layerWhere, roundUp } from './common.js';
import { bitmapBufferBytes, MAX_BUFFER_WORDS, type EngineConfig, type RowWidths } from './config.js';
import type { AddInstr, ComputeInstr, ConvInstr, Instr, LoadInstr, LoadTarget, PoolInstr, StoreInstr } from './isa.js';
import { dataBytes, physicalOf, type TensorLayout } from './layout.js';
import { checkRequant, type GateImage, type WeightImage } from './weights.js';

/**
 * Tiling and instruction lists (docs/engine.md, "Issue rules"). Each layer is a sequence of
 * steps (input band outer, weight chunk inner); each step loads what it needs, computes, and
 * frees an output band. Input bands, weight chunks and output bands alternate buffer halves, so
 * the loads of step i+1 and the store of step i-1 overlap the compute of step i.
 */
export interface ProgramContext {
  config: EngineConfig;
  widths: RowWidths;
  source: string;
  tensors: ReadonlyMap<string, TensorLayout>;
  /** weight/param images and their DRAM addresses, by layer index (conv and fc only) */
  weights: ReadonlyMap<number, PlacedWeights>;
  tiling: Tiling;
}

export interface PlacedWeights {
  image: WeightImage;
  weightAddr: number;
  paramAddr: number;
}

/** Output rows [oy0, oy0+oyCnt) computed from input rows [y0, y0+rows) held in one buffer half. */
export interface Band {
  oy0: number;
  oyCnt: number;
  y0: number;
  rows: number;
}

/** Consecutive PE groups whose weights share one buffer half. */
export interface Chunk {
  g0: number;
  count: number;
  /** first weight row of the chunk within the layer's image */
  row0: number;
  rows: number;
}

/** Buffer capacities in rows, and their halves for double buffering. */
interface Buffers {
  inRows: number;
  outRows: number;
  wRows: number;
  /** words per in/out buffer row */
  actWordsPerRow: number;
  /** weight words per weight row */
  wWordsPerRow: number;
}

function buffers(c: EngineConfig, w: RowWidths): Buffers {
  return {
    inRows: c.inBufBytes / w.wa,
    outRows: c.outBufBytes / w.wa,
    wRows: c.wBufBytes / w.ww,
    actWordsPerRow: w.wa / w.lanes,
    wWordsPerRow: w.ww / w.weightWord,
  };
}

const half = (rows: number): number => Math.floor(rows / 2);

// ---------------------------------------------------------------------------------------------
// Tiling

/** What band planning needs of a layer. */
export interface BandGeometry {
  outH: number;
  /**
   * input rows [y0, y1) that output rows [oy0, oy0+n) read, clipped to the image (and widened to
   * whole block rows for a zero-block input)
   */
  inputRows: (oy0: number, n: number) => [number, number];
  /** in-buffer bytes one input row takes (an ADD holds a row of each operand; a planar input a row of every plane) */
  inRowBytes: number;
  /** out-buffer bytes one output row takes */
  outRowBytes: number;
  /**
   * output rows come in whole groups of this many (bh of a zero-block output): bands start at
   * multiples of it and the out buffer holds whole groups; 1 when absent
   */
  outQuantum?: number;
  /** why a band cannot be used although its rows fit the buffers (bitmap rows beyond the bitmap buffer) */
  bandLimit?: (band: Band) => string | undefined;
}

export function windowRows(h: number, kh: number, sh: number, pt: number): BandGeometry['inputRows'] {
  return (oy0, n) => [Math.max(0, oy0 * sh - pt), Math.min(h, (oy0 + n - 1) * sh - pt + kh)];
}

/** Input rows widened to whole groups of `q` rows (block rows of a zero-block input). */
export function wholeBlockRows(rows: BandGeometry['inputRows'], q: number): BandGeometry['inputRows'] {
  if (q === 1) return rows;
  return (oy0, n) => {
    const [y0, y1] = rows(oy0, n);
    return y1 <= y0 ? [y0, y0] : [Math.floor(y0 / q) * q, roundUp(y1, q)];
  };
}

function bandOf(g: BandGeometry, oy0: number, n: number): Band {
  const [y0, y1] = g.inputRows(oy0, n);
  return { oy0, oyCnt: n, y0, rows: Math.max(0, y1 - y0) };
}

/**
 * How far a layer that fits the buffers at once is still cut up, so that loads and stores overlap
 * compute: with n bands the next band loads and the previous one stores while a band computes,
 * and only the first load and the last store (1/n of the traffic) are exposed; weight chunks
 * likewise for a layer with one band.
 */
export interface Tiling {
  pipelineBands: number;
  pipelineChunks: number;
}

export const DEFAULT_TILING: Readonly<Tiling> = Object.freeze({ pipelineBands: 4, pipelineChunks: 8 });

/**
 * One band in the whole input buffer when the layer fits and `pipeline` is 1; otherwise the
 * largest bands whose input rows fit half of it, at least `pipeline` of them where the output has
 * the rows. Output bands always fit half the output buffer.
 */
export function planBands(g: BandGeometry, c: EngineConfig, w: RowWidths, where: string, pipeline = 1): Band[] {
  const b = buffers(c, w);
  const q = g.outQuantum ?? 1;
  const outHalf = half(b.outRows) * w.wa;
  const inHalf = half(b.inRows) * w.wa;
  const outBytes = (n: number): number => roundUp(n, q) * g.outRowBytes;
  if (outBytes(1) > outHalf) {
    const what = q === 1 ? `one output row takes ${g.outRowBytes} bytes` : `one block row of output (${q} rows of ${g.outRowBytes} bytes) takes ${outBytes(1)} bytes`;
    throw unsupported(where, `${what}; half the out buffer holds ${outHalf} (--out-buf ${c.outBufBytes} is double-buffered; it needs at least ${2 * outBytes(1)})`);
  }
  const all = bandOf(g, 0, g.outH);
  const allBytes = all.rows * g.inRowBytes;
  const limitAll = g.bandLimit?.(all);
  const single = allBytes <= c.inBufBytes && outBytes(g.outH) <= outHalf && !limitAll;
  if (single && (pipeline <= 1 || g.outH <= q)) return [all];
  if (g.outH <= q) throw unsupported(where, limitAll ?? `the layer reads ${allBytes} bytes of input at once; the in buffer holds ${c.inBufBytes} (--in-buf needs at least ${allBytes})`);
  const maxRows = roundUp(Math.ceil(g.outH / Math.max(1, pipeline)), q);
  const fits = (band: Band): boolean =>
    band.rows * g.inRowBytes <= inHalf && outBytes(band.oyCnt) <= outHalf && band.oyCnt <= maxRows && !g.bandLimit?.(band);
  const bands: Band[] = [];
  for (let oy0 = 0; oy0 < g.outH; ) {
    const rest = g.outH - oy0;
    let band = bandOf(g, oy0, Math.min(q, rest));
    if (!fits(band)) {
      const limit = g.bandLimit?.(band);
      if (limit) throw unsupported(where, limit);
      const need = band.rows * g.inRowBytes;
      const what = q === 1 ? 'one output row' : `one block row of output (${band.oyCnt} rows)`;
      throw unsupported(
        where,
        `${what} reads ${band.rows} input rows of ${g.inRowBytes} bytes (${need}); half the in buffer holds ${inHalf} (--in-buf ${c.inBufBytes} is double-buffered; it needs at least ${2 * need})`,
      );
    }
    for (let n = band.oyCnt + q; band.oyCnt < rest; n += q) {
      const next = bandOf(g, oy0, Math.min(n, rest));
      if (!fits(next)) break;
      band = next;
    }
    bands.push(band);
    oy0 += band.oyCnt;
  }
  return bands;
}

/**
 * All groups at once when weights and params fit and `pipeline` is 1; else chunks that fit half
 * of each, double-buffered, at least `pipeline` of them where there are the groups.
 */
export function planChunks(image: WeightImage, c: EngineConfig, w: RowWidths, where: string, pipeline = 1): Chunk[] {
  const b = buffers(c, w);
  const total = image.firstRow[image.groups - 1]! + image.groupRows[image.groups - 1]!;
  if (total <= b.wRows && image.groups <= c.paramRows && (pipeline <= 1 || image.groups === 1)) {
    return [{ g0: 0, count: image.groups, row0: 0, rows: total }];
  }
  const maxGroups = Math.ceil(image.groups / Math.max(1, pipeline));
  const wHalf = half(b.wRows);
  const pHalf = half(c.paramRows);
  const chunks: Chunk[] = [];
  for (let g = 0; g < image.groups; g++) {
    const rows = image.groupRows[g]!;
    if (rows > wHalf) {
      const { nciw } = image.windows[g]!;
      throw unsupported(
        where,
        `one group of ${c.peOc} output channels needs ${rows * w.ww} bytes of weights (${image.taps} taps x ${nciw} words x ${w.weightWord} bytes); ` +
          `the layer's ${total * w.ww} bytes do not fit the weight buffer, and a chunk may take half of it: ${wHalf * w.ww} (--w-buf ${c.wBufBytes}; it needs at least ${2 * rows * w.ww})`,
      );
    }
    const last = chunks[chunks.length - 1];
    if (last && last.rows + rows <= wHalf && last.count < pHalf && last.count < maxGroups) {
      last.count++;
      last.rows += rows;
    } else {
      chunks.push({ g0: g, count: 1, row0: image.firstRow[g]!, rows });
    }
  }
  return chunks;
}

/** Maximal runs of groups with one input window: one CONV instruction each (ciw0/nciw are per instruction). */
export function windowRuns(image: WeightImage, chunk: Chunk): { g0: number; count: number }[] {
  const runs: { g0: number; count: number }[] = [];
  for (let g = chunk.g0; g < chunk.g0 + chunk.count; g++) {
    const last = runs[runs.length - 1];
    const here = image.windows[g]!;
    const prev = last && image.windows[last.g0]!;
    if (last && prev && here.ciw0 === prev.ciw0 && here.nciw === prev.nciw) last.count++;
    else runs.push({ g0: g, count: 1 });
  }
  return runs;
}

// ---------------------------------------------------------------------------------------------
// Scheduling

export interface Step {
  loads: LoadInstr[];
  computes: ComputeInstr[];
  /** the output band this step completes */
  store?: StoreInstr;
}

/**
 * The issue order of docs/engine.md: loads of step 0; then per step its computes (each waits for
 * the DMA: its loads, and the store that freed its output half), the store of the previous step
 * (no wait: this compute issued only once the previous one finished), the loads of the next step.
 * The last store waits for the compute, so layers do not overlap.
 */
export function schedule(steps: readonly Step[]): Instr[] {
  const out: Instr[] = [...steps[0]!.loads];
  steps.forEach((step, i) => {
    for (const c of step.computes) out.push({ ...c, waitDma: true });
    const previous = steps[i - 1]?.store;
    if (previous) out.push(previous);
    const next = steps[i + 1];
    if (next) out.push(...next.loads);
  });
  const last = steps[steps.length - 1]!.store;
  if (!last) throw new Error('engine: the last step of a layer must store its band');
  out.push({ ...last, waitCmp: true });
  return out;
}

const common = (tag: number) => ({ tag, waitDma: false, waitCmp: false });

function load(tag: number, target: LoadTarget, addr: number, bytes: number, row: number): LoadInstr {
  return { op: 'load', ...common(tag), addr, bytes, target, row };
}

function store(tag: number, addr: number, bytes: number, row: number): StoreInstr {
  return { op: 'store', ...common(tag), addr, bytes, row };
}

// ---------------------------------------------------------------------------------------------
// Moving bands of activation tensors: HWC rows, or whole block rows of a planar (zero-block) tensor

/** bh of a planar tensor, 1 for HWC: its bands start and end at multiples of it. */
function rowQuantum(t: TensorLayout): number {
  return t.zeroBlock ? t.zeroBlock.block[1] : 1;
}

/** In/out-buffer bytes one image row of a tensor takes: a row of every plane when planar. */
function bufferRowBytes(t: TensorLayout): number {
  return t.zeroBlock ? t.ncg * t.pitch : t.pitch;
}

/** Rows a whole-tensor band holds: a planar tensor's last block row is whole. */
function allRows(t: TensorLayout): number {
  return t.zeroBlock ? t.zeroBlock.nHb * t.zeroBlock.block[1] : t.shape[1]!;
}

/** Bitmap bytes of a band of `rows` rows (whole block rows) of a planar tensor. */
function bandBitmapBytes(t: TensorLayout, rows: number): number {
  const zb = t.zeroBlock!;
  return (rows / zb.block[1]) * zb.bitmapRowBytes;
}

/**
 * Why a band of `rows` rows of a planar tensor cannot be moved: bitmap rows beyond the bitmap
 * buffer of the decoder (a load, `in`) or the encoder (a store, `out`).
 */
function bitmapLimit(t: TensorLayout, rows: number, c: EngineConfig, which: 'in' | 'out'): string | undefined {
  if (!t.zeroBlock) return undefined;
  const bytes = bandBitmapBytes(t, roundUp(rows, t.zeroBlock.block[1]));
  const room = bitmapBufferBytes(c, which);
  if (bytes <= room) return undefined;
  const unit = which === 'in' ? "decoder's" : "encoder's";
  const flag = which === 'in' ? '--in-buf' : '--out-buf';
  return `a band of ${roundUp(rows, t.zeroBlock.block[1])} rows of zero-block tensor '${t.name}' has ${bytes} bytes of bitmap rows; the ${unit} bitmap buffer holds ${room} (a 32nd of ${flag})`;
}

/** Zero-block fields shared by the decoder (LOAD) and the encoder (STORE). */
function zeroBlockDma(t: TensorLayout, y0: number, rows: number, w: RowWidths) {
  const zb = t.zeroBlock!;
  const [, bh, bw] = zb.block;
  if (y0 % bh !== 0 || rows % bh !== 0) throw new Error(`engine: band rows [${y0}, ${y0 + rows}) of '${t.name}' are not whole block rows of ${bh}`);
  return {
    planes: t.ncg,
    rows,
    nWb: zb.nWb,
    segBeats: (bw * w.lanes) / w.bus,
    bh,
    planeBytes: zb.planeBytes,
    bitmapAddr: t.addr + zb.bitmapOffset + (y0 / bh) * zb.bitmapRowBytes,
    bitmapRowBytes: zb.bitmapRowBytes,
    k: zb.k,
    zeroPoint: t.zeroPoint,
  };
}

/** Image rows [y0, y0+rows) of a tensor into the in buffer from row `row` (planar: whole block rows, through the decoder). */
function loadRows(tag: number, t: TensorLayout, y0: number, rows: number, row: number, w: RowWidths): LoadInstr[] {
  if (rows === 0) return [];
  if (!t.zeroBlock) return [load(tag, 'in', t.addr + y0 * t.pitch, rows * t.pitch, row)];
  const zb = zeroBlockDma(t, y0, rows, w);
  return [{ ...load(tag, 'in', t.addr + y0 * t.pitch, bandBitmapBytes(t, rows), row), zb }];
}

/**
 * Output rows [oy0, oy0+n) of a tensor from out-buffer row `row` to DRAM. A planar band is whole
 * block rows (the last one may reach below the image: validRows says where the image ends), and
 * goes through the encoder.
 */
function storeRows(tag: number, t: TensorLayout, oy0: number, n: number, row: number, w: RowWidths): StoreInstr {
  if (!t.zeroBlock) return store(tag, t.addr + oy0 * t.pitch, n * t.pitch, row);
  const rows = roundUp(n, t.zeroBlock.block[1]);
  const [, h, width] = t.shape as [number, number, number];
  return {
    ...store(tag, t.addr + oy0 * t.pitch, bandBitmapBytes(t, rows), row),
    zb: {
      ...zeroBlockDma(t, oy0, rows, w),
      validRows: Math.min(rows, h - oy0),
      width,
      epsilon: t.zeroBlock.epsilon,
      planeRows: (rows * t.pitch) / w.wa,
      rowRows: t.pitch / w.wa,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Windowed layers: conv, fc, pools

/** A sliding-window layer over one input region, as the CONV and POOL loops see it. */
interface Window {
  tag: number;
  input: TensorLayout;
  output: TensorLayout;
  imgH: number;
  imgW: number;
  /** in-buffer bytes of one image row (every plane of a planar input) */
  inRowBytes: number;
  /** in-buffer words between image rows */
  inPitch: number;
  /** in-buffer words between horizontally adjacent pixels: ncg in HWC, 1 in planar */
  ncgIn: number;
  /** a fully connected layer: its one pixel is the whole input tensor's data, loaded at once */
  fc: boolean;
  outH: number;
  outW: number;
  /** out-buffer bytes of one output row (every plane of a planar output) */
  outRowBytes: number;
  /** out-buffer words between output rows */
  outPitch: number;
  /** out-buffer words between horizontally adjacent pixels: ncg in HWC, 1 in planar */
  ncgOut: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  zpIn: number;
  zpOut: number;
  clamp: [number, number];
}

/** Window fields of a tensor pair; an fc overrides the input side. */
function windowTensors(input: TensorLayout, output: TensorLayout, w: RowWidths) {
  return {
    input,
    output,
    inRowBytes: bufferRowBytes(input),
    inPitch: input.pitch / w.lanes,
    ncgIn: input.zeroBlock ? 1 : input.ncg,
    fc: false,
    outRowBytes: bufferRowBytes(output),
    outPitch: output.pitch / w.lanes,
    ncgOut: output.zeroBlock ? 1 : output.ncg,
  };
}

function windowGeometry(win: Window, c: EngineConfig): BandGeometry {
  const rows = win.fc ? () => [0, 1] as [number, number] : wholeBlockRows(windowRows(win.imgH, win.kh, win.sh, win.pt), rowQuantum(win.input));
  return {
    outH: win.outH,
    inputRows: rows,
    inRowBytes: win.inRowBytes,
    outRowBytes: win.outRowBytes,
    outQuantum: rowQuantum(win.output),
    bandLimit: (band) => bitmapLimit(win.input, win.fc ? allRows(win.input) : band.rows, c, 'in') ?? bitmapLimit(win.output, band.oyCnt, c, 'out'),
  };
}

/** First rows of the halves band `bi` uses: one band alone has the whole input buffer. */
interface StepPlace {
  inRow: number;
  outRow: number;
}

function bandPlace(bands: number, bi: number, b: Buffers): StepPlace {
  return { inRow: bands === 1 ? 0 : (bi % 2) * half(b.inRows), outRow: (bi % 2) * half(b.outRows) };
}

/** Words between channel words of the band in the in buffer (1 in HWC; the band plane in planar). */
function inCwStride(win: Window, band: Band): number {
  return win.input.zeroBlock && !win.fc ? band.rows * win.inPitch : 1;
}

/** Words between channel words of the band in the out buffer. */
function outCwStride(win: Window, band: Band): number {
  return win.output.zeroBlock ? roundUp(band.oyCnt, rowQuantum(win.output)) * win.outPitch : 1;
}

function windowFields(win: Window, band: Band, place: StepPlace, b: Buffers) {
  const iy0 = band.oy0 * win.sh - win.pt;
  return {
    inStart: place.inRow * b.actWordsPerRow + (iy0 - band.y0) * win.inPitch - win.pl * win.ncgIn,
    imgH: win.imgH,
    imgW: win.imgW,
    inPitch: win.inPitch,
    iy0,
    oyCnt: band.oyCnt,
    outW: win.outW,
    kh: win.kh,
    kw: win.kw,
    sh: win.sh,
    sw: win.sw,
    pt: win.pt,
    pl: win.pl,
    outBase: place.outRow * b.actWordsPerRow,
    outPitch: win.outPitch,
    zpIn: win.zpIn,
    zpOut: win.zpOut,
    lo: win.clamp[0],
    hi: win.clamp[1],
  };
}

function bandLoad(win: Window, band: Band, row: number, w: RowWidths): LoadInstr[] {
  if (win.fc) return loadRows(win.tag, win.input, 0, allRows(win.input), row, w);
  return loadRows(win.tag, win.input, band.y0, band.rows, row, w);
}

function bandStore(win: Pick<Window, 'tag' | 'output'>, band: Band, row: number, w: RowWidths): StoreInstr {
  return storeRows(win.tag, win.output, band.oy0, band.oyCnt, row, w);
}

/**
 * Bands and chunks of a conv. A layer whose input and weights both fit at once is pipelined over
 * whichever is larger to load: weight chunks (one band, weights stream through the half buffers)
 * or input bands (weights resident). Pipelining both would reload the weights for every band.
 */
function convTiling(win: Window, image: WeightImage, ctx: ProgramContext, where: string): { bands: Band[]; chunks: Chunk[] } {
  const { config: c, widths: w, tiling } = ctx;
  const geometry = windowGeometry(win, c);
  const natural = { bands: planBands(geometry, c, w, where), chunks: planChunks(image, c, w, where) };
  if (natural.bands.length > 1) return natural;
  const weightBytes = natural.chunks.reduce((s, ch) => s + ch.rows, 0) * w.ww;
  const inputBytes = natural.bands[0]!.rows * win.inRowBytes;
  if (weightBytes >= inputBytes) {
    // Streaming weights only pays when computing a chunk takes longer than loading the next one;
    // a DRAM-bound layer (an fc on one pixel) would just expose a DRAM latency per chunk.
    const taps = image.windows.reduce((s, g) => s + g.nciw, 0) * image.taps;
    const computeCycles = win.outH * win.outW * taps;
    const loadCycles = weightBytes / Math.min(c.busBytes, c.dramBytesPerCycle);
    if (computeCycles < loadCycles) return natural;
    return { bands: natural.bands, chunks: planChunks(image, c, w, where, tiling.pipelineChunks) };
  }
  if (natural.chunks.length > 1) return natural;
  const bands = planBands(geometry, c, w, where, tiling.pipelineBands);
  return { bands, chunks: natural.chunks };
}

/** Conv and fc: bands outer, weight chunks inner; one CONV per window run of a chunk. */
function convSteps(win: Window, placed: PlacedWeights, ctx: ProgramContext, where: string): Step[] {
  if (placed.image.gate) return gatedConvSteps(win, placed, placed.image.gate, ctx, where);
  const { config: c, widths: w } = ctx;
  const b = buffers(c, w);
  const { image } = placed;
  const { bands, chunks } = convTiling(win, image, ctx, where);
  const outWords = win.output.ncg;
  const steps: Step[] = [];
  bands.forEach((band, bi) => {
    const place = bandPlace(bands.length, bi, b);
    const base = windowFields(win, band, place, b);
    const cwStride = inCwStride(win, band);
    const ocs = outCwStride(win, band);
    chunks.forEach((chunk, ci) => {
      const i = steps.length;
      const wRow = chunks.length === 1 ? 0 : (i % 2) * half(b.wRows);
      const pRow = chunks.length === 1 ? 0 : (i % 2) * half(c.paramRows);
      const loads = ci === 0 && (bands.length > 1 || bi === 0) ? bandLoad(win, band, place.inRow, w) : [];
      if (chunks.length > 1 || i === 0) {
        loads.push(load(win.tag, 'weight', placed.weightAddr + chunk.row0 * w.ww, chunk.rows * w.ww, wRow));
        loads.push(load(win.tag, 'param', placed.paramAddr + chunk.g0 * w.wp, chunk.count * w.wp, pRow));
      }
      const computes = windowRuns(image, chunk).map((run): ConvInstr => {
        const { ciw0, nciw } = image.windows[run.g0]!;
        const firstWord = Math.floor((run.g0 * c.peOc) / w.lanes);
        return {
          op: 'conv',
          ...common(win.tag),
          ...base,
          ncgIn: win.ncgIn,
          ciw0Off: ciw0 * cwStride,
          nciw,
          wb0: (wRow + image.firstRow[run.g0]! - chunk.row0) * b.wWordsPerRow,
          gstride: image.groupRows[run.g0]! * b.wWordsPerRow,
          ng: run.count,
          pb0: pRow + run.g0 - chunk.g0,
          outGoff: firstWord * ocs,
          g0Lane: (run.g0 * c.peOc) % w.lanes,
          wordsLeft: outWords - firstWord,
          ncgOut: win.ncgOut,
          cwStride,
          outCwStride: ocs,
          ...(skipsZeroTaps(win, nciw, c) ? { skip: true } : {}),
        };
      });
      const store = ci === chunks.length - 1 ? bandStore(win, band, place.outRow, w) : undefined;
      steps.push({ loads, computes, ...(store ? { store } : {}) });
    });
  });
  return steps;
}

/**
 * A gated conv (docs/engine.md, "Channel gating"): its whole weight image and its 2*groups
 * parameter rows stay resident (loaded once), input bands pipeline through the in-buffer halves,
 * one gate-mode CONV per band runs every group pixel by pixel. Its receptive-field buffers hold
 * SkipTaps base and SkipTaps rest words per pixel.
 */
function gatedConvSteps(win: Window, placed: PlacedWeights, gate: GateImage, ctx: ProgramContext, where: string): Step[] {
  const { config: c, widths: w } = ctx;
  const b = buffers(c, w);
  const { image } = placed;
  const rows = image.groupRows[0]!;
  if (rows > b.wRows) {
    throw unsupported(where, `a gated conv keeps its whole weight image resident: ${rows * w.ww} bytes; the weight buffer holds ${c.wBufBytes} (--w-buf)`);
  }
  if (2 * image.groups > c.paramRows) {
    throw unsupported(where, `a gated conv needs two parameter rows per group of ${c.peOc} output channels (${2 * image.groups}); --param-rows is ${c.paramRows}`);
  }
  const baseWords = gate.gstride;
  const restWords = gate.restWords;
  if (Math.max(baseWords, restWords) > c.skipTaps) {
    throw unsupported(where, `a gated conv's pixel has ${baseWords} base and ${restWords} rest words; the receptive-field buffers hold ${c.skipTaps} each (--skip-taps)`);
  }
  if (win.fc) throw new Error('engine: a gated fc layer does not exist');
  const bands = planBands(windowGeometry(win, c), c, w, where, ctx.tiling.pipelineBands);
  const nciw = image.windows[0]!.nciw;
  return bands.map((band, bi): Step => {
    const place = bandPlace(bands.length, bi, b);
    const loads = bandLoad(win, band, place.inRow, w);
    if (bi === 0) {
      loads.push(load(win.tag, 'weight', placed.weightAddr, rows * w.ww, 0));
      loads.push(load(win.tag, 'param', placed.paramAddr, 2 * image.groups * w.wp, 0));
    }
    const conv: ConvInstr = {
      op: 'conv',
      ...common(win.tag),
      ...windowFields(win, band, place, b),
      ncgIn: win.ncgIn,
      ciw0Off: 0,
      nciw,
      wb0: 0,
      gstride: gate.gstride,
      ng: image.groups,
      pb0: 0,
      outGoff: 0,
      g0Lane: 0,
      wordsLeft: win.output.ncg,
      ncgOut: win.ncgOut,
      cwStride: inCwStride(win, band),
      outCwStride: outCwStride(win, band),
      gate: { nb: gate.nb, kmod: gate.kmod, crest: gate.crest, wr0: gate.restWord0 },
    };
    return { loads, computes: [conv], store: bandStore(win, band, place.outRow, w) };
  });
}

/**
 * A conv over a zero-block input skips the taps of zero blocks (skip mode), unless its taps per
 * pixel overflow the tap table, or it reads the tensor with another zero point than the one the
 * decoder fills zero blocks with (a view with its own quantization): skipping a tap is exact only
 * because a zero block's words are the conv's centring value.
 */
function skipsZeroTaps(win: Window, nciw: number, c: EngineConfig): boolean {
  return win.input.zeroBlock !== undefined && win.input.zeroPoint === win.zpIn && win.kh * win.kw * nciw <= c.skipTaps;
}

/**
 * Pools: one POOL per band walking the channel words of each pixel, or, for a planar input of
 * several planes, one POOL per plane (ncg 1): POOL's ncg is both the channel words walked and the
 * input words between adjacent pixels (kx and, through ncg_sw, ox steps), which are 1 in planar.
 */
function poolSteps(win: Window, mode: { multiplier: number; shift: number; average: boolean }, ctx: ProgramContext, where: string): Step[] {
  const { config: c, widths: w } = ctx;
  const b = buffers(c, w);
  const bands = planBands(windowGeometry(win, c), c, w, where, ctx.tiling.pipelineBands);
  const planes = win.input.ncg;
  const perPlane = win.input.zeroBlock !== undefined && planes > 1;
  return bands.map((band, bi): Step => {
    const place = bandPlace(bands.length, bi, b);
    const fields = windowFields(win, band, place, b);
    const cwStride = inCwStride(win, band);
    const ocs = outCwStride(win, band);
    const pool = (cg: number, ncg: number): PoolInstr => ({
      op: 'pool',
      ...common(win.tag),
      ...fields,
      inStart: fields.inStart + cg * cwStride,
      ncg,
      ncgOut: win.ncgOut,
      cwOff: cg * ocs,
      cwStride,
      outCwStride: ocs,
      ...mode,
    });
    const computes = perPlane ? Array.from({ length: planes }, (_, cg) => pool(cg, 1)) : [pool(0, planes)];
    return { loads: bandLoad(win, band, place.inRow, w), computes, store: bandStore(win, band, place.outRow, w) };
  });
}

// ---------------------------------------------------------------------------------------------
// Per-op lowering

function zeroPointOf(m: Model, name: string): number {
  return m.tensors.find((t) => t.name === name)!.quant.zeroPoint;
}

interface LayerInput {
  model: Model;
  layer: Layer;
  tag: number;
  where: string;
  ctx: ProgramContext;
}

function mapWindow(x: LayerInput, l: ConvLayer | PoolLayer, clamp: [number, number]): Window {
  const input = physicalOf(x.ctx.tensors, l.inputs[0]!);
  const output = physicalOf(x.ctx.tensors, l.output);
  const [, h, w] = input.shape as [number, number, number];
  const [pt, pl, pb, pr] = l.pads;
  return {
    tag: x.tag,
    ...windowTensors(input, output, x.ctx.widths),
    imgH: h,
    imgW: w,
    outH: windowOut(h, l.kernel[0], l.stride[0], pt, pb),
    outW: windowOut(w, l.kernel[1], l.stride[1], pl, pr),
    kh: l.kernel[0],
    kw: l.kernel[1],
    sh: l.stride[0],
    sw: l.stride[1],
    pt,
    pl,
    zpIn: zeroPointOf(x.model, l.inputs[0]!),
    zpOut: zeroPointOf(x.model, l.output),
    clamp,
  };
}

function convLayer(x: LayerInput, l: ConvLayer): Step[] {
  return convSteps(mapWindow(x, l, l.clamp), x.ctx.weights.get(x.tag)!, x.ctx, x.where);
}

/**
 * A 1x1 conv over a 1x1 image whose one pixel is the whole input region's data (of a planar
 * region, every plane's band of all its rows, as the decoder loads it).
 */
function fcLayer(x: LayerInput, l: FcLayer): Step[] {
  const input = physicalOf(x.ctx.tensors, l.inputs[0]!);
  const output = physicalOf(x.ctx.tensors, l.output);
  const words = dataBytes(input) / x.ctx.widths.lanes;
  const win: Window = {
    tag: x.tag,
    ...windowTensors(input, output, x.ctx.widths),
    inRowBytes: dataBytes(input),
    inPitch: words,
    ncgIn: words,
    fc: true,
    imgH: 1,
    imgW: 1,
    outH: 1,
    outW: 1,
    kh: 1,
    kw: 1,
    sh: 1,
    sw: 1,
    pt: 0,
    pl: 0,
    zpIn: zeroPointOf(x.model, l.inputs[0]!),
    zpOut: zeroPointOf(x.model, l.output),
    clamp: l.clamp,
  };
  return convSteps(win, x.ctx.weights.get(x.tag)!, x.ctx, x.where);
}

function poolLayer(x: LayerInput, l: PoolLayer): Step[] {
  checkRequant(l.requant, x.where);
  const mode = { multiplier: l.requant.multiplier[0]!, shift: l.requant.shift[0]!, average: l.op === 'avgpool' };
  return poolSteps(mapWindow(x, l, l.clamp), mode, x.ctx, x.where);
}

/** Average pooling with the kernel the size of the map; the kernel fields are 8 bits. */
function globalAvgPoolLayer(x: LayerInput, l: GlobalAvgPoolLayer): Step[] {
  checkRequant(l.requant, x.where);
  const input = physicalOf(x.ctx.tensors, l.inputs[0]!);
  const [, h, w] = input.shape as [number, number, number];
  if (h > 255 || w > 255) throw unsupported(x.where, `the ${h}x${w} map exceeds the 255x255 pooling window of the engine`);
  const win = mapWindow(x, { ...l, op: 'avgpool', kernel: [h, w], stride: [1, 1], pads: [0, 0, 0, 0] }, l.clamp);
  return poolSteps(win, { multiplier: l.requant.multiplier[0]!, shift: l.requant.shift[0]!, average: true }, x.ctx, x.where);
}

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return (a / gcd(a, b)) * b;
}

/**
 * Both operands of a band sit in the same in-buffer half, A's rows then B's. HWC operands: one
 * ADD per band. Planar ones (every tensor of the add zero-block annotated): one ADD per plane,
 * bands of whole block rows of all three tensors. ADD has one input pitch and walks contiguous
 * words, so the two layouts cannot mix.
 */
function addLayer(x: LayerInput, l: AddLayer): Step[] {
  checkRequant(l.requant, x.where);
  const { config: c, widths: w } = x.ctx;
  const b = buffers(c, w);
  const [a, bIn] = l.inputs.map((n) => physicalOf(x.ctx.tensors, n)) as [TensorLayout, TensorLayout];
  const out = physicalOf(x.ctx.tensors, l.output);
  const all = [a, bIn, out];
  const planar = all.filter((t) => t.zeroBlock).length;
  if (planar > 0 && planar < 3) {
    const names = all.map((t) => `'${t.name}' ${t.zeroBlock ? 'zero-block (planar)' : 'dense (HWC)'}`).join(', ');
    throw unsupported(x.where, `an add needs its operands and result all zero-block annotated or none (one ADD walks contiguous words of one layout): ${names}`);
  }
  const sameShape = (t: TensorLayout) => t.shape.join(',') === out.shape.join(',');
  if (!sameShape(a) || !sameShape(bIn) || (planar === 0 && (a.pitch !== out.pitch || bIn.pitch !== out.pitch))) {
    throw unsupported(x.where, `operands laid out as [${a.shape.join(',')}] and [${bIn.shape.join(',')}] differ from the result's [${out.shape.join(',')}]`);
  }
  if (planar > 0 && a.pitch !== bIn.pitch) {
    throw unsupported(x.where, `operands '${a.name}' and '${bIn.name}' have planar rows of ${a.pitch} and ${bIn.pitch} bytes (block widths ${a.zeroBlock!.block[2]} and ${bIn.zeroBlock!.block[2]}); one ADD reads both with one pitch`);
  }
  const [, h, width] = out.shape as [number, number, number];
  const q = all.reduce((m, t) => lcm(m, rowQuantum(t)), 1);
  const rowsOf = (t: TensorLayout, band: Band): number => (planar ? roundUp(band.oy0 + band.oyCnt, rowQuantum(t)) - band.oy0 : band.oyCnt);
  const g: BandGeometry = {
    outH: h,
    inputRows: (oy0, n) => [oy0, oy0 + Math.max(...[a, bIn].map((t) => rowsOf(t, { oy0, oyCnt: n, y0: oy0, rows: n })))],
    inRowBytes: bufferRowBytes(a) + bufferRowBytes(bIn),
    outRowBytes: bufferRowBytes(out),
    outQuantum: q,
    bandLimit: (band) => bitmapLimit(a, rowsOf(a, band), c, 'in') ?? bitmapLimit(bIn, rowsOf(bIn, band), c, 'in') ?? bitmapLimit(out, band.oyCnt, c, 'out'),
  };
  const bands = planBands(g, c, w, x.where, x.ctx.tiling.pipelineBands);
  return bands.map((band, bi): Step => {
    const { inRow, outRow } = bandPlace(bands.length, bi, b);
    const rowsA = rowsOf(a, band);
    const rowsB = rowsOf(bIn, band);
    const rowsOut = planar ? roundUp(band.oyCnt, rowQuantum(out)) : band.oyCnt;
    const bRow = inRow + (rowsA * bufferRowBytes(a)) / w.wa;
    const add = (cg: number): AddInstr => ({
      op: 'add',
      ...common(x.tag),
      aBase: inRow * b.actWordsPerRow + cg * rowsA * (a.pitch / w.lanes),
      bBase: bRow * b.actWordsPerRow + cg * rowsB * (bIn.pitch / w.lanes),
      rows: band.oyCnt,
      rowWords: planar ? width : width * out.ncg,
      inPitch: a.pitch / w.lanes,
      outBase: outRow * b.actWordsPerRow + cg * rowsOut * (out.pitch / w.lanes),
      outPitch: out.pitch / w.lanes,
      zpA: zeroPointOf(x.model, l.inputs[0]!),
      zpB: zeroPointOf(x.model, l.inputs[1]!),
      zpOut: zeroPointOf(x.model, l.output),
      lo: l.clamp[0],
      hi: l.clamp[1],
      multA: l.requant.multiplier[0]!,
      multB: l.requant.multiplier[1]!,
      shift: l.requant.shift[0]!,
    });
    return {
      loads: [...loadRows(x.tag, a, band.oy0, rowsA, inRow, w), ...loadRows(x.tag, bIn, band.oy0, rowsB, bRow, w)],
      computes: planar ? Array.from({ length: out.ncg }, (_, cg) => add(cg)) : [add(0)],
      store: storeRows(x.tag, out, band.oy0, band.oyCnt, outRow, w),
    };
  });
}

/**
 * Channel concat: per band, every input's rows sit in the in buffer one after another and a 1x1
 * average POOL per input requantizes them (its own zero point, multiplier, shift) into its
 * channel words of the output pixels. An input must start at a whole word: a multiple of L.
 * HWC tensors only.
 */
function concatLayer(x: LayerInput, l: ConcatLayer): Step[] {
  checkRequant(l.requant, x.where);
  const { config: c, widths: w } = x.ctx;
  const b = buffers(c, w);
  const ins = l.inputs.map((n) => physicalOf(x.ctx.tensors, n));
  const out = physicalOf(x.ctx.tensors, l.output);
  const annotated = [...ins, out].find((t) => t.zeroBlock);
  if (annotated) {
    throw unsupported(
      x.where,
      `concat of zero-block tensors is not supported by the engine: '${annotated.name}' has a zeroBlock annotation (concat writes each input into channel words of wider HWC pixels); remove the annotations of the concat's inputs and result`,
    );
  }
  const [, h, width] = out.shape as [number, number, number];
  let channel = 0;
  const offsets = ins.map((t, i) => {
    const [ci, hi, wi] = t.shape as [number, number, number];
    if (hi !== h || wi !== width) throw unsupported(x.where, `input ${i} is ${hi}x${wi}, the result ${h}x${width}`);
    if (channel % w.lanes !== 0) {
      throw unsupported(x.where, `input ${i} ('${l.inputs[i]}') starts at channel ${channel}, not a multiple of the ${w.lanes} lanes of an activation word`);
    }
    const cw = channel / w.lanes;
    channel += ci;
    return cw;
  });
  const inRowBytes = ins.reduce((s, t) => s + t.pitch, 0);
  const g: BandGeometry = { outH: h, inputRows: (oy0, n) => [oy0, oy0 + n], inRowBytes, outRowBytes: out.pitch };
  const bands = planBands(g, c, w, x.where, x.ctx.tiling.pipelineBands);
  const zpOut = zeroPointOf(x.model, l.output);
  return bands.map((band, bi): Step => {
    const place = bandPlace(bands.length, bi, b);
    const loads: LoadInstr[] = [];
    const computes: PoolInstr[] = [];
    let row = place.inRow;
    ins.forEach((t, i) => {
      const win: Window = {
        tag: x.tag,
        ...windowTensors(t, out, w),
        imgH: h,
        imgW: width,
        outH: h,
        outW: width,
        kh: 1,
        kw: 1,
        sh: 1,
        sw: 1,
        pt: 0,
        pl: 0,
        zpIn: zeroPointOf(x.model, l.inputs[i]!),
        zpOut,
        clamp: l.clamp,
      };
      loads.push(...bandLoad(win, band, row, w));
      computes.push({
        op: 'pool',
        ...common(x.tag),
        ...windowFields(win, band, { inRow: row, outRow: place.outRow }, b),
        ncg: t.ncg,
        ncgOut: out.ncg,
        cwOff: offsets[i]!,
        cwStride: 1,
        outCwStride: 1,
        multiplier: l.requant.multiplier[i]!,
        shift: l.requant.shift[i]!,
        average: true,
      });
      row += (band.rows * t.pitch) / w.wa;
    });
    return { loads, computes, store: storeRows(x.tag, out, band.oy0, band.oyCnt, place.outRow, w) };
  });
}

/** Steps of one layer; a reshape is a view and has none. */
export function layerSteps(x: LayerInput): Step[] {
  const l = x.layer;
  switch (l.op) {
    case 'conv':
      return convLayer(x, l);
    case 'fc':
      return fcLayer(x, l);
    case 'maxpool':
    case 'avgpool':
      return poolLayer(x, l);
    case 'globalavgpool':
      return globalAvgPoolLayer(x, l);
    case 'add':
      return addLayer(x, l);
    case 'reshape':
      return [];
    case 'concat':
      return concatLayer(x, l);
    case 'transpose':
      throw unsupported(x.where, 'transpose is not supported by the engine (layout changes belong before the model input)');
  }
}

/** The whole program: every layer's schedule, then END (tagged like the last instruction, so its cycles stay with that layer). */
export function compileProgram(model: Model, ctx: ProgramContext): Instr[] {
  const program: Instr[] = [];
  model.layers.forEach((layer, tag) => {
    const steps = layerSteps({ model, layer, tag, where: layerWhere(ctx.source, layer), ctx });
    if (steps.length === 0) return;
    const layerProgram = schedule(steps);
    prefetchGatedWeights(program, layerProgram, ctx);
    program.push(...layerProgram);
  });
  const lastTag = program[program.length - 1]?.tag ?? 0;
  program.push({ op: 'end', ...common(lastTag) });
  return program;
}

/**
 * A gated conv keeps its whole weight image resident and cannot start before it is in; its weight
 * and parameter LOADs move up to right after the program's last CONV (else its last compute
 * instruction), so they run while that CONV (the previous conv layer's last band) and what follows
 * it (pools, adds: they read neither) compute, into weight words and parameter rows that CONV does
 * not read (the image moves past them when they overlap; no move when it then does not fit). No
 * weight or parameter LOAD lies between: only conv layers load them, and a conv layer's loads come
 * before its CONVs.
 */
function prefetchGatedWeights(program: Instr[], layer: Instr[], ctx: ProgramContext): void {
  const conv = layer.find((i): i is ConvInstr => i.op === 'conv' && i.gate !== undefined);
  if (!conv) return;
  // after the last CONV (pools and adds read no weights or parameters), else the last compute
  const last = (ops: readonly Instr['op'][]): number => {
    for (let k = program.length - 1; k >= 0; k--) if (ops.includes(program[k]!.op)) return k;
    return -1;
  };
  let j = last(['conv']);
  if (j < 0) j = last(['pool', 'add']);
  if (j < 0) return;
  const wi = layer.findIndex((i) => i.op === 'load' && i.target === 'weight');
  const pi = layer.findIndex((i) => i.op === 'load' && i.target === 'param');
  if (wi < 0 || pi < 0 || layer.indexOf(conv) < Math.max(wi, pi)) return;
  const wl = layer[wi] as LoadInstr;
  const pl = layer[pi] as LoadInstr;
  const { config: c, widths: w } = ctx;
  const b = buffers(c, w);
  const wRows = wl.bytes / w.ww;
  const pRows = pl.bytes / w.wp;
  // weight words and parameter rows the previous compute reads: [start, end)
  const prev = program[j]!;
  let words: [number, number] = [0, 0];
  let params: [number, number] = [0, 0];
  if (prev.op === 'conv') {
    words = prev.gate ? [prev.wb0, prev.gate.wr0 + prev.ng * c.peOc * prev.gate.crest] : [prev.wb0, prev.wb0 + prev.ng * prev.gstride];
    params = [prev.pb0, prev.pb0 + (prev.gate ? 2 : 1) * prev.ng];
  }
  const overlaps = (a0: number, a1: number, r: [number, number]): boolean => r[1] > r[0] && a0 < r[1] && r[0] < a1;
  let wRow = 0;
  if (overlaps(0, wRows * b.wWordsPerRow, words)) wRow = Math.ceil(words[1] / b.wWordsPerRow);
  let pRow = 0;
  if (overlaps(0, pRows, params)) pRow = params[1];
  if (wRow + wRows > b.wRows || pRow + pRows > c.paramRows || (wRow + wRows) * b.wWordsPerRow > MAX_BUFFER_WORDS) return;
  if (overlaps(wRow * b.wWordsPerRow, (wRow + wRows) * b.wWordsPerRow, words) || overlaps(pRow, pRow + pRows, params)) return;
  const off = wRow * b.wWordsPerRow;
  for (let k = 0; k < layer.length; k++) {
    const i = layer[k]!;
    if (i.op === 'conv' && i.gate) layer[k] = { ...i, wb0: i.wb0 + off, pb0: i.pb0 + pRow, gate: { ...i.gate, wr0: i.gate.wr0 + off } };
  }
  // under the tag of the CONV they follow: layer_tag_o (the harness' cycle and byte counters)
  // then stays with the layer whose compute they overlap
  const tag = program[j]!.tag;
  const moved: Instr[] = [
    { ...wl, tag, row: wl.row + wRow },
    { ...pl, tag, row: pl.row + pRow },
  ];
  layer.splice(Math.max(wi, pi), 1);
  layer.splice(Math.min(wi, pi), 1);
  program.splice(j + 1, 0, ...moved);
}
