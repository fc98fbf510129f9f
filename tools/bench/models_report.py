#!/usr/bin/python3
"""Generates docs/MODELS.md: accuracy, size, optimizations and speed of every exported model.

    tools/bench/models_report.py --onnxrun BIN --models-dir DIR [--bench-json FILE ...]
        [--out docs/MODELS.md] [--raw-json OUT.json] [--slow-ratio 1.25] [--profile-iters K]
        [--wait-idle S] [--top N] [--node NODE] [--ort-dir DIR] [--timeout S] [--only a,b]
        [--built-from TEXT] [--no-ort]
    tools/bench/models_report.py --from-raw RAW.json [--out docs/MODELS.md]   # re-render, no runs

DIR holds one directory per model, as `models/export.py --out DIR` writes them
(DIR/<name>/model.onnx, test_data_set_*/, meta.json). For every model this runs, in fresh
processes:

  * `onnxrun test DIR/<name> --atol 1e-4 --rtol 1e-3`: PASS/FAIL/SKIP and the max abs/rel error
    against the PyTorch reference output;
  * `onnxrun info DIR/<name>/model.onnx --optimized --json`: parameters, GFLOPs, the op histogram
    after optimization and each optimization pass's rewrite count;
  * `node models/ort_check.js DIR/<name>`: ONNX Runtime's own max |diff| against the same
    reference and tolerance, so a reader sees whether a tolerance miss is onnxrun's alone;

and takes the latencies from --bench-json, the raw output of `tools/bench/bench_vs_ort.py --json`
(medians over its interleaved rounds; p50 onnxrun, p50 ORT, ratio, per thread count found there).
Every model slower than --slow-ratio x ORT at 1 thread is then profiled: `onnxrun bench --profile`
and ONNX Runtime's own profiler (enableProfiling, same session options as tools/bench/ort_bench.js), per
op kind, per op family, and the Conv time per kind of convolution (1x1, 3x3, depthwise, grouped,
...; read from the ONNX file's weight shapes and `group` attributes on onnxrun's side, from the
profiler's input shapes on ORT's), to show where the time goes.

--raw-json keeps every measurement; --from-raw renders the Markdown again from such a file
without running anything.

Every figure in the output comes from these runs; a column that was not measured says so.
Standard library only (Debian's /usr/bin/python3 is enough).
"""

import argparse
import datetime
import glob
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# Machine description shared with the side-by-side bench (same directory).
from bench_vs_ort import cpu_jiffies, cpu_model, loadavg, machine, mem_total_gib, wait_idle  # noqa: E402

TOOLS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(TOOLS))
ATOL, RTOL = 1e-4, 1e-3
NM = "not measured"


