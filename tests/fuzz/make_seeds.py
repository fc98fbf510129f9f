#!/usr/bin/env python3
"""Writes the fuzz seed corpora into OUT/{model,image,tensor} (the build tree, never git).

model:  the ONNX backend tests onnxrun passes (tests/conformance/allowlist.txt), with non-float
        graph inputs turned into initializers from test_data_set_0 (so shape arithmetic folds),
        plus small hand-made models of the shape ops and a small CNN;
image:  small PNG and JPEG files in every colour mode;
tensor: the input/output TensorProto files of those tests.
Usage: make_seeds.py OUT
"""
import hashlib
import io
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

TESTDATA = "/usr/share/libonnx-testdata/data"
HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BYTES = 64 * 1024


def save(folder, data):
    if len(data) > MAX_BYTES:
        return
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def conformance(model_dir, tensor_dir):
    allow = os.path.join(HERE, "..", "conformance", "allowlist.txt")
    for line in open(allow):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        case = os.path.join(TESTDATA, line)
        try:
            m = onnx.load(os.path.join(case, "model.onnx"))
        except Exception:
            continue
        data_dir = os.path.join(case, "test_data_set_0")
        pbs = sorted(os.listdir(data_dir)) if os.path.isdir(data_dir) else []
        for pb in pbs:
            save(tensor_dir, open(os.path.join(data_dir, pb), "rb").read())
        inputs = [p for p in pbs if p.startswith("input_")]
        g = m.graph
        inits = {t.name for t in g.initializer}
        graph_inputs = [i for i in g.input if i.name not in inits]
        for k, vi in enumerate(graph_inputs):
            if vi.type.tensor_type.elem_type == TensorProto.FLOAT or k >= len(inputs):
                continue
            t = TensorProto()
            t.ParseFromString(open(os.path.join(data_dir, f"input_{k}.pb"), "rb").read())
            t.name = vi.name
            g.initializer.append(t)
        keep = [i for i in g.input if i.type.tensor_type.elem_type == TensorProto.FLOAT
                or i.name not in {t.name for t in g.initializer}]
        del g.input[:]
        g.input.extend(keep)
        save(model_dir, m.SerializeToString())


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "seed", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]).SerializeToString()


def hand_made(model_dir):
    f = TensorProto.FLOAT
    x = helper.make_tensor_value_info("x", f, [1, 4, 4, 4])
    y = helper.make_tensor_value_info("y", f, None)
    ints = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
    floats = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.float32), name)
    N = helper.make_node
    cases = [
        ([N("Reshape", ["x", "s"], ["y"])], [ints("s", [2, -1])]),
        ([N("Pad", ["x", "p"], ["y"], mode="constant")], [ints("p", [0, 0, 1, 1, 0, 0, 1, 1])]),
        ([N("Expand", ["x", "s"], ["y"])], [ints("s", [2, 1, 1, 1])]),
        ([N("Tile", ["x", "r"], ["y"])], [ints("r", [1, 2, 1, 2])]),
        ([N("Flatten", ["x"], ["y"], axis=1)], []),
        ([N("DepthToSpace", ["x"], ["y"], blocksize=2)], []),
        ([N("SpaceToDepth", ["x"], ["y"], blocksize=2)], []),
        ([N("Split", ["x"], ["y", "z"], axis=1)], []),
        ([N("Concat", ["x", "x"], ["y"], axis=1)], []),
        ([N("Gather", ["x", "i"], ["y"], axis=1)], [ints("i", [0, 3])]),
        ([N("Pow", ["x", "e"], ["y"])], [floats("e", [2.0])]),
        ([N("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], pads=[1, 1, 1, 1])], []),
        ([N("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], auto_pad="SAME_UPPER")], []),
        ([N("Clip", ["x", "lo", "hi"], ["y"])], [floats("lo", 0.0), floats("hi", 6.0)]),
        ([N("LRN", ["x"], ["y"], size=3, alpha=1e-4, beta=0.75, bias=1.0)], []),
        ([N("Softmax", ["x"], ["y"], axis=1)], []),
        ([N("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=1)], []),
        ([N("Shape", ["x"], ["s"]), N("ConstantOfShape", ["s"], ["c"],
                                       value=helper.make_tensor("v", f, [1], [1.0])),
          N("Add", ["x", "c"], ["y"])], []),
        ([N("Range", ["a", "b", "d"], ["r"]), N("Cast", ["r"], ["rf"], to=f),
          N("Add", ["x", "rf"], ["y"])], [ints("a", 0), ints("b", 4), ints("d", 1)]),
        ([N("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
          N("Relu", ["c"], ["r"]), N("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
          N("Flatten", ["p"], ["fl"]), N("Gemm", ["fl", "gw", "gb"], ["y"], transB=1)],
         [floats("w", np.ones([4, 4, 3, 3]) * 0.1), floats("b", np.zeros(4)),
          floats("gw", np.ones([3, 16]) * 0.1), floats("gb", np.zeros(3))]),
        ([N("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1], group=4),
          N("BatchNormalization", ["c", "s", "b", "m", "v"], ["bn"]), N("Tanh", ["bn"], ["y"])],
         [floats("w", np.ones([4, 1, 1, 1])), floats("s", np.ones(4)), floats("b", np.zeros(4)),
          floats("m", np.zeros(4)), floats("v", np.ones(4))]),
    ]
    for nodes, inits in cases:
        save(model_dir, model(nodes, [x], [y], inits))


def images(image_dir):
    rng = np.random.default_rng(0)
    for mode, size in [("RGB", (5, 3)), ("L", (4, 4)), ("RGBA", (3, 5)), ("P", (6, 2)),
                       ("LA", (2, 2)), ("I;16", (3, 3)), ("1", (8, 3))]:
        arr = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        im = Image.fromarray(arr, "RGB").convert(mode) if mode != "I;16" else \
            Image.fromarray(arr[..., 0].astype(np.uint16) * 200, "I;16")
        buf = io.BytesIO()
        im.save(buf, "PNG")
        save(image_dir, buf.getvalue())
        if mode in ("RGB", "L"):
            for progressive in (False, True):
                buf = io.BytesIO()
                im.save(buf, "JPEG", quality=50, progressive=progressive)
                save(image_dir, buf.getvalue())


def main():
    out = sys.argv[1]
    dirs = {k: os.path.join(out, k) for k in ("model", "image", "tensor")}
    for d in dirs.values():
        os.makedirs(d, exist_ok=True)
    conformance(dirs["model"], dirs["tensor"])
    hand_made(dirs["model"])
    images(dirs["image"])
    for k, d in dirs.items():
        print(f"{k}: {len(os.listdir(d))} seeds")


if __name__ == "__main__":
    main()
