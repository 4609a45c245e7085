// What the memory-port benches (mem-port/, zero-block-dma/) share on the TypeScript side: their
// trace lines parsed per command, the checks of dense LOAD/STORE traffic, the LOAD/STORE fields.
import { expect } from 'vitest';
import { dramByte, hexOf, runBench } from './bench.js';

export const range = (a: number, n: number): number[] => Array.from({ length: n }, (_, i) => a + i);

/** Hex of the DRAM bytes [addr, addr + n) of the benches' hash DRAM. */
export const dramHex = (addr: number, n: number, seed: number): string => hexOf(range(addr, n).map((a) => dramByte(a, seed)));

/** What a bench printed for one command (up to its "end" line). */
export interface Trace {
  reqs: { t: number; addr: number; beats: number }[];
  rows: { t: number; target: number; row: number; hex: string }[];
  beats: { t: number; last: boolean; hex: string }[];
  instrs: { t: number; hex: string }[];
  cycles: number;
  errors: string[];
}

/** Splits bench output into one trace per command; a line of no known kind throws. */
export function parseTraces(lines: string[]): Trace[] {
  const out: Trace[] = [];
  const fresh = (): Trace => ({ reqs: [], rows: [], beats: [], instrs: [], cycles: 0, errors: [] });
  let cur = fresh();
  for (const line of lines) {
    const f = line.trim().split(' ');
    const n = f.slice(1).map(Number);
    switch (f[0]) {
      case 'req':
        cur.reqs.push({ t: n[0]!, addr: n[1]!, beats: n[2]! });
        break;
      case 'row':
        cur.rows.push({ t: n[0]!, target: n[1]!, row: n[2]!, hex: f[4]! });
        break;
      case 'beat':
        cur.beats.push({ t: n[0]!, last: f[2] === '1', hex: f[3]! });
        break;
      case 'instr':
        cur.instrs.push({ t: n[0]!, hex: f[2]! });
        break;
      case 'error':
        cur.errors.push(line);
        break;
      case 'end':
        cur.cycles = n[0]!;
        out.push(cur);
        cur = fresh();
        break;
      default:
        throw new Error(`bench said: ${line}`);
    }
  }
  return out;
}

/** Runs a bench on `input` and parses its traces, asserting there are `count`. */
export async function benchTraces(exe: string, input: string, count: number): Promise<Trace[]> {
  const traces = parseTraces(await runBench(exe, input));
  expect(traces.length).toBe(count);
  return traces;
}

/** Requests cover [addr, addr + beats*B) contiguously, in bursts of 1..64 beats. */
export function checkBursts(reqs: Trace['reqs'], addr: number, beats: number, B: number): string[] {
  const bad: string[] = [];
  let a = addr;
  for (const r of reqs) {
    if (r.addr !== a) bad.push(`request at ${r.addr}, want ${a}`);
    if (r.beats < 1 || r.beats > 64) bad.push(`burst of ${r.beats} beats`);
    a = r.addr + r.beats * B;
  }
  if (a !== addr + beats * B) bad.push(`requests end at ${a}, want ${addr + beats * B}`);
  return bad;
}

/** Row width of LOAD target 0 (in), 1 (weights), 2 (params). */
export const targetWidth = (c: { Wa: number; Ww: number; Wp: number }, target: number): number => [c.Wa, c.Ww, c.Wp][target]!;

/** LOAD/STORE halfwords 0..7: opcode, h1, DRAM address, byte count, target, first buffer row. */
export function dmaFields(h0: number, h1: number, addr: number, bytes: number, target: number, row: number): Record<number, number> {
  return { 0: h0, 1: h1, 2: addr, 3: addr >>> 16, 4: bytes, 5: bytes >>> 16, 6: target, 7: row };
}

/**
 * A dense LOAD of `bytes` from `addr` (DRAM bytes dramByte(a, seed)) to buffer `target` (rows of
 * `wt` bytes) from `row`: contiguous bursts, then every row in order with its DRAM bytes.
 */
export function checkDenseLoad(
  tr: Trace,
  l: { addr: number; bytes: number; target: number; row: number; seed: number },
  B: number,
  wt: number,
): string[] {
  const bad = checkBursts(tr.reqs, l.addr, l.bytes / B, B);
  const rows = l.bytes / wt;
  if (tr.rows.length !== rows) bad.push(`${tr.rows.length} rows written, want ${rows}`);
  tr.rows.forEach((w, k) => {
    const want = dramHex(l.addr + k * wt, wt, l.seed);
    if (w.target !== l.target || w.row !== l.row + k || w.hex !== want)
      bad.push(`row write ${k} at cycle ${w.t}: target ${w.target} row ${w.row} ${w.hex}, want target ${l.target} row ${l.row + k} ${want}`);
  });
  return bad;
}

/**
 * DRAM as the write port sees it: beats fill the accepted requests in order, `last` on each
 * burst's final beat, no beat before its request. Returns the bytes written, the beats
 * requested and what was wrong.
 */
export function replayWrites(tr: Trace, B: number): { written: Map<number, number>; reqBeats: number; bad: string[] } {
  const written = new Map<number, number>();
  const bad: string[] = [];
  let k = 0;
  let reqBeats = 0;
  tr.reqs.forEach((q, qi) => {
    for (let j = 0; j < q.beats && k < tr.beats.length; j++, k++) {
      const b = tr.beats[k]!;
      if (b.last !== (j === q.beats - 1)) bad.push(`beat ${k} (burst ${qi} beat ${j}/${q.beats}, cycle ${b.t}) last=${b.last}`);
      if (b.t <= q.t) bad.push(`beat ${k} at cycle ${b.t} before its request was accepted (cycle ${q.t})`);
      for (let x = 0; x < B; x++) written.set(q.addr + j * B + x, parseInt(b.hex.slice(2 * x, 2 * x + 2), 16));
    }
    reqBeats += q.beats;
  });
  return { written, reqBeats, bad };
}
