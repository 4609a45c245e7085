import { unsupported } from '../../src/errors.js';

/**
 * The engine's instruction set (docs/engine.md, "Instructions"): 64-byte instructions of 32
 * little-endian halfwords. Instructions are built as typed objects by program.ts and encoded
 * here through one field table per opcode, which also serves decoding (tests, disassembly).
 */
export const INSTRUCTION_BYTES = 64;
/** Tag the counters use for instruction fetch; never a layer's. */
export const FETCH_TAG = 0xffff;

export const OPCODES = { end: 0, load: 1, store: 2, conv: 3, pool: 4, add: 5 } as const;
export type Opcode = keyof typeof OPCODES;

/** LOAD target buffer, h6. */
export const LOAD_TARGETS = { in: 0, weight: 1, param: 2 } as const;
export type LoadTarget = keyof typeof LOAD_TARGETS;

interface Common {
  /** IR layer index */
  tag: number;
  waitDma: boolean;
  waitCmp: boolean;
}

export interface EndInstr extends Common {
  op: 'end';
}

/**
 * A band of a zero-block (planar) tensor moved by the decoder (LOAD) or the encoder (STORE), h8 bit 0
 * set (docs/engine.md, "LOAD with zero blocks"). `addr` is then plane 0's first band row and
 * `bytes` (h4..h5) the band's bitmap bytes, `rows / bh * bitmapRowBytes`.
 */
export interface ZeroBlockDma {
  /** P: planes (channel words) */
  planes: number;
  /** band rows, a multiple of bh */
  rows: number;
  /** blocks per image row */
  nWb: number;
  /** beats of one block row segment: bw * L / B */
  segBeats: number;
  bh: number;
  /** bytes of one plane in DRAM */
  planeBytes: number;
  /** DRAM address of the band's first bitmap row */
  bitmapAddr: number;
  bitmapRowBytes: number;
  /** planes per block: bc / L */
  k: number;
  zeroPoint: number;
}

/** The encoder's extra fields (h21..h30). */
export interface ZeroBlockStore extends ZeroBlockDma {
  /** rows of the band above the image's bottom edge */
  validRows: number;
  /** W: columns of the image */
  width: number;
  epsilon: number;
  /** out-buffer rows per plane of the band: rows * pitchP / Wa */
  planeRows: number;
  /** out-buffer rows per image row: pitchP / Wa */
  rowRows: number;
}

export interface LoadInstr extends Common {
  op: 'load';
  addr: number;
  /** bytes moved; for a zero-block LOAD the band's bitmap bytes */
  bytes: number;
  target: LoadTarget;
  /** first buffer row */
  row: number;
  zb?: ZeroBlockDma;
}

export interface StoreInstr extends Common {
  op: 'store';
  addr: number;
  /** bytes moved; for a zero-block STORE the band's bitmap bytes */
  bytes: number;
  /** first out-buffer row */
  row: number;
  zb?: ZeroBlockStore;
}

/** Window geometry shared by CONV and POOL. */
interface Window {
  inStart: number;
  imgH: number;
  imgW: number;
  inPitch: number;
  iy0: number;
  oyCnt: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  outBase: number;
  outPitch: number;
  zpIn: number;
  zpOut: number;
  lo: number;
  hi: number;
}

