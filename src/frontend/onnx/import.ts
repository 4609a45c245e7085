import { basename } from 'node:path';
import { badInput } from '../../errors.js';
import type { Model, SourceFormat } from '../../ir/types.js';
import type { InputData } from '../data.js';
import { readInputFile } from '../read-input-file.js';
import { applyGating } from '../../passes/apply-gating.js';
import type { GatingSidecar } from '../gating-sidecar.js';
import { calibrate } from './calibrate.js';
import { decodeModelProto, graphFromModel } from './decode.js';
import type { Graph } from './graph.js';
import { groupLayers } from './layers.js';
import { sidecarSpecs } from './gating.js';
import { lowerToIr } from './lower.js';
import { stripQdq, type AnnotatedGraph } from './qdq.js';
import { qoperatorToQdq } from './qoperator.js';
import { checkSupported } from './support.js';

export interface ImportOptions {
  /** Calibration inputs, required for fp32 models. */
  calib?: InputData;
  /** Gating from training (docs/gating.md), converted through BN folding and quantization. */
  gating?: GatingSidecar;
  /** Calibration progress (the float graph runs once per calibration input). */
  onProgress?: (done: number, total: number, phase: string) => void;
}

export interface Imported {
  model: Model;
  /** The float graph with quantization annotations, for the float reference executor. */
  graph: AnnotatedGraph;
}

const QOPERATOR_OPS = /^(QLinear|QGemm$|ConvInteger$|MatMulInteger$)/;

export async function readOnnxGraph(file: string): Promise<Graph> {
  return graphFromModel(decodeModelProto(await readInputFile(file), file), file);
}

function isQoperator(raw: Graph): boolean {
  return raw.nodes.some((n) => QOPERATOR_OPS.test(n.op));
}

/** Any ONNX flavour -> the float graph with quantization annotations, support-checked. */
export function annotatedGraph(raw: Graph): AnnotatedGraph {
  const g = stripQdq(isQoperator(raw) ? qoperatorToQdq(raw) : raw);
  checkSupported(g);
  return g;
}

/** ONNX (fp32, QDQ or QOperator) -> IR v1, through one annotated float graph. */
export function importGraph(raw: Graph, opts: ImportOptions = {}): Imported {
  const file = raw.file;
  const isQop = isQoperator(raw);
  const g = annotatedGraph(raw);
  const groups = groupLayers(g, g.quant);
  let format: SourceFormat = isQop ? 'qoperator' : 'qdq';
  if (g.quant.size === 0) {
    if (!opts.calib) {
      throw badInput(file, 'the model is fp32: quantizing it needs calibration data (pass --calib data.json)');
    }
    const want = [...g.input.shape];
    if (opts.calib.shape.join(',') !== want.join(',')) {
      throw badInput(opts.calib.file, `input shape [${opts.calib.shape.join(',')}] does not match model input [${want.join(',')}]`);
    }
    for (const [t, q] of calibrate(g, groups, opts.calib.inputs, opts.onProgress)) g.quant.set(t, q);
    format = 'fp32-ptq';
  }
  const name = basename(file).replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_]/g, '_');
  const { model, convScales } = lowerToIr(g, groups, name, format);
  if (!opts.gating) return { model, graph: g };
  return { model: applyGating(model, sidecarSpecs(opts.gating, g, model, convScales), opts.gating.file), graph: g };
}

export async function importOnnx(file: string, opts: ImportOptions = {}): Promise<Imported> {
  return importGraph(await readOnnxGraph(file), opts);
}
