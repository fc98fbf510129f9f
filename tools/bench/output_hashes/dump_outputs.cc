// dump_outputs: prints a 64-bit FNV-1a hash of every output of every test data set of ONNX
// test-data model directories, to check that a source-tree change keeps outputs bitwise identical.
//
// Uses only the public API (onnxrun/onnxrun.h). Sessions are prepared the way `onnxrun test`
// (tools/cli_test.cc at 69699af) prepares them: float32 inputs set input_shapes and go to Run();
// other inputs are bound at load; on kUnimplemented, small rank-0/1 float32 inputs are bound too.
// Data sets with the same plan share a session, as in cli_test.cc.
//
// Usage: dump_outputs [--threads N] [--runs R] DIR...
//   DIR is a model directory (model.onnx + test_data_set_*/input_*.pb), or a directory whose
//   subdirectories (sorted by name, one level) are model directories.
// Output, one line per output (sorted: dirs as given/sorted, sets and outputs by number):
//   <dirname>/<set> out<k> <shape> <16 hex digits>
// Float outputs hash their raw float32 bytes; integer outputs (ints()) their int64 bytes.
// With --runs R > 1 every set is run R times on the same session; if a later run's hash differs
// from the first, " NONDETERMINISTIC(<hashes>)" is appended to the line.
// Errors give one line "<dirname>[/<set>] ERROR <message>" and the tool goes on; exit status 1
// if any error occurred.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "onnxrun/onnxrun.h"

namespace fs = std::filesystem;
using onnxrun::DataType;
using onnxrun::Session;
using onnxrun::SessionOptions;
using onnxrun::Tensor;

namespace {

int g_threads = 1;
int g_runs = 1;
bool g_error = false;

uint64_t Fnv1a(const void* data, size_t n, uint64_t h = 0xcbf29ce484222325ULL) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string Hex(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

std::string OneLine(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "; ";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out;
}

std::string StatusText(const absl::Status& s) {
  return OneLine(std::string(absl::StatusCodeToString(s.code())) + ": " + std::string(s.message()));
}

bool IsFloat(const Tensor& t) {
  DataType d = t.dtype();
  return d == DataType::kFloat32 || d == DataType::kFloat64 || d == DataType::kFloat16;
}
bool IsInt(const Tensor& t) {
  return !IsFloat(t) && t.dtype() != DataType::kString && t.dtype() != DataType::kOther &&
         static_cast<int64_t>(t.ints().size()) == t.num_elements();
}

// Entries of `dir` named prefix<N>suffix, ordered by N (as cli_test.cc).
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
    const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (err != std::errc() || end != digits.data() + digits.size()) continue;
    found.emplace_back(index, n);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (auto& f : found) names.push_back(f.second);
  return names;
}

std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

struct DataSet {
  std::string name;
  std::vector<Tensor> inputs;
  std::vector<std::string> input_names;
};

struct Plan {
  SessionOptions options;
  std::vector<std::pair<std::string, const Tensor*>> run_inputs;
  std::string key;
};

std::string Values(const Tensor& t) {
  if (IsFloat(t))
    return std::string(reinterpret_cast<const char*>(t.data()), t.values().size() * 4);
  return std::string(reinterpret_cast<const char*>(t.ints().data()), t.ints().size() * 8);
}

Plan MakePlan(const DataSet& set, bool bind_small_floats) {
  Plan p;
  p.options.num_threads = g_threads;
  for (size_t k = 0; k < set.inputs.size(); ++k) {
    const Tensor& t = set.inputs[k];
    const std::string& name = set.input_names[k];
    bool small = t.shape().size() <= 1 && t.num_elements() <= 64;
    if (t.dtype() == DataType::kFloat32 && !(bind_small_floats && small)) {
      p.options.input_shapes[name] = t.shape();
      p.run_inputs.emplace_back(name, &t);
      p.key += name + ShapeString(t.shape()) + ";";
    } else {
      p.options.bound_inputs[name] = t;
      p.key += name + ShapeString(t.shape()) + "=" + Values(t) + ";";
    }
  }
  return p;
}

class ModelRunner {
 public:
  ModelRunner(std::string dir)
      : dir_(std::move(dir)), name_(BaseName(dir_)), model_(dir_ + "/model.onnx") {}