export interface ConvInstr extends Common, Window {
  op: 'conv';
  /** input words between horizontally adjacent pixels (ncg in HWC, 1 in planar) */
  ncgIn: number;
  /** ciw0 * cwStride: offset of the first input channel word read */
  ciw0Off: number;
  nciw: number;
  wb0: number;
  gstride: number;
  ng: number;
  pb0: number;
  /** floor(g0 * PeOc / L) * outCwStride: the first group's first output word within a pixel */
  outGoff: number;
  /** (g0 * PeOc) % L: lane of the first group's first channel (PeOc < L) */
  g0Lane: number;
  /** output channel words from the first group's first word to the end of a pixel */
  wordsLeft: number;
  /** output words between horizontally adjacent pixels (ncg_out in HWC, 1 in planar) */
  ncgOut: number;
  /** in-buffer words between channel words of a pixel (1 in HWC, the band plane in planar) */
  cwStride: number;
  /** out-buffer words between channel words of a pixel */
  outCwStride: number;
  /** skip mode (h0 bit 6): taps whose input word lies in a zero block cost no cycle */
  skip?: boolean;
  /**
   * Gate mode (h0 bit 7, docs/engine.md "Channel gating"): a gated conv, pixel-major, base pass
   * then the rest pass of the gated-on outputs only. ciw0Off, outGoff and g0Lane are then 0 and
   * their halfwords carry crest (h8) and wr0 (h20).
   */
  gate?: GateFields;
}

export interface GateFields {
  /** base channel words per tap (h0 bits 15:8): words 0..nb-1 */
  nb: number;
  /**
   * base channels k modulo L (h24 bits 12:8, g0_lane's, which is 0 in gate mode): word nb-1 holds
   * kmod base channels when it is not 0, and the rest channels of a tap start at word
   * floor(k / L), lane kmod (h24 bit 13 repeats kmod != 0)
   */
  kmod: number;
  /** weight words per output channel's rest pass, ceil(ceil(kh*kw*(nciw*L - k) / L) / PeOc) (h8) */
  crest: number;
  /** weight-buffer word of output channel 0's rest words (h20) */
  wr0: number;
}

export interface PoolInstr extends Common, Window {
  op: 'pool';
  /** channel words walked per pixel, and the input words between horizontally adjacent pixels */
  ncg: number;
  /** output words between horizontally adjacent pixels (ncg, a concat's wider output, or 1 in planar) */
  ncgOut: number;
  /** word offset of the first output word within a pixel (a concat input's place), times outCwStride */
  cwOff: number;
  /** in-buffer words between channel words */
  cwStride: number;
  /** out-buffer words between channel words */
  outCwStride: number;
  multiplier: number;
  shift: number;
  average: boolean;
}

export interface AddInstr extends Common {
  op: 'add';
  aBase: number;
  bBase: number;
  rows: number;
  rowWords: number;
  inPitch: number;
  outBase: number;
  outPitch: number;
  zpA: number;
  zpB: number;
  zpOut: number;
  lo: number;
  hi: number;
  multA: number;
  multB: number;
  shift: number;
}

export type ComputeInstr = ConvInstr | PoolInstr | AddInstr;
export type Instr = EndInstr | LoadInstr | StoreInstr | ComputeInstr;

// ---------------------------------------------------------------------------------------------
// Field tables

/**
 * u16/s16: a halfword; i8: int8 sign-extended into a halfword; u32/s32: two halfwords, low
 * first; lo8/hi8: one byte of a halfword; s8lo/s8hi: an int8 in one byte of a halfword (the other
 * byte is another field's); bit8: bit 8 of a halfword; lane5: bits 12:8 of a halfword; bit0: bit 0.
 */
type Kind = 'u16' | 's16' | 'i8' | 'u32' | 's32' | 'lo8' | 'hi8' | 's8lo' | 's8hi' | 'bit8' | 'lane5' | 'bit0' | 'bit6' | 'bit7' | 'bit13';
interface Field<T> {
  /** the name docs/engine.md uses */
  name: string;
  h: number;
  kind: Kind;
  get: (i: T) => number;
}

const RANGES: Record<Kind, [number, number]> = {
  u16: [0, 0xffff],
  s16: [-0x8000, 0x7fff],
  i8: [-128, 127],
  u32: [0, 0xffffffff],
  s32: [-0x80000000, 0x7fffffff],
  lo8: [0, 0xff],
  hi8: [0, 0xff],
  s8lo: [-128, 127],
  s8hi: [-128, 127],
  bit8: [0, 1],
  lane5: [0, 31],
  bit0: [0, 1],
  bit6: [0, 1],
  bit7: [0, 1],
  bit13: [0, 1],
};

