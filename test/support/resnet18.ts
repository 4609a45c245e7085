import { OnnxGraphBuilder, type AttrValue } from './onnx-builder.js';
import { mulberry32, randomNormal } from './prng.js';

export interface Resnet18Options {
  height: number;
  width: number;
  classes?: number;
  seed?: number;
  format: 'fp32' | 'qdq';
}

/**
 * A ResNet-18 with seeded random weights, laid out the way PyTorch's exporter (fp32, BatchNorm
 * folded) or onnxruntime's quantize_static (QDQ, per-channel int8 weights, int8 activations)
 * writes it. Both formats share the same float weights for a given seed.
 */
export function makeResnet18(opts: Resnet18Options): Uint8Array {
  const seed = opts.seed ?? 1;
  const net = buildNetwork(opts.height, opts.width, opts.classes ?? 1000, seed);
  if (opts.format === 'fp32') return emitFp32(net);
  // A stream of its own, so the calibration inputs are not correlated with the weights.
  const rng = mulberry32(seed + 0x9e3779b9);
  const calibration = Array.from({ length: CALIBRATION_SAMPLES }, () =>
    randomInput(net.inputShape, rng),
  );
  return emitQdq(net, calibrate(net, calibration));
}

// ---------------------------------------------------------------------------------------------
// Network description

/** A ReLU that follows a layer; QDQ folds it into the layer's output quantization. */
interface Relu {
  node: string;
  output: string;
}

interface ConvLayer {
  kind: 'conv';
  node: string;
  input: string;
  /** Conv's own output tensor; the layer's result is `relu.output` when a ReLU follows. */
  convOutput: string;
  relu?: Relu;
  weightName: string;
  biasName: string;
  outC: number;
  inC: number;
  kernel: number;
  stride: number;
  pad: number;
  weight: Float32Array;
  bias: Float32Array;
}

interface AddLayer {
  kind: 'add';
  node: string;
  inputs: [string, string];
  addOutput: string;
  relu: Relu;
}

interface PassLayer {
  kind: 'maxpool' | 'gap' | 'flatten';
  node: string;
  input: string;
  output: string;
}

interface GemmLayer {
  kind: 'gemm';
  node: string;
  input: string;
  output: string;
  weightName: string;
  biasName: string;
  outF: number;
  inF: number;
  weight: Float32Array;
  bias: Float32Array;
}

type Layer = ConvLayer | AddLayer | PassLayer | GemmLayer;

interface Network {
  inputShape: [number, number, number, number];
  classes: number;
  layers: Layer[];
}

const INPUT = 'input';
const OUTPUT = 'output';

function layerOutput(layer: Layer): string {
  switch (layer.kind) {
    case 'conv':
      return layer.relu?.output ?? layer.convOutput;
    case 'add':
      return layer.relu.output;
    default:
      return layer.output;
  }
}