def die(msg):
    sys.exit("models_report: " + msg)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, timeout, env=None, cwd=None):
    """(returncode, stdout, stderr); returncode None when the command timed out or could not run."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout, env=env, cwd=cwd)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % timeout
    except OSError as e:
        return None, "", str(e)


def last_json_object(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    return None


def one_line(text, limit=300):
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# ---------------------------------------------------------------- machine and noise


def run_measured(cmd, timeout, env=None, cwd=None):
    """run() plus the share of all CPUs that other processes used meanwhile (None if unknown)."""
    j0, c0 = cpu_jiffies(), resource.getrusage(resource.RUSAGE_CHILDREN)
    rc, out, err = run(cmd, timeout, env=env, cwd=cwd)
    j1, c1 = cpu_jiffies(), resource.getrusage(resource.RUSAGE_CHILDREN)
    foreign = None
    if j0 and j1 and j1[1] > j0[1]:
        hz = os.sysconf("SC_CLK_TCK")
        child = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
        foreign = max(0.0, ((j1[0] - j0[0]) / hz - child) / ((j1[1] - j0[1]) / hz))
    return rc, out, err, foreign


# ---------------------------------------------------------------- per-model measurements

def model_dirs(root, only):
    dirs = sorted(d for d in glob.glob(os.path.join(root, "*"))
                  if os.path.isfile(os.path.join(d, "model.onnx")))
    if only:
        wanted = set(only.split(","))
        missing = wanted - {os.path.basename(d) for d in dirs}
        if missing:
            die("not in %s: %s" % (root, ", ".join(sorted(missing))))
        dirs = [d for d in dirs if os.path.basename(d) in wanted]
    return dirs


def read_meta(d):
    try:
        with open(os.path.join(d, "meta.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def sort_key(name, meta):
    m = re.match(r"(.*)_op(\d+)$", name)
    arch = meta.get("arch") or (m.group(1) if m else name)
    opset = meta.get("opset") or (int(m.group(2)) if m else 0)
    return (arch, int(opset), name)


TEST_LINE = re.compile(r"^(PASS|FAIL|SKIP) (\S+)\s+(.*)$")


def onnxrun_test(args, d):
    cmd = [args.onnxrun, "test", d, "--atol", repr(ATOL), "--rtol", repr(RTOL),
           "--timeout", str(args.timeout)]
    rc, out, err = run(cmd, args.timeout + 60)
    res = {"verdict": "FAIL", "max_abs": None, "max_rel": None, "detail": ""}
    for line in out.splitlines():
        m = TEST_LINE.match(line)
        if m:
            res["verdict"], rest = m.group(1), m.group(3)
            for key in ("max_abs", "max_rel"):
                v = re.search(key + r"=(\S+)", rest)
                if v:
                    res[key] = float(v.group(1))
            res["detail"] = rest
            return res
    res["detail"] = "onnxrun test printed no result (exit %s): %s" % (rc, one_line(out + err))
    return res


def onnxrun_info(args, model):
    rc, out, err = run([args.onnxrun, "info", model, "--optimized", "--json"], args.timeout)
    obj = last_json_object(out) if rc == 0 else None
    if obj is None:
        return {"error": one_line(err or out or "exit %s" % rc)}
    return obj


ORT_LINE = re.compile(r"^(OK|FAIL)\s+(\S+)\s.*?max\|diff\| (\S+).*?margin (\S+)(.*)$")


def ort_check(args, d):
    cmd = [args.node, os.path.join(REPO, "models", "ort_check.js"), "--atol", repr(ATOL),
           "--rtol", repr(RTOL)]
    if args.ort_dir:
        cmd += ["--ort-dir", args.ort_dir]
    rc, out, err = run(cmd + [d], args.timeout)
    sets = []
    for line in out.splitlines():
        m = ORT_LINE.match(line.strip())
        if m:
            sets.append({"ok": m.group(1) == "OK", "set": m.group(2),
                         "max_diff": float(m.group(3)), "margin": float(m.group(4)),
                         "extra": m.group(5).strip()})
    if not sets:
        return {"error": one_line(err or out or "exit %s" % rc)}
    return {"ok": all(s["ok"] for s in sets), "max_diff": max(s["max_diff"] for s in sets),
            "margin": max(s["margin"] for s in sets), "sets": sets}


# ---------------------------------------------------------------- bench_vs_ort.py results

def bench_name(model_path):
    base = os.path.basename(model_path)
    if base == "model.onnx":
        return os.path.basename(os.path.dirname(os.path.abspath(model_path)))
    return os.path.splitext(base)[0]


def load_bench(files):
    """{name: {threads: entry}} plus the files' run settings and noise."""
    by_model, files_meta = {}, []
    for path in files or []:
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            die("cannot read --bench-json %s: %s" % (path, e))
        files_meta.append({"file": path, "machine": data.get("machine", {}),
                           "versions": data.get("versions", {}), "iters": data.get("iters"),
                           "warmup": data.get("warmup"), "repeats": data.get("repeats"),
                           "batch": data.get("batch"), "pin": data.get("pin"),
                           "models": len(data.get("results", []))})
        for r in data.get("results", []):
            if "onnxrun" not in r or "ort" not in r:
                continue
            o, t = r["onnxrun"], r["ort"]
            foreign = [x.get("foreign_cpu") for rt in (o, t) for x in rt["runs"]
                       if x.get("foreign_cpu") is not None]
            by_model.setdefault(bench_name(r["model"]), {})[int(r["threads"])] = {
                "p50_onnxrun": o["median"]["p50_ms"], "p50_ort": t["median"]["p50_ms"],
                "ratio": (o["median"]["p50_ms"] / t["median"]["p50_ms"]
                          if t["median"]["p50_ms"] > 0 else None),
                "rounds_onnxrun": [x["p50_ms"] for x in o["runs"]],
                "rounds_ort": [x["p50_ms"] for x in t["runs"]],
                "foreign_max": max(foreign) if foreign else None,
                "foreign_median": statistics.median(foreign) if foreign else None,
                "batch": r.get("batch", data.get("batch")), "file": path,
            }
    return by_model, files_meta


# ---------------------------------------------------------------- per-op profiles

# ONNX Runtime's profiler, with tools/bench/ort_bench.js's session options. argv: ort module dir,
# model, input name, dims (comma-separated), threads, runs, output file prefix.
ORT_PROFILE_JS = r"""
'use strict';
const [ortPath, model, inputName, dimsArg, threads, runs, prefix] = process.argv.slice(1);
const ort = require(ortPath);
(async () => {
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], intraOpNumThreads: Number(threads), interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential',
    enableProfiling: true, profileFilePrefix: prefix});
  const dims = dimsArg.split(',').map(Number);
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  let s = 1;
  for (let i = 0; i < data.length; ++i) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; data[i] = s / 2147483648 - 1; }
  const feeds = {[inputName]: new ort.Tensor('float32', data, dims)};
  for (let i = 0; i < Number(runs); ++i) await session.run(feeds);
  session.endProfiling();
  console.log('done');
})().catch((e) => { console.error(String(e.stack || e)); process.exit(1); });
"""


def ort_module_dir(args):
    cands = [args.ort_dir, os.environ.get("ONNXRUN_ORT_DIR"), os.path.join(REPO, "build", "ort")]
    for d in cands:
        if d and os.path.isdir(os.path.join(d, "node_modules", "onnxruntime-node")):
            return os.path.join(d, "node_modules", "onnxruntime-node")
    return "onnxruntime-node"


def family(op):
    """Op kind without fused suffixes, with both runtimes' layout conversions under one name."""
    if op in ("NCHW->NHWC", "NHWC->NCHW", "ReorderInput", "ReorderOutput"):
        return "layout conversion"
    op = op.split("+")[0]
    return {"FusedConv": "Conv", "NhwcConv": "Conv", "FusedGemm": "Gemm",
            "NhwcMaxPool": "MaxPool"}.get(op, op)


# Minimal protobuf reading (stdlib only): the Conv nodes' weight shapes and groups, to split the
# Conv time by kind (1×1, 3×3, depthwise, grouped, ...).

def _varint(buf, i):
    r = s = 0
    while True:
        c = buf[i]
        i += 1
        r |= (c & 0x7F) << s
        if not c & 0x80:
            return r, i
        s += 7


def _fields(buf, i, end):
    """(field, wire, value) of one message; value = int (varint) or (start, end) (bytes)."""
    while i < end:
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(buf, i)
            yield field, wire, v
        elif wire == 2:
            n, i = _varint(buf, i)
            yield field, wire, (i, i + n)
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("unsupported protobuf wire type %d" % wire)


