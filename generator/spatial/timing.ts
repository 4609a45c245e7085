import type { ComputeStage, SpatialPlan } from './plan.js';

/**
 * Cycle model of the spatial pipeline, exact by construction (it replays the handshake rules of
 * templates/spatial/rtl; rtl-tests check it against Verilator). Cycle 0 is the first input beat;
 * the source offers a beat every cycle and the sink is always ready.
 *
 *   stage busy time   D = pixels * R + steps + 1   (MAC cycles, requantization of the last
 *                                                   pixel, the cycle that copies the input frame)
 *   loader            frame n's beats from f(n); full at f(n) + N_in; free the cycle after stage 1 copies it
 *   stage k           start_k(n) = max(done_{k-1}(n), start_{k+1}(n-1) + 1); done = start + D
 *   streamer          start(n) = max(done_L(n), start(n-1) + N_out + 1); beats start+1 .. start+N_out
 */
export interface SpatialTiming {
  /** per stage, cycles from copying the input frame to offering the output frame */
  stageCycles: number[];
  /** cycles from a sample's first input beat to its last output beat, inclusive, pipeline empty */
  latency: number;
  /** steady-state cycles between the first input beats of consecutive samples */
  interval: number;
  /** per sample (of `samples`): first input beat and last output beat */
  schedule: { first: number; last: number }[];
}

export function stageCycles(s: ComputeStage): number {
  const reuse = s.kind === 'mac' ? s.reuse : 1;
  const steps = s.kind === 'mac' ? s.steps : 1;
  return s.pixels * reuse + steps + 1;
}

/** Replays `samples` back-to-back samples (enough to reach the steady state by default). */
export function predictTiming(plan: SpatialPlan, samples: number = plan.stages.length + 4): SpatialTiming {
  const D = plan.stages.map(stageCycles);
  const L = D.length;
  const nIn = plan.inElems;
  const nOut = plan.outElems;
  // start[k][n] for k = 1..L (compute stages), k = L + 1 the streamer; index 0 unused
  const start: number[][] = Array.from({ length: L + 2 }, () => []);
  const first: number[] = [];
  const done0: number[] = [];
  // Stage k's start depends on stage k+1's start of the previous sample: go sample by sample,
  // stages in order, which is enough because that dependency is on an earlier sample.
  for (let n = 0; n < samples; n++) {
    first[n] = n === 0 ? 0 : start[1]![n - 1]! + 1;
    done0[n] = first[n]! + nIn;
    for (let k = 1; k <= L; k++) {
      const ready = k === 1 ? done0[n]! : start[k - 1]![n]! + D[k - 2]!;
      const free = n === 0 ? 0 : k < L ? start[k + 1]![n - 1]! + 1 : start[L + 1]![n - 1]! + 1;
      start[k]![n] = Math.max(ready, free);
    }
    const ready = start[L]![n]! + D[L - 1]!;
    start[L + 1]![n] = Math.max(ready, n === 0 ? 0 : start[L + 1]![n - 1]! + nOut + 1);
  }
  const schedule = first.map((f, n) => ({ first: f, last: start[L + 1]![n]! + nOut }));
  const interval = samples > 1 ? first[samples - 1]! - first[samples - 2]! : schedule[0]!.last + 1;
  return { stageCycles: D, latency: schedule[0]!.last - schedule[0]!.first + 1, interval, schedule };
}
