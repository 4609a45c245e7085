// Synthesis and lint checks of the whole engine as `gatec build` generates it: the top from
// templates/rtl/engine_top.sv.hbs over every .sv under templates/rtl.
//  - Yosys synth_xilinx (full flow, flattened so cells keep their instance paths): the number of
//    DSP48E1 is exactly engineResources(config).dsp, each multiplier kind gets the slices the
//    model gives it, no latch (LD*), the input and weight buffers are block RAM and no buffer is
//    left in flip-flops.
//  - Yosys generic `synth -top`, the whole flow, on the smallest configuration (the generic flow
//    has no memory library, so every RAM becomes flip-flops; tiny buffers keep that to ~20 s):
//    no latch cell.
//  - verilator --lint-only -Wall on three configurations: no output at all.
// The Yosys runs are separate processes started together, so they overlap on two cores.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineResources, type EngineResourceConfig } from '../generator/engine/resources.js';
import { root } from './common/bench.js';

const SYNTH_NAME = 'synthcheck';
// Yosys' synth_xilinx of the whole engine takes 2-4 minutes on two cores: slow, not stuck.
const SYNTH_TIMEOUT = 600_000;
const SYNTH_CONFIG: EngineResourceConfig = {
  peOc: 4,
  peIc: 4,
  busBytes: 8,
  inBufBytes: 2048,
  wBufBytes: 2048,
  outBufBytes: 2048,
  paramRows: 16,
  fetchDepth: 4,
  skipLanes: 2,
  skipTaps: 16,
};

/** The generic flow keeps every RAM bit as a flip-flop: buffers of a few rows. */
const GENERIC_CONFIG: EngineResourceConfig = {
  peOc: 2,
  peIc: 2,
  busBytes: 4,
  inBufBytes: 64,
  wBufBytes: 64,
  outBufBytes: 64,
  paramRows: 2,
  fetchDepth: 4,
  skipLanes: 2,
  skipTaps: 4,
};

const LINT_CONFIGS: EngineResourceConfig[] = [
  { peOc: 8, peIc: 8, busBytes: 16, inBufBytes: 16384, wBufBytes: 16384, outBufBytes: 16384, paramRows: 64, fetchDepth: 16, skipLanes: 4, skipTaps: 1024 },
  { peOc: 4, peIc: 8, busBytes: 64, inBufBytes: 16384, wBufBytes: 16384, outBufBytes: 16384, paramRows: 64, fetchDepth: 16, skipLanes: 8, skipTaps: 256 },
  { peOc: 16, peIc: 4, busBytes: 4, inBufBytes: 16384, wBufBytes: 16384, outBufBytes: 16384, paramRows: 64, fetchDepth: 16, skipLanes: 2, skipTaps: 2 },
];

/** The engine's .sv files as gatec build copies them (templates/rtl and templates/rtl/engine). */
async function engineSources(): Promise<{ name: string; text: string }[]> {
  const out: { name: string; text: string }[] = [];
  for (const dir of ['templates/rtl', 'templates/rtl/engine']) {
    for (const f of (await readdir(join(root, dir))).filter((f) => f.endsWith('.sv')).sort()) {
      out.push({ name: f, text: await readFile(join(root, dir, f), 'utf8') });
    }
  }
  return out;
}

async function renderTop(name: string, config: EngineResourceConfig): Promise<string> {
  const hbs = await readFile(join(root, 'templates/rtl/engine_top.sv.hbs'), 'utf8');
  return Handlebars.compile(hbs, { noEscape: true, strict: true })({ name, top: `${name}_top`, config });
}

/** Writes the sources and the top of one configuration into a fresh directory. */
async function designDir(base: string, name: string, config: EngineResourceConfig): Promise<{ dir: string; files: string[] }> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const s of await engineSources()) {
    await writeFile(join(dir, s.name), s.text);
    files.push(s.name);
  }
  await writeFile(join(dir, `${name}_top.sv`), await renderTop(name, config));
  files.push(`${name}_top.sv`);
  return { dir, files };
}