const f = <T>(name: string, h: number, kind: Kind, get: (i: T) => number): Field<T> => ({ name, h, kind, get });

/** LOAD and STORE: h4..h5 is the byte count, or a zero-block band's bitmap bytes; h8 bit 0 the zero-block mode. */
const DMA_FIELDS = <T extends LoadInstr | StoreInstr>(): Field<T>[] => [
  f('addr', 2, 'u32', (i) => i.addr),
  f('bytes', 4, 'u32', (i) => i.bytes),
  f('row', 7, 'u16', (i) => i.row),
  f('zb', 8, 'bit0', (i) => (i.zb ? 1 : 0)),
  f('planes', 9, 'u16', (i) => i.zb?.planes ?? 0),
  f('rows', 10, 'u16', (i) => i.zb?.rows ?? 0),
  f('nwb', 11, 'u16', (i) => i.zb?.nWb ?? 0),
  f('seg_beats', 12, 'u16', (i) => i.zb?.segBeats ?? 0),
  f('bh', 13, 'u16', (i) => i.zb?.bh ?? 0),
  f('plane_bytes', 14, 'u32', (i) => i.zb?.planeBytes ?? 0),
  f('bm_addr', 16, 'u32', (i) => i.zb?.bitmapAddr ?? 0),
  f('bm_row', 18, 'u16', (i) => i.zb?.bitmapRowBytes ?? 0),
  f('k', 19, 'u16', (i) => i.zb?.k ?? 0),
  f('zp', 20, 's8lo', (i) => i.zb?.zeroPoint ?? 0),
];

const LOAD_FIELDS: Field<LoadInstr>[] = [...DMA_FIELDS<LoadInstr>(), f('target', 6, 'u16', (i) => LOAD_TARGETS[i.target])];
const STORE_FIELDS: Field<StoreInstr>[] = [
  ...DMA_FIELDS<StoreInstr>(),
  f('valid_rows', 21, 'u16', (i) => i.zb?.validRows ?? 0),
  f('width', 22, 'u16', (i) => i.zb?.width ?? 0),
  f('eps', 23, 'u16', (i) => i.zb?.epsilon ?? 0),
  f('plane_rows', 24, 'u16', (i) => i.zb?.planeRows ?? 0),
  f('k_plane_rows', 25, 'u16', (i) => (i.zb ? i.zb.k * i.zb.planeRows : 0)),
  f('row_rows', 26, 'u16', (i) => i.zb?.rowRows ?? 0),
  f('bh_row_rows', 30, 'u16', (i) => (i.zb ? i.zb.bh * i.zb.rowRows : 0)),
];

const WINDOW_FIELDS = <T extends ConvInstr | PoolInstr>(): Field<T>[] => [
  f('in_start', 2, 's32', (i) => i.inStart),
  f('img_h', 4, 'u16', (i) => i.imgH),
  f('img_w', 5, 'u16', (i) => i.imgW),
  f('in_pitch', 6, 'u16', (i) => i.inPitch),
  f('iy0', 10, 's16', (i) => i.iy0),
  f('oy_cnt', 11, 'u16', (i) => i.oyCnt),
  f('out_w', 12, 'u16', (i) => i.outW),
  f('kh', 13, 'lo8', (i) => i.kh),
  f('kw', 13, 'hi8', (i) => i.kw),
  f('sh', 14, 'lo8', (i) => i.sh),
  f('sw', 14, 'hi8', (i) => i.sw),
  f('pt', 15, 'lo8', (i) => i.pt),
  f('pl', 15, 'hi8', (i) => i.pl),
  f('out_base', 21, 'u16', (i) => i.outBase),
  f('out_pitch', 22, 'u16', (i) => i.outPitch),
  f('zp_out', 25, 'i8', (i) => i.zpOut),
  // The compiler precomputes the address products so the address generators only add.
  f('pitch_sh', 28, 'u16', (i) => i.sh * i.inPitch),
];

