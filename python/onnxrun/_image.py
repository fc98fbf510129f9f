"""Images in, NCHW arrays and top-k classes out (onnxrun's extras over onnxruntime's API)."""
import functools
import os

import numpy as np

from onnxrun import _onnxrun

DEFAULT_SIZE = 224
LABELS_FILE = os.path.join(os.path.dirname(__file__), "imagenet_classes.txt")


@functools.lru_cache(maxsize=1)
def labels():
    """The 1,000 ImageNet class names shipped with the package (index -> name)."""
    with open(LABELS_FILE, encoding="utf-8") as f:
        names = [line.rstrip("\r\n") for line in f]
    while names and not names[-1]:
        names.pop()
    return names


def _size(size):
    if size is None:
        return DEFAULT_SIZE, DEFAULT_SIZE
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


def load_image(path, preset="torchvision", size=None):
    """Decodes a JPEG/PNG file and preprocesses it as the CLI does: shorter side resized to
    256/224 of the crop, center crop to `size` (int, (height, width) or None = 224), then the
    preset ('torchvision', 'caffe' or 'gray'). Returns a float32 array [1, C, H, W]."""
    height, width = _size(size)
    channels = 1 if preset == "gray" else 3
    return _onnxrun._load_image(os.fspath(path), height, width, channels, preset)


def probabilities(scores):
    """Rows of scores as probabilities: rows that already are distributions are kept, the others
    go through a softmax (as the CLI's classify does)."""
    scores = np.asarray(scores, dtype=np.float32)
    is_dist = np.all((scores >= 0) & (scores <= 1), axis=1) & (
        np.abs(scores.sum(axis=1, dtype=np.float64) - 1.0) <= 1e-3)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    soft = (e / e.sum(axis=1, dtype=np.float64, keepdims=True)).astype(np.float32)
    return np.where(is_dist[:, None], scores, soft)


def image_input(session_inputs, preset, size):
    """(height, width, channels, preset) for a model's single [N, C, H, W] image input; dynamic
    dimensions take `size` (default 224) and the preset's channel count."""
    if len(session_inputs) != 1:
        raise _onnxrun.InvalidArgument(
            f"classify needs a model with one input, this one has {len(session_inputs)}")
    info = session_inputs[0]
    dims = list(info["model_shape"] or info["shape"])
    if len(dims) != 4 or dims[0] not in (1, -1):
        raise _onnxrun.InvalidArgument(
            f"input '{info['name']}' has shape {dims}; classify needs [N, C, H, W] with N 1 or "
            "dynamic")
    if preset is None:
        preset = "gray" if dims[1] == 1 else "torchvision"
    channels = dims[1] if dims[1] > 0 else (1 if preset == "gray" else 3)
    if (channels == 1) != (preset == "gray"):
        raise _onnxrun.InvalidArgument(
            f"preset '{preset}' does not fit input '{info['name']}' with {channels} channel(s)")
    want = _size(size) if size is not None else None
    hw = []
    for d, (dim, name) in enumerate(zip(dims[2:], ("height", "width"))):
        if dim > 0:
            if want is not None and want[d] != dim:
                raise _onnxrun.InvalidArgument(
                    f"size {want} does not fit input '{info['name']}': its {name} is {dim}")
            hw.append(dim)
        else:
            hw.append(want[d] if want is not None else DEFAULT_SIZE)
    return hw[0], hw[1], channels, preset


def top_k(scores, errors, paths, top):
    """Per image {'path', 'indices', 'labels', 'probabilities', 'error'} from raw scores."""
    probs = probabilities(scores) if len(paths) else scores
    names = labels() if probs.shape[1] == len(labels()) else None
    results = []
    for i, path in enumerate(paths):
        if errors[i] is not None:
            results.append({"path": path, "indices": [], "labels": [], "probabilities": [],
                            "error": errors[i]})
            continue
        order = np.argsort(-probs[i], kind="stable")[:top]  # ties: the lower index first
        results.append({
            "path": path,
            "indices": [int(k) for k in order],
            "labels": [names[k] if names else f"class_{k}" for k in order],
            "probabilities": [float(probs[i, k]) for k in order],
            "error": None,
        })
    return results
