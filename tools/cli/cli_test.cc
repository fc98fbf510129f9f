// onnxrun test DIR...: run ONNX test-data directories, one forked child per case.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "onnxrun/onnxrun.h"
#include "tools/cli/cli_common.h"

namespace onnxrun::cli {
namespace {

namespace fs = std::filesystem;

struct TestOptions {
  double atol = 1e-4, rtol = 1e-3, timeout_s = 60;
  int threads = 1, jobs = 1;
  bool winograd = true;
  std::string isa = "auto";
  bool verbose = false;
  SessionOptions limits;  // max_tensor_bytes / max_arena_bytes (--max-tensor-mb, --max-arena-mb)
};
struct Case {
  std::string dir, name;
};
struct DataSet {
  std::string name;
  std::vector<Tensor> inputs, outputs;
  std::vector<std::string> input_names;
};
// How one data set is fed: the session options and what goes to Run().
struct Plan {
  SessionOptions options;
  std::vector<std::pair<std::string, const Tensor*>> run_inputs;
  std::string key;  // identifies sessions that can be shared between data sets
};

// Float32/64/16 and bfloat16 values live in values(); integer and bool ones in ints(). kString and
// kOther (uint16, complex, float8, ...) have no faithful representation in a Tensor.
bool IsFloat(const Tensor& t) {
  DataType d = t.dtype();
  return d == DataType::kFloat32 || d == DataType::kFloat64 || d == DataType::kFloat16 ||
         d == DataType::kBfloat16;
}
bool IsInt(const Tensor& t) {
  return !IsFloat(t) && t.dtype() != DataType::kString && t.dtype() != DataType::kOther &&
         static_cast<int64_t>(t.ints().size()) == t.num_elements();
}

// Entries of `dir` named prefix<N>suffix, ordered by N.
std::vector<std::string> Numbered(const std::string& dir, const std::string& prefix,
                                  const std::string& suffix) {
  std::vector<std::pair<long, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string n = entry.path().filename().string();
    if (n.size() <= prefix.size() + suffix.size() || n.rfind(prefix, 0) != 0 ||
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    std::string digits = n.substr(prefix.size(), n.size() - prefix.size() - suffix.size());
    long index = 0;  // no std::stol: it throws on a number beyond long ("input_99...9.pb")
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (ec != std::errc() || end != digits.data() + digits.size()) continue;
    found.emplace_back(index, n);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (auto& f : found) names.push_back(f.second);
  return names;
}

void Collect(const fs::path& dir, const std::string& rel, int depth, std::vector<Case>* cases) {
  std::error_code ec;
  if (fs::is_regular_file(dir / "model.onnx", ec)) {
    cases->push_back({dir.string(), rel.empty() ? BaseName(dir.string()) : rel});
    return;
  }
  if (depth > 6) return;
  std::vector<std::string> subdirs;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) subdirs.push_back(entry.path().filename().string());
  }
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& s : subdirs) Collect(dir / s, rel.empty() ? s : rel + "/" + s, depth + 1, cases);
}

std::string Num(double v) { return absl::StrFormat("%.1e", v); }

// Serializes a bound tensor's values, so that data sets binding equal values share a session.
std::string Values(const Tensor& t) {
  if (IsFloat(t))
    return std::string(reinterpret_cast<const char*>(t.data()), t.values().size() * 4);
  return std::string(reinterpret_cast<const char*>(t.ints().data()), t.ints().size() * 8);
}

// Runs one case (in the child process); returns its result line plus detail lines when verbose.
class CaseRunner {
 public:
  CaseRunner(const Case& c, const TestOptions& o) : c_(c), o_(o), model_(c.dir + "/model.onnx") {}

