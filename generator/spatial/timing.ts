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

/** First input beat and last output beat of `samples` back-to-back samples. */
function replay(plan: SpatialPlan, samples: number): { first: number; last: number }[] {
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
  return first.map((f, n) => ({ first: f, last: start[L + 1]![n]! + nOut }));
}

/**
 * The schedule of `samples` back-to-back samples, the latency of the first and the steady-state
 * interval. The first samples can come faster than the steady state while the pipeline's slack
 * fills (mlp16 at reuse 4/8/2/1: 17 cycles apart for ten samples, then 18), so the interval is
 * taken after a replay long enough to use up all slack: every sample before the steady state
 * gains at least one cycle on the bottleneck, and the slack is less than the latency.
 */
export function predictTiming(plan: SpatialPlan, samples: number = plan.stages.length + 4): SpatialTiming {
  const schedule = replay(plan, samples);
  const latency = schedule[0]!.last - schedule[0]!.first + 1;
  const long = replay(plan, Math.max(samples, 2 * (plan.stages.length + 4) + latency));
  const n = long.length;
  const interval = n > 1 ? long[n - 1]!.first - long[n - 2]!.first : latency + 1;
  return { stageCycles: plan.stages.map(stageCycles), latency, interval, schedule };
}
