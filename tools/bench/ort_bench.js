#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node, CPU provider) benchmark with the same measurements and JSON keys
// as `onnxrun bench --json`. Comparison only: onnxrun never depends on ONNX Runtime.
//
//   node tools/bench/ort_bench.js MODEL [--threads N] [--iters K] [--warmup W] [--batch B] [--seed S]
//                           [--json] [--ort-dir DIR]
//   node tools/bench/ort_bench.js --baseline [--tiny-out PATH] [same options]   # tiny one-Conv model
//   node tools/bench/ort_bench.js --write-tiny PATH                             # only write that model
//   node tools/bench/ort_bench.js --version                                     # onnxruntime-node version
//
// onnxruntime-node is looked up in --ort-dir DIR (DIR/node_modules/onnxruntime-node) alone if
// given; otherwise in $ONNXRUN_ORT_DIR, then <repo>/build/ort (where tools/bench/setup_ort.sh installs
// it), then on the ordinary require() path (NODE_PATH).
//
// Measured: load_ms = InferenceSession.create() wall time; first_run_ms = the first run() after
// it; then W warm-up runs; then K timed runs -> p50/p90 (nearest rank, as `onnxrun bench`) and
// min. peak_rss_mb = process.resourceUsage().maxRSS / 1024 at the end (includes Node itself,
// hence the tiny-model baseline). Input: seeded uniform [-1, 1) floats; dim 0 = batch
// when dynamic, other dynamic dims = 1.
'use strict';

const fs = require('fs');
const path = require('path');

const REPO = path.resolve(__dirname, '..', '..');
const DEFAULT_ORT_DIR = path.join(REPO, 'build', 'ort');
const DEFAULT_TINY = path.join(REPO, 'build', 'bench', 'tiny_conv.onnx');

function usage(msg) {
  if (msg) process.stderr.write(`ort_bench: ${msg}\n`);
  process.stderr.write(
      'usage: node tools/bench/ort_bench.js MODEL [--threads N] [--iters K] [--warmup W] [--batch B]\n' +
      '                               [--seed S] [--json] [--ort-dir DIR]\n' +
      '       node tools/bench/ort_bench.js --baseline [--tiny-out PATH] [options]\n' +
      '       node tools/bench/ort_bench.js --write-tiny PATH\n' +
      '       node tools/bench/ort_bench.js --version\n');
  process.exit(2);
}

function parseArgs(argv) {
  const a = {model: null, threads: 1, iters: 50, warmup: 5, batch: 1, seed: 1, json: false,
             ortDir: null, baseline: false, tinyOut: DEFAULT_TINY, writeTiny: null, version: false};
  const intOpt = {'--threads': 'threads', '--iters': 'iters', '--warmup': 'warmup',
                  '--batch': 'batch', '--seed': 'seed'};
  for (let i = 0; i < argv.length; ++i) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg in intOpt) {
      const v = next();
      if (!/^\d+$/.test(v)) usage(`${arg} wants a non-negative integer, got '${v}'`);
      a[intOpt[arg]] = parseInt(v, 10);
    } else if (arg === '--json') a.json = true;
    else if (arg === '--ort-dir') a.ortDir = next();
    else if (arg === '--baseline') a.baseline = true;
    else if (arg === '--tiny-out') a.tinyOut = next();
    else if (arg === '--write-tiny') a.writeTiny = next();
    else if (arg === '--version') a.version = true;
    else if (arg === '-h' || arg === '--help') usage();
    else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else if (a.model === null) a.model = arg;
    else usage(`unexpected argument ${arg}`);
  }
  if (a.threads < 1) usage('--threads must be >= 1');
  if (a.iters < 1) usage('--iters must be >= 1');
  if (a.batch < 1) usage('--batch must be >= 1');
  return a;
}

function loadOrt(ortDir) {
  // An explicit --ort-dir is the only place looked at.
  const dirs = ortDir ? [ortDir] : [process.env.ONNXRUN_ORT_DIR, DEFAULT_ORT_DIR].filter(Boolean);
  const tried = [];
  for (const d of dirs) {
    const p = path.resolve(d, 'node_modules', 'onnxruntime-node');
    tried.push(p);
    if (fs.existsSync(path.join(p, 'package.json'))) return require(p);
  }
  if (!ortDir) {
    try {
      return require('onnxruntime-node');
    } catch (e) {
      tried.push('require("onnxruntime-node") via NODE_PATH');
    }
  }
  process.stderr.write(`ort_bench: onnxruntime-node not found (tried: ${tried.join(', ')}).\n` +
                       'Install it with: tools/bench/setup_ort.sh [DIR]\n');
  process.exit(3);
}

// ---- A tiny one-Conv ONNX model, encoded by hand (protobuf wire format), no dependencies. ----
// input [N,3,32,32] -> Conv(4 filters, 3x3, pads 1) -> output [N,4,32,32]; opset 13, IR 7.
function varint(n) {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const key = (field, wire) => varint((field << 3) | wire);
const fInt = (field, n) => Buffer.concat([key(field, 0), varint(n)]);
const fBytes = (field, buf) => {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf, 'utf8');
  return Buffer.concat([key(field, 2), varint(b.length), b]);
};
const msg = (...parts) => Buffer.concat(parts);

