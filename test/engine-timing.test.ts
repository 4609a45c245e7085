import { describe, expect, it } from 'vitest';
import { compileEngine } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../generator/engine/config.js';
import type { ConvInstr, Instr } from '../generator/engine/isa.js';
import { computeCycles, predictTiming, TIMING_MODEL } from '../generator/engine/timing.js';
import { IrBuilder } from './support/engine-models.js';

const config: EngineConfig = { ...DEFAULT_ENGINE_CONFIG };
const common = (tag: number) => ({ tag, waitDma: false, waitCmp: false });

function model() {
  const b = new IrBuilder('timing', [16, 24, 24]);
  let x = b.conv(b.input, { co: 32, k: 3, p: 1 });
  x = b.pool(x, 'maxpool', 2, 2);
  const y = b.conv(x, { co: 32, k: 1 });
  x = b.add(x, y);
  x = b.fc(b.flatten(b.gap(x)), 10);
  return b.build([x]);
}

describe('cycle model', () => {
  it('times a lone LOAD as the memory port and the harness serve it', () => {
    // Fetch: one request at cycle 1 for both instructions (8 beats of 16 bytes), first beat at
    // 1 + latency 20 = 21; the LOAD is complete after beat 24 and issues at 25. Its first burst is
    // requested at 26; 4096 bytes = 256 beats in bursts of 64 with 4 outstanding stream from 46
    // to 301; the DMA is idle at 302, END issues then and done follows: 303 cycles.
    const program: Instr[] = [{ op: 'load', ...common(1), addr: 4096, bytes: 4096, target: 'in', row: 0 }, { op: 'end', ...common(1) }];
    const t = predictTiming(program, config);
    expect(t.cycles).toBe(303);
    // layer_tag_o shows tag 0 until the cycle after the LOAD issues.
    expect(t.tags).toEqual([
      { tag: 0, cycles: 26, dramRead: 0, dramWrite: 0 },
      { tag: 1, cycles: 277, dramRead: 4096, dramWrite: 0 },
    ]);
    expect(t.fetchRead).toBe(128);
  });

  it('counts CONV cycles per group and tap as docs/engine.md gives them', () => {
    const conv: ConvInstr = {
      op: 'conv', ...common(0), waitDma: true, inStart: 0, imgH: 8, imgW: 8, inPitch: 8, iy0: 0, oyCnt: 8, outW: 8, kh: 3, kw: 3, sh: 1, sw: 1,
      pt: 0, pl: 0, outBase: 0, outPitch: 8, zpIn: 0, zpOut: 0, lo: -128, hi: 127, ncgIn: 2, ciw0Off: 0, nciw: 2, wb0: 0, gstride: 18, ng: 3, pb0: 0, outGoff: 0, g0Lane: 0, wordsLeft: 3, ncgOut: 3,
      cwStride: 1, outCwStride: 1,
    };
    const m = TIMING_MODEL;
    expect(computeCycles(conv, config)).toBe(3 * (m.convGroupSetup + 64 * 18) + m.convDrain);
    // A 16-row PE array writes two words per pixel: at least two cycles a pixel.
    expect(computeCycles({ ...conv, kh: 1, kw: 1, nciw: 1 }, { ...config, peOc: 16 })).toBe(3 * (m.convGroupSetup + 64 * 2) + m.convDrain);
  });

  it('predicts exact DRAM bytes per layer, fetch bytes, and cycles that add up', () => {
    const m = model();
    const comp = compileEngine(m, config);
    const t = comp.timing;
    const bytes = new Map<number, [number, number]>();
    for (const i of comp.program) {
      const b = bytes.get(i.tag) ?? [0, 0];
      if (i.op === 'load') b[0] += i.bytes;
      if (i.op === 'store') b[1] += i.bytes;
      bytes.set(i.tag, b);
    }
    for (const tt of t.tags) expect([tt.dramRead, tt.dramWrite]).toEqual(bytes.get(tt.tag) ?? [0, 0]);
    expect(t.fetchRead).toBe(64 * comp.program.length);
    expect(t.tags.reduce((a, tt) => a + tt.cycles, 0)).toBe(t.cycles);
    // A layer lasts at least as long as its computes.
    comp.report.layers.forEach((l) => {
      const compute = comp.program.filter((i) => i.tag === l.tag && (i.op === 'conv' || i.op === 'pool' || i.op === 'add'));
      const busy = compute.reduce((a, i) => a + computeCycles(i as Exclude<Instr, { op: 'load' | 'store' | 'end' }>, config), 0);
      expect(l.cycles).toBeGreaterThanOrEqual(busy);
    });
  });

  it('gets slower with less DRAM bandwidth or more latency, and faster with a wider PE array', () => {
    const m = model();
    const base = compileEngine(m, config).report.totals.cycles;
    expect(compileEngine(m, { ...config, dramBytesPerCycle: 2 }).report.totals.cycles).toBeGreaterThan(base);
    expect(compileEngine(m, { ...config, dramLatency: 200 }).report.totals.cycles).toBeGreaterThan(base);
    expect(compileEngine(m, { ...config, peOc: 16, peIc: 16 }).report.totals.cycles).toBeLessThan(base);
  });
});
