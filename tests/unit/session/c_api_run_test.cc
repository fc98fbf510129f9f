// The C API's runs (onnxrun_session_run*): results equal the C++ API's, output selection, views,
// caller-provided outputs, run errors, terminate and cancel, a shared thread pool, concurrent
// runs, output shapes for new input shapes and the profile.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "onnxrun/onnxrun_c.h"
#include "tests/unit/support/c_api_testing.h"
#include "tests/unit/support/graph_builder.h"

namespace onnxrun::test {
namespace {

using Shape = std::vector<int64_t>;

// The model of c_api_testing.h, loaded through both APIs, with one batch-1 input pair.
class CApiRun : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(11);
    model_ = CTwoInputModel(rng);
    session_ = LoadC(model_);
    ASSERT_TRUE(session_);
    auto cpp = LoadSession(model_);
    ASSERT_TRUE(cpp.ok()) << cpp.status();
    x_ = RandomTensor({1, 3, 8, 8}, rng);
    y_ = RandomTensor({1, 2}, rng);
    auto want = RunSession(**cpp, {{"x", x_}, {"y", y_}});
    ASSERT_TRUE(want.ok()) << want.status();
    want_ = std::move(*want);
    cx_ = CTensor(x_);
    cy_ = CTensor(y_);
  }
  // Runs with inputs x, y and the given output names (NULL: all), new tensors.
  onnxrun_status* Run(size_t n_outputs, const char* const* output_names,
                      std::vector<TensorPtr>* out) {
    const char* names[] = {"x", "y"};
    const onnxrun_tensor* inputs[] = {cx_.get(), cy_.get()};
    std::vector<onnxrun_tensor*> raw(n_outputs, nullptr);
    onnxrun_status* s =
        onnxrun_session_run(session_.get(), 2, names, inputs, n_outputs, output_names, raw.data());
    out->clear();
    for (onnxrun_tensor* t : raw) out->emplace_back(t);
    return s;
  }

  GraphBuilder model_;
  SessionPtr session_;
  Tensor x_, y_;
  std::vector<Tensor> want_;
  TensorPtr cx_, cy_;
};

TEST_F(CApiRun, AllOutputsEqualTheCppApi) {
  std::vector<TensorPtr> out;
  ASSERT_TRUE(Ok(Run(2, nullptr, &out)));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(BitwiseEqual(FromC(out[0].get()), want_[0]));
  EXPECT_TRUE(BitwiseEqual(FromC(out[1].get()), want_[1]));
  // NULL names = all outputs, so the count must be the model's.
  EXPECT_TRUE(Fails(Run(1, nullptr, &out), ONNXRUN_INVALID_ARGUMENT, "the model has 2"));
  EXPECT_EQ(out[0], nullptr);  // failure leaves the slots NULL
  const char* names[] = {"logits:0"};
  EXPECT_TRUE(Fails(Run(0, names, &out), ONNXRUN_INVALID_ARGUMENT, "n_outputs is 0"));
}

TEST_F(CApiRun, OutputSelectionByName) {
  const char* reversed[] = {"aux:0", "logits:0"};
  std::vector<TensorPtr> out;
  ASSERT_TRUE(Ok(Run(2, reversed, &out)));
  EXPECT_TRUE(BitwiseEqual(FromC(out[0].get()), want_[1]));
  EXPECT_TRUE(BitwiseEqual(FromC(out[1].get()), want_[0]));
  const char* one[] = {"logits:0"};
  ASSERT_TRUE(Ok(Run(1, one, &out)));
  EXPECT_TRUE(BitwiseEqual(FromC(out[0].get()), want_[0]));
  const char* unknown[] = {"nope"};
  EXPECT_TRUE(Fails(Run(1, unknown, &out), ONNXRUN_INVALID_ARGUMENT, "nope"));
  const char* null_name[] = {nullptr};
  EXPECT_TRUE(Fails(Run(1, null_name, &out), ONNXRUN_INVALID_ARGUMENT, "output name 0 is NULL"));
}

