#!/usr/bin/python3
"""Side-by-side benchmark: `onnxrun bench` against ONNX Runtime (tools/bench/ort_bench.js).

ONNX Runtime is a comparison only, never a dependency of onnxrun. Standard library only.

    tools/bench/bench_vs_ort.py --onnxrun build/onnxrun --models M1.onnx M2.onnx \
        [--threads 1,2] [--iters 30] [--warmup 5] [--repeats 3] [--batch 1] \
        [--markdown OUT.md] [--json OUT.json] [--ort-only] [--no-baseline]
        [--wait-idle SECONDS] [--retry-noisy SHARE] [--pin CPUS] [-v]

For every model and thread count, `--repeats` rounds run each runtime once, every run in a fresh
process, alternating which runtime goes first, so that drift in machine load hits both alike.
Every figure in the table is the median over the rounds. "RSS above baseline" subtracts the peak
RSS of the same runtime on a tiny one-Conv model (written by `tools/bench/ort_bench.js --write-tiny`)
at the same thread count, measured the same interleaved way: it removes the fixed cost of the
process (Node and the ORT library on one side, the onnxrun binary on the other).

Every run also records "foreign_cpu", the share of all CPUs that other processes used during it;
the median and maximum are printed and written next to the table. On a shared machine,
--wait-idle waits for an idle moment before each run and --retry-noisy re-runs noisy runs.
"""

import argparse
import datetime
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(TOOLS))
KEYS = ("model", "threads", "batch", "iters", "load_ms", "first_run_ms", "p50_ms", "p90_ms",
        "min_ms", "peak_rss_mb")
METRICS = ("load_ms", "first_run_ms", "p50_ms", "p90_ms", "min_ms", "peak_rss_mb")
RUNTIMES = ("onnxrun", "ort")


def die(msg):
    sys.exit("bench_vs_ort: " + msg)


def parse_json_output(text, what):
    """The one JSON object a benchmark run prints (tolerates log lines around it)."""
    text = text.strip()
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
        for line in reversed(text.splitlines()):
            line = line.strip()
            if line.startswith("{") and line.endswith("}"):
                try:
                    obj = json.loads(line)
                    break
                except ValueError:
                    pass
    if not isinstance(obj, dict):
        die("%s printed no JSON object:\n%s" % (what, text[-2000:]))
    missing = [k for k in KEYS if k not in obj]
    if missing:
        die("%s: JSON lacks %s: %s" % (what, ", ".join(missing), text[-2000:]))
    return obj