  std::string Run() {
    if (auto v = ReadSets()) {
      // Data the reader cannot take (sequences, optionals) belongs to a model the runtime does
      // not support: report the model's reason as the skip.
      auto model = ReadModelInfo(model_);
      if (!model.ok() && model.status().code() == absl::StatusCode::kUnimplemented)
        return Error(model.status(), "load");
      return *v;
    }
    if (sets_.empty()) return Line("SKIP", "(no test_data_set_* directories)");
    for (DataSet& set : sets_) {
      if (auto v = NameInputs(set)) return *v;
      if (auto v = BfloatInputs(set)) return *v;
      for (size_t k = 0; k < set.inputs.size(); ++k) {
        if (!IsFloat(set.inputs[k]) && !IsInt(set.inputs[k])) {
          return Line("SKIP", absl::StrCat("(input '", set.input_names[k], "' has type ",
                                           DataTypeName(set.inputs[k].dtype()), ")"));
        }
      }
      Plan plan;
      auto session = SessionFor(set, &plan);
      if (!session.ok()) return Error(session.status(), "load");
      std::vector<Tensor> got;
      absl::Status run = (*session)->Run(plan.run_inputs, &got);
      if (!run.ok()) return Error(run, "run " + set.name);
      if (got.size() < set.outputs.size()) {
        return Line("FAIL", absl::StrCat("(", set.name, ": the model produced ", got.size(),
                                         " outputs, the test data has ", set.outputs.size(), ")"));
      }
      for (size_t k = 0; k < set.outputs.size(); ++k) {
        if (auto v = Compare(absl::StrCat(set.name, "/output_", k), set.outputs[k], got[k]))
          return *v;
      }
    }
    return Line("PASS", absl::StrCat("max_abs=", Num(max_abs_), " max_rel=", Num(max_rel_)));
  }

 private:
  using Verdict = std::optional<std::string>;  // set when the case is decided

  // "VERDICT name  rest", with the case's directory left out of messages (it is in the name).
  std::string Line(const char* verdict, const std::string& rest) const {
    std::string text = absl::StrReplaceAll(OneLine(rest), {{c_.dir + "/", ""}});
    return absl::StrCat(verdict, " ", c_.name, "  ", text, "\n", detail_);
  }
  // kUnimplemented means unsupported: a skip. Anything else fails the case.
  std::string Error(const absl::Status& s, const std::string& what) const {
    if (s.code() == absl::StatusCode::kUnimplemented)
      return Line("SKIP", absl::StrCat("(", s.message(), ")"));
    return Line("FAIL", absl::StrCat("(", what, ": ", s.message(), ")"));
  }

  Verdict ReadSets() {
    for (const std::string& set_name : Numbered(c_.dir, "test_data_set_", "")) {
      DataSet set{set_name, {}, {}, {}};
      const std::string dir = c_.dir + "/" + set_name;
      for (const char* kind : {"input_", "output_"}) {
        for (const std::string& file : Numbered(dir, kind, ".pb")) {
          std::string name;
          auto t = ReadTensorFile(dir + "/" + file, &name);
          if (!t.ok()) return Error(t.status(), set_name + "/" + file);
          bool input = kind[0] == 'i';
          (input ? set.inputs : set.outputs).push_back(std::move(*t));
          if (input) set.input_names.push_back(name);
        }
      }
      sets_.push_back(std::move(set));
    }
    return std::nullopt;
  }

  // Unnamed tensors take the graph input's name by position; a plain load tells the names.
  Verdict NameInputs(DataSet& set) {
    if (std::count(set.input_names.begin(), set.input_names.end(), "") == 0) return std::nullopt;
    if (!probed_) {  // the graph's own inputs (not initializers), in order; no session needed
      auto model = ReadModelInfo(model_);
      if (!model.ok()) return Error(model.status(), "load");
      for (const TensorInfo& in : model->inputs) graph_inputs_.push_back(in.name);
      probed_ = true;
    }
    for (size_t k = 0; k < set.input_names.size(); ++k) {
      if (!set.input_names[k].empty()) continue;
      if (k >= graph_inputs_.size()) {
        return Line("FAIL", absl::StrCat("(", set.name, " has ", set.inputs.size(),
                                         " inputs, the model ", graph_inputs_.size(), ")"));
      }
      set.input_names[k] = graph_inputs_[k];
    }
    return std::nullopt;
  }

