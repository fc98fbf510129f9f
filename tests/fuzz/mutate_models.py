#!/usr/bin/env python3
"""Structure-aware model mutation run (issue 11): mutates ONNX models, runs every mutant through
ONNX Runtime (tests/fuzz/ort_outputs.js) and `onnxrun test` (an ASan + UBSan build), and sorts the
outcomes. Every mutant must end either with onnxrun's outputs equal to ORT's (within `onnxrun
test`'s tolerance) or with exit 1 and an error naming what it refuses.

  mutate_models.py --onnxrun BUILD/onnxrun --seeds DIR --out DIR [--cases N] [--seed S]
                   [--models DIR...] [--jobs J]

Sources: every model file in --seeds (tests/fuzz/make_seeds.py's model corpus: the allowlisted
ONNX backend tests and hand-made shape-op models) and the model.onnx of each --models folder
(CI models such as LeNet-5 and SqueezeNet). A mutant takes 1 to 3 mutations, each one of:
attribute value (boundary ints, NaN/inf floats, lists shortened/lengthened, strings), attribute
type, an attribute added or removed, graph input dims and rank, element types (inputs, outputs,
initializers), initializer payloads (truncated, extended, dims changed, values set to
NaN/inf/0/huge/negative), node inputs rewired (another value, "", an unknown name, one more or
one fewer), node outputs renamed, op type swapped, opset and IR version, a node deleted,
duplicated or moved out of topological order, an initializer named like a graph input.

Outcomes (one line per mutant in OUT/results.tsv; counts printed and in OUT/summary.txt):
  pass          onnxrun ran and matched ORT
  refused       onnxrun exit 1 with a one-line named error (ORT accepted or refused the model)
  unnamed_error onnxrun exit 1 with an error that quotes no name
  accepted_only onnxrun ran a model ORT refuses (no reference: listed for review)
  mismatch      onnxrun ran and differs from ORT (silent wrong output)
  crash         signal, sanitizer report, timeout, exception or no result
Inputs are uniform in [-1, 1) from the declared shapes (dynamic dimensions 1).
"""
import argparse
import collections
import copy
import glob
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPS = [l.split("(")[1].split(")")[0] for l in open(os.path.join(HERE, "..", "..", "ops",
                                                                 "op_list.inc"))
       if l.startswith(("ONNXRUN_OP(", "ONNXRUN_UNARY_OP("))]
ATTR_POOL = ["axis", "axes", "pads", "kernel_shape", "strides", "dilations", "group", "keepdims",
             "perm", "alpha", "beta", "epsilon", "to", "mode", "auto_pad", "blocksize",
             "ceil_mode", "count_include_pad", "transA", "transB", "allowzero", "num_outputs",
             "split", "value", "bogus"]
INTS = [0, 1, -1, 2, 3, 7, 2**31, 2**32, 2**62, -2**63, 2**63 - 1]
FLOATS = [0.0, -0.0, 1.0, -1.0, 1e-30, 1e30, float("nan"), float("inf"), float("-inf"), 0.5]
STRINGS = ["", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect", "edge",
           "DCR", "CRD", "none", "tanh", "x" * 40]
ELEM_TYPES = [1, 2, 3, 5, 6, 7, 9, 10, 11, 16, 0, 99]
MAX_INPUT_ELEMENTS = 1 << 22


def r_int(rng, v=None):
    c = rng.choice(INTS + ([v + 1, v - 1, v * 2, -v] if v is not None else []))
    return max(-2**63, min(2**63 - 1, c))