const CONV_FIELDS: Field<ConvInstr>[] = [
  ...WINDOW_FIELDS<ConvInstr>(),
  f('ncg_in', 7, 'u16', (i) => i.ncgIn),
  // gate mode: h8 is crest, h20 wr0 (ciw0_off and out_goff are 0 there)
  f('ciw0_off', 8, 'u16', (i) => (i.gate ? i.gate.crest : i.ciw0Off)),
  f('nciw', 9, 'u16', (i) => i.nciw),
  f('wb0', 16, 'u16', (i) => i.wb0),
  f('gstride', 17, 'u16', (i) => i.gstride),
  f('ng', 18, 'u16', (i) => i.ng),
  f('pb0', 19, 'u16', (i) => i.pb0),
  f('out_goff', 20, 'u16', (i) => (i.gate ? i.gate.wr0 : i.outGoff)),
  f('ncg_out', 23, 'u16', (i) => i.ncgOut),
  // h24: zp_in in the low byte, g0_lane in bits 12:8; h26: lo | hi << 8
  f('zp_in', 24, 's8lo', (i) => i.zpIn),
  f('g0_lane', 24, 'lane5', (i) => (i.gate ? i.gate.kmod : i.g0Lane)),
  f('lo', 26, 's8lo', (i) => i.lo),
  f('hi', 26, 's8hi', (i) => i.hi),
  f('words_left', 27, 'u16', (i) => i.wordsLeft),
  f('ncg_sw', 29, 'u16', (i) => i.sw * i.ncgIn),
  f('cw_stride', 30, 'u16', (i) => i.cwStride),
  f('out_cw_stride', 31, 'u16', (i) => i.outCwStride),
  // h0 holds the opcode and wait bits; bit 6 is free for the conv's mode
  f('skip', 0, 'bit6', (i) => (i.skip ? 1 : 0)),
  f('gate', 0, 'bit7', (i) => (i.gate ? 1 : 0)),
  f('gate_nb', 0, 'hi8', (i) => i.gate?.nb ?? 0),
  f('gate_mixed', 24, 'bit13', (i) => (i.gate && i.gate.kmod !== 0 ? 1 : 0)),
];

const POOL_FIELDS: Field<PoolInstr>[] = [
  ...WINDOW_FIELDS<PoolInstr>(),
  f('ncg', 7, 'u16', (i) => i.ncg),
  f('cw_stride', 8, 'u16', (i) => i.cwStride),
  f('out_cw_stride', 9, 'u16', (i) => i.outCwStride),
  f('cw_off', 20, 'u16', (i) => i.cwOff),
  f('ncg_out', 23, 'u16', (i) => i.ncgOut),
  f('zp_in', 24, 'i8', (i) => i.zpIn),
  f('lo', 26, 'i8', (i) => i.lo),
  f('hi', 27, 'i8', (i) => i.hi),
  f('ncg_sw', 29, 'u16', (i) => i.sw * i.ncg),
  f('multiplier', 30, 'u16', (i) => i.multiplier),
  f('shift', 31, 'lo8', (i) => i.shift),
  f('mode', 31, 'bit8', (i) => (i.average ? 1 : 0)),
];

const ADD_FIELDS: Field<AddInstr>[] = [
  f('a_base', 2, 'u16', (i) => i.aBase),
  f('b_base', 3, 'u16', (i) => i.bBase),
  f('rows', 4, 'u16', (i) => i.rows),
  f('row_words', 5, 'u16', (i) => i.rowWords),
  f('in_pitch', 6, 'u16', (i) => i.inPitch),
  f('out_base', 21, 'u16', (i) => i.outBase),
  f('out_pitch', 22, 'u16', (i) => i.outPitch),
  f('zp_a', 24, 'i8', (i) => i.zpA),
  f('zp_out', 25, 'i8', (i) => i.zpOut),
  f('lo', 26, 'i8', (i) => i.lo),
  f('hi', 27, 'i8', (i) => i.hi),
  f('zp_b', 28, 'i8', (i) => i.zpB),
  f('mult_a', 29, 'u16', (i) => i.multA),
  f('mult_b', 30, 'u16', (i) => i.multB),
  f('shift', 31, 'u16', (i) => i.shift),
];

