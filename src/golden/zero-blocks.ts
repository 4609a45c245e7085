import { product } from '../ir/shapes.js';
import type { ConvLayer, Layer, LayerOp, Model, TensorInfo, ZeroBlockConfig } from '../ir/types.js';
import type { Act } from './layers.js';
import { gatedMacs, gatedMaskedMacs, isGated } from './gating.js';
import { layerMacs } from './macs.js';

/**
 * Zero-block skipping (DESIGN.md, "Sparsity semantics"), exactly as the hardware does it.
 *
 * Write path: a tensor with a zeroBlock annotation is cut into blocks of bc x bh x bw over its
 * (C, H, W) (a vector [N] is [N,1,1]); edge blocks are partial, the tensor being logically
 * padded with its zero point. A block is zero when every real element v satisfies
 * |v - zp| <= epsilon; its elements become zp, only its bitmap bit (0) is written. Non-zero
 * blocks are written unchanged. The model input goes through the same rule (the host writes it).
 *
 * Read path: zero blocks are not fetched (the reader feeds zp) and the MACs of conv/fc whose
 * input element lies inside the image and in a zero block are not executed.
 *
 * Counted per layer, exactly:
 * - zeroBlocks / totalBlocks of the layer's output (0 / 0 when the output has no zeroBlock);
 * - MACs dense (macs.ts: every (output, tap) pair, padding taps included) and executed =
 *   dense - skipped, skipped = (output, tap) pairs whose input element lies inside the image and
 *   in a zero block of the layer's input tensor. For a gated conv (golden/gating.ts) the two
 *   compose: executed = the (output, tap) pairs gating executes (every output's base taps, the
 *   rest taps of gated-on outputs) minus those of them whose input element lies inside the image
 *   and in a zero block;
 * - activation bytes, dense: 1 byte per element of each input read and of the output written;
 *   actual: for a tensor with zeroBlock, the real elements of its non-zero blocks plus its bitmap,
 *   ceil(totalBlocks / 8) bytes; the dense count otherwise. A view (reshape) moves no bytes: its
 *   readers read the producer's tensor (bytes and bitmap) through it.
 */

export type Block = [number, number, number];

/** (C, H, W) of a tensor for blocking: [N] is [N,1,1]; undefined for other ranks. */
export function blockDims(shape: readonly number[]): Block | undefined {
  if (shape.length === 3) return [shape[0]!, shape[1]!, shape[2]!];
  if (shape.length === 1) return [shape[0]!, 1, 1];
  return undefined;
}

/** Blocks along C, H and W (edge blocks partial). */
export function blockGrid(dims: Block, block: Block): Block {
  return [Math.ceil(dims[0] / block[0]), Math.ceil(dims[1] / block[1]), Math.ceil(dims[2] / block[2])];
}

/** Bytes of a bitmap of `blocks` bits. */
export function bitmapBytes(blocks: number): number {
  return Math.ceil(blocks / 8);
}

export interface BlockScan {
  /** One entry per block in [cb][hb][wb] order: 1 = non-zero block (stored), 0 = zero block. */
  bitmap: Uint8Array;
  grid: Block;
  zeroBlocks: number;
  totalBlocks: number;
  /** Real elements inside non-zero blocks: the data bytes one read or write moves. */
  nonZeroElements: number;
}

/**
 * Finds the zero blocks of `data` (C, H, W order); with `encode`, sets every element of a zero
 * block to `zeroPoint` in place (the write path). Without it, only counts.
 */
export function scanZeroBlocks(data: Int8Array, dims: Block, zeroPoint: number, cfg: ZeroBlockConfig, encode: boolean): BlockScan {
  const [c, h, w] = dims;
  const [bc, bh, bw] = cfg.block;
  const grid = blockGrid(dims, cfg.block);
  const [gc, gh, gw] = grid;
  const lo = zeroPoint - cfg.epsilon;
  const hi = zeroPoint + cfg.epsilon;
  const totalBlocks = gc * gh * gw;
  const bitmap = new Uint8Array(totalBlocks);
  let zeroBlocks = 0;
  let nonZeroElements = 0;
  let b = 0;
  for (let cb = 0; cb < gc; cb++) {
    const c0 = cb * bc;
    const c1 = Math.min(c, c0 + bc);
    for (let hb = 0; hb < gh; hb++) {
      const y0 = hb * bh;
      const y1 = Math.min(h, y0 + bh);
      for (let wb = 0; wb < gw; wb++, b++) {
        const x0 = wb * bw;
        const x1 = Math.min(w, x0 + bw);
        let zero = true;
        outer: for (let ch = c0; ch < c1; ch++) {
          for (let y = y0; y < y1; y++) {
            const row = (ch * h + y) * w;
            for (let x = row + x0; x < row + x1; x++) {
              const v = data[x]!;
              if (v < lo || v > hi) {
                zero = false;
                break outer;
              }
            }
          }
        }
        if (zero) {
          zeroBlocks++;
          if (encode && cfg.epsilon > 0) {
            for (let ch = c0; ch < c1; ch++) {
              for (let y = y0; y < y1; y++) {
                const row = (ch * h + y) * w;
                data.fill(zeroPoint, row + x0, row + x1);
              }
            }
          }
        } else {
          bitmap[b] = 1;
          nonZeroElements += (c1 - c0) * (y1 - y0) * (x1 - x0);
        }
      }
    }
  }
  return { bitmap, grid, zeroBlocks, totalBlocks, nonZeroElements };
}

