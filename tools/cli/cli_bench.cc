// onnxrun bench MODEL: load time, first-run time and steady-state latency on random input.
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "onnxrun/onnxrun.h"
#include "tools/cli/cli_common.h"

namespace onnxrun::cli {
namespace {

// Nearest-rank percentile of sorted `v` (p in (0, 1]).
double Percentile(const std::vector<double>& v, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p * v.size()));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

// Per-op-kind totals, then every step (slowest first) with its share of the run and, for Conv /
// Gemm / MatMul steps, its GFLOP/s and that as a share of the FMA peak of the threads it ran on.
std::string ProfileTable(const std::vector<StepProfile>& steps, int threads) {
  std::map<std::string, std::pair<double, int>> by_op;
  double total = 0;
  for (const auto& s : steps) {
    const double per_run = s.total_ms / std::max<int64_t>(s.runs, 1);
    by_op[s.op].first += per_run;
    ++by_op[s.op].second;
    total += per_run;
  }
  std::vector<std::pair<double, std::string>> ops;
  for (const auto& [op, v] : by_op) ops.push_back({v.first, op});
  std::sort(ops.rbegin(), ops.rend());
  if (total <= 0) total = 1e-9;  // no steps timed: avoid 0/0 in the percentages
  const double peak = FmaPeakGflops() * threads;
  std::string out = absl::StrFormat(
      "profile (ms per run, %.3f total; FMA peak %.0f GFLOP/s = %d thread(s) x %.0f measured)\n",
      total, peak, threads, FmaPeakGflops());
  for (const auto& [ms, op] : ops)
    out += absl::StrFormat("  %-36s %9.3f  %5.1f%%  x%d\n", op, ms, 100 * ms / total,
                           by_op[op].second);
  std::vector<StepProfile> sorted = steps;
  std::sort(sorted.begin(), sorted.end(),
            [](const StepProfile& a, const StepProfile& b) { return a.total_ms > b.total_ms; });
  out += absl::StrFormat("steps  %-44s %-22s %9s %6s %8s %6s\n", "node", "op", "ms", "%", "GFLOP/s",
                         "%peak");
  for (const StepProfile& s : sorted) {
    const double ms = s.total_ms / std::max<int64_t>(s.runs, 1);
    const double gflops = s.flops > 0 && ms > 0 ? s.flops / (ms * 1e6) : 0;
    out += absl::StrFormat("  %-49s %-22s %9.3f %5.1f%%", s.node, s.op, ms, 100 * ms / total);
    out += gflops > 0
               ? absl::StrFormat(" %8.1f %5.1f%%\n", gflops, peak > 0 ? 100 * gflops / peak : 0.0)
               : std::string("\n");
  }
  return out;
}

}  // namespace

