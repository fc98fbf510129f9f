// onnxrun._onnxrun: the compiled half of the Python package (python/onnxrun/ is the other half).
// Only the public API (include/onnxrun) is used.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "onnxrun/onnxrun.h"
#include "python/src/errors.h"
#include "python/src/session.h"

namespace py = pybind11;

namespace onnxrun::python {

void RegisterImage(py::module_& m);

namespace {

// Options from the Python SessionOptions (onnxrun/_session.py maps onnxruntime's names).
SessionOptions ToOptions(const py::dict& d) {
  SessionOptions o;
  if (d.contains("num_threads")) o.num_threads = py::cast<int>(d["num_threads"]);
  if (d.contains("optimize")) o.optimize = py::cast<bool>(d["optimize"]);
  if (d.contains("enable_profiling")) o.enable_profiling = py::cast<bool>(d["enable_profiling"]);
  if (d.contains("conv_kernel")) o.conv_kernel = py::cast<std::string>(d["conv_kernel"]);
  if (d.contains("batch_size")) o.batch_size = py::cast<int64_t>(d["batch_size"]);
  if (d.contains("max_cached_shapes")) o.max_cached_shapes = py::cast<int>(d["max_cached_shapes"]);
  if (d.contains("shapes_per_run")) o.shapes_per_run = py::cast<bool>(d["shapes_per_run"]);
  if (d.contains("input_shapes")) {
    o.input_shapes = py::cast<std::map<std::string, std::vector<int64_t>>>(d["input_shapes"]);
  }
  return o;
}

std::unique_ptr<PySession> Load(const py::object& model, const py::dict& options) {
  const SessionOptions o = ToOptions(options);
  absl::StatusOr<std::unique_ptr<Session>> session;
  if (py::isinstance<py::bytes>(model) || py::isinstance<py::bytearray>(model)) {
    const std::string bytes = py::cast<std::string>(model);
    py::gil_scoped_release release;
    session = Session::LoadFromMemory(bytes.data(), bytes.size(), o);
  } else {
    const std::string path = py::str(model);  // str or os.PathLike (its __str__ is the path)
    py::gil_scoped_release release;
    session = Session::Load(path, o);
  }
  if (!session.ok()) Raise(session.status());
  return std::make_unique<PySession>(std::move(*session));
}

py::list Infos(const std::vector<TensorInfo>& infos) {
  py::list out;
  for (const TensorInfo& t : infos) {
    py::dict d;
    d["name"] = t.name;
    d["dtype"] = t.dtype;
    d["shape"] = t.shape;
    d["model_shape"] = t.model_shape;
    d["dim_names"] = t.dim_names;
    out.append(d);
  }
  return out;
}

py::dict Metadata(const ModelMetadata& m) {
  py::dict d;
  d["producer_name"] = m.producer_name;
  d["producer_version"] = m.producer_version;
  d["domain"] = m.domain;
  d["version"] = m.model_version;
  d["ir_version"] = m.ir_version;
  d["graph_name"] = m.graph_name;
  d["description"] = m.doc_string;
  d["graph_description"] = m.graph_doc_string;
  d["custom_metadata_map"] = m.custom;
  return d;
}

py::dict Report(const ModelReport& r) {
  py::dict memory;
  memory["arena_bytes"] = r.memory.arena_bytes;
  memory["naive_bytes"] = r.memory.naive_bytes;
  memory["lower_bound_bytes"] = r.memory.lower_bound_bytes;
  memory["workspace_bytes"] = r.memory.workspace_bytes;
  memory["concats_in_place"] = r.memory.concats_in_place;
  memory["concats_copied"] = r.memory.concats_copied;
  memory["bytes_copied_per_run"] = r.memory.bytes_copied_per_run;
  memory["kept_weight_bytes"] = r.kept_weight_bytes;
  py::dict passes;
  for (const PassReport& p : r.passes) passes[py::str(p.pass)] = p.rewrites;
  py::list rewrites;
  for (const RewriteReport& w : r.rewrites) rewrites.append(py::make_tuple(w.pass, w.node, w.what));
  py::dict d;
  d["opset"] = r.opset;
  d["producer"] = r.producer;
  d["parameters"] = r.parameters;
  d["gflops"] = r.gflops;
  d["num_threads"] = r.num_threads;
  d["ops_before"] = r.ops_before;
  d["ops_after"] = r.ops_after;
  d["passes"] = passes;
  d["rewrites"] = rewrites;
  d["memory"] = memory;
  d["load_ms"] = py::dict(py::arg("parse") = r.parse_ms, py::arg("prepare") = r.prepare_ms,
                          py::arg("optimize") = r.optimize_ms, py::arg("plan") = r.plan_ms,
                          py::arg("lower") = r.lower_ms);
  return d;
}

py::list Profile(const Session& s) {
  py::list out;
  for (const StepProfile& p : s.profile()) {
    out.append(py::dict(py::arg("node") = p.node, py::arg("op") = p.op,
                        py::arg("total_ms") = p.total_ms, py::arg("runs") = p.runs));
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_onnxrun, m) {
  m.doc() = "onnxrun's compiled core; use the onnxrun package.";
  RegisterErrors(m);
  RegisterSession(m);
  RegisterImage(m);
  m.def("_load", &Load, py::arg("model"), py::arg("options"));
  m.def("_inputs", [](PySession& s) { return Infos(s.session().inputs()); });
  m.def("_outputs", [](PySession& s) { return Infos(s.session().outputs()); });
  m.def("_metadata", [](PySession& s) { return Metadata(s.session().metadata()); });
  m.def("_report", [](PySession& s) { return Report(s.session().report()); });
  m.def("_profile", [](PySession& s) { return Profile(s.session()); });
  m.def("usable_cpus", &UsableCpus, "CPUs this process may run on (taskset, cgroup cpusets).");
  m.attr("__version__") = Version();
}

}  // namespace onnxrun::python
