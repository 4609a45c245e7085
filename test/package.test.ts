import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { SHARED, sharedModel } from './fixtures.js';

/**
 * The npm package as a user gets it: `npm pack` (prepack builds dist/), installed from the tarball
 * into an empty project, and its `gatec` bin building and simulating digits8 from there, with
 * nothing of this checkout on its path but the fixture. Dependencies come from npm's cache
 * (--prefer-offline: `npm install` of this checkout filled it); the Verilator build from
 * GATEC_CACHE_DIR, which the other tests of this configuration share.
 */
const root = join(import.meta.dirname, '..');

describe('npm package', () => {
  it('installs from the packed tarball and its gatec bin builds and simulates a model', async () => {
    const work = mkdtempSync(join(tmpdir(), 'gatec-pack-'));
    // prepack builds dist/ for a publish; here `npm test` has just built it, so the pack skips the
    // second tsc run (the test checks that prepack is there).
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.scripts['prepack']).toBe('tsc -p tsconfig.json');
    expect(pkg.bin['gatec']).toBe('dist/src/cli/main.js');
    const pack = await execa('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--loglevel=error'], { cwd: root });
    const tarball = join(work, pack.stdout.trim().split('\n').pop()!);
    expect(readdirSync(work)).toContain('gatec-0.1.0.tgz');

    const app = join(work, 'app');
    await execa('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'gatec-user', private: true }));
    await execa('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
    const bin = join(app, 'node_modules', '.bin', 'gatec');

    // Eight labelled samples of the shared data: enough to see the whole flow.
    const data = JSON.parse(readFileSync(join(SHARED, 'digits8_data.json'), 'utf8')) as { shape: number[]; inputs: number[][]; labels: number[] };
    writeFileSync(join(app, 'data.json'), JSON.stringify({ shape: data.shape, inputs: data.inputs.slice(0, 8), labels: data.labels.slice(0, 8) }));

    const help = await execa(bin, ['--help'], { cwd: app });
    expect(help.stdout).toContain('Usage: gatec');
    const build = await execa(bin, ['build', sharedModel('digits8_qdq'), '-o', 'hw-out/digits8'], { cwd: app, reject: false });
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.stderr).toMatch(/^wrote hw-out\/digits8 \(digits8_top\): \d+ instructions/);
    expect(readdirSync(join(app, 'hw-out', 'digits8'))).toEqual(expect.arrayContaining(['rtl', 'tb', 'report.html', 'report.json']));
    const sim = await execa(bin, ['sim', 'hw-out/digits8', '--inputs', 'data.json', '--json'], { cwd: app, reject: false });
    expect(sim.exitCode, sim.stderr).toBe(0);
    const out = JSON.parse(sim.stdout) as { match: boolean; top1: number[] };
    expect(out.match).toBe(true);
    expect(out.top1).toHaveLength(8);
  });
});