def mutate_attr_value(rng, m):
    nodes = [n for n in m.graph.node if n.attribute]
    if not nodes:
        return False
    a = rng.choice(rng.choice(nodes).attribute)
    if a.type == onnx.AttributeProto.INT:
        a.i = r_int(rng, a.i)
    elif a.type == onnx.AttributeProto.FLOAT:
        a.f = rng.choice(FLOATS + [a.f * 2, -a.f])
    elif a.type == onnx.AttributeProto.STRING:
        a.s = rng.choice(STRINGS).encode()
    elif a.type == onnx.AttributeProto.INTS:
        v = list(a.ints)
        k = rng.randrange(4)
        if k == 0 and v:
            v[rng.randrange(len(v))] = r_int(rng)
        elif k == 1 and v:
            v.pop(rng.randrange(len(v)))
        elif k == 2:
            v.append(r_int(rng))
        else:
            v = []
        del a.ints[:]
        a.ints.extend(v)
    elif a.type == onnx.AttributeProto.FLOATS:
        del a.floats[:]
        a.floats.extend(rng.choice(FLOATS) for _ in range(rng.randrange(4)))
    elif a.type == onnx.AttributeProto.TENSOR:
        mutate_tensor(rng, a.t)
    else:
        return False
    return True


def random_attr(rng, name):
    k = rng.randrange(6)
    if k == 0:
        return helper.make_attribute(name, r_int(rng))
    if k == 1:
        return helper.make_attribute(name, rng.choice(FLOATS))
    if k == 2:
        return helper.make_attribute(name, rng.choice(STRINGS))
    if k == 3:
        return helper.make_attribute(name, [r_int(rng) for _ in range(rng.randrange(1, 5))])
    if k == 4:
        return helper.make_attribute(name, [rng.choice(FLOATS) for _ in range(rng.randrange(1, 4))])
    return helper.make_attribute(name, helper.make_tensor(name, TensorProto.FLOAT, [0], []))


def mutate_attr_type(rng, m):
    nodes = [n for n in m.graph.node if n.attribute]
    if not nodes:
        return False
    n = rng.choice(nodes)
    i = rng.randrange(len(n.attribute))
    name = n.attribute[i].name
    n.attribute[i].CopyFrom(random_attr(rng, name))
    return True


def mutate_attr_add_remove(rng, m):
    if not m.graph.node:
        return False
    n = rng.choice(m.graph.node)
    if n.attribute and rng.random() < 0.5:
        del n.attribute[rng.randrange(len(n.attribute))]
    else:
        name = rng.choice(ATTR_POOL)
        if any(a.name == name for a in n.attribute):
            return False
        n.attribute.append(random_attr(rng, name))
    return True


def mutate_dims(rng, m):
    vis = list(m.graph.input) + list(m.graph.output)
    vis = [v for v in vis if v.type.HasField("tensor_type")]
    if not vis:
        return False
    t = rng.choice(vis).type.tensor_type
    dims = t.shape.dim
    k = rng.randrange(4)
    if k == 0 and len(dims):
        d = dims[rng.randrange(len(dims))]
        c = rng.choice([0, 1, 2, 3, 7, 64, 100000, 2**31, -1, "sym"])
        if c == "sym":
            d.dim_param = "n"
        else:
            d.dim_value = c
    elif k == 1 and len(dims):
        del dims[rng.randrange(len(dims))]
    elif k == 2:
        dims.add().dim_value = rng.choice([1, 2, 3])
    else:
        t.ClearField("shape")
    return True


def mutate_elem_type(rng, m):
    k = rng.randrange(3)
    if k < 2:
        vis = list(m.graph.input) if k == 0 else list(m.graph.output)
        vis = [v for v in vis if v.type.HasField("tensor_type")]
        if not vis:
            return False
        rng.choice(vis).type.tensor_type.elem_type = rng.choice(ELEM_TYPES)
    else:
        if not m.graph.initializer:
            return False
        rng.choice(m.graph.initializer).data_type = rng.choice(ELEM_TYPES)
    return True


