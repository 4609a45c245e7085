import { unsupported } from '../../src/errors.js';
import { windowOut } from '../../src/ir/shapes.js';
import type { AddLayer, ConcatLayer, ConvLayer, FcLayer, GlobalAvgPoolLayer, Layer, Model, PoolLayer } from '../../src/ir/types.js';
import { layerWhere } from './common.js';
import type { EngineConfig, RowWidths } from './config.js';
import type { AddInstr, ComputeInstr, ConvInstr, Instr, LoadInstr, LoadTarget, PoolInstr, StoreInstr } from './isa.js';
import { physicalOf, type TensorLayout } from './layout.js';
import { checkRequant, type WeightImage } from './weights.js';

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
  /** input rows [y0, y1) that output rows [oy0, oy0+n) read, clipped to the image */
  inputRows: (oy0: number, n: number) => [number, number];
  /** in-buffer bytes one input row takes (an ADD holds a row of each operand) */
  inRowBytes: number;
  outRowBytes: number;
}

export function windowRows(h: number, kh: number, sh: number, pt: number): BandGeometry['inputRows'] {
  return (oy0, n) => [Math.max(0, oy0 * sh - pt), Math.min(h, (oy0 + n - 1) * sh - pt + kh)];
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
  const outHalf = half(b.outRows) * w.wa;
  const inHalf = half(b.inRows) * w.wa;
  if (g.outRowBytes > outHalf) {
    throw unsupported(where, `one output row takes ${g.outRowBytes} bytes; half the out buffer holds ${outHalf} (--out-buf ${c.outBufBytes} is double-buffered; it needs at least ${2 * g.outRowBytes})`);
  }
  const all = bandOf(g, 0, g.outH);
  const allBytes = all.rows * g.inRowBytes;
  const single = allBytes <= c.inBufBytes && g.outH * g.outRowBytes <= outHalf;
  if (single && (pipeline <= 1 || g.outH === 1)) return [all];
  if (g.outH === 1) throw unsupported(where, `the layer reads ${allBytes} bytes of input at once; the in buffer holds ${c.inBufBytes} (--in-buf needs at least ${allBytes})`);
  const maxRows = Math.ceil(g.outH / Math.max(1, pipeline));
  const fits = (band: Band): boolean => band.rows * g.inRowBytes <= inHalf && band.oyCnt * g.outRowBytes <= outHalf && band.oyCnt <= maxRows;
  const bands: Band[] = [];
  for (let oy0 = 0; oy0 < g.outH; ) {
    let band = bandOf(g, oy0, 1);
    if (!fits(band)) {
      const need = band.rows * g.inRowBytes;
      throw unsupported(
        where,
        `one output row reads ${band.rows} input rows of ${g.inRowBytes} bytes (${need}); half the in buffer holds ${inHalf} (--in-buf ${c.inBufBytes} is double-buffered; it needs at least ${2 * need})`,
      );
    }
    for (let next = bandOf(g, oy0, 2); oy0 + next.oyCnt <= g.outH && fits(next); next = bandOf(g, oy0, next.oyCnt + 1)) band = next;
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
// Windowed layers: conv, fc, pools

/** A sliding-window layer over one input region, as the CONV and POOL loops see it. */
interface Window {
  tag: number;
  input: TensorLayout;
  output: TensorLayout;
  imgH: number;
  imgW: number;
  /** bytes of one image row in DRAM and in the in buffer */
  inRowBytes: number;
  /** words per pixel the window steps over */
  ncgIn: number;
  outH: number;
  outW: number;
  outRowBytes: number;
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

function windowGeometry(win: Window): BandGeometry {
  return { outH: win.outH, inputRows: windowRows(win.imgH, win.kh, win.sh, win.pt), inRowBytes: win.inRowBytes, outRowBytes: win.outRowBytes };
}

/** First rows of the halves band `bi` uses: one band alone has the whole input buffer. */
interface StepPlace {
  inRow: number;
  outRow: number;
}

function bandPlace(bands: number, bi: number, b: Buffers): StepPlace {
  return { inRow: bands === 1 ? 0 : (bi % 2) * half(b.inRows), outRow: (bi % 2) * half(b.outRows) };
}

function windowFields(win: Window, band: Band, place: StepPlace, b: Buffers, lanes: number) {
  const inPitch = win.inRowBytes / lanes;
  const iy0 = band.oy0 * win.sh - win.pt;
  return {
    inStart: place.inRow * b.actWordsPerRow + (iy0 - band.y0) * inPitch - win.pl * win.ncgIn,
    imgH: win.imgH,
    imgW: win.imgW,
    inPitch,
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
    outPitch: win.outRowBytes / lanes,
    zpIn: win.zpIn,
    zpOut: win.zpOut,
    lo: win.clamp[0],
    hi: win.clamp[1],
  };
}

function bandLoad(win: Window, band: Band, row: number): LoadInstr[] {
  if (band.rows === 0) return [];
  return [load(win.tag, 'in', win.input.addr + band.y0 * win.inRowBytes, band.rows * win.inRowBytes, row)];
}

function bandStore(win: Pick<Window, 'tag' | 'output' | 'outRowBytes'>, band: Band, row: number): StoreInstr {
  return store(win.tag, win.output.addr + band.oy0 * win.outRowBytes, band.oyCnt * win.outRowBytes, row);
}

/**
 * Bands and chunks of a conv. A layer whose input and weights both fit at once is pipelined over
 * whichever is larger to load: weight chunks (one band, weights stream through the half buffers)
 * or input bands (weights resident). Pipelining both would reload the weights for every band.
 */
function convTiling(win: Window, image: WeightImage, ctx: ProgramContext, where: string): { bands: Band[]; chunks: Chunk[] } {
  const { config: c, widths: w, tiling } = ctx;
  const geometry = windowGeometry(win);
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
  const { config: c, widths: w } = ctx;
  const b = buffers(c, w);
  const { image } = placed;
  const { bands, chunks } = convTiling(win, image, ctx, where);
  const ncgOut = win.output.ncg;
  const outWords = win.output.ncg;
  const cwStride = 1;
  const outCwStride = 1;
  const steps: Step[] = [];
  bands.forEach((band, bi) => {
    const place = bandPlace(bands.length, bi, b);
    const base = windowFields(win, band, place, b, w.lanes);
    chunks.forEach((chunk, ci) => {
      const i = steps.length;
      const wRow = chunks.length === 1 ? 0 : (i % 2) * half(b.wRows);
      const pRow = chunks.length === 1 ? 0 : (i % 2) * half(c.paramRows);
      const loads = ci === 0 && (bands.length > 1 || bi === 0) ? bandLoad(win, band, place.inRow) : [];
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
          outGoff: firstWord * outCwStride,
          g0Lane: (run.g0 * c.peOc) % w.lanes,
          wordsLeft: outWords - firstWord,
          ncgOut,
          cwStride,
          outCwStride,
        };
      });
      const store = ci === chunks.length - 1 ? bandStore(win, band, place.outRow) : undefined;
      steps.push({ loads, computes, ...(store ? { store } : {}) });
    });
  });
  return steps;
}