function buildNetwork(height: number, width: number, classes: number, seed: number): Network {
  const rng = mulberry32(seed);
  const layers: Layer[] = [];
  // Named like PyTorch's folded-BatchNorm parameters (weight n, bias n + 1, n + 2 skipped).
  let paramId = 100;

  const conv = (
    scope: string,
    input: string,
    inC: number,
    outC: number,
    kernel: number,
    stride: number,
    reluScope: string | undefined,
    gain: number,
  ): string => {
    const fanIn = inC * kernel * kernel;
    const weight = new Float32Array(outC * fanIn);
    const bias = new Float32Array(outC);
    for (let oc = 0; oc < outC; oc++) {
      // He-uniform (variance 2 / fan_in) times a per-channel factor, standing in for the spread of
      // folded BatchNorm gammas that gives per-channel quantization something to do. Uniform
      // rather than normal because drawing 11M normals dominates the build time.
      const bound = gain * (0.5 + rng()) * Math.sqrt(6 / fanIn);
      for (let i = 0; i < fanIn; i++) weight[oc * fanIn + i] = (2 * rng() - 1) * bound;
      bias[oc] = randomNormal(rng, 0, 0.05);
    }
    const layer: ConvLayer = {
      kind: 'conv',
      node: `${scope}/Conv`,
      input,
      convOutput: `${scope}/Conv_output_0`,
      weightName: `onnx::Conv_${paramId}`,
      biasName: `onnx::Conv_${paramId + 1}`,
      outC,
      inC,
      kernel,
      stride,
      pad: (kernel - 1) >> 1,
      weight,
      bias,
    };
    if (reluScope !== undefined) {
      layer.relu = { node: `${reluScope}/Relu`, output: `${reluScope}/Relu_output_0` };
    }
    paramId += 3;
    layers.push(layer);
    return layerOutput(layer);
  };

  let x = '/maxpool/MaxPool_output_0';
  layers.push({
    kind: 'maxpool',
    node: '/maxpool/MaxPool',
    input: conv('/conv1', INPUT, 3, 64, 7, 2, '/relu', 1),
    output: x,
  });

  let inC = 64;
  [64, 128, 256, 512].forEach((outC, stage) => {
    for (let block = 0; block < 2; block++) {
      const scope = `/layer${stage + 1}/layer${stage + 1}.${block}`;
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const h = conv(`${scope}/conv1`, x, inC, outC, 3, stride, `${scope}/relu`, 1);
      // Halving the residual branch keeps the sum's variance from doubling at every block.
      const branch = conv(`${scope}/conv2`, h, outC, outC, 3, 1, undefined, 0.5);
      const shortcut =
        stride !== 1 || inC !== outC
          ? conv(`${scope}/downsample/downsample.0`, x, inC, outC, 1, stride, undefined, 1)
          : x;
      const add: AddLayer = {
        kind: 'add',
        node: `${scope}/Add`,
        inputs: [shortcut, branch],
        addOutput: `${scope}/Add_output_0`,
        relu: { node: `${scope}/relu_1/Relu`, output: `${scope}/relu_1/Relu_output_0` },
      };
      layers.push(add);
      x = layerOutput(add);
      inC = outC;
    }
  });

  layers.push({
    kind: 'gap',
    node: '/avgpool/GlobalAveragePool',
    input: x,
    output: '/avgpool/GlobalAveragePool_output_0',
  });
  layers.push({
    kind: 'flatten',
    node: '/Flatten',
    input: '/avgpool/GlobalAveragePool_output_0',
    output: '/Flatten_output_0',
  });
  const fcWeight = new Float32Array(classes * inC);
  const fcBias = new Float32Array(classes);
  const fcBound = Math.sqrt(3 / inC);
  for (let i = 0; i < fcWeight.length; i++) fcWeight[i] = (2 * rng() - 1) * fcBound;
  for (let i = 0; i < classes; i++) fcBias[i] = randomNormal(rng, 0, 0.05);
  layers.push({
    kind: 'gemm',
    node: '/fc/Gemm',
    input: '/Flatten_output_0',
    output: OUTPUT,
    weightName: 'fc.weight',
    biasName: 'fc.bias',
    outF: classes,
    inF: inC,
    weight: fcWeight,
    bias: fcBias,
  });

  return { inputShape: [1, 3, height, width], classes, layers };
}

// ---------------------------------------------------------------------------------------------
// fp32 model

function convAttrs(layer: ConvLayer): Record<string, AttrValue> {
  return {
    dilations: [1, 1],
    group: 1,
    kernel_shape: [layer.kernel, layer.kernel],
    pads: [layer.pad, layer.pad, layer.pad, layer.pad],
    strides: [layer.stride, layer.stride],
  };
}

const MAXPOOL_ATTRS: Record<string, AttrValue> = {
  ceil_mode: 0,
  dilations: [1, 1],
  kernel_shape: [3, 3],
  pads: [1, 1, 1, 1],
  strides: [2, 2],
};

