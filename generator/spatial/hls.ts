import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { DEFAULT_HLS_PART } from '../engine/hls.js';
import { TEMPLATES_DIR, type OutputFile } from '../engine/build.js';
import type { ComputeStage, MacStage, Multiplier, PoolStage, SpatialPlan } from './plan.js';

/**
 * The HLS C++ target of the spatial architecture (docs/spatial.md, "HLS C++"): the same plan as
 * the RTL (generator/spatial/plan.ts), one function per stage with the weights as constants.
 * Every term of a dot product is written out, so a zero weight has no multiply, and the terms of
 * an output channel are grouped by multiplier (the weights one multiplier serves across the reuse
 * factor, as in the RTL); `PIPELINE II=<reuse>` lets Vitis share each group's multiplier over the
 * reuse slots. Streams and pragmas go through templates/hls/gatec_hls_compat.h, shared with the
 * engine's kernel, so g++ and clang++ compile it warning-free for `gatec csim`.
 */

export const DEFAULT_SPATIAL_CLOCK_MHZ = 200;

export interface SpatialHlsOptions {
  /** FPGA part of run_hls.tcl (default that of the engine's HLS) */
  part?: string;
  /** clock of synthesis in run_hls.tcl */
  clockMhz?: number;
}

function render(rel: string, context: object): string {
  const file = join(TEMPLATES_DIR, rel);
  if (!existsSync(file)) throw new Error(`${file} is missing from this installation of gatec`);
  // C++ and Tcl, not HTML: nothing is escaped; strict catches a misspelt field.
  return Handlebars.compile(readFileSync(file, 'utf8'), { noEscape: true, strict: true })(context);
}

/** A constant array initializer, 16 values a line. */
function list(values: readonly number[], indent: string): string {
  const rows: string[] = [];
  for (let i = 0; i < values.length; i += 16) rows.push(`${indent}${values.slice(i, i + 16).join(', ')},`);
  return rows.join('\n');
}

/** Names a C++ identifier may carry from an IR layer name (comments only otherwise). */
const comment = (s: string): string => s.replace(/[^\w.:/ -]/g, '_');

/**
 * Terms of one multiplier: `w * t[k]` for its non-zero weights in slot order. `u` is the unsigned
 * suffix of a wrapping (32-bit) accumulator, where the arithmetic is modulo 2^32 like the golden
 * model's Int32Array (unsigned arithmetic keeps that defined in C++).
 */
function termsOf(m: Multiplier, J: number, u: string): string[] {
  const out: string[] = [];
  m.weights.forEach((w, r) => {
    if (w !== 0) out.push(`${w < 0 ? '-' : '+'} ${Math.abs(w)}${u} * t[${m.j + J * r}]`);
  });
  return out;
}

