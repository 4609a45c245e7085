import { unsupported } from '../../src/errors.js';
import type { Model, ReshapeLayer, TensorInfo, ZeroBlockConfig } from '../../src/ir/types.js';
import { ceilDiv, chw, layerWhere, roundUp } from './common.js';
import type { RowWidths } from './config.js';

/**
 * DRAM layout of activation tensors (docs/engine.md, "DRAM layout"): HWC with channels padded to
 * L lanes, rows padded to the in/out buffer row width; a tensor with a zeroBlock annotation is
 * channel-group planar (CHWc) with its bitmap after the data ("Planar layout of an annotated
 * tensor"). The entries are exactly map.json's `tensors`, so the simulation side can pack inputs
 * and unpack outputs from map.json alone.
 */
export interface TensorLayout {
  name: string;
  /** byte address of the region (of the viewed region for a view) */
  addr: number;
  /** [C,H,W] of a region; a view keeps its own IR shape (a vector) */
  shape: number[];
  /** words of L lanes per pixel; P, the planes, of a planar tensor */
  ncg: number;
  /** bytes per image row, a multiple of Wa; pitchP (bytes per row of one plane) of a planar tensor */
  pitch: number;
  /** H * pitch; P * planeBytes + nHb * bitmapRowBytes (data, then bitmap) of a planar tensor */
  bytes: number;
  zeroPoint: number;
  /** a reshape to a vector: no bytes of its own; element i is element i (CHW order) of this tensor */
  viewOf?: string;
  /** present for a zero-block annotated (planar) region */
  zeroBlock?: ZeroBlockLayout;
}

/**
 * Geometry of a planar region: word (cg, y, x) at `cg*planeBytes + y*pitch + x*L`, bitmap row hb
 * at `bitmapOffset + hb*bitmapRowBytes` holding bit `cb*nWb + wb` (LSB first) = 1 for a non-zero block.
 */
export interface ZeroBlockLayout {
  /** bc x bh x bw */
  block: [number, number, number];
  epsilon: number;
  /** planes per block: bc / L */
  k: number;
  /** blocks along W, H and planes: ceil(W/bw), ceil(H/bh), ceil(P/k) */
  nWb: number;
  nHb: number;
  nCb: number;
  /** words per row of a plane, nWb * bw (pitch / L) */
  rowWords: number;
  /** nHb * bh * pitch */
  planeBytes: number;
  /** P * planeBytes: where the bitmap starts in the region */
  bitmapOffset: number;
  /** bytes per bitmap row: roundUp(ceil(nCb*nWb/8), B) */
  bitmapRowBytes: number;
  /**
   * Not annotated in the IR: laid out planar because an add shares it with zero-block tensors
   * (epsilon 0, which changes no value; see impliedZeroBlocks)
   */
  implied?: true;
}

/** What packing needs of a layout: a region's geometry and its padding value. */
export type RegionGeometry = Pick<TensorLayout, 'shape' | 'ncg' | 'pitch' | 'zeroPoint' | 'zeroBlock'>;

/** Every region starts at a multiple of 64 bytes and of every row width (all powers of two). */
export function regionAlignment(w: RowWidths): number {
  return Math.max(64, w.wa, w.ww, w.wp);
}

/** ncg, pitch and size of a [C,H,W] region. */
export function regionSize(shape: readonly [number, number, number], w: RowWidths): { ncg: number; pitch: number; bytes: number } {
  const [c, h, wd] = shape;
  const ncg = Math.ceil(c / w.lanes);
  const pitch = roundUp(wd * ncg * w.lanes, w.wa);
  return { ncg, pitch, bytes: h * pitch };
}

/** Beats of the longest burst on the memory port; a block row segment is one burst. */
export const MAX_SEGMENT_BEATS = 64;

/**
 * Why the engine cannot skip zero blocks of this shape on this configuration (docs/engine.md,
 * "Planar layout"), or undefined: a block must be whole activation words deep (bc a multiple of
 * L) and a block's row segment whole DRAM beats (bw*L a multiple of B), at most one burst.
 */
