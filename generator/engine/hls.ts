import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { bitmapBufferBytes } from './config.js';
import type { EngineCompilation, OutputFile } from './build.js';

/**
 * The HLS C++ target of the engine (docs/hls.md): hls/<name>.cpp and .h (the kernel, one
 * hardware configuration as constexpr constants), gatec_hls_compat.h, tb.cpp (the C testbench,
 * driven by the Verilator harness' run files) and run_hls.tcl (Vitis HLS). The kernel and its
 * testbench depend on the configuration only, so every network of one configuration shares one
 * `gatec csim` build; run_hls.tcl carries the network's image size and program.
 */
export const DEFAULT_HLS_PART = 'xczu7ev-ffvc1156-2-e';

/** Files of hls/ that make up the C simulation (kernel, header, compat header, testbench). */
export const HLS_CSIM_SOURCES = (name: string): string[] => [`${name}.cpp`, `${name}.h`, 'gatec_hls_compat.h', 'tb.cpp'];

/** 64K tags of 5 counters: the stats port of gatec_engine_top. */
const STAT_WORDS = 0x10000 * 5;

function template(templates: string, rel: string): string {
  const file = join(templates, rel);
  if (!existsSync(file)) throw new Error(`${file} is missing from this installation of gatec`);
  return readFileSync(file, 'utf8');
}

function render(templates: string, rel: string, context: object): string {
  // C++ and Tcl, not HTML: nothing is escaped; strict catches a misspelt field.
  return Handlebars.compile(template(templates, rel), { noEscape: true, strict: true })(context);
}

export interface HlsOptions {
  /** FPGA part for run_hls.tcl */
  part?: string;
}

export function hlsFiles(comp: EngineCompilation, name: string, templates: string, opts: HlsOptions = {}): OutputFile[] {
  const c = comp.config;
  const context = {
    name,
    // not the name: the C simulation cache shares one build among the networks of a configuration
    guard: 'GATEC_ENGINE_KERNEL_H',
    config: c,
    widths: comp.widths,
    bitmapIn: bitmapBufferBytes(c, 'in'),
    bitmapOut: bitmapBufferBytes(c, 'out'),
    part: opts.part ?? DEFAULT_HLS_PART,
    clockNs: Number((1000 / c.clockMhz).toFixed(3)),
    dramBytes: comp.map.dramBytes,
    dramBeats: Math.ceil(comp.map.dramBytes / c.busBytes),
    statWords: STAT_WORDS,
    programAddr: comp.map.program.addr,
    programCount: comp.map.program.count,
  };
  return [
    { path: `hls/${name}.cpp`, data: render(templates, 'hls/engine.cpp.hbs', context) },
    { path: `hls/${name}.h`, data: render(templates, 'hls/engine.h.hbs', context) },
    { path: 'hls/gatec_hls_compat.h', data: template(templates, 'hls/gatec_hls_compat.h') },
    { path: 'hls/tb.cpp', data: render(templates, 'hls/tb.cpp.hbs', context) },
    { path: 'hls/run_hls.tcl', data: render(templates, 'hls/run_hls.tcl.hbs', context) },
  ];
}
