import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEngine, compileEngine, engineFiles, TEMPLATES_DIR, verilogName } from '../generator/engine/build.js';
import { DEFAULT_ENGINE_CONFIG } from '../generator/engine/config.js';
import { encodeProgram } from '../generator/engine/isa.js';
import { EXIT_BAD_INPUT, EXIT_UNSUPPORTED, GatecError } from '../src/errors.js';
import { importOnnx } from '../src/frontend/onnx/import.js';
import { loadModel } from '../src/frontend/load.js';
import type { Model } from '../src/ir/types.js';
import { sharedModel } from './fixtures.js';
import { makeResnet18 } from './support/resnet18.js';

const dir = mkdtempSync(join(tmpdir(), 'gatec-engine-build-'));
const config = { ...DEFAULT_ENGINE_CONFIG };

/** Every file under a directory, relative path -> bytes. */
function tree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

let model: Model;
beforeAll(async () => {
  model = await loadModel(sharedModel('tinyres_qdq'));
});

describe('gatec build output directory', () => {
  it('is byte-identical when built twice', async () => {
    const a = join(dir, 'a', 'tiny_res');
    const b = join(dir, 'b', 'tiny_res');
    await buildEngine(model, config, a);
    await buildEngine(await loadModel(sharedModel('tinyres_qdq')), config, b);
    const ta = tree(a);
    const tb = tree(b);
    expect([...tb.keys()]).toEqual([...ta.keys()]);
    for (const [k, v] of ta) expect(tb.get(k)!.equals(v), k).toBe(true);
  });

  it('holds the files of docs/engine.md', async () => {
    const out = join(dir, 'layout', 'my-net.v2');
    const { name, compilation: comp } = await buildEngine(model, config, out);
    expect(name).toBe('my_net_v2');
    const files = [...tree(out).keys()];
    const engineSv = readdirSync(join(TEMPLATES_DIR, 'rtl', 'engine')).filter((f) => f.endsWith('.sv'));
    expect(engineSv.length).toBeGreaterThan(0);
    for (const f of engineSv) expect(readFileSync(join(out, 'rtl', f), 'utf8')).toBe(readFileSync(join(TEMPLATES_DIR, 'rtl', 'engine', f), 'utf8'));
    expect(files).toEqual(
      expect.arrayContaining(['rtl/my_net_v2_top.sv', 'tb/harness.cpp', 'mem/dram.bin', 'mem/map.json', 'files.f', 'my_net_v2.core', 'synth.ys', 'report.json', 'model.gir.json']),
    );
    expect(readFileSync(join(out, 'tb', 'harness.cpp'), 'utf8')).toBe(readFileSync(join(TEMPLATES_DIR, 'tb', 'engine', 'harness.cpp'), 'utf8'));

    // The top: rendered with the configuration.
    const top = readFileSync(join(out, 'rtl', 'my_net_v2_top.sv'), 'utf8');
    expect(top).toMatch(/module my_net_v2_top\b/);
    expect(top).toMatch(/\.PeOc\s*\(8\)/);
    expect(top).toMatch(/\.InBufBytes\s*\(65536\)/);

    // files.f, .core and synth.ys name every RTL file, the top last.
    const rtl = [...engineSv.map((f) => `rtl/${f}`).sort(), 'rtl/my_net_v2_top.sv'];
    expect(readFileSync(join(out, 'files.f'), 'utf8')).toBe(rtl.map((f) => `${f}\n`).join(''));
    const core = readFileSync(join(out, 'my_net_v2.core'), 'utf8');
    expect(core.startsWith('CAPI=2:\n')).toBe(true);
    expect(core).toContain('name: gatec:engine:my_net_v2:0.1.0');
    for (const f of rtl) expect(core).toContain(`      - ${f}\n`);
    expect(core).toMatch(/tb:\n    files:\n      - tb\/harness.cpp\n    file_type: cppSource/);
    for (const target of ['default', 'sim', 'synth']) expect(core).toMatch(new RegExp(`\\n  ${target}:\\n`));
    expect(core).toMatch(/sim:\n    default_tool: verilator/);
    expect(core).toMatch(/synth:\n    default_tool: yosys/);
    const ys = readFileSync(join(out, 'synth.ys'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(ys).toEqual([...rtl.map((f) => `read_verilog -sv ${f}`), 'synth_xilinx -top my_net_v2_top', 'tee -o synth-stat.txt stat']);

    // mem/: the program at 0, then weights and params; map.json exactly as specified.
    const image = readFileSync(join(out, 'mem', 'dram.bin'));
    expect(Buffer.from(encodeProgram(comp.program, () => '')).equals(image.subarray(0, comp.program.length * 64))).toBe(true);
    expect(image.length).toBe(comp.image.length);
    const map = JSON.parse(readFileSync(join(out, 'mem', 'map.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(map)).toEqual(['format', 'version', 'config', 'dramBytes', 'program', 'input', 'outputs', 'tensors']);
    expect(map).toMatchObject({ format: 'gatec-engine-map', version: 1, config, program: { addr: 0, count: comp.program.length }, input: 'input', outputs: model.outputs });
    const tensors = map['tensors'] as { name: string; addr: number; bytes: number; viewOf?: string }[];
    expect(tensors.map((t) => t.name)).toEqual(['input', ...model.layers.map((l) => l.output)]);
    for (const t of tensors) {
      expect(Object.keys(t)).toEqual(['name', 'addr', 'shape', 'ncg', 'pitch', 'bytes', 'zeroPoint', ...(t.viewOf ? ['viewOf'] : [])]);
      expect(t.addr).toBeGreaterThanOrEqual(image.length);
      expect(t.addr + t.bytes).toBeLessThanOrEqual(map['dramBytes'] as number);
    }
    expect(tensors.filter((t) => t.viewOf).map((t) => t.name)).toEqual(['/9/Flatten_output_0']);

    // report.json: per layer and totals that add up.
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as typeof comp.report;
    expect(Object.keys(report)).toEqual(['model', 'config', 'layers', 'totals', 'program', 'dram', 'resources']);
    expect(report.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
    for (const l of report.layers) expect(Object.keys(l)).toEqual(['name', 'op', 'tag', 'macs', 'cycles', 'dramRead', 'dramWrite']);
    expect(report.totals.cycles).toBe(report.layers.reduce((a, l) => a + l.cycles, 0));
    expect(report.totals.dramRead).toBe(report.layers.reduce((a, l) => a + l.dramRead, 0));
    expect(report.totals.macs).toBe(592192);
    expect(report.program).toEqual({ instructions: comp.program.length, bytes: 64 * comp.program.length });
    expect(report.dram.bytes).toBe(map['dramBytes']);
  });

  it('replaces an earlier build, but no other directory', async () => {
    const out = join(dir, 'again');
    await buildEngine(model, config, out);
    writeFileSync(join(out, 'stale.txt'), 'left over');
    await buildEngine(model, config, out);
    expect(existsSync(join(out, 'stale.txt'))).toBe(false);
    const other = join(dir, 'precious');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    const error = await buildEngine(model, config, other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatecError);
    expect((error as GatecError).exitCode).toBe(EXIT_BAD_INPUT);
    expect((error as GatecError).message).toBe(`${other}: exists and is not a gatec build output; refusing to replace it`);
    expect(readFileSync(join(other, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('derives the top module name from the output directory', () => {
    expect(verilogName('hw-out/tinyres')).toBe('tinyres');
    expect(verilogName('hw-out/my-net.v2/')).toBe('my_net_v2');
    expect(verilogName('hw-out/8bit')).toBe('gatec_8bit');
    expect(verilogName('hw-out/---')).toBe('gatec_engine');
  });
});

describe('ResNet-18-shaped model', () => {
  let resnet: Model;
  beforeAll(async () => {
    const file = join(dir, 'resnet18_64.onnx');
    writeFileSync(file, makeResnet18({ height: 64, width: 64, format: 'qdq', seed: 1 }));
    resnet = (await importOnnx(file)).model;
  });

  it('needs a weight buffer that holds two 3x3x512 groups (64 KiB does not), and says so', () => {
    let error: unknown;
    try {
      compileEngine(resnet, { ...config, wBufBytes: 64 * 1024 });
    } catch (e) {
      error = e;
    }
    expect((error as GatecError).exitCode).toBe(EXIT_UNSUPPORTED);
    expect((error as GatecError).message).toMatch(/layer '\/layer4\/layer4\.0\/conv2\/Conv' \(conv\): one group of 8 output channels needs 36864 bytes .*--w-buf 65536; it needs at least 73728/);
  });

  it('compiles and renders every file in well under 2 s, deterministically', () => {
    const c = { ...config, wBufBytes: 128 * 1024 };
    const t0 = performance.now();
    const comp = compileEngine(resnet, c);
    const files = engineFiles(comp, resnet, 'resnet18');
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1000);
    expect(comp.report.totals.macs).toBeGreaterThan(1e8);
    const again = engineFiles(compileEngine(resnet, c), resnet, 'resnet18');
    expect(again.map((f) => f.path)).toEqual(files.map((f) => f.path));
    again.forEach((f, k) => expect(Buffer.from(f.data).equals(Buffer.from(files[k]!.data)), f.path).toBe(true));
  });
});
