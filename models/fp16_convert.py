#!/usr/bin/python3
"""Converts a float32 ONNX model to float16 (as onnxconverter-common's float16 converter does).

    /usr/bin/python3 models/fp16_convert.py IN.onnx OUT.onnx [--keep-io-types]

Every float32 initializer and Constant value becomes float16, every Cast to FLOAT a Cast to
FLOAT16, and the graph's float32 inputs and outputs float16 -- or, with --keep-io-types, they stay
float32 and Cast nodes convert at the boundary (a Cast to FLOAT16 after each input, a Cast to FLOAT
before each output). Value infos are dropped (the runtimes infer them again).
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def to_fp16(t):
    if t.data_type != TensorProto.FLOAT:
        return t
    h = numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name)
    t.CopyFrom(h)
    return t


def convert(model, keep_io_types):
    g = model.graph
    for init in g.initializer:
        to_fp16(init)
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                to_fp16(a.t)
            if n.op_type == "Cast" and a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.FLOAT16
    del g.value_info[:]
    inits = {i.name for i in g.initializer}
    float_inputs = [i for i in g.input
                    if i.name not in inits and i.type.tensor_type.elem_type == TensorProto.FLOAT]
    float_outputs = [o for o in g.output if o.type.tensor_type.elem_type == TensorProto.FLOAT]
    if not keep_io_types:
        for v in float_inputs + float_outputs:
            v.type.tensor_type.elem_type = TensorProto.FLOAT16
        return model
    casts_in, casts_out = [], []
    for i in float_inputs:
        inner = f"{i.name}__fp16"
        for n in g.node:
            n.input[:] = [inner if x == i.name else x for x in n.input]
        casts_in.append(helper.make_node("Cast", [i.name], [inner], to=TensorProto.FLOAT16,
                                         name=f"{i.name}__cast_in"))
    for o in float_outputs:
        inner = f"{o.name}__fp16"
        for n in g.node:
            n.output[:] = [inner if x == o.name else x for x in n.output]
            n.input[:] = [inner if x == o.name else x for x in n.input]
        casts_out.append(helper.make_node("Cast", [inner], [o.name], to=TensorProto.FLOAT,
                                          name=f"{o.name}__cast_out"))
    nodes = casts_in + list(g.node) + casts_out
    del g.node[:]
    g.node.extend(nodes)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--keep-io-types", action="store_true")
    args = ap.parse_args()
    onnx.save(convert(onnx.load(args.src), args.keep_io_types), args.dst)


if __name__ == "__main__":
    main()