export function zeroBlockConstraint(block: readonly number[], w: Pick<RowWidths, 'lanes' | 'bus'>): string | undefined {
  const [bc, , bw] = block as [number, number, number];
  const problems: string[] = [];
  if (bc % w.lanes !== 0) problems.push(`bc = ${bc} is not a multiple of the ${w.lanes} lanes of an activation word (PeIc)`);
  if ((bw * w.lanes) % w.bus !== 0) problems.push(`a block row segment of bw*L = ${bw}*${w.lanes} = ${bw * w.lanes} bytes is not whole ${w.bus}-byte DRAM beats (--bus-bytes)`);
  else if ((bw * w.lanes) / w.bus > MAX_SEGMENT_BEATS) problems.push(`a block row segment of bw*L = ${bw * w.lanes} bytes is ${(bw * w.lanes) / w.bus} beats, more than one ${MAX_SEGMENT_BEATS}-beat burst`);
  if (problems.length === 0) return undefined;
  return `the engine cannot skip zero blocks of ${block.join('x')}: ${problems.join('; ')}`;
}

/** ncg (P), pitch, size and planar geometry of a zero-block annotated [C,H,W] region. */
export function planarRegionSize(
  shape: readonly [number, number, number],
  zb: NonNullable<TensorInfo['zeroBlock']>,
  w: RowWidths,
): { ncg: number; pitch: number; bytes: number; zeroBlock: ZeroBlockLayout } {
  const [c, h, wd] = shape;
  const [bc, bh, bw] = zb.block;
  const planes = ceilDiv(c, w.lanes);
  const k = bc / w.lanes;
  const nWb = ceilDiv(wd, bw);
  const nHb = ceilDiv(h, bh);
  const nCb = ceilDiv(planes, k);
  const rowWords = nWb * bw;
  const pitch = rowWords * w.lanes;
  const planeBytes = nHb * bh * pitch;
  const bitmapRowBytes = roundUp(ceilDiv(nCb * nWb, 8), w.bus);
  const bitmapOffset = planes * planeBytes;
  const zeroBlock: ZeroBlockLayout = { block: [bc, bh, bw], epsilon: zb.epsilon, k, nWb, nHb, nCb, rowWords, planeBytes, bitmapOffset, bitmapRowBytes };
  return { ncg: planes, pitch, bytes: bitmapOffset + nHb * bitmapRowBytes, zeroBlock };
}

/** Bytes of a region before its bitmap (all of a dense region). */
export function dataBytes(t: Pick<TensorLayout, 'shape' | 'pitch' | 'bytes' | 'zeroBlock'>): number {
  return t.zeroBlock ? t.zeroBlock.bitmapOffset : t.bytes;
}

export interface ActivationLayout {
  /** the model input first, then every layer output in layer order */
  tensors: TensorLayout[];
  byName: Map<string, TensorLayout>;
  /** first byte after the last region */
  end: number;
}

/** The layout a view's bytes follow (a region is its own). */
export function physicalOf(tensors: ReadonlyMap<string, TensorLayout>, name: string): TensorLayout {
  let t = tensors.get(name);
  while (t?.viewOf !== undefined) t = tensors.get(t.viewOf);
  if (!t) throw new Error(`engine layout: tensor '${name}' has no region`);
  return t;
}

/**
 * A reshape moves no bytes when its result is a vector (a fully connected layer reads any region
 * in its byte order, see weights.ts) or when it keeps the [C,H,W] of the region it reads.
 */
function isView(outShape: readonly number[], region: TensorLayout): boolean {
  return outShape.length === 1 || outShape.join(',') === region.shape.join(',');
}

/**
 * Zero-block annotations the engine adds to tensors the IR leaves dense. One ADD walks contiguous
 * words of one layout, so the operands and result of an add that has a zero-block tensor among
 * them are all planar: an unannotated one gets blocks L channels deep with the height and width
 * of an annotated operand (else the result) and epsilon 0, which changes no value (a block
 * becomes the zero point only when it already is). Repeated until no add changes; tensors a
 * concat reads or writes stay HWC (concat writes channel words of HWC pixels).
 */
