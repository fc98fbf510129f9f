#!/usr/bin/python3
"""ONNX backend-test conformance report for onnxrun.

Runs `onnxrun test DATA --verbose` (or reads a saved log), groups every case by the op it tests
(read from its model.onnx with a small protobuf reader, no onnx package needed) and writes
docs/CONFORMANCE.md: totals, per-op passed / allowlisted / skipped with reasons, the skip-reason
histogram and how to reproduce. With --write-allowlist it (re)writes the allowlist from the cases
that pass, grouped by op.

  tests/conformance/report.py --onnxrun build/onnxrun \\
      --data /usr/share/libonnx-testdata/data --out docs/CONFORMANCE.md

Exit status: 0, or 1 when a case FAILs or an allowlisted case does not pass.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

SUITES = ["node", "pytorch-converted", "pytorch-operator", "simple"]
# Ops that carry data into or out of the op under test rather than being it.
GLUE = {"Constant", "Identity", "Reshape", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat",
        "Cast", "Slice", "Transpose", "Flatten", "Size", "ConstantOfShape"}


# ---------------------------------------------------------------- protobuf (wire format) reading
def _varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf):
    """Yields (field_number, wire_type, value) of one message; value is bytes for wire type 2."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield field, wire, value


def model_ops(path):
    """[(domain, op_type)] of the main graph's nodes, in order (ModelProto.graph.node)."""
    with open(path, "rb") as f:
        data = f.read()
    ops = []
    for field, wire, value in _fields(data):
        if field == 7 and wire == 2:  # ModelProto.graph
            for gfield, gwire, gvalue in _fields(value):
                if gfield == 1 and gwire == 2:  # GraphProto.node
                    op, domain = "", ""
                    for nfield, nwire, nvalue in _fields(gvalue):
                        if nfield == 4 and nwire == 2:
                            op = nvalue.decode()
                        elif nfield == 7 and nwire == 2:
                            domain = nvalue.decode()
                    ops.append((domain, op))
    return ops


def op_label(ops):
    names = [(d + "." if d and d != "ai.onnx" else "") + o for d, o in ops]
    main = [n for n in names if n not in GLUE]
    if main:
        return main[0]
    rest = [n for n in names if n != "Constant"]
    return rest[0] if rest else (names[0] if names else "(empty graph)")


def case_op(data_dir, name, cache):
    """The op a case tests. An `_expanded` node test is grouped with the op it expands."""
    suite, _, test = name.partition("/")
    if suite == "node" and test.endswith("_expanded"):
        base = "node/" + test[: -len("_expanded")]
        if os.path.isfile(os.path.join(data_dir, base, "model.onnx")):
            return case_op(data_dir, base, cache)
    if name not in cache:
        try:
            cache[name] = op_label(model_ops(os.path.join(data_dir, name, "model.onnx")))
        except (OSError, ValueError, IndexError, UnicodeDecodeError):
            cache[name] = "(unreadable model)"
    return cache[name]


# ---------------------------------------------------------------- onnxrun test output
LINE = re.compile(r"^(PASS|SKIP|FAIL) (\S+)  ?(.*)$")


def parse_log(text):
    results = collections.OrderedDict()
    summary = None
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            results[m.group(2)] = (m.group(1), m.group(3).strip())
        elif re.match(r"^\d+ passed, \d+ failed", line):
            summary = line.strip()
    return results, summary


def strip_parens(msg):
    return msg[1:-1] if msg.startswith("(") and msg.endswith(")") else msg


PART_SPLIT = re.compile(r"; (?=node ')")
UNSUPPORTED_OP = re.compile(r"^node '[^']*' \(([\w.]+), opset (\d+)\): op is not supported$")
NODE_MSG = re.compile(r"^node '[^']*' \(([\w.]+)\): (.*?)(?: \[opset (\d+)\])?$")


def reason_parts(msg):
    """The skip message split into one part per unsupported node (or one for a model-level reason),
    without the model path, node names and the count prefix."""
    m = strip_parens(msg)
    m = re.sub(r"^model '[^']*': ", "", m)
    m = re.sub(r"^\d+ unsupported nodes?: ", "", m)
    return PART_SPLIT.split(m)


def short_reason(msg):
    """Readable per-op reason: 'Op (opset N) not supported' or 'Op: why (opset N)'."""
    out = []
    for part in reason_parts(msg):
        r = UNSUPPORTED_OP.match(part)
        if r:
            text = "%s (opset %s) not supported" % (r.group(1), r.group(2))
        else:
            r = NODE_MSG.match(part)
            text = ("%s: %s%s" % (r.group(1), r.group(2), " (opset %s)" % r.group(3) if r.group(3) else "")
                    if r else part)
        text = text.replace("; ", ", ")  # "; " separates parts
        if text not in out:
            out.append(text)
    return "; ".join(out)