  // ONNX 1.12's test data stores a bfloat16 tensor as its bits in a UINT16 tensor: where the model
  // declares an input or output bfloat16 and the file holds integers, they are bfloat16 bits.
  Verdict BfloatInputs(DataSet& set) {
    auto as_bfloat = [](Tensor& t) {
      std::vector<float> v(t.ints().size());
      for (size_t i = 0; i < v.size(); ++i) {
        const uint32_t bits = static_cast<uint32_t>(t.ints()[i] & 0xFFFF) << 16;
        std::memcpy(&v[i], &bits, 4);
      }
      Tensor f(t.shape(), std::move(v));
      f.set_dtype(DataType::kBfloat16);
      t = std::move(f);
    };
    for (size_t k = 0; k < set.inputs.size() + set.outputs.size(); ++k) {
      const bool input = k < set.inputs.size();
      Tensor& t = input ? set.inputs[k] : set.outputs[k - set.inputs.size()];
      if (IsFloat(t) || !IsInt(t)) continue;
      if (!bfloat_probed_) {
        auto model = ReadModelInfo(model_);
        if (!model.ok()) return Error(model.status(), "load");
        for (const TensorInfo& in : model->inputs)
          if (in.dtype == "bfloat16") bfloat_inputs_.insert(in.name);
        for (const TensorInfo& out : model->outputs)
          bfloat_outputs_.push_back(out.dtype == "bfloat16");
        bfloat_probed_ = true;
      }
      const size_t out = k - set.inputs.size();
      if (input ? bfloat_inputs_.count(set.input_names[k]) > 0
                : out < bfloat_outputs_.size() && bfloat_outputs_[out])
        as_bfloat(t);
    }
    return std::nullopt;
  }

  // How much of a data set is bound at load (SessionOptions::bound_inputs, folded) instead of
  // given to Run(): kNone first, so that integer and bool inputs exercise the run-time kernels;
  // then every non-float32 input (ops that only fold them: shape arithmetic); then also small
  // rank-0/1 float32 inputs (Resize scales, Clip bounds, ...); last every input (ops whose output
  // shape depends on their input's values: Unique, NonZero, NonMaxSuppression, which the runtime
  // computes at load only).
  enum Binding { kNone, kNonFloat32, kSmallFloats, kAll };

  Plan MakePlan(const DataSet& set, Binding binding) const {
    Plan p;
    p.options.num_threads = o_.threads;
    p.options.winograd = o_.winograd;
    p.options.isa = o_.isa;
    p.options.max_tensor_bytes = o_.limits.max_tensor_bytes;
    p.options.max_arena_bytes = o_.limits.max_arena_bytes;
    p.options.check_finite_inputs = o_.limits.check_finite_inputs;
    for (size_t k = 0; k < set.inputs.size(); ++k) {
      const Tensor& t = set.inputs[k];
      const std::string& name = set.input_names[k];
      const bool small = t.shape().size() <= 1 && t.num_elements() <= 64;
      const bool bind = binding == kAll           ? true
                        : binding == kSmallFloats ? t.dtype() != DataType::kFloat32 || small
                        : binding == kNonFloat32  ? t.dtype() != DataType::kFloat32
                                                  : false;
      if (!bind) {
        p.options.input_shapes[name] = t.shape();
        p.run_inputs.emplace_back(name, &t);
        absl::StrAppend(&p.key, name, ShapeString(t.shape()), ";");
      } else {
        p.options.bound_inputs[name] = t;
        absl::StrAppend(&p.key, name, ShapeString(t.shape()), "=", Values(t), ";");
      }
    }
    return p;
  }

  absl::StatusOr<Session*> SessionFor(const DataSet& set, Plan* plan) {
    absl::StatusOr<std::unique_ptr<Session>> loaded = absl::UnimplementedError("");
    std::optional<std::string> tried;
    for (Binding b : {kNone, kNonFloat32, kSmallFloats, kAll}) {
      Plan p = MakePlan(set, b);
      if (sessions_.count(p.key)) {
        *plan = std::move(p);
        return sessions_[plan->key].get();
      }
      if (p.key == tried) continue;  // binds nothing more than the last attempt
      tried = p.key;
      absl::StatusOr<std::unique_ptr<Session>> s = Session::Load(model_, p.options);
      if (s.ok()) {
        if (o_.verbose && b != kNone)
          absl::StrAppend(&detail_, "  ", set.name,
                          b == kAll           ? ": every input"
                          : b == kSmallFloats ? ": small float inputs"
                                              : ": integer inputs",
                          " bound at load\n");
        loaded = std::move(s);
        *plan = std::move(p);
        break;
      }
      // When nothing loads, the reason reported is that of the load with integer inputs bound
      // (a run-time integer input the model cannot take, e.g. a shape, is no reason).
      if (b == kNone || b == kNonFloat32) loaded = s.status();
    }
    if (!loaded.ok()) return loaded.status();
    return (sessions_[plan->key] = std::move(*loaded)).get();
  }

