import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInputData } from '../src/frontend/data.js';
import { importOnnx } from '../src/frontend/onnx/import.js';
import { readModel, writeModel } from '../src/ir/serialize.js';
import { OWN, sharedModel } from './fixtures.js';

const calibFile = join(OWN, 'digits8_calib.json');

describe('IR v1 serialization', () => {
  it.each(['digits8_qdq', 'digits8_qop', 'tinyres_qdq', 'digits8_fp32'])('round trip of %s is byte-identical', async (name) => {
    const calib = name.endsWith('fp32') ? parseInputData(readFileSync(calibFile, 'utf8'), calibFile) : undefined;
    const { model } = await importOnnx(sharedModel(name), calib ? { calib } : {});
    const first = writeModel(model);
    const second = writeModel(readModel(first, 'a.json'));
    expect(second).toBe(first);
    expect(writeModel(readModel(second, 'b.json'))).toBe(first);
  });

  it('is deterministic: two imports give the same bytes', async () => {
    const a = writeModel((await importOnnx(sharedModel('tinyres_qdq'))).model);
    const b = writeModel((await importOnnx(sharedModel('tinyres_qdq'))).model);
    expect(a).toBe(b);
  });

  it('rejects a schema-invalid file with the JSON path of the first problem', async () => {
    const json = JSON.parse(writeModel((await importOnnx(sharedModel('digits8_qdq'))).model));
    json.layers[2].kernel = [2, 'x'];
    expect(() => readModel(JSON.stringify(json), 'bad.gir.json')).toThrow(
      'bad.gir.json: invalid IR at $.layers[2].kernel[1]: Invalid input: expected number, received string',
    );
  });

  it('rejects an unknown version and unknown keys', async () => {
    const json = JSON.parse(writeModel((await importOnnx(sharedModel('digits8_qdq'))).model));
    expect(() => readModel(JSON.stringify({ ...json, version: 2 }), 'v2.json')).toThrow(
      'v2.json: invalid IR at $.version: Invalid input: expected 1',
    );
    json.tensors[0].color = 'red';
    expect(() => readModel(JSON.stringify(json), 'extra.json')).toThrow('extra.json: invalid IR at $.tensors[0]: Unrecognized key: "color"');
  });

  it('rejects a semantically broken file naming the layer', async () => {
    const json = JSON.parse(writeModel((await importOnnx(sharedModel('digits8_qdq'))).model));
    json.layers[0].stride = [3, 3];
    expect(() => readModel(JSON.stringify(json), 'shape.json')).toThrow(
      "shape.json: layer '/0/Conv': output shape [8,8,8] should be [8,3,3]",
    );
  });
});
