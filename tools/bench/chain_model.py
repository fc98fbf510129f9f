"""Writes a model that is one long chain of elementwise ops, for the planner's load-time figures.

usage: /usr/bin/python3 tools/bench/chain_model.py N relu|mix OUT.onnx
  relu: N Relu in a row (every op writes over its input: one alias chain of N values)
  mix:  Relu, Sigmoid, Add(h, x) repeated (x stays live to the end, so the chain never takes it)
Input and output: float32 [1, 4, 8, 8]. Load time: onnxrun bench OUT.onnx --iters 1 --json.
"""
import sys

from onnx import TensorProto, helper, save


def main():
    n, kind, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    nodes, prev = [], "x"
    for i in range(n):
        y = f"v{i}"
        if kind == "relu" or i % 3 == 0:
            nodes.append(helper.make_node("Relu", [prev], [y]))
        elif i % 3 == 1:
            nodes.append(helper.make_node("Sigmoid", [prev], [y]))
        else:
            nodes.append(helper.make_node("Add", [prev, "x"], [y]))
        prev = y
    shape = [1, 4, 8, 8]
    graph = helper.make_graph(nodes, "chain",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(prev, TensorProto.FLOAT, shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save(model, out)


if __name__ == "__main__":
    main()