export function impliedZeroBlocks(model: Model, w: Pick<RowWidths, 'lanes'>): Map<string, ZeroBlockConfig> {
  const infos = new Map(model.tensors.map((t) => [t.name, t]));
  const root = new Map<string, string>();
  for (const l of model.layers) if (l.op === 'reshape') root.set(l.output, root.get(l.inputs[0]!) ?? l.inputs[0]!);
  const physical = (n: string): string => root.get(n) ?? n;
  const hwcOnly = new Set(model.layers.filter((l) => l.op === 'concat').flatMap((l) => [...l.inputs, l.output].map(physical)));
  const implied = new Map<string, ZeroBlockConfig>();
  const annotation = (n: string): ZeroBlockConfig | undefined => infos.get(n)?.zeroBlock ?? implied.get(n);
  for (let changed = true; changed; ) {
    changed = false;
    for (const l of model.layers) {
      if (l.op !== 'add') continue;
      const members = [...l.inputs, l.output].map(physical);
      const template = members.map(annotation).find((a) => a !== undefined);
      if (!template) continue;
      for (const m of members) {
        if (annotation(m) || hwcOnly.has(m)) continue;
        implied.set(m, { block: [w.lanes, template.block[1], template.block[2]], epsilon: 0 });
        changed = true;
      }
    }
  }
  return implied;
}

/** Regions for the model input and every layer output from `base` on; reshapes become views. */
export function allocateActivations(model: Model, w: RowWidths, base: number, source: string): ActivationLayout {
  const align = regionAlignment(w);
  const infos = new Map(model.tensors.map((t) => [t.name, t]));
  const implied = impliedZeroBlocks(model, w);
  const tensors: TensorLayout[] = [];
  const byName = new Map<string, TensorLayout>();
  let cursor = base;
  const region = (name: string, where: string): void => {
    const info = infos.get(name)!;
    const shape = chw(info.shape);
    if (!shape) throw unsupported(where, `tensor '${name}' has shape [${info.shape.join(',')}]; the engine lays out [C,H,W] maps and vectors only`);
    const addr = roundUp(cursor, align);
    let size: Pick<TensorLayout, 'ncg' | 'pitch' | 'bytes' | 'zeroBlock'> = regionSize(shape, w);
    const zb = info.zeroBlock ?? implied.get(name);
    if (zb) {
      const why = zeroBlockConstraint(zb.block, w);
      if (why) throw unsupported(`${source}: tensor '${name}'`, why);
      size = planarRegionSize(shape, zb, w);
      if (!info.zeroBlock) size.zeroBlock!.implied = true;
    }
    const t: TensorLayout = { name, addr, shape: [...shape], ncg: size.ncg, pitch: size.pitch, bytes: size.bytes, zeroPoint: info.quant.zeroPoint, ...(size.zeroBlock ? { zeroBlock: size.zeroBlock } : {}) };
    cursor = addr + t.bytes;
    tensors.push(t);
    byName.set(name, t);
  };
  for (const name of model.inputs) region(name, `${source}: input '${name}'`);
  for (const l of model.layers) {
    if (l.op === 'reshape') {
      const t = viewLayout(l, infos.get(l.output)!.shape, infos.get(l.output)!.quant.zeroPoint, byName, source);
      tensors.push(t);
      byName.set(t.name, t);
    } else {
      region(l.output, layerWhere(source, l));
    }
  }
  return { tensors, byName, end: cursor };
}

function viewLayout(
  l: ReshapeLayer,
  shape: readonly number[],
  zeroPoint: number,
  byName: ReadonlyMap<string, TensorLayout>,
  source: string,
): TensorLayout {
  const root = physicalOf(byName, l.inputs[0]!);
  if (!isView(shape, root)) {
    throw unsupported(
      layerWhere(source, l),
      `reshape of [${root.shape.join(',')}] to [${shape.join(',')}] would move bytes; the engine supports reshapes to vectors (flatten) only`,
    );
  }
  const { addr, ncg, pitch, bytes } = root;
  return { name: l.output, addr, shape: [...shape], ncg, pitch, bytes, zeroPoint, viewOf: root.name };
}

