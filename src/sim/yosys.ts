import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { runYosys } from '@yowasp/yosys';

/** Cell counts from Yosys `stat` after a synthesis script, e.g. {DSP48E1: 2, LUT6: 215}. */
export async function synthCellCounts(sources: string[], top: string, synth: string): Promise<Map<string, number>> {
  const files: Record<string, string> = {};
  for (const s of sources) files[basename(s)] = await readFile(s, 'utf8');
  const reads = Object.keys(files).map((f) => `read_verilog -sv ${f}`).join('; ');
  const out = (await runYosys(['-q', '-p', `${reads}; ${synth} -top ${top}; tee -q -o stat.txt stat`], files)) as Record<string, unknown>;
  const stat = String(out['stat.txt'] ?? '');
  const counts = new Map<string, number>();
  for (const m of stat.matchAll(/^\s+(\$?[A-Za-z_][\w$]*)\s+(\d+)\s*$/gm)) counts.set(m[1]!, Number(m[2]));
  return counts;
}