TEST_F(CApiRun, BadInputsAreErrorsThatNameThem) {
  onnxrun_tensor* out[2] = {nullptr, nullptr};
  const onnxrun_tensor* inputs[] = {cx_.get(), cy_.get()};
  const char* wrong_name[] = {"x", "z"};
  EXPECT_TRUE(Fails(onnxrun_session_run(session_.get(), 2, wrong_name, inputs, 2, nullptr, out),
                    ONNXRUN_INVALID_ARGUMENT, "no input named 'z'"));
  const char* names[] = {"x", "y"};
  const int64_t bad_shape[] = {1, 3, 8, 9};
  onnxrun_tensor* raw = nullptr;
  ASSERT_TRUE(Ok(onnxrun_tensor_create(bad_shape, 4, &raw)));
  TensorPtr bad(raw);
  const onnxrun_tensor* bad_inputs[] = {bad.get(), cy_.get()};
  EXPECT_TRUE(Fails(onnxrun_session_run(session_.get(), 2, names, bad_inputs, 2, nullptr, out),
                    ONNXRUN_INVALID_ARGUMENT, "'x'"));
  EXPECT_TRUE(Fails(onnxrun_session_run(session_.get(), 1, names, inputs, 2, nullptr, out),
                    ONNXRUN_INVALID_ARGUMENT, "input 'y' is missing"));
  const onnxrun_tensor* null_input[] = {cx_.get(), nullptr};
  EXPECT_TRUE(Fails(onnxrun_session_run(session_.get(), 2, names, null_input, 2, nullptr, out),
                    ONNXRUN_INVALID_ARGUMENT, "input 'y' is NULL"));
  EXPECT_TRUE(Fails(onnxrun_session_run(session_.get(), 2, nullptr, inputs, 2, nullptr, out),
                    ONNXRUN_INVALID_ARGUMENT, "input_names or inputs is NULL"));
  EXPECT_TRUE(Fails(onnxrun_session_run(session_.get(), 2, names, inputs, 2, nullptr, nullptr),
                    ONNXRUN_INVALID_ARGUMENT, "outputs is NULL"));
  EXPECT_TRUE(Fails(onnxrun_session_run(nullptr, 2, names, inputs, 2, nullptr, out),
                    ONNXRUN_INVALID_ARGUMENT, "session is NULL"));
  EXPECT_TRUE(
      Fails(onnxrun_session_run_with_options(nullptr, nullptr, 2, names, inputs, 2, nullptr, out),
            ONNXRUN_INVALID_ARGUMENT, "session is NULL"));
  EXPECT_EQ(out[0], nullptr);
  EXPECT_EQ(out[1], nullptr);
  std::vector<TensorPtr> fine;  // errors leave the session usable
  EXPECT_TRUE(Ok(Run(2, nullptr, &fine)));
}

TEST_F(CApiRun, ViewsInAndCallerOutputs) {
  // Inputs as views of caller memory (one read-only), outputs into caller memory.
  std::vector<float> x(x_.data(), x_.data() + x_.num_elements());
  onnxrun_tensor *vx = nullptr, *vy = nullptr, *logits = nullptr, *aux = nullptr;
  ASSERT_TRUE(Ok(onnxrun_tensor_create_view(x.data(), x_.shape().data(), 4, &vx)));
  ASSERT_TRUE(Ok(onnxrun_tensor_create_const_view(y_.data(), y_.shape().data(), 2, &vy)));
  TensorPtr hold_x(vx), hold_y(vy);
  std::vector<float> logits_memory(5, -1.f);
  const int64_t logits_shape[] = {1, 5}, aux_shape[] = {1, 2};
  ASSERT_TRUE(Ok(onnxrun_tensor_create_view(logits_memory.data(), logits_shape, 2, &logits)));
  ASSERT_TRUE(Ok(onnxrun_tensor_create(aux_shape, 2, &aux)));  // an owned tensor works too
  TensorPtr hold_logits(logits), hold_aux(aux);
  const char* names[] = {"x", "y"};
  const onnxrun_tensor* inputs[] = {vx, vy};
  onnxrun_tensor* out[] = {logits, aux};
  ASSERT_TRUE(Ok(onnxrun_session_run_with_options(session_.get(), nullptr, 2, names, inputs, 2,
                                                  nullptr, out)));
  EXPECT_EQ(out[0], logits);  // the caller's tensors stay in their slots
  EXPECT_EQ(out[1], aux);
  EXPECT_TRUE(BitwiseEqual(Tensor({1, 5}, logits_memory), want_[0]));
  EXPECT_TRUE(BitwiseEqual(FromC(aux), want_[1]));

  // Mixed: a caller tensor for aux, a new tensor for logits.
  const char* selected[] = {"aux:0", "logits:0"};
  onnxrun_tensor* aux_memory = nullptr;
  ASSERT_TRUE(Ok(onnxrun_tensor_create(aux_shape, 2, &aux_memory)));
  TensorPtr hold_aux_memory(aux_memory);
  onnxrun_tensor* mixed[] = {aux_memory, nullptr};
  ASSERT_TRUE(Ok(onnxrun_session_run_with_options(session_.get(), nullptr, 2, names, inputs, 2,
                                                  selected, mixed)));
  TensorPtr fresh(mixed[1]);
  EXPECT_EQ(mixed[0], aux_memory);
  EXPECT_TRUE(BitwiseEqual(FromC(aux_memory), want_[1]));
  EXPECT_TRUE(BitwiseEqual(FromC(fresh.get()), want_[0]));

  // A caller output of the wrong shape or read-only is refused, naming the output.
  onnxrun_tensor* wrong = nullptr;
  ASSERT_TRUE(Ok(onnxrun_tensor_create(logits_shape, 2, &wrong)));
  TensorPtr hold_wrong(wrong);
  onnxrun_tensor* wrong_out[] = {wrong, nullptr};
  EXPECT_TRUE(Fails(onnxrun_session_run_with_options(session_.get(), nullptr, 2, names, inputs, 2,
                                                     selected, wrong_out),
                    ONNXRUN_INVALID_ARGUMENT, "aux:0"));
  EXPECT_EQ(wrong_out[1], nullptr);
  onnxrun_tensor* read_only[] = {vy, nullptr};
  EXPECT_TRUE(Fails(onnxrun_session_run_with_options(session_.get(), nullptr, 2, names, inputs, 2,
                                                     selected, read_only),
                    ONNXRUN_INVALID_ARGUMENT, "not writable"));
}

