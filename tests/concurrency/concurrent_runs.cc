// Concurrent runs on one session, checked to the bit (issue 10's contract; scripts/sanitize.sh runs
// it under ThreadSanitizer and AddressSanitizer + UBSan):
//   1. THREADS threads x RUNS runs each on one session, each thread with its own input; every
//      output must equal the serial run of that input bitwise;
//   2. one session runs batch 1 -> 8 -> 3 -> 1; every output must equal a fresh session's
//      prepared for that batch (SessionOptions::batch_size).
//   concurrent_runs MODEL_DIR...   (each DIR holds model.onnx and test_data_set_0/input_0.pb)
// Environment: ONNXRUN_CONCURRENCY_RUNS (default 100), ONNXRUN_CONCURRENCY_THREADS (4),
// ONNXRUN_CONCURRENCY_INTRA (intra-op threads per session, 1). Exit status 1 on any mismatch or
// failed call.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "onnxrun/onnxrun.h"

namespace {

using onnxrun::Tensor;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

bool SameBits(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].shape() != b[i].shape() || a[i].num_elements() != b[i].num_elements()) return false;
    if (std::memcmp(a[i].data(), b[i].data(), sizeof(float) * a[i].num_elements()) != 0)
      return false;
  }
  return true;
}

// `batch` images: image k is the test input with a deterministic perturbation of seed + k, so
// that the threads and the batch rows all differ.
Tensor Batch(const Tensor& image, int batch, int seed) {
  std::vector<int64_t> shape = image.shape();
  shape[0] = batch;
  Tensor t(shape);
  const int64_t n = image.num_elements();
  for (int k = 0; k < batch; ++k) {
    std::mt19937 rng(seed + k);
    std::uniform_real_distribution<float> noise(-0.1f, 0.1f);
    for (int64_t i = 0; i < n; ++i) t.values()[k * n + i] = image.data()[i] + noise(rng);
  }
  return t;
}

absl::Status RunOnce(onnxrun::Session& s, const Tensor& input, std::vector<Tensor>* out) {
  return s.Run({{s.inputs()[0].name, &input}}, out);
}

// Returns the number of problems found for the model in `dir`.
int CheckModel(const std::string& dir, int threads, int runs, int intra) {
  const auto start = std::chrono::steady_clock::now();
  onnxrun::SessionOptions options;
  options.num_threads = intra;
  auto session = onnxrun::Session::Load(dir + "/model.onnx", options);
  auto image = onnxrun::ReadTensorFile(dir + "/test_data_set_0/input_0.pb");
  if (!session.ok() || !image.ok()) {
    std::fprintf(stderr, "%s: %s\n", dir.c_str(),
                 std::string((session.ok() ? image.status() : session.status()).message()).c_str());
    return 1;
  }
  onnxrun::Session& s = **session;
  const double load_s = Seconds(start);

  // 1. Concurrent runs against the serial run of each thread's input.
  std::vector<Tensor> inputs;
  std::vector<std::vector<Tensor>> want(threads);
  for (int t = 0; t < threads; ++t) {
    inputs.push_back(Batch(*image, 1, 1000 * t));
    absl::Status st = RunOnce(s, inputs[t], &want[t]);
    if (!st.ok())
      return std::fprintf(stderr, "%s: serial run: %s\n", dir.c_str(), st.ToString().c_str()), 1;
  }
  std::atomic<int> mismatches{0}, failures{0};
  const auto concurrent_start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      std::vector<Tensor> out;
      for (int r = 0; r < runs; ++r) {
        absl::Status st = RunOnce(s, inputs[t], &out);
        if (!st.ok()) {
          if (failures++ == 0)
            std::fprintf(stderr, "%s: run: %s\n", dir.c_str(), st.ToString().c_str());
          continue;
        }
        if (!SameBits(out, want[t])) ++mismatches;
      }
    });
  for (auto& th : pool) th.join();
  const double concurrent_s = Seconds(concurrent_start);

  // 2. Batch 1 -> 8 -> 3 -> 1 on the one session against fresh sessions for each batch.
  int shape_problems = 0;
  for (int batch : {1, 8, 3, 1}) {
    const Tensor input = Batch(*image, batch, 7);
    std::vector<Tensor> got, fresh_out;
    onnxrun::SessionOptions fresh_options = options;
    fresh_options.batch_size = batch;
    auto fresh = onnxrun::Session::Load(dir + "/model.onnx", fresh_options);
    absl::Status st = RunOnce(s, input, &got);
    if (st.ok()) st = fresh.ok() ? RunOnce(**fresh, input, &fresh_out) : fresh.status();
    if (!st.ok() || !SameBits(got, fresh_out)) {
      ++shape_problems;
      std::fprintf(stderr, "%s: batch %d: %s\n", dir.c_str(), batch,
                   st.ok() ? "output differs from a fresh session's" : st.ToString().c_str());
    }
  }
  std::printf(
      "%-40s load %.2f s, %d x %d runs in %.2f s: %d mismatches, %d failures; "
      "batch 1->8->3->1: %s\n",
      dir.c_str(), load_s, threads, runs, concurrent_s, mismatches.load(), failures.load(),
      shape_problems ? "DIFFERS" : "equal to fresh sessions");
  std::fflush(stdout);
  return mismatches.load() + failures.load() + shape_problems;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: concurrent_runs MODEL_DIR...\n");
    return 2;
  }
  const int runs = EnvInt("ONNXRUN_CONCURRENCY_RUNS", 100);
  const int threads = EnvInt("ONNXRUN_CONCURRENCY_THREADS", 4);
  const int intra = EnvInt("ONNXRUN_CONCURRENCY_INTRA", 1);
  int problems = 0;
  for (int i = 1; i < argc; ++i) problems += CheckModel(argv[i], threads, runs, intra);
  std::printf("concurrent_runs: %s\n", problems ? "FAILED" : "all outputs bitwise equal");
  return problems ? 1 : 0;
}