// alpha and beta are integral, so they need explicit kinds to stay FLOAT.
const GEMM_ATTRS: Record<string, AttrValue> = {
  alpha: { kind: 'float', value: 1 },
  beta: { kind: 'float', value: 1 },
  transB: 1,
};

function emitFp32(net: Network): Uint8Array {
  const g = new OnnxGraphBuilder({ producer: 'pytorch' });
  g.input(INPUT, net.inputShape);
  for (const layer of net.layers) {
    switch (layer.kind) {
      case 'conv':
        g.initializer(layer.weightName, convDims(layer), layer.weight);
        g.initializer(layer.biasName, [layer.outC], layer.bias);
        g.node(
          'Conv',
          [layer.input, layer.weightName, layer.biasName],
          [layer.convOutput],
          convAttrs(layer),
          { name: layer.node },
        );
        if (layer.relu) {
          g.node('Relu', [layer.convOutput], [layer.relu.output], {}, { name: layer.relu.node });
        }
        break;
      case 'add':
        g.node('Add', layer.inputs, [layer.addOutput], {}, { name: layer.node });
        g.node('Relu', [layer.addOutput], [layer.relu.output], {}, { name: layer.relu.node });
        break;
      case 'maxpool':
        g.node('MaxPool', [layer.input], [layer.output], MAXPOOL_ATTRS, { name: layer.node });
        break;
      case 'gap':
        g.node('GlobalAveragePool', [layer.input], [layer.output], {}, { name: layer.node });
        break;
      case 'flatten':
        g.node('Flatten', [layer.input], [layer.output], { axis: 1 }, { name: layer.node });
        break;
      case 'gemm':
        g.initializer(layer.weightName, [layer.outF, layer.inF], layer.weight);
        g.initializer(layer.biasName, [layer.outF], layer.bias);
        g.node(
          'Gemm',
          [layer.input, layer.weightName, layer.biasName],
          [layer.output],
          GEMM_ATTRS,
          { name: layer.node },
        );
        break;
    }
  }
  g.output(OUTPUT, [1, net.classes]);
  return g.toBytes();
}

function convDims(layer: ConvLayer): number[] {
  return [layer.outC, layer.inC, layer.kernel, layer.kernel];
}

// ---------------------------------------------------------------------------------------------
// Calibration: float forward passes recording each tensor's range, as a MinMax calibrator would.
// The kernels index typed arrays with indices in range by construction, hence the `!`s.

// Logit ranges vary from input to input; one sample would clip the top logits of most others.
const CALIBRATION_SAMPLES = 4;

interface FeatureMap {
  c: number;
  h: number;
  w: number;
  data: Float32Array;
}

interface Range {
  min: number;
  max: number;
}

function randomInput(shape: Network['inputShape'], rng: () => number): FeatureMap {
  const [, c, h, w] = shape;
  const data = new Float32Array(c * h * w);
  for (let i = 0; i < data.length; i++) data[i] = rng();
  return { c, h, w, data };
}

function calibrate(net: Network, inputs: FeatureMap[]): Map<string, Range> {
  const ranges = new Map<string, Range>();
  for (const input of inputs) {
    for (const [name, value] of forward(net, input)) {
      const range = ranges.get(name) ?? { min: Infinity, max: -Infinity };
      for (const v of value.data) {
        range.min = Math.min(range.min, v);
        range.max = Math.max(range.max, v);
      }
      ranges.set(name, range);
    }
  }
  return ranges;
}

