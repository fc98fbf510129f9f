#!/usr/bin/env node
// Cross-checks exported models against ONNX Runtime (onnxruntime-node, CPU): for every
// DIR/test_data_set_N, runs DIR/model.onnx on input_0.pb and compares with output_0.pb.
// With --write, makes the reference instead: runs every input_K.pb (float32 or int64, fed by
// the tensor's name) and writes each graph output as output_K.pb (models/opset_cases.py).
// Verification and reference aid only; onnxrun never depends on ONNX Runtime.
//
//   node models/ort_check.js [--ort-dir DIR] [--rtol R] [--atol A] MODEL_DIR...
//   node models/ort_check.js --write [--ort-dir DIR] CASE_DIR...
//
// onnxruntime-node is looked up in --ort-dir, $ONNXRUN_ORT_DIR, <repo>/build/ort (see
// tools/bench/setup_ort.sh), then NODE_PATH. Tolerance as `onnxrun test`: |got - ref| <= atol + rtol *
// |ref| (defaults 1e-4, 1e-3); "margin" is the worst diff / tolerance ratio (must be <= 1).
// Exit 0 iff every data set of every model matches.
'use strict';

const fs = require('fs');
const path = require('path');

function loadOrt(dir) {
  const repo = path.resolve(__dirname, '..');
  const cands = [dir, process.env.ONNXRUN_ORT_DIR, path.join(repo, 'build', 'ort')].filter(Boolean);
  for (const d of cands) {
    const p = path.join(d, 'node_modules', 'onnxruntime-node');
    if (fs.existsSync(p)) return require(p);
  }
  return require('onnxruntime-node');
}

// Minimal TensorProto reader: dims (1), data_type (2), name (8), raw_data (9), float_data (4).
function readTensor(file) {
  const b = fs.readFileSync(file);
  let i = 0;
  const varint = () => {
    let r = 0n, s = 0n;
    for (;;) {
      const c = b[i++];
      r |= BigInt(c & 0x7f) << s;
      if (!(c & 0x80)) return r;
      s += 7n;
    }
  };
  const t = {dims: [], type: 0, name: '', raw: null, floats: []};
  while (i < b.length) {
    const key = Number(varint()), field = key >> 3, wire = key & 7;
    if (wire === 0) {
      const v = Number(varint());
      if (field === 1) t.dims.push(v); else if (field === 2) t.type = v;
    } else if (wire === 2) {
      const n = Number(varint()), body = b.subarray(i, i + n);
      i += n;
      if (field === 1) {  // packed dims
        const save = i; let j = 0;
        while (j < body.length) { let r = 0, s = 0, c; do { c = body[j++]; r += (c & 0x7f) * 2 ** s; s += 7; } while (c & 0x80); t.dims.push(r); }
        i = save;
      } else if (field === 8) t.name = body.toString();
      else if (field === 9) t.raw = body;
      else if (field === 4) for (let k = 0; k + 4 <= body.length; k += 4) t.floats.push(body.readFloatLE(k));
    } else if (wire === 5) { if (field === 4) t.floats.push(b.readFloatLE(i)); i += 4; }
    else if (wire === 1) i += 8;
    else throw new Error(`${file}: unsupported wire type ${wire}`);
  }
  if (t.type === 7 && t.raw) {  // INT64 (raw_data only: what numpy_helper writes)
    const data = new BigInt64Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.length));
    return {name: t.name, dims: t.dims, data, type: 'int64'};
  }
  if (t.type !== 1) throw new Error(`${file}: data_type ${t.type}, expected FLOAT (or raw INT64)`);
  const data = t.raw ? new Float32Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.length))
                     : Float32Array.from(t.floats);
  return {name: t.name, dims: t.dims, data, type: 'float32'};
}

// TensorProto with dims (1), data_type (2), name (8), raw_data (9).
const ONNX_TYPE = {float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11};
function writeTensor(file, name, t) {
  const bytes = [];
  const varint = (v) => {
    v = BigInt(v);
    do { let c = Number(v & 0x7fn); v >>= 7n; if (v) c |= 0x80; bytes.push(c); } while (v);
  };
  const type = ONNX_TYPE[t.type];
  if (!type) throw new Error(`${file}: cannot write ${t.type} tensors`);
  for (const d of t.dims) { varint(1 << 3); varint(d); }
  varint(2 << 3); varint(type);
  const nameBytes = Buffer.from(name);
  varint((8 << 3) | 2); varint(nameBytes.length); bytes.push(...nameBytes);
  const data = t.type === 'bool' ? Uint8Array.from(t.data, (v) => (v ? 1 : 0)) : t.data;
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  varint((9 << 3) | 2); varint(raw.length);
  fs.writeFileSync(file, Buffer.concat([Buffer.from(bytes), raw]));
}

