import { expect } from 'vitest';
import { compileEngine, type EngineCompilation } from '../../generator/engine/build.js';
import type { Tiling } from '../../generator/engine/program.js';
import type { EngineConfig } from '../../generator/engine/config.js';
import { packTensor, physicalOf, unpackTensor } from '../../generator/engine/layout.js';
import { EXIT_UNSUPPORTED, GatecError } from '../../src/errors.js';
import { quantizeInput, runGolden } from '../../src/golden/run.js';
import { inferOutputShape } from '../../src/ir/shapes.js';
import type { Clamp, ConvLayer, Layer, Model, Requant, TensorInfo } from '../../src/ir/types.js';
import { validateModel } from '../../src/ir/validate.js';
import { interpret } from './engine-interp.js';
import { mulberry32 } from './prng.js';

/**
 * Small IR models built in memory (random int8 weights, plausible requantization), and a
 * runner that executes a compiled engine program in the reference interpreter.
 */
export class IrBuilder {
  private readonly rng: () => number;
  private readonly tensors: TensorInfo[] = [];
  private readonly layers: Layer[] = [];
  readonly input: string;

  constructor(
    private readonly name: string,
    inputShape: number[],
    seed = 1,
  ) {
    this.rng = mulberry32(seed);
    this.input = this.tensor('input', inputShape);
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rng() * (hi - lo + 1));
  }

  private tensor(name: string, shape: number[]): string {
    this.tensors.push({ name, shape, quant: { scale: 0.02 + this.rng() * 0.05, zeroPoint: this.int(-128, 30) } });
    return name;
  }

  shapeOf(name: string): number[] {
    return this.tensors.find((t) => t.name === name)!.shape;
  }

  /** Annotates a tensor for zero-block skipping. */
  zeroBlock(name: string, block: [number, number, number], epsilon = 0): string {
    this.tensors.find((t) => t.name === name)!.zeroBlock = { block, epsilon };
    return name;
  }

  private zeroPoint(name: string): number {
    return this.tensors.find((t) => t.name === name)!.quant.zeroPoint;
  }

  /** A multiplier in [2^14, 2^15) and a shift that keeps results of an accumulator of typical size `acc` near +-60. */
  private requant(n: number, acc: number): Requant {
    const shift = Math.max(1, Math.round(14.5 + Math.log2(Math.max(1, acc) / 60)));
    return {
      multiplier: Int32Array.from({ length: n }, () => this.int(1 << 14, (1 << 15) - 1)),
      shift: Int32Array.from({ length: n }, () => shift),
    };
  }

  private clamp(): Clamp {
    return this.rng() < 0.5 ? [-128, 127] : [this.int(-128, -100), 127];
  }

  private push(layer: Layer): string {
    const inputs = layer.inputs.map((i) => this.shapeOf(i));
    const shape = layer.op === 'reshape' ? [inputs[0]!.reduce((a, b) => a * b, 1)] : inferOutputShape(layer, inputs);
    if (typeof shape === 'string') throw new Error(`${layer.name}: ${shape}`);
    this.tensor(layer.output, shape);
    this.layers.push(layer);
    return layer.output;
  }

  private bytes(n: number): Int8Array {
    return Int8Array.from({ length: n }, () => this.int(-127, 127));
  }

  /**
   * relu: the clamp starts at the output's zero point; bias: the range biases are drawn from
   * (negative ones make a ReLU conv over an all-zero window output exact zeros).
   */
  conv(
    x: string,
    o: { co: number; k: number | [number, number]; s?: number | [number, number]; p?: [number, number, number, number] | number; groups?: number; relu?: boolean; bias?: [number, number] },
  ): string {
    const ci = this.shapeOf(x)[0]!;
    const [kh, kw] = typeof o.k === 'number' ? [o.k, o.k] : o.k;
    const stride: [number, number] = typeof o.s === 'object' ? o.s : [o.s ?? 1, o.s ?? 1];
    const p = o.p ?? 0;
    const pads: [number, number, number, number] = typeof p === 'number' ? [p, p, p, p] : p;
    const groups = o.groups ?? 1;
    const fanIn = (ci / groups) * kh * kw;
    const n = this.layers.length;
    const [blo, bhi] = o.bias ?? [-3000, 3000];
    const layer: ConvLayer = {
      op: 'conv',
      name: `conv${n}`,
      inputs: [x],
      output: `t${n}`,
      kernel: [kh, kw],
      stride,
      pads,
      groups,
      weights: this.bytes(o.co * fanIn),
      bias: Int32Array.from({ length: o.co }, () => this.int(blo, bhi)),
      requant: this.requant(o.co, 3000 * Math.sqrt(fanIn)),
      clamp: this.clamp(),
    };
    const out = this.push(layer);
    if (o.relu) layer.clamp = [this.zeroPoint(out), 127];
    return out;
  }

  fc(x: string, co: number): string {
    const ci = this.shapeOf(x).reduce((a, b) => a * b, 1);
    const n = this.layers.length;
    return this.push({
      op: 'fc',
      name: `fc${n}`,
      inputs: [x],
      output: `t${n}`,
      weights: this.bytes(co * ci),
      bias: Int32Array.from({ length: co }, () => this.int(-3000, 3000)),
      requant: this.requant(co, 3000 * Math.sqrt(ci)),
      clamp: this.clamp(),
    });
  }

  pool(x: string, op: 'maxpool' | 'avgpool', k: number, s: number, p = 0): string {
    const n = this.layers.length;
    return this.push({
      op,
      name: `${op}${n}`,
      inputs: [x],
      output: `t${n}`,
      kernel: [k, k],
      stride: [s, s],
      pads: [p, p, p, p],
      requant: this.requant(1, op === 'maxpool' ? 60 : 60 * k * k),
      clamp: [-128, 127],
    });
  }

  gap(x: string): string {
    const [, h, w] = this.shapeOf(x) as [number, number, number];
    const n = this.layers.length;
    return this.push({ op: 'globalavgpool', name: `gap${n}`, inputs: [x], output: `t${n}`, requant: this.requant(1, 60 * h * w), clamp: [-128, 127] });
  }

  add(a: string, b: string): string {
    const n = this.layers.length;
    const r = this.requant(2, 60);
    return this.push({ op: 'add', name: `add${n}`, inputs: [a, b], output: `t${n}`, requant: { multiplier: r.multiplier, shift: r.shift.subarray(0, 1) }, clamp: this.clamp() });
  }

  flatten(x: string): string {
    const n = this.layers.length;
    return this.push({ op: 'reshape', name: `flatten${n}`, inputs: [x], output: `t${n}` });
  }

  concat(xs: string[]): string {
    const n = this.layers.length;
    return this.push({ op: 'concat', name: `concat${n}`, inputs: xs, output: `t${n}`, requant: this.requant(xs.length, 60), clamp: [-128, 127] });
  }

  build(outputs: string[]): Model {
    const m: Model = {
      format: 'gatec-ir',
      version: 1,
      name: this.name,
      source: { file: `${this.name}.gir.json`, format: 'ir' },
      inputs: [this.input],
      outputs,
      tensors: this.tensors,
      layers: this.layers,
    };
    validateModel(m, m.source.file);
    return m;
  }
}