  void Run() {
    std::vector<DataSet> sets;
    for (const std::string& set_name : Numbered(dir_, "test_data_set_", "")) {
      DataSet set{set_name, {}, {}};
      const std::string d = dir_ + "/" + set_name;
      bool ok = true;
      for (const std::string& file : Numbered(d, "input_", ".pb")) {
        std::string name;
        auto t = onnxrun::ReadTensorFile(d + "/" + file, &name);
        if (!t.ok()) {
          Error(set_name, file + ": " + StatusText(t.status()));
          ok = false;
          break;
        }
        set.inputs.push_back(std::move(*t));
        set.input_names.push_back(name);
      }
      if (ok) sets.push_back(std::move(set));
    }
    if (sets.empty() && Numbered(dir_, "test_data_set_", "").empty()) {
      Error("", "no test_data_set_* directories");
      return;
    }
    for (DataSet& set : sets) RunSet(set);
  }

 private:
  void Error(const std::string& set, const std::string& message) {
    g_error = true;
    std::cout << name_ << (set.empty() ? "" : "/" + set) << " ERROR " << OneLine(message)
              << std::endl;
  }

  // Unnamed input tensors take the graph input's name by position.
  bool NameInputs(DataSet& set) {
    if (std::count(set.input_names.begin(), set.input_names.end(), "") == 0) return true;
    if (!probed_) {
      // A plain load (default options) tells the graph's inputs, in order.
      auto s = Session::Load(model_);
      if (!s.ok()) {
        Error(set.name, "load (probing input names): " + StatusText(s.status()));
        return false;
      }
      for (const auto& info : (*s)->inputs()) graph_inputs_.push_back(info.name);
      probed_ = true;
    }
    for (size_t k = 0; k < set.input_names.size(); ++k) {
      if (!set.input_names[k].empty()) continue;
      if (k >= graph_inputs_.size()) {
        Error(set.name, "the data set has " + std::to_string(set.inputs.size()) +
                            " inputs, the model " + std::to_string(graph_inputs_.size()));
        return false;
      }
      set.input_names[k] = graph_inputs_[k];
    }
    return true;
  }

  absl::StatusOr<Session*> SessionFor(const DataSet& set, Plan* plan) {
    *plan = MakePlan(set, false);
    if (sessions_.count(plan->key)) return sessions_[plan->key].get();
    Plan bound = MakePlan(set, true);
    if (sessions_.count(bound.key)) {
      *plan = std::move(bound);
      return sessions_[plan->key].get();
    }
    auto loaded = Session::Load(model_, plan->options);
    if (!loaded.ok() && loaded.status().code() == absl::StatusCode::kUnimplemented &&
        bound.key != plan->key) {
      auto retry = Session::Load(model_, bound.options);
      if (retry.ok()) {
        *plan = std::move(bound);
        loaded = std::move(retry);
      }
    }
    if (!loaded.ok()) return loaded.status();
    return (sessions_[plan->key] = std::move(*loaded)).get();
  }

