"""Shared helpers: the CI models (ONNXRUN_MODELS_DIR, exported by ctest's models fixture) and their
reference data (test_data_set_0, read with the onnx package, independent of onnxrun)."""
import glob
import os

import numpy as np
import pytest
from onnx import TensorProto, numpy_helper

MODELS_DIR = os.environ.get("ONNXRUN_MODELS_DIR", "")
TEST_IMAGE = os.environ.get("ONNXRUN_TEST_IMAGE", "")
ATOL, RTOL = 1e-4, 1e-3  # as `onnxrun test`


def model_dirs():
    dirs = sorted(glob.glob(os.path.join(MODELS_DIR, "*", "test_data_set_0")))
    return [os.path.dirname(d) for d in dirs]


def read_tensors(data_dir, prefix):
    out = []
    for path in sorted(glob.glob(os.path.join(data_dir, f"{prefix}_*.pb")),
                       key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0])):
        proto = TensorProto()
        with open(path, "rb") as f:
            proto.ParseFromString(f.read())
        out.append(numpy_helper.to_array(proto))
    return out


def model_dir(name):
    path = os.path.join(MODELS_DIR, name)
    if not os.path.isfile(os.path.join(path, "model.onnx")):
        pytest.skip(f"{path}/model.onnx not exported (ctest's models fixture exports it)")
    return path


def assert_close(got, want, what):
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = ATOL + RTOL * np.abs(want.astype(np.float64))
    worst = int(np.argmax(diff - bound))
    assert np.all(diff <= bound), (
        f"{what}: |diff| {diff.flat[worst]:.3g} at flat index {worst} exceeds "
        f"{bound.flat[worst]:.3g} (atol {ATOL}, rtol {RTOL})")


SKIMAGE_DATA = "/usr/lib/python3/dist-packages/skimage/data"


def make_images(folder, count):
    """`count` JPEG/PNG photos cropped and resized from scikit-image's sample photos (a broken
    file is not among them)."""
    from PIL import Image
    sources = [os.path.join(SKIMAGE_DATA, n) for n in
               ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "motorcycle_left.png")]
    sources = [s for s in sources if os.path.exists(s)]
    if not sources:
        pytest.skip(f"no sample photos in {SKIMAGE_DATA} (python3-skimage)")
    paths = []
    for k in range(count):
        img = Image.open(sources[k % len(sources)]).convert("RGB")
        w, h = img.size
        f = 0.6 + 0.4 * ((k * 37) % 11) / 10
        box = (int((w - w * f) * ((k * 13) % 7) / 6), int((h - h * f) * ((k * 5) % 3) / 2))
        img = img.crop((box[0], box[1], box[0] + int(w * f), box[1] + int(h * f)))
        img = img.resize((160 + (k * 29) % 200, 160 + (k * 17) % 180))
        path = os.path.join(folder, f"img_{k:04d}.{'png' if k % 4 == 3 else 'jpg'}")
        img.save(path)
        paths.append(path)
    return paths
