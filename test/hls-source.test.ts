import { describe, expect, it } from 'vitest';
import { compileEngine, engineFiles } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG, type EngineConfig } from '../generator/engine/config.js';
import { PROPERTY_CONFIGS } from './support/engine-property.js';
import { code, findCycle, functions } from './support/cpp-source.js';
import { IrBuilder } from './support/engine-models.js';

/**
 * What Vitis HLS cannot synthesize, checked on the generated kernel so the guarantee does not
 * decay as the kernel grows (issue 7): no allocation, no recursion, no STL or other library,
 * every loop bounded by a compile-time constant, the pragmas that make it an engine. The kernel is
 * hls/<name>.cpp, <name>.h and gatec_hls_compat.h; tb.cpp is the testbench and exempt.
 */

function model() {
  const b = new IrBuilder('src', [4, 4, 4]);
  return b.build([b.conv(b.input, { co: 4, k: 3, p: 1 })]);
}

function kernel(config: EngineConfig): { cpp: string; h: string; compat: string; all: Map<string, string> } {
  const comp = compileEngine(model(), config);
  const files = engineFiles(comp, model(), 'src', undefined, { targets: ['hls'] });
  const all = new Map(files.filter((f) => f.path.startsWith('hls/')).map((f) => [f.path.slice(4), String(f.data)]));
  return { cpp: all.get('src.cpp')!, h: all.get('src.h')!, compat: all.get('gatec_hls_compat.h')!, all };
}

const CONFIGS: [string, EngineConfig][] = [['default', { ...DEFAULT_ENGINE_CONFIG }], ...PROPERTY_CONFIGS.map((c, i): [string, EngineConfig] => [`property ${i}`, c])];

