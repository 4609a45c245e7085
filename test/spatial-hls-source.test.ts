import { beforeAll, describe, expect, it } from 'vitest';
import { compileSpatial, spatialFiles } from '../generator/spatial/build.js';
import type { ReuseConfig } from '../generator/spatial/reuse.js';
import { loadModel } from '../src/frontend/load.js';
import type { Model } from '../src/ir/types.js';
import { sharedModel } from './fixtures.js';
import { code, findCycle, functions } from './support/cpp-source.js';
import { mlpModel } from './support/spatial-mlp.js';

/**
 * What Vitis HLS cannot synthesize, checked on the generated spatial kernel (docs/spatial.md,
 * "HLS C++"): no allocation, recursion, STL or other library, every loop bounded by a
 * compile-time constant, pragmas only through GATEC_HLS; and the structure: one term per non-zero
 * weight (a zero weight has no multiply), grouped by multiplier, PIPELINE II=<reuse> per layer.
 * The kernel is hls/<name>.cpp, <name>.h and gatec_hls_compat.h; tb.cpp is the testbench.
 */

function hls(model: Model, reuse: ReuseConfig, opts: { part?: string } = {}) {
  const files = spatialFiles(model, compileSpatial(model, reuse), 'src', ['hls'], opts);
  const all = new Map(files.filter((f) => f.path.startsWith('hls/')).map((f) => [f.path.slice(4), String(f.data)]));
  return { cpp: all.get('src.cpp')!, h: all.get('src.h')!, compat: all.get('gatec_hls_compat.h')!, tcl: all.get('run_hls.tcl')!, all, paths: files.map((f) => f.path) };
}

/** Offsets [start, end) of each stage's `namespace sK { ... }  // namespace sK` in the text. */
function stageRanges(text: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const m of text.matchAll(/^namespace (s\d+) \{$/gm)) out.set(m[1]!, [m.index, text.indexOf(`}  // namespace ${m[1]!}`, m.index)]);
  return out;
}

/** Function definitions, those inside a stage namespace named sK::f: name and body. */
function stageFunctions(text: string): { name: string; body: string }[] {
  const ranges = [...stageRanges(text)];
  return functions(code(text), (at) => ranges.find(([, [a, b]]) => at >= a && at < b)?.[0]);
}

const MODELS: [string, () => Promise<Model>, ReuseConfig][] = [
  ['digits8_qdq (conv, pools, fc), reuse 8', () => loadModel(sharedModel('digits8_qdq')), { default: 8 }],
  ['MLP 16-8-4, 50% zero weights, reuse 1/3', () => Promise.resolve(mlpModel([16, 8, 4], 5, 0.5)), { default: 1, perLayer: { fc2: 3 } }],
];