def mutate_tensor(rng, t):
    k = rng.randrange(4)
    if k == 0:  # payload size
        try:
            a = numpy_helper.to_array(t)
        except Exception:
            return
        raw = a.tobytes()
        raw = raw[: rng.randrange(len(raw) + 1)] if raw and rng.random() < 0.5 else raw + raw
        dims = list(t.dims)
        t.Clear()
        t.data_type = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE.get(a.dtype, TensorProto.FLOAT)
        t.dims.extend(dims)
        t.raw_data = raw
    elif k == 1:  # dims
        dims = list(t.dims)
        if dims and rng.random() < 0.5:
            dims[rng.randrange(len(dims))] = rng.choice([0, 1, 2, 2**31, 2**62, -1])
        elif dims and rng.random() < 0.5:
            dims.pop()
        else:
            dims.append(rng.choice([1, 2, 3]))
        del t.dims[:]
        t.dims.extend(dims)
    else:  # values
        try:
            a = numpy_helper.to_array(t).copy()
        except Exception:
            return
        if a.size == 0:
            return
        flat = a.reshape(-1)
        i = rng.randrange(flat.size)
        if a.dtype.kind == "f":
            flat[i] = rng.choice(FLOATS + [flat[i] * 1000])
        elif a.dtype.kind in "iu":
            info = np.iinfo(a.dtype)
            flat[i] = max(info.min, min(info.max, r_int(rng, int(flat[i]))))
        else:
            return
        name = t.name
        t.CopyFrom(numpy_helper.from_array(a, name))


def mutate_initializer(rng, m):
    inits = list(m.graph.initializer)
    for n in m.graph.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                inits.append(a.t)
    if not inits:
        return False
    mutate_tensor(rng, rng.choice(inits))
    return True


def value_names(m):
    names = [i.name for i in m.graph.input] + [t.name for t in m.graph.initializer]
    for n in m.graph.node:
        names += [o for o in n.output if o]
    return names


def mutate_node_inputs(rng, m):
    if not m.graph.node:
        return False
    n = rng.choice(m.graph.node)
    names = value_names(m)
    k = rng.randrange(4)
    if k == 0 and len(n.input):
        n.input[rng.randrange(len(n.input))] = rng.choice(names + ["", "nowhere"])
    elif k == 1:
        n.input.append(rng.choice(names + [""]))
    elif k == 2 and len(n.input):
        del n.input[-1]
    elif len(n.input) >= 2:
        i, j = rng.sample(range(len(n.input)), 2)
        n.input[i], n.input[j] = n.input[j], n.input[i]
    else:
        return False
    return True


def mutate_node_outputs(rng, m):
    if not m.graph.node:
        return False
    n = rng.choice(m.graph.node)
    k = rng.randrange(3)
    if k == 0 and len(n.output):
        n.output[rng.randrange(len(n.output))] = rng.choice(["", "renamed"] + value_names(m))
    elif k == 1:
        n.output.append(rng.choice(["extra", ""]))
    elif len(n.output) > 1:
        del n.output[-1]
    else:
        return False
    return True


def mutate_op(rng, m):
    if not m.graph.node:
        return False
    rng.choice(m.graph.node).op_type = rng.choice(OPS)
    return True


def mutate_opset(rng, m):
    if rng.random() < 0.7:
        for o in m.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = rng.choice(range(1, 23))
    else:
        m.ir_version = rng.choice([0, 1, 3, 4, 7, 8, 9, 10, 99])
    return True


def mutate_structure(rng, m):
    nodes = m.graph.node
    if not nodes:
        return False
    k = rng.randrange(3)
    i = rng.randrange(len(nodes))
    if k == 0:
        del nodes[i]
    elif k == 1:
        nodes.insert(i, copy.deepcopy(nodes[i]))
    elif len(nodes) > 1:
        j = rng.randrange(len(nodes))
        a, b = copy.deepcopy(nodes[i]), copy.deepcopy(nodes[j])
        nodes[i].CopyFrom(b)
        nodes[j].CopyFrom(a)
    else:
        return False
    return True


def mutate_input_as_init(rng, m):
    if not m.graph.input or not m.graph.initializer:
        return False
    rng.choice(m.graph.initializer).name = rng.choice(m.graph.input).name
    return True


MUTATIONS = [(mutate_attr_value, 4), (mutate_attr_type, 1), (mutate_attr_add_remove, 2),
             (mutate_dims, 2), (mutate_elem_type, 1), (mutate_initializer, 3),
             (mutate_node_inputs, 2), (mutate_node_outputs, 1), (mutate_op, 2), (mutate_opset, 1),
             (mutate_structure, 1), (mutate_input_as_init, 1)]


