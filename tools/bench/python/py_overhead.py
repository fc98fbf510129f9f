#!/usr/bin/env python3
"""Python overhead of onnxrun: session.run() p50 next to `onnxrun bench` p50 (and, when Node and
onnxruntime-node are there, ONNX Runtime's run p50 via tools/bench/ort_bench.js) on one model,
each pinned to one CPU with taskset, interleaved round by round so that load from other users
hits both alike.

    PYTHONPATH=build/python /usr/bin/python3 tools/bench/python/py_overhead.py \
        build/models/squeezenet1_1_op13/model.onnx [--rounds 5] [--iters 200] [--cpu 1]

Prints each round's p50s, then the median over rounds and the ratio python/bench.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def percentile(times, p):  # nearest rank, as `onnxrun bench`
    s = sorted(times)
    return s[max(0, math.ceil(p * len(s)) - 1)]


def python_round(model, iters, warmup, threads):
    import onnxrun
    options = onnxrun.SessionOptions()
    options.intra_op_num_threads = threads
    sess = onnxrun.InferenceSession(model, options)
    i = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in i.shape]
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32)
    feed = {i.name: x}
    for _ in range(warmup):
        sess.run(None, feed)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        sess.run(None, feed)
        times.append((time.perf_counter() - t) * 1000)
    return percentile(times, 0.5)


def subprocess_p50(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["p50_ms"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--iters", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cpu", type=int, default=1)
    p.add_argument("--cli", default=os.path.join(REPO, "build", "onnxrun"))
    p.add_argument("--ort-dir", default="/work/ort")
    a = p.parse_args()

    os.sched_setaffinity(0, {a.cpu})  # this process: Python's runs
    pin = ["taskset", "-c", str(a.cpu)]
    common = ["--threads", str(a.threads), "--iters", str(a.iters), "--warmup", str(a.warmup),
              "--json"]
    have_ort = shutil.which("node") and os.path.isdir(os.path.join(a.ort_dir, "node_modules"))
    rows = []
    for r in range(a.rounds):
        row = {"python": python_round(a.model, a.iters, a.warmup, a.threads),
               "bench": subprocess_p50(pin + [a.cli, "bench", a.model] + common)}
        if have_ort:
            row["ort_node"] = subprocess_p50(
                pin + ["node", os.path.join(REPO, "tools/bench/ort_bench.js"), a.model,
                       "--ort-dir", a.ort_dir] + common)
        rows.append(row)
        print(f"round {r + 1}: " + "  ".join(f"{k} p50 {v:.4f} ms" for k, v in row.items()),
              flush=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print("median: " + "  ".join(f"{k} {v:.4f} ms" for k, v in med.items()))
    print(f"python / bench = {med['python'] / med['bench']:.4f} (of the medians), "
          f"{statistics.median(r['python'] / r['bench'] for r in rows):.4f} (median of the "
          f"rounds' ratios), absolute {1000 * (med['python'] - med['bench']):.1f} us")
    if "ort_node" in med:
        print(f"python / ort_node = {med['python'] / med['ort_node']:.4f}")


if __name__ == "__main__":
    sys.exit(main())
