import { mkdir } from 'node:fs/promises';
import { execa } from 'execa';

export interface VerilatorBuild {
  top: string;
  sources: string[];
  harness: string[];
  /** Object directory, kept between runs so an unchanged design is not recompiled. */
  objDir: string;
  /**
   * Name of the generated C++ class (`--prefix`) and of the executable. A fixed prefix lets one
   * harness serve every top module name. Default `V<top>`.
   */
  prefix?: string;
  /** `-Wall`, with every warning fatal (default). Off: Verilator's default warnings, not fatal. */
  wall?: boolean;
  /** Further Verilator arguments, after the defaults. */
  flags?: string[];
}

let versionCache: Promise<string> | undefined;

/** `verilator --version`, e.g. "Verilator 5.006 2023-01-22 rev (Debian 5.006-3)"; memoized. */
export function verilatorVersion(): Promise<string> {
  versionCache ??= execa('verilator', ['--version']).then((r) => r.stdout.trim());
  return versionCache;
}

/** Builds a Verilator C++ model with its harness and returns the executable's path. */
export async function buildVerilator(b: VerilatorBuild): Promise<string> {
  const prefix = b.prefix ?? `V${b.top}`;
  await mkdir(b.objDir, { recursive: true });
  await execa('verilator', [
    '--cc',
    '--exe',
    '--build',
    ...(b.wall === false ? ['-Wno-fatal'] : ['-Wall']),
    '-O2',
    '--top-module',
    b.top,
    ...(b.prefix ? ['--prefix', b.prefix] : []),
    '--Mdir',
    b.objDir,
    '-o',
    prefix,
    ...(b.flags ?? []),
    ...b.sources,
    ...b.harness,
  ]);
  return `${b.objDir}/${prefix}`;
}