def mutate(rng, m):
    done = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        for _ in range(10):
            f = rng.choices([f for f, _ in MUTATIONS], [w for _, w in MUTATIONS])[0]
            try:
                if f(rng, m):
                    done.append(f.__name__[len("mutate_"):])
                    break
            except Exception:  # a mutation that does not apply to this model
                continue
    return done


NP_OF = {TensorProto.FLOAT: np.float32}


def write_inputs(rng, m, folder):
    """Random float inputs from the declared shapes; the shapes in meta.json for ort_outputs.js."""
    inits = {t.name for t in m.graph.initializer}
    metas = []
    os.makedirs(os.path.join(folder, "test_data_set_0"), exist_ok=True)
    for k, vi in enumerate(i for i in m.graph.input if i.name not in inits):
        tt = vi.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 1 for d in tt.shape.dim]
        if any(d < 0 for d in shape) or math.prod(shape) > MAX_INPUT_ELEMENTS:
            return None
        a = np.asarray(rng.uniform(-1, 1, shape), dtype=np.float32) if shape else \
            np.float32(rng.uniform(-1, 1))
        t = numpy_helper.from_array(np.asarray(a, np.float32), vi.name)
        with open(os.path.join(folder, "test_data_set_0", f"input_{k}.pb"), "wb") as f:
            f.write(t.SerializeToString())
        raw = os.path.join(folder, f"input_{k}.bin")
        np.asarray(a, np.float32).tofile(raw)
        metas.append({"name": vi.name, "shape": shape, "file": raw,
                      "type": int(tt.elem_type)})
    return metas


def load_sources(args):
    sources = []
    for path in sorted(glob.glob(os.path.join(args.seeds, "*"))):
        try:
            sources.append((os.path.basename(path), onnx.load_from_string(open(path, "rb").read())))
        except Exception:
            pass
    for d in args.models or []:
        sources.append((os.path.basename(d.rstrip("/")), onnx.load(os.path.join(d, "model.onnx"))))
    return sources


def run_onnxrun(args, dirs):
    """`onnxrun test` over case folders (children per case, crashes isolated): {name: line}."""
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0:allocator_may_return_null=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:abort_on_error=1:print_stacktrace=1")
    lines = {}
    for at in range(0, len(dirs), 50):
        chunk = dirs[at:at + 50]
        p = subprocess.run([args.onnxrun, "test", *chunk, "--timeout", "60", "--jobs",
                            str(args.jobs), "--verbose"], capture_output=True, text=True, env=env,
                           errors="replace")
        for line in p.stdout.splitlines():
            mm = re.match(r"^(PASS|FAIL|SKIP)\s+(\S+)\s*(.*)$", line)
            if mm:
                lines[mm.group(2)] = (mm.group(1), mm.group(3))
        for d in chunk:
            name = os.path.basename(d)
            if name not in lines:
                lines[name] = ("FAIL", "(no line from onnxrun test; rc %d: %s)" % (
                    p.returncode, p.stderr.strip().splitlines()[-1:] if p.stderr else ""))
        if re.search(r"AddressSanitizer|runtime error:|LeakSanitizer", p.stderr):
            with open(os.path.join(args.out, "sanitizer.log"), "a") as f:
                f.write(p.stderr)
    return lines


def run_ort(batch):
    """ort.json in every folder; a case that kills or hangs ONNX Runtime is marked and skipped."""
    pending = list(batch)
    while pending:
        try:
            subprocess.run(["node", os.path.join(HERE, "ort_outputs.js"), *pending], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=30 + 2 * len(pending))
        except subprocess.TimeoutExpired:
            pass
        pending = [f for f in pending if not os.path.exists(os.path.join(f, "ort.json"))]
        if pending:
            json.dump({"ok": False, "error": "ONNX Runtime crashed or timed out"},
                      open(os.path.join(pending[0], "ort.json"), "w"))
            pending = pending[1:]


