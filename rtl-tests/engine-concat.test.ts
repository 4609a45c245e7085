import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildEngine } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { simulateEngine } from '../src/sim/engine-sim.js';
import { IrBuilder, randomInput } from '../test/support/engine-models.js';

/**
 * Channel concat on the RTL: three inputs (two branches and the block input, each its own zero
 * point and requantization) written at their channel words of the wider output, banded.
 */
let work = '';
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('engine RTL: concat', () => {
  it('is bit-exact with the golden model on every tensor', async () => {
    work = await mkdtemp(join(tmpdir(), 'gatec-engine-concat-'));
    const b = new IrBuilder('concat_net', [8, 9, 7], 11);
    const x = b.conv(b.input, { co: 16, k: 3, p: 1 });
    const y = b.conv(x, { co: 8, k: 1 });
    const z = b.conv(x, { co: 12, k: 3, s: 1, p: 1 });
    const c = b.concat([x, y, z]);
    const model = b.build([b.fc(b.flatten(b.gap(b.conv(c, { co: 8, k: 3, s: 2, p: 1 }))), 5)]);
    const dir = join(work, 'concat_net');
    await buildEngine(model, { ...DEFAULT_ENGINE_CONFIG }, dir);
    const sim = await simulateEngine(dir, [randomInput(model, 1), randomInput(model, 2)]);
    expect(sim.samples.map((s) => s.failure ?? 'match')).toEqual(['match', 'match']);
  }, 300_000);
});