  void RunSet(DataSet& set) {
    if (!NameInputs(set)) return;
    for (size_t k = 0; k < set.inputs.size(); ++k) {
      if (!IsFloat(set.inputs[k]) && !IsInt(set.inputs[k])) {
        Error(set.name, "input '" + set.input_names[k] + "' has type " +
                            onnxrun::DataTypeName(set.inputs[k].dtype()));
        return;
      }
    }
    Plan plan;
    auto session = SessionFor(set, &plan);
    if (!session.ok()) {
      Error(set.name, "load: " + StatusText(session.status()));
      return;
    }
    // hashes[run][output]
    std::vector<std::vector<uint64_t>> hashes;
    std::vector<std::vector<int64_t>> shapes;
    for (int r = 0; r < g_runs; ++r) {
      std::vector<Tensor> got;
      absl::Status s = (*session)->Run(plan.run_inputs, &got);
      if (!s.ok()) {
        Error(set.name, "run " + std::to_string(r) + ": " + StatusText(s));
        return;
      }
      std::vector<uint64_t> h;
      for (size_t k = 0; k < got.size(); ++k) {
        const Tensor& t = got[k];
        const int64_t n = t.num_elements();
        if (static_cast<int64_t>(t.values().size()) == n && (IsFloat(t) || t.ints().empty())) {
          h.push_back(Fnv1a(t.values().data(), t.values().size() * sizeof(float)));
        } else if (static_cast<int64_t>(t.ints().size()) == n) {
          h.push_back(Fnv1a(t.ints().data(), t.ints().size() * sizeof(int64_t)));
        } else {
          Error(set.name, "out" + std::to_string(k) + " " + ShapeString(t.shape()) + " has " +
                              std::to_string(t.values().size()) + " floats and " +
                              std::to_string(t.ints().size()) + " ints");
          return;
        }
        if (r == 0) shapes.push_back(t.shape());
      }
      hashes.push_back(std::move(h));
    }
    for (size_t k = 0; k < hashes[0].size(); ++k) {
      std::string line = name_ + "/" + set.name + " out" + std::to_string(k) + " " +
                         ShapeString(shapes[k]) + " " + Hex(hashes[0][k]);
      bool same = true;
      for (const auto& h : hashes)
        same = same && h.size() == hashes[0].size() && h[k] == hashes[0][k];
      if (!same) {
        g_error = true;
        line += " NONDETERMINISTIC(";
        for (size_t r = 0; r < hashes.size(); ++r)
          line += (r ? "," : "") + (k < hashes[r].size() ? Hex(hashes[r][k]) : "-");
        line += ")";
      }
      std::cout << line << std::endl;
    }
  }

  const std::string dir_, name_, model_;
  std::map<std::string, std::unique_ptr<Session>> sessions_;
  std::vector<std::string> graph_inputs_;
  bool probed_ = false;
};

int Usage() {
  std::cerr << "usage: dump_outputs [--threads N] [--runs R] DIR...\n";
  return 2;
}

bool ParseInt(const std::string& s, int* out) {
  char* end = nullptr;
  long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 1 || v > 1024) return false;
  *out = static_cast<int>(v);
  return true;
}

void RunModel(const std::string& dir) {
  try {
    ModelRunner(dir).Run();
  } catch (const std::exception& e) {
    g_error = true;
    std::cout << BaseName(dir) << " ERROR exception: " << OneLine(e.what()) << std::endl;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    bool has_value = false;
    for (const char* opt : {"--threads", "--runs"}) {
      std::string o = opt;
      if (a == o) {
        if (i + 1 >= argc) return Usage();
        value = argv[++i];
        has_value = true;
      } else if (a.rfind(o + "=", 0) == 0) {
        value = a.substr(o.size() + 1);
        has_value = true;
      } else {
        continue;
      }
      if (!ParseInt(value, o == "--threads" ? &g_threads : &g_runs)) return Usage();
      break;
    }
    if (has_value) continue;
    if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    }
    if (a.rfind("--", 0) == 0) return Usage();
    dirs.push_back(a);
  }
  if (dirs.empty()) return Usage();

  for (const std::string& dir : dirs) {
    std::error_code ec;
    if (fs::is_regular_file(fs::path(dir) / "model.onnx", ec)) {
      RunModel(dir);
      continue;
    }
    if (!fs::is_directory(dir, ec)) {
      g_error = true;
      std::cout << BaseName(dir) << " ERROR not a directory" << std::endl;
      continue;
    }
    std::vector<std::string> subs;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (fs::is_regular_file(e.path() / "model.onnx", ec)) subs.push_back(e.path().string());
    }
    std::sort(subs.begin(), subs.end());
    if (subs.empty()) {
      g_error = true;
      std::cout << BaseName(dir) << " ERROR no model.onnx in it or its subdirectories" << std::endl;
    }
    for (const std::string& s : subs) RunModel(s);
  }
  return g_error ? 1 : 0;
}
