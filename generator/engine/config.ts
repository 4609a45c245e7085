import { z } from 'zod';
import { badInput } from '../../src/errors.js';

/**
 * Hardware configuration of the engine (docs/engine.md). The first ten fields are Verilog
 * parameters of `<name>_top`; clock and DRAM figures are harness settings the cycle model uses.
 */
export interface EngineConfig {
  peOc: number;
  peIc: number;
  busBytes: number;
  inBufBytes: number;
  wBufBytes: number;
  outBufBytes: number;
  paramRows: number;
  fetchDepth: number;
  /** conv taps the zero-block skip generator examines per cycle */
  skipLanes: number;
  /** tap-table entries: a conv with more taps per pixel runs without MAC skipping */
  skipTaps: number;
  clockMhz: number;
  dramBytesPerCycle: number;
  dramLatency: number;
}

export const DEFAULT_ENGINE_CONFIG: Readonly<EngineConfig> = Object.freeze({
  peOc: 8,
  peIc: 8,
  busBytes: 16,
  inBufBytes: 64 * 1024,
  // two 3x3x512 weight groups of an 8x8 array (ResNet-18's layer4) fit half of it
  wBufBytes: 128 * 1024,
  outBufBytes: 64 * 1024,
  paramRows: 64,
  fetchDepth: 16,
  skipLanes: 4,
  skipTaps: 1024,
  clockMhz: 200,
  dramBytesPerCycle: 16,
  dramLatency: 20,
});

/** Derived widths in bytes: lanes L (one activation word) and the buffer row widths. */
export interface RowWidths {
  lanes: number;
  /** B: bytes of one DRAM beat */
  bus: number;
  wa: number;
  ww: number;
  wp: number;
  /** bytes of one weight word: PeOc x PeIc int8 */
  weightWord: number;
}

export function rowWidths(c: EngineConfig): RowWidths {
  const lanes = c.peIc;
  const weightWord = c.peOc * c.peIc;
  return {
    lanes,
    bus: c.busBytes,
    wa: Math.max(c.busBytes, lanes),
    ww: Math.max(c.busBytes, weightWord),
    wp: Math.max(c.busBytes, 8 * c.peOc),
    weightWord,
  };
}

/**
 * Bytes of the zero-block bitmap buffer that holds the bitmap rows of one band (docs/engine.md,
 * "LOAD with zero blocks"): the decoder's (`in`) is a 32nd of the in buffer, the encoder's (`out`)
 * a 32nd of the out buffer, at least two beats; whole beats (rows of B bytes).
 */
export function bitmapBufferBytes(c: Pick<EngineConfig, 'inBufBytes' | 'outBufBytes' | 'busBytes'>, which: 'in' | 'out'): number {
  const bytes = Math.floor((which === 'in' ? c.inBufBytes : c.outBufBytes) / 32);
  return Math.max(2 * c.busBytes, Math.floor(bytes / c.busBytes) * c.busBytes);
}

/** Buffer row numbers are 16-bit instruction fields. */
export const MAX_BUFFER_ROWS = 0xffff;
/** Buffer word addresses are 16-bit instruction fields too, so a buffer holds at most 2^16 words. */
export const MAX_BUFFER_WORDS = 0x10000;

/** The CLI flag that sets each field, so validation errors point at what the user typed. */
export const CONFIG_FLAGS: Readonly<Record<keyof EngineConfig, string>> = {
  peOc: '--pe',
  peIc: '--pe',
  busBytes: '--bus-bytes',
  inBufBytes: '--in-buf',
  wBufBytes: '--w-buf',
  outBufBytes: '--out-buf',
  paramRows: '--param-rows',
  fetchDepth: '--fetch-depth',
  skipLanes: '--skip-lanes',
  skipTaps: '--skip-taps',
  clockMhz: '--clock-mhz',
  dramBytesPerCycle: '--dram-bw',
  dramLatency: '--dram-latency',
};

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;
const int = z.number().int();
const pow2 = (name: string, lo: number, hi: number) => {
  const message = `${name} must be a power of two in ${lo}..${hi}`;
  return int.min(lo, message).max(hi, message).refine(isPow2, message);
};

