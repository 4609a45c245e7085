import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatecError } from '../src/errors.js';
import { importOnnx } from '../src/frontend/onnx/import.js';
import { runGolden } from '../src/golden/run.js';
import type { Model } from '../src/ir/types.js';
import { validateModel } from '../src/ir/validate.js';
import { channelClasses, reorderChannels } from '../src/passes/reorder.js';
import { sharedData, sharedModel } from './fixtures.js';
import { mulberry32 } from './support/prng.js';
import { buildQdqNetwork, networkSpec } from './support/random-network.js';

/** `data` (C, then the rest) with its channels in the order `perm` (new -> old). */
function permuted(data: Int8Array, perm: Int32Array): Int8Array {
  const inner = data.length / perm.length;
  const out = new Int8Array(data.length);
  perm.forEach((old, i) => out.set(data.subarray(old * inner, (old + 1) * inner), i * inner));
  return out;
}

/** Every tensor of the reordered run equals the original's, channels permuted where the pass says. */
function expectSameFunction(before: Model, after: Model, perms: Map<string, Int32Array>, input: ArrayLike<number>): void {
  const a = runGolden(before, input);
  const b = runGolden(after, input);
  expect(b.outputsInt).toEqual(a.outputsInt);
  for (const [name, t] of a.tensors) {
    const p = perms.get(name);
    expect(b.tensors.get(name)!.data, name).toEqual(p ? permuted(t.data, p) : t.data);
  }
}

function randomSubset(rng: () => number, n: number): number[] {
  const k = 1 + Math.floor(rng() * (n - 1));
  const all = [...Array(n).keys()];
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, k);
}

describe('channel reordering for gating', () => {
  it('digits8: base channels of /3/Conv and /7/Conv first, every tensor equal up to the permutation', async () => {
    const { model } = await importOnnx(sharedModel('digits8_qdq'));
    const requests = new Map([
      ['/3/Conv', [6, 2, 5]],
      ['/7/Conv', [15, 0, 9, 3]],
    ]);
    const { model: out, permutations } = reorderChannels(model, requests, 'm');
    validateModel(out, 'm');
    const pIn3 = permutations.get(model.layers[0]!.output)!;
    expect(Array.from(pIn3.subarray(0, 3))).toEqual([2, 5, 6]);
    const pIn7 = permutations.get(model.layers[2]!.output)!;
    expect(Array.from(pIn7.subarray(0, 4))).toEqual([0, 3, 9, 15]);
    // The maxpool between /3/Conv and /7/Conv follows its input's order.
    expect(permutations.get(model.layers[1]!.output)).toEqual(pIn7);
    const d = sharedData('digits8');
    for (const x of d.inputs.slice(0, 10)) expectSameFunction(model, out, permutations, x);
  });

  it('tinyres: a class through a depthwise conv and a residual add, nested base sets of two convs', async () => {
    const { model } = await importOnnx(sharedModel('tinyres_qdq'));
    const requests = new Map([
      ['/3/a/a.3/Conv', [4, 11]],
      ['/4/Conv', [11, 4, 7, 1]],
      ['/7/a/a.3/Conv', [30, 2, 17]],
    ]);
    const { model: out, permutations } = reorderChannels(model, requests, 'm');
    validateModel(out, 'm');
    const p = permutations.get('/3/Relu_output_0')!;
    expect(Array.from(p.subarray(0, 4))).toEqual([4, 11, 1, 7]);
    const d = sharedData('tinyres');
    for (const x of d.inputs.slice(0, 3)) expectSameFunction(model, out, permutations, x);
  });

  it('refuses what it cannot permute, in one line naming the conv and the tensor (exit 2)', async () => {
    const { model } = await importOnnx(sharedModel('tinyres_qdq'));
    const fail = (req: [string, number[]][]): GatecError => {
      try {
        reorderChannels(model, new Map(req), 'm.gir.json');
      } catch (e) {
        expect(e).toBeInstanceOf(GatecError);
        return e as GatecError;
      }
      throw new Error('expected an error');
    };
    const conflict = fail([
      ['/3/a/a.3/Conv', [4, 11]],
      ['/4/Conv', [5, 7]],
    ]);
    expect(conflict.exitCode).toBe(2);
    expect(conflict.message).toMatch(/^m\.gir\.json: layer '\/[34]\/.*Conv': its base channels and those of layer '.*' neither nest nor agree, but both follow the channel order of tensor '.*'$/);
    const input = fail([['/0/Conv', [1]]]);
    expect(input.exitCode).toBe(2);
    expect(input.message).toBe("m.gir.json: layer '/0/Conv': cannot move its base channels first: its input 'input' is the model input");
    const grouped = fail([['/3/a/a.0/Conv', [1]]]);
    expect(grouped.message).toBe("m.gir.json: layer '/3/a/a.0/Conv': channel gating of a grouped conv (groups 16) is not supported");
    // Already first: nothing to permute, so even the model input is fine.
    expect(reorderChannels(model, new Map([['/0/Conv', [0, 1]]]), 'm').permutations.size).toBe(0);
  });

  it('random QDQ networks (fast-check): reordering alone changes no output bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatec-reorder-'));
    const runs = Number(process.env['GATEC_PROPERTY_RUNS'] ?? 100);
    let reordered = 0;
    await fc.assert(
      // Two convs at least: the first reads the model input, which keeps its order.
      fc.asyncProperty(networkSpec.filter((s) => s.layers.filter((l) => l.kind !== 'pool').length >= 2), async (spec) => {
        const file = join(dir, `net${spec.seed}.onnx`);
        writeFileSync(file, buildQdqNetwork(spec));
        const { model } = await importOnnx(file);
        const rng = mulberry32(spec.seed ^ 0x2545f491);
        const classes = channelClasses(model);
        const shapes = new Map(model.tensors.map((t) => [t.name, t.shape]));
        const taken = new Set<string>();
        const requests = new Map<string, number[]>();
        for (const l of model.layers) {
          const cin = shapes.get(l.inputs[0]!)![0]!;
          const c = classes.classOf(l.inputs[0]!);
          if (l.op !== 'conv' || l.groups !== 1 || cin < 2 || taken.has(c) || classes.fixed.has(c)) continue;
          taken.add(c);
          requests.set(l.name, randomSubset(rng, cin));
        }
        const { model: out, permutations } = reorderChannels(model, requests, file);
        validateModel(out, file);
        if (permutations.size > 0) reordered++;
        const input = Array.from({ length: spec.c * spec.h * spec.w }, () => Math.fround(rng()));
        expectSameFunction(model, out, permutations, input);
      }),
      { numRuns: runs, seed: 20260611 },
    );
    expect(reordered).toBeGreaterThan(runs / 10);
  });
});
