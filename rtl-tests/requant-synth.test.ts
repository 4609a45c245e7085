import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthCellCounts } from '../src/sim/yosys.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('gatec_requant synthesis (Yosys synth_xilinx)', () => {
  it('maps its one 32x16 product to two DSP48E1 and infers no latch', async () => {
    const cells = await synthCellCounts([join(root, 'templates/rtl/engine/gatec_requant.sv')], 'gatec_requant', 'synth_xilinx');
    // A 32-bit signed accumulator times a 16-bit signed (15-bit unsigned) multiplier needs two
    // 25x18 DSP48E1 slices; any more would mean a second multiplier crept in.
    expect(cells.get('DSP48E1')).toBe(2);
    expect([...cells.keys()].filter((c) => /^LD/.test(c) || /dlatch/i.test(c))).toEqual([]);
  });
});
