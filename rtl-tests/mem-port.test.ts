// The engine's memory port units against a DRAM model with random ready/valid stalls and
// latency (C++ benches in rtl-tests/mem-port/):
//  - gatec_dma_rd (LOAD): random byte counts, targets and bus/row widths; every buffer row
//    written holds the right DRAM bytes, rows in order from the first row; bursts <= 64 beats,
//    contiguous, <= 4 outstanding.
//  - gatec_dma_wr (STORE): the DRAM bytes written equal the out-buffer rows; bursts <= 64 beats,
//    contiguous, data beats in request order with `last` on each burst's final beat, no beat
//    before its burst's request was accepted.
//  - gatec_fetch: instructions popped in program order with the right bytes, under request,
//    data and pop stalls; one burst in flight, never more than the FIFO can hold.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng, buildBench, dramByte, root, rtl } from './common/bench.js';
import { benchTraces, checkBursts, checkDenseLoad, dramHex, replayWrites, targetWidth } from './common/mem-port.js';

const harness = (n: string) => join(root, 'rtl-tests/mem-port', `tb_${n}.cpp`);
const ROW_AW = 10;

// Bus widths with the row widths of a matching engine configuration (Wa = max(B, L),
// Ww = max(B, PeOc*PeIc), Wp = max(B, 8*PeOc)). Each unit runs on two shapes: rows of several
// beats and rows of one beat; the engine-level tests (engine-property, engine-zero-blocks) run
// the units on further bus widths inside the engine.
const rdConfigs = [
  { B: 4, Wa: 8, Ww: 32, Wp: 32 }, // PeOc 4, PeIc 8
  { B: 64, Wa: 64, Ww: 64, Wp: 64 }, // 4 x 4
];

