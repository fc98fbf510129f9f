"""A script written for onnxruntime; the import below is the one line changed (`import
onnxruntime as ort` -> `import onnxrun as ort`). Usage: ort_script.py MODEL_DIR -> prints the
largest |difference| to the reference outputs of test_data_set_0, per output."""
import glob
import os
import sys

import numpy as np
import onnxrun as ort
from onnx import numpy_helper, TensorProto


def load(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


model_dir = sys.argv[1]
so = ort.SessionOptions()
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
so.intra_op_num_threads = 1
sess = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), sess_options=so,
                            providers=["CPUExecutionProvider"])
print("providers", sess.get_providers(), "available", ort.get_available_providers())
print("producer", sess.get_modelmeta().producer_name)
input_name = sess.get_inputs()[0].name
output_names = [o.name for o in sess.get_outputs()]
x = load(os.path.join(model_dir, "test_data_set_0", "input_0.pb")).astype(np.float32)
outputs = sess.run(None, {input_name: x})
for name, got in zip(output_names, outputs):
    want = load(os.path.join(model_dir, "test_data_set_0",
                             f"output_{output_names.index(name)}.pb"))
    print(name, got.shape, float(np.max(np.abs(got - want))),
          float(np.max(np.abs(want))))
try:
    sess.run(None, {input_name: x.astype(np.float64)})
except ort.capi.onnxruntime_pybind11_state.InvalidArgument as e:
    print("InvalidArgument", str(e)[:60])