const configSchema = z
  .object({
    peOc: pow2('PeOc', 1, 32),
    peIc: pow2('PeIc', 1, 32),
    busBytes: pow2('the bus width', 4, 64),
    inBufBytes: int.positive(),
    wBufBytes: int.positive(),
    outBufBytes: int.positive(),
    paramRows: int.min(2).max(MAX_BUFFER_ROWS),
    fetchDepth: int.min(4).max(1 << 16).refine(isPow2, 'the fetch depth must be a power of two >= 4'),
    skipLanes: pow2('the skip lanes', 2, 16),
    skipTaps: pow2('the tap table', 2, 1 << 16),
    clockMhz: z.number().positive().finite(),
    dramBytesPerCycle: z.number().positive().finite(),
    dramLatency: int.min(0).max(1_000_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.skipTaps < c.skipLanes) {
      ctx.addIssue({ code: 'custom', path: ['skipTaps'], message: `the tap table (${c.skipTaps} entries) is smaller than the skip lanes (${c.skipLanes})` });
    }
    const w = rowWidths(c);
    const buffers: [keyof EngineConfig, number, number, string][] = [
      ['inBufBytes', w.wa, w.lanes, 'in'],
      ['wBufBytes', w.ww, w.weightWord, 'weight'],
      ['outBufBytes', w.wa, w.lanes, 'out'],
    ];
    for (const [key, row, word, what] of buffers) {
      const bytes = c[key];
      if (bytes % row !== 0) {
        ctx.addIssue({ code: 'custom', path: [key], message: `the ${what} buffer (${bytes} bytes) is not a multiple of its ${row}-byte row width` });
      } else if (bytes / row > MAX_BUFFER_ROWS) {
        ctx.addIssue({ code: 'custom', path: [key], message: `the ${what} buffer has ${bytes / row} rows of ${row} bytes; row numbers are 16-bit (at most ${MAX_BUFFER_ROWS})` });
      } else if (bytes / word > MAX_BUFFER_WORDS) {
        ctx.addIssue({ code: 'custom', path: [key], message: `the ${what} buffer has ${bytes / word} words of ${word} bytes; word addresses are 16-bit (at most ${MAX_BUFFER_WORDS})` });
      }
    }
  });

/** Checks a configuration against docs/engine.md; the error names the CLI flag of the first problem. */
export function validateEngineConfig(c: EngineConfig): EngineConfig {
  const r = configSchema.safeParse(c);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const key = issue.path[0] as keyof EngineConfig | undefined;
  const where = key && key in CONFIG_FLAGS ? CONFIG_FLAGS[key] : 'engine configuration';
  throw badInput(where, issue.message);
}

// ---------------------------------------------------------------------------------------------
// Command-line options

/** The hardware flags of `gatec build`, as commander hands them over (strings). */
export interface EngineCliOptions {
  pe?: string;
  busBytes?: string;
  inBuf?: string;
  wBuf?: string;
  outBuf?: string;
  paramRows?: string;
  fetchDepth?: string;
  skipLanes?: string;
  skipTaps?: string;
  clockMhz?: string;
  dramBw?: string;
  dramLatency?: string;
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, kib: 1024, m: 1024 * 1024, mib: 1024 * 1024 };

/** `65536`, `64K`, `64KiB`, `1M`: buffer sizes in bytes, binary units. */
export function parseByteSize(flag: string, text: string): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw badInput(flag, `expected a size in bytes such as 65536 or 64K, got '${text}'`);
  return Number(m[1]) * unit;
}

function parseInteger(flag: string, text: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw badInput(flag, `expected a non-negative integer, got '${text}'`);
  return Number(text);
}

function parsePositive(flag: string, text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v <= 0) throw badInput(flag, `expected a positive number, got '${text}'`);
  return v;
}

/** `--pe 8x16`: PeOc (output-channel rows) x PeIc (input-channel columns). */
export function parsePe(text: string): { peOc: number; peIc: number } {
  const m = /^\s*(\d+)\s*[x*]\s*(\d+)\s*$/i.exec(text);
  if (!m) throw badInput('--pe', `expected <output channels>x<input channels> such as 8x8, got '${text}'`);
  return { peOc: Number(m[1]), peIc: Number(m[2]) };
}

/** Defaults overridden by the flags given, validated as a whole. */
export function engineConfigFromCli(o: EngineCliOptions): EngineConfig {
  const c: EngineConfig = { ...DEFAULT_ENGINE_CONFIG };
  if (o.pe !== undefined) Object.assign(c, parsePe(o.pe));
  if (o.busBytes !== undefined) c.busBytes = parseInteger('--bus-bytes', o.busBytes);
  if (o.inBuf !== undefined) c.inBufBytes = parseByteSize('--in-buf', o.inBuf);
  if (o.wBuf !== undefined) c.wBufBytes = parseByteSize('--w-buf', o.wBuf);
  if (o.outBuf !== undefined) c.outBufBytes = parseByteSize('--out-buf', o.outBuf);
  if (o.paramRows !== undefined) c.paramRows = parseInteger('--param-rows', o.paramRows);
  if (o.fetchDepth !== undefined) c.fetchDepth = parseInteger('--fetch-depth', o.fetchDepth);
  if (o.skipLanes !== undefined) c.skipLanes = parseInteger('--skip-lanes', o.skipLanes);
  if (o.skipTaps !== undefined) c.skipTaps = parseInteger('--skip-taps', o.skipTaps);
  if (o.clockMhz !== undefined) c.clockMhz = parsePositive('--clock-mhz', o.clockMhz);
  if (o.dramBw !== undefined) c.dramBytesPerCycle = parsePositive('--dram-bw', o.dramBw);
  if (o.dramLatency !== undefined) c.dramLatency = parseInteger('--dram-latency', o.dramLatency);
  return validateEngineConfig(c);
}
