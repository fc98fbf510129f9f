#!/usr/bin/python3
"""Sanity-check exported models (structure and reference data; no inference).

    /usr/bin/python3 models/verify.py DIR [name ...]

For each model directory: onnx.checker (full check), graph input/output names,
opset vs meta.json, reference tensors (float32, shapes, finite, moderate
magnitude), LeNet-5's labelled test set and recorded accuracy. Numerical
agreement of the ONNX graph with the reference outputs is checked by
models/ort_check.js (ONNX Runtime), or by `onnxrun test DIR`.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

META_KEYS = ["name", "arch", "opset", "input_shape", "num_classes", "params", "preprocess", "notes"]


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def check(model_dir):
    errs = []
    with open(os.path.join(model_dir, "meta.json")) as f:
        meta = json.load(f)
    errs += [f"meta.json lacks {k}" for k in META_KEYS if k not in meta]
    m = onnx.load(os.path.join(model_dir, "model.onnx"))
    onnx.checker.check_model(m, full_check=True)
    opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0]
    if opset != meta["opset"]:
        errs.append(f"model opset {opset} != meta opset {meta['opset']}")
    in_name, out_name = m.graph.input[0].name, m.graph.output[0].name
    if (in_name, out_name) != ("input", "logits"):
        errs.append(f"graph io names {in_name}/{out_name}")
    sets = sorted(d for d in os.listdir(model_dir) if d.startswith("test_data_set_"))
    if "test_data_set_0" not in sets:
        errs.append("no test_data_set_0")
    for s in sets:
        xn, x = load_pb(os.path.join(model_dir, s, "input_0.pb"))
        yn, y = load_pb(os.path.join(model_dir, s, "output_0.pb"))
        if (xn, yn) != (in_name, out_name):
            errs.append(f"{s}: tensor names {xn}/{yn}")
        if x.dtype != np.float32 or y.dtype != np.float32:
            errs.append(f"{s}: dtypes {x.dtype}/{y.dtype}")
        if list(x.shape[1:]) != meta["input_shape"][1:] or y.shape != (x.shape[0], meta["num_classes"]):
            errs.append(f"{s}: shapes {x.shape} -> {y.shape}")
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            errs.append(f"{s}: non-finite values")
        if not (1e-3 < y.std() and np.abs(y).max() < 1e3):
            errs.append(f"{s}: output magnitude std {y.std():.3g} max {np.abs(y).max():.3g}")
    if "test_accuracy" in meta:
        labels = np.loadtxt(os.path.join(model_dir, "digits_labels.txt"), dtype=np.int64)
        _, y = load_pb(os.path.join(model_dir, "test_data_set_1", "output_0.pb"))
        acc = float((y.argmax(1) == labels).mean())
        if abs(acc - meta["test_accuracy"]) > 1e-6 or acc < 0.9:
            errs.append(f"digits accuracy {acc} vs meta {meta['test_accuracy']}")
    return meta, errs


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    names = sys.argv[2:] or sorted(d for d in os.listdir(root) if not d.startswith("."))
    bad = 0
    for n in names:
        try:
            meta, errs = check(os.path.join(root, n))
        except Exception as e:  # noqa: BLE001
            meta, errs = {}, [f"{type(e).__name__}: {e}"]
        bad += bool(errs)
        status = "OK  " if not errs else "FAIL"
        print(f"{status} {n:28s} opset {meta.get('opset', '?'):>2} params {meta.get('params', 0) / 1e6:7.2f}M "
              f"std {meta.get('output_std', 0):.3g} {'; '.join(errs)}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
