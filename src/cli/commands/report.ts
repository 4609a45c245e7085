import { unsupported } from '../../errors.js';
import { writeReportHtml } from '../../report/html.js';
import { hwArch } from '../../sim/spatial-sim.js';

export interface ReportOptions {
  quiet?: boolean;
}

/** `gatec report hw-out/<name>`: (re)writes report.html from report.json and model.gir.json. */
export async function reportCommand(hwDir: string, opts: ReportOptions): Promise<void> {
  if ((await hwArch(hwDir)) === 'spatial') throw unsupported(hwDir, 'gatec report draws engine builds; a spatial build has its figures in report.json');
  const file = await writeReportHtml(hwDir);
  if (!opts.quiet) console.error(`wrote ${file}`);
}
