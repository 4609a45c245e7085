import { blockFlags } from '../../generator/engine/layout.js';
import { gatedConv, hasGating, isGated } from '../golden/gating.js';
import { layerMacs, tensorShapes } from '../golden/macs.js';
import { argmax, runGolden } from '../golden/run.js';
import type { Model } from '../ir/types.js';

/**
 * What the golden model says about the simulated samples, for report.json's `simulation.golden`
 * and the plots of report.html: executed MACs per layer, gated-off fractions per layer and output
 * channel, the zero-block maps of one sample, and top-1 accuracy with and without gating.
 */
export interface ZeroMap {
  tensor: string;
  /** [C, H, W] ([N] as [N, 1, 1]) */
  shape: [number, number, number];
  block: [number, number, number];
  epsilon: number;
  /** false: the tensor has no zeroBlock annotation; the map shows its zero elements (1x1x1, epsilon 0) */
  annotated: boolean;
  /** blocks along C, H, W */
  grid: [number, number, number];
  /** one character per block in [cb][hb][wb] order: '0' zero block, '1' non-zero */
  bitmap: string;
  zeroBlocks: number;
}

export interface ChannelGating {
  layer: string;
  baseChannels: number;
  /** gated-off outputs / outputs, over the samples */
  gatedOff: number;
  /** per output channel, over its pixels and the samples */
  channels: number[];
}

export interface GoldenFigures {
  samples: number;
  /** per IR layer, mean over the samples: dense MACs and those the zero blocks and gates leave */
  macs: { layer: string; dense: number; executed: number }[];
  gating: ChannelGating[];
  /** of sample 0: every activation tensor but views */
  zeroMaps: ZeroMap[];
  /** with labels: golden top-1 accuracy, and of the same model with its gating removed */
  accuracy?: { golden: number; ungated?: number };
}

/** Tensors with more blocks than this are left out of the maps (the page would not stay light). */
export const MAX_MAP_BLOCKS = 16384;

/** The model without channel gating: every conv computes every channel. */
function ungated(m: Model): Model {
  return { ...m, layers: m.layers.map((l) => (l.op === 'conv' && l.gating ? (({ gating: _g, ...rest }) => rest)(l) : l)) };
}

function accuracy(m: Model, inputs: readonly ArrayLike<number>[], labels: readonly number[]): number {
  let correct = 0;
  inputs.forEach((x, i) => {
    if (argmax(runGolden(m, x).outputs[0]!) === labels[i]) correct++;
  });
  return correct / Math.max(1, inputs.length);
}

export function goldenFigures(model: Model, inputs: readonly ArrayLike<number>[], labels?: readonly number[]): GoldenFigures {
  const shapes = tensorShapes(model);
  const dense = model.layers.map((l) => layerMacs(l, shapes));
  const executed = new Array<number>(model.layers.length).fill(0);
  const gates = new Map<string, { base: number; off: number; total: number; channels: number[]; perChannel: number }>();
  const views = new Set(model.layers.filter((l) => l.op === 'reshape').map((l) => l.output));
  let zeroMaps: ZeroMap[] = [];
  let correct = 0;

  inputs.forEach((x, s) => {
    const g = runGolden(model, x);
    if (labels && argmax(g.outputs[0]!) === labels[s]) correct++;
    model.layers.forEach((l, i) => {
      const sp = g.sparsity?.layers[i];
      const gl = g.gating?.layers.find((q) => q.layer === l.name);
      executed[i]! += sp ? sp.macs.executed : gl ? gl.macs.executed : dense[i]!;
      if (l.op !== 'conv' || !isGated(l)) return;
      const y = g.tensors.get(l.output)!;
      const { gates: bits } = gatedConv(l, g.tensors.get(l.inputs[0]!)!, y.quant);
      const co = y.shape[0]!;
      const plane = bits.length / co;
      const e = gates.get(l.name) ?? { base: l.gating.baseChannels, off: 0, total: 0, channels: new Array<number>(co).fill(0), perChannel: 0 };
      for (let c = 0; c < co; c++) {
        let off = 0;
        for (let p = 0; p < plane; p++) off += bits[c * plane + p] ? 0 : 1;
        e.channels[c]! += off;
        e.off += off;
      }
      e.total += bits.length;
      e.perChannel += plane;
      gates.set(l.name, e);
    });
    if (s !== 0) return;
    zeroMaps = model.tensors
      .filter((t) => !views.has(t.name) && !model.outputs.includes(t.name) && (t.shape.length === 3 || t.shape.length === 1))
      .flatMap((t): ZeroMap[] => {
        const shape: [number, number, number] = t.shape.length === 3 ? [t.shape[0]!, t.shape[1]!, t.shape[2]!] : [t.shape[0]!, 1, 1];
        const block = t.zeroBlock?.block ?? [1, 1, 1];
        const grid: [number, number, number] = [Math.ceil(shape[0] / block[0]), Math.ceil(shape[1] / block[1]), Math.ceil(shape[2] / block[2])];
        if (grid[0] * grid[1] * grid[2] > MAX_MAP_BLOCKS) return [];
        // After the golden write path a zero block holds the zero point: epsilon 0 finds exactly the blocks it zeroed.
        const flags = blockFlags(g.tensors.get(t.name)!.data, shape, t.quant.zeroPoint, block, 0);
        let zeros = 0;
        for (const f of flags) zeros += f ? 0 : 1;
        return [{ tensor: t.name, shape, block, epsilon: t.zeroBlock?.epsilon ?? 0, annotated: t.zeroBlock !== undefined, grid, bitmap: Array.from(flags, (f) => (f ? '1' : '0')).join(''), zeroBlocks: zeros }];
      });
  });

  const n = Math.max(1, inputs.length);
  return {
    samples: inputs.length,
    macs: model.layers.map((l, i) => ({ layer: l.name, dense: dense[i]!, executed: executed[i]! / n })),
    gating: [...gates].map(([layer, e]) => ({
      layer,
      baseChannels: e.base,
      gatedOff: e.off / Math.max(1, e.total),
      channels: e.channels.map((c) => c / Math.max(1, e.perChannel)),
    })),
    zeroMaps,
    ...(labels
      ? { accuracy: { golden: correct / n, ...(hasGating(model) ? { ungated: accuracy(ungated(model), inputs, labels) } : {}) } }
      : {}),
  };
}