// Runs each case's model (or its reference.onnx when there is one: the float32 model a float16
// case is computed as) on its input_K.pb files and writes the outputs as output_K.pb.
async function writeReferences(ort, dirs) {
  for (const dir of dirs) {
    const ref = path.join(dir, 'reference.onnx');
    const model = fs.existsSync(ref) ? ref : path.join(dir, 'model.onnx');
    const sess = await ort.InferenceSession.create(model, {graphOptimizationLevel: 'disabled'});
    const sets = fs.readdirSync(dir).filter((d) => /^test_data_set_\d+$/.test(d)).sort();
    for (const s of sets) {
      const feeds = {};
      const files = fs.readdirSync(path.join(dir, s)).filter((f) => /^input_\d+\.pb$/.test(f));
      for (const f of files) {
        const x = readTensor(path.join(dir, s, f));
        feeds[x.name] = new ort.Tensor(x.type, x.data, x.dims);
      }
      const out = await sess.run(feeds);
      sess.outputNames.forEach((name, k) =>
        writeTensor(path.join(dir, s, `output_${k}.pb`), name, out[name]));
    }
  }
  console.log(`ort_check: wrote the references of ${dirs.length} cases`);
}

async function main() {
  const args = process.argv.slice(2);
  let ortDir = null, rtol = 1e-3, atol = 1e-4, write = false;
  const dirs = [];
  for (let k = 0; k < args.length; k++) {
    if (args[k] === '--ort-dir') ortDir = args[++k];
    else if (args[k] === '--write') write = true;
    else if (args[k] === '--rtol') rtol = Number(args[++k]);
    else if (args[k] === '--atol') atol = Number(args[++k]);
    else dirs.push(args[k]);
  }
  if (!dirs.length) { console.error('usage: node models/ort_check.js [--ort-dir DIR] MODEL_DIR...'); process.exit(2); }
  const ort = loadOrt(ortDir);
  if (write) return writeReferences(ort, dirs);
  let bad = 0;
  for (const dir of dirs) {
    const sess = await ort.InferenceSession.create(path.join(dir, 'model.onnx'),
                                                   {graphOptimizationLevel: 'disabled'});
    const sets = fs.readdirSync(dir).filter((d) => /^test_data_set_\d+$/.test(d)).sort();
    for (const s of sets) {
      const x = readTensor(path.join(dir, s, 'input_0.pb'));
      const ref = readTensor(path.join(dir, s, 'output_0.pb'));
      const out = await sess.run({[sess.inputNames[0]]: new ort.Tensor('float32', x.data, x.dims)});
      const got = out[sess.outputNames[0]];
      let refMax = 0;
      for (const v of ref.data) refMax = Math.max(refMax, Math.abs(v));
      let maxDiff = 0, fails = 0, margin = 0;
      const shapeOk = JSON.stringify(got.dims) === JSON.stringify(ref.dims);
      for (let k = 0; shapeOk && k < ref.data.length; k++) {
        const d = Math.abs(got.data[k] - ref.data[k]);
        maxDiff = Math.max(maxDiff, d);
        const tol = atol + rtol * Math.abs(ref.data[k]);
        margin = Math.max(margin, d / tol);
        if (!(d <= tol)) fails++;
      }
      const ok = shapeOk && fails === 0;
      if (!ok) bad++;
      console.log(`${ok ? 'OK  ' : 'FAIL'} ${path.basename(dir)}/${s} shape ${JSON.stringify(got.dims)}` +
                  ` max|diff| ${maxDiff.toExponential(2)} max|ref| ${refMax.toFixed(3)} margin ${margin.toFixed(3)}` +
                  (shapeOk ? (fails ? ` (${fails} elements out of tolerance)` : '') : ` expected ${JSON.stringify(ref.dims)}`));
    }
  }
  process.exit(bad ? 1 : 0);
}

main().catch((e) => { console.error(`ort_check: ${e.stack || e}`); process.exit(1); });
