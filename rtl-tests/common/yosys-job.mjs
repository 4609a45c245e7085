// Runs one Yosys (yowasp) script in its own process, so that several syntheses run in parallel:
//   node yosys-job.mjs <dir> <script>
// Every .sv file of <dir> is in Yosys' working directory; the .txt files the script writes
// (tee -o) are copied back into <dir>. Yosys' own output (with -q: warnings and errors) goes to
// stderr; on an error the exit status is 1.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runYosys } from '@yowasp/yosys';

const [dir, script] = process.argv.slice(2);
const files = {};
for (const f of readdirSync(dir).filter((f) => f.endsWith('.sv'))) files[f] = readFileSync(join(dir, f), 'utf8');
let err = '';
try {
  const out = await runYosys(['-q', '-p', script], files, {
    stdout: (bytes) => {
      if (bytes) err += Buffer.from(bytes).toString('utf8');
    },
    stderr: (bytes) => {
      if (bytes) err += Buffer.from(bytes).toString('utf8');
    },
  });
  for (const [name, data] of Object.entries(out ?? {})) {
    if (name.endsWith('.txt') && (typeof data === 'string' || data instanceof Uint8Array)) writeFileSync(join(dir, name), data);
  }
  process.stderr.write(err);
} catch (e) {
  process.stderr.write(`${err}\n${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