  Verdict Compare(const std::string& where, const Tensor& ref, const Tensor& out) {
    if (out.shape() != ref.shape()) {
      return Line("FAIL",
                  absl::StrCat("(shape mismatch in ", where, ": got ", ShapeString(out.shape()),
                               ", want ", ShapeString(ref.shape()), ")"));
    }
    const int64_t n = ref.num_elements();
    const bool ref_int = !IsFloat(ref);
    const bool out_has_ints = static_cast<int64_t>(out.ints().size()) == n;
    const bool out_has_floats = static_cast<int64_t>(out.values().size()) == n;
    if (ref_int && !IsInt(ref)) {
      return Line("SKIP", absl::StrCat("(", where, " has type ", DataTypeName(ref.dtype()), ")"));
    }
    if (ref_int && !out_has_ints) {
      return Line("SKIP", absl::StrCat("(", where, " is ", DataTypeName(ref.dtype()),
                                       ", the runtime returned ", DataTypeName(out.dtype()), ")"));
    }
    if (!ref_int && !out_has_floats && !out_has_ints) {
      return Line("FAIL", absl::StrCat("(", where, ": the runtime returned ", out.values().size(),
                                       " values for shape ", ShapeString(out.shape()), ")"));
    }
    double max_abs = 0, max_rel = 0;
    std::string mismatch;
    for (int64_t i = 0; i < n; ++i) {
      double got =
          out_has_floats && !ref_int ? out.values()[i] : static_cast<double>(out.ints()[i]);
      double want = ref_int ? static_cast<double>(ref.ints()[i]) : ref.values()[i];
      bool ok;
      double diff;
      if (ref_int) {
        ok = out.ints()[i] == ref.ints()[i];
        diff = std::abs(got - want);
      } else if (std::isnan(got) || std::isnan(want)) {
        ok = std::isnan(got) && std::isnan(want);
        diff = ok ? 0 : INFINITY;
      } else {
        diff = got == want ? 0 : std::abs(got - want);
        // A bfloat16 output holds 8 significant bits: it matches within one bfloat16 unit in the
        // last place (2^-7 relative), whichever rounding made it (ONNX 1.12's reference
        // truncates, ONNX Runtime and ONNX >= 1.14 round to nearest even).
        const double rtol =
            ref.dtype() == DataType::kBfloat16 ? std::max(o_.rtol, 1.0 / 128) : o_.rtol;
        ok = diff <= o_.atol + rtol * std::abs(want);
      }
      max_abs = std::max(max_abs, diff);
      if (want != 0 && !std::isnan(want)) max_rel = std::max(max_rel, diff / std::abs(want));
      if (!ok && mismatch.empty()) {
        mismatch = ref_int ? absl::StrFormat("got %d, want %d", out.ints()[i], ref.ints()[i])
                           : absl::StrFormat("got %.9g, want %.9g", got, want);
        mismatch =
            absl::StrCat("(first mismatch at index ", i, ": ", mismatch, ", in ", where, ")");
      }
    }
    if (o_.verbose) {
      absl::StrAppend(&detail_, "  ", where, " ", ShapeString(ref.shape()), " ",
                      DataTypeName(ref.dtype()), " max_abs=", Num(max_abs),
                      " max_rel=", Num(max_rel), "\n");
    }
    max_abs_ = std::max(max_abs_, max_abs);
    max_rel_ = std::max(max_rel_, max_rel);
    if (mismatch.empty()) return std::nullopt;
    return Line("FAIL",
                absl::StrCat("max_abs=", Num(max_abs), " max_rel=", Num(max_rel), " ", mismatch));
  }