const FIELDS: { [K in Opcode]: Field<Extract<Instr, { op: K }>>[] } = {
  end: [],
  load: LOAD_FIELDS,
  store: STORE_FIELDS,
  conv: CONV_FIELDS,
  pool: POOL_FIELDS,
  add: ADD_FIELDS,
};

function fieldsOf(i: Instr): Field<Instr>[] {
  return FIELDS[i.op] as Field<Instr>[];
}

// ---------------------------------------------------------------------------------------------
// Encoding

function put(view: DataView, h: number, kind: Kind, v: number): void {
  const at = 2 * h;
  switch (kind) {
    case 'u16':
    case 's16':
    case 'i8':
      view.setUint16(at, v & 0xffff, true);
      return;
    case 'u32':
    case 's32':
      view.setUint32(at, v >>> 0, true);
      return;
    case 'lo8':
    case 's8lo':
      view.setUint8(at, v & 0xff);
      return;
    case 'hi8':
    case 's8hi':
      view.setUint8(at + 1, v & 0xff);
      return;
    case 'bit8':
      view.setUint8(at + 1, view.getUint8(at + 1) | v);
      return;
    case 'lane5':
      view.setUint8(at + 1, view.getUint8(at + 1) | v);
      return;
    case 'bit0':
      view.setUint8(at, view.getUint8(at) | v);
      return;
    case 'bit6':
      view.setUint8(at, view.getUint8(at) | (v << 6));
      return;
    case 'bit7':
      view.setUint8(at, view.getUint8(at) | (v << 7));
      return;
    case 'bit13':
      view.setUint8(at + 1, view.getUint8(at + 1) | (v << 5));
      return;
  }
}

/**
 * Writes one instruction at `offset`. A field out of range is an unsupported-feature error
 * naming the layer (`whereOf(tag)`) and the field, never a silently wrapped value.
 */
export function encodeInstruction(i: Instr, out: Uint8Array, offset: number, whereOf: (tag: number) => string): void {
  if (!(Number.isInteger(i.tag) && i.tag >= 0 && i.tag < FETCH_TAG)) {
    throw unsupported(whereOf(i.tag), `layer tag ${i.tag} does not fit 16 bits (0xFFFF is instruction fetch's)`);
  }
  const view = new DataView(out.buffer, out.byteOffset + offset, INSTRUCTION_BYTES);
  for (let k = 0; k < INSTRUCTION_BYTES; k++) out[offset + k] = 0;
  view.setUint16(0, OPCODES[i.op] | (i.waitDma ? 1 << 4 : 0) | (i.waitCmp ? 1 << 5 : 0), true);
  view.setUint16(2, i.tag, true);
  for (const fd of fieldsOf(i)) {
    const v = fd.get(i);
    const [lo, hi] = RANGES[fd.kind];
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw unsupported(whereOf(i.tag), `${i.op.toUpperCase()} field ${fd.name} = ${v} does not fit the instruction (${fd.kind}, ${lo}..${hi})`);
    }
    put(view, fd.h, fd.kind, v);
  }
}

