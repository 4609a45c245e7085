import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, SHARED, sharedModel } from './fixtures.js';

/**
 * `gatec build --arch spatial --target rtl,hls` and `gatec csim` on it (docs/spatial.md): the
 * HLS files next to the RTL, the C simulation bit-exact on every digits8 sample, and the one-line
 * errors of a build without the target a command needs.
 */
const dir = mkdtempSync(join(tmpdir(), 'gatec-spatial-cli-'));
const digits = sharedModel('digits8_qdq');
const data = join(SHARED, 'digits8_data.json');

async function gatec(...args: string[]) {
  const r = await execa('node', [CLI, ...args], { reject: false, env: { GATEC_CACHE_DIR: join(dir, 'cache') } });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm test" (it builds first)`);
});

describe('gatec build --arch spatial --target rtl,hls, then gatec csim', () => {
  const out = join(dir, 'hw', 'dg');
  it('writes rtl/, tb/ and hls/ and says what it predicts', async () => {
    const r = await gatec('build', digits, '--arch', 'spatial', '--reuse', '8', '--target', 'rtl,hls', '--part', 'xcvu9p-flga2104-2-i', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^wrote .* \(dg_top, spatial\): 6 stages, latency 1292 cycles, interval 522 cycles; predicted \d+ DSP48E1/);
    expect(readdirSync(join(out, 'hls')).sort()).toEqual(['dg.cpp', 'dg.h', 'gatec_hls_compat.h', 'run_hls.tcl', 'tb.cpp']);
    expect(existsSync(join(out, 'files.f'))).toBe(true);
    expect(readFileSync(join(out, 'hls', 'run_hls.tcl'), 'utf8')).toContain('set part xcvu9p-flga2104-2-i');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { targets: string[] };
    expect(report.targets).toEqual(['rtl', 'hls']);
  });

  it('csim --json: every sample bit-exact with the golden model', async () => {
    const r = await gatec('csim', out, '--inputs', data, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { backend: string; arch: string; match: boolean[]; accuracy: number; latency: { predicted: number } };
    expect(j).toMatchObject({ backend: 'csim', arch: 'spatial', latency: { predicted: 1292 } });
    expect(j.match).toHaveLength(100);
    expect(j.match.every(Boolean)).toBe(true);
  });

  it('csim table: bit-exact 100/100 and the predicted schedule', async () => {
    const r = await gatec('csim', out, '--inputs', data);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('bit-exact vs golden: 100/100');
    expect(r.stdout).toContain('latency: 1292 cycles, interval: 522 cycles (predicted; C simulation has no cycles)');
  });

  it('one-line errors: sim of an hls-only build, csim of an rtl-only build', async () => {
    const hlsOnly = join(dir, 'hw', 'honly');
    expect((await gatec('build', digits, '--arch', 'spatial', '--target', 'hls', '-o', hlsOnly)).code).toBe(0);
    expect(existsSync(join(hlsOnly, 'rtl'))).toBe(false);
    const s = await gatec('sim', hlsOnly, '--inputs', data);
    expect(s.code).toBe(1);
    expect(s.stderr.trim()).toBe(`gatec: error: ${hlsOnly}: no files.f: build with --target rtl`);
    const rtlOnly = join(dir, 'hw', 'ronly');
    expect((await gatec('build', digits, '--arch', 'spatial', '-o', rtlOnly)).code).toBe(0);
    const c = await gatec('csim', rtlOnly, '--inputs', data);
    expect(c.code).toBe(1);
    expect(c.stderr.trim()).toBe(`gatec: error: ${rtlOnly}: no hls/ronly.cpp: build with --target hls (or rtl,hls)`);
  });
});
