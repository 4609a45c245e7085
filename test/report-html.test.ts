import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, SHARED, sharedModel } from './fixtures.js';

/**
 * report.html of the digits8 demo (npm run demo: gatec build + gatec sim of its 100 samples) in
 * headless Chromium (Debian's, installed by scripts/setup.sh; no browser download): the plots
 * render with no network, hold report.json's numbers, and a screenshot lands in
 * hw-out/report-digits8.png for a person to look at.
 */
const CHROMIUM = process.env['GATEC_CHROMIUM'] ?? '/usr/bin/chromium';
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'gatec-report-'));
const hw = join(dir, 'digits8');
const SCREENSHOT = join(root, 'hw-out', 'report-digits8.png');

interface SimLayer {
  name: string;
  cycles: number | null;
  predictedCycles: number;
  dramRead: number;
  dramWrite: number;
}
interface ReportJson {
  layers: { name: string; macs: number }[];
  simulation: { samples: number; bitExact: number; accuracy: number; layers: SimLayer[]; golden: { zeroMaps: { tensor: string; zeroBlocks: number; bitmap: string }[] } };
}

async function gatec(...args: string[]) {
  return execa('node', [CLI, ...args], { reject: false });
}

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (apt-get install chromium)`);
  const b = await gatec('build', sharedModel('digits8_qdq'), '-o', hw);
  expect(b.exitCode, b.stderr).toBe(0);
  const s = await gatec('sim', hw, '--inputs', join(SHARED, 'digits8_data.json'));
  expect(s.exitCode, s.stderr).toBe(0);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
});

describe('report.html', () => {
  it('renders every plot offline with the numbers of report.json, and a screenshot', async () => {
    const report = JSON.parse(readFileSync(join(hw, 'report.json'), 'utf8')) as ReportJson;
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(pathToFileURL(join(hw, 'report.html')).href);
    await page.waitForSelector('body[data-rendered], body[data-render-error]', { timeout: 30_000 });
    expect(await page.evaluate(() => document.body.getAttribute('data-render-error'))).toBeNull();
    // MACs, DRAM bytes, cycles and the zero-block maps (digits8 has no gated convs).
    expect(await page.evaluate(() => document.body.getAttribute('data-rendered'))).toBe('4');
    // Nothing but the page itself was fetched: the plotting library is inline.
    expect(requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('blob:'))).toEqual([]);

    // The data behind each plot, from the live vega views.
    type Datum = { layer?: string; kind?: string; value?: number; tensor?: string; zero?: string };
    const data = (id: string): Promise<Datum[]> =>
      page.evaluate((i) => (window as unknown as { gatecViews: Record<string, { data(n: string): unknown[] }> }).gatecViews[i]!.data(i), id) as Promise<Datum[]>;
    const value = (rows: Datum[], layer: string, kind: string) => rows.find((r) => r.layer === layer && r.kind === kind)?.value;
    const macs = await data('macs');
    for (const l of report.layers.filter((x) => x.macs > 0)) expect(value(macs, l.name, 'dense')).toBe(l.macs);
    expect(value(macs, '/3/Conv', 'dense')).toBe(73728);
    const cycles = await data('cycles');
    const bytes = await data('dramBytes');
    const sim = report.simulation;
    expect(sim.samples).toBe(100);
    expect(sim.bitExact).toBe(100);
    expect(sim.accuracy).toBe(0.99);
    for (const l of sim.layers.filter((x) => x.predictedCycles > 0)) {
      expect(value(cycles, l.name, 'measured')).toBe(l.cycles);
      expect(value(cycles, l.name, 'predicted')).toBe(l.predictedCycles);
      expect(value(bytes, l.name, 'measured')).toBe(l.dramRead + l.dramWrite);
    }
    const zero = await data('zeroMaps');
    for (const m of sim.golden.zeroMaps) {
      expect(zero.filter((d) => d.tensor === m.tensor && d.zero === 'zero').length).toBe(m.zeroBlocks);
      expect(zero.filter((d) => d.tensor === m.tensor).length).toBe(m.bitmap.length);
    }

    // What is drawn: one SVG per plot, a bar per datum, the layer names on the axes.
    const drawn = await page.evaluate(() => ({
      svgs: document.querySelectorAll('.plot svg').length,
      macBars: document.querySelectorAll('#macs svg .mark-rect path').length,
      text: Array.from(document.querySelectorAll('#cycles svg text')).map((t) => t.textContent),
      rows: document.querySelectorAll('#layers tbody tr').length,
      accuracy: document.querySelector('#accuracy')?.textContent ?? '',
    }));
    expect(drawn.svgs).toBe(4);
    expect(drawn.macBars).toBe(macs.length);
    expect(drawn.text).toEqual(expect.arrayContaining(['/0/Conv', '/3/Conv', '/7/Conv', '/11/Gemm', 'predicted', 'measured']));
    expect(drawn.rows).toBe(report.layers.length);
    expect(drawn.accuracy).toContain('99.0%');

    mkdirSync(join(root, 'hw-out'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG');
    await page.close();
  });

  it('draws a spatial build: stages, multipliers, DSP and LUT per stage as report.json has them', async () => {
    const sp = join(dir, 'sp');
    const b = await gatec('build', sharedModel('digits8_qdq'), '--arch', 'spatial', '--reuse', '8', '-o', sp);
    expect(b.exitCode, b.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(sp, 'report.json'), 'utf8')) as { layers: { name: string; multipliers: number; resources: { dsp: number; lut: number } }[] };
    const page = await browser.newPage();
    await page.goto(pathToFileURL(join(sp, 'report.html')).href);
    await page.waitForSelector('body[data-rendered], body[data-render-error]', { timeout: 30_000 });
    expect(await page.evaluate(() => document.body.getAttribute('data-render-error'))).toBeNull();
    expect(await page.evaluate(() => document.body.getAttribute('data-rendered'))).toBe('4');
    type Datum = { layer: string; kind: string; value: number };
    const data = (id: string): Promise<Datum[]> =>
      page.evaluate((i) => (window as unknown as { gatecViews: Record<string, { data(n: string): unknown[] }> }).gatecViews[i]!.data(i), id) as Promise<Datum[]>;
    const dsp = await data('dsp');
    const lut = await data('lut');
    for (const l of report.layers) {
      if (l.multipliers > 0) expect(dsp.find((d) => d.layer === l.name && d.kind === 'DSP48E1')?.value).toBe(l.resources.dsp);
      expect(lut.find((d) => d.layer === l.name && d.kind === 'LUT')?.value).toBe(l.resources.lut);
    }
    expect(await page.evaluate(() => document.querySelectorAll('#layers tbody tr').length)).toBe(report.layers.length);
    await page.close();
  });

  it('is byte-identical when written again from the same report.json', async () => {
    const before = readFileSync(join(hw, 'report.html'));
    const r = await gatec('report', hw);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe(`wrote ${join(hw, 'report.html')}`);
    expect(readFileSync(join(hw, 'report.html')).equals(before)).toBe(true);
  });

  it('names a directory without report.json in one line (exit 1)', async () => {
    const r = await gatec('report', join(dir, 'missing'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(`gatec: error: ${join(dir, 'missing')}: no report.json: not an output directory of gatec build`);
  });
});
