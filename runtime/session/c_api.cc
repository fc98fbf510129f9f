// The C API (include/onnxrun/onnxrun_c.h), part 1: version, statuses, thread pools, session
// options and tensors, over the C++ API (handles and shared helpers: c_api_internal.h).
#include <utility>

#include "runtime/session/c_api_internal.h"

using onnxrun::Tensor;
using namespace onnxrun::c_api;  // the helpers shared by the C API's files

namespace {

onnxrun_status* NewTensor(Tensor t, onnxrun_tensor** out) {
  *out = new onnxrun_tensor{std::move(t)};
  return nullptr;
}

}  // namespace

extern "C" {

const char* onnxrun_version(void) { return onnxrun::Version(); }
const char* onnxrun_element_type_name(onnxrun_element_type type) {
  if (type < ONNXRUN_TYPE_FLOAT32 || type > ONNXRUN_TYPE_OTHER) return "unknown";
  return onnxrun::DataTypeName(static_cast<onnxrun::DataType>(type));
}

onnxrun_status_code onnxrun_status_code_of(const onnxrun_status* status) {
  return status ? status->code : ONNXRUN_OK;
}
const char* onnxrun_status_message(const onnxrun_status* status) {
  return status ? status->message.c_str() : "";
}
void onnxrun_status_free(onnxrun_status* status) {
  if (status != &kOutOfMemory) delete status;
}

onnxrun_status* onnxrun_thread_pool_create(int threads, onnxrun_thread_pool** out) {
  ONNXRUN_C_REQUIRE(out, onnxrun_thread_pool_create);
  *out = nullptr;
  return Guard([&]() -> onnxrun_status* {
    auto pool = onnxrun::ThreadPool::Create(threads);
    if (!pool.ok()) return FromStatus(pool.status());
    *out = new onnxrun_thread_pool{std::move(*pool)};
    return nullptr;
  });
}
int onnxrun_thread_pool_num_threads(const onnxrun_thread_pool* pool) {
  return pool ? pool->pool->num_threads() : 0;
}
void onnxrun_thread_pool_free(onnxrun_thread_pool* pool) { delete pool; }

onnxrun_status* onnxrun_options_create(onnxrun_options** out) {
  ONNXRUN_C_REQUIRE(out, onnxrun_options_create);
  *out = nullptr;
  return Guard([&]() -> onnxrun_status* {
    *out = new onnxrun_options;
    return nullptr;
  });
}
void onnxrun_options_free(onnxrun_options* options) { delete options; }

onnxrun_status* onnxrun_options_set_num_threads(onnxrun_options* options, int threads) {
  ONNXRUN_C_REQUIRE(options, onnxrun_options_set_num_threads);
  if (threads < 1)
    return Invalid(absl::StrCat("onnxrun_options_set_num_threads: ", threads, " is not >= 1"));
  options->options.num_threads = threads;
  return nullptr;
}
onnxrun_status* onnxrun_options_set_thread_pool(onnxrun_options* options,
                                                onnxrun_thread_pool* pool) {
  ONNXRUN_C_REQUIRE(options, onnxrun_options_set_thread_pool);
  options->options.thread_pool = pool ? pool->pool : nullptr;
  return nullptr;
}
onnxrun_status* onnxrun_options_set_optimize(onnxrun_options* options, int enable) {
  ONNXRUN_C_REQUIRE(options, onnxrun_options_set_optimize);
  options->options.optimize = enable != 0;
  return nullptr;
}
onnxrun_status* onnxrun_options_set_batch_size(onnxrun_options* options, int64_t batch_size) {
  ONNXRUN_C_REQUIRE(options, onnxrun_options_set_batch_size);
  if (batch_size < 0)
    return Invalid(absl::StrCat("onnxrun_options_set_batch_size: ", batch_size, " is negative"));
  options->options.batch_size = batch_size;
  return nullptr;
}
onnxrun_status* onnxrun_options_set_input_shape(onnxrun_options* options, const char* name,
                                                const int64_t* shape, size_t rank) {
  ONNXRUN_C_REQUIRE(options, onnxrun_options_set_input_shape);
  ONNXRUN_C_REQUIRE(name, onnxrun_options_set_input_shape);
  return Guard([&]() -> onnxrun_status* {
    auto dims = ShapeArg(shape, rank, "onnxrun_options_set_input_shape");
    if (!dims.ok()) return FromStatus(dims.status());
    options->options.input_shapes[name] = std::move(*dims);
    return nullptr;
  });
}
onnxrun_status* onnxrun_options_set_max_cached_shapes(onnxrun_options* options, int count) {
  ONNXRUN_C_REQUIRE(options, onnxrun_options_set_max_cached_shapes);
  if (count < 1)
    return Invalid(absl::StrCat("onnxrun_options_set_max_cached_shapes: ", count, " is not >= 1"));
  options->options.max_cached_shapes = count;
  return nullptr;
}
onnxrun_status* onnxrun_options_set_profiling(onnxrun_options* options, int enable) {
  ONNXRUN_C_REQUIRE(options, onnxrun_options_set_profiling);
  options->options.enable_profiling = enable != 0;
  return nullptr;
}

onnxrun_status* onnxrun_tensor_create(const int64_t* shape, size_t rank, onnxrun_tensor** out) {
  ONNXRUN_C_REQUIRE(out, onnxrun_tensor_create);
  *out = nullptr;
  return Guard([&]() -> onnxrun_status* {
    auto dims = ShapeArg(shape, rank, "onnxrun_tensor_create");
    if (!dims.ok()) return FromStatus(dims.status());
    return NewTensor(Tensor(std::move(*dims)), out);
  });
}
onnxrun_status* onnxrun_tensor_create_view(float* data, const int64_t* shape, size_t rank,
                                           onnxrun_tensor** out) {
  ONNXRUN_C_REQUIRE(out, onnxrun_tensor_create_view);
  ONNXRUN_C_REQUIRE(data, onnxrun_tensor_create_view);
  *out = nullptr;
  return Guard([&]() -> onnxrun_status* {
    auto dims = ShapeArg(shape, rank, "onnxrun_tensor_create_view");
    if (!dims.ok()) return FromStatus(dims.status());
    return NewTensor(Tensor::View(data, std::move(*dims)), out);
  });
}
onnxrun_status* onnxrun_tensor_create_const_view(const float* data, const int64_t* shape,
                                                 size_t rank, onnxrun_tensor** out) {
  ONNXRUN_C_REQUIRE(out, onnxrun_tensor_create_const_view);
  ONNXRUN_C_REQUIRE(data, onnxrun_tensor_create_const_view);
  *out = nullptr;
  return Guard([&]() -> onnxrun_status* {
    auto dims = ShapeArg(shape, rank, "onnxrun_tensor_create_const_view");
    if (!dims.ok()) return FromStatus(dims.status());
    return NewTensor(Tensor::View(data, std::move(*dims)), out);
  });
}
onnxrun_status* onnxrun_tensor_read_file(const char* path, onnxrun_tensor** out) {
  ONNXRUN_C_REQUIRE(out, onnxrun_tensor_read_file);
  ONNXRUN_C_REQUIRE(path, onnxrun_tensor_read_file);
  *out = nullptr;
  return Guard([&]() -> onnxrun_status* {
    auto t = onnxrun::ReadTensorFile(path);
    if (!t.ok()) return FromStatus(t.status());
    // Float64 and float16 values were converted into values(): the tensor is float32 now.
    if (!t->values().empty() || t->ints().empty()) t->set_dtype(onnxrun::DataType::kFloat32);
    return NewTensor(std::move(*t), out);
  });
}
float* onnxrun_tensor_data(onnxrun_tensor* tensor) {
  if (!tensor || tensor->tensor.dtype() != onnxrun::DataType::kFloat32) return nullptr;
  return tensor->tensor.data();
}
const float* onnxrun_tensor_const_data(const onnxrun_tensor* tensor) {
  if (!tensor || tensor->tensor.dtype() != onnxrun::DataType::kFloat32) return nullptr;
  return tensor->tensor.data();
}
const int64_t* onnxrun_tensor_int64_data(const onnxrun_tensor* tensor) {
  if (!tensor || tensor->tensor.dtype() == onnxrun::DataType::kFloat32) return nullptr;
  return tensor->tensor.ints().data();
}
const int64_t* onnxrun_tensor_shape(const onnxrun_tensor* tensor, size_t* rank) {
  return Dims(tensor ? &tensor->tensor.shape() : nullptr, rank);
}
size_t onnxrun_tensor_element_count(const onnxrun_tensor* tensor) {
  return tensor ? static_cast<size_t>(tensor->tensor.num_elements()) : 0;
}
onnxrun_element_type onnxrun_tensor_element_type(const onnxrun_tensor* tensor) {
  return tensor ? TypeOf(tensor->tensor.dtype()) : ONNXRUN_TYPE_FLOAT32;
}
int onnxrun_tensor_is_view(const onnxrun_tensor* tensor) {
  return tensor && tensor->tensor.is_view() ? 1 : 0;
}
void onnxrun_tensor_free(onnxrun_tensor* tensor) { delete tensor; }

}  // extern "C"
