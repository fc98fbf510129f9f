// Measures the embedding contract of docs/API.md on one model (public API only):
//
//   embedding_bench MODEL shapes
//       One session runs the batch sequence 1 -> 8 -> 3 -> 1, then (for a model with dynamic
//       height/width) 224x224 -> 320x256 -> 160x160; each output is compared bitwise with a fresh
//       session prepared for that shape, and the first run of each new shape is timed against the
//       session's load time (1 intra-op thread; wall time and the calling thread's CPU time,
//       which other processes on the machine disturb much less: the runs are on that thread).
//   embedding_bench MODEL concurrent THREADS RUNS [INTRA_OP_THREADS]
//       THREADS threads run RUNS runs each on one session (1 intra-op thread each, unless given);
//       every output is compared bitwise with a serial run. Prints throughput and peak RSS.
//   embedding_bench MODEL alone RUNS [INTRA_OP_THREADS]
//       One thread runs RUNS runs on one session: throughput and peak RSS to compare with.
//
// Exit status 0 when every comparison is bitwise equal, 1 otherwise.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "onnxrun/onnxrun.h"

namespace {

using onnxrun::Session;
using onnxrun::SessionOptions;
using onnxrun::Tensor;
using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// CPU time of the calling thread: with 1 intra-op thread, load and runs execute on it.
double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double PeakRssMb() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

Tensor Random(const std::vector<int64_t>& shape, unsigned seed) {
  Tensor t(shape);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& v : t.values()) v = u(rng);
  return t;
}

bool SameBits(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].shape() != b[i].shape() || a[i].num_elements() != b[i].num_elements()) return false;
    if (std::memcmp(a[i].data(), b[i].data(), a[i].num_elements() * sizeof(float)) != 0)
      return false;
  }
  return true;
}

