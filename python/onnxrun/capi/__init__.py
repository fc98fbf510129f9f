"""onnxruntime.capi's names that scripts import (the exception types)."""