TEST_F(CApiRun, TerminateFlagAndCancel) {
  onnxrun_run_options* options = nullptr;
  EXPECT_TRUE(Fails(onnxrun_run_options_create(nullptr), ONNXRUN_INVALID_ARGUMENT, "NULL"));
  ASSERT_TRUE(Ok(onnxrun_run_options_create(&options)));
  const char* names[] = {"x", "y"};
  const onnxrun_tensor* inputs[] = {cx_.get(), cy_.get()};
  onnxrun_tensor* out[2] = {nullptr, nullptr};
  onnxrun_run_options_set_terminate(options, 1);
  EXPECT_TRUE(Fails(
      onnxrun_session_run_with_options(session_.get(), options, 2, names, inputs, 2, nullptr, out),
      ONNXRUN_CANCELLED, ""));
  EXPECT_EQ(out[0], nullptr);
  onnxrun_run_options_set_terminate(options, 0);
  ASSERT_TRUE(Ok(onnxrun_session_run_with_options(session_.get(), options, 2, names, inputs, 2,
                                                  nullptr, out)));
  TensorPtr a(out[0]), b(out[1]);
  EXPECT_TRUE(BitwiseEqual(FromC(a.get()), want_[0]));
  onnxrun_run_options_set_terminate(nullptr, 1);
  onnxrun_run_options_free(options);
  onnxrun_run_options_free(nullptr);
  // Cancel stops the runs in progress only: a run started afterwards completes.
  onnxrun_session_cancel(session_.get());
  std::vector<TensorPtr> after;
  ASSERT_TRUE(Ok(Run(2, nullptr, &after)));
  EXPECT_TRUE(BitwiseEqual(FromC(after[0].get()), want_[0]));
}

TEST_F(CApiRun, ConcurrentRunsMatchTheSerialRun) {
  constexpr int kThreads = 4, kRuns = 20;
  std::atomic<int> failures{0}, mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < kRuns; ++i) {
        std::vector<TensorPtr> out;
        if (!Ok(Run(2, nullptr, &out))) {
          ++failures;
          continue;
        }
        for (int k = 0; k < 2; ++k) mismatches += !BitwiseEqual(FromC(out[k].get()), want_[k]);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
}

TEST_F(CApiRun, OutputShapeForOtherInputShapes) {
  const char* names[] = {"x"};
  const int64_t batch3[] = {3, 3, 8, 8};
  const int64_t* shapes[] = {batch3};
  const size_t ranks[] = {4};
  int64_t shape[4] = {0, 0, 0, 0};
  size_t rank = 9;
  ASSERT_TRUE(Ok(onnxrun_session_infer_output_shape(session_.get(), 1, names, shapes, ranks, 0,
                                                    shape, 4, &rank)));
  EXPECT_EQ(Shape(shape, shape + rank), (Shape{3, 5}));
  EXPECT_TRUE(Ok(onnxrun_session_infer_output_shape(session_.get(), 0, nullptr, nullptr, nullptr, 1,
                                                    shape, 4, &rank)));
  EXPECT_EQ(Shape(shape, shape + rank), (Shape{1, 2}));  // y keeps its prepared shape
  EXPECT_TRUE(Fails(onnxrun_session_infer_output_shape(session_.get(), 1, names, shapes, ranks, 0,
                                                       shape, 1, &rank),
                    ONNXRUN_OUT_OF_RANGE, "rank 2"));
  EXPECT_EQ(rank, 2u);
  EXPECT_TRUE(Fails(onnxrun_session_infer_output_shape(session_.get(), 1, names, shapes, ranks, 2,
                                                       shape, 4, &rank),
                    ONNXRUN_OUT_OF_RANGE, "output index 2"));
  EXPECT_TRUE(Fails(onnxrun_session_infer_output_shape(session_.get(), 1, nullptr, shapes, ranks, 0,
                                                       shape, 4, &rank),
                    ONNXRUN_INVALID_ARGUMENT, "NULL"));
  EXPECT_TRUE(Fails(
      onnxrun_session_infer_output_shape(nullptr, 0, nullptr, nullptr, nullptr, 0, shape, 4, &rank),
      ONNXRUN_INVALID_ARGUMENT, "session is NULL"));
}

