import { badInput, unsupported } from '../../errors.js';
import type { Model } from '../../ir/types.js';
import type { GatingSpec } from '../../passes/apply-gating.js';
import type { GatingSidecar, SidecarLayer } from '../gating-sidecar.js';
import type { Graph } from './graph.js';
import type { ConvScales } from './lower.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * One real threshold T on the base partial sum P (ONNX weights, bias excluded, before
 * BatchNorm) as the IR's integer rule. The accumulator's base sum minus the bias is
 * A = c * P with c = factor / (s_x * s_w[co]) (up to quantization of weights and inputs), so
 *   c > 0:  P > T  <=>  A > c*T  <=>  A > floor(c*T)   -> threshold = bias + floor(c*T)
 *   c < 0:  P > T  <=>  A < c*T  <=>  A < ceil(c*T)    -> threshold = bias + ceil(c*T), below
 * (a negative folded BatchNorm scale flips the comparison). For an integer A these are exactly
 * the real comparisons at c*T: the rounding adds no error of its own. c = 0 (a BatchNorm gamma
 * of 0) zeroes the whole output channel, so every gate is set off (threshold = bias, never
 * exceeded), which changes no output value. Thresholds beyond int32 are clamped: a gate then is
 * always on or always off, as the real comparison is for every reachable accumulator.
 */
export function accumulatorThreshold(t: number, bias: number, c: number): { threshold: number; below: boolean } {
  if (c === 0) return { threshold: bias, below: false };
  const x = c * t;
  const below = c < 0;
  const v = bias + (below ? Math.ceil(x) : Math.floor(x));
  return { threshold: Math.min(INT32_MAX, Math.max(INT32_MIN, v)), below };
}

function checkBase(base: readonly number[], cin: number, where: string): void {
  if (base.length === 0) throw badInput(where, `base is empty: it needs 1 to ${cin - 1} of the ${cin} input channels`);
  const seen = new Set<number>();
  for (const c of base) {
    if (!Number.isInteger(c) || c < 0 || c >= cin) throw badInput(where, `base index ${c} is out of range (the conv has ${cin} input channels, 0..${cin - 1})`);
    if (seen.has(c)) throw badInput(where, `base index ${c} appears twice`);
    seen.add(c);
  }
  if (base.length === cin) throw badInput(where, `base lists all ${cin} input channels: nothing is left to gate (at most ${cin - 1})`);
}

function layerSpec(entry: SidecarLayer, model: Model, name: string, scales: ConvScales, where: string): GatingSpec {
  const l = model.layers.find((x) => x.name === name);
  if (!l || l.op !== 'conv') throw badInput(where, 'the node did not become a conv layer');
  if (l.groups !== 1) throw unsupported(where, `channel gating of a grouped conv (groups ${l.groups}) is not supported`);
  const cin = model.tensors.find((t) => t.name === l.inputs[0])!.shape[0]!;
  checkBase(entry.base, cin, where);
  const co = l.bias.length;
  if (entry.thresholds.length !== co) throw badInput(where, `${entry.thresholds.length} thresholds for ${co} output channels`);
  const threshold = new Int32Array(co);
  const below: boolean[] = [];
  entry.thresholds.forEach((t, o) => {
    if (t === null || !Number.isFinite(t)) throw badInput(where, `threshold ${o} is not a finite number`);
    const r = accumulatorThreshold(t, l.bias[o]!, scales.factor[o]! / (scales.input * scales.weight[o]!));
    threshold[o] = r.threshold;
    below.push(r.below);
  });
  return { base: entry.base, threshold, below };
}

/**
 * The sidecar's layers as gating specs of the freshly lowered model (ONNX channel order), by
 * conv layer name. Errors name the sidecar and the node, e.g.
 * `gating.json: node '/3/Conv' (Conv): base index 9 is out of range (...)`.
 */
export function sidecarSpecs(sidecar: GatingSidecar, graph: Graph, model: Model, convScales: ReadonlyMap<string, ConvScales>): Map<string, GatingSpec> {
  const specs = new Map<string, GatingSpec>();
  for (const [name, entry] of sidecar.layers) {
    const node = graph.nodes.find((n) => n.name === name);
    if (!node) throw badInput(`${sidecar.file}: node '${name}'`, `no node of that name in ${graph.file}`);
    const where = `${sidecar.file}: node '${name}' (${node.op})`;
    if (node.op !== 'Conv') throw badInput(where, 'gating applies to Conv nodes only');
    specs.set(name, layerSpec(entry, model, name, convScales.get(name)!, where));
  }
  return specs;
}
