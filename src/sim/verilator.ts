import { mkdir } from 'node:fs/promises';
import { execa } from 'execa';

export interface VerilatorBuild {
  top: string;
  sources: string[];
  harness: string[];
  /** Object directory, kept between runs so an unchanged design is not recompiled. */
  objDir: string;
}

/** Builds a Verilator C++ model with its harness and returns the executable's path. */
export async function buildVerilator(b: VerilatorBuild): Promise<string> {
  await mkdir(b.objDir, { recursive: true });
  await execa('verilator', [
    '--cc',
    '--exe',
    '--build',
    '-Wall',
    '-O2',
    '--top-module',
    b.top,
    '--Mdir',
    b.objDir,
    '-o',
    `V${b.top}`,
    ...b.sources,
    ...b.harness,
  ]);
  return `${b.objDir}/V${b.top}`;
}
