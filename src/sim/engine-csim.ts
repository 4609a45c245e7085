import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, utimes } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa, ExecaError } from 'execa';
import { HLS_CSIM_SOURCES } from '../../generator/engine/hls.js';
import { badInput, GatecError } from '../errors.js';
import { readInputFile } from '../frontend/read-input-file.js';
import { gatecCacheDir, openEngineDir, simulateEngine, type EngineDir, type EngineSimOptions, type EngineSimResult, type HarnessBuild } from './engine-sim.js';
import { pruneCache } from './build-cache.js';

/**
 * C simulation of the HLS kernel (docs/hls.md): hls/<name>.cpp with its testbench compiled by a
 * plain C++ compiler, then run through the same run files, comparisons and byte predictions as
 * the Verilator harness (simulateEngine with this executable in place of Vtop).
 */

/** The flags of every C simulation build (part of the cache key): the kernel must stay warning-free. */
export const CSIM_FLAGS = ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror'];

export interface CsimBuildOptions {
  /** default g++ */
  compiler?: string;
  /** after CSIM_FLAGS, e.g. ['-fsanitize=address,undefined', '-g'] */
  extraFlags?: string[];
}

const NAME_PLACEHOLDER = '__gatec_name__';

/** The one hls/<name>.cpp of a build: `<name>` is the file whose header sits beside it. */
async function hlsName(hwDir: string): Promise<string> {
  const dir = join(hwDir, 'hls');
  if (!existsSync(dir)) throw badInput(hwDir, 'no hls/ directory: build with --target hls (or rtl,hls)');
  const names = (await readdir(dir)).filter((f) => f.endsWith('.cpp') && f !== 'tb.cpp' && existsSync(join(dir, `${basename(f, '.cpp')}.h`)));
  if (names.length !== 1) throw badInput(hwDir, `expected one hls/<name>.cpp, found ${names.length === 0 ? 'none' : names.join(', ')}`);
  return basename(names[0]!, '.cpp');
}

const compilerVersions = new Map<string, Promise<string>>();
function compilerVersion(cxx: string): Promise<string> {
  let v = compilerVersions.get(cxx);
  if (!v) {
    v = execa(cxx, ['--version']).then((r) => r.stdout.split('\n')[0]!.trim());
    compilerVersions.set(cxx, v);
  }
  return v;
}

function firstCompilerError(e: unknown): string {
  if (e instanceof ExecaError) {
    const text = `${String(e.stderr ?? '')}\n${String(e.stdout ?? '')}`;
    const line = text.split('\n').find((l) => /error|warning/.test(l));
    return (line ?? e.shortMessage).trim();
  }
  return (e as Error).message;
}

/**
 * Compiles (or finds in the cache) the C simulation of an hw-out directory. The key covers the
 * compiler, the flags and the sources with `<name>` replaced by a placeholder, so every network of
 * one hardware configuration shares one build.
 */
export async function buildCsim(hwDir: string, opts: CsimBuildOptions = {}): Promise<HarnessBuild> {
  const name = await hlsName(hwDir);
  const cxx = opts.compiler ?? 'g++';
  const flags = [...CSIM_FLAGS, ...(opts.extraFlags ?? [])];
  let version: string;
  try {
    version = await compilerVersion(cxx);
  } catch {
    throw new GatecError(`${hwDir}: ${cxx} not found (install it, e.g. apt-get install g++, or run scripts/setup.sh)`);
  }
  const nameRe = new RegExp(`\\b${name}\\b`, 'g');
  const hash = createHash('sha256');
  hash.update(`${version}\n${cxx}\n${flags.join(' ')}\n`);
  for (const f of HLS_CSIM_SOURCES(name)) {
    const text = await readInputFile(join(hwDir, 'hls', f), 'utf8');
    hash.update(`${f.replace(nameRe, NAME_PLACEHOLDER)}\0${text.replace(nameRe, NAME_PLACEHOLDER)}\0`);
  }
  const key = hash.digest('hex').slice(0, 32);
  const root = join(gatecCacheDir(), 'csim');
  const dir = join(root, key);
  const exe = join(dir, 'tb');
  if (existsSync(exe)) {
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined);
    return { exe, top: 'gatec_engine_top', built: false };
  }
  // Built beside the final place and renamed, as the Verilator builds are (concurrent test workers).
  await mkdir(root, { recursive: true });
  const tmp = join(root, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp, { recursive: true });
  try {
    const src = join(hwDir, 'hls');
    await execa(cxx, [...flags, `-I${src}`, join(src, `${name}.cpp`), join(src, 'tb.cpp'), '-o', join(tmp, 'tb')]);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new GatecError(`${hwDir}: C simulation build failed: ${firstCompilerError(e)}`);
  }
  try {
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(exe)) throw e;
  }
  await pruneCache(root, key);
  return { exe, top: 'gatec_engine_top', built: true };
}

export type CsimOptions = Pick<EngineSimOptions, 'jobs' | 'onProgress'> & CsimBuildOptions;

/**
 * Runs every input through the C simulation of an hw-out directory and compares every tensor
 * with the golden model, and every layer's DRAM bytes with the prediction, exactly as
 * simulateEngine does for the RTL. The results carry no cycles (0).
 */
export async function csimEngine(dir: string | EngineDir, inputs: ArrayLike<number>[], opts: CsimOptions = {}): Promise<EngineSimResult> {
  const engine = typeof dir === 'string' ? await openEngineDir(dir) : dir;
  opts.onProgress?.(0, inputs.length, `${opts.compiler ?? 'g++'} build`);
  const harness = await buildCsim(engine.dir, opts);
  return simulateEngine(engine, inputs, {
    harness,
    label: 'C simulation',
    ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
}
