import { afterEach, describe, expect, it } from 'vitest';
import { createProgress, progressEnabled } from '../src/cli/progress.js';

/** The progress bar's rule: only on terminals, never with --quiet or --json, never on stdout. */
const tty = { out: process.stdout.isTTY, err: process.stderr.isTTY };
function setTty(out: boolean, err: boolean): void {
  Object.defineProperty(process.stdout, 'isTTY', { value: out, configurable: true });
  Object.defineProperty(process.stderr, 'isTTY', { value: err, configurable: true });
}
afterEach(() => setTty(tty.out === true, tty.err === true));

describe('progress bars', () => {
  it('draw only when stdout and stderr are terminals and neither --quiet nor --json was given', () => {
    setTty(true, true);
    expect(progressEnabled({})).toBe(true);
    expect(progressEnabled({ quiet: true })).toBe(false);
    expect(progressEnabled({ json: true })).toBe(false);
    setTty(false, true);
    expect(progressEnabled({})).toBe(false);
    setTty(true, false);
    expect(progressEnabled({})).toBe(false);
  });

  it('write to stderr, not stdout', () => {
    setTty(true, true);
    const written = { out: 0, err: 0 };
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((c: string | Uint8Array) => ((written.out += c.length), true)) as typeof process.stdout.write;
    process.stderr.write = ((c: string | Uint8Array) => ((written.err += c.length), true)) as typeof process.stderr.write;
    try {
      const p = createProgress('test');
      p.update(1, 4, 'phase');
      p.update(4, 4, 'phase');
      p.stop();
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    expect(written.out).toBe(0);
    expect(written.err).toBeGreaterThan(0);
  });
});
