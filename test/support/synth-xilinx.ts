// Yosys synth_xilinx of a spatial build in a process of its own (rtl-tests/common/yosys-job.mjs),
// so that several syntheses run in parallel. Shared by the RTL tests and the spatial bench, which
// runs compiled from dist/ (hence the root found the same way as test/fixtures.ts finds it).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const here = dirname(fileURLToPath(import.meta.url));
const root = basename(dirname(dirname(here))) === 'dist' ? join(here, '..', '..', '..') : join(here, '..', '..');

export interface SynthStat {
  dsp: number;
  lut: number;
  ff: number;
  bram18: number;
  latches: number;
}

/** Synthesizes the build in `dir` (its files.f) for top `top`; Yosys' stat is kept in dir/yosys/stat.txt. */
export async function synthXilinx(dir: string, top: string): Promise<SynthStat> {
  const files = (await readFile(join(dir, 'files.f'), 'utf8')).trim().split('\n');
  const work = join(dir, 'yosys');
  await mkdir(work, { recursive: true });
  for (const f of files) await writeFile(join(work, f.split('/').pop()!), await readFile(join(dir, f)));
  const reads = files.map((f) => `read_verilog -sv ${f.split('/').pop()}`).join('; ');
  const job = join(root, 'rtl-tests/common/yosys-job.mjs');
  const r = await execa(process.execPath, [job, work, `${reads}; synth_xilinx -flatten -noiopad -top ${top}; tee -q -o stat.txt stat`], { reject: false });
  if (r.exitCode !== 0) throw new Error(`Yosys failed:\n${r.stderr}`);
  return parseStat(await readFile(join(work, 'stat.txt'), 'utf8'));
}

/** DSP48E1, LUTs, flip-flops, BRAM18 (a RAMB36 is two) and latches of Yosys' stat. */
export function parseStat(stat: string): SynthStat {
  const c = new Map<string, number>();
  for (const m of stat.matchAll(/^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$/gm)) c.set(m[1]!, Number(m[2]));
  const sum = (re: RegExp) => [...c].filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);
  return { dsp: c.get('DSP48E1') ?? 0, lut: sum(/^LUT\d$/), ff: sum(/^FD/), bram18: sum(/^RAMB18/) + 2 * sum(/^RAMB36/), latches: sum(/^LD|dlatch/i) };
}
