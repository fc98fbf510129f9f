"""onnxruntime's API surface: metadata, options, providers and the errors of bad calls."""
import json
import os

import numpy as np
import pytest

import onnxrun
from conftest import model_dir

SQUEEZENET = "squeezenet1_1_op13"


@pytest.fixture(scope="module")
def path():
    return os.path.join(model_dir(SQUEEZENET), "model.onnx")


@pytest.fixture(scope="module")
def sess(path):
    options = onnxrun.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxrun.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def image(batch=1, seed=0):
    return np.random.default_rng(seed).standard_normal((batch, 3, 224, 224), dtype=np.float32)


def test_inputs_outputs_as_onnxruntime(sess):
    (i,), (o,) = sess.get_inputs(), sess.get_outputs()
    assert (i.name, i.type, i.shape) == ("input", "tensor(float)", ["batch", 3, 224, 224])
    assert (o.name, o.type, o.shape) == ("logits", "tensor(float)", ["batch", 1000])
    assert repr(i) == "NodeArg(name='input', type='tensor(float)', shape=['batch', 3, 224, 224])"


def test_modelmeta_version_providers(sess):
    meta = sess.get_modelmeta()
    assert meta.producer_name == "pytorch" and meta.graph_name == "torch_jit"
    assert isinstance(meta.custom_metadata_map, dict) and isinstance(meta.version, int)
    assert meta.domain == "" and isinstance(meta.description, str)
    assert onnxrun.__version__.count(".") == 2
    assert onnxrun.get_available_providers() == ["CPUExecutionProvider"]
    assert sess.get_providers() == ["CPUExecutionProvider"]
    assert onnxrun.get_device() == "CPU"


def test_gpu_provider_refused(path):
    with pytest.raises(ValueError, match="CUDAExecutionProvider.*CPU only"):
        onnxrun.InferenceSession(path, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
    with pytest.raises(ValueError, match="TensorrtExecutionProvider"):
        onnxrun.InferenceSession(path, providers=[("TensorrtExecutionProvider", {})])


def test_run_batches_and_dynamic_batch(sess):
    x = image(batch=3, seed=1)
    (batched,) = sess.run(None, {"input": x})
    assert batched.shape == (3, 1000) and batched.dtype == np.float32
    for b in range(3):
        (single,) = sess.run(["logits"], {"input": x[b:b + 1]})
        np.testing.assert_allclose(single[0], batched[b], rtol=1e-4, atol=1e-4)


def test_strided_input_equals_contiguous(sess):
    x = image(seed=2)
    wide = np.zeros((1, 3, 224, 448), dtype=np.float32)
    wide[..., ::2] = x
    strided = wide[..., ::2]
    assert not strided.flags.c_contiguous
    np.testing.assert_array_equal(sess.run(None, {"input": strided})[0],
                                  sess.run(None, {"input": x})[0])


def test_load_from_bytes_equals_path(sess, path):
    with open(path, "rb") as f:
        from_bytes = onnxrun.InferenceSession(f.read())
    x = image(seed=3)
    np.testing.assert_array_equal(from_bytes.run(None, {"input": x})[0],
                                  sess.run(None, {"input": x})[0])


def test_wrong_dtype_names_input_and_expected(sess):
    with pytest.raises(onnxrun.InvalidArgument,
                       match=r"input 'input': expected tensor\(float\).*got float64"):
        sess.run(None, {"input": image().astype(np.float64)})
    with pytest.raises(onnxrun.InvalidArgument, match="input 'input': expected a numpy array"):
        sess.run(None, {"input": [[1.0, 2.0]]})


def test_wrong_shape_names_input_and_dimension(sess):
    with pytest.raises(onnxrun.InvalidArgument, match=r"input 'input'.*dimension 2 must be 224"):
        sess.run(None, {"input": np.zeros((1, 3, 200, 224), np.float32)})
    with pytest.raises(onnxrun.InvalidArgument, match=r"input 'input'.*rank 3"):
        sess.run(None, {"input": np.zeros((3, 224, 224), np.float32)})


def test_wrong_names(sess):
    with pytest.raises(onnxrun.InvalidArgument, match="'data' is not an input.*'input'"):
        sess.run(None, {"data": image()})
    with pytest.raises(onnxrun.InvalidArgument, match="missing input.*'input'"):
        sess.run(None, {})
    with pytest.raises(onnxrun.InvalidArgument, match="no output named 'probs'"):
        sess.run(["probs"], {"input": image()})


def test_bad_model_files(tmp_path):
    with pytest.raises(onnxrun.NoSuchFile, match="nothing.onnx"):
        onnxrun.InferenceSession(str(tmp_path / "nothing.onnx"))
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not a model")
    with pytest.raises(onnxrun.Fail, match="bad.onnx"):
        onnxrun.InferenceSession(str(bad))
    with pytest.raises(onnxrun.Fail):
        onnxrun.InferenceSession(b"\x08\x07garbage")
    # The onnxruntime module path of the exception types.
    from onnxrun.capi.onnxruntime_pybind11_state import Fail, InvalidArgument
    assert issubclass(InvalidArgument, Fail) and issubclass(Fail, RuntimeError)


def test_session_options(path, tmp_path):
    options = onnxrun.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = onnxrun.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.enable_profiling = True
    options.profile_file_prefix = str(tmp_path / "prof_")
    sess = onnxrun.InferenceSession(path, sess_options=options)
    report = sess.get_report()
    # No optimizer pass ran: no fused ops (the default level fuses Conv+Relu).
    assert report["num_threads"] == 1 and not any("+" in op for op in report["ops_after"])
    sess.run(None, {"input": image()})
    trace = sess.end_profiling()
    assert trace.startswith(str(tmp_path / "prof_"))
    with open(trace, encoding="utf-8") as f:
        events = json.load(f)
    assert any(e["args"]["op_name"] == "Conv" for e in events)
    options.intra_op_num_threads = -1
    with pytest.raises(onnxrun.InvalidArgument, match="intra_op_num_threads"):
        onnxrun.InferenceSession(path, options)


def test_report_dict(sess):
    report = sess.get_report()
    assert report["opset"] == 13 and report["parameters"] == 1233288
    assert report["ops_before"]["Conv"] == 26 and "Conv+Relu" in report["ops_after"]
    memory = report["memory"]
    assert 0 < memory["lower_bound_bytes"] <= memory["arena_bytes"] <= memory["naive_bytes"]


def test_terminate_stops_the_run(sess):
    options = onnxrun.RunOptions()
    options.terminate = True
    with pytest.raises(onnxrun.RuntimeException):
        sess.run(None, {"input": image()}, options)
    options.terminate = False
    assert sess.run(None, {"input": image()}, options)[0].shape == (1, 1000)


def test_equivalent_float32_dtypes(sess):
    x = image(seed=4)
    want = sess.run(None, {"input": x})[0]
    # A float32 array whose dtype object is not numpy's canonical one is still float32.
    other = np.frombuffer(x.tobytes(), dtype=np.dtype("<f4")).reshape(x.shape)
    np.testing.assert_array_equal(sess.run(None, {"input": other})[0], want)
    with pytest.raises(onnxrun.InvalidArgument, match="expected tensor"):
        sess.run(None, {"input": x.astype(">f4")})