/**
 * A bitmap packed in block order: block i is bit (i mod 8) of byte floor(i / 8), 1 = non-zero.
 * The ceil(blocks / 8) bytes of the byte rule; a back end may lay its bitmap out in other rows.
 */
export function packBitmap(bitmap: Uint8Array): Uint8Array {
  const out = new Uint8Array(bitmapBytes(bitmap.length));
  for (let i = 0; i < bitmap.length; i++) if (bitmap[i]) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** One element per entry, 1 where the element lies in a zero block (C, H, W order). */
export function zeroElementMask(scan: BlockScan, dims: Block, block: Block): Uint8Array {
  const [c, h, w] = dims;
  const [, gh, gw] = scan.grid;
  const mask = new Uint8Array(c * h * w);
  for (let ch = 0; ch < c; ch++) {
    const cb = Math.floor(ch / block[0]);
    for (let y = 0; y < h; y++) {
      const rowBlocks = (cb * gh + Math.floor(y / block[1])) * gw;
      const row = (ch * h + y) * w;
      for (let x = 0; x < w; x++) mask[row + x] = scan.bitmap[rowBlocks + Math.floor(x / block[2])]! ^ 1;
    }
  }
  return mask;
}

/** A tensor's zero blocks after the write path. */
export interface TensorBlocks extends BlockScan {
  tensor: string;
  block: Block;
  epsilon: number;
  /** Bytes one read or one write of the tensor moves: nonZeroElements + bitmap bytes. */
  bytes: number;
}

export interface ByteCounts {
  read: number;
  write: number;
}

export interface LayerSparsity {
  layer: string;
  op: LayerOp;
  output: string;
  /** Of the layer's output; 0 / 0 when it has no zeroBlock annotation. */
  zeroBlocks: number;
  totalBlocks: number;
  macs: { dense: number; executed: number };
  activationBytes: { dense: ByteCounts; actual: ByteCounts };
}

export interface SparsityTotals {
  zeroBlocks: number;
  totalBlocks: number;
  macs: { dense: number; executed: number };
  activationBytes: { dense: ByteCounts; actual: ByteCounts };
}

export interface SparsityResult {
  /** Every tensor with a zeroBlock annotation (the model input included), by name. */
  tensors: Map<string, TensorBlocks>;
  /** One entry per layer, in model order. */
  layers: LayerSparsity[];
  /** Sums over the layers (the host's write of the model input is not a layer's: see tensors). */
  total: SparsityTotals;
}

export function hasZeroBlocks(m: Model): boolean {
  return m.tensors.some((t) => t.zeroBlock !== undefined);
}

/**
 * The tensor whose bytes a name stands for: itself, or for a view (reshape output) the tensor
 * it views, followed through chains of views.
 */
export function storageTensors(m: Model): Map<string, string> {
  const storage = new Map<string, string>();
  for (const t of m.tensors) storage.set(t.name, t.name);
  for (const l of m.layers) {
    if (l.op === 'reshape') storage.set(l.output, storage.get(l.inputs[0]!) ?? l.inputs[0]!);
  }
  return storage;
}

/** For each input position along one axis, how many (output, tap) pairs of a sliding window read it. */
function tapCounts(size: number, out: number, kernel: number, stride: number, padBefore: number): Float64Array {
  const n = new Float64Array(size);
  for (let o = 0; o < out; o++) {
    for (let k = 0; k < kernel; k++) {
      const i = o * stride - padBefore + k;
      if (i >= 0 && i < size) n[i]!++;
    }
  }
  return n;
}

/** (output, tap) pairs of a conv whose input element is flagged in `mask`. */
export function convSkippedMacs(l: ConvLayer, inShape: readonly number[], outShape: readonly number[], mask: Uint8Array): number {
  const [c, h, w] = inShape as [number, number, number];
  const [co, oh, ow] = outShape as [number, number, number];
  const ny = tapCounts(h, oh, l.kernel[0], l.stride[0], l.pads[0]);
  const nx = tapCounts(w, ow, l.kernel[1], l.stride[1], l.pads[1]);
  let pairs = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const row = (ch * h + y) * w;
      let s = 0;
      for (let x = 0; x < w; x++) if (mask[row + x]) s += nx[x]!;
      pairs += s * ny[y]!;
    }
  }
  // Each input channel feeds the co / groups output channels of its group.
  return pairs * (co / l.groups);
}