int RunBench(const std::vector<std::string>& args) {
  auto parsed = ParseArgs(args, {{"threads", true},
                                 {"max-tensor-mb", true},
                                 {"max-arena-mb", true},
                                 {"allow-nonfinite", false},
                                 {"iters", true},
                                 {"warmup", true},
                                 {"batch", true},
                                 {"shape", true},
                                 {"fixed-shape", false},
                                 {"json", false},
                                 {"concurrent", true},
                                 {"profile", false},
                                 {"no-winograd", false},
                                 {"isa", true}});
  if (!parsed.ok()) return UsageError("bench", std::string(parsed.status().message()));
  if (parsed->help) return PrintCommandHelp("bench");
  if (parsed->positional.size() != 1) {
    return UsageError("bench", absl::StrCat("expected one MODEL, got ", parsed->positional.size(),
                                            " argument(s)"));
  }
  const std::string model = parsed->positional[0];
  auto threads = parsed->GetThreads();
  auto iters = parsed->GetInt("iters", 50, 1, 10000000);
  auto warmup = parsed->GetInt("warmup", 5, 0, 10000000);
  auto batch = parsed->GetInt("batch", 1, 1, 1000000);
  auto concurrent = parsed->GetInt("concurrent", 1, 1, 256);
  for (const absl::Status& s :
       {threads.status(), iters.status(), warmup.status(), batch.status(), concurrent.status()}) {
    if (!s.ok()) return UsageError("bench", std::string(s.message()));
  }

  SessionOptions options;
  options.num_threads = static_cast<int>(*threads);
  if (absl::Status s = parsed->GetLimits(&options); !s.ok())
    return UsageError("bench", std::string(s.message()));
  if (*batch != 1) options.batch_size = *batch;
  options.enable_profiling = parsed->Has("profile");
  options.winograd = !parsed->Has("no-winograd");
  options.isa = parsed->Get("isa", "auto");

  auto shapes = parsed->GetShapes();
  if (!shapes.ok()) return UsageError("bench", std::string(shapes.status().message()));
  options.input_shapes = *shapes;
  options.shapes_per_run = !parsed->Has("fixed-shape");

  double start = NowMs();
  auto session = Session::Load(model, options);
  const double load_ms = NowMs() - start;
  if (!session.ok()) return Fail(LoadError(model, session.status(), *parsed));
  NoteDefaultedDims(model, (*session)->inputs(), *batch != 1, *shapes);

  std::mt19937 rng(42);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<Tensor> tensors;
  tensors.reserve((*session)->inputs().size());
  std::vector<std::pair<std::string, const Tensor*>> inputs;
  for (const TensorInfo& info : (*session)->inputs()) {
    if (info.dtype != "float32") {
      return Fail(absl::StrCat(model, ": input '", info.name, "' is ", info.dtype,
                               "; bench feeds float32 inputs only"));
    }
    tensors.emplace_back(info.shape);
    for (float& v : tensors.back().values()) v = uniform(rng);
    inputs.emplace_back(info.name, &tensors.back());
  }

  std::vector<Tensor> outputs;
  auto run = [&]() -> absl::StatusOr<double> {
    double t0 = NowMs();
    absl::Status s = (*session)->Run(inputs, &outputs);
    if (!s.ok()) return s;
    return NowMs() - t0;
  };
  auto first = run();
  if (!first.ok()) return Fail("inference failed: " + Where(model, first.status()));
  for (int64_t i = 0; i < *warmup; ++i) {
    if (auto r = run(); !r.ok()) return Fail("inference failed: " + Where(model, r.status()));
  }
  // --concurrent C: C threads call Run on the one session at once, `iters` runs each (each
  // thread its own outputs; the inputs are shared, read-only).
  std::vector<std::vector<double>> per_thread(*concurrent);
  std::vector<absl::Status> errors(*concurrent);
  const double wall0 = NowMs();
  auto worker = [&](int t) {
    std::vector<Tensor> own;
    for (int64_t i = 0; i < *iters; ++i) {
      const double t0 = NowMs();
      absl::Status s = (*session)->Run(inputs, &own);
      if (!s.ok()) {
        errors[t] = s;
        return;
      }
      per_thread[t].push_back(NowMs() - t0);
    }
  };
  if (*concurrent == 1) {
    worker(0);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < *concurrent; ++t) pool.emplace_back(worker, t);
    for (auto& th : pool) th.join();
  }
  const double wall_ms = NowMs() - wall0;
  std::vector<double> times;
  for (int t = 0; t < *concurrent; ++t) {
    if (!errors[t].ok()) return Fail("inference failed: " + Where(model, errors[t]));
    times.insert(times.end(), per_thread[t].begin(), per_thread[t].end());
  }
  const double runs_per_s = 1000.0 * times.size() / wall_ms;
  std::sort(times.begin(), times.end());

  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const double peak_rss_mb = usage.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
  const int64_t arena_bytes = (*session)->report().memory.arena_bytes;
  const double p50 = Percentile(times, 0.5), p90 = Percentile(times, 0.9), min = times.front();

  std::ostringstream out;
  if (parsed->Has("json")) {
    out << "{\"model\":" << JsonString(model) << ",\"threads\":" << *threads
        << ",\"batch\":" << *batch << ",\"iters\":" << *iters
        << ",\"load_ms\":" << JsonNumber(load_ms) << ",\"first_run_ms\":" << JsonNumber(*first)
        << ",\"p50_ms\":" << JsonNumber(p50) << ",\"p90_ms\":" << JsonNumber(p90)
        << ",\"min_ms\":" << JsonNumber(min) << ",\"peak_rss_mb\":" << JsonNumber(peak_rss_mb, 1)
        << ",\"arena_bytes\":" << arena_bytes << ",\"concurrent\":" << *concurrent
        << ",\"runs_per_s\":" << JsonNumber(runs_per_s);
    if (options.enable_profiling) {  // one JSON object still: the steps, slowest first
      std::vector<StepProfile> steps = (*session)->profile();
      std::sort(steps.begin(), steps.end(),
                [](const StepProfile& a, const StepProfile& b) { return a.total_ms > b.total_ms; });
      out << ",\"fma_peak_gflops_per_thread\":" << JsonNumber(FmaPeakGflops(), 1)
          << ",\"profile\":[";
      for (size_t i = 0; i < steps.size(); ++i) {
        out << (i ? "," : "") << "{\"node\":" << JsonString(steps[i].node)
            << ",\"op\":" << JsonString(steps[i].op) << ",\"ms_per_run\":"
            << JsonNumber(steps[i].total_ms / std::max<int64_t>(steps[i].runs, 1), 4)
            << ",\"gflop\":" << JsonNumber(steps[i].flops / 1e9, 4) << "}";
      }
      out << "]";
    }
    out << "}\n";
  } else {
    out << absl::StrFormat(
        "model         %s\nthreads       %d\nbatch         %d\niters         %d (after %d warmup)\n"
        "load_ms       %.3f\nfirst_run_ms  %.3f\np50_ms        %.3f\np90_ms        %.3f\n"
        "min_ms        %.3f\npeak_rss_mb   %.1f\narena_bytes   %d\nconcurrent    %d\n"
        "runs_per_s    %.2f\n",
        model, *threads, *batch, *iters, *warmup, load_ms, *first, p50, p90, min, peak_rss_mb,
        arena_bytes, *concurrent, runs_per_s);
    if (options.enable_profiling)
      out << ProfileTable((*session)->profile(), (*session)->report().num_threads);
  }
  std::cout << out.str() << std::flush;
  return kExitOk;
}

}  // namespace onnxrun::cli