std::string Str(const std::vector<int64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

int Die(const std::string& what) {
  std::fprintf(stderr, "embedding_bench: %s\n", what.c_str());
  return 2;
}

int Shapes(const std::string& model) {
  // A model with dynamic height and width is prepared at 224x224 (what an app would hint).
  SessionOptions options;
  options.num_threads = 1;
  auto info = onnxrun::ReadModelInfo(model);
  if (!info.ok()) return Die(std::string(info.status().message()));
  const std::vector<int64_t>& declared = info->inputs[0].model_shape;
  if (declared.size() == 4 && declared[2] < 0 && declared[3] < 0)
    options.input_shapes[info->inputs[0].name] = {1, declared[1] > 0 ? declared[1] : 3, 224, 224};
  const auto t0 = Clock::now();
  const double c0 = ThreadCpuMs();
  auto session = Session::Load(model, options);
  const double load_ms = Ms(t0, Clock::now()), load_cpu = ThreadCpuMs() - c0;
  if (!session.ok()) return Die(std::string(session.status().message()));
  const onnxrun::TensorInfo in = (*session)->inputs()[0];
  std::vector<std::vector<int64_t>> shapes;
  for (int64_t b : {1, 8, 3, 1}) shapes.push_back({b, in.shape[1], in.shape[2], in.shape[3]});
  if (in.model_shape.size() == 4 && in.model_shape[2] < 0 && in.model_shape[3] < 0)
    for (auto hw : {std::pair<int64_t, int64_t>{224, 224}, {320, 256}, {160, 160}})
      shapes.push_back({1, in.shape[1], hw.first, hw.second});
  std::printf("model %s\nload_ms %.1f  load_cpu_ms %.1f\n", model.c_str(), load_ms, load_cpu);
  int bad = 0;
  for (size_t k = 0; k < shapes.size(); ++k) {
    const Tensor x = Random(shapes[k], 7 + static_cast<unsigned>(k));
    std::vector<Tensor> got, want;
    // The first run (which makes the plan), then the best of three more.
    double first_ms = 0, first_cpu = 0, again_ms = 1e30, again_cpu = 1e30;
    for (int r = 0; r < 4; ++r) {
      const auto r0 = Clock::now();
      const double rc = ThreadCpuMs();
      absl::Status s = (*session)->Run({{in.name, &x}}, &got);
      if (!s.ok()) return Die(std::string(s.message()));
      const double ms = Ms(r0, Clock::now()), cpu = ThreadCpuMs() - rc;
      if (r == 0) {
        first_ms = ms;
        first_cpu = cpu;
      } else {
        again_ms = std::min(again_ms, ms);
        again_cpu = std::min(again_cpu, cpu);
      }
    }
    SessionOptions fresh_options;
    fresh_options.num_threads = 1;
    fresh_options.input_shapes[in.name] = shapes[k];
    auto fresh = Session::Load(model, fresh_options);
    if (!fresh.ok()) return Die(std::string(fresh.status().message()));
    absl::Status s = (*fresh)->Run({{in.name, &x}}, &want);
    if (!s.ok()) return Die(std::string(s.message()));
    const bool same = SameBits(got, want);
    bad += same ? 0 : 1;
    std::printf(
        "shape %-12s first_run_ms %8.2f  run_ms %8.2f  new_shape_overhead %5.1f%% of load  "
        "(cpu: %8.2f  %8.2f  %5.1f%%)  fresh_session_equal %s\n",
        Str(shapes[k]).c_str(), first_ms, again_ms, 100.0 * (first_ms - again_ms) / load_ms,
        first_cpu, again_cpu, 100.0 * (first_cpu - again_cpu) / load_cpu, same ? "yes" : "NO");
  }
  return bad ? 1 : 0;
}

int Concurrent(const std::string& model, int threads, int runs, int intra, bool alone) {
  SessionOptions options;
  options.num_threads = intra;
  auto session = Session::Load(model, options);
  if (!session.ok()) return Die(std::string(session.status().message()));
  const onnxrun::TensorInfo in = (*session)->inputs()[0];
  const int workers = alone ? 1 : threads;
  std::vector<Tensor> inputs;
  for (int t = 0; t < workers; ++t) inputs.push_back(Random(in.shape, 100 + t));
  // Serial reference for each worker's input (also warms one context up).
  std::vector<std::vector<Tensor>> want(workers);
  for (int t = 0; t < workers; ++t) {
    absl::Status s = (*session)->Run({{in.name, &inputs[t]}}, &want[t]);
    if (!s.ok()) return Die(std::string(s.message()));
  }
  std::vector<int> mismatches(workers, 0), failures(workers, 0);
  const auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < workers; ++t)
    pool.emplace_back([&, t] {
      std::vector<Tensor> got;
      for (int r = 0; r < runs; ++r) {
        if (!(*session)->Run({{in.name, &inputs[t]}}, &got).ok()) {
          ++failures[t];
          continue;
        }
        if (!SameBits(got, want[t])) ++mismatches[t];
      }
    });
  for (auto& th : pool) th.join();
  const double ms = Ms(t0, Clock::now());
  int mism = 0, fail = 0;
  for (int t = 0; t < workers; ++t) mism += mismatches[t], fail += failures[t];
  std::printf(
      "model %s\nmode %s threads %d intra_op %d runs %d\nthroughput_runs_per_s %.2f\n"
      "peak_rss_mb %.1f\nmismatches %d failures %d\n",
      model.c_str(), alone ? "alone" : "concurrent", workers, intra, workers * runs,
      1000.0 * workers * runs / ms, PeakRssMb(), mism, fail);
  return mism || fail ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Die("usage: embedding_bench MODEL shapes|concurrent T R [I]|alone R [I]");
  const std::string model = argv[1], mode = argv[2];
  if (mode == "shapes") return Shapes(model);
  if (mode == "concurrent" && argc >= 5)
    return Concurrent(model, std::atoi(argv[3]), std::atoi(argv[4]),
                      argc > 5 ? std::atoi(argv[5]) : 1, false);
  if (mode == "alone" && argc >= 4)
    return Concurrent(model, 1, std::atoi(argv[3]), argc > 4 ? std::atoi(argv[4]) : 1, true);
  return Die("usage: embedding_bench MODEL shapes|concurrent T R [I]|alone R [I]");
}
