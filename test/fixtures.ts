import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename, dirname, join } from 'node:path';

/**
 * Paths of the shared (read-only) fixtures and of this project's own. The project root is found
 * the same from test/ (vitest) and from dist/test/ (benchmarks run compiled).
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = basename(dirname(here)) === 'dist' ? join(here, '..', '..') : join(here, '..');
export const SHARED = join(root, '..', 'shared', 'fixtures', 'models');
export const OWN = join(root, 'fixtures');
export const CLI = join(root, 'dist', 'src', 'cli', 'main.js');

export const sharedModel = (name: string): string => join(SHARED, `${name}.onnx`);

export interface FixtureData {
  shape: number[];
  inputs: number[][];
  labels?: number[];
  ort_fp32?: number[][];
  ort_qdq?: number[][];
  ort_qop?: number[][];
}

export function sharedData(name: 'digits8' | 'tinyres'): FixtureData {
  return JSON.parse(readFileSync(join(SHARED, `${name}_data.json`), 'utf8')) as FixtureData;
}