def _packed(buf, span):
    out, i = [], span[0]
    while i < span[1]:
        v, i = _varint(buf, i)
        out.append(v)
    return out


def onnx_convs(path):
    """{Conv node name: (out_c, in_c_per_group, kh, kw, group)} for Conv nodes whose weight is an
    initializer; {} if the file cannot be read."""
    try:
        with open(path, "rb") as f:
            buf = f.read()
        graph = next(v for fld, w, v in _fields(buf, 0, len(buf)) if fld == 7 and w == 2)
        dims_of, convs = {}, []
        for fld, w, v in _fields(buf, graph[0], graph[1]):
            if fld == 5 and w == 2:  # initializer: dims (1), name (8)
                dims, name = [], ""
                for f2, w2, v2 in _fields(buf, v[0], v[1]):
                    if f2 == 1:
                        dims += [v2] if w2 == 0 else _packed(buf, v2)
                    elif f2 == 8:
                        name = buf[v2[0]:v2[1]].decode("utf-8", "replace")
                dims_of[name] = dims
            elif fld == 1 and w == 2:  # node: input (1), name (3), op_type (4), attribute (5)
                inputs, name, op, group = [], "", "", 1
                for f2, w2, v2 in _fields(buf, v[0], v[1]):
                    if f2 == 1:
                        inputs.append(buf[v2[0]:v2[1]].decode("utf-8", "replace"))
                    elif f2 == 3:
                        name = buf[v2[0]:v2[1]].decode("utf-8", "replace")
                    elif f2 == 4:
                        op = buf[v2[0]:v2[1]].decode("utf-8", "replace")
                    elif f2 == 5:
                        aname, aint = "", None
                        for f3, w3, v3 in _fields(buf, v2[0], v2[1]):
                            if f3 == 1:
                                aname = buf[v3[0]:v3[1]].decode("utf-8", "replace")
                            elif f3 == 3 and w3 == 0:
                                aint = v3
                        if aname == "group" and aint:
                            group = aint
                if op == "Conv" and len(inputs) > 1:
                    convs.append((name, inputs[1], group))
        return {name: tuple(dims_of[wname][:4]) + (group,) for name, wname, group in convs
                if len(dims_of.get(wname, [])) == 4}
    except (OSError, ValueError, StopIteration, IndexError):
        return {}


def conv_kind(out_c, in_c_per_group, kh, kw, group):
    k = "%d×%d" % (kh, kw)
    if group == 1:
        return k
    if in_c_per_group == 1:
        return "depthwise " + k
    return "grouped " + k


def _add(d, key, ms):
    t, n = d.get(key, (0.0, 0))
    d[key] = (t + ms, n + 1)


def profile_onnxrun(args, model):
    cmd = [args.onnxrun, "bench", model, "--threads", "1", "--iters", str(args.profile_iters),
           "--warmup", "2", "--profile", "--json"]
    if args.wait_idle:
        wait_idle(args.wait_idle)
    rc, out, err, foreign = run_measured(cmd, args.timeout * 4)
    obj = last_json_object(out) if rc == 0 else None
    if not obj or "profile" not in obj:
        return {"error": one_line(err or out or "exit %s" % rc)}
    convs = onnx_convs(model)
    by_op, by_conv = {}, {}
    for step in obj["profile"]:
        _add(by_op, step["op"], step["ms_per_run"])
        if family(step["op"]) == "Conv":
            c = convs.get(step["node"])
            _add(by_conv, conv_kind(*c) if c else "unknown", step["ms_per_run"])
    return {"p50_ms": obj["p50_ms"], "by_op": by_op, "by_conv": by_conv, "foreign": foreign,
            "runs": args.profile_iters + 3}


def profile_ort(args, model, info):
    inputs = info.get("inputs") or []
    if len(inputs) != 1 or inputs[0].get("dtype") != "float32":
        return {"error": "profiling wants one float32 input"}
    dims = ",".join(str(d) for d in inputs[0]["shape"])
    runs = args.profile_iters + 3  # as `onnxrun bench`: first run + 2 warm-up + timed runs
    with tempfile.TemporaryDirectory(prefix="models_report_ort_") as tmp:
        cmd = [args.node, "-e", ORT_PROFILE_JS, ort_module_dir(args), os.path.abspath(model),
               inputs[0]["name"], dims, "1", str(runs), os.path.join(tmp, "ort_profile")]
        if args.wait_idle:
            wait_idle(args.wait_idle)
        rc, out, err, foreign = run_measured(cmd, args.timeout * 4, cwd=tmp)
        files = glob.glob(os.path.join(tmp, "ort_profile*.json"))
        if rc != 0 or not files:
            return {"error": one_line(err or out or "exit %s, no profile written" % rc)}
        with open(files[0]) as f:
            events = json.load(f)
    n_runs = sum(1 for e in events if e.get("cat") == "Session" and e.get("name") == "model_run")
    run_ms = sorted(e["dur"] / 1000.0 for e in events
                    if e.get("cat") == "Session" and e.get("name") == "model_run")
    by_op, by_conv = {}, {}
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            op = e.get("args", {}).get("op_name", "?")
            _add(by_op, op, e["dur"] / 1000.0)
            if family(op) == "Conv":
                _add(by_conv, ort_conv_kind(e["args"]), e["dur"] / 1000.0)
    n_runs = max(n_runs, 1)
    per_run = lambda d: {k: (ms / n_runs, n // n_runs or n) for k, (ms, n) in d.items()}
    return {"p50_ms": run_ms[len(run_ms) // 2] if run_ms else None, "by_op": per_run(by_op),
            "by_conv": per_run(by_conv), "foreign": foreign, "runs": n_runs}


def ort_conv_kind(event_args):
    """Conv kind from an ORT profiler event's input shapes: X [N, C, H, W], W [M, C/g, kh, kw]."""
    try:
        shapes = [next(iter(t.values())) for t in event_args["input_type_shape"]]
        x, w = shapes[0], shapes[1]
        if len(w) != 4:
            return "unknown"
        c = x[1] if len(x) >= 4 else w[1]
        group = 1 if c < 2 * w[1] else c // w[1]  # NCHWc may pad C; a group needs C >= 2 C/g
        return conv_kind(w[0], w[1], w[2], w[3], group)
    except (KeyError, IndexError, StopIteration, TypeError, AttributeError, ZeroDivisionError):
        return "unknown"


# ---------------------------------------------------------------- formatting

def fmt_params(n):
    if n is None:
        return NM
    return "%.2f M" % (n / 1e6) if n >= 1e6 else "%.1f k" % (n / 1e3)


def fmt_e(x):
    return NM if x is None else "%.1e" % x


def fmt_f(x, digits=1):
    return NM if x is None else "%.*f" % (digits, x)


def fmt_pct(x):
    return "—" if x is None else "%.0f%%" % (100 * x)


def histogram(ops):
    items = sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))
    return " ".join("%s×%d" % (op, n) for op, n in items)


def fusions(passes):
    done = [(p["pass"], p["rewrites"]) for p in passes if p.get("rewrites")]
    return ", ".join("%s %d" % kv for kv in done) if done else "none"


def md_cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_table(header, rows, align=None):
    align = align or ["---"] * len(header)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(md_cell(c) for c in r) + " |" for r in rows]
    return out