// ---------------------------------------------------------------------------------------------
// Packing (shared with the simulation side)

function dims(g: RegionGeometry): [number, number, number] {
  const s = chw(g.shape);
  if (!s || g.shape.length !== 3 || s.some((d) => !(d >= 1))) throw new Error(`engine layout: pack/unpack needs a region ([C,H,W]), got [${g.shape.join(',')}]; resolve views with physicalOf`);
  return s;
}

/**
 * The zero blocks of a tensor (CHW order int8) under a block shape: one flag per block in [cb][hb][wb]
 * order (the golden model's order), 1 = non-zero, i.e. some real element has |v - zp| > eps.
 * Edge blocks are partial. After encoding (any eps) a block is non-zero iff an element differs
 * from the zero point, so eps 0 on encoded values gives the bitmap the encoder wrote.
 */
export function blockFlags(data: ArrayLike<number>, shape: readonly [number, number, number], zeroPoint: number, block: readonly number[], eps = 0): Uint8Array {
  const [c, h, w] = shape;
  const [bc, bh, bw] = block as [number, number, number];
  const gc = ceilDiv(c, bc);
  const gh = ceilDiv(h, bh);
  const gw = ceilDiv(w, bw);
  const flags = new Uint8Array(gc * gh * gw);
  for (let ch = 0; ch < c; ch++) {
    const cb = Math.floor(ch / bc);
    for (let y = 0; y < h; y++) {
      const row = (cb * gh + Math.floor(y / bh)) * gw;
      const at = (ch * h + y) * w;
      for (let x = 0; x < w; x++) if (Math.abs(data[at + x]! - zeroPoint) > eps) flags[row + Math.floor(x / bw)] = 1;
    }
  }
  return flags;
}

/** The bitmap rows of a planar region from block flags in [cb][hb][wb] order. */
export function packBitmap(zb: ZeroBlockLayout, flags: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(zb.nHb * zb.bitmapRowBytes);
  for (let cb = 0; cb < zb.nCb; cb++) {
    for (let hb = 0; hb < zb.nHb; hb++) {
      for (let wb = 0; wb < zb.nWb; wb++) {
        if (!flags[(cb * zb.nHb + hb) * zb.nWb + wb]) continue;
        const bit = cb * zb.nWb + wb;
        out[hb * zb.bitmapRowBytes + (bit >> 3)]! |= 1 << (bit & 7);
      }
    }
  }
  return out;
}

/** Block flags in [cb][hb][wb] order from a planar region's bytes (its bitmap rows). */
export function unpackBitmap(g: RegionGeometry, bytes: Uint8Array): Uint8Array {
  const zb = g.zeroBlock;
  if (!zb) throw new Error('engine layout: unpackBitmap needs a planar (zero-block) region');
  const flags = new Uint8Array(zb.nCb * zb.nHb * zb.nWb);
  for (let cb = 0; cb < zb.nCb; cb++) {
    for (let hb = 0; hb < zb.nHb; hb++) {
      for (let wb = 0; wb < zb.nWb; wb++) {
        const bit = cb * zb.nWb + wb;
        flags[(cb * zb.nHb + hb) * zb.nWb + wb] = (bytes[zb.bitmapOffset + hb * zb.bitmapRowBytes + (bit >> 3)]! >> (bit & 7)) & 1;
      }
    }
  }
  return flags;
}

/** Byte offset of element (ch, y, x) within a region (planar or HWC). */
function elementOffset(g: RegionGeometry, lanes: number, ch: number, y: number, x: number): number {
  const cg = Math.floor(ch / lanes);
  if (g.zeroBlock) return cg * g.zeroBlock.planeBytes + y * g.pitch + x * lanes + (ch % lanes);
  return y * g.pitch + (x * g.ncg + cg) * lanes + (ch % lanes);
}

