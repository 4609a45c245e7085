import type { Quantization } from '../../ir/types.js';
import { runFloat } from './float-executor.js';
import type { Graph } from './graph.js';
import { inheritsQuant, type NodeGroup } from './layers.js';

/**
 * Asymmetric int8 parameters from a calibrated range, as onnxruntime's MinMax calibration:
 * the range always includes 0, scale = (max - min) / 255, zero point = round(-128 - min/scale).
 */
export function quantFromRange(min: number, max: number): Quantization {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}

/**
 * Post-training calibration: runs the float graph on the calibration inputs and gives every
 * layer-boundary tensor (the input and each group's output) min/max quantization parameters.
 */
export function calibrate(g: Graph, groups: NodeGroup[], samples: Float64Array[], onProgress?: (done: number, total: number, phase: string) => void): Map<string, Quantization> {
  const needed = [g.input.name, ...groups.filter((x) => !(inheritsQuant(x.main.op) && x.fused.length === 0)).map((x) => x.output)];
  const min = new Map<string, number>(needed.map((t) => [t, Infinity]));
  const max = new Map<string, number>(needed.map((t) => [t, -Infinity]));
  for (const [i, s] of samples.entries()) {
    onProgress?.(i, samples.length, 'calibration');
    const values = runFloat(g, s);
    for (const t of needed) {
      const data = values.get(t)!.data;
      let lo = min.get(t)!;
      let hi = max.get(t)!;
      for (const v of data) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      min.set(t, lo);
      max.set(t, hi);
    }
  }
  return new Map(needed.map((t) => [t, quantFromRange(min.get(t)!, max.get(t)!)]));
}