def ort_cell(o):
    if o is None:
        return NM
    if "error" in o:
        return "error: " + o["error"]
    return "%.1e %s" % (o["max_diff"], "within tol" if o["ok"] else
                        "**misses tol** (margin %.2f)" % o["margin"])


def verdict_cell(t):
    if t["verdict"] == "PASS":
        return "pass"
    if t["verdict"] == "SKIP":
        return "skip"
    return "**FAIL**"


def noise_line(bench_files):
    parts = []
    for b in bench_files:
        m = b["machine"]
        med, mx = m.get("foreign_cpu_median"), m.get("foreign_cpu_max")
        parts.append("other processes used %s of the CPUs during the median bench run (max %s); "
                     "1-min load average %s at start, %s at end (`%s`)" % (
                         fmt_pct(med), fmt_pct(mx), fmt_f(m.get("loadavg_start"), 2),
                         fmt_f(m.get("loadavg_end"), 2), os.path.basename(b["file"])))
    return "; ".join(parts) if parts else NM


def op_time(p):
    return sum(ms for ms, _ in p["by_op"].values()) or 1e-9


def family_gaps(prof_o, prof_t):
    """[(family, onnxrun ms, ORT ms)], largest onnxrun - ORT gap first."""
    fam = {}
    for idx, p in enumerate((prof_o, prof_t)):
        for op, (ms, _) in p["by_op"].items():
            fam.setdefault(family(op), [0.0, 0.0])[idx] += ms
    return sorted(((f, a, b) for f, (a, b) in fam.items()), key=lambda x: -(x[1] - x[2]))


def top_ops(p, n):
    tot = op_time(p)
    items = sorted(p["by_op"].items(), key=lambda kv: -kv[1][0])[:n]
    return ", ".join("%s %.0f%%" % (op, 100 * ms / tot) for op, (ms, _) in items)


def profiled(m):
    po, pt = m.get("profile_onnxrun"), m.get("profile_ort")
    return po is not None and pt is not None and "error" not in po and "error" not in pt


def fms(x):
    """Milliseconds with about three significant digits."""
    return "%.3f" % x if abs(x) < 1 else "%.2f" % x if abs(x) < 10 else "%.1f" % x


def ratio_cell(r, slow_ratio):
    if r is None:
        return NM
    # three decimals where two would hide which side of the threshold the ratio is on
    text = "%.2f" % r if (float("%.2f" % r) > slow_ratio) == (r > slow_ratio) else "%.3f" % r
    return "**%s**" % text if r > slow_ratio else text


def rounds(xs):
    return "/".join(fms(x) for x in xs)


def slow_summary(slow):
    rows = []
    for m in slow:
        b = m["bench"][1]
        row = [m["name"], "**%.3f**" % b["ratio"], rounds(b["rounds_onnxrun"]),
               rounds(b["rounds_ort"])]
        if profiled(m):
            po, pt = m["profile_onnxrun"], m["profile_ort"]
            f, a, t = family_gaps(po, pt)[0]
            gap = ("%s %s%s ms (%s vs %s)" % (f, "+" if a >= t else "", fms(a - t), fms(a), fms(t))
                   if op_time(po) > op_time(pt)
                   else "not reproduced: onnxrun's profiled op time ≤ ORT's")
            row += ["%s / %s" % (fms(op_time(po)), fms(op_time(pt))), top_ops(po, 3), top_ops(pt, 3),
                    gap, conv_gaps_cell(po, pt)]
        else:
            err = (m.get("profile_onnxrun") or {}).get("error") or \
                (m.get("profile_ort") or {}).get("error") or NM
            row += ["profile failed: " + err, "", "", "", ""]
        rows.append(row)
    return md_table(["model", "ratio 1t", "p50 rounds onnxrun (ms)", "p50 rounds ORT (ms)",
                     "profiled op time onnxrun / ORT (ms/run)", "onnxrun top ops (share)",
                     "ORT top ops (share)", "largest gap by op family (onnxrun vs ORT ms)",
                     "Conv gap by kind (ms, onnxrun/ORT time)"],
                    rows, ["---", "---:", "---:", "---:", "---:", "---", "---", "---", "---"])


