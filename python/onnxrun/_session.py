"""InferenceSession and friends with onnxruntime's names and signatures (docs/PYTHON.md)."""
import enum
import json
import os
import time

from onnxrun import _image, _onnxrun

_CPU = "CPUExecutionProvider"

# onnxrun's DataTypeName -> onnxruntime's type string.
_TYPES = {
    "float32": "tensor(float)", "float64": "tensor(double)", "float16": "tensor(float16)",
    "int64": "tensor(int64)", "int32": "tensor(int32)", "int8": "tensor(int8)",
    "uint8": "tensor(uint8)", "uint64": "tensor(uint64)", "bfloat16": "tensor(bfloat16)",
    "bool": "tensor(bool)", "string": "tensor(string)",
}

# SessionOptions.add_session_config_entry keys onnxrun reads (others are kept and ignored).
_CONFIG_KEYS = {
    "onnxrun.conv_kernel": str,
    "onnxrun.batch_size": int,
    "onnxrun.max_cached_shapes": int,
    "onnxrun.shapes_per_run": lambda v: str(v).lower() in ("1", "true"),
}


class GraphOptimizationLevel(enum.IntEnum):
    ORT_DISABLE_ALL = 0
    ORT_ENABLE_BASIC = 1
    ORT_ENABLE_EXTENDED = 2
    ORT_ENABLE_ALL = 99


class ExecutionMode(enum.IntEnum):
    ORT_SEQUENTIAL = 0
    ORT_PARALLEL = 1


def get_available_providers():
    return [_CPU]


def get_all_providers():
    return [_CPU]


def get_device():
    return "CPU"


class SessionOptions:
    """onnxruntime's SessionOptions. Read: intra_op_num_threads (0 = every usable CPU),
    graph_optimization_level (ORT_DISABLE_ALL turns the optimizer off; the other levels all run
    it), enable_profiling, profile_file_prefix, the onnxrun.* config entries. The rest is
    accepted and ignored."""

    def __init__(self):
        self.intra_op_num_threads = 0
        self.inter_op_num_threads = 0
        self.graph_optimization_level = GraphOptimizationLevel.ORT_ENABLE_ALL
        self.execution_mode = ExecutionMode.ORT_SEQUENTIAL
        self.enable_profiling = False
        self.profile_file_prefix = "onnxruntime_profile_"
        self.log_severity_level = 2
        self.log_verbosity_level = 0
        self.logid = ""
        self.enable_cpu_mem_arena = True
        self.enable_mem_pattern = True
        self.enable_mem_reuse = True
        self.optimized_model_filepath = ""
        self.use_deterministic_compute = False
        self._config = {}

    def add_session_config_entry(self, key, value):
        self._config[key] = str(value)

    def get_session_config_entry(self, key):
        if key not in self._config:
            raise _onnxrun.InvalidArgument(f"SessionOptions: no config entry '{key}'")
        return self._config[key]

    def _to_dict(self):
        threads = int(self.intra_op_num_threads)
        if threads < 0:
            raise _onnxrun.InvalidArgument(
                f"SessionOptions.intra_op_num_threads must be >= 0, got {threads}")
        options = {
            "num_threads": threads if threads > 0 else _onnxrun.usable_cpus(),
            "optimize": self.graph_optimization_level != GraphOptimizationLevel.ORT_DISABLE_ALL,
            "enable_profiling": bool(self.enable_profiling),
        }
        for key, convert in _CONFIG_KEYS.items():
            if key in self._config:
                options[key.split(".", 1)[1]] = convert(self._config[key])
        return options


class NodeArg:
    """A graph input or output: name, type ('tensor(float)') and shape (ints; the symbolic name
    or None for a dynamic dimension)."""

    def __init__(self, info):
        self.name = info["name"]
        self.type = _TYPES.get(info["dtype"], f"tensor({info['dtype']})")
        dims = info["model_shape"] if info["model_shape"] else info["shape"]
        names = info["dim_names"] if info["model_shape"] else []
        self.shape = [d if d >= 0 else (names[i] if i < len(names) and names[i] else None)
                      for i, d in enumerate(dims)]

    def __repr__(self):
        return f"NodeArg(name='{self.name}', type='{self.type}', shape={self.shape})"