function tensorProto(name, dims, values) {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return msg(...dims.map((d) => fInt(1, d)), fInt(2, 1 /* FLOAT */), fBytes(8, name),
             fBytes(9, raw));
}
function valueInfo(name, dims) {
  const dimMsgs = dims.map((d) => fBytes(1, typeof d === 'string' ? fBytes(2, d) : fInt(1, d)));
  const tensorType = msg(fInt(1, 1 /* FLOAT */), fBytes(2, msg(...dimMsgs)));
  return msg(fBytes(1, name), fBytes(2, fBytes(1, tensorType)));
}
function intsAttr(name, ints) {
  return msg(fBytes(1, name), ...ints.map((v) => fInt(8, v)), fInt(20, 7 /* INTS */));
}

function tinyConvModel() {
  const rng = mulberry32(7);
  const w = Array.from({length: 4 * 3 * 3 * 3}, () => rng() - 0.5);
  const b = Array.from({length: 4}, () => rng() - 0.5);
  const node = msg(fBytes(1, 'input'), fBytes(1, 'W'), fBytes(1, 'B'), fBytes(2, 'output'),
                   fBytes(3, 'conv'), fBytes(4, 'Conv'), fBytes(5, intsAttr('kernel_shape', [3, 3])),
                   fBytes(5, intsAttr('pads', [1, 1, 1, 1])));
  const graph = msg(fBytes(1, node), fBytes(2, 'tiny_conv'), fBytes(5, tensorProto('W', [4, 3, 3, 3], w)),
                    fBytes(5, tensorProto('B', [4], b)), fBytes(11, valueInfo('input', ['N', 3, 32, 32])),
                    fBytes(12, valueInfo('output', ['N', 4, 32, 32])));
  const opset = msg(fBytes(1, ''), fInt(2, 13));
  return msg(fInt(1, 7), fBytes(2, 'onnxrun-tools/bench/ort_bench.js'), fBytes(7, graph), fBytes(8, opset));
}

function writeTiny(file) {
  const bytes = tinyConvModel();
  fs.mkdirSync(path.dirname(path.resolve(file)), {recursive: true});
  // Write atomically: concurrent runs may race on the same path.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
  return file;
}

// ---- Benchmark ----
function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Nearest-rank percentile of sorted values, p in (0, 1] (as tools/cli_bench.cc computes it).
function percentile(sorted, p) {
  const rank = Math.min(Math.max(Math.ceil(p * sorted.length), 1), sorted.length);
  return sorted[rank - 1];
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const round3 = (x) => Math.round(x * 1000) / 1000;

function makeFeeds(ort, session, batch, seed) {
  const rng = mulberry32(seed);
  const feeds = {};
  const meta = session.inputMetadata || [];
  session.inputNames.forEach((name, idx) => {
    const m = meta.find((x) => x.name === name) || meta[idx];
    if (!m || !m.isTensor) throw new Error(`input '${name}': not a tensor, cannot feed it`);
    if (m.type !== 'float32') throw new Error(`input '${name}': type ${m.type}, only float32 is fed`);
    const dims = m.shape.map((d, i) => {
      const dynamic = typeof d !== 'number' || d < 0;
      if (i === 0) {
        if (dynamic) return batch;
        if (batch !== 1 && d !== batch) {
          throw new Error(`input '${name}': dim 0 is fixed at ${d}, cannot run batch ${batch}`);
        }
        return d;
      }
      return dynamic ? 1 : d;
    });
    const n = dims.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; ++i) data[i] = rng() * 2 - 1;
    feeds[name] = new ort.Tensor('float32', data, dims);
  });
  return feeds;
}

async function bench(ort, a, model) {
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
  let t = nowMs();
  const session = await ort.InferenceSession.create(model, options);
  const loadMs = nowMs() - t;

  const feeds = makeFeeds(ort, session, a.batch, a.seed);
  t = nowMs();
  await session.run(feeds);
  const firstRunMs = nowMs() - t;

  for (let i = 0; i < a.warmup; ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < a.iters; ++i) {
    t = nowMs();
    await session.run(feeds);
    times.push(nowMs() - t);
  }
  times.sort((x, y) => x - y);
  const result = {
    model,
    threads: a.threads,
    batch: a.batch,
    iters: a.iters,
    load_ms: round3(loadMs),
    first_run_ms: round3(firstRunMs),
    p50_ms: round3(percentile(times, 0.5)),
    p90_ms: round3(percentile(times, 0.9)),
    min_ms: round3(times[0]),
    peak_rss_mb: round3(process.resourceUsage().maxRSS / 1024),
  };
  if (typeof session.release === 'function') await session.release();
  return result;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.writeTiny) {
    process.stdout.write(`${writeTiny(a.writeTiny)}\n`);
    return;
  }
  const ort = loadOrt(a.ortDir);
  if (a.version) {
    const v = (ort.env && ort.env.versions && ort.env.versions.node) || 'unknown';
    process.stdout.write(`onnxruntime-node ${v}\n`);
    return;
  }
  let model = a.model;
  if (a.baseline) {
    if (model) usage('--baseline takes no MODEL (use --tiny-out PATH to choose where it is written)');
    model = writeTiny(a.tinyOut);
  }
  if (!model) usage('no MODEL given');
  if (!fs.existsSync(model)) usage(`model '${model}' does not exist`);

  const r = await bench(ort, a, model);
  if (a.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    process.stdout.write(
        `model        ${r.model}\nruntime      onnxruntime-node ${ort.env.versions.node} (CPU)\n` +
        `threads      ${r.threads}\nbatch        ${r.batch}\niters        ${r.iters}` +
        ` (after ${a.warmup} warm-up)\nload         ${r.load_ms} ms\n` +
        `first run    ${r.first_run_ms} ms\np50          ${r.p50_ms} ms\np90          ${r.p90_ms} ms\n` +
        `min          ${r.min_ms} ms\npeak RSS     ${r.peak_rss_mb} MB\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`ort_bench: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