function macStage(s: MacStage, k: number): string {
  const [co, , ow] = s.out;
  const [c, h, w] = s.in;
  const wrap = s.accWidth >= 32;
  const u = wrap ? 'u' : '';
  const L: string[] = [];
  const rom = s.mults.filter((m) => m.kind === 'rom').length;
  const shift = s.mults.filter((m) => m.kind === 'shift').length;
  L.push(
    `// Stage ${k}: ${comment(s.name)} (${s.op}) ${s.in.join('x')} -> ${s.out.join('x')}, ${s.taps} taps per output, reuse ${s.reuse}:`,
    `// ${s.mults.length} multipliers (${rom} with a weight ROM, ${shift} shifts; ${s.perChannel * co - s.mults.length} pruned),`,
    `// ${s.accWidth}-bit accumulators, ${s.lanes} requantization lane(s).`,
    `namespace s${k} {`,
    `constexpr unsigned kInElems = ${c * h * w};`,
    `constexpr unsigned kOutElems = ${co * s.pixels};`,
    `constexpr unsigned kTaps = ${s.taps};`,
    `constexpr unsigned kCo = ${co};`,
    `constexpr unsigned kPixels = ${s.pixels};`,
  );
  if (s.op === 'conv') {
    L.push(
      `constexpr unsigned kH = ${h}, kW = ${w}, kOw = ${ow};`,
      `constexpr unsigned kKh = ${s.kernel[0]}, kKw = ${s.kernel[1]}, kSh = ${s.stride[0]}, kSw = ${s.stride[1]};`,
      `constexpr int kPadT = ${s.pads[0]}, kPadL = ${s.pads[1]};`,
    );
  }
  L.push(
    `constexpr int32_t kZpIn = ${s.zpIn}, kZpOut = ${s.zpOut}, kLo = ${s.clamp[0]}, kHi = ${s.clamp[1]};`,
    wrap
      ? '// The accumulator bound reaches 2^31: accumulate modulo 2^32 (unsigned), as int32 wraps.\nusing acc_t = uint32_t;\nusing tap_t = uint32_t;'
      : `// |bias| + sum |w| * max|x - zp| < 2^${s.accWidth - 1}: no sum overflows int32.\nusing acc_t = int32_t;\nusing tap_t = int16_t;`,
    'constexpr int32_t kBias[kCo] = {',
    list(s.bias, '    '),
    '};',
    'constexpr uint16_t kMult[kCo] = {',
    list(s.mult, '    '),
    '};',
    'constexpr uint8_t kShift[kCo] = {',
    list(s.shift, '    '),
    '};',
    '',
    'void stage(const int8_t x[kInElems], int8_t y[kOutElems]) {',
    '  GATEC_HLS(INLINE off)',
    // One multiplier per live group, plus the requantization lanes: what the RTL builds.
    `  GATEC_HLS(ALLOCATION operation instances=mul limit=${Math.max(1, s.mults.length + s.lanes)})`,
  );
  const ind = s.pixels > 1 ? '    ' : '  ';
  if (s.pixels > 1) {
    L.push(`GATEC_LOOP(s${k}_pixels)`, '  for (unsigned p = 0; p < kPixels; ++p) {', `    GATEC_HLS(PIPELINE II=${s.reuse})`);
  } else {
    L.push(`  GATEC_HLS(PIPELINE II=${s.reuse})`, '  const unsigned p = 0;');
  }
  L.push(`${ind}tap_t t[kTaps];`, `${ind}GATEC_HLS(ARRAY_PARTITION variable=t complete)`);
  if (s.op === 'conv') {
    L.push(
      `${ind}const unsigned oy = p / kOw, ox = p % kOw;`,
      `GATEC_LOOP(s${k}_window)`,
      `${ind}for (unsigned k = 0; k < kTaps; ++k) {`,
      `${ind}  GATEC_HLS(UNROLL)`,
      `${ind}  // tap k is input channel k / (kh*kw), kernel row (k / kw) % kh, column k % kw; padding is real zero`,
      `${ind}  const unsigned ch = k / (kKh * kKw);`,
      `${ind}  const int iy = static_cast<int>(oy * kSh + (k / kKw) % kKh) - kPadT;`,
      `${ind}  const int ix = static_cast<int>(ox * kSw + k % kKw) - kPadL;`,
      `${ind}  const bool in = iy >= 0 && iy < static_cast<int>(kH) && ix >= 0 && ix < static_cast<int>(kW);`,
      `${ind}  t[k] = in ? static_cast<tap_t>(x[(ch * kH + static_cast<unsigned>(iy)) * kW + static_cast<unsigned>(ix)] - kZpIn) : static_cast<tap_t>(0);`,
      `${ind}}`,
    );
  } else {
    L.push(
      `GATEC_LOOP(s${k}_window)`,
      `${ind}for (unsigned k = 0; k < kTaps; ++k) {`,
      `${ind}  GATEC_HLS(UNROLL)`,
      `${ind}  t[k] = static_cast<tap_t>(x[k] - kZpIn);`,
      `${ind}}`,
    );
  }
  L.push(
    `${ind}acc_t a[kCo];`,
    `${ind}GATEC_HLS(ARRAY_PARTITION variable=a complete)`,
    `GATEC_LOOP(s${k}_bias)`,
    `${ind}for (unsigned o = 0; o < kCo; ++o) {`,
    `${ind}  GATEC_HLS(UNROLL)`,
    `${ind}  a[o] = static_cast<acc_t>(kBias[o]);`,
    `${ind}}`,
    `${ind}// Per output channel, one line per multiplier j: its non-zero weights, slot r on tap j + ${s.perChannel}*r.`,
  );
  const byCo = new Map<number, Multiplier[]>();
  for (const m of s.mults) byCo.set(m.co, [...(byCo.get(m.co) ?? []), m]);
  for (let o = 0; o < co; o++) {
    for (const m of byCo.get(o) ?? []) {
      const terms = termsOf(m, s.perChannel, u);
      const first = terms[0]!.startsWith('+ ') ? terms[0]!.slice(2) : `-${terms[0]!.slice(2)}`;
      L.push(`${ind}a[${o}] += ${[first, ...terms.slice(1)].join(' ')};  // j=${m.j}${m.kind === 'rom' ? '' : ` (${m.kind})`}`);
    }
  }
  L.push(
    `GATEC_LOOP(s${k}_requant)`,
    `${ind}for (unsigned o = 0; o < kCo; ++o) {`,
    `${ind}  GATEC_HLS(UNROLL)`,
    `${ind}  y[o * kPixels + p] = requant(static_cast<int32_t>(a[o]), kMult[o], kShift[o], kZpOut, kLo, kHi);`,
    `${ind}}`,
  );
  if (s.pixels > 1) L.push('  }');
  L.push('}', '', `}  // namespace s${k}`);
  return L.join('\n');
}