/** Every tensor of the float network, by name. */
function forward(net: Network, input: FeatureMap): Map<string, FeatureMap> {
  const values = new Map<string, FeatureMap>([[INPUT, input]]);
  const get = (name: string): FeatureMap => {
    const value = values.get(name);
    if (value === undefined) throw new Error(`resnet18: '${name}' used before it is computed`);
    return value;
  };
  for (const layer of net.layers) {
    let out: FeatureMap;
    switch (layer.kind) {
      case 'conv':
        out = conv2d(get(layer.input), layer);
        if (layer.relu) out = relu(out);
        break;
      case 'add':
        out = relu(add(get(layer.inputs[0]), get(layer.inputs[1])));
        break;
      case 'maxpool':
        out = maxPool3x3s2(get(layer.input));
        break;
      case 'gap':
        out = globalAveragePool(get(layer.input));
        break;
      case 'flatten':
        out = get(layer.input);
        break;
      case 'gemm':
        out = gemm(get(layer.input), layer);
        break;
    }
    values.set(layerOutput(layer), out);
  }
  return values;
}

function convOutSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

function conv2d(x: FeatureMap, layer: ConvLayer): FeatureMap {
  const { outC, inC, kernel: k, stride, pad, weight } = layer;
  const oh = convOutSize(x.h, k, stride, pad);
  const ow = convOutSize(x.w, k, stride, pad);
  const out = new Float32Array(outC * oh * ow);
  // Gathering each receptive field into a contiguous patch (zeros where it overhangs the padding)
  // turns every output value into a branch-free dot product with one weight row: fast enough to
  // calibrate 224x224 inputs.
  const patchLen = inC * k * k;
  const patch = new Float32Array(patchLen);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      let p = 0;
      for (let ic = 0; ic < inC; ic++) {
        for (let ky = 0; ky < k; ky++) {
          const iy = oy * stride - pad + ky;
          for (let kx = 0; kx < k; kx++) {
            const ix = ox * stride - pad + kx;
            const inside = iy >= 0 && iy < x.h && ix >= 0 && ix < x.w;
            patch[p++] = inside ? x.data[(ic * x.h + iy) * x.w + ix]! : 0;
          }
        }
      }
      for (let oc = 0; oc < outC; oc++) {
        let sum = layer.bias[oc]!;
        const row = oc * patchLen;
        for (let i = 0; i < patchLen; i++) sum += weight[row + i]! * patch[i]!;
        out[(oc * oh + oy) * ow + ox] = sum;
      }
    }
  }
  return { c: outC, h: oh, w: ow, data: out };
}

function relu(x: FeatureMap): FeatureMap {
  return { ...x, data: x.data.map((v) => Math.max(v, 0)) };
}

function add(a: FeatureMap, b: FeatureMap): FeatureMap {
  return { ...a, data: a.data.map((v, i) => v + b.data[i]!) };
}

function maxPool3x3s2(x: FeatureMap): FeatureMap {
  const oh = convOutSize(x.h, 3, 2, 1);
  const ow = convOutSize(x.w, 3, 2, 1);
  const out = new Float32Array(x.c * oh * ow);
  for (let c = 0; c < x.c; c++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let best = -Infinity;
        for (let iy = Math.max(oy * 2 - 1, 0); iy < Math.min(oy * 2 + 2, x.h); iy++) {
          for (let ix = Math.max(ox * 2 - 1, 0); ix < Math.min(ox * 2 + 2, x.w); ix++) {
            best = Math.max(best, x.data[(c * x.h + iy) * x.w + ix]!);
          }
        }
        out[(c * oh + oy) * ow + ox] = best;
      }
    }
  }
  return { c: x.c, h: oh, w: ow, data: out };
}

function globalAveragePool(x: FeatureMap): FeatureMap {
  const plane = x.h * x.w;
  const out = new Float32Array(x.c);
  for (let c = 0; c < x.c; c++) {
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += x.data[c * plane + i]!;
    out[c] = sum / plane;
  }
  return { c: x.c, h: 1, w: 1, data: out };
}

function gemm(x: FeatureMap, layer: GemmLayer): FeatureMap {
  const out = new Float32Array(layer.outF);
  for (let o = 0; o < layer.outF; o++) {
    let sum = layer.bias[o]!;
    for (let i = 0; i < layer.inF; i++) sum += layer.weight[o * layer.inF + i]! * x.data[i]!;
    out[o] = sum;
  }
  return { c: layer.outF, h: 1, w: 1, data: out };
}

