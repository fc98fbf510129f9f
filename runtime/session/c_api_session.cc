// The C API (include/onnxrun/onnxrun_c.h), part 2: sessions (load, inputs and outputs,
// metadata), runs with output selection, caller outputs and run options, cancel and profile.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/session/c_api_internal.h"

using onnxrun::Tensor;
using namespace onnxrun::c_api;  // the helpers shared by the C API's files

namespace {

onnxrun_element_type TypeOf(const std::string& name) {
  for (int t = 0; t <= static_cast<int>(onnxrun::DataType::kOther); ++t)
    if (name == onnxrun::DataTypeName(static_cast<onnxrun::DataType>(t)))
      return static_cast<onnxrun_element_type>(t);
  return ONNXRUN_TYPE_OTHER;
}

// Entry `i` of `list` (null: no list or out of range).
const onnxrun::TensorInfo* InfoAt(const std::vector<onnxrun::TensorInfo>* list, size_t i) {
  return list && i < list->size() ? &(*list)[i] : nullptr;
}
// The getters of one input or output (`info` null: index out of range or no session).
const char* NameOf(const onnxrun::TensorInfo* info) { return info ? info->name.c_str() : nullptr; }
onnxrun_element_type TypeOf(const onnxrun::TensorInfo* info) {
  return info ? TypeOf(info->dtype) : ONNXRUN_TYPE_OTHER;
}
const int64_t* DeclaredShape(const onnxrun::TensorInfo* info, size_t* rank) {
  return Dims(info ? &info->model_shape : nullptr, rank);
}
const int64_t* PreparedShape(const onnxrun::TensorInfo* info, size_t* rank) {
  return Dims(info ? &info->shape : nullptr, rank);
}
const char* DimName(const onnxrun::TensorInfo* info, size_t dim) {
  if (!info || dim >= info->model_shape.size()) return nullptr;
  return dim < info->dim_names.size() ? info->dim_names[dim].c_str() : "";
}

onnxrun_status* Load(absl::StatusOr<std::unique_ptr<onnxrun::Session>> loaded,
                     onnxrun_session** out) {
  if (!loaded.ok()) return FromStatus(loaded.status());
  auto s = std::make_unique<onnxrun_session>();
  s->session = std::move(*loaded);
  for (const auto& [key, value] : s->session->metadata().custom)
    s->custom.push_back({&key, &value});
  *out = s.release();
  return nullptr;
}

const onnxrun::SessionOptions& OptionsOf(const onnxrun_options* o) {
  static const onnxrun::SessionOptions kDefaults;
  return o ? o->options : kDefaults;
}

// The named inputs of a run, checked for NULL pointers.
absl::StatusOr<onnxrun::NamedInputs> Inputs(size_t n, const char* const* names,
                                            const onnxrun_tensor* const* inputs) {
  if (n > 0 && (names == nullptr || inputs == nullptr))
    return absl::InvalidArgumentError("onnxrun_session_run: input_names or inputs is NULL");
  onnxrun::NamedInputs named;
  for (size_t i = 0; i < n; ++i) {
    if (names[i] == nullptr)
      return absl::InvalidArgumentError(
          absl::StrCat("onnxrun_session_run: input name ", i, " is NULL"));
    if (inputs[i] == nullptr)
      return absl::InvalidArgumentError(
          absl::StrCat("onnxrun_session_run: input '", names[i], "' is NULL"));
    named.push_back({names[i], &inputs[i]->tensor});
  }
  return named;
}

// The output names of a run: `names`, or every output when NULL (n must then match).
absl::StatusOr<std::vector<std::string>> OutputNames(const onnxrun::Session& s, size_t n,
                                                     const char* const* names) {
  std::vector<std::string> out;
  // (The C++ API reads no names as "all outputs"; here that is NULL names with the full count.)
  if (n == 0) return absl::InvalidArgumentError("onnxrun_session_run: n_outputs is 0");
  if (names == nullptr) {
    if (n != s.outputs().size())
      return absl::InvalidArgumentError(
          absl::StrCat("onnxrun_session_run: output_names is NULL (all outputs) but n_outputs is ",
                       n, ", the model has ", s.outputs().size()));
    for (const auto& info : s.outputs()) out.push_back(info.name);
    return out;
  }
  for (size_t i = 0; i < n; ++i) {
    if (names[i] == nullptr)
      return absl::InvalidArgumentError(
          absl::StrCat("onnxrun_session_run: output name ", i, " is NULL"));
    out.push_back(names[i]);
  }
  return out;
}

// One run. `caller[i]` is the caller's output tensor for output i (written in place) or null
// (a new tensor is returned in fresh[i]).
absl::Status Run(onnxrun_session* session, const onnxrun_run_options* run_options, size_t n_inputs,
                 const char* const* input_names, const onnxrun_tensor* const* inputs,
                 size_t n_outputs, const char* const* output_names,
                 const std::vector<onnxrun_tensor*>& caller, std::vector<Tensor>* fresh) {
  auto named = Inputs(n_inputs, input_names, inputs);
  if (!named.ok()) return named.status();
  auto names = OutputNames(*session->session, n_outputs, output_names);
  if (!names.ok()) return names.status();
  onnxrun::RunOptions options;
  if (run_options) {
    // A flag already set stops the run before it starts, whatever step checks come first.
    if (run_options->terminate.load()) return absl::CancelledError("the run was terminated");
    options.terminate = &run_options->terminate;
  }
  // Caller outputs go in as writable views of their memory (all or none: the C++ API writes
  // into the given tensors only when every requested output has one).
  bool all_caller = n_outputs > 0;
  for (size_t i = 0; i < n_outputs; ++i) {
    const onnxrun_tensor* t = caller[i];
    all_caller = all_caller && t != nullptr;
    if (t && (t->tensor.dtype() != onnxrun::DataType::kFloat32 || !caller[i]->tensor.data()))
      return absl::InvalidArgumentError(
          absl::StrCat("output '", (*names)[i], "': the given tensor is not writable float32"));
  }
  std::vector<Tensor> results;
  if (all_caller)
    for (onnxrun_tensor* t : caller)
      results.push_back(Tensor::View(t->tensor.data(), t->tensor.shape()));
  absl::Status status = session->session->Run(*named, *names, &results, options);
  if (!status.ok()) return status;
  if (results.size() != n_outputs)
    return absl::InternalError(absl::StrCat("onnxrun_session_run: ", results.size(),
                                            " outputs for ", n_outputs, " requested"));
  // Results for caller tensors are in their memory, or (when the C++ API made new tensors) copied
  // there after the shape check.
  for (size_t i = 0; i < n_outputs; ++i) {
    Tensor& r = results[i];
    if (caller[i] == nullptr) continue;
    Tensor& dst = caller[i]->tensor;
    if (r.shape() != dst.shape() || r.dtype() != onnxrun::DataType::kFloat32)
      return absl::InvalidArgumentError(
          absl::StrCat("output '", (*names)[i], "' is ", onnxrun::DataTypeName(r.dtype()), " ",
                       onnxrun::ir::ShapeString(r.shape()), " but the given tensor is float32 ",
                       onnxrun::ir::ShapeString(dst.shape())));
    if (r.data() != dst.data())
      std::memcpy(dst.data(), r.data(), sizeof(float) * static_cast<size_t>(r.num_elements()));
  }
  *fresh = std::move(results);
  return absl::OkStatus();
}

}  // namespace

