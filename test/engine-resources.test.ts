import { describe, expect, it } from 'vitest';
import { dsp48e1PerProduct, engineResources } from '../generator/engine/resources.js';

describe('engine resource model', () => {
  it('counts DSP48E1 as Yosys synth_xilinx maps the three products', () => {
    expect(dsp48e1PerProduct(8, 9)).toBe(1);
    expect(dsp48e1PerProduct(9, 16)).toBe(1);
    expect(dsp48e1PerProduct(32, 16)).toBe(2);
    expect(dsp48e1PerProduct(16, 32)).toBe(2);
    expect(dsp48e1PerProduct(25, 18)).toBe(1);
    expect(dsp48e1PerProduct(1, 32)).toBe(0);
    expect(dsp48e1PerProduct(4, 4)).toBe(0);
  });

  it('DSP48E1 = PeOc*PeIc + L + 2*max(PeOc, L); buffers as whole rows', () => {
    const base = { busBytes: 16, inBufBytes: 65536, wBufBytes: 65536, outBufBytes: 65536, paramRows: 64, fetchDepth: 16, skipLanes: 4, skipTaps: 1024 };
    const r = engineResources({ ...base, peOc: 8, peIc: 8 });
    expect(r.multipliers).toEqual({ peArray: 64, eltwise: 8, requant: 8 });
    expect(r.dsp).toBe(64 + 8 + 16);
    expect(r.buffers).toEqual({ input: 65536 * 8, weight: 65536 * 8, output: 65536 * 8, param: 64 * 64 * 8 });
    expect(r.bufferBits).toBe(3 * 65536 * 8 + 64 * 64 * 8);
    expect(r.fetchFifoBits).toBe(16 * 512);
    expect(engineResources({ ...base, peOc: 16, peIc: 4 }).dsp).toBe(64 + 4 + 32);
    expect(engineResources({ ...base, peOc: 4, peIc: 32 }).dsp).toBe(128 + 32 + 64);
    // Wp = max(B, 8*PeOc): a wide bus pads the parameter rows
    expect(engineResources({ ...base, busBytes: 64, peOc: 2, peIc: 4 }).buffers.param).toBe(64 * 64 * 8);
  });
});