def classify(ort, line):
    status, text = line
    if status == "PASS":
        return "pass" if ort["ok"] else "accepted_only"
    if re.search(r"crashed|timed out|exception|no result|no line from|Sanitizer|runtime error",
                 text):
        return "crash"
    if re.search(r"max_abs=.*first mismatch|shape mismatch|the runtime returned", text):
        return "mismatch"
    if re.search(r"the model produced \d+ output", text):
        return "accepted_only" if not ort["ok"] else "mismatch"
    # A refusal must name what it refuses (a node, input, initializer, file: quoted).
    return "refused" if "'" in text else "unnamed_error"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnxrun", required=True)
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--models", nargs="*")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    nrng = np.random.RandomState(args.seed)
    sources = load_sources(args)
    big = {name for name, _ in sources if args.models and name in
           {os.path.basename(d.rstrip("/")) for d in args.models}}
    os.makedirs(args.out, exist_ok=True)
    counts = collections.Counter()
    results = open(os.path.join(args.out, "results.tsv"), "w")
    made = 0
    while made < args.cases:
        batch = []
        while len(batch) < min(args.batch, args.cases - made):
            # The CI models are slow under ASan: one mutant in 20.
            want_big = rng.random() < 0.05
            pool = [s for s in sources if (s[0] in big) == want_big] or sources
            src_name, src = rng.choice(pool)
            m = copy.deepcopy(src)
            what = mutate(rng, m)
            folder = os.path.join(args.out, "case%05d" % (made + len(batch)))
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder)
            with open(os.path.join(folder, "model.onnx"), "wb") as f:
                f.write(m.SerializeToString())
            metas = write_inputs(nrng, m, folder)
            if metas is None:
                metas = []
                shutil.rmtree(os.path.join(folder, "test_data_set_0"), ignore_errors=True)
                os.makedirs(os.path.join(folder, "test_data_set_0"))
                open(os.path.join(folder, "test_data_set_0", "input_0.pb"), "wb").write(
                    numpy_helper.from_array(np.zeros([1], np.float32), "x").SerializeToString())
            json.dump({"inputs": metas, "source": src_name, "mutations": what},
                      open(os.path.join(folder, "meta.json"), "w"))
            batch.append(folder)
        # ONNX Runtime's outputs become the expected outputs (output_k.pb).
        run_ort(batch)
        ort = {}
        for folder in batch:
            res_path = os.path.join(folder, "ort.json")
            r = json.load(open(res_path)) if os.path.exists(res_path) else \
                {"ok": False, "error": "ONNX Runtime died"}
            if r["ok"]:
                for k, o in enumerate(r["outputs"]):
                    a = np.fromfile(o["file"], dtype=np.float32 if o["type"] == "float32"
                                    else np.int64 if o["type"] == "int64" else np.float32)
                    a = a.reshape(o["dims"])
                    with open(os.path.join(folder, "test_data_set_0", f"output_{k}.pb"),
                              "wb") as f:
                        f.write(numpy_helper.from_array(a, o["name"]).SerializeToString())
            ort[os.path.basename(folder)] = r
        lines = run_onnxrun(args, batch)
        for folder in batch:
            name = os.path.basename(folder)
            kind = classify(ort[name], lines[name])
            counts[kind] += 1
            meta = json.load(open(os.path.join(folder, "meta.json")))
            results.write("\t".join([name, kind, meta["source"], ",".join(meta["mutations"]),
                                     lines[name][1][:300].replace("\t", " "),
                                     ort[name].get("error", "")[:200].replace("\n", " ")]) + "\n")
            if kind in ("pass", "refused"):
                shutil.rmtree(folder)  # keep only what needs review
        results.flush()
        made += len(batch)
        print(f"{made} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
              flush=True)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    open(os.path.join(args.out, "summary.txt"), "w").write(f"{made} cases: {summary}\n")
    return 1 if counts["crash"] or counts["mismatch"] or counts["unnamed_error"] else 0


if __name__ == "__main__":
    sys.exit(main())
