#!/usr/bin/python3
"""Rewrite an NCHW ONNX model the way tf2onnx writes an NHWC (Keras) model with its optimizers off.

    /usr/bin/python3 models/nhwc_wrap.py [--keras] SRC_DIR DST_DIR

SRC_DIR holds model.onnx and test_data_set_*/ (a models/export.py directory). In DST_DIR the graph
input is NHWC; every rank-4 value between ops is NHWC; each layout-sensitive op (Conv, pools,
BatchNormalization, LRN, channel Concat, Flatten, ...) is wrapped in Transposes: NHWC->NCHW before
it and NCHW->NHWC after it; elementwise ops (Relu, Add, Clip, Mul, ...) run on the NHWC tensors.
The test inputs are transposed to NHWC; the outputs are unchanged. The rewritten model computes
the same function, so `onnxrun test DST_DIR` checks it against the original reference outputs, and
the Transpose count after onnxrun's optimizer shows how much layout noise is left.

--keras also writes the classifier head as tf2onnx writes Keras layers: GlobalAveragePooling2D
(GlobalAveragePool + Flatten) as ReduceMean over axes [1, 2] of the NHWC tensor with keepdims 0,
and Dense (Gemm) as MatMul by a [K, N] weight then Add of the bias.
"""
import glob
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

ELEMENTWISE = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Add", "Sub", "Mul", "Div", "Max",
               "Min", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus", "Abs", "Neg", "Exp",
               "Sqrt", "Identity", "Dropout"}
TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