  const Case& c_;
  const TestOptions& o_;
  const std::string model_;
  std::vector<DataSet> sets_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;
  std::vector<std::string> graph_inputs_;
  bool probed_ = false;
  std::set<std::string> bfloat_inputs_;
  std::vector<bool> bfloat_outputs_;
  bool bfloat_probed_ = false;
  double max_abs_ = 0, max_rel_ = 0;
  std::string detail_;
};

}  // namespace

int RunTest(const std::vector<std::string>& args) {
  auto parsed = ParseArgs(args, {{"atol", true},
                                 {"rtol", true},
                                 {"threads", true},
                                 {"max-tensor-mb", true},
                                 {"max-arena-mb", true},
                                 {"allow-nonfinite", false},
                                 {"timeout", true},
                                 {"jobs", true},
                                 {"verbose", false},
                                 {"no-winograd", false},
                                 {"isa", true}});
  if (!parsed.ok()) return UsageError("test", std::string(parsed.status().message()));
  if (parsed->help) return PrintCommandHelp("test");
  if (parsed->positional.empty()) return UsageError("test", "expected at least one DIR");
  TestOptions o;
  auto atol = parsed->GetDouble("atol", 1e-4, 0);
  auto rtol = parsed->GetDouble("rtol", 1e-3, 0);
  auto timeout = parsed->GetDouble("timeout", 60, 0.001);
  auto threads = parsed->GetThreads();
  auto jobs = parsed->GetInt("jobs", 1, 1, 1024);
  for (const absl::Status& s :
       {atol.status(), rtol.status(), timeout.status(), threads.status(), jobs.status()}) {
    if (!s.ok()) return UsageError("test", std::string(s.message()));
  }
  o.atol = *atol, o.rtol = *rtol, o.timeout_s = *timeout;
  o.threads = static_cast<int>(*threads), o.jobs = static_cast<int>(*jobs);
  o.winograd = !parsed->Has("no-winograd");
  o.isa = parsed->Get("isa", "auto");
  o.verbose = parsed->Has("verbose");
  if (absl::Status s = parsed->GetLimits(&o.limits); !s.ok())
    return UsageError("test", std::string(s.message()));

  std::vector<Case> cases;
  for (const std::string& dir : parsed->positional) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return Fail("test: '" + dir + "' is not a directory");
    size_t before = cases.size();
    Collect(dir, "", 0, &cases);
    if (cases.size() == before) {
      return Fail("test: no model.onnx in '" + dir + "' or its subdirectories");
    }
  }

  int passed = 0, failed = 0, skipped = 0;
  auto task = [&](size_t i) -> std::string {
    try {
      return CaseRunner(cases[i], o).Run();
    } catch (const std::exception& e) {
      return absl::StrCat("FAIL ", cases[i].name, "  (exception: ", OneLine(e.what()), ")\n");
    }
  };
  auto report = [&](size_t i, const ChildResult& r) {
    std::string text = r.text;
    const std::string& name = cases[i].name;
    if (!r.error.empty()) {
      text = absl::StrCat("FAIL ", name, "  (", r.error, ")\n");
    } else if (r.timed_out) {
      text = absl::StrFormat("FAIL %s  (timed out after %g s)\n", name, o.timeout_s);
    } else if (r.signal != 0) {
      text = absl::StrCat("FAIL ", name, "  (crashed: ", SignalName(r.signal), ")\n");
    } else if (r.exit_code != 0 || text.size() < 5) {
      text =
          absl::StrCat("FAIL ", name, "  (exited with status ", r.exit_code, " and no result)\n");
    }
    if (text.back() != '\n') text += '\n';
    if (text.rfind("PASS", 0) == 0) {
      ++passed;
    } else if (text.rfind("SKIP", 0) == 0) {
      ++skipped;
    } else {
      ++failed;
    }
    std::cout << text << std::flush;
  };
  RunInChildren(cases.size(), o.jobs, o.timeout_s, task, report);
  std::cout << passed << " passed, " << failed << " failed";
  if (skipped > 0) std::cout << ", " << skipped << " skipped";
  std::cout << std::endl;
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace onnxrun::cli
