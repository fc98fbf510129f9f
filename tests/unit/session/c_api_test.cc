// The C API (onnxrun/onnxrun_c.h): every function, NULL arguments, bad paths and inputs, views,
// output selection, caller-provided outputs, run options and cancel, each against the C++ API.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "onnxrun/onnxrun_c.h"
#include "tests/unit/support/c_api_testing.h"
#include "tests/unit/support/graph_builder.h"
#include "tests/unit/support/temp_files.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;

TEST(CApi, VersionStatusAndTypeNames) {
  EXPECT_STREQ(onnxrun_version(), Version());
  EXPECT_EQ(
      std::string(onnxrun_version()),
      absl::StrCat(ONNXRUN_VERSION_MAJOR, ".", ONNXRUN_VERSION_MINOR, ".", ONNXRUN_VERSION_PATCH));
  EXPECT_EQ(onnxrun_status_code_of(nullptr), ONNXRUN_OK);
  EXPECT_STREQ(onnxrun_status_message(nullptr), "");
  onnxrun_status_free(nullptr);
  EXPECT_STREQ(onnxrun_element_type_name(ONNXRUN_TYPE_FLOAT32), "float32");
  EXPECT_STREQ(onnxrun_element_type_name(ONNXRUN_TYPE_INT64), "int64");
  EXPECT_STREQ(onnxrun_element_type_name(static_cast<onnxrun_element_type>(99)), "unknown");
  // The codes are absl's.
  EXPECT_EQ(ONNXRUN_INVALID_ARGUMENT, static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ONNXRUN_UNAUTHENTICATED, static_cast<int>(absl::StatusCode::kUnauthenticated));
}

TEST(CApi, OptionsSettersCheckTheirArguments) {
  onnxrun_options* raw = nullptr;
  EXPECT_TRUE(Fails(onnxrun_options_create(nullptr), ONNXRUN_INVALID_ARGUMENT, "out is NULL"));
  ASSERT_TRUE(Ok(onnxrun_options_create(&raw)));
  OptionsPtr o(raw);
  const int64_t shape[] = {2, 3, 8, 8};
  EXPECT_TRUE(Ok(onnxrun_options_set_num_threads(o.get(), 2)));
  EXPECT_TRUE(Ok(onnxrun_options_set_optimize(o.get(), 0)));
  EXPECT_TRUE(Ok(onnxrun_options_set_batch_size(o.get(), 4)));
  EXPECT_TRUE(Ok(onnxrun_options_set_input_shape(o.get(), "x", shape, 4)));
  EXPECT_TRUE(Ok(onnxrun_options_set_max_cached_shapes(o.get(), 3)));
  EXPECT_TRUE(Ok(onnxrun_options_set_profiling(o.get(), 1)));
  EXPECT_TRUE(Ok(onnxrun_options_set_thread_pool(o.get(), nullptr)));
  EXPECT_TRUE(Fails(onnxrun_options_set_num_threads(o.get(), 0), ONNXRUN_INVALID_ARGUMENT,
                    "0 is not >= 1"));
  EXPECT_TRUE(
      Fails(onnxrun_options_set_batch_size(o.get(), -1), ONNXRUN_INVALID_ARGUMENT, "negative"));
  EXPECT_TRUE(Fails(onnxrun_options_set_max_cached_shapes(o.get(), 0), ONNXRUN_INVALID_ARGUMENT,
                    "not >= 1"));
  const int64_t negative[] = {1, -3};
  EXPECT_TRUE(Fails(onnxrun_options_set_input_shape(o.get(), "x", negative, 2),
                    ONNXRUN_INVALID_ARGUMENT, "[1,-3]"));
  EXPECT_TRUE(Fails(onnxrun_options_set_input_shape(o.get(), nullptr, shape, 4),
                    ONNXRUN_INVALID_ARGUMENT, "name is NULL"));
  EXPECT_TRUE(Fails(onnxrun_options_set_input_shape(o.get(), "x", nullptr, 4),
                    ONNXRUN_INVALID_ARGUMENT, "shape is NULL"));
  for (onnxrun_status* s :
       {onnxrun_options_set_num_threads(nullptr, 1), onnxrun_options_set_optimize(nullptr, 1),
        onnxrun_options_set_batch_size(nullptr, 1), onnxrun_options_set_profiling(nullptr, 1),
        onnxrun_options_set_max_cached_shapes(nullptr, 1),
        onnxrun_options_set_thread_pool(nullptr, nullptr),
        onnxrun_options_set_input_shape(nullptr, "x", shape, 4)})
    EXPECT_TRUE(Fails(s, ONNXRUN_INVALID_ARGUMENT, "options is NULL"));
  onnxrun_options_free(nullptr);

  // The options reach the session: x prepared for batch 2 (input_shapes), y for 4 (batch_size).
  std::mt19937 rng(1);
  SessionPtr s = LoadC(CTwoInputModel(rng), o.get());
  ASSERT_TRUE(s);
  size_t rank = 0;
  const int64_t* x = onnxrun_session_input_prepared_shape(s.get(), 0, &rank);
  EXPECT_EQ(Shape(x, x + rank), (Shape{2, 3, 8, 8}));
  const int64_t* y = onnxrun_session_input_prepared_shape(s.get(), 1, &rank);
  EXPECT_EQ(Shape(y, y + rank), (Shape{4, 2}));
}

