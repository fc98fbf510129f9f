// Test helpers for the C API (onnxrun/onnxrun_c.h): owning pointers for its handles, status
// assertions, a two-input model with metadata, conversions between C and C++ tensors.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "onnxrun/onnxrun_c.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {

struct StatusDeleter {
  void operator()(onnxrun_status* s) const { onnxrun_status_free(s); }
};
struct SessionDeleter {
  void operator()(onnxrun_session* s) const { onnxrun_session_free(s); }
};
struct TensorDeleter {
  void operator()(onnxrun_tensor* t) const { onnxrun_tensor_free(t); }
};
struct OptionsDeleter {
  void operator()(onnxrun_options* o) const { onnxrun_options_free(o); }
};
using StatusPtr = std::unique_ptr<onnxrun_status, StatusDeleter>;
using SessionPtr = std::unique_ptr<onnxrun_session, SessionDeleter>;
using TensorPtr = std::unique_ptr<onnxrun_tensor, TensorDeleter>;
using OptionsPtr = std::unique_ptr<onnxrun_options, OptionsDeleter>;

// Takes ownership of `status`; success, or a failure with its message.
inline ::testing::AssertionResult Ok(onnxrun_status* status) {
  StatusPtr s(status);
  if (!s) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "code " << onnxrun_status_code_of(s.get()) << ": " << onnxrun_status_message(s.get());
}
// Takes ownership of `status`; a failure with `code` whose message contains `text`.
inline ::testing::AssertionResult Fails(onnxrun_status* status, onnxrun_status_code code,
                                        const std::string& text) {
  StatusPtr s(status);
  if (!s) return ::testing::AssertionFailure() << "succeeded";
  const std::string message = onnxrun_status_message(s.get());
  if (onnxrun_status_code_of(s.get()) != code || message.find(text) == std::string::npos)
    return ::testing::AssertionFailure()
           << "code " << onnxrun_status_code_of(s.get()) << ": " << message;
  return ::testing::AssertionSuccess();
}

// x [N,3,8,8] -> Conv(4, bias) -> Sigmoid -> GlobalAveragePool -> Flatten -> MatMul [4,5]
// -> "logits:0"; y [N,2] -> Abs -> "aux:0"; with producer, doc string and metadata_props.
inline GraphBuilder CTwoInputModel(std::mt19937& rng) {
  GraphBuilder b;
  auto features = Conv(b, rng, b.Input("x", {-1, 3, 8, 8}), 3, 4, 3, /*bias=*/true);
  auto pooled = b.Op("GlobalAveragePool", {b.Op("Sigmoid", {features})});
  b.Output(b.Op("MatMul", {b.Op("Flatten", {pooled}), b.Weight("fc", {4, 5}, rng)}, 1, "logits"));
  b.Output(b.Op("Abs", {b.Input("y", {-1, 2})}, 1, "aux"));
  onnx::ModelProto& m = b.model();
  m.set_doc_string("a two-input test model");
  m.set_producer_version("1.2");
  m.set_domain("org.test");
  m.set_model_version(7);
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"license", "MIT"}, {"author", "tests"}}) {
    auto* p = m.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  }
  return b;
}

inline SessionPtr LoadC(const GraphBuilder& b, const onnxrun_options* options = nullptr) {
  const std::string path = b.Save();
  onnxrun_session* s = nullptr;
  EXPECT_TRUE(Ok(onnxrun_session_load(path.c_str(), options, &s)));
  std::remove(path.c_str());
  return SessionPtr(s);
}

inline TensorPtr CTensor(const Tensor& t) {
  onnxrun_tensor* out = nullptr;
  EXPECT_TRUE(Ok(onnxrun_tensor_create(t.shape().data(), t.shape().size(), &out)));
  std::memcpy(onnxrun_tensor_data(out), t.data(), sizeof(float) * t.num_elements());
  return TensorPtr(out);
}

inline Tensor FromC(const onnxrun_tensor* t) {
  size_t rank = 0;
  const int64_t* dims = onnxrun_tensor_shape(t, &rank);
  const float* data = onnxrun_tensor_const_data(t);
  std::vector<int64_t> shape(dims, dims + rank);
  return Tensor(shape, std::vector<float>(data, data + onnxrun_tensor_element_count(t)));
}

}  // namespace onnxrun::test