describe.each(MODELS)('spatial HLS kernel source: %s', (_, load, reuse) => {
  let model: Model;
  let k: ReturnType<typeof hls>;
  let kernelCode = '';
  beforeAll(async () => {
    model = await load();
    k = hls(model, reuse);
    kernelCode = [k.cpp, k.h, k.compat].map(code).join('\n');
  });

  it('writes the kernel, its header, the compat header, the testbench and run_hls.tcl', () => {
    expect(k.paths.filter((p) => p.startsWith('hls/')).sort()).toEqual(['hls/gatec_hls_compat.h', 'hls/run_hls.tcl', 'hls/src.cpp', 'hls/src.h', 'hls/tb.cpp']);
    expect(k.paths).not.toContain('files.f');
  });

  it('allocates nothing and uses no STL container or library', () => {
    expect(kernelCode).not.toMatch(/\b(new|delete|malloc|calloc|realloc|free|alloca)\b/);
    expect(kernelCode).not.toMatch(/\bstd::/);
    expect(kernelCode).not.toMatch(/\b(vector|map|list|deque|array|string|unique_ptr|shared_ptr|function)\s*</);
    expect(kernelCode).not.toMatch(/\b(printf|fprintf|puts|exit|abort|assert|throw|try|catch)\b/);
    const includes = [...[k.cpp, k.h, k.compat].join('\n').replace(/\/\/.*$/gm, '').matchAll(/#include\s+([<"][^>"]*[>"])/g)].map((m) => m[1]);
    expect(new Set(includes)).toEqual(new Set(['<cstdint>', '<ap_axi_sdata.h>', '<ap_int.h>', '<hls_stream.h>', '"gatec_hls_compat.h"', '"src.h"']));
  });

  it('has no recursion', () => {
    const defs = stageFunctions(k.cpp);
    const names = defs.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['requant', 'load', 'store', 'src_top', 's0::stage']));
    const graph = new Map<string, Set<string>>();
    for (const d of defs) {
      const ns = d.name.includes('::') ? `${d.name.split('::')[0]!}::` : '';
      const calls = [...d.body.matchAll(/\b((?:s\d+::)?\w+)\s*\(/g)].map((m) => m[1]!).map((n) => (names.includes(n) ? n : names.includes(ns + n) ? ns + n : '')).filter((n) => n !== '');
      graph.set(d.name, new Set(calls));
    }
    expect(findCycle(graph)).toBeUndefined();
  });

  it('bounds every loop by a compile-time constant', () => {
    expect(kernelCode).not.toMatch(/\b(while|goto)\b|\bdo\s*\{/);
    const loops = [...code(k.cpp).matchAll(/\bfor\s*\(([^;]*);([^;]*);([^)]*)\)/g)];
    expect(loops.length).toBeGreaterThan(3);
    const constants = new Set([...kernelCode.matchAll(/constexpr\s+(?:unsigned|uint32_t|int)\s+(\w+)\s*=/g)].map((m) => m[1]));
    for (const m of kernelCode.matchAll(/constexpr\s+unsigned\s+\w+\s*=[^;]*;/g)) for (const n of m[0].matchAll(/,\s*(\w+)\s*=/g)) constants.add(n[1]);
    for (const [whole, , cond] of loops) {
      const m = /^\s*\w+\s*<\s*(\w+(?:\s*[*/]\s*\w+)*)\s*$/.exec(cond!);
      expect(m, `loop condition '${cond}' in: ${whole}`).not.toBeNull();
      for (const term of m![1]!.split(/\s*[*/]\s*/)) expect(constants.has(term) || /^\d+$/.test(term), `'${term}' in loop '${cond}' is not a constexpr`).toBe(true);
    }
  });

  it('writes one term per non-zero weight, grouped by multiplier, with PIPELINE II=<reuse> per layer', () => {
    const comp = compileSpatial(model, reuse);
    const src = code(k.cpp);
    const terms = [...src.matchAll(/[-+]?\s*\d+u? \* t\[\d+\]/g)].length;
    // the plan's multipliers (dead channels have none: plan.ts, markLive) and their non-zero weights
    const nonzero = comp.plan.stages.reduce((a, s) => a + (s.kind === 'mac' ? s.mults.reduce((b, m) => b + m.weights.filter((w) => w !== 0).length, 0) : 0), 0);
    expect(terms).toBe(nonzero);
    if (comp.plan.stages.every((s) => s.liveOut.every(Boolean))) {
      expect(nonzero).toBe(model.layers.reduce((a, l) => a + (l.op === 'conv' || l.op === 'fc' ? l.weights.filter((w) => w !== 0).length : 0), 0));
    }
    const groups = [...src.matchAll(/^\s*a\[\d+\] \+= /gm)].length;
    expect(groups).toBe(comp.plan.stages.reduce((a, s) => a + (s.kind === 'mac' ? s.mults.length : 0), 0));
    const ranges = stageRanges(k.cpp);
    expect(ranges.size).toBe(comp.plan.stages.length);
    for (const [i, s] of comp.plan.stages.entries()) {
      const [a, b] = ranges.get(`s${i}`)!;
      expect(k.cpp.slice(a, b)).toContain(`GATEC_HLS(PIPELINE II=${s.kind === 'mac' ? s.reuse : 1})`);
    }
    expect(k.cpp).toContain('GATEC_HLS(DATAFLOW)');
    expect(k.cpp).toContain('GATEC_HLS(INTERFACE axis port=s_in)');
    expect(k.cpp).toContain('GATEC_HLS(INTERFACE axis port=m_out)');
    expect(k.cpp).toMatch(/GATEC_HLS\(ARRAY_PARTITION variable=f1 complete\)/);
    expect(k.cpp).toMatch(/GATEC_HLS\(UNROLL\)/);
    expect(k.h).toContain('void src_top(gatec_stream<gatec_axis8>& s_in, gatec_stream<gatec_axis8>& m_out);');
    // pragmas only through the macro: plain compilers would warn on unknown ones
    expect(code(k.cpp)).not.toMatch(/#pragma/);
  });
});

it('a pruned multiplier (all its weights zero) leaves no term; a partly zero one keeps its non-zero terms', () => {
  const model = mlpModel([8, 2], 3);
  const l = model.layers[0]!;
  if (l.op !== 'fc') throw new Error('fc expected');
  // reuse 4 over 8 taps: multiplier j serves taps j and j + 2 ... of its channel (J = 2)
  for (const k of [0, 2, 4, 6]) l.weights[k] = 0; // channel 0, multiplier 0: pruned
  l.weights[8 + 1] = 0; // channel 1, multiplier 1: one slot zero
  const src = code(hls(model, { default: 4 }).cpp);
  const lines = src.split('\n').filter((s) => /^\s*a\[\d\] \+= /.test(s)).map((s) => s.trim());
  expect(lines.filter((s) => s.startsWith('a[0]'))).toHaveLength(1);
  expect(lines.find((s) => s.startsWith('a[1]') && s.includes('t[3]'))).toMatch(/^a\[1\] \+= -?\d+ \* t\[3\] [-+] \d+ \* t\[5\] [-+] \d+ \* t\[7\];$/);
});

it('run_hls.tcl runs csim, csynth, cosim and export of <name>_top for the part and clock given', () => {
  const model = mlpModel([4, 2], 1);
  const tcl = (opts: { part?: string; clockMhz?: number }) => String(spatialFiles(model, compileSpatial(model, { default: 1 }), 'src', ['hls'], opts).find((f) => f.path === 'hls/run_hls.tcl')!.data);
  expect(tcl({})).toContain('set part xczu7ev-ffvc1156-2-e');
  expect(tcl({})).toContain('set clock_ns 5');
  expect(tcl({ part: 'xcvu9p-flga2104-2-i', clockMhz: 250 })).toMatch(/set part xcvu9p-flga2104-2-i\nset clock_ns 4\n/);
  for (const step of ['csim_design -argv', 'csynth_design', 'cosim_design -argv', 'export_design', 'set_top src_top', 'puts $run "1 4 2 0"']) expect(tcl({})).toContain(step);
});
