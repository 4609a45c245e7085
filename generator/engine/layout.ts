import { unsupported } from '../../src/errors.js';
import type { Model, ReshapeLayer } from '../../src/ir/types.js';
import { chw, layerWhere, roundUp } from './common.js';
import type { RowWidths } from './config.js';

/**
 * DRAM layout of activation tensors (docs/engine.md, "DRAM layout"): HWC with channels padded to
 * L lanes, rows padded to the in/out buffer row width. The entries are exactly map.json's
 * `tensors`, so the simulation side can pack inputs and unpack outputs from map.json alone.
 */
export interface TensorLayout {
  name: string;
  /** byte address of the region (of the viewed region for a view) */
  addr: number;
  /** [C,H,W] of a region; a view keeps its own IR shape (a vector) */
  shape: number[];
  /** words of L lanes per pixel */
  ncg: number;
  /** bytes per image row, a multiple of Wa */
  pitch: number;
  /** H * pitch */
  bytes: number;
  zeroPoint: number;
  /** a reshape to a vector: no bytes of its own; element i is element i (CHW order) of this tensor */
  viewOf?: string;
}

/** What packing needs of a layout: a region's geometry and its padding value. */
export type RegionGeometry = Pick<TensorLayout, 'shape' | 'ncg' | 'pitch' | 'zeroPoint'>;

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

/** Regions for the model input and every layer output from `base` on; reshapes become views. */
export function allocateActivations(model: Model, w: RowWidths, base: number, source: string): ActivationLayout {
  const align = regionAlignment(w);
  const infos = new Map(model.tensors.map((t) => [t.name, t]));
  const tensors: TensorLayout[] = [];
  const byName = new Map<string, TensorLayout>();
  let cursor = base;
  const region = (name: string, where: string): void => {
    const info = infos.get(name)!;
    const shape = chw(info.shape);
    if (!shape) throw unsupported(where, `tensor '${name}' has shape [${info.shape.join(',')}]; the engine lays out [C,H,W] maps and vectors only`);
    const addr = roundUp(cursor, align);
    const t: TensorLayout = { name, addr, shape: [...shape], ...regionSize(shape, w), zeroPoint: info.quant.zeroPoint };
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
 * Region bytes of a tensor given in logical CHW order (int8); `lanes` is L (PeIc of map.json's
 * config). Padding lanes hold the zero point, so a consumer reading them sees real zero; row
 * padding is 0.
 */
export function packTensor(g: RegionGeometry, lanes: number, data: Int8Array): Uint8Array {
  const [c, h, w] = dims(g);
  if (data.length !== c * h * w) throw new Error(`engine layout: ${data.length} values for shape [${c},${h},${w}]`);
  const out = new Uint8Array(h * g.pitch);
  const zp = g.zeroPoint & 0xff;
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

/** Logical CHW int8 values of a region's bytes (padding ignored). */
export function unpackTensor(g: RegionGeometry, lanes: number, bytes: Uint8Array): Int8Array {
  const [c, h, w] = dims(g);
  if (bytes.length < h * g.pitch) throw new Error(`engine layout: ${bytes.length} bytes for a region of ${h * g.pitch}`);
  const out = new Int8Array(c * h * w);
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
 * For each byte of a region, the CHW index of the element stored there, or -1 for padding.
 * A fully connected layer permutes its weight columns with it.
 */
export function regionElementIndex(g: RegionGeometry, lanes: number): Int32Array {
  const [c, h, w] = dims(g);
  const map = new Int32Array(h * g.pitch).fill(-1);
  const pixel = g.ncg * lanes;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = y * g.pitch + x * pixel;
      for (let ch = 0; ch < c; ch++) map[at + ch] = (ch * h + y) * w + x;
    }
  }
  return map;
}
