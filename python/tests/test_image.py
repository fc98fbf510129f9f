"""load_image() and InferenceSession.classify(): the same tensors and classes as a plain run."""
import os

import numpy as np
import pytest

import onnxrun
from conftest import TEST_IMAGE, make_images, model_dir


@pytest.fixture(scope="module")
def sess():
    options = onnxrun.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxrun.InferenceSession(
        os.path.join(model_dir("squeezenet1_1_op13"), "model.onnx"), options)


def test_load_image_presets_and_sizes():
    if not os.path.exists(TEST_IMAGE):
        pytest.skip(f"{TEST_IMAGE} missing (python3-skimage)")
    x = onnxrun.load_image(TEST_IMAGE)
    assert x.shape == (1, 3, 224, 224) and x.dtype == np.float32 and x.flags.c_contiguous
    assert -2.2 < x.min() < x.max() < 2.7  # torchvision normalization
    assert onnxrun.load_image(TEST_IMAGE, preset="gray", size=32).shape == (1, 1, 32, 32)
    caffe = onnxrun.load_image(TEST_IMAGE, preset="caffe", size=(240, 320))
    assert caffe.shape == (1, 3, 240, 320) and caffe.max() > 20
    with pytest.raises(onnxrun.InvalidArgument, match="preset"):
        onnxrun.load_image(TEST_IMAGE, preset="imagenet")
    with pytest.raises(onnxrun.NoSuchFile, match="missing.jpg"):
        onnxrun.load_image("/nonexistent/missing.jpg")


def test_labels():
    names = onnxrun.labels()
    assert len(names) == 1000 and names[0] == "tench" and names[281] == "tabby"


def test_classify_equals_run(sess, tmp_path):
    paths = make_images(str(tmp_path), 6)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    results = sess.classify(paths + [str(broken)], top=3)
    assert [r["path"] for r in results] == paths + [str(broken)]
    assert results[-1]["error"].startswith(str(broken)) and not results[-1]["indices"]
    for path, r in zip(paths, results):
        logits = sess.run(None, {"input": onnxrun.load_image(path)})[0][0].astype(np.float64)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        assert r["error"] is None
        assert r["indices"] == list(np.argsort(-probs, kind="stable")[:3])
        assert r["labels"] == [onnxrun.labels()[k] for k in r["indices"]]
        np.testing.assert_allclose(r["probabilities"], probs[r["indices"]], rtol=1e-5)
    assert sess.classify(paths + [str(broken)], top=3, jobs=3) == results


def test_classify_input_checks(sess):
    with pytest.raises(onnxrun.InvalidArgument, match="preset 'gray' does not fit"):
        sess.classify([TEST_IMAGE], preset="gray")
    with pytest.raises(onnxrun.InvalidArgument, match="height is 224"):
        sess.classify([TEST_IMAGE], size=200)
