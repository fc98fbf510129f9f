"""Every exported CI model through onnxrun's Python API against its reference outputs."""
import os

import numpy as np
import pytest

import onnxrun
from conftest import assert_close, model_dirs, read_tensors

DIRS = model_dirs()


@pytest.mark.parametrize("path", DIRS, ids=[os.path.basename(d) for d in DIRS])
def test_model_matches_reference(path):
    sess = onnxrun.InferenceSession(os.path.join(path, "model.onnx"))
    data = os.path.join(path, "test_data_set_0")
    inputs, wants = read_tensors(data, "input"), read_tensors(data, "output")
    assert len(inputs) == len(sess.get_inputs()) and len(wants) == len(sess.get_outputs())
    feed = {i.name: x for i, x in zip(sess.get_inputs(), inputs)}
    outs = sess.run(None, feed)
    assert len(outs) == len(wants)
    for o, got, want in zip(sess.get_outputs(), outs, wants):
        assert_close(got, want, f"{os.path.basename(path)} output '{o.name}'")
    # Output selection by name, in the asked order.
    names = [o.name for o in sess.get_outputs()][::-1]
    for got, again in zip(sess.run(names, feed), outs[::-1]):
        np.testing.assert_array_equal(got, again)


def test_models_exported():
    assert len(DIRS) >= 10, f"expected the CI model set in {os.environ.get('ONNXRUN_MODELS_DIR')}"
