import { createRequire } from 'node:module';
import type { onnx as OnnxNs } from 'onnx-proto';

/** onnx-proto is CommonJS; load it once and re-export its namespace with types. */
const require = createRequire(import.meta.url);
export const onnx: typeof OnnxNs = (require('onnx-proto') as { onnx: typeof OnnxNs }).onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';
