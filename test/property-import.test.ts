import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importOnnx } from '../src/frontend/onnx/import.js';
import { requantize } from '../src/ir/numerics.js';
import type { ConvLayer } from '../src/ir/types.js';
import type { Act } from '../src/golden/layers.js';
import { runGolden } from '../src/golden/run.js';
import { mulberry32 } from './support/prng.js';
import { buildQdqNetwork, networkSpec } from './support/random-network.js';

/** Direct scalar convolution + the numerics.ts requantization, element by element. */
function scalarConv(l: ConvLayer, x: Act, out: Act): Int8Array {
  const [c, h, w] = x.shape as [number, number, number];
  const [co, oh, ow] = out.shape as [number, number, number];
  const [kh, kw] = l.kernel;
  const cig = c / l.groups;
  const cog = co / l.groups;
  const y = new Int8Array(co * oh * ow);
  for (let o = 0; o < co; o++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = l.bias[o]!;
        for (let ci = 0; ci < cig; ci++) {
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * l.stride[0] - l.pads[0] + ky;
              const ix = ox * l.stride[1] - l.pads[1] + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const cin = Math.floor(o / cog) * cig + ci;
              acc += l.weights[((o * cig + ci) * kh + ky) * kw + kx]! * (x.data[(cin * h + iy) * w + ix]! - x.quant.zeroPoint);
            }
          }
        }
        y[(o * oh + oy) * ow + ox] = requantize(acc, l.requant.multiplier[o]!, l.requant.shift[o]!, out.quant.zeroPoint, l.clamp[0], l.clamp[1]);
      }
    }
  }
  return y;
}

const dir = mkdtempSync(join(tmpdir(), 'gatec-prop-'));

describe('random QDQ networks (fast-check)', () => {
  it('import and golden run never throw; quantized convs equal a direct scalar reference', async () => {
    await fc.assert(
      fc.asyncProperty(networkSpec, async (spec) => {
        const file = join(dir, `net${spec.seed}.onnx`);
        writeFileSync(file, buildQdqNetwork(spec));
        const { model } = await importOnnx(file);
        const rng = mulberry32(spec.seed ^ 0x5bd1e995);
        const input = Array.from({ length: spec.c * spec.h * spec.w }, () => Math.fround(rng()));
        const { tensors } = runGolden(model, input);
        for (const l of model.layers) {
          if (l.op !== 'conv') continue;
          const out = tensors.get(l.output)!;
          expect(scalarConv(l, tensors.get(l.inputs[0]!)!, out)).toEqual(out.data);
        }
      }),
      { numRuns: Number(process.env['GATEC_PROPERTY_RUNS'] ?? 60), seed: 20261123 },
    );
  });
});