/** Runs a Yosys script in its own process over the .sv files of `dir`; returns its .txt outputs. */
async function yosys(dir: string, files: string[], script: string, outputs: string[]): Promise<Record<string, string>> {
  const reads = files.map((f) => `read_verilog -sv ${f}`).join('; ');
  const job = join(root, 'rtl-tests/common/yosys-job.mjs');
  const r = await execa(process.execPath, [job, dir, `${reads}; ${script}`], { reject: false });
  if (r.exitCode !== 0) throw new Error(`Yosys failed (${script}):\n${r.stderr}`);
  const out: Record<string, string> = {};
  for (const o of outputs) out[o] = await readFile(join(dir, o), 'utf8');
  return out;
}

/** Cell counts of the last (whole-design) section of Yosys `stat`. */
function statTotals(stat: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of stat.matchAll(/^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$/gm)) counts.set(m[1]!, Number(m[2]));
  return counts;
}

const latchCells = (counts: Map<string, number>) => [...counts.keys()].filter((c) => /^LD/.test(c) || /dlatch/i.test(c));

/** The engine block a cell belongs to, from its flattened name (`select -list`: top/path.cell). */
function blockOf(cell: string): string {
  const known = ['u_pe_array', 'u_pool', 'u_requant', 'u_in_buf', 'u_w_buf', 'u_out_buf', 'u_p_buf', 'u_fetch', 'u_dma_wr', 'u_dma_rd'];
  // the innermost known instance on the path
  let best = 'other';
  let at = -1;
  for (const k of known) {
    const i = cell.lastIndexOf(k);
    if (i > at) {
      at = i;
      best = k;
    }
  }
  return best;
}

let base = '';
let xilinx: Promise<Record<string, string>>;
let generic: Promise<Record<string, string>>;
let lint: Promise<{ name: string; output: string }[]>;
const quiet = <T>(p: Promise<T>): Promise<T> => {
  // the tests await these later; keep an early failure from counting as unhandled
  p.catch(() => undefined);
  return p;
};

/** RAM primitives and their capacity in bits as Yosys uses them (LUTRAM as simple dual port). */
const RAM_BITS: Record<string, number> = {
  RAMB36E1: 36 * 1024,
  RAMB18E1: 18 * 1024,
  RAM32M: 32 * 6,
  RAM64M: 64 * 3,
  RAM32X1D: 32,
  RAM64X1D: 64,
  RAM128X1D: 128,
};
const RAM_TYPES = Object.keys(RAM_BITS);
const LISTED = [...RAM_TYPES, 'DSP48E1'];
const listed = (out: Record<string, string>, type: string): string[] =>
  out[`cells_${type}.txt`]!.split('\n').filter((l) => l.trim());

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'gatec-engine-synth-'));
  const x = await designDir(base, SYNTH_NAME, SYNTH_CONFIG);
  const top = `${SYNTH_NAME}_top`;
  // after flattening, `select -list` names each cell by its instance path
  xilinx = quiet(
    yosys(
      x.dir,
      x.files,
      `synth_xilinx -flatten -noiopad -top ${top}; tee -q -o xilinx_stat.txt stat; ` +
        LISTED.map((t) => `tee -q -o cells_${t}.txt select -list t:${t}`).join('; '),
      ['xilinx_stat.txt', ...LISTED.map((t) => `cells_${t}.txt`)],
    ),
  );
  const g = await designDir(base, `${SYNTH_NAME}_generic`, GENERIC_CONFIG);
  generic = quiet(yosys(g.dir, g.files, `synth -top ${SYNTH_NAME}_generic_top; tee -q -o generic_stat.txt stat`, ['generic_stat.txt']));
  lint = quiet(
    Promise.all(
      LINT_CONFIGS.map(async (c, i) => {
        const name = `lint${i}`;
        const d = await designDir(base, name, c);
        const r = await execa('verilator', ['--lint-only', '-Wall', '--top-module', `${name}_top`, ...d.files], {
          cwd: d.dir,
          reject: false,
          all: true,
        });
        return { name: `${name} (${c.peOc}x${c.peIc}, B=${c.busBytes})`, output: `${r.all ?? ''}`.trim() };
      }),
    ),
  );
});

afterAll(async () => {
  if (base) await rm(base, { recursive: true, force: true });
});