def reason_class(msg):
    """A short, stable class for a skip message (for the histogram): its first part."""
    m = reason_parts(msg)[0]
    r = UNSUPPORTED_OP.match(m)
    if r:
        return "op not supported: %s" % r.group(1)
    r = re.search(r"graph (input|output) '[^']*' is (a sequence|an optional|a map)", m)
    if r:
        return "graph %s is %s (only tensors)" % (r.group(1), r.group(2))
    r = re.search(r"graph (input|output) '[^']*' has element type (\w+)", m)
    if r:
        return "element type %s not supported" % r.group(2)
    r = re.search(r"graph output '[^']*' is (\w+); only float32 outputs", m)
    if r:
        return "graph output is %s (only float32 outputs)" % r.group(1)
    if "imports no version of the default ONNX operator set" in m:
        return "training-only operator set (ai.onnx.preview.training)"
    if "training" in m:
        return "training mode"
    r = re.search(r"cast (?:from \w+ )?to (\w+)", m)
    if r:
        return "cast to %s at run time (only float32 is computed)" % r.group(1)
    if "Indices output" in m:
        return "MaxPool Indices output (int64 at run time)"
    r = re.search(r"(?:element type|input '[^']*' is|output '[^']*' is) (\w+)[; ]", m)
    if r:
        return "%s data (only float32 is computed)" % r.group(1)
    r = re.search(r"tensor file '[^']*': (.*)", m)
    if r:
        return "test data: " + r.group(1)
    r = NODE_MSG.match(m)
    if r:
        return "%s: %s" % (r.group(1), re.sub(r"'[^']*'", "'...'", r.group(2)))
    return re.sub(r"'[^']*'", "'...'", m)


def read_allowlist(path):
    names = []
    if path and os.path.isfile(path):
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    names.append(line)
    return names


def write_allowlist(path, results, ops):
    by_op = collections.defaultdict(list)
    for name, (verdict, _) in results.items():
        if verdict == "PASS":
            by_op[ops[name]].append(name)
    lines = [
        "# ONNX backend tests that onnxrun must pass (ctest conformance.allowlist).",
        "# One test directory a line, relative to the libonnx-testdata data directory, grouped by",
        "# the op under test. Regenerate with tests/conformance/report.py --write-allowlist; a case",
        "# leaves this list only with a reason in the commit that removes it.",
    ]
    for op in sorted(by_op, key=str.lower):
        lines.append("")
        lines.append("# %s (%d)" % (op, len(by_op[op])))
        lines.extend(sorted(by_op[op]))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def md_escape(s):
    return s.replace("|", "\\|")