extern "C" {
onnxrun_status* onnxrun_session_load(const char* path, const onnxrun_options* options,
                                     onnxrun_session** out) {
  ONNXRUN_C_REQUIRE(out, onnxrun_session_load);
  *out = nullptr;
  ONNXRUN_C_REQUIRE(path, onnxrun_session_load);
  return Guard([&] { return Load(onnxrun::Session::Load(path, OptionsOf(options)), out); });
}
onnxrun_status* onnxrun_session_load_from_memory(const void* data, size_t size,
                                                 const onnxrun_options* options,
                                                 onnxrun_session** out) {
  ONNXRUN_C_REQUIRE(out, onnxrun_session_load_from_memory);
  *out = nullptr;
  ONNXRUN_C_REQUIRE(data, onnxrun_session_load_from_memory);
  return Guard(
      [&] { return Load(onnxrun::Session::LoadFromMemory(data, size, OptionsOf(options)), out); });
}
void onnxrun_session_free(onnxrun_session* session) { delete session; }

// The getters of the inputs (kind = input) and of the outputs (kind = output).
#define ONNXRUN_C_INFO_GETTERS(kind)                                                             \
  size_t onnxrun_session_##kind##_count(const onnxrun_session* session) {                        \
    return session ? session->session->kind##s().size() : 0;                                     \
  }                                                                                              \
  const char* onnxrun_session_##kind##_name(const onnxrun_session* session, size_t index) {      \
    return NameOf(InfoAt(session ? &session->session->kind##s() : nullptr, index));              \
  }                                                                                              \
  onnxrun_element_type onnxrun_session_##kind##_type(const onnxrun_session* session,             \
                                                     size_t index) {                             \
    return TypeOf(InfoAt(session ? &session->session->kind##s() : nullptr, index));              \
  }                                                                                              \
  const int64_t* onnxrun_session_##kind##_shape(const onnxrun_session* session, size_t index,    \
                                                size_t* rank) {                                  \
    return DeclaredShape(InfoAt(session ? &session->session->kind##s() : nullptr, index), rank); \
  }                                                                                              \
  const char* onnxrun_session_##kind##_dim_name(const onnxrun_session* session, size_t index,    \
                                                size_t dim) {                                    \
    return DimName(InfoAt(session ? &session->session->kind##s() : nullptr, index), dim);        \
  }                                                                                              \
  const int64_t* onnxrun_session_##kind##_prepared_shape(const onnxrun_session* session,         \
                                                         size_t index, size_t* rank) {           \
    return PreparedShape(InfoAt(session ? &session->session->kind##s() : nullptr, index), rank); \
  }
ONNXRUN_C_INFO_GETTERS(input)
ONNXRUN_C_INFO_GETTERS(output)
#undef ONNXRUN_C_INFO_GETTERS

#define ONNXRUN_C_METADATA(fn, expr)                                      \
  const char* fn(const onnxrun_session* session) {                        \
    return session ? session->session->metadata().expr.c_str() : nullptr; \
  }
ONNXRUN_C_METADATA(onnxrun_session_producer_name, producer_name)
ONNXRUN_C_METADATA(onnxrun_session_producer_version, producer_version)
ONNXRUN_C_METADATA(onnxrun_session_domain, domain)
ONNXRUN_C_METADATA(onnxrun_session_graph_name, graph_name)
ONNXRUN_C_METADATA(onnxrun_session_doc_string, doc_string)
#undef ONNXRUN_C_METADATA
int64_t onnxrun_session_model_version(const onnxrun_session* session) {
  return session ? session->session->metadata().model_version : 0;
}
int64_t onnxrun_session_opset(const onnxrun_session* session) {
  return session ? session->session->report().opset : 0;
}
size_t onnxrun_session_custom_metadata_count(const onnxrun_session* session) {
  return session ? session->custom.size() : 0;
}
const char* onnxrun_session_custom_metadata_key(const onnxrun_session* session, size_t index) {
  return session && index < session->custom.size() ? session->custom[index].first->c_str()
                                                   : nullptr;
}
const char* onnxrun_session_custom_metadata_value(const onnxrun_session* session, size_t index) {
  return session && index < session->custom.size() ? session->custom[index].second->c_str()
                                                   : nullptr;
}
const char* onnxrun_session_custom_metadata_lookup(const onnxrun_session* session,
                                                   const char* key) {
  if (!session || !key) return nullptr;
  for (const auto& [k, v] : session->custom)
    if (*k == key) return v->c_str();
  return nullptr;
}

onnxrun_status* onnxrun_session_infer_output_shape(onnxrun_session* session, size_t n_inputs,
                                                   const char* const* input_names,
                                                   const int64_t* const* input_shapes,
                                                   const size_t* input_ranks, size_t output_index,
                                                   int64_t* shape, size_t capacity, size_t* rank) {
  ONNXRUN_C_REQUIRE(session, onnxrun_session_infer_output_shape);
  ONNXRUN_C_REQUIRE(rank, onnxrun_session_infer_output_shape);
  *rank = 0;
  if (n_inputs > 0 && (!input_names || !input_shapes || !input_ranks))
    return Invalid(
        "onnxrun_session_infer_output_shape: input_names, input_shapes or input_ranks "
        "is NULL");
  if (capacity > 0 && shape == nullptr)
    return Invalid("onnxrun_session_infer_output_shape: shape is NULL");
  return Guard([&]() -> onnxrun_status* {
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& info : session->session->inputs()) shapes[info.name] = info.shape;
    for (size_t i = 0; i < n_inputs; ++i) {
      if (!input_names[i]) return Invalid("onnxrun_session_infer_output_shape: a name is NULL");
      auto dims = ShapeArg(input_shapes[i], input_ranks[i], "onnxrun_session_infer_output_shape");
      if (!dims.ok()) return FromStatus(dims.status());
      shapes[input_names[i]] = std::move(*dims);
    }
    auto out = session->session->OutputShapes(shapes);
    if (!out.ok()) return FromStatus(out.status());
    if (output_index >= out->size())
      return Error(ONNXRUN_OUT_OF_RANGE,
                   absl::StrCat("onnxrun_session_infer_output_shape: output index ", output_index,
                                " of ", out->size(), " outputs"));
    const std::vector<int64_t>& dims = (*out)[output_index];
    *rank = dims.size();
    if (dims.size() > capacity)
      return Error(ONNXRUN_OUT_OF_RANGE,
                   absl::StrCat("onnxrun_session_infer_output_shape: the output has rank ",
                                dims.size(), ", capacity is ", capacity));
    std::copy(dims.begin(), dims.end(), shape);
    return nullptr;
  });
}

onnxrun_status* onnxrun_session_run(onnxrun_session* session, size_t n_inputs,
                                    const char* const* input_names,
                                    const onnxrun_tensor* const* inputs, size_t n_outputs,
                                    const char* const* output_names, onnxrun_tensor** outputs) {
  ONNXRUN_C_REQUIRE(session, onnxrun_session_run);
  if (n_outputs > 0 && outputs == nullptr) return Invalid("onnxrun_session_run: outputs is NULL");
  for (size_t i = 0; i < n_outputs; ++i) outputs[i] = nullptr;
  return onnxrun_session_run_with_options(session, nullptr, n_inputs, input_names, inputs,
                                          n_outputs, output_names, outputs);
}

onnxrun_status* onnxrun_run_options_create(onnxrun_run_options** out) {
  ONNXRUN_C_REQUIRE(out, onnxrun_run_options_create);
  *out = nullptr;
  return Guard([&]() -> onnxrun_status* {
    *out = new onnxrun_run_options;
    return nullptr;
  });
}
void onnxrun_run_options_set_terminate(onnxrun_run_options* options, int terminate) {
  if (options) options->terminate.store(terminate != 0);
}
void onnxrun_run_options_free(onnxrun_run_options* options) { delete options; }

onnxrun_status* onnxrun_session_run_with_options(onnxrun_session* session,
                                                 const onnxrun_run_options* run_options,
                                                 size_t n_inputs, const char* const* input_names,
                                                 const onnxrun_tensor* const* inputs,
                                                 size_t n_outputs, const char* const* output_names,
                                                 onnxrun_tensor** outputs) {
  ONNXRUN_C_REQUIRE(session, onnxrun_session_run_with_options);
  if (n_outputs > 0 && outputs == nullptr)
    return Invalid("onnxrun_session_run_with_options: outputs is NULL");
  return Guard([&]() -> onnxrun_status* {
    std::vector<onnxrun_tensor*> caller(outputs, outputs + n_outputs);
    std::vector<Tensor> results;
    absl::Status s = Run(session, run_options, n_inputs, input_names, inputs, n_outputs,
                         output_names, caller, &results);
    if (!s.ok()) return FromStatus(s);
    // Every new tensor is made before any slot is filled: on an allocation failure no slot holds
    // a tensor the caller does not know about.
    std::vector<std::unique_ptr<onnxrun_tensor>> made(n_outputs);
    for (size_t i = 0; i < n_outputs; ++i)
      if (!caller[i]) made[i].reset(new onnxrun_tensor{std::move(results[i])});
    for (size_t i = 0; i < n_outputs; ++i)
      if (!caller[i]) outputs[i] = made[i].release();
    return nullptr;
  });
}

void onnxrun_session_cancel(onnxrun_session* session) {
  if (session) session->session->Cancel();
}

onnxrun_status* onnxrun_session_profile(const onnxrun_session* session, char** text) {
  ONNXRUN_C_REQUIRE(text, onnxrun_session_profile);
  *text = nullptr;
  ONNXRUN_C_REQUIRE(session, onnxrun_session_profile);
  return Guard([&]() -> onnxrun_status* {
    std::string s;
    for (const onnxrun::StepProfile& p : session->session->profile())
      absl::StrAppend(&s, p.node, "\t", p.op, "\t", p.total_ms, "\t", p.runs, "\n");
    char* copy = static_cast<char*>(std::malloc(s.size() + 1));
    if (!copy) return &kOutOfMemory;
    std::memcpy(copy, s.c_str(), s.size() + 1);
    *text = copy;
    return nullptr;
  });
}
void onnxrun_string_free(char* text) { std::free(text); }

}  // extern "C"
