import { badInput } from '../../src/errors.js';
import type { Model } from '../../src/ir/types.js';

/**
 * Reuse factors of the spatial architecture (docs/spatial.md, "Reuse factor"): how many weights
 * of one output channel each multiplier serves in turn. `default` applies to every conv/fc layer
 * not named in `perLayer` (keys are IR layer names). 1 is fully parallel.
 */
export interface ReuseConfig {
  default: number;
  perLayer?: Readonly<Record<string, number>>;
}

export const DEFAULT_REUSE: ReuseConfig = { default: 1 };

/** The reuse factor asked for a layer, before clipping to the layer's taps per output. */
export function reuseOf(reuse: ReuseConfig, layerName: string): number {
  return reuse.perLayer?.[layerName] ?? reuse.default;
}

function checkFactor(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65536) {
    throw badInput(where, `reuse factor must be an integer in 1..65536, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * `--reuse N` and `--reuse-per-layer file` (the file's JSON: `{"<layer>": R, ...}`, or
 * `{"default": R, "layers": {"<layer>": R}}`). Unknown layer names are an error, so a typo
 * does not silently leave a layer fully parallel.
 */
export function reuseFromCli(model: Model, reuseText: string | undefined, file: string | undefined, json: unknown): ReuseConfig {
  const dflt = reuseText === undefined ? 1 : checkFactor('--reuse', Number(reuseText.trim() === '' ? NaN : reuseText));
  if (file === undefined) return { default: dflt };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badInput(file, 'expected a JSON object of layer names to reuse factors');
  const obj = json as Record<string, unknown>;
  let table: Record<string, unknown> = obj;
  let d = dflt;
  if ('layers' in obj) {
    if (typeof obj['layers'] !== 'object' || obj['layers'] === null) throw badInput(file, "'layers' must be an object of layer names to reuse factors");
    table = obj['layers'] as Record<string, unknown>;
    if ('default' in obj) d = checkFactor(`${file}: default`, obj['default']);
  }
  const names = new Set(model.layers.filter((l) => l.op === 'conv' || l.op === 'fc').map((l) => l.name));
  const perLayer: Record<string, number> = {};
  for (const [k, v] of Object.entries(table)) {
    if (!names.has(k)) throw badInput(file, `no conv or fc layer named '${k}' in the model`);
    perLayer[k] = checkFactor(`${file}: layer '${k}'`, v);
  }
  return { default: d, perLayer };
}