TEST(CApi, TensorsOwnedViewsAndFiles) {
  const int64_t shape[] = {2, 3};
  onnxrun_tensor* raw = nullptr;
  ASSERT_TRUE(Ok(onnxrun_tensor_create(shape, 2, &raw)));
  TensorPtr t(raw);
  size_t rank = 0;
  const int64_t* dims = onnxrun_tensor_shape(t.get(), &rank);
  EXPECT_EQ(Shape(dims, dims + rank), (Shape{2, 3}));
  EXPECT_EQ(onnxrun_tensor_element_count(t.get()), 6u);
  EXPECT_EQ(onnxrun_tensor_element_type(t.get()), ONNXRUN_TYPE_FLOAT32);
  EXPECT_FALSE(onnxrun_tensor_is_view(t.get()));
  EXPECT_EQ(onnxrun_tensor_int64_data(t.get()), nullptr);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(onnxrun_tensor_data(t.get())[i], 0.f);
  EXPECT_EQ(onnxrun_tensor_const_data(t.get()), onnxrun_tensor_data(t.get()));

  ASSERT_TRUE(Ok(onnxrun_tensor_create(nullptr, 0, &raw)));  // a scalar
  EXPECT_EQ(onnxrun_tensor_shape(raw, &rank), nullptr);
  EXPECT_EQ(rank, 0u);
  EXPECT_EQ(onnxrun_tensor_element_count(raw), 1u);
  onnxrun_tensor_free(raw);

  const int64_t negative[] = {2, -1}, huge[] = {int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_TRUE(Fails(onnxrun_tensor_create(negative, 2, &raw), ONNXRUN_INVALID_ARGUMENT, "[2,-1]"));
  EXPECT_EQ(raw, nullptr);
  EXPECT_TRUE(
      Fails(onnxrun_tensor_create(huge, 2, &raw), ONNXRUN_INVALID_ARGUMENT, "too many elements"));
  EXPECT_TRUE(Fails(onnxrun_tensor_create(nullptr, 2, &raw), ONNXRUN_INVALID_ARGUMENT,
                    "shape is NULL with rank 2"));
  EXPECT_TRUE(
      Fails(onnxrun_tensor_create(shape, 2, nullptr), ONNXRUN_INVALID_ARGUMENT, "out is NULL"));

  float memory[6] = {1, 2, 3, 4, 5, 6};
  ASSERT_TRUE(Ok(onnxrun_tensor_create_view(memory, shape, 2, &raw)));
  TensorPtr view(raw);
  EXPECT_TRUE(onnxrun_tensor_is_view(view.get()));
  EXPECT_EQ(onnxrun_tensor_data(view.get()), memory);
  ASSERT_TRUE(Ok(onnxrun_tensor_create_const_view(memory, shape, 2, &raw)));
  TensorPtr const_view(raw);
  EXPECT_EQ(onnxrun_tensor_data(const_view.get()), nullptr);  // read-only
  EXPECT_EQ(onnxrun_tensor_const_data(const_view.get()), memory);
  EXPECT_TRUE(Fails(onnxrun_tensor_create_view(nullptr, shape, 2, &raw), ONNXRUN_INVALID_ARGUMENT,
                    "data is NULL"));
  EXPECT_TRUE(Fails(onnxrun_tensor_create_const_view(memory, negative, 2, &raw),
                    ONNXRUN_INVALID_ARGUMENT, "negative"));

  // Getters on NULL.
  EXPECT_EQ(onnxrun_tensor_data(nullptr), nullptr);
  EXPECT_EQ(onnxrun_tensor_const_data(nullptr), nullptr);
  EXPECT_EQ(onnxrun_tensor_shape(nullptr, &rank), nullptr);
  EXPECT_EQ(rank, 0u);
  EXPECT_EQ(onnxrun_tensor_element_count(nullptr), 0u);
  EXPECT_FALSE(onnxrun_tensor_is_view(nullptr));
  onnxrun_tensor_free(nullptr);

  TempFolder dir;
  const std::string path = dir.path() + "/t.pb";
  ASSERT_TRUE(WriteTensorFile(path, Tensor({2, 3}, {1, 2, 3, 4, 5, 6})).ok());
  ASSERT_TRUE(Ok(onnxrun_tensor_read_file(path.c_str(), &raw)));
  TensorPtr read(raw);
  EXPECT_TRUE(BitwiseEqual(FromC(read.get()), Tensor({2, 3}, {1, 2, 3, 4, 5, 6})));
  ASSERT_TRUE(WriteTensorFile(path, Tensor::Ints({2}, {7, 8})).ok());
  ASSERT_TRUE(Ok(onnxrun_tensor_read_file(path.c_str(), &raw)));
  TensorPtr ints(raw);
  EXPECT_EQ(onnxrun_tensor_element_type(ints.get()), ONNXRUN_TYPE_INT64);
  EXPECT_EQ(onnxrun_tensor_data(ints.get()), nullptr);
  ASSERT_NE(onnxrun_tensor_int64_data(ints.get()), nullptr);
  EXPECT_EQ(onnxrun_tensor_int64_data(ints.get())[1], 8);
  EXPECT_TRUE(Fails(onnxrun_tensor_read_file((dir.path() + "/missing.pb").c_str(), &raw),
                    ONNXRUN_NOT_FOUND, "missing.pb"));
  EXPECT_TRUE(
      Fails(onnxrun_tensor_read_file(nullptr, &raw), ONNXRUN_INVALID_ARGUMENT, "path is NULL"));
}

TEST(CApi, LoadErrorsFromPathAndMemory) {
  onnxrun_session* s = reinterpret_cast<onnxrun_session*>(1);
  onnxrun_status* status = onnxrun_session_load("/nonexistent/model.onnx", nullptr, &s);
  EXPECT_EQ(s, nullptr);
  EXPECT_NE(status, nullptr);
  EXPECT_NE(std::string(onnxrun_status_message(status)).find("/nonexistent/model.onnx"),
            std::string::npos)
      << onnxrun_status_message(status);
  onnxrun_status_free(status);
  EXPECT_TRUE(
      Fails(onnxrun_session_load(nullptr, nullptr, &s), ONNXRUN_INVALID_ARGUMENT, "path is NULL"));
  EXPECT_TRUE(Fails(onnxrun_session_load("m.onnx", nullptr, nullptr), ONNXRUN_INVALID_ARGUMENT,
                    "out is NULL"));
  EXPECT_TRUE(Fails(onnxrun_session_load_from_memory(nullptr, 10, nullptr, &s),
                    ONNXRUN_INVALID_ARGUMENT, "data is NULL"));
  const char garbage[] = "not a model at all";
  EXPECT_NE(StatusPtr(onnxrun_session_load_from_memory(garbage, sizeof(garbage), nullptr, &s)),
            nullptr);
  EXPECT_EQ(s, nullptr);
  // Bad options fail the load with the C++ API's message.
  std::mt19937 rng(2);
  const std::string bytes = CTwoInputModel(rng).model().SerializeAsString();
  OptionsPtr o([] {
    onnxrun_options* raw = nullptr;
    EXPECT_TRUE(Ok(onnxrun_options_create(&raw)));
    return raw;
  }());
  const int64_t bad[] = {2, 4, 8, 8};  // 4 channels, the model says 3
  ASSERT_TRUE(Ok(onnxrun_options_set_input_shape(o.get(), "x", bad, 4)));
  EXPECT_NE(StatusPtr(onnxrun_session_load_from_memory(bytes.data(), bytes.size(), o.get(), &s)),
            nullptr);
  EXPECT_EQ(s, nullptr);
}

TEST(CApi, SessionInfoAndMetadata) {
  std::mt19937 rng(3);
  const GraphBuilder b = CTwoInputModel(rng);
  const std::string bytes = b.model().SerializeAsString();
  onnxrun_session* raw = nullptr;
  ASSERT_TRUE(Ok(onnxrun_session_load_from_memory(bytes.data(), bytes.size(), nullptr, &raw)));
  SessionPtr s(raw);
  ASSERT_EQ(onnxrun_session_input_count(s.get()), 2u);
  EXPECT_STREQ(onnxrun_session_input_name(s.get(), 0), "x");
  EXPECT_STREQ(onnxrun_session_input_name(s.get(), 1), "y");
  EXPECT_EQ(onnxrun_session_input_name(s.get(), 2), nullptr);
  EXPECT_EQ(onnxrun_session_input_type(s.get(), 0), ONNXRUN_TYPE_FLOAT32);
  EXPECT_EQ(onnxrun_session_input_type(s.get(), 2), ONNXRUN_TYPE_OTHER);
  size_t rank = 0;
  const int64_t* dims = onnxrun_session_input_shape(s.get(), 0, &rank);
  EXPECT_EQ(Shape(dims, dims + rank), (Shape{-1, 3, 8, 8}));
  dims = onnxrun_session_input_prepared_shape(s.get(), 0, &rank);
  EXPECT_EQ(Shape(dims, dims + rank), (Shape{1, 3, 8, 8}));
  EXPECT_STREQ(onnxrun_session_input_dim_name(s.get(), 0, 0), "d0");
  EXPECT_STREQ(onnxrun_session_input_dim_name(s.get(), 0, 1), "");
  EXPECT_EQ(onnxrun_session_input_dim_name(s.get(), 0, 4), nullptr);
  EXPECT_EQ(onnxrun_session_input_shape(s.get(), 5, &rank), nullptr);
  EXPECT_EQ(rank, 0u);

  ASSERT_EQ(onnxrun_session_output_count(s.get()), 2u);
  EXPECT_STREQ(onnxrun_session_output_name(s.get(), 0), "logits:0");
  EXPECT_STREQ(onnxrun_session_output_name(s.get(), 1), "aux:0");
  EXPECT_EQ(onnxrun_session_output_name(s.get(), 2), nullptr);
  EXPECT_EQ(onnxrun_session_output_type(s.get(), 1), ONNXRUN_TYPE_FLOAT32);
  dims = onnxrun_session_output_prepared_shape(s.get(), 0, &rank);
  EXPECT_EQ(Shape(dims, dims + rank), (Shape{1, 5}));
  auto cpp = LoadSession(b);  // the C++ API's view of the same model
  ASSERT_TRUE(cpp.ok()) << cpp.status();
  const std::vector<TensorInfo>& cc = (*cpp)->outputs();
  dims = onnxrun_session_output_shape(s.get(), 0, &rank);
  EXPECT_EQ(Shape(dims, dims + rank), cc[0].model_shape);
  for (size_t d = 0; d < rank; ++d)
    EXPECT_EQ(onnxrun_session_output_dim_name(s.get(), 0, d), cc[0].dim_names[d]);

  EXPECT_STREQ(onnxrun_session_producer_name(s.get()), "onnxrun-tests");
  EXPECT_STREQ(onnxrun_session_producer_version(s.get()), "1.2");
  EXPECT_STREQ(onnxrun_session_domain(s.get()), "org.test");
  EXPECT_STREQ(onnxrun_session_graph_name(s.get()), "test");
  EXPECT_STREQ(onnxrun_session_doc_string(s.get()), "a two-input test model");
  EXPECT_EQ(onnxrun_session_model_version(s.get()), 7);
  EXPECT_EQ(onnxrun_session_opset(s.get()), 13);
  ASSERT_EQ(onnxrun_session_custom_metadata_count(s.get()), 2u);
  EXPECT_STREQ(onnxrun_session_custom_metadata_key(s.get(), 0), "author");  // sorted by key
  EXPECT_STREQ(onnxrun_session_custom_metadata_value(s.get(), 0), "tests");
  EXPECT_STREQ(onnxrun_session_custom_metadata_key(s.get(), 1), "license");
  EXPECT_EQ(onnxrun_session_custom_metadata_key(s.get(), 2), nullptr);
  EXPECT_EQ(onnxrun_session_custom_metadata_value(s.get(), 2), nullptr);
  EXPECT_STREQ(onnxrun_session_custom_metadata_lookup(s.get(), "license"), "MIT");
  EXPECT_EQ(onnxrun_session_custom_metadata_lookup(s.get(), "nope"), nullptr);
  EXPECT_EQ(onnxrun_session_custom_metadata_lookup(s.get(), nullptr), nullptr);

  // Every getter on a NULL session.
  EXPECT_EQ(onnxrun_session_input_count(nullptr), 0u);
  EXPECT_EQ(onnxrun_session_output_count(nullptr), 0u);
  EXPECT_EQ(onnxrun_session_input_name(nullptr, 0), nullptr);
  EXPECT_EQ(onnxrun_session_output_name(nullptr, 0), nullptr);
  EXPECT_EQ(onnxrun_session_input_type(nullptr, 0), ONNXRUN_TYPE_OTHER);
  EXPECT_EQ(onnxrun_session_output_type(nullptr, 0), ONNXRUN_TYPE_OTHER);
  EXPECT_EQ(onnxrun_session_input_shape(nullptr, 0, &rank), nullptr);
  EXPECT_EQ(onnxrun_session_output_shape(nullptr, 0, &rank), nullptr);
  EXPECT_EQ(onnxrun_session_input_prepared_shape(nullptr, 0, &rank), nullptr);
  EXPECT_EQ(onnxrun_session_output_prepared_shape(nullptr, 0, &rank), nullptr);
  EXPECT_EQ(onnxrun_session_input_dim_name(nullptr, 0, 0), nullptr);
  EXPECT_EQ(onnxrun_session_output_dim_name(nullptr, 0, 0), nullptr);
  EXPECT_EQ(onnxrun_session_producer_name(nullptr), nullptr);
  EXPECT_EQ(onnxrun_session_producer_version(nullptr), nullptr);
  EXPECT_EQ(onnxrun_session_domain(nullptr), nullptr);
  EXPECT_EQ(onnxrun_session_graph_name(nullptr), nullptr);
  EXPECT_EQ(onnxrun_session_doc_string(nullptr), nullptr);
  EXPECT_EQ(onnxrun_session_model_version(nullptr), 0);
  EXPECT_EQ(onnxrun_session_opset(nullptr), 0);
  EXPECT_EQ(onnxrun_session_custom_metadata_count(nullptr), 0u);
  EXPECT_EQ(onnxrun_session_custom_metadata_key(nullptr, 0), nullptr);
  EXPECT_EQ(onnxrun_session_custom_metadata_value(nullptr, 0), nullptr);
  EXPECT_EQ(onnxrun_session_custom_metadata_lookup(nullptr, "license"), nullptr);
  onnxrun_session_cancel(nullptr);
  onnxrun_session_free(nullptr);
}

}  // namespace
}  // namespace onnxrun::test