def conv_table(po, pt):
    """[(kind, onnxrun ms, onnxrun steps, ORT ms, ORT steps)], largest onnxrun - ORT gap first."""
    kinds = set(po.get("by_conv", {})) | set(pt.get("by_conv", {}))
    rows = [(k,) + tuple(po.get("by_conv", {}).get(k, (0.0, 0))) +
            tuple(pt.get("by_conv", {}).get(k, (0.0, 0))) for k in kinds]
    return sorted(rows, key=lambda r: -(r[1] - r[3]))


def conv_gaps_cell(po, pt, n=3):
    total = max(op_time(po), op_time(pt))
    parts = ["%s %s%s (%s)" % (k, "+" if a >= b else "", fms(a - b),
                               "%.2f×" % (a / b) if b > 0 else "—")
             for k, a, _, b, _ in conv_table(po, pt)[:n] if abs(a - b) >= 0.02 * total]
    return ", ".join(parts) or "—"


def profile_details(m, top):
    prof_o, prof_t = m["profile_onnxrun"], m["profile_ort"]
    lines = ["<details><summary>%s: per-op profiles</summary>" % m["name"], ""]
    for label, p in (("`onnxrun bench --profile`", prof_o), ("ORT profiler", prof_t)):
        if "error" in p:
            lines.append("- %s: failed: %s" % (label, p["error"]))
        else:
            lines.append("- %s: 1 thread, %d runs, p50 %s ms, op time %s ms/run (mean per "
                         "run); other processes' CPU share during it %s" % (
                             label, p["runs"], fms(p["p50_ms"]) if p["p50_ms"] else NM,
                             fms(op_time(p)),
                             fmt_pct(p["foreign"])))
    lines.append("")
    if profiled(m):
        rows = []
        tot_o, tot_t = op_time(prof_o), op_time(prof_t)
        so = sorted(prof_o["by_op"].items(), key=lambda kv: -kv[1][0])[:top]
        st = sorted(prof_t["by_op"].items(), key=lambda kv: -kv[1][0])[:top]
        for i in range(max(len(so), len(st))):
            row = []
            for items, tot in ((so, tot_o), (st, tot_t)):
                if i < len(items):
                    op, (ms, n) = items[i]
                    row += [op, "%.2f" % ms, "%.0f%%" % (100 * ms / tot), str(n)]
                else:
                    row += ["", "", "", ""]
            rows.append(row)
        lines += md_table(["onnxrun op", "ms/run", "share", "steps", "ORT op", "ms/run", "share",
                           "steps"],
                          rows, ["---", "---:", "---:", "---:", "---", "---:", "---:", "---:"])
        lines.append("")
        lines += md_table(["op family", "onnxrun ms", "onnxrun share", "ORT ms", "ORT share",
                           "onnxrun − ORT ms"],
                          [[f, "%.2f" % a, "%.0f%%" % (100 * a / tot_o), "%.2f" % b,
                            "%.0f%%" % (100 * b / tot_t), "%+.2f" % (a - b)]
                           for f, a, b in family_gaps(prof_o, prof_t)
                           if max(a, b) >= 0.005 * max(tot_o, tot_t)],
                          ["---", "---:", "---:", "---:", "---:", "---:"])
        lines.append("")
        ct = conv_table(prof_o, prof_t)
        if ct:
            lines += md_table(["Conv kind", "onnxrun ms", "steps", "ORT ms", "steps",
                               "onnxrun − ORT ms", "onnxrun / ORT"],
                              [[k, "%.2f" % a, str(na), "%.2f" % b, str(nb), "%+.2f" % (a - b),
                                "%.2f" % (a / b) if b > 0 else "—"] for k, a, na, b, nb in ct],
                              ["---", "---:", "---:", "---:", "---:", "---:", "---:"])
            lines.append("")
    lines += ["</details>", ""]
    return lines