function poolStage(s: PoolStage, k: number): string {
  const [c, h, w] = s.in;
  const [, , ow] = s.out;
  const max = s.op === 'maxpool';
  const L: string[] = [];
  L.push(
    `// Stage ${k}: ${comment(s.name)} (${s.op}) ${s.in.join('x')} -> ${s.out.join('x')}, window ${s.kernel.join('x')}, one requantization lane per channel.`,
    `namespace s${k} {`,
    `constexpr unsigned kInElems = ${c * h * w};`,
    `constexpr unsigned kOutElems = ${c * s.pixels};`,
    `constexpr unsigned kC = ${c};`,
    `constexpr unsigned kPixels = ${s.pixels};`,
    `constexpr unsigned kH = ${h}, kW = ${w}, kOw = ${ow};`,
    `constexpr unsigned kKh = ${s.kernel[0]}, kKw = ${s.kernel[1]}, kSh = ${s.stride[0]}, kSw = ${s.stride[1]};`,
    `constexpr unsigned kWindow = kKh * kKw;`,
    `constexpr int kPadT = ${s.pads[0]}, kPadL = ${s.pads[1]};`,
    `constexpr int32_t kZpIn = ${s.zpIn}, kZpOut = ${s.zpOut}, kLo = ${s.clamp[0]}, kHi = ${s.clamp[1]};`,
    `constexpr uint16_t kMult = ${s.mult};`,
    `constexpr uint8_t kShift = ${s.shift};`,
    '',
    'void stage(const int8_t x[kInElems], int8_t y[kOutElems]) {',
    '  GATEC_HLS(INLINE off)',
    `GATEC_LOOP(s${k}_pixels)`,
    '  for (unsigned p = 0; p < kPixels; ++p) {',
    '    GATEC_HLS(PIPELINE II=1)',
    '    const unsigned oy = p / kOw, ox = p % kOw;',
    `GATEC_LOOP(s${k}_channels)`,
    '    for (unsigned ch = 0; ch < kC; ++ch) {',
    '      GATEC_HLS(UNROLL)',
    max ? '      // taps outside the image cannot win: -256 is below every x - zp' : '      // padding counts as real zero (x - zp = 0)',
    `      int32_t a = ${max ? -256 : 0};`,
    `GATEC_LOOP(s${k}_taps)`,
    '      for (unsigned k = 0; k < kWindow; ++k) {',
    '        GATEC_HLS(UNROLL)',
    '        const int iy = static_cast<int>(oy * kSh + k / kKw) - kPadT;',
    '        const int ix = static_cast<int>(ox * kSw + k % kKw) - kPadL;',
    '        if (iy >= 0 && iy < static_cast<int>(kH) && ix >= 0 && ix < static_cast<int>(kW)) {',
    '          const int32_t v = x[(ch * kH + static_cast<unsigned>(iy)) * kW + static_cast<unsigned>(ix)] - kZpIn;',
    max ? '          if (v > a) a = v;' : '          a += v;',
    '        }',
    '      }',
    '      y[ch * kPixels + p] = requant(a, kMult, kShift, kZpOut, kLo, kHi);',
    '    }',
    '  }',
    '}',
    '',
    `}  // namespace s${k}`,
  );
  return L.join('\n');
}