export function encodeProgram(program: readonly Instr[], whereOf: (tag: number) => string): Uint8Array {
  const out = new Uint8Array(program.length * INSTRUCTION_BYTES);
  program.forEach((i, k) => encodeInstruction(i, out, k * INSTRUCTION_BYTES, whereOf));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

function get(view: DataView, h: number, kind: Kind): number {
  const at = 2 * h;
  switch (kind) {
    case 'u16':
      return view.getUint16(at, true);
    case 's16':
      return view.getInt16(at, true);
    case 'i8':
      return view.getInt8(at);
    case 'u32':
      return view.getUint32(at, true);
    case 's32':
      return view.getInt32(at, true);
    case 'lo8':
      return view.getUint8(at);
    case 'hi8':
      return view.getUint8(at + 1);
    case 's8lo':
      return view.getInt8(at);
    case 's8hi':
      return view.getInt8(at + 1);
    case 'bit8':
      return view.getUint8(at + 1) & 1;
    case 'lane5':
      return view.getUint8(at + 1) & 0x1f;
    case 'bit0':
      return view.getUint8(at) & 1;
    case 'bit6':
      return (view.getUint8(at) >> 6) & 1;
    case 'bit7':
      return (view.getUint8(at) >> 7) & 1;
    case 'bit13':
      return (view.getUint8(at + 1) >> 5) & 1;
  }
}

export interface DecodedInstruction {
  op: Opcode;
  waitDma: boolean;
  waitCmp: boolean;
  tag: number;
  /** every field of the opcode, by its docs/engine.md name */
  fields: Record<string, number>;
}

/** The fields of one encoded instruction, for disassembly and tests. */
export function decodeInstruction(bytes: Uint8Array, offset = 0): DecodedInstruction {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, INSTRUCTION_BYTES);
  const h0 = view.getUint16(0, true);
  const code = h0 & 0xf;
  const op = (Object.keys(OPCODES) as Opcode[]).find((k) => OPCODES[k] === code);
  if (op === undefined) throw new Error(`engine: unknown opcode ${code} at byte ${offset}`);
  const fields: Record<string, number> = {};
  for (const fd of FIELDS[op] as Field<Instr>[]) fields[fd.name] = get(view, fd.h, fd.kind);
  return { op, waitDma: (h0 & 0x10) !== 0, waitCmp: (h0 & 0x20) !== 0, tag: view.getUint16(2, true), fields };
}

