import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { badInput } from '../errors.js';

/** Writes a file through a temporary sibling and a rename, so readers never see half of it. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export interface DirEntry {
  /** '/'-separated path inside the directory */
  path: string;
  data: string | Uint8Array;
}

/**
 * Writes a whole directory through a temporary sibling and a rename, so readers never see a
 * mix of two builds. An existing `dir` is replaced only if `replaceable` says so.
 */
export async function writeDirAtomic(dir: string, entries: readonly DirEntry[], replaceable: (existing: string) => Promise<boolean>): Promise<void> {
  const parent = dirname(dir);
  const tmp = join(parent, `.${basename(dir)}.${process.pid}.tmp`);
  await mkdir(parent, { recursive: true });
  await rm(tmp, { recursive: true, force: true });
  try {
    for (const e of entries) {
      const file = join(tmp, ...e.path.split('/'));
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, e.data);
    }
    if (await exists(dir)) {
      if (!(await replaceable(dir))) throw badInput(dir, 'exists and is not a gatec build output; refusing to replace it');
      const old = join(parent, `.${basename(dir)}.${process.pid}.old`);
      await rename(dir, old);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, dir);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
