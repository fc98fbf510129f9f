#!/usr/bin/python3
"""Opset 18-21 test cases in the ONNX test-data layout (reference outputs: ONNX Runtime).

    /usr/bin/python3 models/opset_cases.py --out DIR [--models MODELS_DIR]
    node models/ort_check.js --write DIR/*/        # writes each case's output_N.pb

Debian's onnx 1.12 knows opsets <= 17, so the graphs are built with onnx.helper alone (opset
import and IR version set by hand, no checker, no shape inference) and their reference outputs
come from ONNX Runtime. Each case is DIR/<name>/model.onnx + test_data_set_0/input_N.pb; the
node script adds output_N.pb. With --models, CI architectures exported at opset 13 by
models/export.py are re-written at opsets 18-21 (`arch_<name>_op<N>`): the opset import bumped and
every op whose signature changed since 13 rewritten (Reduce* other than ReduceSum take 'axes' as
an input from 18), the weights and test input kept; and float16 conversions of some of them
(`fp16_<name>`, `fp16_<name>_io32`, see fp16_cases).
"""
import argparse
import os
import shutil

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
IR_OF_OPSET = {18: 8, 19: 9, 20: 9, 21: 10}
F = TensorProto.FLOAT
rng = np.random.default_rng(20261201)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def write_case(out, name, opset, nodes, inputs, outputs, inits=()):
    """inputs: [(name, array)]; outputs: [(name, elem_type)] (shapes left to the runtimes)."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype], a.shape)
         for n, a in inputs],
        [helper.make_tensor_value_info(n, t, None) for n, t in outputs], list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="onnxrun opset_cases")
    model.ir_version = IR_OF_OPSET[opset]
    save(out, name, model, inputs)


def save(out, name, model, inputs):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, (n, a) in enumerate(inputs):
        t = a if isinstance(a, TensorProto) else numpy_helper.from_array(a, n)
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(t.SerializeToString())


def node(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs, **attrs)


REDUCE = ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL1",
          "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSum"]


def reduce_cases(out):
    for opset, op in zip([18, 19, 20, 21, 18, 19, 20, 21, 18, 21], REDUCE):
        x = np.abs(rand(2, 3, 4, 5)) + 0.1 if op == "ReduceLogSum" else rand(2, 3, 4, 5)
        short = op[len("Reduce"):].lower()
        write_case(out, f"reduce_{short}_axes_input_op{opset}", opset,
                   [node(op, ["x", "axes"], ["y"], keepdims=1)], [("x", x)], [("y", F)],
                   [ints("axes", [2, 3])])
        write_case(out, f"reduce_{short}_axes_neg_nokeep_op{opset}", opset,
                   [node(op, ["x", "axes"], ["y"], keepdims=0)], [("x", x)], [("y", F)],
                   [ints("axes", [-1, 1])])
    x = rand(2, 3, 4)
    write_case(out, "reduce_mean_no_axes_op18", 18, [node("ReduceMean", ["x"], ["y"])],
               [("x", x)], [("y", F)])
    write_case(out, "reduce_max_noop_empty_axes_op20", 20,
               [node("ReduceMax", ["x"], ["y"], noop_with_empty_axes=1)], [("x", x)], [("y", F)])
    # A conv feature map reduced over H, W at run time (the NHWC image goes through row-major).
    w = rand(8, 3, 3, 3)
    write_case(out, "conv_reducemean_hw_op18", 18,
               [node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
                node("ReduceMean", ["c", "axes"], ["y"], keepdims=0)],
               [("x", rand(1, 3, 9, 9))], [("y", F)],
               [numpy_helper.from_array(w, "w"), ints("axes", [2, 3])])


def split_cases(out):
    x = rand(2, 7, 3)
    for parts in (2, 3, 4, 7):
        outs = [f"y{i}" for i in range(parts)]
        write_case(out, f"split_num_outputs_{parts}_of_7_op18", 18,
                   [node("Split", ["x"], outs, axis=1, num_outputs=parts)], [("x", x)],
                   [(o, F) for o in outs])
    write_case(out, "split_input_sizes_op21", 21,
               [node("Split", ["x", "s"], ["a", "b"], axis=-1)], [("x", x)], [("a", F), ("b", F)],
               [ints("s", [1, 2])])
    # Run time on an image: channels split unevenly, then each half through its own op.
    write_case(out, "conv_split_uneven_op19", 19,
               [node("Conv", ["x", "w"], ["c"]),
                node("Split", ["c"], ["a", "b", "d"], axis=1, num_outputs=3),
                node("Relu", ["a"], ["ya"]), node("Sigmoid", ["d"], ["yd"])],
               [("x", rand(1, 4, 5, 5))], [("ya", F), ("b", F), ("yd", F)],
               [numpy_helper.from_array(rand(8, 4, 1, 1), "w")])


def pad_cases(out):
    x = rand(1, 2, 4, 5)
    for opset, mode in [(18, "constant"), (18, "reflect"), (19, "edge"), (19, "wrap"),
                        (21, "wrap")]:
        write_case(out, f"pad_axes_{mode}_op{opset}", opset,
                   [node("Pad", ["x", "p", "v", "a"], ["y"], mode=mode)], [("x", x)], [("y", F)],
                   [ints("p", [1, 2, 2, 1]), numpy_helper.from_array(np.float32(0.5), "v"),
                    ints("a", [2, -1])])
    for name, shape, axes in [("crop_pad_all", [1, 3, 3, 8], None), ("crop_hw", [2, 3], [2, 3]),
                              ("pad_odd", [7, 10], [-2, -1]), ("crop_odd_c", [1], [1])]:
        attrs = {"axes": axes} if axes else {}
        write_case(out, f"centercroppad_{name}_op18", 18,
                   [node("CenterCropPad", ["x", "s"], ["y"], **attrs)], [("x", x)], [("y", F)],
                   [ints("s", shape)])
    write_case(out, "conv_centercroppad_op21", 21,
               [node("Conv", ["x", "w"], ["c"]),
                node("CenterCropPad", ["c", "s"], ["y"], axes=[2, 3])],
               [("x", rand(1, 2, 9, 8))], [("y", F)],
               [numpy_helper.from_array(rand(4, 2, 1, 1), "w"), ints("s", [6, 11])])
    write_case(out, "pad_wrap_crop_op19", 19, [node("Pad", ["x", "p"], ["y"], mode="wrap")],
               [("x", x)], [("y", F)], [ints("p", [0, 1, -1, 3, 0, 0, 2, -2])])
    # (ONNX Runtime 1.30 wraps pads longer than the axis wrongly: kept within the axis here.)
    # (ONNX Runtime 1.30 wraps pads longer than the axis wrongly: kept within the axis here.)
    write_case(out, "pad_wrap_rank2_op20", 20, [node("Pad", ["x", "p"], ["y"], mode="wrap")],
               [("x", rand(3, 4))], [("y", F)], [ints("p", [2, 4, 3, 3])])


def pool_cases(out):
    x = rand(1, 3, 11, 12)
    for cip, pads in [(0, [0, 0, 0, 0]), (0, [1, 2, 1, 2]), (1, [1, 1, 1, 1])]:
        write_case(out, f"averagepool_dilations_cip{cip}_pads{sum(pads)}_op19", 19,
                   [node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], dilations=[2, 3],
                         strides=[1, 2], pads=pads, count_include_pad=cip)],
                   [("x", x)], [("y", F)])
    write_case(out, "averagepool_dilations_ceil_op21", 21,
               [node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2],
                     strides=[2, 2], ceil_mode=1)], [("x", x)], [("y", F)])
    write_case(out, "maxpool_dilations_op19", 19,
               [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], dilations=[2, 2],
                     pads=[1, 1, 1, 1])], [("x", x)], [("y", F)])


def activation_cases(out):
    x = rand(2, 3, 5, 4) * 3
    write_case(out, "mish_op18", 18, [node("Mish", ["x"], ["y"])], [("x", x)], [("y", F)])
    for approx in ("none", "tanh"):
        write_case(out, f"gelu_{approx}_op20", 20, [node("Gelu", ["x"], ["y"], approximate=approx)],
                   [("x", x)], [("y", F)])
    write_case(out, "conv_gelu_op21", 21,
               [node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
                node("Gelu", ["c"], ["y"])], [("x", rand(1, 3, 6, 6))], [("y", F)],
               [numpy_helper.from_array(rand(4, 3, 3, 3), "w"),
                numpy_helper.from_array(rand(4), "b")])


def group_norm_cases(out):
    """GroupNormalization: scale and bias per group at 18-20, per channel from 21."""
    x = rand(2, 6, 4, 5) * 2 + 1
    for opset, groups in [(18, 3), (18, 6), (20, 1), (21, 3), (21, 2)]:
        affine = 6 if opset >= 21 else groups
        write_case(out, f"groupnorm_g{groups}_op{opset}", opset,
                   [node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=groups,
                         epsilon=1e-3)], [("x", x)], [("y", F)],
                   [numpy_helper.from_array(rand(affine), "s"),
                    numpy_helper.from_array(rand(affine), "b")])
    write_case(out, "conv_groupnorm_relu_op21", 21,
               [node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
                node("GroupNormalization", ["c", "s", "b"], ["g"], num_groups=4),
                node("Relu", ["g"], ["y"])], [("x", rand(1, 3, 7, 7))], [("y", F)],
               [numpy_helper.from_array(rand(8, 3, 3, 3), "w"),
                numpy_helper.from_array(rand(8), "s"), numpy_helper.from_array(rand(8), "b")])


def type_extended_cases(out):
    """Ops whose opset 19-21 versions only added element types: shape arithmetic at 19 and 21."""
    for opset in (19, 21):
        x = rand(2, 3, 4, 5)
        nodes = [
            node("Shape", ["x"], ["s3"], start=1),           # [3, 4, 5]
            node("Concat", ["m1", "s3"], ["s"], axis=0),     # [-1, 3, 4, 5]
            node("Size", ["x"], ["n"]),
            node("Cast", ["n"], ["nf"], to=F),
            node("Identity", ["x"], ["xi"]),
            node("Flatten", ["xi"], ["f"], axis=2),          # [6, 20]
            node("Transpose", ["f"], ["t"], perm=[1, 0]),    # [20, 6]
            node("ConstantOfShape", ["two"], ["ones"],
                 value=numpy_helper.from_array(np.array([1.0], np.float32))),
            node("Unsqueeze", ["t", "ax0"], ["u"]),          # [1, 20, 6]
            node("Squeeze", ["u", "ax0"], ["q"]),            # [20, 6]
            node("Mul", ["q", "ones"], ["m"]),
            node("Div", ["m", "nf"], ["md"]),
            node("Constant", [], ["k"], value=numpy_helper.from_array(np.float32(3.0))),
            node("CastLike", ["k", "x"], ["kf"]),
            node("Add", ["md", "kf"], ["a"]),
            node("Reshape", ["a", "s"], ["y"]),              # [2, 3, 4, 5]
            node("Cast", ["y"], ["yc"], to=F, saturate=1) if opset >= 19
            else node("Cast", ["y"], ["yc"], to=F),
        ]
        write_case(out, f"shape_arith_types_op{opset}", opset, nodes, [("x", x)], [("yc", F)],
                   [ints("two", [20, 6]), ints("ax0", [0]), ints("m1", [-1])])


def small_cnn_cases(out):
    """A classifier head at each new opset: Conv-BN-Relu-MaxPool-Conv-GAP-Flatten-Gemm-Softmax."""
    for opset in (18, 19, 20, 21):
        inits = [numpy_helper.from_array(a, n) for n, a in [
            ("w1", rand(8, 3, 3, 3)), ("b1", rand(8)), ("g", np.abs(rand(8)) + 0.5),
            ("be", rand(8)), ("mu", rand(8) * 0.1), ("var", np.abs(rand(8)) + 0.5),
            ("w2", rand(16, 8, 3, 3) * 0.3), ("fw", rand(10, 16)), ("fb", rand(10))]]
        nodes = [
            node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
            node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["bn"]),
            node("Relu", ["bn"], ["r1"]),
            node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
            node("Conv", ["p1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
            node("Clip", ["c2", "lo", "hi"], ["r2"]),
            node("ReduceMean", ["r2", "hw"], ["gap"], keepdims=1),
            node("Flatten", ["gap"], ["flat"]),
            node("Gemm", ["flat", "fw", "fb"], ["logits"], transB=1),
            node("Softmax", ["logits"], ["y"]),
        ]
        inits += [numpy_helper.from_array(np.float32(0), "lo"),
                  numpy_helper.from_array(np.float32(6), "hi"), ints("hw", [2, 3])]
        write_case(out, f"small_cnn_op{opset}", opset, nodes, [("x", rand(2, 3, 16, 16))],
                   [("y", F)], inits)


# CI architectures (exported at opset 13) re-written at a newer opset.
ARCHS = {"resnet18_op13": 18, "mobilenet_v2_op13": 19, "squeezenet1_1_op13": 20,
         "googlenet_op13": 21, "se_resnet50_op13": 18, "densenet121_op13": 21,
         "inception_v3_op13": 19, "lenet5_op13": 20, "densenet_plain_op13": 18,
         "resnet50_op13": 20}


def upgrade_from_13(model, opset):
    """Rewrites an opset-13 graph at `opset` (18-21): since 13, only the Reduce ops other than
    ReduceSum changed signature (18: 'axes' attribute -> input); every other op of the CI models
    keeps its opset-13 form."""
    g = model.graph
    for n in g.node:
        if n.op_type.startswith("Reduce") and n.op_type != "ReduceSum":
            axes = [a for a in n.attribute if a.name == "axes"]
            if axes:
                name = f"{n.output[0]}__axes"
                g.initializer.append(ints(name, list(axes[0].ints)))
                n.attribute.remove(axes[0])
                n.input.append(name)
    del model.opset_import[:]
    model.opset_import.append(helper.make_opsetid("", opset))
    model.ir_version = IR_OF_OPSET[opset]
    return model


def arch_cases(out, models_dir):
    done = 0
    for name, opset in ARCHS.items():
        src = os.path.join(models_dir, name)
        if not os.path.exists(os.path.join(src, "model.onnx")):
            print(f"opset_cases: {src} missing, skipped")
            continue
        model = upgrade_from_13(onnx.load(os.path.join(src, "model.onnx")), opset)
        x = TensorProto()
        with open(os.path.join(src, "test_data_set_0", "input_0.pb"), "rb") as f:
            x.ParseFromString(f.read())
        save(out, f"arch_{name[:-len('_op13')]}_op{opset}", model, [(x.name, x)])
        done += 1
    return done


# float16 conversions of CI architectures (models/fp16_convert.py): float16 I/O, and float16
# inside with float32 I/O through Cast nodes.
FP16_ARCHS = ["resnet18_op13", "mobilenet_v2_op13"]


def fp16_cases(out, models_dir):
    """onnxrun computes float16 models in float32 on the widened half weights, so the reference is
    ONNX Runtime on `reference.onnx`: the float32 model with every weight rounded to half (inputs
    are half values already). ONNX Runtime's own float16 arithmetic would differ by ~1e-2."""
    import fp16_convert
    done = 0
    for name in FP16_ARCHS:
        src = os.path.join(models_dir, name)
        if not os.path.exists(os.path.join(src, "model.onnx")):
            continue
        x = TensorProto()
        with open(os.path.join(src, "test_data_set_0", "input_0.pb"), "rb") as f:
            x.ParseFromString(f.read())
        xh = numpy_helper.from_array(
            numpy_helper.to_array(x).astype(np.float16).astype(np.float32), x.name)
        reference = onnx.load(os.path.join(src, "model.onnx"))
        for init in reference.graph.initializer:
            if init.data_type == TensorProto.FLOAT:
                a = numpy_helper.to_array(init).astype(np.float16).astype(np.float32)
                init.CopyFrom(numpy_helper.from_array(a, init.name))
        for keep_io in (False, True):
            model = fp16_convert.convert(onnx.load(os.path.join(src, "model.onnx")), keep_io)
            case = f"fp16_{name[:-len('_op13')]}{'_io32' if keep_io else ''}"
            save(out, case, model, [(x.name, xh)])
            onnx.save(reference, os.path.join(out, case, "reference.onnx"))
            done += 1
    return done


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", help="models/export.py output (CI architectures at opset 13)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for make in (reduce_cases, split_cases, pad_cases, pool_cases, activation_cases,
                 group_norm_cases, type_extended_cases, small_cnn_cases):
        make(args.out)
    archs = arch_cases(args.out, args.models) + fp16_cases(args.out, args.models) \
        if args.models else 0
    count = sum(1 for d in os.listdir(args.out) if os.path.isdir(os.path.join(args.out, d)))
    print(f"opset_cases: {count} cases in {args.out} ({archs} from architectures)")


if __name__ == "__main__":
    main()
