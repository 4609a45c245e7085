import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { TEMPLATES_DIR } from '../../generator/engine/build.js';
import { writeFileAtomic } from '../cli/atomic-write.js';
import { formatCount } from '../cli/format.js';
import { gatingSpecs, layerBars, zeroMapSpec, type NamedSpec } from './specs.js';
import { vegaScripts } from './vega.js';
import { hwArch } from '../sim/spatial-sim.js';
import { spatialView } from './spatial-view.js';
import { reportView, type ReportView } from './view.js';

/**
 * report.html: one self-contained page (templates/report/report.html.hbs) with the plotting
 * library inlined (vega.ts), so it opens from a file with no network. Byte-identical for the same
 * report.json, model.gir.json and synth-stat.txt: nothing in it depends on the time or the host.
 */

const templateFile = (name: string): string => readFileSync(join(TEMPLATES_DIR, 'report', name), 'utf8');

function helpers(): typeof Handlebars {
  const h = Handlebars.create();
  // The licenses, the data, the inlined library and the embedding script: the same on every page.
  h.registerPartial('footer', templateFile('footer.hbs'));
  h.registerHelper('count', (n: number) => formatCount(n));
  h.registerHelper('fixed', (n: number, digits: number) => Number(n).toFixed(digits));
  h.registerHelper('pct', (x: number) => `${(100 * x).toFixed(1)}%`);
  h.registerHelper('dims', (s: number[]) => s.join('x'));
  h.registerHelper('blocks', (g: number[]) => g.reduce((a, b) => a * b, 1));
  h.registerHelper('ratio', (a: number, b: number) => `${((100 * a) / Math.max(1, b)).toFixed(1)}%`);
  h.registerHelper('kib', (bits: number) => (bits / 8192).toFixed(1));
  return h;
}

let hb: typeof Handlebars | undefined;
const compiled = new Map<string, HandlebarsTemplateDelegate>();

function template(name: string): HandlebarsTemplateDelegate {
  hb ??= helpers();
  let t = compiled.get(name);
  if (!t) {
    t = hb.compile(templateFile(name));
    compiled.set(name, t);
  }
  return t;
}

/** JSON inside <script>: no '<' may start a tag there. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

function plots(v: ReportView): NamedSpec[] {
  const sim = v.simulation;
  const out: NamedSpec[] = [
    layerBars('macs', sim ? 'MACs per layer: dense vs executed (golden, mean over the samples)' : 'MACs per layer (dense)', v.macs, 'MACs', ['dense', 'executed']),
    layerBars('dramBytes', sim ? 'DRAM bytes per layer: dense vs measured (mean)' : 'DRAM bytes per layer (dense, predicted)', v.dramBytes, 'bytes', ['dense', 'measured']),
  ];
  if (v.cycles.length > 0) {
    out.push(layerBars('cycles', sim?.backend === 'sim' ? 'cycles per layer: predicted vs measured (mean)' : 'cycles per layer (predicted)', v.cycles, 'cycles', ['predicted', 'measured']));
  }
  return out;
}

function accuracyRows(v: ReportView): { what: string; value: number }[] {
  const sim = v.simulation;
  if (!sim) return [];
  const rows: { what: string; value: number }[] = [];
  if (sim.golden.accuracy?.ungated !== undefined) rows.push({ what: 'golden model, every gate on (gating removed)', value: sim.golden.accuracy.ungated });
  if (sim.golden.accuracy) rows.push({ what: 'golden model (as built)', value: sim.golden.accuracy.golden });
  if (sim.accuracy !== undefined) rows.push({ what: `hardware (gatec ${sim.backend})`, value: sim.accuracy });
  return rows;
}

export async function renderReportHtml(hwDir: string): Promise<string> {
  return (await hwArch(hwDir)) === 'spatial' ? renderSpatial(hwDir) : renderEngine(hwDir);
}

async function renderSpatial(hwDir: string): Promise<string> {
  const v = await spatialView(hwDir);
  const plots = [
    layerBars('macs', 'MACs per stage: dense vs on non-zero weights', v.macs, 'MACs', ['dense', 'non-zero weights']),
    layerBars('dsp', 'multipliers and DSP48E1 per stage (estimate)', v.dsp, 'count', ['multipliers', 'DSP48E1']),
    layerBars('lut', 'LUT and FF per stage (estimate)', v.lut, 'count', ['LUT', 'FF']),
    layerBars('cycles', 'cycles per sample per stage (predicted; the slowest sets the interval)', v.cycles, 'cycles', ['predicted']),
  ];
  const data = { name: v.name, arch: 'spatial', layers: v.layers, report: v.report, specs: plots };
  return template('spatial.html.hbs')({ ...v, plots, css: templateFile('report.css'), scripts: vegaScripts(), dataJson: scriptJson(data) });
}

async function renderEngine(hwDir: string): Promise<string> {
  const v = await reportView(hwDir);
  const sim = v.simulation;
  const bars = plots(v);
  const zeroMaps = sim?.golden.zeroMaps ?? [];
  const gating = sim?.golden.gating ?? [];
  const specs = [...bars, ...(zeroMaps.length > 0 ? [zeroMapSpec('zeroMaps', zeroMaps)] : []), ...(gating.length > 0 ? gatingSpecs(gating) : [])];
  const pruned = v.layers.some((l) => l.pruned !== undefined);
  // The page's data: everything it shows, for tools and the browser test (`window.gatecReport`).
  const data = { name: v.name, layers: v.layers, macs: v.macs, dramBytes: v.dramBytes, cycles: v.cycles, resources: v.resources, simulation: sim ?? null, specs };
  return template('report.html.hbs')({
    ...v,
    css: templateFile('report.css'),
    plots: bars,
    zeroMaps,
    gating,
    accuracy: accuracyRows(v),
    accuracyNote: [
      'Top-1 of the golden model and of the hardware on the simulated samples.',
      ...(sim?.golden.accuracy?.ungated !== undefined
        ? ['With every gate on, the model is the one gatec gate started from; a model trained with its gates (CGNet, --gating) was not trained to run that way, so its baseline is the separately trained plain model.']
        : []),
      ...(pruned ? ['Accuracy before pruning is not known here: the IR holds the pruned weights (gatec prune prints it before and after).'] : []),
    ].join(' '),
    scripts: vegaScripts(),
    dataJson: scriptJson(data),
  });
}

/** Writes hw-out/<name>/report.html (through a temporary file and a rename); returns its path. */
export async function writeReportHtml(hwDir: string): Promise<string> {
  const file = join(hwDir, 'report.html');
  await writeFileAtomic(file, await renderReportHtml(hwDir));
  return file;
}
