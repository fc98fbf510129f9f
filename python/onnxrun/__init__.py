"""onnxrun: ONNX inference for CNN image classifiers on XNNPACK, with onnxruntime's Python API.

    import onnxrun as ort                      # a script written for onnxruntime runs unchanged
    sess = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
    out = sess.run(None, {sess.get_inputs()[0].name: x})[0]

docs/PYTHON.md lists what is supported, what differs and what is missing.
"""
from onnxrun._onnxrun import (  # noqa: F401  (exception types as in onnxruntime)
    Fail,
    InvalidArgument,
    NoSuchFile,
    NotImplemented,
    OnnxRunError,
    RunOptions,
    RuntimeException,
    __version__,
    usable_cpus,
)
from onnxrun._image import labels, load_image  # noqa: F401
from onnxrun._session import (  # noqa: F401
    ExecutionMode,
    GraphOptimizationLevel,
    InferenceSession,
    ModelMetadata,
    NodeArg,
    SessionOptions,
    get_all_providers,
    get_available_providers,
    get_device,
)
from onnxrun.capi import onnxruntime_pybind11_state  # noqa: F401,E402  (ort.capi....Fail)
