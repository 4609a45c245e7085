import { rowWidths, type EngineConfig } from './config.js';
import { INSTRUCTION_BYTES, type ComputeInstr, type Instr, type LoadInstr } from './isa.js';
import { gateConvRuns, type LayerGates } from './gate-runs.js';
import { skipConvRuns } from './zero-taps.js';
import { zeroBlockTransfer, type PlanarTensor, type SampleBitmaps } from './zero-traffic.js';

/**
 * Cycle model of the engine running a program against the harness' DRAM (docs/engine.md, "Issue
 * rules", "Memory port"). Byte counts are exact; cycles are a prediction whose constants are
 * gathered here, named, to be calibrated against the RTL (target: within 5% per layer).
 */
export const TIMING_MODEL = {
  /** start_i to the first instruction fetch request */
  startCycles: 1,
  /** instructions per fetch burst, as a fraction of the FIFO (and at most one 64-beat burst); one burst in flight */
  fetchBlockFraction: 0.5,
  /** last beat of an instruction to the cycle it may issue in */
  fetchToIssue: 0,
  /** CONV: per group, the previous group's results draining to the requant bank, then the param row */
  convGroupSetup: 2,
  /** end of the last tap to the compute unit idle, per instruction */
  convDrain: 7,
  poolDrain: 5,
  addDrain: 5,
  /** ADD: one in-buffer read port, so A and B take a cycle each */
  addCyclesPerWord: 2,
  /** memory port limits (docs/engine.md) */
  maxBurstBeats: 64,
  dmaOutstandingBursts: 4,
  /** issue of a LOAD to its first burst request; bursts are requested one per cycle */
  dmaRequestDelay: 1,
  /** last read beat to the DMA idle */
  loadWriteLatency: 0,
  /** issue of a STORE to its first write beat (out-buffer read) */
  storeReadLatency: 3,
  /** issue of a STORE to its write request */
  storeRequestDelay: 1,
  /** last write beat to the DMA idle */
  storeDoneLatency: 0,
  /** END issue to done_o */
  endToDone: 1,
  // Zero-block transfers (docs/engine.md, "LOAD/STORE with zero blocks"); approximate.
  /** decoder: the bitmap's last beat to its first segment request */
  zbBitmapToWalk: 2,
  /** decoder: cycles per zero-point buffer row it writes for a zero block's segment */
  zbFillCyclesPerRow: 1,
  /** encoder pass 1: cycles per out-buffer row it reads to flag the blocks */
  zbPass1CyclesPerRow: 1,
  /** encoder: pass 1's last row to pass 2's first write beat */
  zbPass1ToWrite: 3,
} as const;

export type TimingModel = { readonly [K in keyof typeof TIMING_MODEL]: number };

/** Issue to idle of the compute unit for one instruction (docs/engine.md's per-op rates). */
export function computeCycles(i: ComputeInstr, c: EngineConfig, m: TimingModel = TIMING_MODEL): number {
  switch (i.op) {
    case 'conv': {
      const perPixel = Math.max(i.kh * i.kw * i.nciw, Math.max(1, c.peOc / c.peIc));
      return i.ng * (m.convGroupSetup + i.oyCnt * i.outW * perPixel) + m.convDrain;
    }
    case 'pool':
      return i.oyCnt * i.outW * i.ncg * i.kh * i.kw + m.poolDrain;
    case 'add':
      return m.addCyclesPerWord * i.rows * i.rowWords + m.addDrain;
  }
}

/**
 * The memory port's read side: one request accepted per cycle; the harness serves requests in
 * order, the first beat `latency` after acceptance or right after the previous request's data.
 */
class ReadChannel {
  private free = 0;
  private lastAccept = -Infinity;
  constructor(
    private readonly latency: number,
    private readonly beatCycles: number,
  ) {}

  /** A request presented at `at`: when it is accepted and the cycle after its last beat. */
  request(at: number, beats: number): { accepted: number; end: number } {
    const accepted = Math.max(at, this.lastAccept + 1);
    this.lastAccept = accepted;
    const first = Math.max(accepted + this.latency, this.free);
    this.free = first + beats * this.beatCycles;
    return { accepted, end: this.free };
  }
}

/** A LOAD whose bursts are placed on the read channel one at a time, interleaved with fetches. */
interface ActiveLoad {
  /** beats of each burst, in request order */
  bursts: number[];
  /** the next burst to place */
  next: number;
  /** a zero-block LOAD's bitmap bursts come first; the segments wait for the bitmap's data */
  bitmapBursts: number;
  nextRequest: number;
  /** data-end cycles of the bursts in flight, oldest first */
  inFlight: number[];
  end: number;
  /** when the bitmap's last beat arrived (zero-block LOAD) */
  bitmapEnd: number;
  /** cycles the decoder writes zero-point rows (zero-block LOAD) */
  fillCycles: number;
}

