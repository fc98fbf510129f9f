#!/usr/bin/env python3
"""conformance.constant_operands: every allowlisted ONNX backend test with two or more inputs, once
per input j: input j stays a graph input, every other becomes an initializer (a constant at
load), the expected outputs unchanged. A node whose first (or any) operand is constant beside a
run-time one is not folded, so its lowering must read the constant itself (a Clip before opset
11 given a second, run-time input read the constant's null placement: model fuzzer). Writes the
variants into OUT and runs `onnxrun test` on them; every one must pass.
Usage: constant_operands.py ONNXRUN DATA_DIR ALLOWLIST OUT   (exit 77 when DATA_DIR is absent)
"""
import os
import shutil
import subprocess
import sys

import onnx


def main():
    onnxrun, data, allowlist, out = sys.argv[1:5]
    if not os.path.isdir(data):
        print(f"constant_operands.py: no test data at {data}; skipping")
        return 77
    shutil.rmtree(out, ignore_errors=True)
    dirs = []
    for line in open(allowlist):
        name = line.split("#")[0].strip()
        case = os.path.join(data, name)
        sets = os.path.join(case, "test_data_set_0")
        if not name or not os.path.isfile(os.path.join(case, "model.onnx")) or \
                not os.path.isdir(sets):
            continue
        m = onnx.load(os.path.join(case, "model.onnx"))
        inits = {t.name for t in m.graph.initializer}
        ins = [i for i in m.graph.input if i.name not in inits]
        if len(ins) < 2:
            continue
        data_in = [onnx.load_tensor(os.path.join(sets, f"input_{k}.pb")) for k in range(len(ins))]
        for j in range(len(ins)):
            v = onnx.ModelProto()
            v.CopyFrom(m)
            for k, vi in enumerate(ins):
                if k != j:
                    t = v.graph.initializer.add()
                    t.CopyFrom(data_in[k])
                    t.name = vi.name
                    # ONNX 1.12 stores bfloat16 test data as UINT16 bits: an initializer takes
                    # the declared type (the same 16 bits per element).
                    if vi.type.tensor_type.elem_type == onnx.TensorProto.BFLOAT16 and \
                            t.data_type == onnx.TensorProto.UINT16:
                        t.data_type = onnx.TensorProto.BFLOAT16
            del v.graph.input[:]
            v.graph.input.append(ins[j])
            d = os.path.join(out, f"{os.path.basename(name)}__runtime_input_{j}")
            os.makedirs(os.path.join(d, "test_data_set_0"))
            onnx.save(v, os.path.join(d, "model.onnx"))
            t = onnx.TensorProto()
            t.CopyFrom(data_in[j])
            t.name = ins[j].name
            with open(os.path.join(d, "test_data_set_0", "input_0.pb"), "wb") as f:
                f.write(t.SerializeToString())
            for f in os.listdir(sets):
                if f.startswith("output_"):
                    shutil.copy(os.path.join(sets, f), os.path.join(d, "test_data_set_0"))
            dirs.append(d)
    r = subprocess.run([onnxrun, "test", "--jobs", "2", "--timeout", "120", *dirs],
                       capture_output=True, text=True)
    bad = [l for l in r.stdout.splitlines() if not l.startswith("PASS")]
    print("\n".join(bad))
    return 0 if r.returncode == 0 and dirs else 1


if __name__ == "__main__":
    sys.exit(main())
