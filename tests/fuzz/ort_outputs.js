#!/usr/bin/env node
// ONNX Runtime's answer for each case folder of tests/fuzz/mutate_models.py (comparison only;
// onnxrun never depends on ONNX Runtime). Reads FOLDER/meta.json ({inputs: [{name, shape, file}]},
// float32 raw files), runs FOLDER/model.onnx and writes FOLDER/ort.json: {ok: true, outputs:
// [{name, type, dims, file}]} with each output's raw values in FOLDER/ort_output_K.bin, or
// {ok: false, error}. onnxruntime-node from $ONNXRUN_ORT_DIR (default /work/ort).
//   node tests/fuzz/ort_outputs.js FOLDER...
'use strict';

const fs = require('fs');
const path = require('path');

const ortDir = process.env.ONNXRUN_ORT_DIR || '/work/ort';
const ort = require(path.join(ortDir, 'node_modules', 'onnxruntime-node'));

async function one(folder) {
  const meta = JSON.parse(fs.readFileSync(path.join(folder, 'meta.json')));
  const session = await ort.InferenceSession.create(path.join(folder, 'model.onnx'),
                                                    {intraOpNumThreads: 1});
  const feeds = {};
  for (const input of meta.inputs) {
    const bytes = fs.readFileSync(input.file);
    const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    feeds[input.name] = new ort.Tensor('float32', Float32Array.from(data), input.shape);
  }
  const results = await session.run(feeds);
  const outputs = [];
  for (const [k, name] of session.outputNames.entries()) {
    const t = results[name];
    if (t.type !== 'float32' && t.type !== 'int64')
      return {ok: false, error: `output '${name}' is ${t.type} (not compared)`};
    const file = path.join(folder, `ort_output_${k}.bin`);
    fs.writeFileSync(file, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    outputs.push({name, type: t.type, dims: t.dims, file});
  }
  return {ok: true, outputs};
}

(async () => {
  for (const folder of process.argv.slice(2)) {
    let result;
    try {
      result = await one(folder);
    } catch (e) {
      result = {ok: false, error: String(e && e.message ? e.message : e).split('\n')[0]};
    }
    fs.writeFileSync(path.join(folder, 'ort.json'), JSON.stringify(result));
  }
})();