export interface TagTiming {
  tag: number;
  /** cycles layer_tag_o held the tag */
  cycles: number;
  dramRead: number;
  dramWrite: number;
}

export interface TimingPrediction {
  /** start to done */
  cycles: number;
  /** every tag that held layer_tag_o or moved bytes, by tag */
  tags: TagTiming[];
  /** instruction fetch, counted under tag 0xFFFF by the harness */
  fetchRead: number;
}

/**
 * The sample a program with zero-block transfers runs on: the memory map's tensors and, per
 * planar tensor, its block flags (zero-traffic.ts). Without flags every segment moves: the dense
 * figures of report.json.
 */
export interface ZeroBlockSample {
  tensors: readonly PlanarTensor[];
  bitmaps?: SampleBitmaps;
  /** gate bits of the gated convs by layer tag (gate-runs.ts); without them every gate is on */
  gates?: ReadonlyMap<number, LayerGates>;
}

/**
 * Replays the program's issue: instructions in order, one per cycle at most, each when it has
 * been fetched, its unit is idle and its wait bits hold. The read channel is shared by the DMA's
 * bursts (at most 4 outstanding) and instruction fetch blocks, in request order.
 */
export function predictTiming(program: readonly Instr[], c: EngineConfig, m: TimingModel = TIMING_MODEL, zero: ZeroBlockSample = { tensors: [] }): TimingPrediction {
  const beatCycles = Math.max(1, c.busBytes / c.dramBytesPerCycle);
  const read = new ReadChannel(c.dramLatency, beatCycles);
  const n = program.length;
  // CONVs in skip mode take what the sample's zero blocks leave them
  const skipRuns = skipConvRuns(program, zero.tensors, c, m, zero.bitmaps);
  // gated convs take what the sample's gates leave them
  for (const [k, run] of gateConvRuns(program, c, zero.gates)) skipRuns.set(k, { zeroTaps: 0, cycles: run.cycles });

  // Fetch: block k holds instructions [k*fb, (k+1)*fb). One block is in flight at a time, and a
  // block is requested once the FIFO has room for all of it.
  const instrBeats = Math.max(1, INSTRUCTION_BYTES / c.busBytes);
  const fb = Math.max(1, Math.min(Math.floor(m.maxBurstBeats / instrBeats), Math.floor(c.fetchDepth * m.fetchBlockFraction)));
  const blocks = Math.ceil(n / fb);
  const blockRoom: number[] = [];
  const blockEnd: number[] = [];
  const blockSize = (k: number): number => Math.min(fb, n - k * fb);
  // Room for block k: the k*fb instructions fetched before it, less those issued, plus its own.
  const noteRoom = (issued: number, at: number): void => {
    while (blockRoom.length < blocks && blockRoom.length * fb + blockSize(blockRoom.length) - c.fetchDepth <= issued) blockRoom.push(at);
  };
  const nextFetchAt = (): number => {
    const k = blockEnd.length;
    if (k >= blockRoom.length) return Infinity;
    return k === 0 ? blockRoom[0]! : Math.max(blockRoom[k]!, blockEnd[k - 1]!);
  };

  let load: ActiveLoad | undefined;
  const placeFetch = (at: number): void => {
    blockEnd.push(read.request(at, blockSize(blockEnd.length) * instrBeats).end);
  };
  const placeBurst = (l: ActiveLoad): void => {
    const beats = l.bursts[l.next++]!;
    const { accepted, end } = read.request(l.nextRequest, beats);
    l.inFlight.push(end);
    l.end = end;
    const oldest = l.inFlight.length >= m.dmaOutstandingBursts ? l.inFlight.shift()! : -Infinity;
    l.nextRequest = Math.max(accepted + 1, oldest);
    if (l.next === l.bitmapBursts) {
      // The decoder walks the segments once the bitmap is in its buffer.
      l.bitmapEnd = end;
      l.nextRequest = Math.max(l.nextRequest, end + m.zbBitmapToWalk);
    }
  };
  /** Places requests in time order until `done` holds. */
  const placeUntil = (done: () => boolean): void => {
    while (!done()) {
      const fetchAt = nextFetchAt();
      const burstAt = load && load.next < load.bursts.length ? load.nextRequest : Infinity;
      if (fetchAt === Infinity && burstAt === Infinity) throw new Error('engine timing: nothing left to place');
      // The port arbiter lets a fetch go first (its bursts are short).
      if (fetchAt <= burstAt) placeFetch(fetchAt);
      else placeBurst(load!);
    }
  };

  const tags = new Map<number, TagTiming>();
  const tagOf = (tag: number): TagTiming => {
    let t = tags.get(tag);
    if (!t) tags.set(tag, (t = { tag, cycles: 0, dramRead: 0, dramWrite: 0 }));
    return t;
  };

  let dmaIdle = 0;
  let cmpIdle = 0;
  let wrFree = 0;
  let lastIssue = -1;
  let heldTag = 0;
  let heldSince = 0;
  noteRoom(0, m.startCycles);

  const finishLoad = (): void => {
    if (!load) return;
    const l = load;
    placeUntil(() => l.next === l.bursts.length);
    const fills = l.bitmapBursts > 0 ? l.bitmapEnd + m.zbBitmapToWalk + l.fillCycles : -Infinity;
    dmaIdle = Math.max(l.end, fills) + m.loadWriteLatency;
    load = undefined;
  };

  for (let i = 0; i < n; i++) {
    const ins = program[i]!;
    const k = Math.floor(i / fb);
    finishLoad();
    placeUntil(() => blockEnd.length > k);
    const fetched = blockEnd[k]! - (blockSize(k) - (i - k * fb) - 1) * instrBeats * beatCycles + m.fetchToIssue;
    const isDma = ins.op === 'load' || ins.op === 'store';
    const isCmp = ins.op === 'conv' || ins.op === 'pool' || ins.op === 'add';
    let t = Math.max(lastIssue + 1, fetched);
    if (isDma || ins.waitDma || ins.op === 'end') t = Math.max(t, dmaIdle);
    if (isCmp || ins.waitCmp || ins.op === 'end') t = Math.max(t, cmpIdle);
    t = Math.ceil(t);

    // layer_tag_o is a register: it shows the new tag from the cycle after the issue.
    if (ins.tag !== heldTag) {
      tagOf(heldTag).cycles += t + 1 - heldSince;
      heldTag = ins.tag;
      heldSince = t + 1;
    }
    lastIssue = t;
    noteRoom(i + 1, t + 1);

    switch (ins.op) {
      case 'load': {
        load = startLoad(ins, t + m.dmaRequestDelay, c, m, zero);
        tagOf(ins.tag).dramRead += load.bursts.reduce((a, b) => a + b, 0) * c.busBytes;
        break;
      }
      case 'store': {
        let bytes = ins.bytes;
        let ready = t + m.storeReadLatency;
        if (ins.zb) {
          // Pass 1 reads the band's out-buffer rows; pass 2 writes the non-zero segments, pass 3 the bitmap rows.
          bytes = zeroBlockTransfer(ins.zb, zero.tensors, c.busBytes, zero.bitmaps).bytes;
          ready += ins.zb.planes * ins.zb.planeRows * m.zbPass1CyclesPerRow + m.zbPass1ToWrite;
        }
        tagOf(ins.tag).dramWrite += bytes;
        // The first beat also waits for a beat's worth of write credit, banked from the request on.
        const first = Math.max(ready, t + m.storeRequestDelay + Math.ceil(beatCycles), wrFree);
        wrFree = first + Math.floor((bytes / c.busBytes - 1) * beatCycles) + 1;
        dmaIdle = wrFree + m.storeDoneLatency;
        break;
      }
      case 'end':
        break;
      default:
        cmpIdle = t + (skipRuns.get(i)?.cycles ?? computeCycles(ins, c, m));
    }
  }
  const cycles = lastIssue + m.endToDone;
  tagOf(heldTag).cycles += cycles - heldSince;
  return {
    cycles,
    tags: [...tags.values()].sort((a, b) => a.tag - b.tag),
    fetchRead: n * INSTRUCTION_BYTES,
  };
}