TEST_F(CApiRun, SharedThreadPoolAndProfile) {
  onnxrun_thread_pool* pool = nullptr;
  EXPECT_TRUE(Fails(onnxrun_thread_pool_create(0, &pool), ONNXRUN_INVALID_ARGUMENT, ""));
  EXPECT_TRUE(Fails(onnxrun_thread_pool_create(2, nullptr), ONNXRUN_INVALID_ARGUMENT, "NULL"));
  ASSERT_TRUE(Ok(onnxrun_thread_pool_create(2, &pool)));
  EXPECT_GE(onnxrun_thread_pool_num_threads(pool), 1);
  EXPECT_EQ(onnxrun_thread_pool_num_threads(nullptr), 0);
  onnxrun_options* raw = nullptr;
  ASSERT_TRUE(Ok(onnxrun_options_create(&raw)));
  OptionsPtr options(raw);
  ASSERT_TRUE(Ok(onnxrun_options_set_thread_pool(options.get(), pool)));
  ASSERT_TRUE(Ok(onnxrun_options_set_profiling(options.get(), 1)));
  onnxrun_thread_pool_free(pool);  // the options keep the pool alive
  onnxrun_thread_pool_free(nullptr);
  SessionPtr first = LoadC(model_, options.get()), second = LoadC(model_, options.get());
  ASSERT_TRUE(first && second);
  options.reset();  // and so do the sessions
  const char* names[] = {"x", "y"};
  const onnxrun_tensor* inputs[] = {cx_.get(), cy_.get()};
  for (onnxrun_session* s : {first.get(), second.get()}) {
    onnxrun_tensor* out[2] = {nullptr, nullptr};
    ASSERT_TRUE(Ok(onnxrun_session_run(s, 2, names, inputs, 2, nullptr, out)));
    TensorPtr a(out[0]), b(out[1]);
    EXPECT_TRUE(BitwiseEqual(FromC(a.get()), want_[0]));
  }
  char* text = nullptr;
  ASSERT_TRUE(Ok(onnxrun_session_profile(first.get(), &text)));
  ASSERT_NE(text, nullptr);
  EXPECT_NE(std::string(text).find("\t1\n"), std::string::npos) << text;  // one run per step
  onnxrun_string_free(text);
  ASSERT_TRUE(Ok(onnxrun_session_profile(session_.get(), &text)));  // profiling off
  EXPECT_STREQ(text, "");
  onnxrun_string_free(text);
  EXPECT_TRUE(Fails(onnxrun_session_profile(nullptr, &text), ONNXRUN_INVALID_ARGUMENT, "NULL"));
  EXPECT_EQ(text, nullptr);
  EXPECT_TRUE(
      Fails(onnxrun_session_profile(first.get(), nullptr), ONNXRUN_INVALID_ARGUMENT, "NULL"));
  onnxrun_string_free(nullptr);
}

// An integer output folded to a constant at load comes back as an int64 tensor.
TEST(CApiRunInts, ConstantShapeOutputIsInt64) {
  GraphBuilder b;
  auto x = b.Input("x", {2, 3});
  b.Output(b.Op("Relu", {x}));
  auto shape = b.Op("Shape", {x}, 1, "shape");
  b.Output(shape);
  SessionPtr s = LoadC(b);
  ASSERT_TRUE(s);
  std::mt19937 rng(5);
  TensorPtr in = CTensor(RandomTensor({2, 3}, rng));
  const char* names[] = {"x"};
  const onnxrun_tensor* inputs[] = {in.get()};
  const char* selected[] = {"shape:0"};
  onnxrun_tensor* out[1] = {nullptr};
  ASSERT_TRUE(Ok(onnxrun_session_run(s.get(), 1, names, inputs, 1, selected, out)));
  TensorPtr hold(out[0]);
  EXPECT_EQ(onnxrun_tensor_element_type(out[0]), ONNXRUN_TYPE_INT64);
  EXPECT_EQ(onnxrun_tensor_data(out[0]), nullptr);
  ASSERT_NE(onnxrun_tensor_int64_data(out[0]), nullptr);
  EXPECT_EQ(onnxrun_tensor_int64_data(out[0])[0], 2);
  EXPECT_EQ(onnxrun_tensor_int64_data(out[0])[1], 3);
}

}  // namespace
}  // namespace onnxrun::test