def main(src, dst, keras=False):
    model = onnx.load(os.path.join(src, "model.onnx"))
    inferred = shape_inference.infer_shapes(model)
    g = model.graph
    rank = {}
    for vi in list(inferred.graph.value_info) + list(g.input) + list(g.output):
        if vi.type.tensor_type.HasField("shape"):
            rank[vi.name] = len(vi.type.tensor_type.shape.dim)
    inits = {t.name: t for t in g.initializer}
    for t in g.initializer:
        rank[t.name] = len(t.dims)

    layout = {}  # rank-4 run-time value -> "nhwc" | "nchw"
    nodes = []
    counter = [0]

    def transpose(name, perm, to):
        counter[0] += 1
        out = f"{name}__{to}{counter[0]}"
        nodes.append(helper.make_node("Transpose", [name], [out], perm=perm, name=f"T{counter[0]}_{to}"))
        layout[out] = to
        return out

    def as_layout(name, want):
        if rank.get(name) != 4 or name in inits or name not in layout:
            return name
        if layout[name] == want:
            return name
        return transpose(name, TO_NCHW if want == "nchw" else TO_NHWC, want)

    for inp in g.input:
        if inp.name in inits:
            continue
        if rank.get(inp.name) == 4:
            dims = inp.type.tensor_type.shape.dim
            order = [dims[i] for i in TO_NHWC]
            copies = [onnx.TensorShapeProto.Dimension() for _ in order]
            for c, d in zip(copies, order):
                c.CopyFrom(d)
            del dims[:]
            dims.extend(copies)
            layout[inp.name] = "nhwc"

    # --keras: a GlobalAveragePool read only by a Flatten becomes one ReduceMean (Flatten dropped).
    readers = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    pooled = {}  # GlobalAveragePool output -> the Flatten that reads it
    if keras:
        for n in g.node:
            r = readers.get(n.output[0], []) if n.op_type == "GlobalAveragePool" else []
            if len(r) == 1 and r[0].op_type == "Flatten":
                pooled[n.output[0]] = r[0]

    for n in g.node:
        if n.output[0] in pooled:
            flat = pooled[n.output[0]]
            nodes.append(helper.make_node("ReduceMean", [as_layout(n.input[0], "nhwc")],
                                          [flat.output[0]], axes=[1, 2], keepdims=0,
                                          name=n.name + "_mean"))
            continue
        if any(n is f for f in pooled.values()):
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if (keras and n.op_type == "Gemm" and len(n.input) == 3 and n.input[1] in inits and
                attrs.get("transA", 0) == 0 and attrs.get("alpha", 1.0) == 1.0 and
                attrs.get("beta", 1.0) == 1.0):
            w = numpy_helper.to_array(inits[n.input[1]])
            if attrs.get("transB", 0):
                w = w.T
            wk = numpy_helper.from_array(np.ascontiguousarray(w), n.input[1] + "__kn")
            g.initializer.append(wk)
            inits[wk.name] = wk
            nodes.append(helper.make_node("MatMul", [n.input[0], wk.name], [n.output[0] + "__mm"],
                                          name=n.name + "_matmul"))
            nodes.append(helper.make_node("Add", [n.output[0] + "__mm", n.input[2]], [n.output[0]],
                                          name=n.name + "_bias"))
            continue
        ins4 = [i for i in n.input if rank.get(i) == 4 and i not in inits and i in layout]
        if n.op_type in ELEMENTWISE and ins4 and all(layout[i] == "nhwc" for i in ins4):
            # Rank-4 constants of an elementwise op follow the tensor into NHWC.
            for k, i in enumerate(n.input):
                if i in inits and len(inits[i].dims) == 4:
                    arr = numpy_helper.to_array(inits[i]).transpose(TO_NHWC)
                    new = numpy_helper.from_array(np.ascontiguousarray(arr), i + "__nhwc")
                    g.initializer.append(new)
                    inits[new.name] = new
                    rank[new.name] = 4
                    n.input[k] = new.name
            nodes.append(n)
            for o in n.output:
                if rank.get(o) == 4:
                    layout[o] = "nhwc"
            continue
        # Layout-sensitive (or anything else): NCHW in, NCHW out, Transposes around.
        for k, i in enumerate(n.input):
            n.input[k] = as_layout(i, "nchw")
        outs = list(n.output)
        renamed = []
        for k, o in enumerate(outs):
            if rank.get(o) == 4:
                n.output[k] = o + "__nchw"
                layout[o + "__nchw"] = "nchw"
                renamed.append((o + "__nchw", o))
        nodes.append(n)
        for inner, outer in renamed:
            counter[0] += 1
            nodes.append(helper.make_node("Transpose", [inner], [outer], perm=TO_NHWC,
                                          name=f"T{counter[0]}_nhwc"))
            layout[outer] = "nhwc"

    # A rank-4 graph output goes back to NCHW under its own name.
    for out in g.output:
        if rank.get(out.name) == 4 and layout.get(out.name) == "nhwc":
            for n in nodes:
                for k, o in enumerate(n.output):
                    if o == out.name:
                        n.output[k] = out.name + "__nhwc_out"
                for k, i in enumerate(n.input):
                    if i == out.name:
                        n.input[k] = out.name + "__nhwc_out"
            nodes.append(helper.make_node("Transpose", [out.name + "__nhwc_out"], [out.name],
                                          perm=TO_NCHW))
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    os.makedirs(dst, exist_ok=True)
    onnx.save(model, os.path.join(dst, "model.onnx"))
    input_names = [i.name for i in g.input if i.name not in inits]
    for ds in sorted(glob.glob(os.path.join(src, "test_data_set_*"))):
        out_ds = os.path.join(dst, os.path.basename(ds))
        os.makedirs(out_ds, exist_ok=True)
        for f in glob.glob(os.path.join(ds, "output_*.pb")):
            shutil.copy(f, out_ds)
        for k, name in enumerate(input_names):
            t = onnx.TensorProto()
            t.ParseFromString(open(os.path.join(ds, f"input_{k}.pb"), "rb").read())
            arr = numpy_helper.to_array(t)
            if arr.ndim == 4 and layout.get(name) == "nhwc":
                arr = np.ascontiguousarray(arr.transpose(TO_NHWC))
            open(os.path.join(out_ds, f"input_{k}.pb"), "wb").write(
                numpy_helper.from_array(arr, t.name).SerializeToString())
    print(f"{dst}: {sum(1 for n in nodes if n.op_type == 'Transpose')} Transposes")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--keras"]
    if len(args) != 2:
        sys.exit(__doc__)
    main(args[0], args[1], keras="--keras" in sys.argv[1:])
