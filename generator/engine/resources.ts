/**
 * Resource model of the engine RTL (templates/rtl/engine) for one hardware configuration:
 * DSP48E1 slices (Xilinx 7-series, as Yosys `synth_xilinx` maps them) and on-chip buffer bits.
 *
 * The engine's only multipliers (docs/engine.md) are
 *  - the PE array: PeOc x PeIc products int8 x 9-bit centred activation (8x9),
 *  - the pool/eltwise unit: one (x - zp) * mult per lane, 9-bit x 16-bit (unsigned 15-bit
 *    multiplier with a zero sign bit), L = PeIc lanes,
 *  - the requant bank: one unit per result lane, max(PeOc, L) of them, each a 32-bit
 *    accumulator x 16-bit multiplier product.
 * Address generators use adders only (the compiler precomputes every product).
 *
 * Yosys maps a product to one DSP48E1 when both operands are at least 2 bits wide, the product
 * at least 9 bits and the operands fit the 25x18 multiplier; a 32x16 product is split into two
 * slices. So 8x9 and 9x16 take one slice each and the requant product two
 * (rtl-tests/engine-synth.test.ts checks the total on a synthesized engine).
 */
import type { EngineConfig } from './config.js';

/** The Verilog parameters of `<name>_top`: the structural part of EngineConfig. */
export type EngineResourceConfig = Pick<
  EngineConfig,
  'peOc' | 'peIc' | 'busBytes' | 'inBufBytes' | 'wBufBytes' | 'outBufBytes' | 'paramRows' | 'fetchDepth' | 'skipLanes' | 'skipTaps'
>;

export interface EngineResources {
  /** DSP48E1 slices */
  dsp: number;
  /** bits of the four on-chip buffers (input, weight, output, parameter) */
  bufferBits: number;
  /** the buffers one by one, in bits */
  buffers: { input: number; weight: number; output: number; param: number };
  /** bits of the instruction FIFO (FetchDepth x 512) */
  fetchFifoBits: number;
  /**
   * MAC skipping: a zero flag per input-buffer row in each of the SkipLanes read copies, and the
   * tap table (SkipTaps entries of an input word offset and two 8-bit kernel coordinates)
   */
  skip: { zeroFlagBits: number; tapTableBits: number };
  /** multipliers of each kind (not slices) */
  multipliers: { peArray: number; eltwise: number; requant: number };
}

/** Signed operand widths of the three products, and DSP48E1 slices per product. */
export const ENGINE_PRODUCTS = {
  peArray: { a: 8, b: 9 },
  eltwise: { a: 9, b: 16 },
  requant: { a: 32, b: 16 },
} as const;

/**
 * DSP48E1 slices Yosys `synth_xilinx` spends on one signed aBits x bBits product: none below
 * 2-bit operands or a 9-bit product (left to LUTs), one up to 25x18 (either way round), else
 * the product is split into 25x18 pieces (24 and 17 unsigned bits per piece but the last).
 */
export function dsp48e1PerProduct(aBits: number, bBits: number): number {
  if (Math.min(aBits, bBits) < 2 || aBits + bBits < 9) return 0;
  const [x, y] = aBits >= bBits ? [aBits, bBits] : [bBits, aBits];
  if (x <= 25 && y <= 18) return 1;
  const pieces = (w: number, max: number) => (w <= max ? 1 : 1 + Math.ceil((w - max) / (max - 1)));
  return pieces(x, 25) * pieces(y, 18);
}

/** Resources of the engine in configuration `c` (row widths as docs/engine.md derives them). */
export function engineResources(c: EngineResourceConfig): EngineResources {
  const lanes = c.peIc;
  const wa = Math.max(c.busBytes, lanes);
  const ww = Math.max(c.busBytes, c.peOc * c.peIc);
  const wp = Math.max(c.busBytes, 8 * c.peOc);
  const multipliers = {
    peArray: c.peOc * c.peIc,
    eltwise: lanes,
    requant: Math.max(c.peOc, lanes),
  };
  const per = (k: keyof typeof ENGINE_PRODUCTS) => dsp48e1PerProduct(ENGINE_PRODUCTS[k].a, ENGINE_PRODUCTS[k].b);
  const dsp = multipliers.peArray * per('peArray') + multipliers.eltwise * per('eltwise') + multipliers.requant * per('requant');
  // the RTL sizes each buffer as whole rows: Rows = Bytes / W
  const buffers = {
    input: Math.floor(c.inBufBytes / wa) * wa * 8,
    weight: Math.floor(c.wBufBytes / ww) * ww * 8,
    output: Math.floor(c.outBufBytes / wa) * wa * 8,
    param: c.paramRows * wp * 8,
  };
  return {
    dsp,
    bufferBits: buffers.input + buffers.weight + buffers.output + buffers.param,
    buffers,
    fetchFifoBits: c.fetchDepth * 512,
    skip: {
      zeroFlagBits: c.skipLanes * Math.floor(c.inBufBytes / wa),
      tapTableBits: c.skipTaps * (Math.ceil(Math.log2(Math.floor(c.inBufBytes / wa))) + Math.log2(wa / lanes) + 16),
    },
    multipliers,
  };
}