function poolSteps(win: Window, mode: { multiplier: number; shift: number; average: boolean }, ctx: ProgramContext, where: string): Step[] {
  const { config: c, widths: w } = ctx;
  const b = buffers(c, w);
  const bands = planBands(windowGeometry(win), c, w, where, ctx.tiling.pipelineBands);
  return bands.map((band, bi): Step => {
    const place = bandPlace(bands.length, bi, b);
    const compute: PoolInstr = {
      op: 'pool',
      ...common(win.tag),
      ...windowFields(win, band, place, b, w.lanes),
      ncg: win.ncgIn,
      ncgOut: win.ncgIn,
      cwOff: 0,
      cwStride: 1,
      outCwStride: 1,
      ...mode,
    };
    return { loads: bandLoad(win, band, place.inRow), computes: [compute], store: bandStore(win, band, place.outRow) };
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
    input,
    output,
    imgH: h,
    imgW: w,
    inRowBytes: input.pitch,
    ncgIn: input.ncg,
    outH: windowOut(h, l.kernel[0], l.stride[0], pt, pb),
    outW: windowOut(w, l.kernel[1], l.stride[1], pl, pr),
    outRowBytes: output.pitch,
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

/** A 1x1 conv over a 1x1 image whose one pixel is the whole input region. */
function fcLayer(x: LayerInput, l: FcLayer): Step[] {
  const input = physicalOf(x.ctx.tensors, l.inputs[0]!);
  const output = physicalOf(x.ctx.tensors, l.output);
  const win: Window = {
    tag: x.tag,
    input,
    output,
    imgH: 1,
    imgW: 1,
    inRowBytes: input.bytes,
    ncgIn: input.bytes / x.ctx.widths.lanes,
    outH: 1,
    outW: 1,
    outRowBytes: output.pitch,
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

/** Both operands of a band sit in the same in-buffer half, A's rows then B's. */
function addLayer(x: LayerInput, l: AddLayer): Step[] {
  checkRequant(l.requant, x.where);
  const { config: c, widths: w } = x.ctx;
  const b = buffers(c, w);
  const [a, bIn] = l.inputs.map((n) => physicalOf(x.ctx.tensors, n)) as [TensorLayout, TensorLayout];
  const out = physicalOf(x.ctx.tensors, l.output);
  const same = (t: TensorLayout) => t.shape.join(',') === out.shape.join(',') && t.pitch === out.pitch;
  if (!same(a) || !same(bIn)) {
    throw unsupported(x.where, `operands laid out as [${a.shape.join(',')}] and [${bIn.shape.join(',')}] differ from the result's [${out.shape.join(',')}]`);
  }
  const [, h, width] = out.shape as [number, number, number];
  const pitch = out.pitch;
  const g: BandGeometry = { outH: h, inputRows: (oy0, n) => [oy0, oy0 + n], inRowBytes: 2 * pitch, outRowBytes: pitch };
  const bands = planBands(g, c, w, x.where, x.ctx.tiling.pipelineBands);
  return bands.map((band, bi): Step => {
    const { inRow, outRow } = bandPlace(bands.length, bi, b);
    const bRow = inRow + (band.rows * pitch) / w.wa;
    const compute: AddInstr = {
      op: 'add',
      ...common(x.tag),
      aBase: inRow * b.actWordsPerRow,
      bBase: bRow * b.actWordsPerRow,
      rows: band.oyCnt,
      rowWords: width * out.ncg,
      inPitch: pitch / w.lanes,
      outBase: outRow * b.actWordsPerRow,
      outPitch: pitch / w.lanes,
      zpA: zeroPointOf(x.model, l.inputs[0]!),
      zpB: zeroPointOf(x.model, l.inputs[1]!),
      zpOut: zeroPointOf(x.model, l.output),
      lo: l.clamp[0],
      hi: l.clamp[1],
      multA: l.requant.multiplier[0]!,
      multB: l.requant.multiplier[1]!,
      shift: l.requant.shift[0]!,
    };
    const bytes = band.rows * pitch;
    return {
      loads: [load(x.tag, 'in', a.addr + band.y0 * pitch, bytes, inRow), load(x.tag, 'in', bIn.addr + band.y0 * pitch, bytes, bRow)],
      computes: [compute],
      store: store(x.tag, out.addr + band.oy0 * pitch, bytes, outRow),
    };
  });
}

/**
 * Channel concat: per band, every input's rows sit in the in buffer one after another and a 1x1
 * average POOL per input requantizes them (its own zero point, multiplier, shift) into its
 * channel words of the output pixels. An input must start at a whole word: a multiple of L.
 */
function concatLayer(x: LayerInput, l: ConcatLayer): Step[] {
  checkRequant(l.requant, x.where);
  const { config: c, widths: w } = x.ctx;
  const b = buffers(c, w);
  const ins = l.inputs.map((n) => physicalOf(x.ctx.tensors, n));
  const out = physicalOf(x.ctx.tensors, l.output);
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
        input: t,
        output: out,
        imgH: h,
        imgW: width,
        inRowBytes: t.pitch,
        ncgIn: t.ncg,
        outH: h,
        outW: width,
        outRowBytes: out.pitch,
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
      loads.push(...bandLoad(win, band, row));
      computes.push({
        op: 'pool',
        ...common(x.tag),
        ...windowFields(win, band, { inRow: row, outRow: place.outRow }, b, w.lanes),
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
    return { loads, computes, store: bandStore({ tag: x.tag, output: out, outRowBytes: out.pitch }, band, place.outRow) };
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
    if (steps.length > 0) program.push(...schedule(steps));
  });
  const lastTag = program[program.length - 1]?.tag ?? 0;
  program.push({ op: 'end', ...common(lastTag) });
  return program;
}
