import cliProgress from 'cli-progress';

/**
 * The one progress bar of every long CLI step (calibration, sparsity and gating search, Verilator
 * and g++ builds, multi-sample simulation). It draws on stderr, and only when both stdout and
 * stderr are terminals and neither --quiet nor --json was given: piped output, CI logs and JSON
 * on stdout never see a bar. A step with no known total (a compiler run) shows a spinner-like
 * bar with the elapsed time.
 */
export interface Progress {
  /** Starts (or restarts) a step: `total` units, `phase` shown beside the bar. */
  start(total: number, phase: string): void;
  /** Moves the bar, starting it when it is not running (then total and phase are needed). */
  update(done: number, total?: number, phase?: string): void;
  increment(by?: number): void;
  stop(): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  json?: boolean;
}

const NONE: Progress = { start() {}, update() {}, increment() {}, stop() {} };

export function progressEnabled(opts: ProgressOptions = {}): boolean {
  return process.stdout.isTTY === true && process.stderr.isTTY === true && !opts.quiet && !opts.json;
}

/** A bar labelled `label` ("gatec sim", "zero-block search", ...), or a silent one. */
export function createProgress(label: string, opts: ProgressOptions = {}): Progress {
  if (!progressEnabled(opts)) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {phase} | {duration_formatted}`,
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
      // A synchronous search updates from one long turn of the event loop: draw on update, not on a timer.
      synchronousUpdate: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    start(total, phase) {
      if (running) bar.stop();
      bar.start(Math.max(1, total), 0, { phase });
      running = true;
    },
    update(done, total, phase) {
      if (!running) {
        if (total === undefined || phase === undefined) return;
        bar.start(Math.max(1, total), 0, { phase });
        running = true;
      }
      if (total !== undefined) bar.setTotal(Math.max(1, total));
      bar.update(done, phase !== undefined ? { phase } : {});
    },
    increment(by = 1) {
      if (running) bar.increment(by);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/** The onProgress(done, total, phase) callback of a library function, drawing on `p`. */
export function progressCallback(p: Progress): (done: number, total: number, phase: string) => void {
  return (done, total, phase) => p.update(done, total, phase);
}

/** Runs `work` as one step of `total` units under a bar that always stops, error or not. */
export async function withProgress<T>(label: string, opts: ProgressOptions, total: number, phase: string, work: (p: Progress) => Promise<T> | T): Promise<T> {
  const p = createProgress(label, opts);
  p.start(total, phase);
  try {
    return await work(p);
  } finally {
    p.stop();
  }
}