def cpu_jiffies():
    """(busy, total) jiffies of all CPUs from /proc/stat, or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    total = sum(v[:8])  # guest time is already counted in user
    return total - idle, total


def wait_idle(max_wait, threshold=0.15, window=0.5):
    """Waits (at most max_wait s) until the machine is idle for two windows in a row."""
    deadline = time.monotonic() + max_wait
    calm = 0
    while time.monotonic() < deadline:
        a = cpu_jiffies()
        time.sleep(window)
        b = cpu_jiffies()
        if a is None or b is None:
            return
        busy = (b[0] - a[0]) / max(1, b[1] - a[1])
        calm = calm + 1 if busy < threshold else 0
        if calm >= 2:
            return


def run_json(cmd, timeout):
    """Runs one benchmark process; adds "foreign_cpu": the share of all CPUs that other
    processes used meanwhile (a measure of how noisy the run was)."""
    what = " ".join(cmd)
    j0, c0, t0 = cpu_jiffies(), resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        die("timed out after %ds: %s" % (timeout, what))
    except OSError as e:
        die("cannot run %s: %s" % (what, e))
    if p.returncode != 0:
        die("exit %d: %s\n%s%s" % (p.returncode, what, p.stdout[-2000:], p.stderr[-2000:]))
    j1, c1, t1 = cpu_jiffies(), resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    res = parse_json_output(p.stdout, what)
    if j0 and j1:
        hz = os.sysconf("SC_CLK_TCK")
        child = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
        capacity = (j1[1] - j0[1]) / hz or (t1 - t0) * (os.cpu_count() or 1)
        res["foreign_cpu"] = round(max(0.0, ((j1[0] - j0[0]) / hz - child) / capacity), 3)
    return res


class Runner:
    def __init__(self, args):
        self.args = args
        self.onnxrun_warmup = True
        self.onnxrun_batch = True
        if not args.ort_only:
            self._probe_onnxrun()

    def _probe_onnxrun(self):
        """Passes --warmup/--batch to `onnxrun bench` only if its help mentions them."""
        try:
            p = subprocess.run([self.args.onnxrun, "bench", "--help"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=60)
            help_text = p.stdout
        except (OSError, subprocess.TimeoutExpired) as e:
            die("cannot run %s: %s" % (self.args.onnxrun, e))
        if "--warmup" not in help_text:
            self.onnxrun_warmup = False
            print("note: `onnxrun bench --help` shows no --warmup; onnxrun uses its own default",
                  file=sys.stderr)
        if "--batch" not in help_text:
            self.onnxrun_batch = False
            if self.args.batch != 1:
                die("`onnxrun bench --help` shows no --batch; cannot run batch %d" % self.args.batch)

    def onnxrun_cmd(self, model, threads, batch):
        cmd = [self.args.onnxrun, "bench", model, "--threads", str(threads),
               "--iters", str(self.args.iters)]
        if self.onnxrun_warmup:
            cmd += ["--warmup", str(self.args.warmup)]
        if self.onnxrun_batch and batch != 1:
            cmd += ["--batch", str(batch)]
        return cmd + ["--json"]

    def ort_cmd(self, model, threads, batch):
        cmd = [self.args.node, self.args.ort_script, model, "--threads", str(threads),
               "--iters", str(self.args.iters), "--warmup", str(self.args.warmup),
               "--batch", str(batch), "--json"]
        if self.args.ort_dir:
            cmd += ["--ort-dir", self.args.ort_dir]
        return cmd

    def interleaved(self, model, threads, label, batch, rss_only=False):
        """Median of each metric per runtime over `repeats` alternating rounds. rss_only: only
        the peak RSS matters (the baseline), so noisy runs are not run again."""
        runs = {rt: [] for rt in self.runtimes()}
        for r in range(self.args.repeats):
            order = self.runtimes() if r % 2 == 0 else tuple(reversed(self.runtimes()))
            for rt in order:
                cmd = (self.onnxrun_cmd if rt == "onnxrun" else self.ort_cmd)(model, threads, batch)
                pin = self.pin_for(threads)
                if pin:
                    cmd = ["taskset", "-c", pin] + cmd
                for attempt in range(self.args.max_retries + 1):
                    if self.args.wait_idle > 0:
                        wait_idle(self.args.wait_idle)
                    res = run_json(cmd, self.args.timeout)
                    noisy = (self.args.retry_noisy is not None and not rss_only and
                             res.get("foreign_cpu", 0) > self.args.retry_noisy)
                    if not noisy or attempt == self.args.max_retries:
                        break
                    if self.args.verbose:
                        print("  [%s %s t=%d round %d] other processes used %.0f%% of the CPUs: "
                              "run again" % (label, rt, threads, r + 1, 100 * res["foreign_cpu"]),
                              file=sys.stderr)
                res["retries"] = attempt
                runs[rt].append(res)
                if self.args.verbose:
                    print("  [%s %s t=%d round %d] p50 %.3f ms, load %.1f ms, rss %.1f MB, "
                          "other processes' CPU %.0f%%" % (
                              label, rt, threads, r + 1, res["p50_ms"], res["load_ms"],
                              res["peak_rss_mb"], 100 * res.get("foreign_cpu", 0)),
                          file=sys.stderr)
        return {rt: {"median": {m: statistics.median(float(x[m]) for x in xs) for m in METRICS},
                     "runs": xs} for rt, xs in runs.items()}

    def pin_for(self, threads):
        """The CPU list a run at `threads` threads is pinned to (--pin), or None."""
        if not self.args.pin:
            return None
        cpus = self.args.pin.split(",")
        return ",".join(cpus[:threads]) if threads < len(cpus) else self.args.pin

    def runtimes(self):
        return ("ort",) if self.args.ort_only else RUNTIMES


def fmt(x, digits=1):
    return "—" if x is None else "%.*f" % (digits, x)


def display_name(model):
    """resnet50.onnx; dir/model.onnx for zoo-style folders whose files are all model.onnx."""
    base = os.path.basename(model)
    if base == "model.onnx":
        return os.path.join(os.path.basename(os.path.dirname(os.path.abspath(model))), base)
    return base


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def table_rows(results):
    rows = []
    for r in results:
        o = r["onnxrun"]["median"] if "onnxrun" in r else None
        t = r["ort"]["median"]
        ob = r["baseline"].get("onnxrun")
        tb = r["baseline"].get("ort")
        above_o = o["peak_rss_mb"] - ob if o and ob is not None else None
        above_t = t["peak_rss_mb"] - tb if tb is not None else None
        ratio = o["p50_ms"] / t["p50_ms"] if o and t["p50_ms"] > 0 else None
        rows.append([
            display_name(r["model"]), str(r["threads"]),
            fmt(o and o["p50_ms"], 2), fmt(t["p50_ms"], 2), fmt(ratio, 2),
            fmt(o and o["load_ms"]), fmt(t["load_ms"]),
            fmt(o and o["peak_rss_mb"]), fmt(t["peak_rss_mb"]),
            fmt(above_o), fmt(above_t),
        ])
    return rows


def summary_lines(results):
    """Per thread count: geometric mean, median and range of the p50 and load ratios."""
    out = []
    for t in sorted({r["threads"] for r in results}):
        p50, load = [], []
        for r in results:
            if r["threads"] != t or "onnxrun" not in r:
                continue
            o, x = r["onnxrun"]["median"], r["ort"]["median"]
            if o["p50_ms"] > 0 and x["p50_ms"] > 0:
                p50.append((o["p50_ms"] / x["p50_ms"], display_name(r["model"])))
            if o["load_ms"] > 0 and x["load_ms"] > 0:
                load.append(o["load_ms"] / x["load_ms"])
        if not p50:
            continue
        geo = lambda v: math.exp(sum(math.log(x) for x in v) / len(v))
        ratios = sorted(x for x, _ in p50)
        worst = max(p50)
        out.append("%d thread(s), %d models: p50 onnxrun/ORT geometric mean %.3f, median %.3f, "
                   "min %.3f, max %.3f (%s), %d of %d at or below 0.95; load onnxrun/ORT "
                   "geometric mean %s, %d of %d at or below 1.00" % (
                       t, len(p50), geo(ratios), statistics.median(ratios), ratios[0], worst[0],
                       worst[1], sum(x <= 0.95 for x in ratios), len(ratios),
                       fmt(geo(load) if load else None, 3), sum(x <= 1.0 for x in load), len(load)))
    return out


HEADER = ["model", "threads", "p50 onnxrun (ms)", "p50 ORT (ms)", "ratio onnxrun/ORT",
          "load onnxrun (ms)", "load ORT (ms)", "peak RSS onnxrun (MB)", "peak RSS ORT (MB)",
          "RSS above baseline onnxrun (MB)", "RSS above baseline ORT (MB)"]


def text_table(rows):
    widths = [max(len(HEADER[i]), *(len(r[i]) for r in rows)) for i in range(len(HEADER))]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(HEADER), line(["-" * w for w in widths])] + [line(r) for r in rows])


def markdown_table(rows):
    out = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(["---"] + ["---:"] * (len(HEADER) - 1)) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_gib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return "%.0f GiB" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return "unknown"


def capture(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           timeout=60)
        return p.stdout.strip() if p.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def versions(args):
    v = {}
    if not args.ort_only:
        line = (capture([args.onnxrun, "--version"]).splitlines() or ["?"])[0]
        v["onnxrun"] = line[len("onnxrun "):] if line.startswith("onnxrun ") else line
    commit = capture(["git", "-C", REPO, "describe", "--always", "--dirty"])
    if commit:
        v["onnxrun git"] = commit
    ort_cmd = [args.node, args.ort_script, "--version"]
    if args.ort_dir:
        ort_cmd += ["--ort-dir", args.ort_dir]
    line = capture(ort_cmd)
    v["onnxruntime-node"] = line.split()[-1] if line else "?"
    v["node"] = capture([args.node, "--version"]) or "?"
    xnn = capture(["dpkg-query", "-W", "-f", "${Version}", "libxnnpack-dev"])
    if xnn:
        v["XNNPACK (Debian libxnnpack-dev)"] = xnn
    return v


def machine():
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "memory": mem_total_gib(),
            "kernel": platform.release()}


def write_markdown(path, args, rows, table, mach, vers, baselines):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# onnxrun vs ONNX Runtime", "",
        "- date: %s" % now,
        "- machine: %s, %d cores, %s RAM, Linux %s" % (mach["cpu"], mach["cores"], mach["memory"],
                                                      mach["kernel"]),
        "- versions: " + ", ".join("%s %s" % kv for kv in vers.items()),
        "- noise: other processes used %s%% of the CPUs during the median timed run (max %s%%); "
        "1-min load average %s at start, %s at end" % (
            fmt(mach["foreign_cpu_median"] and 100 * mach["foreign_cpu_median"], 0),
            fmt(mach["foreign_cpu_max"] and 100 * mach["foreign_cpu_max"], 0),
            fmt(mach["loadavg_start"], 2), fmt(mach["loadavg_end"], 2)),
        "- settings: batch %d, %d timed runs after %d warm-up runs, median of %d interleaved "
        "rounds (each run a fresh process)%s" % (
            args.batch, args.iters, args.warmup, args.repeats,
            "; runs pinned to CPUs %s (the first T for T threads)" % args.pin if args.pin else ""),
        "- RSS above baseline = peak RSS minus the same runtime's peak RSS on a tiny one-Conv model"
        " at the same thread count; baselines: %s" % ("; ".join(
            "%d thread(s): onnxrun %s MB, ORT %s MB" % (t, fmt(b.get("onnxrun")), fmt(b.get("ort")))
            for t, b in baselines.items()) or "not measured (--no-baseline)"),
        "- command: `%s`" % " ".join(["tools/bench/bench_vs_ort.py"] + sys.argv[1:]), "",
        markdown_table(rows), "",
    ] + ["- " + x for x in summary_lines(table)] + [""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--onnxrun", default=os.path.join(REPO, "build", "onnxrun"),
                    help="path of the onnxrun CLI (default: build/onnxrun)")
    ap.add_argument("--models", nargs="+", required=True, metavar="MODEL")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--markdown", metavar="OUT.md")
    ap.add_argument("--json", metavar="OUT.json", help="also write every run's raw JSON")
    ap.add_argument("--ort-only", action="store_true", help="measure ONNX Runtime alone")
    ap.add_argument("--no-baseline", action="store_true", help="skip the tiny-model baseline")
    ap.add_argument("--tiny-model", help="baseline model (default: written next to --onnxrun, "
                    "in bench/tiny_conv.onnx)")
    ap.add_argument("--node", default=shutil.which("node") or "node")
    ap.add_argument("--ort-script", default=os.path.join(TOOLS, "ort_bench.js"))
    ap.add_argument("--ort-dir", help="where tools/bench/setup_ort.sh installed onnxruntime-node "
                    "(default: ort_bench.js looks in build/ort)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per run (default 1800)")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                    help="before each run, wait up to SECONDS for the machine to be idle "
                    "(for shared machines; default 0: don't wait)")
    ap.add_argument("--retry-noisy", type=float, metavar="SHARE",
                    help="run again a run during which other processes used more than SHARE "
                    "(0..1) of the CPUs (default: keep every run)")
    ap.add_argument("--max-retries", type=int, default=5,
                    help="most re-runs of one noisy run (default 5); the last one is kept")
    ap.add_argument("--pin", metavar="CPUS",
                    help="comma-separated CPU numbers; a run at T threads is pinned (taskset) to "
                         "the first T of them, both runtimes alike. On a VM whose vCPUs differ in "
                         "speed (one shares its core with other guests) this removes which-vCPU "
                         "luck from 1-thread figures")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every run")
    args = ap.parse_args()

    try:
        threads = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        die("--threads wants comma-separated integers, got %r" % args.threads)
    if not threads or min(threads) < 1 or args.iters < 1 or args.repeats < 1 or args.batch < 1:
        die("--threads, --iters, --repeats and --batch must be >= 1")
    for m in args.models:
        if not os.path.isfile(m):
            die("model %s does not exist" % m)
    if not args.ort_only and not os.access(args.onnxrun, os.X_OK):
        die("%s is not an executable (build the CLI, or pass --ort-only)" % args.onnxrun)

    load_start = loadavg()
    if load_start is not None and load_start > 0.5:
        print("warning: 1-min load average is %.2f: other work on this machine skews timings"
              % load_start, file=sys.stderr)
    runner = Runner(args)
    baselines, baseline_runs = {}, []
    if not args.no_baseline:
        tiny = args.tiny_model
        if not tiny:
            base_dir = (os.path.dirname(os.path.abspath(args.onnxrun)) if not args.ort_only
                        else os.path.join(REPO, "build"))
            tiny = os.path.join(base_dir, "bench", "tiny_conv.onnx")
            p = subprocess.run([args.node, args.ort_script, "--write-tiny", tiny],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                die("cannot write the tiny model: %s" % p.stderr)
        for t in threads:
            print("baseline %s, %d thread(s)..." % (os.path.basename(tiny), t), file=sys.stderr)
            b = runner.interleaved(tiny, t, "baseline", batch=1, rss_only=True)
            baselines[t] = {rt: b[rt]["median"]["peak_rss_mb"] for rt in b}
            b.update(model=tiny, threads=t)
            baseline_runs.append(b)
            if args.verbose:
                print("  baseline peak RSS (MB): %s" % baselines[t], file=sys.stderr)

    table = []
    for m in args.models:
        for t in threads:
            print("%s, %d thread(s)..." % (display_name(m), t), file=sys.stderr)
            r = runner.interleaved(m, t, display_name(m), args.batch)
            r.update(model=m, threads=t, baseline=baselines.get(t, {}))
            table.append(r)

    rows = table_rows(table)
    print(text_table(rows))
    for line in summary_lines(table):
        print(line)
    mach, vers = machine(), versions(args)
    mach["loadavg_start"], mach["loadavg_end"] = load_start, loadavg()
    # Timed runs only: the baseline's timings are not reported (nor re-run when noisy).
    foreign = [x["foreign_cpu"] for r in table for rt in RUNTIMES if rt in r
               for x in r[rt]["runs"] if "foreign_cpu" in x]
    mach["foreign_cpu_median"] = statistics.median(foreign) if foreign else None
    mach["foreign_cpu_max"] = max(foreign) if foreign else None
    if foreign:
        print("other processes used %.0f%% of the CPUs during a median run (max %.0f%%)%s" % (
            100 * mach["foreign_cpu_median"], 100 * mach["foreign_cpu_max"],
            ": timings are unreliable" if mach["foreign_cpu_median"] > 0.05 or
            mach["foreign_cpu_max"] > 0.25 else ""), file=sys.stderr)
    if args.markdown:
        write_markdown(args.markdown, args, rows, table, mach, vers, baselines)
        print("wrote %s" % args.markdown, file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": mach, "versions": vers, "batch": args.batch,
                       "iters": args.iters, "warmup": args.warmup, "repeats": args.repeats,
                       "pin": args.pin, "baselines": baseline_runs, "results": table}, f, indent=1)
        print("wrote %s" % args.json, file=sys.stderr)


if __name__ == "__main__":
    main()