describe.each(CONFIGS)('HLS kernel source (%s configuration)', (_, config) => {
  const k = kernel(config);
  const sources = { cpp: code(k.cpp), h: code(k.h), compat: code(k.compat) };
  const kernelCode = Object.values(sources).join('\n');

  it('allocates nothing and calls no library', () => {
    expect(kernelCode).not.toMatch(/\b(new|delete|malloc|calloc|realloc|free|alloca)\b/);
    expect(kernelCode).not.toMatch(/\bstd::/);
    expect(kernelCode).not.toMatch(/\b(vector|map|list|deque|string|unique_ptr|shared_ptr|function)\s*</);
    expect(kernelCode).not.toMatch(/\b(printf|fprintf|puts|exit|abort|assert|throw|try|catch)\b/);
    // headers: <cstdint>, Vitis' own <ap_int.h>, <ap_axi_sdata.h>, <hls_stream.h> (only under __SYNTHESIS__/GATEC_VITIS), the kernel's own
    const includes = [...[k.cpp, k.h, k.compat].join('\n').replace(/\/\/.*$/gm, '').matchAll(/#include\s+([<"][^>"]*[>"])/g)].map((m) => m[1]);
    expect(new Set(includes)).toEqual(new Set(['<cstdint>', '<ap_axi_sdata.h>', '<ap_int.h>', '<hls_stream.h>', '"gatec_hls_compat.h"', '"src.h"']));
  });

  it('has no recursion', () => {
    const defs = functions(sources.cpp);
    expect(defs.map((d) => d.name)).toEqual(expect.arrayContaining(['gatec_engine_top', 'conv', 'pool', 'add', 'requant', 'loadZeroBlocks', 'storeZeroBlocks']));
    const names = new Set(defs.map((d) => d.name));
    const graph = new Map<string, Set<string>>();
    for (const d of defs) {
      const calls = [...d.body.matchAll(/\b(\w+)\s*\(/g)].map((m) => m[1]!).filter((n) => names.has(n));
      graph.set(d.name, new Set([...(graph.get(d.name) ?? []), ...calls]));
    }
    expect(findCycle(graph)).toBeUndefined();
  });

  it('bounds every loop by a compile-time constant (a variable trip count breaks out early, with LOOP_TRIPCOUNT)', () => {
    expect(kernelCode).not.toMatch(/\b(while|goto)\b|\bdo\s*\{/);
    const loops = [...sources.cpp.matchAll(/\bfor\s*\(([^;]*);([^;]*);([^)]*)\)\s*\{([^\n]*\n){1,3}/g)];
    expect(loops.length).toBeGreaterThan(20);
    const constants = new Set([...kernelCode.matchAll(/constexpr\s+(?:unsigned|uint32_t|int)\s+(\w+)\s*=/g)].map((m) => m[1]));
    for (const [whole, , cond] of loops) {
      const m = /^\s*\w+\s*<\s*(\w+(?:\s*[*/]\s*\w+)*)\s*$/.exec(cond!);
      expect(m, `loop condition '${cond}' in: ${whole}`).not.toBeNull();
      for (const term of m![1]!.split(/\s*[*/]\s*/)) expect(constants.has(term) || /^\d+$/.test(term), `'${term}' in loop '${cond}' is not a constexpr`).toBe(true);
    }
    // every loop bounded by one of the wide maxima has its real trip count for the reports
    for (const [whole, , cond] of loops) {
      if (/kMax(U16|Program|Beats|Taps|Segments)\b/.test(cond!)) expect(whole, whole).toMatch(/LOOP_TRIPCOUNT/);
    }
  });

  it('carries the interface and the pragmas that make it the engine', () => {
    expect(k.cpp).toMatch(/GATEC_HLS\(INTERFACE m_axi port=dram offset=slave bundle=gmem/);
    expect(k.cpp).toMatch(/GATEC_HLS\(INTERFACE s_axilite port=return\)/);
    for (const p of ['prog_addr', 'prog_count', 'dram_bytes']) expect(k.cpp).toContain(`GATEC_HLS(INTERFACE s_axilite port=${p})`);
    expect(k.cpp).toMatch(/conv_taps\)\n\s*for \(uint32_t t = 0; t < kMaxTaps; \+\+t\) \{\n\s*GATEC_HLS\(LOOP_TRIPCOUNT[^\n]*\n\s*GATEC_HLS\(PIPELINE II=1\)/);
    expect(k.cpp).toContain('GATEC_HLS(ARRAY_PARTITION variable=buf.w dim=2 complete)');
    expect(k.h).toContain(`constexpr unsigned kPeOc = ${config.peOc};`);
    expect(k.h).toContain(`constexpr unsigned kInBufBytes = ${config.inBufBytes};`);
    // pragmas only through the macro: plain compilers would warn on unknown ones
    expect(sources.cpp).not.toMatch(/#pragma/);
  });
});

it('run_hls.tcl runs csim, csynth, cosim and export for the part given', () => {
  const comp = compileEngine(model(), { ...DEFAULT_ENGINE_CONFIG });
  const tcl = (part?: string) => String(engineFiles(comp, model(), 'src', undefined, { targets: ['hls'], ...(part ? { part } : {}) }).find((f) => f.path === 'hls/run_hls.tcl')!.data);
  expect(tcl()).toContain('set part xczu7ev-ffvc1156-2-e');
  expect(tcl('xcvu9p-flga2104-2-i')).toContain('set part xcvu9p-flga2104-2-i');
  for (const step of ['csim_design', 'csynth_design', 'cosim_design', 'export_design', 'set_top gatec_engine_top']) expect(tcl()).toContain(step);
});

it('the kernel and testbench of two networks of one configuration differ only in <name> (one csim build serves both)', () => {
  const b = new IrBuilder('other', [8, 3, 3]);
  const other = b.build([b.conv(b.input, { co: 8, k: 1 })]);
  const strip = (files: ReturnType<typeof engineFiles>, name: string) =>
    files.filter((f) => /^hls\/(?!run_hls)/.test(f.path)).map((f) => `${f.path.replace(name, 'N')}\n${String(f.data).replaceAll(name, 'N')}`);
  const a = strip(engineFiles(compileEngine(model(), DEFAULT_ENGINE_CONFIG), model(), 'alpha', undefined, { targets: ['hls'] }), 'alpha');
  const c = strip(engineFiles(compileEngine(other, DEFAULT_ENGINE_CONFIG), other, 'beta', undefined, { targets: ['hls'] }), 'beta');
  expect(a).toEqual(c);
});