export interface EngineRun {
  compilation: EngineCompilation;
  outputs: Int8Array[];
  golden: Int8Array[];
  hazards: string[];
  /** DRAM bytes per layer tag the interpreter moved (every beat, bitmap rows included) */
  bytes: Map<number, { read: number; write: number }>;
  /** every region's values after the run (views left out), as read back from DRAM */
  tensors: Map<string, Int8Array>;
  /** the golden model's tensors */
  goldenTensors: Map<string, Int8Array>;
  dram: Uint8Array;
}

/** Compiles, runs one sample in the reference interpreter and in the golden model. */
export function runOnEngine(model: Model, config: EngineConfig, input: ArrayLike<number>, tiling?: Tiling): EngineRun {
  const compilation = compileEngine(model, config, model.source.file, tiling);
  const { map } = compilation;
  const L = config.peIc;
  const byName = new Map(map.tensors.map((t) => [t.name, t]));
  const dram = new Uint8Array(map.dramBytes);
  dram.set(compilation.image);
  const info = model.tensors.find((t) => t.name === map.input)!;
  const region = physicalOf(byName, map.input);
  dram.set(packTensor(region, L, quantizeInput(info, input)), region.addr);
  const { hazards, bytes } = interpret(config, dram, map.program.addr, map.program.count);
  const read = (name: string): Int8Array => {
    const r = physicalOf(byName, name);
    return unpackTensor(r, L, dram.subarray(r.addr, r.addr + r.bytes));
  };
  const outputs = map.outputs.map(read);
  const tensors = new Map(map.tensors.filter((t) => t.viewOf === undefined).map((t) => [t.name, read(t.name)]));
  const golden = runGolden(model, input);
  return {
    compilation,
    outputs,
    golden: golden.outputsInt,
    hazards,
    bytes,
    tensors,
    goldenTensors: new Map([...golden.tensors].map(([k, v]) => [k, v.data])),
    dram,
  };
}

/** Float inputs in [0, 1) for a model's input shape. */
export function randomInput(model: Model, seed = 7): Float32Array {
  const rng = mulberry32(seed);
  const shape = model.tensors.find((t) => t.name === model.inputs[0])!.shape;
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng());
}

/** Compiling `model` for `config` must fail as an unsupported feature (exit 2) with `message`. */
export function expectUnsupported(model: Model, config: EngineConfig, message: RegExp): void {
  let error: unknown;
  try {
    compileEngine(model, config);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GatecError);
  expect((error as GatecError).exitCode).toBe(EXIT_UNSUPPORTED);
  expect((error as GatecError).message).toMatch(message);
}