// ---------------------------------------------------------------------------------------------
// QDQ model, following onnxruntime's quantize_static numerics and naming.

interface QParams {
  scaleName: string;
  zeroPointName: string;
  scale: number;
}

function emitQdq(net: Network, ranges: Map<string, Range>): Uint8Array {
  const g = new OnnxGraphBuilder({ producer: 'onnx.quantize' });
  const qparams = new Map<string, QParams>();
  const dequantized = new Map<string, string>();

  const paramsOf = (tensor: string): QParams => {
    const params = qparams.get(tensor);
    if (params === undefined) throw new Error(`resnet18: '${tensor}' has no quantization params`);
    return params;
  };
  const dequantizedOf = (tensor: string): string => {
    const name = dequantized.get(tensor);
    if (name === undefined) throw new Error(`resnet18: '${tensor}' is not quantized`);
    return name;
  };

  // Q -> DQ on float tensor `tensor`, read from `from` when the producer had to write it under
  // another name. Pass-through ops (MaxPool, Flatten) keep the parameters of `reuseParamsOf`, their
  // input, so nothing is requantized across them.
  const quantizeActivation = (
    tensor: string,
    { from = tensor, reuseParamsOf }: { from?: string; reuseParamsOf?: string } = {},
  ): void => {
    let params: QParams;
    if (reuseParamsOf !== undefined) {
      params = paramsOf(reuseParamsOf);
    } else {
      const { scale, zeroPoint } = activationQParams(rangeOf(ranges, tensor));
      params = { scaleName: `${tensor}_scale`, zeroPointName: `${tensor}_zero_point`, scale };
      g.scalar(params.scaleName, scale, 'float');
      g.scalar(params.zeroPointName, zeroPoint, 'int8');
    }
    qparams.set(tensor, params);
    const quantized = `${tensor}_QuantizeLinear_Output`;
    const output = tensor === OUTPUT ? OUTPUT : `${tensor}_DequantizeLinear_Output`;
    const { scaleName, zeroPointName } = params;
    g.node('QuantizeLinear', [from, scaleName, zeroPointName], [quantized], {}, {
      name: `${tensor}_QuantizeLinear`,
    });
    g.node('DequantizeLinear', [quantized, scaleName, zeroPointName], [output], {}, {
      name: `${tensor}_DequantizeLinear`,
    });
    dequantized.set(tensor, output);
  };

  // Per-output-channel int8 weight and int32 bias at scale input_scale * weight_scale.
  const quantizeParams = (
    weightName: string,
    weightDims: number[],
    weight: Float32Array,
    biasName: string,
    bias: Float32Array,
    inputScale: number,
  ): [string, string] => {
    const channels = weightDims[0]!;
    const { q, scales } = quantizeWeightPerChannel(weight, channels);
    g.initializer(`${weightName}_quantized`, weightDims, q);
    g.initializer(`${weightName}_scale`, [channels], scales);
    g.initializer(`${weightName}_zero_point`, [channels], new Int8Array(channels));
    const weightOut = `${weightName}_DequantizeLinear_Output`;
    g.node(
      'DequantizeLinear',
      [`${weightName}_quantized`, `${weightName}_scale`, `${weightName}_zero_point`],
      [weightOut],
      { axis: 0 },
      { name: `${weightName}_DequantizeLinear` },
    );

    const biasScales = scales.map((s) => Math.fround(inputScale * s));
    g.initializer(`${biasName}_quantized`, [channels], quantizeBias(bias, biasScales));
    g.initializer(`${biasName}_quantized_scale`, [channels], biasScales);
    g.initializer(`${biasName}_quantized_zero_point`, [channels], new Int32Array(channels));
    g.node(
      'DequantizeLinear',
      [`${biasName}_quantized`, `${biasName}_quantized_scale`, `${biasName}_quantized_zero_point`],
      [biasName],
      { axis: 0 },
      { name: `${biasName}_DequantizeLinear` },
    );
    return [weightOut, biasName];
  };

  g.input(INPUT, net.inputShape);
  quantizeActivation(INPUT);
  for (const layer of net.layers) {
    const output = layerOutput(layer);
    switch (layer.kind) {
      case 'conv': {
        const [w, b] = quantizeParams(
          layer.weightName,
          convDims(layer),
          layer.weight,
          layer.biasName,
          layer.bias,
          paramsOf(layer.input).scale,
        );
        const input = dequantizedOf(layer.input);
        g.node('Conv', [input, w, b], [output], convAttrs(layer), { name: layer.node });
        quantizeActivation(output);
        break;
      }
      case 'add':
        g.node('Add', layer.inputs.map(dequantizedOf), [output], {}, { name: layer.node });
        quantizeActivation(output);
        break;
      case 'maxpool':
        g.node('MaxPool', [dequantizedOf(layer.input)], [output], MAXPOOL_ATTRS, {
          name: layer.node,
        });
        quantizeActivation(output, { reuseParamsOf: layer.input });
        break;
      case 'gap':
        g.node('GlobalAveragePool', [dequantizedOf(layer.input)], [output], {}, {
          name: layer.node,
        });
        quantizeActivation(output);
        break;
      case 'flatten':
        g.node('Flatten', [dequantizedOf(layer.input)], [output], { axis: 1 }, {
          name: layer.node,
        });
        quantizeActivation(output, { reuseParamsOf: layer.input });
        break;
      case 'gemm': {
        const [w, b] = quantizeParams(
          layer.weightName,
          [layer.outF, layer.inF],
          layer.weight,
          layer.biasName,
          layer.bias,
          paramsOf(layer.input).scale,
        );
        // The graph output name belongs to the final DQ, so the float Gemm result is renamed.
        const gemmOut = `${output}_QuantizeLinear_Input`;
        const input = dequantizedOf(layer.input);
        g.node('Gemm', [input, w, b], [gemmOut], GEMM_ATTRS, { name: layer.node });
        quantizeActivation(output, { from: gemmOut });
        break;
      }
    }
  }
  g.output(OUTPUT, [1, net.classes]);
  return g.toBytes();
}