function countOnes(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i]!;
  return n;
}

/**
 * Applies the write path and counts, layer by layer, during one golden run. runGolden creates
 * one only for models with zeroBlock annotations.
 */
export class ZeroBlockCounter {
  private readonly infos: Map<string, TensorInfo>;
  private readonly storage: Map<string, string>;
  private readonly shapes: Map<string, number[]>;
  private readonly masks = new Map<string, Uint8Array>();
  readonly tensors = new Map<string, TensorBlocks>();
  readonly layers: LayerSparsity[] = [];

  constructor(m: Model) {
    this.infos = new Map(m.tensors.map((t) => [t.name, t]));
    this.storage = storageTensors(m);
    this.shapes = new Map(m.tensors.map((t) => [t.name, t.shape]));
  }

  /** The write path of a freshly produced tensor (not a view): encodes `act.data` in place. */
  write(name: string, act: Act): void {
    const cfg = this.infos.get(name)?.zeroBlock;
    if (!cfg) return;
    const dims = blockDims(act.shape)!;
    const scan = scanZeroBlocks(act.data, dims, act.quant.zeroPoint, cfg, true);
    this.tensors.set(name, { tensor: name, block: cfg.block, epsilon: cfg.epsilon, ...scan, bytes: scan.nonZeroElements + bitmapBytes(scan.totalBlocks) });
  }

  private blocksOf(name: string): TensorBlocks | undefined {
    return this.tensors.get(this.storage.get(name) ?? name);
  }

  private maskOf(name: string): Uint8Array | undefined {
    const base = this.storage.get(name) ?? name;
    const tb = this.tensors.get(base);
    if (!tb) return undefined;
    let mask = this.masks.get(base);
    if (!mask) {
      mask = zeroElementMask(tb, blockDims(this.shapes.get(base)!)!, tb.block);
      this.masks.set(base, mask);
    }
    return mask;
  }

  private bytesOf(name: string): { dense: number; actual: number } {
    const dense = product(this.shapes.get(name)!);
    return { dense, actual: this.blocksOf(name)?.bytes ?? dense };
  }

  /**
   * Counts one layer whose output has been written (write() already applied); `gates` are a
   * gated conv's gate bits (golden/gating.ts).
   */
  layer(l: Layer, gates?: Uint8Array): void {
    const dense = layerMacs(l, this.shapes);
    let skipped = 0;
    if (l.op === 'conv' && isGated(l) && gates) {
      const mask = this.maskOf(l.inputs[0]!);
      const inShape = this.shapes.get(l.inputs[0]!)!;
      skipped = dense - gatedMacs(l, inShape[0]!, gates).executed + (mask ? gatedMaskedMacs(l, inShape, mask, gates) : 0);
    } else if (l.op === 'conv' || l.op === 'fc') {
      const mask = this.maskOf(l.inputs[0]!);
      if (mask) {
        skipped =
          l.op === 'conv'
            ? convSkippedMacs(l, this.shapes.get(l.inputs[0]!)!, this.shapes.get(l.output)!, mask)
            : countOnes(mask) * l.bias.length;
      }
    }
    const bytes = { dense: { read: 0, write: 0 }, actual: { read: 0, write: 0 } };
    if (l.op !== 'reshape') {
      for (const i of l.inputs) {
        const b = this.bytesOf(i);
        bytes.dense.read += b.dense;
        bytes.actual.read += b.actual;
      }
      const b = this.bytesOf(l.output);
      bytes.dense.write = b.dense;
      bytes.actual.write = b.actual;
    }
    const out = l.op === 'reshape' ? undefined : this.tensors.get(l.output);
    this.layers.push({
      layer: l.name,
      op: l.op,
      output: l.output,
      zeroBlocks: out?.zeroBlocks ?? 0,
      totalBlocks: out?.totalBlocks ?? 0,
      macs: { dense, executed: dense - skipped },
      activationBytes: bytes,
    });
  }

  result(): SparsityResult {
    const total: SparsityTotals = {
      zeroBlocks: 0,
      totalBlocks: 0,
      macs: { dense: 0, executed: 0 },
      activationBytes: { dense: { read: 0, write: 0 }, actual: { read: 0, write: 0 } },
    };
    for (const l of this.layers) {
      total.zeroBlocks += l.zeroBlocks;
      total.totalBlocks += l.totalBlocks;
      total.macs.dense += l.macs.dense;
      total.macs.executed += l.macs.executed;
      total.activationBytes.dense.read += l.activationBytes.dense.read;
      total.activationBytes.dense.write += l.activationBytes.dense.write;
      total.activationBytes.actual.read += l.activationBytes.actual.read;
      total.activationBytes.actual.write += l.activationBytes.actual.write;
    }
    return { tensors: this.tensors, layers: this.layers, total };
  }
}