/** Bursts of at most maxBurstBeats for `beats` beats. */
function split(beats: number, max: number): number[] {
  const out: number[] = [];
  for (let left = beats; left > 0; left -= max) out.push(Math.min(max, left));
  return out;
}

/**
 * A LOAD's bursts: a dense one's bytes in bursts of at most 64 beats; a zero-block one's bitmap
 * rows, then one burst per segment of a non-zero block, while the decoder writes zero-point rows
 * for the others.
 */
function startLoad(l: LoadInstr, at: number, c: EngineConfig, m: TimingModel, zero: ZeroBlockSample): ActiveLoad {
  const base = { next: 0, nextRequest: at, inFlight: [], end: at, bitmapEnd: at, fillCycles: 0 };
  if (!l.zb) return { ...base, bursts: split(l.bytes / c.busBytes, m.maxBurstBeats), bitmapBursts: 0 };
  const tr = zeroBlockTransfer(l.zb, zero.tensors, c.busBytes, zero.bitmaps);
  const bitmap = split(tr.bitmapBytes / c.busBytes, m.maxBurstBeats);
  const segRows = tr.segmentBytes / rowWidths(c).wa;
  return {
    ...base,
    bursts: [...bitmap, ...new Array<number>(tr.segments).fill(l.zb.segBeats)],
    bitmapBursts: bitmap.length,
    fillCycles: (tr.moved.length - tr.segments) * segRows * m.zbFillCyclesPerRow,
  };
}