describe(`engine synthesis (Yosys, ${SYNTH_CONFIG.peOc}x${SYNTH_CONFIG.peIc}, B=${SYNTH_CONFIG.busBytes}, 2 KiB buffers)`, () => {
  it('synth_xilinx: DSP48E1 count is exactly the resource model, per multiplier kind too; no latch', async () => {
    const out = await xilinx;
    const totals = statTotals(out['xilinx_stat.txt']!);
    const model = engineResources(SYNTH_CONFIG);
    expect(totals.get('DSP48E1')).toBe(model.dsp);
    expect(latchCells(totals)).toEqual([]);
    const dsps = listed(out, 'DSP48E1');
    const by = new Map<string, number>();
    for (const c of dsps) by.set(blockOf(c), (by.get(blockOf(c)) ?? 0) + 1);
    expect(Object.fromEntries(by)).toEqual({
      u_pe_array: model.multipliers.peArray, // 8x9: one slice each
      u_pool: model.multipliers.eltwise, // 9x16: one slice each
      u_requant: 2 * model.multipliers.requant, // 32x16: two slices each
    });
  }, SYNTH_TIMEOUT);

  it('synth_xilinx: input and weight buffers are block RAM; no buffer is left in flip-flops', async () => {
    const out = await xilinx;
    const placed = new Map<string, Map<string, number>>();
    RAM_TYPES.forEach((t) => {
      for (const c of listed(out, t)) {
        const b = blockOf(c);
        const m = placed.get(b) ?? new Map<string, number>();
        m.set(t, (m.get(t) ?? 0) + 1);
        placed.set(b, m);
      }
    });
    const found = Object.fromEntries([...placed].map(([b, m]) => [b, Object.fromEntries(m)]));
    // In this configuration (what Yosys 0.55 infers):
    //   in buffer 256 x 64 bit -> 1 RAMB36E1; weight buffer 128 x 128 bit -> 2 RAMB36E1;
    //   out buffer, 8 byte lanes of 256 x 8 bit (byte enables) -> RAM64M (LUTRAM, cheaper than
    //   eight block RAMs at this size); param buffer 16 x 256 bit -> RAM32M; instruction FIFO
    //   4 x 512 bit and the write path's two-row queue -> RAM32M.
    const blockRam = (b: string) => Object.keys(found[b] ?? {}).every((t) => t.startsWith('RAMB')) && Object.keys(found[b] ?? {}).length > 0;
    expect(blockRam('u_in_buf'), JSON.stringify(found)).toBe(true);
    expect(blockRam('u_w_buf'), JSON.stringify(found)).toBe(true);
    for (const b of ['u_out_buf', 'u_p_buf', 'u_fetch']) expect(Object.keys(found[b] ?? {}), `${b}: ${JSON.stringify(found)}`).not.toEqual([]);
    // the RAMs' capacity covers each buffer's bits in the resource model
    const cap = (b: string) => Object.entries(found[b] ?? {}).reduce((s, [t, n]) => s + RAM_BITS[t]! * n, 0);
    const model = engineResources(SYNTH_CONFIG);
    expect(cap('u_in_buf')).toBeGreaterThanOrEqual(model.buffers.input);
    expect(cap('u_w_buf')).toBeGreaterThanOrEqual(model.buffers.weight);
    expect(cap('u_out_buf')).toBeGreaterThanOrEqual(model.buffers.output);
    expect(cap('u_p_buf')).toBeGreaterThanOrEqual(model.buffers.param);
  }, SYNTH_TIMEOUT);

  it('generic synth -top (2x2, B=4, 64-byte buffers) maps to gates and flip-flops, no latch', async () => {
    const totals = statTotals((await generic)['generic_stat.txt']!);
    expect(totals.size).toBeGreaterThan(0);
    expect(latchCells(totals)).toEqual([]);
  }, SYNTH_TIMEOUT);
});

describe('engine lint (verilator --lint-only -Wall)', () => {
  it('is silent on 8x8/B16, 4x8/B64 and 16x4/B4', async () => {
    const results = await lint;
    expect(results).toEqual(results.map((r) => ({ name: r.name, output: '' })));
  }, SYNTH_TIMEOUT);
});