function stageText(s: ComputeStage, k: number): string {
  return s.kind === 'mac' ? macStage(s, k) : poolStage(s, k);
}

/** hls/<name>.cpp, <name>.h, gatec_hls_compat.h, tb.cpp and run_hls.tcl of a spatial plan. */
export function spatialHlsFiles(plan: SpatialPlan, name: string, opts: SpatialHlsOptions = {}): OutputFile[] {
  const top = `${name}_top`;
  const n = plan.stages.length;
  const frames: string[] = [];
  frames.push('  int8_t f0[kInElems];', '  GATEC_HLS(ARRAY_PARTITION variable=f0 complete)');
  for (let k = 0; k < n; k++) frames.push(`  int8_t f${k + 1}[s${k}::kOutElems];`, `  GATEC_HLS(ARRAY_PARTITION variable=f${k + 1} complete)`);
  const calls = plan.stages.map((s, k) => `  s${k}::stage(f${k}, f${k + 1});  // ${comment(s.name)} (${s.op})`);
  const asserts = plan.stages.map((_, k) => `static_assert(s${k}::kInElems == ${k === 0 ? 'kInElems' : `s${k - 1}::kOutElems`}, "stage ${k} reads the previous frame");`);
  asserts.push(`static_assert(s${n - 1}::kOutElems == kOutElems, "the last stage writes the output frame");`);
  const clockMhz = opts.clockMhz ?? DEFAULT_SPATIAL_CLOCK_MHZ;
  const context = {
    name,
    top,
    guard: `GATEC_SPATIAL_${name.toUpperCase()}_H`,
    model: comment(plan.name),
    inElems: plan.inElems,
    outElems: plan.outElems,
    stageList: plan.stages.map((s) => `${comment(s.name)} (${s.op})`).join(', '),
    stages: plan.stages.map(stageText).join('\n\n'),
    frames: frames.join('\n'),
    calls: calls.join('\n'),
    asserts: asserts.join('\n'),
    lastFrame: `f${n}`,
    part: opts.part ?? DEFAULT_HLS_PART,
    clockNs: Number((1000 / clockMhz).toFixed(3)),
    zeros: Array.from({ length: plan.inElems }, () => '0').join(' '),
  };
  return [
    { path: `hls/${name}.cpp`, data: render('spatial/hls/kernel.cpp.hbs', context) },
    { path: `hls/${name}.h`, data: render('spatial/hls/kernel.h.hbs', context) },
    { path: 'hls/gatec_hls_compat.h', data: readFileSync(join(TEMPLATES_DIR, 'hls/gatec_hls_compat.h'), 'utf8') },
    { path: 'hls/tb.cpp', data: render('spatial/hls/tb.cpp.hbs', context) },
    { path: 'hls/run_hls.tcl', data: render('spatial/hls/run_hls.tcl.hbs', context) },
  ];
}