describe.each(rdConfigs)('gatec_dma_rd B=$B Wa=$Wa Ww=$Ww Wp=$Wp (Verilator) vs DRAM model', (cfg) => {
  it('writes every buffer row with the right DRAM bytes under random stalls', async () => {
    const exe = await buildBench({
      name: `dma-rd-${cfg.B}-${cfg.Wa}-${cfg.Ww}-${cfg.Wp}`,
      top: 'gatec_dma_rd',
      sources: [rtl('gatec_dma_rd'), rtl('gatec_ram'), rtl('gatec_zb_walker')],
      harness: harness('dma_rd'),
      params: { ...cfg, RowAddrWidth: ROW_AW },
    });
    const r = new Rng(cfg.B * 7 + cfg.Ww);
    const loads = Array.from({ length: 120 }, (_, i) => {
      const target = r.int(0, 2);
      const wt = targetWidth(cfg, target);
      const align = Math.max(64, wt);
      // long loads (many bursts, the outstanding limit) as well as single rows
      const rows = r.bool(0.3) ? r.int(1, 3) : r.int(1, Math.floor(Math.max(5000, 400 * cfg.B) / wt));
      return {
        gap: r.int(0, 3),
        addr: r.int(0, 4000) * align,
        bytes: rows * wt,
        target,
        row: r.int(0, (1 << ROW_AW) - 1 - rows),
        seed: 1000 + i,
        latency: r.pick([1, 2, 5, 20, 60]),
        pReq: r.pick([100, 70, 30]),
        pData: r.pick([100, 80, 40]),
      };
    });
    const input =
      `${cfg.B} ${cfg.Wa} ${cfg.Ww} ${cfg.Wp} ${ROW_AW}\n` +
      loads
        .map((l) => `load ${l.gap} ${l.addr} ${l.bytes} ${l.target} ${l.row} ${l.seed} ${l.latency} ${l.pReq} ${l.pData}`)
        .join('\n') +
      '\n';
    const traces = await benchTraces(exe, input, loads.length);
    const bad: string[] = [];
    loads.forEach((l, i) => {
      const tr = traces[i]!;
      const tag = `load ${i} (${JSON.stringify(l)})`;
      bad.push(...tr.errors.map((e) => `${tag}: ${e}`));
      bad.push(...checkDenseLoad(tr, l, cfg.B, targetWidth(cfg, l.target)).map((e) => `${tag}: ${e}`));
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

const wrConfigs = [
  { B: 8, Wa: 32 },
  { B: 16, Wa: 16 },
];

describe.each(wrConfigs)('gatec_dma_wr B=$B Wa=$Wa (Verilator) vs DRAM model', (cfg) => {
  it('writes the out-buffer rows to DRAM in bursts <= 64 beats with correct last flags', async () => {
    const exe = await buildBench({
      name: `dma-wr-${cfg.B}-${cfg.Wa}`,
      top: 'gatec_dma_wr',
      sources: [rtl('gatec_dma_wr'), rtl('gatec_ram'), rtl('gatec_zb_walker')],
      harness: harness('dma_wr'),
      // lanes never exceed the row width (Wa = max(B, L) in the engine)
      params: { ...cfg, L: Math.min(cfg.Wa, 8), RowAddrWidth: ROW_AW },
    });
    const r = new Rng(cfg.B * 13 + cfg.Wa);
    const stores = Array.from({ length: 120 }, (_, i) => {
      const rows = r.bool(0.3) ? r.int(1, 3) : r.int(1, Math.floor(Math.max(4000, 400 * cfg.B) / cfg.Wa));
      return {
        gap: r.int(0, 3),
        addr: r.int(0, 4000) * Math.max(64, cfg.Wa),
        bytes: rows * cfg.Wa,
        row: r.int(0, (1 << ROW_AW) - 1 - rows),
        seed: 2000 + i,
        pReq: r.pick([100, 60, 20]),
        pData: r.pick([100, 70, 30]),
      };
    });
    const input =
      `${cfg.B} ${cfg.Wa} ${ROW_AW}\n` +
      stores.map((s) => `store ${s.gap} ${s.addr} ${s.bytes} ${s.row} ${s.seed} ${s.pReq} ${s.pData}`).join('\n') +
      '\n';
    const traces = await benchTraces(exe, input, stores.length);
    const bad: string[] = [];
    stores.forEach((s, i) => {
      const tr = traces[i]!;
      const tag = `store ${i} (${JSON.stringify(s)})`;
      const nBeats = s.bytes / cfg.B;
      bad.push(...tr.errors.map((e) => `${tag}: ${e}`));
      bad.push(...checkBursts(tr.reqs, s.addr, nBeats, cfg.B).map((e) => `${tag}: ${e}`));
      if (tr.beats.length !== nBeats) bad.push(`${tag}: ${tr.beats.length} beats, want ${nBeats}`);
      const { written: dram, reqBeats, bad: beatBad } = replayWrites(tr, cfg.B);
      bad.push(...beatBad.map((e) => `${tag}: ${e}`));
      expect(reqBeats).toBe(nBeats);
      for (let a = 0; a < s.bytes; a++) {
        const row = s.row + Math.floor(a / cfg.Wa);
        const want = dramByte(row * cfg.Wa + (a % cfg.Wa), s.seed);
        if (dram.get(s.addr + a) !== want) {
          bad.push(`${tag}: DRAM byte ${s.addr + a} = ${dram.get(s.addr + a)}, want ${want} (out row ${row} byte ${a % cfg.Wa})`);
          break;
        }
      }
      // Without stalls: the first beat 3 cycles after the start, then one beat per cycle, also
      // when a row is one beat (Wa = B) (generator/engine/timing.ts models the same rates).
      if (s.pReq === 100 && s.pData === 100) {
        const want = 3 + nBeats;
        if (tr.cycles !== want) bad.push(`${tag}: ${tr.cycles} cycles for ${nBeats} beats without stalls, want ${want}`);
      }
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });
});

const fetchConfigs = [
  { B: 4, FetchDepth: 4 },
  { B: 64, FetchDepth: 8 },
];

describe.each(fetchConfigs)('gatec_fetch B=$B FetchDepth=$FetchDepth (Verilator) vs DRAM model', (cfg) => {
  it('delivers the program in order under request, data and pop stalls', async () => {
    const exe = await buildBench({
      name: `fetch-${cfg.B}-${cfg.FetchDepth}`,
      top: 'gatec_fetch',
      sources: [rtl('gatec_fetch')],
      harness: harness('fetch'),
      params: cfg,
    });
    const r = new Rng(cfg.B * 17 + cfg.FetchDepth);
    const progs = Array.from({ length: 80 }, (_, i) => ({
      gap: r.int(0, 3),
      addr: r.int(0, 100000) * 64,
      count: r.bool(0.1) ? r.int(0, 2) : r.int(1, 150),
      seed: 3000 + i,
      latency: r.pick([1, 3, 20, 50]),
      pReq: r.pick([100, 60, 20]),
      pData: r.pick([100, 70, 30]),
      pPop: r.pick([100, 50, 10]),
    }));
    const input =
      `${cfg.B} ${cfg.FetchDepth}\n` +
      progs
        .map((p) => `prog ${p.gap} ${p.addr} ${p.count} ${p.seed} ${p.latency} ${p.pReq} ${p.pData} ${p.pPop}`)
        .join('\n') +
      '\n';
    const traces = await benchTraces(exe, input, progs.length);
    const bad: string[] = [];
    const beatsPerInstr = Math.max(1, 64 / cfg.B);
    progs.forEach((p, i) => {
      const tr = traces[i]!;
      const tag = `program ${i} (${JSON.stringify(p)})`;
      bad.push(...tr.errors.map((e) => `${tag}: ${e}`));
      bad.push(...checkBursts(tr.reqs, p.addr, p.count * beatsPerInstr, cfg.B).map((e) => `${tag}: ${e}`));
      for (const q of tr.reqs) if (q.beats % beatsPerInstr) bad.push(`${tag}: burst of ${q.beats} beats splits an instruction`);
      if (tr.instrs.length !== p.count) bad.push(`${tag}: ${tr.instrs.length} instructions, want ${p.count}`);
      tr.instrs.forEach((ins, k) => {
        const want = dramHex(p.addr + 64 * k, 64, p.seed);
        if (ins.hex !== want) bad.push(`${tag}: instruction ${k} at cycle ${ins.t}: ${ins.hex}, want ${want}`);
      });
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
