import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineCase, runEngineCase, type EngineCaseOutcome } from '../test/support/engine-property.js';

// CI-sized; `npm run bench` runs the same property with many more cases.
const RUNS = 12;

let work = '';
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'gatec-engine-prop-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('engine RTL on random networks and hardware configurations (fast-check)', () => {
  it('is bit-exact with the golden model on every tensor', async () => {
    const outcomes: EngineCaseOutcome[] = [];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(engineCase, async (c) => {
        outcomes.push(await runEngineCase(c, work, `case${n++}`));
      }),
      { numRuns: RUNS },
    );
    const matched = outcomes.filter((o) => o.kind === 'match').length;
    // Rejections are allowed (tiny buffers), but most cases must really run on the RTL.
    expect(matched, JSON.stringify(outcomes.filter((o) => o.kind === 'unsupported'))).toBeGreaterThanOrEqual(RUNS / 2);
  }, 600_000);
});