class ModelMetadata:
    """get_modelmeta(): producer_name, graph_name, domain, description, version,
    custom_metadata_map, graph_description (plus onnxrun's producer_version, ir_version)."""

    def __init__(self, meta):
        for key, value in meta.items():
            setattr(self, key, value)

    def __repr__(self):
        return f"ModelMetadata({vars(self)})"


def _check_providers(providers):
    if providers is None:
        return [_CPU]
    names = []
    for p in providers:
        name = p[0] if isinstance(p, (tuple, list)) else p
        if name != _CPU:
            raise ValueError(
                f"provider '{name}' is not available: onnxrun runs on the CPU only "
                f"(available providers: {get_available_providers()})")
        names.append(name)
    return names or [_CPU]


class InferenceSession:
    """onnxruntime.InferenceSession: loads an ONNX model (path or bytes) once; run() may be called
    from many threads at once and releases the GIL while the model runs."""

    def __init__(self, path_or_bytes, sess_options=None, providers=None, provider_options=None,
                 **kwargs):
        self._providers = _check_providers(providers)
        self._sess_options = sess_options if sess_options is not None else SessionOptions()
        if isinstance(path_or_bytes, (bytes, bytearray)):
            self._model_path = None
            model = path_or_bytes
        else:
            self._model_path = os.fspath(path_or_bytes)
            model = self._model_path
        self._profiling_start_ns = time.time_ns()
        self._sess = _onnxrun._load(model, self._sess_options._to_dict())
        self._input_infos = _onnxrun._inputs(self._sess)
        self._inputs = [NodeArg(i) for i in self._input_infos]
        self._outputs = [NodeArg(o) for o in _onnxrun._outputs(self._sess)]

    def run(self, output_names, input_feed, run_options=None):
        """Runs the model: a list with one numpy array per requested output (None or [] = all).
        C-contiguous float32 inputs are read in place."""
        if type(input_feed) is not dict:
            input_feed = dict(input_feed)
        return self._sess.run(output_names, input_feed, run_options)

    def get_inputs(self):
        return list(self._inputs)

    def get_outputs(self):
        return list(self._outputs)

    def get_overridable_initializers(self):
        return []

    def get_modelmeta(self):
        return ModelMetadata(_onnxrun._metadata(self._sess))

    def get_providers(self):
        return list(self._providers)

    def get_provider_options(self):
        return {p: {} for p in self._providers}

    def set_providers(self, providers=None, provider_options=None):
        self._providers = _check_providers(providers)

    def get_session_options(self):
        return self._sess_options

    def get_profiling_start_time_ns(self):
        return self._profiling_start_ns

    def end_profiling(self):
        """Writes the per-step times (Chrome trace events) to <profile_file_prefix><time>.json
        and returns the file name; '' when profiling is off."""
        if not self._sess_options.enable_profiling:
            return ""
        name = time.strftime(f"{self._sess_options.profile_file_prefix}%Y-%m-%d_%H-%M-%S.json")
        events = [{"cat": "Node", "name": p["node"], "ph": "X", "ts": 0, "pid": os.getpid(),
                   "tid": 0, "dur": int(p["total_ms"] * 1000),
                   "args": {"op_name": p["op"], "runs": p["runs"]}}
                  for p in _onnxrun._profile(self._sess)]
        with open(name, "w", encoding="utf-8") as f:
            json.dump(events, f)
        return name

    # onnxrun's extras.

    def get_report(self):
        """The model report as a dict: ops before/after optimization, passes, memory (arena and
        its lower bound), parameters, GFLOPs, threads, load times."""
        return _onnxrun._report(self._sess)

    def get_profile(self):
        """Per-step run times so far (SessionOptions.enable_profiling) as a list of dicts."""
        return _onnxrun._profile(self._sess)

    def classify(self, paths, top=5, preset=None, size=None, jobs=1):
        """Top-`top` ImageNet classes of each image (batch 1 per run, `jobs` threads, no GIL):
        a list of {'path', 'indices', 'labels', 'probabilities', 'error'} in input order. An image
        that fails to decode has its message in 'error' and the rest go on."""
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        paths = [os.fspath(p) for p in paths]
        height, width, channels, preset = _image.image_input(self._input_infos, preset, size)
        scores, errors = self._sess.classify_images(paths, height, width, channels, preset,
                                                    max(1, int(jobs)))
        return _image.top_k(scores, errors, paths, int(top))