function rangeOf(ranges: Map<string, Range>, tensor: string): Range {
  const range = ranges.get(tensor);
  if (range === undefined) throw new Error(`resnet18: no calibration range for '${tensor}'`);
  return range;
}

/** onnxruntime's asymmetric int8 activation parameters; the range always includes 0. */
function activationQParams(range: Range): { scale: number; zeroPoint: number } {
  const rmin = Math.min(range.min, 0);
  const rmax = Math.max(range.max, 0);
  const scale = Math.fround((rmax - rmin) / 255);
  return { scale, zeroPoint: roundHalfEven(-128 - rmin / scale) };
}

/** Symmetric per-channel int8 in [-127, 127] with scale max|w| / 127 (float32), as onnxruntime. */
function quantizeWeightPerChannel(
  weight: Float32Array,
  channels: number,
): { q: Int8Array; scales: Float32Array } {
  const perChannel = weight.length / channels;
  const q = new Int8Array(weight.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const slice = weight.subarray(c * perChannel, (c + 1) * perChannel);
    const absMax = slice.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const scale = Math.fround(absMax / 127);
    scales[c] = scale;
    slice.forEach((v, i) => {
      const rounded = roundHalfEven(Math.fround(v / scale));
      q[c * perChannel + i] = Math.min(127, Math.max(-127, rounded));
    });
  }
  return { q, scales };
}

function quantizeBias(bias: Float32Array, scales: Float32Array): Int32Array {
  return Int32Array.from(bias, (b, c) => roundHalfEven(Math.fround(b / scales[c]!)));
}

/** numpy's rounding, which onnxruntime's quantizer uses. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const frac = x - floor;
  if (frac !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}
