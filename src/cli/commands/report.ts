import { writeReportHtml } from '../../report/html.js';

export interface ReportOptions {
  quiet?: boolean;
}

/** `gatec report hw-out/<name>`: (re)writes report.html from report.json and model.gir.json (engine or spatial). */
export async function reportCommand(hwDir: string, opts: ReportOptions): Promise<void> {
  const file = await writeReportHtml(hwDir);
  if (!opts.quiet) console.error(`wrote ${file}`);
}
