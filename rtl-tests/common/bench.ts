// Helpers shared by the unit benches under rtl-tests/: building one parameterization of an
// engine module with its C++ bench, running it on a stdin script, and a seeded PRNG so every
// random stimulus is reproducible.
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { buildVerilator } from '../../src/sim/verilator.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const rtl = (m: string): string => join(root, 'templates/rtl/engine', `${m}.sv`);

/**
 * Builds `top` with `-G` overrides into its own cached object directory
 * (.cache/rtl-tests/<name>) and returns the executable.
 */
export async function buildBench(opts: {
  name: string;
  top: string;
  sources: string[];
  harness: string;
  params?: Record<string, number>;
}): Promise<string> {
  const g = Object.entries(opts.params ?? {}).map(([k, v]) => `-G${k}=${v}`);
  return buildVerilator({
    top: opts.top,
    sources: opts.sources,
    harness: [opts.harness],
    objDir: join(root, '.cache/rtl-tests', opts.name),
    flags: [...g, '-CFLAGS', `-I${join(root, 'rtl-tests/common')}`],
  });
}

/** Runs a bench on `input` and returns its stdout lines. */
export async function runBench(exe: string, input: string): Promise<string[]> {
  const { stdout } = await execa(exe, [], { input, maxBuffer: 1 << 28 });
  return stdout.length ? stdout.split('\n') : [];
}

/** Small, fast, seeded PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
}

/** 64-byte instruction from halfword values (bits above 16 dropped) as 32 numbers. */
export function halfwords(fields: Record<number, number>): number[] {
  const h = new Array<number>(32).fill(0);
  for (const [k, v] of Object.entries(fields)) h[Number(k)] = v & 0xffff;
  return h;
}

/** DRAM byte at `addr` of the memory-port benches; the same hash as dramByte in common/dram.h. */
export function dramByte(addr: number, seed: number): number {
  let x = Math.imul((addr ^ seed) >>> 0, 0x9e3779b1) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  return x >>> 24;
}

export const hexOf = (bytes: number[]): string => bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
