import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Entries kept in a build cache (Verilator harnesses, C simulations); every source edit adds one. */
const CACHE_ENTRIES = 32;
/** A build directory left this long is from a builder that died. */
const STALE_BUILD_MS = 6 * 3600 * 1000;

/** Drops the least recently used entries beyond CACHE_ENTRIES and abandoned build directories. */
export async function pruneCache(root: string, keep: string): Promise<void> {
  const entries = await Promise.all(
    (await readdir(root)).map(async (name) => ({ name, mtime: (await stat(join(root, name)).catch(() => undefined))?.mtimeMs ?? 0 })),
  );
  const now = Date.now();
  const stale = entries.filter((e) => e.name.startsWith('.tmp-') && now - e.mtime > STALE_BUILD_MS);
  const builds = entries.filter((e) => !e.name.startsWith('.') && e.name !== keep).sort((a, b) => b.mtime - a.mtime);
  for (const e of [...stale, ...builds.slice(CACHE_ENTRIES - 1)]) await rm(join(root, e.name), { recursive: true, force: true });
}