def render(args, results, summary, ops, allow):
    allow_set = set(allow)
    suite_counts = collections.OrderedDict((s, collections.Counter()) for s in SUITES)
    per_op = collections.OrderedDict()
    hist = collections.Counter()
    hist_cases = collections.defaultdict(list)
    for name, (verdict, msg) in results.items():
        suite = name.split("/", 1)[0]
        suite_counts.setdefault(suite, collections.Counter())[verdict] += 1
        op = ops[name]
        row = per_op.setdefault(op, {"cases": 0, "PASS": 0, "SKIP": 0, "FAIL": 0, "allow": 0,
                                     "reasons": collections.Counter()})
        row["cases"] += 1
        row[verdict] += 1
        row["allow"] += name in allow_set
        if verdict == "SKIP":
            cls = reason_class(msg)
            hist[cls] += 1
            hist_cases[cls].append(name)
            for part in short_reason(msg).split("; "):
                row["reasons"][part] += 1
        elif verdict == "FAIL":
            row["reasons"]["FAIL: " + strip_parens(msg)] += 1
    total = collections.Counter()
    for c in suite_counts.values():
        total.update(c)
    missing = [n for n in allow if results.get(n, ("MISSING",))[0] != "PASS"]
    unlisted = [n for n, (v, _) in results.items() if v == "PASS" and n not in allow_set]

    out = []
    w = out.append
    w("# ONNX conformance")
    w("")
    w("Generated by `tests/conformance/report.py` from `onnxrun test --verbose` over the official ONNX")
    w("backend test data (Debian package `libonnx-testdata`, ONNX 1.12: `%s`)." % args.data)
    w("Do not edit by hand.")
    w("")
    w("## Totals")
    w("")
    w("| suite | cases | passed | skipped | failed |")
    w("|---|---:|---:|---:|---:|")
    for suite, c in suite_counts.items():
        w("| %s | %d | %d | %d | %d |" % (suite, sum(c.values()), c["PASS"], c["SKIP"], c["FAIL"]))
    w("| **all** | **%d** | **%d** | **%d** | **%d** |" % (sum(total.values()), total["PASS"],
                                                        total["SKIP"], total["FAIL"]))
    w("")
    w("(Cases are the test directories holding a `model.onnx`; `real/` holds only download links.)")
    w("")
    w("`onnxrun test` said: `%s`." % (summary or "(no summary line)"))
    w("")
    w("Allowlist (`tests/conformance/allowlist.txt`, ctest `conformance.allowlist`): **%d** cases; "
      "%d of them do not pass; %d passing cases are not listed." % (len(allow), len(missing), len(unlisted)))
    for n in missing:
        w("- allowlisted but not passing: `%s` (%s)" % (n, results.get(n, ("MISSING", ""))[0]))
    w("")
    w("A case PASSes when every output matches the reference within |got - want| <= 1e-4 + 1e-3 |want|")
    w("(NaN matches NaN; a bfloat16 output within one bfloat16 unit in the last place, 2^-7 relative:")
    w("ONNX 1.12's reference truncates to bfloat16, onnxrun rounds to nearest even as ONNX Runtime and")
    w("ONNX >= 1.14 do). It is SKIPped when the model is valid ONNX the runtime does not support: the")
    w("load returns `absl::UnimplementedError` naming every unsupported node with op and opset, or the")
    w("type or attribute value at fault. Anything else -- a wrong value, a crash, a timeout, another")
    w("error -- is a FAIL. Every input is first given to `Run()` (integer and bool ones too: they are")
    w("computed at run time); when the model cannot take one at run time (a shape, a value that sets")
    w("an output shape), the inputs that are not float32, then also small rank-0/1 float32 ones, then")
    w("every input are bound at load (`SessionOptions::bound_inputs`) so that what they feed folds. The")
    w("last step is for the ops whose output shape depends on their input's values (Unique, NonZero,")
    w("NonMaxSuppression): the runtime computes them at load only, from constants or bound inputs.")
    w("")
    w("## How to reproduce")
    w("")
    w("```sh")
    w("cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2")
    w("build/onnxrun test %s --jobs 2                 # every case, one line each" % args.data)
    w("ctest --test-dir build -R conformance                 # allowlist (must all pass) + all (0 FAIL)")
    w("tests/conformance/report.py --onnxrun build/onnxrun --data %s \\" % args.data)
    w("    --out docs/CONFORMANCE.md                        # this file")
    w("# the allowlist under AddressSanitizer + UndefinedBehaviorSanitizer (a finding fails the case):")
    w("cmake -S . -B build-asan -DONNXRUN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo")
    w("cmake --build build-asan -j2 --target onnxrun_cli")
    w("tests/conformance/run_allowlist.sh build-asan/onnxrun %s tests/conformance/allowlist.txt" % args.data)
    w("```")
    w("")
    w("## Skip reasons")
    w("")
    w("| reason | cases |")
    w("|---|---:|")
    for cls, n in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])):
        w("| %s | %d |" % (md_escape(cls), n))
    w("")
    w("## Per op")
    w("")
    w("Cases are grouped by the op they test (a node test's `_expanded` variant with its op; a")
    w("multi-node model by its first op that is not data plumbing).")
    w("")
    w("| op | cases | passed | allowlisted | skipped | failed | skip reasons |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for op in sorted(per_op, key=str.lower):
        r = per_op[op]
        reasons = "; ".join("%s%s" % (md_escape(t), " (x%d)" % n if n > 1 else "")
                            for t, n in sorted(r["reasons"].items(), key=lambda kv: (-kv[1], kv[0])))
        w("| %s | %d | %d | %d | %d | %d | %s |" % (md_escape(op), r["cases"], r["PASS"], r["allow"],
                                                   r["SKIP"], r["FAIL"], reasons))
    w("")
    w("## Skipped cases by reason")
    w("")
    for cls, n in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])):
        w("- **%s** (%d): %s" % (md_escape(cls), n, ", ".join("`%s`" % c for c in sorted(hist_cases[cls]))))
    w("")
    return "\n".join(out), total, missing


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--onnxrun", help="the onnxrun CLI (runs the tests)")
    p.add_argument("--data", default="/usr/share/libonnx-testdata/data", help="test data directory")
    p.add_argument("--log", help="read this saved `onnxrun test --verbose` output instead of running")
    p.add_argument("--allowlist", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "allowlist.txt"))
    p.add_argument("--out", help="write the Markdown report here (default: stdout)")
    p.add_argument("--write-allowlist", metavar="FILE", help="write the passing cases as an allowlist")
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args()

    if args.log:
        with open(args.log) as f:
            text = f.read()
    else:
        if not args.onnxrun:
            p.error("give --onnxrun (or --log)")
        proc = subprocess.run([args.onnxrun, "test", args.data, "--verbose", "--jobs", str(args.jobs)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        text = proc.stdout
    results, summary = parse_log(text)
    if not results:
        sys.exit("report.py: no PASS/SKIP/FAIL lines in the onnxrun output")
    cache = {}
    ops = {name: case_op(args.data, name, cache) for name in results}
    if args.write_allowlist:
        write_allowlist(args.write_allowlist, results, ops)
    allow = read_allowlist(args.allowlist)
    doc, total, missing = render(args, results, summary, ops, allow)
    if args.out:
        with open(args.out, "w") as f:
            f.write(doc)
    else:
        sys.stdout.write(doc)
    print("report.py: %d cases: %d passed, %d skipped, %d failed; allowlist %d (%d not passing)"
          % (sum(total.values()), total["PASS"], total["SKIP"], total["FAIL"], len(allow), len(missing)),
          file=sys.stderr)
    return 1 if total["FAIL"] or missing else 0


if __name__ == "__main__":
    sys.exit(main())