/** One line per instruction, for listings and debugging. */
export function disassemble(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let at = 0; at + INSTRUCTION_BYTES <= bytes.length; at += INSTRUCTION_BYTES) {
    const d = decodeInstruction(bytes, at);
    const waits = `${d.waitDma ? ' wait_dma' : ''}${d.waitCmp ? ' wait_cmp' : ''}`;
    const fields = Object.entries(d.fields).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`${at / INSTRUCTION_BYTES}: ${d.op.toUpperCase()} tag=${d.tag}${waits} ${fields}`.trimEnd());
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Programs back from their bytes (the simulation side has dram.bin, not the compiler's objects)

const TARGET_NAMES = Object.keys(LOAD_TARGETS) as LoadTarget[];

function zeroBlockOf(f: Record<string, number>): ZeroBlockDma {
  return {
    planes: f['planes']!,
    rows: f['rows']!,
    nWb: f['nwb']!,
    segBeats: f['seg_beats']!,
    bh: f['bh']!,
    planeBytes: f['plane_bytes']!,
    bitmapAddr: f['bm_addr']!,
    bitmapRowBytes: f['bm_row']!,
    k: f['k']!,
    zeroPoint: f['zp']!,
  };
}

/** The instruction an encoded one stands for: encodeInstruction of the result gives the same bytes. */
export function instructionOf(d: DecodedInstruction): Instr {
  const f = d.fields;
  const common = { tag: d.tag, waitDma: d.waitDma, waitCmp: d.waitCmp };
  const window = () => ({
    inStart: f['in_start']!,
    imgH: f['img_h']!,
    imgW: f['img_w']!,
    inPitch: f['in_pitch']!,
    iy0: f['iy0']!,
    oyCnt: f['oy_cnt']!,
    outW: f['out_w']!,
    kh: f['kh']!,
    kw: f['kw']!,
    sh: f['sh']!,
    sw: f['sw']!,
    pt: f['pt']!,
    pl: f['pl']!,
    outBase: f['out_base']!,
    outPitch: f['out_pitch']!,
    zpIn: f['zp_in']!,
    zpOut: f['zp_out']!,
    lo: f['lo']!,
    hi: f['hi']!,
  });
  switch (d.op) {
    case 'end':
      return { op: 'end', ...common };
    case 'load': {
      const target = TARGET_NAMES[f['target']!];
      if (target === undefined) throw new Error(`engine: LOAD target ${f['target']} is not one of ${TARGET_NAMES.join(', ')}`);
      return { op: 'load', ...common, addr: f['addr']!, bytes: f['bytes']!, target, row: f['row']!, ...(f['zb'] ? { zb: zeroBlockOf(f) } : {}) };
    }
    case 'store': {
      const zb: ZeroBlockStore | undefined = f['zb']
        ? { ...zeroBlockOf(f), validRows: f['valid_rows']!, width: f['width']!, epsilon: f['eps']!, planeRows: f['plane_rows']!, rowRows: f['row_rows']! }
        : undefined;
      return { op: 'store', ...common, addr: f['addr']!, bytes: f['bytes']!, row: f['row']!, ...(zb ? { zb } : {}) };
    }
    case 'conv': {
      const gate: GateFields | undefined = f['gate'] ? { nb: f['gate_nb']!, kmod: f['g0_lane']!, crest: f['ciw0_off']!, wr0: f['out_goff']! } : undefined;
      return {
        op: 'conv',
        ...common,
        ...window(),
        ncgIn: f['ncg_in']!,
        ciw0Off: gate ? 0 : f['ciw0_off']!,
        nciw: f['nciw']!,
        wb0: f['wb0']!,
        gstride: f['gstride']!,
        ng: f['ng']!,
        pb0: f['pb0']!,
        outGoff: gate ? 0 : f['out_goff']!,
        g0Lane: gate ? 0 : f['g0_lane']!,
        wordsLeft: f['words_left']!,
        ncgOut: f['ncg_out']!,
        cwStride: f['cw_stride']!,
        outCwStride: f['out_cw_stride']!,
        ...(f['skip'] ? { skip: true } : {}),
        ...(gate ? { gate } : {}),
      };
    }
    case 'pool':
      return {
        op: 'pool',
        ...common,
        ...window(),
        ncg: f['ncg']!,
        ncgOut: f['ncg_out']!,
        cwOff: f['cw_off']!,
        cwStride: f['cw_stride']!,
        outCwStride: f['out_cw_stride']!,
        multiplier: f['multiplier']!,
        shift: f['shift']!,
        average: f['mode'] === 1,
      };
    case 'add':
      return {
        op: 'add',
        ...common,
        aBase: f['a_base']!,
        bBase: f['b_base']!,
        rows: f['rows']!,
        rowWords: f['row_words']!,
        inPitch: f['in_pitch']!,
        outBase: f['out_base']!,
        outPitch: f['out_pitch']!,
        zpA: f['zp_a']!,
        zpB: f['zp_b']!,
        zpOut: f['zp_out']!,
        lo: f['lo']!,
        hi: f['hi']!,
        multA: f['mult_a']!,
        multB: f['mult_b']!,
        shift: f['shift']!,
      };
  }
}

/** `count` instructions from byte `addr` of an image (mem/dram.bin holds the program at map.json's program.addr). */
export function decodeProgram(image: Uint8Array, addr: number, count: number): Instr[] {
  if (addr + count * INSTRUCTION_BYTES > image.length) throw new Error(`engine: a program of ${count} instructions at ${addr} does not fit ${image.length} bytes`);
  return Array.from({ length: count }, (_, k) => instructionOf(decodeInstruction(image, addr + k * INSTRUCTION_BYTES)));
}