/**
 * Region bytes of a tensor given in logical CHW order (int8); `lanes` is L (PeIc of map.json's
 * config). Padding lanes hold the zero point, so a consumer reading them sees real zero; row
 * padding is 0. A planar (zero-block) region is written as the encoder would: blocks within
 * epsilon of the zero point become the zero point and get a 0 in the bitmap; every byte that is
 * not a real element (padding lanes, columns, rows) holds the zero point.
 */
export function packTensor(g: RegionGeometry, lanes: number, data: Int8Array): Uint8Array {
  const [c, h, w] = dims(g);
  if (data.length !== c * h * w) throw new Error(`engine layout: ${data.length} values for shape [${c},${h},${w}]`);
  const zp = g.zeroPoint & 0xff;
  if (g.zeroBlock) {
    const zb = g.zeroBlock;
    const out = new Uint8Array(zb.bitmapOffset + zb.nHb * zb.bitmapRowBytes).fill(zp, 0, zb.bitmapOffset);
    const flags = blockFlags(data, [c, h, w], g.zeroPoint, zb.block, zb.epsilon);
    const [bc, bh, bw] = zb.block;
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        const row = (Math.floor(ch / bc) * zb.nHb + Math.floor(y / bh)) * zb.nWb;
        for (let x = 0; x < w; x++) {
          if (flags[row + Math.floor(x / bw)]) out[elementOffset(g, lanes, ch, y, x)] = data[(ch * h + y) * w + x]! & 0xff;
        }
      }
    }
    out.set(packBitmap(zb, flags), zb.bitmapOffset);
    return out;
  }
  const out = new Uint8Array(h * g.pitch);
  const pixel = g.ncg * lanes;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = y * g.pitch + x * pixel;
      for (let ch = 0; ch < c; ch++) out[at + ch] = data[(ch * h + y) * w + x]! & 0xff;
      for (let ch = c; ch < pixel; ch++) out[at + ch] = zp;
    }
  }
  return out;
}

/**
 * Logical CHW int8 values of a region's bytes (padding ignored). A planar region is read as the
 * decoder reads it: elements of zero blocks (bitmap 0) are the zero point, whatever DRAM holds there.
 */
export function unpackTensor(g: RegionGeometry, lanes: number, bytes: Uint8Array): Int8Array {
  const [c, h, w] = dims(g);
  const need = g.zeroBlock ? g.zeroBlock.bitmapOffset + g.zeroBlock.nHb * g.zeroBlock.bitmapRowBytes : h * g.pitch;
  if (bytes.length < need) throw new Error(`engine layout: ${bytes.length} bytes for a region of ${need}`);
  const out = new Int8Array(c * h * w);
  if (g.zeroBlock) {
    const zb = g.zeroBlock;
    const flags = unpackBitmap(g, bytes);
    const [bc, bh, bw] = zb.block;
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        const row = (Math.floor(ch / bc) * zb.nHb + Math.floor(y / bh)) * zb.nWb;
        for (let x = 0; x < w; x++) {
          out[(ch * h + y) * w + x] = flags[row + Math.floor(x / bw)] ? (bytes[elementOffset(g, lanes, ch, y, x)]! << 24) >> 24 : g.zeroPoint;
        }
      }
    }
    return out;
  }
  const pixel = g.ncg * lanes;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = y * g.pitch + x * pixel;
      for (let ch = 0; ch < c; ch++) out[(ch * h + y) * w + x] = (bytes[at + ch]! << 24) >> 24;
    }
  }
  return out;
}

/**
 * For each byte of a region's data (the bitmap excluded), the CHW index of the element stored
 * there, or -1 for padding. A fully connected layer permutes its weight columns with it: it reads
 * the data as one pixel, which for a planar region the decoder loads in the same order.
 */
export function regionElementIndex(g: RegionGeometry, lanes: number): Int32Array {
  const [c, h, w] = dims(g);
  const map = new Int32Array(g.zeroBlock ? g.zeroBlock.bitmapOffset : h * g.pitch).fill(-1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) map[elementOffset(g, lanes, ch, y, x)] = (ch * h + y) * w + x;
    }
  }
  return map;
}
