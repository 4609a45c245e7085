import type { Instr, LoadInstr, StoreInstr, ZeroBlockDma } from './isa.js';
import { blockFlags, type TensorLayout } from './layout.js';

/**
 * DRAM traffic of a program whose zero-block LOADs and STOREs move data that depends on the
 * sample (docs/engine.md, "Counting"). Pure: given the program, the memory map's tensors and, per
 * planar tensor, its block flags for one sample, it gives the bytes the harness counts per layer
 * tag, exactly: every beat of a dense LOAD/STORE, and for a zero-block one its bitmap rows plus
 * one segment (`segBeats` beats) for every (plane, band row, block column) whose block is non-zero.
 */

/** What a zero-block transfer needs of a tensor of map.json. */
export type PlanarTensor = Pick<TensorLayout, 'name' | 'addr' | 'bytes' | 'shape' | 'zeroPoint' | 'zeroBlock'>;

/**
 * Block flags of a sample, per planar tensor: one entry per block in [cb][hb][wb] order (the
 * golden model's order, blockFlags), 1 = non-zero. A tensor left out moves every segment (the
 * dense figure).
 */
export type SampleBitmaps = ReadonlyMap<string, ArrayLike<number>>;

/**
 * The block flags of every planar tensor from a sample's values as the golden model computes them
 * (tensors after the write path): a block is non-zero iff one of its real elements differs from
 * the zero point, which after encoding holds exactly for the blocks the encoder keeps, whatever
 * the epsilon. Tensors without values are left out.
 */
export function sampleBitmaps(tensors: readonly PlanarTensor[], values: (name: string) => ArrayLike<number> | undefined): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const t of tensors) {
    if (!t.zeroBlock) continue;
    const v = values(t.name);
    if (v) out.set(t.name, blockFlags(v, t.shape as [number, number, number], t.zeroPoint, t.zeroBlock.block));
  }
  return out;
}

/** A zero-block LOAD or STORE resolved against its tensor: which segments move, in buffer order. */
export interface ZeroBlockTransfer {
  tensor: string;
  /** block row of the tensor the band starts at */
  hb0: number;
  bitmapBytes: number;
  /** bytes of one segment: segBeats * B */
  segmentBytes: number;
  /** per segment in buffer order (plane, band row, block column): whether it moves (its block is non-zero) */
  moved: boolean[];
  /** segments that move */
  segments: number;
  /** bitmapBytes + segments * segmentBytes */
  bytes: number;
}

/** The planar tensor whose bitmap rows a zero-block instruction names (by address). */
export function tensorOfTransfer(zb: ZeroBlockDma, tensors: readonly PlanarTensor[]): PlanarTensor {
  const t = tensors.find((x) => x.zeroBlock && zb.bitmapAddr >= x.addr + x.zeroBlock.bitmapOffset && zb.bitmapAddr < x.addr + x.bytes);
  if (!t) throw new Error(`engine: no zero-block tensor has its bitmap at ${zb.bitmapAddr}`);
  return t;
}

/**
 * Which segments of a zero-block LOAD/STORE (its `zb` fields) move for a sample (all of them
 * without its tensor's flags).
 */
export function zeroBlockTransfer(zb: ZeroBlockDma, tensors: readonly PlanarTensor[], busBytes: number, bitmaps?: SampleBitmaps): ZeroBlockTransfer {
  const bitmapBytes = (zb.rows / zb.bh) * zb.bitmapRowBytes;
  const t = tensorOfTransfer(zb, tensors);
  const layout = t.zeroBlock!;
  const rel = zb.bitmapAddr - t.addr - layout.bitmapOffset;
  if (rel % layout.bitmapRowBytes !== 0) throw new Error(`engine: bitmap address ${zb.bitmapAddr} is not a bitmap row of '${t.name}'`);
  const hb0 = rel / layout.bitmapRowBytes;
  const flags = bitmaps?.get(t.name);
  if (flags && flags.length !== layout.nCb * layout.nHb * layout.nWb) throw new Error(`engine: ${flags.length} block flags for '${t.name}', which has ${layout.nCb * layout.nHb * layout.nWb} blocks`);
  const moved: boolean[] = [];
  let segments = 0;
  for (let cg = 0; cg < zb.planes; cg++) {
    const cb = Math.floor(cg / zb.k);
    for (let r = 0; r < zb.rows; r++) {
      const hb = hb0 + Math.floor(r / zb.bh);
      for (let wb = 0; wb < zb.nWb; wb++) {
        const m = flags ? flags[(cb * layout.nHb + hb) * layout.nWb + wb] === 1 : true;
        moved.push(m);
        if (m) segments++;
      }
    }
  }
  const segmentBytes = zb.segBeats * busBytes;
  return { tensor: t.name, hb0, bitmapBytes, segmentBytes, moved, segments, bytes: bitmapBytes + segments * segmentBytes };
}

/** DRAM bytes one LOAD or STORE moves for a sample. */
export function transferBytes(i: LoadInstr | StoreInstr, tensors: readonly PlanarTensor[], busBytes: number, bitmaps?: SampleBitmaps): number {
  return i.zb ? zeroBlockTransfer(i.zb, tensors, busBytes, bitmaps).bytes : i.bytes;
}

export interface TagBytes {
  read: number;
  write: number;
}

/**
 * DRAM bytes per layer tag a program moves for a sample, as the harness counts them (instruction
 * fetch, under its own tag, left out). Without bitmaps: the dense figures, every segment moved.
 */
export function predictTraffic(program: readonly Instr[], tensors: readonly PlanarTensor[], busBytes: number, bitmaps?: SampleBitmaps): Map<number, TagBytes> {
  const out = new Map<number, TagBytes>();
  for (const i of program) {
    if (i.op !== 'load' && i.op !== 'store') continue;
    const b = out.get(i.tag) ?? { read: 0, write: 0 };
    b[i.op === 'load' ? 'read' : 'write'] += transferBytes(i, tensors, busBytes, bitmaps);
    out.set(i.tag, b);
  }
  return out;
}