def noise_section(models, slow_ratio):
    """Reproducibility as measured: the same optimized graph at several opsets, and the spread
    of the per-round p50s."""
    L = []
    groups = {}
    for m in models:
        if 1 in m["bench"] and "error" not in m["info"]:
            key = (m["arch"] or m["name"], json.dumps(m["info"].get("ops_after"), sort_keys=True))
            groups.setdefault(key, []).append(m)
    rows = []
    for (arch, _), ms in sorted(groups.items()):
        if len(ms) < 2:
            continue
        ratios = [m["bench"][1]["ratio"] for m in ms]
        rows.append([arch, ", ".join("op%s %.2f" % (m["opset"], m["bench"][1]["ratio"])
                                     for m in ms),
                     "%.2f–%.2f" % (min(ratios), max(ratios)),
                     "yes" if len({r > slow_ratio for r in ratios}) > 1 else "no"])
    if rows:
        L += ["The same architecture exported at several opsets gives the same optimized graph "
              "(same op histogram), so the spread of its ratios is a direct measure of how "
              "reproducible these timings are on this machine:", ""]
        L += md_table(["arch", "ratio 1t per opset", "range", "verdict differs"], rows,
                      ["---", "---", "---:", "---"])
        L.append("")
    spread = []
    for m in models:
        b = m["bench"].get(1)
        if not b:
            continue
        so = max(b["rounds_onnxrun"]) / min(b["rounds_onnxrun"])
        st = max(b["rounds_ort"]) / min(b["rounds_ort"])
        if max(so, st) > 1.15:
            spread.append("%s (onnxrun %s ms, ORT %s ms)" % (
                m["name"], rounds(b["rounds_onnxrun"]), rounds(b["rounds_ort"])))
    if spread:
        L += ["Models whose slowest round's p50 was more than 15%% above the fastest round's "
              "(either runtime; the table shows the median round): %s." % "; ".join(spread), ""]
    return L


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--onnxrun", help="the onnxrun CLI (required unless --from-raw)")
    ap.add_argument("--models-dir", help="models/export.py's output directory (required unless "
                    "--from-raw)")
    ap.add_argument("--bench-json", action="append", default=[], metavar="FILE",
                    help="raw results of tools/bench/bench_vs_ort.py --json (repeatable; a later file "
                    "wins for a model and thread count in several)")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "MODELS.md"))
    ap.add_argument("--raw-json", metavar="OUT.json", help="also write every measurement as JSON")
    ap.add_argument("--from-raw", metavar="RAW.json", help="measure nothing: render the Markdown "
                    "from a --raw-json file of an earlier run")
    ap.add_argument("--slow-ratio", type=float, default=1.25,
                    help="profile models slower than this x ORT at 1 thread (default 1.25)")
    ap.add_argument("--profile-iters", type=int, default=10, help="timed runs per profile")
    ap.add_argument("--top", type=int, default=6, help="op kinds listed per profile")
    ap.add_argument("--wait-idle", type=float, default=10, metavar="SECONDS",
                    help="before each profile run, wait up to SECONDS for an idle machine")
    ap.add_argument("--node", default=shutil.which("node") or "node")
    ap.add_argument("--ort-dir", help="where tools/bench/setup_ort.sh installed onnxruntime-node "
                    "(default: $ONNXRUN_ORT_DIR, then build/ort)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per test/info run")
    ap.add_argument("--only", help="comma-separated model names (default: every model in DIR)")
    ap.add_argument("--no-ort", action="store_true", help="skip models/ort_check.js")
    ap.add_argument("--built-from", metavar="TEXT",
                    help="what the onnxrun binary was built from, for the header (default: "
                    "`git describe --always --dirty` of this repository)")
    args = ap.parse_args()

    if args.from_raw:
        try:
            with open(args.from_raw) as f:
                state = json.load(f)
        except (OSError, ValueError) as e:
            die("cannot read %s: %s" % (args.from_raw, e))
        for m in state["models"]:  # JSON object keys are strings
            m["bench"] = {int(t): b for t, b in m["bench"].items()}
            for k in ("profile_onnxrun", "profile_ort"):
                if m.get(k) and "by_op" in m[k]:
                    m[k]["by_op"] = {op: tuple(v) for op, v in m[k]["by_op"].items()}
        write_markdown(state, args.out, args.top)
        log("wrote %s" % args.out)
        return

    if not args.onnxrun or not args.models_dir:
        die("--onnxrun and --models-dir are required (unless --from-raw)")
    if not os.access(args.onnxrun, os.X_OK):
        die("%s is not an executable" % args.onnxrun)
    dirs = model_dirs(args.models_dir, args.only)
    if not dirs:
        die("no <name>/model.onnx in %s" % args.models_dir)
    bench, bench_files = load_bench(args.bench_json)
    started = datetime.datetime.now(datetime.timezone.utc)
    state = {
        "started": started.isoformat(), "loadavg_start": loadavg(), "machine": machine(),
        "onnxrun_version": (capture([args.onnxrun, "--version"]).splitlines() or ["?"])[0],
        "built_from": args.built_from or capture(
            ["git", "-C", REPO, "describe", "--always", "--dirty"]) or "?",
        "models_dir": args.models_dir, "slow_ratio": args.slow_ratio,
        "profile_iters": args.profile_iters, "bench_files": bench_files, "models": [],
    }

    models = state["models"]
    for i, d in enumerate(dirs):
        name, meta = os.path.basename(d), read_meta(d)
        log("[%d/%d] %s" % (i + 1, len(dirs), name))
        m = {"name": name, "dir": d, "meta": meta, "arch": meta.get("arch"),
             "opset": meta.get("opset")}
        m["test"] = onnxrun_test(args, d)
        m["info"] = onnxrun_info(args, os.path.join(d, "model.onnx"))
        m["ort"] = None if args.no_ort else ort_check(args, d)
        m["bench"] = bench.get(name, {})
        log("    %s %s; ORT %s; bench %s" % (
            m["test"]["verdict"], m["test"]["detail"][:80], ort_cell(m["ort"])[:60],
            ", ".join("t%d %.2fx" % (t, b["ratio"]) for t, b in sorted(m["bench"].items())
                      if b["ratio"] is not None) or NM))
        models.append(m)
    models.sort(key=lambda m: sort_key(m["name"], m["meta"]))

    for m in slow_models(models, args.slow_ratio):
        log("profiling %s (%.2fx ORT at 1 thread)" % (m["name"], m["bench"][1]["ratio"]))
        model = os.path.join(m["dir"], "model.onnx")
        m["profile_onnxrun"] = profile_onnxrun(args, model)
        m["profile_ort"] = (profile_ort(args, model, m["info"]) if "error" not in m["info"]
                            else {"error": "onnxrun info failed"})

    state["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
    if args.raw_json:
        with open(args.raw_json, "w") as f:
            json.dump(state, f, indent=1, default=str)
        log("wrote %s" % args.raw_json)
    write_markdown(state, args.out, args.top)
    log("wrote %s" % args.out)


def slow_models(models, slow_ratio):
    return [m for m in models if 1 in m["bench"] and m["bench"][1]["ratio"] is not None
            and m["bench"][1]["ratio"] > slow_ratio]



def capture(cmd):
    rc, out, _ = run(cmd, 60)
    return out.strip() if rc == 0 else ""


def write_markdown(state, out_path, top):
    models, bench_files = state["models"], state["bench_files"]
    mach, slow_ratio = state["machine"], state["slow_ratio"]
    started = datetime.datetime.fromisoformat(state["started"])
    finished = datetime.datetime.fromisoformat(state["finished"])
    slow = slow_models(models, slow_ratio)
    counts = {v: sum(1 for m in models if m["test"]["verdict"] == v) for v in ("PASS", "FAIL", "SKIP")}
    threads = sorted({t for m in models for t in m["bench"]}) or [1]
    benched = [m for m in models if 1 in m["bench"] and m["bench"][1]["ratio"] is not None]
    ort_version = "?"
    for b in bench_files:
        ort_version = b["versions"].get("onnxruntime-node", ort_version)
    fails = [m for m in models if m["test"]["verdict"] == "FAIL"]
    skips = [m for m in models if m["test"]["verdict"] == "SKIP"]

    L = ["# Models: accuracy and speed per architecture", "",
         "Generated by `tools/bench/models_report.py` from real runs; do not edit by hand, re-run it:", "",
         "```sh",
         "/usr/bin/python3 models/export.py --out DIR --set all",
         "/usr/bin/python3 tools/bench/bench_vs_ort.py --onnxrun BIN --threads 1 --iters 10 --repeats 3 "
         "--wait-idle 10 --retry-noisy 0.15 --pin 0 --json BENCH.json --models DIR/*/model.onnx",
         "# optional: models at >= 1.10x again, longer (a later --bench-json replaces their figures)",
         "/usr/bin/python3 tools/bench/bench_vs_ort.py --onnxrun BIN --threads 1 --iters 20 --repeats 5 "
         "--wait-idle 10 --retry-noisy 0.15 --pin 0 --json RECHECK.json --models M1 M2 ...",
         "/usr/bin/python3 tools/bench/models_report.py --onnxrun BIN --models-dir DIR "
         "--bench-json BENCH.json [--bench-json RECHECK.json] --out docs/MODELS.md",
         "```", "",
         "- date: %s (report run %s – %s UTC)" % (
             started.strftime("%Y-%m-%d"), started.strftime("%H:%M"), finished.strftime("%H:%M")),
         "- machine: %s, %d cores, %s RAM, Linux %s; 1-min load average %s when the report "
         "started" % (mach["cpu"], mach["cores"], mach["memory"], mach["kernel"],
                      fmt_f(state.get("loadavg_start"), 2)),
         "- versions: %s built from %s, onnxruntime-node %s" % (
             state["onnxrun_version"], state["built_from"], ort_version),
         "- models: %d from `%s` (models/export.py: seeded random weights, PyTorch eval() logits "
         "as the reference, batch 1)" % (len(models), state["models_dir"]),
         "- tolerance: |onnxrun − PyTorch| ≤ atol + rtol·|PyTorch| elementwise, atol %g, rtol %g "
         "(`onnxrun test`); the ORT column is `models/ort_check.js`, ONNX Runtime (graph "
         "optimizations off) against the same reference and tolerance" % (ATOL, RTOL),
         "- **summary: %d pass / %d fail / %d skip** of %d models; %s" % (
             counts["PASS"], counts["FAIL"], counts["SKIP"], len(models),
             ("**%d of %d** benchmarked models slower than %.2f× ORT at 1 thread" % (
                 len(slow), len(benched), slow_ratio)) if benched
             else "speed not measured (no --bench-json)"),
         ]
    if bench_files:
        L.append("- bench: `tools/bench/bench_vs_ort.py`, each run a fresh process, rounds interleaved; "
                 "ratio = p50 onnxrun / p50 ORT (medians over the rounds)%s: %s" % (
                     "; a later file's figures replace an earlier one's for the same model"
                     if len(bench_files) > 1 else "",
                     "; ".join("`%s`: %d models, batch %s, %s timed runs after %s warm-up runs, "
                               "median of %s rounds%s" % (
                                   os.path.basename(b["file"]), b["models"], b["batch"], b["iters"],
                                   b["warmup"], b["repeats"],
                                   ", pinned to CPUs %s" % b["pin"] if b.get("pin") else "")
                               for b in bench_files)))
        L.append("- bench noise: " + noise_line(bench_files))
        L.append("- bench machine: " + "; ".join(
            "%s, %s cores" % (b["machine"].get("cpu", "?"), b["machine"].get("cores", "?"))
            for b in bench_files))
    else:
        L.append("- bench: " + NM)
    L += ["", "Columns: *params* and *GFLOPs* as `onnxrun info` counts them (GFLOPs = 2 × MACs "
          "for one image); *max abs / max rel* = onnxrun's worst error over all outputs of all "
          "test data sets; *ORT max abs* = ONNX Runtime's worst |diff| and whether it is within "
          "the same tolerance; *noise* = the largest share of all CPUs that other processes "
          "used during one of the model's kept bench runs; *fusions* = rewrite count of every "
          "optimization pass that changed the graph; *ops after optimization* = `onnxrun info "
          "--optimized` node histogram (fused nodes as A+B).", ""]

    header = ["model", "opset", "params", "GFLOPs", "result", "max abs", "max rel", "ORT max abs"]
    align = ["---", "---:", "---:", "---:", "---", "---:", "---:", "---"]
    for t in threads:
        header += ["p50 onnxrun %dt (ms)" % t, "p50 ORT %dt (ms)" % t, "ratio %dt" % t]
        align += ["---:", "---:", "---:"]
    header += ["noise", "fusions applied (pass rewrites)", "ops after optimization"]
    align += ["---:", "---", "---"]
    rows = []
    for m in models:
        info = m["info"]
        ok_info = "error" not in info
        row = [m["name"], str(m["opset"] or info.get("opset", "?")),
               fmt_params(info.get("parameters")) if ok_info else NM,
               fmt_f(info.get("gflops"), 2 if (info.get("gflops") or 0) >= 0.1 else 4)
               if ok_info else NM,
               verdict_cell(m["test"]), fmt_e(m["test"]["max_abs"]), fmt_e(m["test"]["max_rel"]),
               ort_cell(m["ort"])]
        noise = []
        for t in threads:
            b = m["bench"].get(t)
            if b is None:
                row += [NM, NM, NM]
            else:
                r = b["ratio"]
                row += [fms(b["p50_onnxrun"]), fms(b["p50_ort"]), ratio_cell(r, slow_ratio)]
                if b["foreign_max"] is not None:
                    noise.append(b["foreign_max"])
        row += [fmt_pct(max(noise)) if noise else NM,
                fusions(info.get("passes", [])) if ok_info else NM,
                histogram(info.get("ops_after", {})) if ok_info else "info failed: " + info["error"]]
        rows.append(row)
    L += md_table(header, rows, align)

    L += ["", "## Tolerance failures and skips", ""]
    if not fails and not skips:
        L.append("None: every model matches PyTorch within atol %g + rtol %g." % (ATOL, RTOL))
    for m in fails + skips:
        o = m["ort"]
        shared = ("ORT also misses (max |diff| %.1e, margin %.2f)" % (o["max_diff"], o["margin"])
                  if o and "error" not in o and not o["ok"] else
                  "ORT is within tolerance (max |diff| %.1e, margin %.2f)" % (
                      o["max_diff"], o["margin"]) if o and "error" not in o else
                  "ORT " + ort_cell(o))
        L.append("- **%s** %s: `%s`; %s" % (m["name"], m["test"]["verdict"],
                                            one_line(m["test"]["detail"]), shared))

    L += ["", "## Slower than %.2f× ONNX Runtime at 1 thread" % slow_ratio, ""]
    if not benched:
        L.append("Speed " + NM + " (no --bench-json).")
    elif not slow:
        L.append("None of the %d benchmarked models." % len(benched))
    else:
        L += ["%d of %d benchmarked models. Each was profiled after the bench, at 1 thread, "
              "%s timed runs, with `onnxrun bench --profile` and with ONNX Runtime's own profiler "
              "(`enableProfiling`, the session options of `tools/bench/ort_bench.js`); both sum each "
              "op's kernel time per run (mean over all runs, first and warm-up runs included). "
              "Profiling adds timing overhead and ran at another moment than the bench, so "
              "compare shares and the per-family gap rather than absolute times across tables. "
              "Op families put fused ops under their first op (`Conv+Relu` → Conv), so a family "
              "at 0 ms on one side was fused into another op by that runtime (ORT fuses "
              "activations into Conv/Gemm, and its NCHWc `Conv` also absorbs a following "
              "residual Add; ORT's NCHWc transformer runs a standalone BatchNormalization as a "
              "*depthwise 1×1* Conv); both runtimes' layout conversions (onnxrun "
              "`NCHW->NHWC`/`NHWC->NCHW`, ORT `ReorderInput`/`ReorderOutput`) count as *layout "
              "conversion*." % (
                  len(slow), len(benched), state.get("profile_iters", "?")), ""]
        L += slow_summary(slow)
        L.append("")
        prof = [m for m in slow if profiled(m)]
        gapped = [m for m in prof if op_time(m["profile_onnxrun"]) > op_time(m["profile_ort"])]
        worst = {}
        for m in gapped:
            f = family_gaps(m["profile_onnxrun"], m["profile_ort"])[0][0]
            worst.setdefault(f, []).append(m["name"])
        if prof:
            text = "In the profiles of the %d models, the op family with the largest gap is %s." % (
                len(prof), ", ".join("**%s** in %d (%s)" % (f, len(ns), ", ".join(ns))
                                     for f, ns in sorted(worst.items(), key=lambda kv: -len(kv[1])))
                or "none")
            if len(gapped) < len(prof):
                text += " The profile runs did not show onnxrun slower for %s." % ", ".join(
                    m["name"] for m in prof if m not in gapped)
            L += [text, ""]
            agg = {}
            for m in prof:
                for k, a, na, b, nb in conv_table(m["profile_onnxrun"], m["profile_ort"]):
                    x = agg.setdefault(k, [0.0, 0.0, 0, set()])
                    x[0] += a
                    x[1] += b
                    x[2] += na
                    x[3].add(m["name"])
            if agg:
                L += ["Conv time by kind, summed over the %d profiled slow models (ms per run of "
                      "each model, added up; kinds from the ONNX weights' shape and `group`; "
                      "*steps* counts onnxrun's Conv nodes):" % len(prof), ""]
                L += md_table(["Conv kind", "models", "steps", "onnxrun ms", "ORT ms",
                               "onnxrun − ORT ms", "onnxrun / ORT"],
                              [[k, str(len(v[3])), str(v[2]), "%.1f" % v[0], "%.1f" % v[1],
                                "%+.1f" % (v[0] - v[1]), "%.2f" % (v[0] / v[1]) if v[1] else "—"]
                               for k, v in sorted(agg.items(), key=lambda kv: -(kv[1][0] - kv[1][1]))],
                              ["---", "---:", "---:", "---:", "---:", "---:", "---:"])
                L.append("")
        for m in slow:
            if profiled(m) or m.get("profile_onnxrun") or m.get("profile_ort"):
                L += profile_details(m, top)
    not_benched = [m["name"] for m in models if 1 not in m["bench"]]
    if bench_files and not_benched:
        L += ["", "Not benchmarked (absent from the bench JSON): " + ", ".join(not_benched) + "."]
    if benched:
        L += ["", "## Measurement noise", "", "- " + noise_line(bench_files) + ".", ""]
        L += noise_section(models, slow_ratio)
    L.append("")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(L))
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main()
