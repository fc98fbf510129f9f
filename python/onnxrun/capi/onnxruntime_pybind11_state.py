"""The exception types under onnxruntime's module path:
`from onnxrun.capi.onnxruntime_pybind11_state import InvalidArgument`."""
from onnxrun._onnxrun import (  # noqa: F401
    Fail,
    InvalidArgument,
    NoSuchFile,
    NotImplemented,
    RuntimeException,
)
