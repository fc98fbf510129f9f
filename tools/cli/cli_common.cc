#include "tools/cli/cli_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "onnxrun/onnxrun.h"

namespace onnxrun::cli {

std::string ParsedArgs::Get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

absl::StatusOr<int64_t> ParsedArgs::GetInt(const std::string& name, int64_t fallback, int64_t min,
                                           int64_t max) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < min || value > max) {
    std::string range =
        max == INT32_MAX ? absl::StrCat(">= ", min) : absl::StrCat("in [", min, ", ", max, "]");
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " expects an integer ", range, ", got '", it->second, "'"));
  }
  return value;
}

absl::StatusOr<int64_t> ParsedArgs::GetThreads() const {
  absl::StatusOr<int64_t> threads = GetInt("threads", 1, 1);
  const int cpus = UsableCpus();
  if (!threads.ok() || *threads <= cpus) return threads;
  std::fprintf(
      stderr,
      "onnxrun: note: --threads %lld exceeds the %d CPU(s) this process may use; using %d\n",
      static_cast<long long>(*threads), cpus, cpus);
  return cpus;
}

absl::Status ParsedArgs::GetLimits(SessionOptions* options) const {
  constexpr int64_t kMiB = 1 << 20;
  if (Has("max-tensor-mb")) {
    absl::StatusOr<int64_t> mb = GetInt("max-tensor-mb", 0, 1, INT64_MAX / kMiB);
    if (!mb.ok()) return mb.status();
    options->max_tensor_bytes = *mb * kMiB;
  }
  if (Has("max-arena-mb")) {
    absl::StatusOr<int64_t> mb = GetInt("max-arena-mb", 0, 1, INT64_MAX / kMiB);
    if (!mb.ok()) return mb.status();
    options->max_arena_bytes = *mb * kMiB;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::vector<int64_t>>> ParsedArgs::GetShapes() const {
  std::map<std::string, std::vector<int64_t>> shapes;
  auto it = all_values.find("shape");
  if (it == all_values.end()) return shapes;
  constexpr int64_t kMax = int64_t{1} << 31;
  for (const std::string& text : it->second) {
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--shape expects NAME=D1xD2x... (e.g. input=1x3x224x224), got '", text, "': ", why));
    };
    const size_t eq = text.rfind('=');
    if (eq == std::string::npos) return bad("no '='");
    const std::string name = text.substr(0, eq);
    if (name.empty()) return bad("empty input name");
    if (shapes.count(name)) return bad(absl::StrCat("input '", name, "' given twice"));
    const std::string dims_text = text.substr(eq + 1);
    std::vector<int64_t> dims;
    int64_t elements = 1;
    for (absl::string_view part : absl::StrSplit(dims_text, 'x')) {
      int64_t d = 0;
      if (!absl::SimpleAtoi(part, &d) || d < 1 || d >= kMax)
        return bad(absl::StrCat("dimension '", part, "' is not an integer in [1, 2^31)"));
      elements *= d;  // both factors < 2^31, and elements stays <= 2^31: no overflow
      if (elements > kMax) return bad("more than 2^31 elements");
      dims.push_back(d);
    }
    shapes[name] = std::move(dims);
  }
  return shapes;
}

absl::StatusOr<double> ParsedArgs::GetDouble(const std::string& name, double fallback,
                                             double min) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  double value = 0;
  if (!absl::SimpleAtod(it->second, &value) || !std::isfinite(value) || value < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " expects a number >= ", min, ", got '", it->second, "'"));
  }
  return value;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<OptionSpec>& specs) {
  ParsedArgs parsed;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      parsed.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      parsed.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) return absl::InvalidArgumentError("unknown option '" + arg + "'");
    std::string name = arg.substr(2);
    std::string value;
    bool has_inline_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline_value = true;
    }
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return absl::InvalidArgumentError("unknown option '--" + name + "'");
    if (!spec->takes_value) {
      if (has_inline_value) {
        return absl::InvalidArgumentError("option '--" + name + "' takes no value");
      }
      parsed.flags.insert(name);
      continue;
    }
    if (!has_inline_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError("option '--" + name + "' needs a value");
      }
      value = args[++i];
    }
    parsed.values[name] = value;
    parsed.all_values[name].push_back(value);
  }
  return parsed;
}

const char* Synopsis(const std::string& command) {
  if (command == "classify") {
    return "onnxrun [classify] MODEL IMAGE|DIR... [--top K] [--threads N] "
           "[--preprocess torchvision|caffe|gray] [--labels FILE] [--shape NAME=1xCxHxW] [--json] "
           "[--layout auto|nchw|nhwc] [--batch N] [--jobs J] [--format text|jsonl|csv] "
           "[--no-winograd]";
  }
  if (command == "test") {
    return "onnxrun test DIR... [--atol A] [--rtol R] [--threads N] [--timeout S] [--jobs J] "
           "[--verbose] [--no-winograd]";
  }
  if (command == "bench") {
    return "onnxrun bench MODEL [--threads N] [--iters K] [--warmup W] [--batch B] "
           "[--shape NAME=D1xD2x...]... [--fixed-shape] [--concurrent C] [--profile] [--json] "
           "[--no-winograd]";
  }
  if (command == "info")
    return "onnxrun info MODEL [--optimized [--verbose]] [--memory] [--json] [--threads N] "
           "[--batch B] [--shape NAME=D1xD2x...]... [--fixed-shape] [--no-winograd]";
  return "onnxrun COMMAND ... (commands: classify, test, bench, info, help; see 'onnxrun --help')";
}

std::string HelpText() {
  return absl::StrCat(
      "onnxrun ", "- ONNX inference for CNN image classifiers\n\n", "usage:\n  ",
      Synopsis("classify"),
      "\n      Classify an image; prints rank, class index, label and probability of the top K\n"
      "      (default 5). Preset defaults to torchvision (3 channels) or gray (1 channel).\n"
      "      Several images or a DIR (walked for .jpg/.jpeg/.png), or --batch/--jobs/--format:\n"
      "      one line per image in input order; the model is loaded once, images are decoded on\n"
      "      J threads (default min(4, CPUs)) and N at a time run as one batch (default 1); a\n"
      "      failing image is reported on its line and the rest go on (exit 1 at the end).\n  ",
      Synopsis("test"),
      "\n      Run ONNX test-data directories (model.onnx + test_data_set_N/); a DIR without\n"
      "      model.onnx is searched for subdirectories that have one. Defaults: --atol 1e-4,\n"
      "      --rtol 1e-3, --timeout 60 (seconds per case), --jobs 1.\n  ",
      Synopsis("bench"),
      "\n      Time load, first run and K runs (default 50, after 5 warmups) on random input;\n"
      "      --concurrent C runs K runs on each of C threads sharing the one session\n"
      "      (runs_per_s: the throughput of all of them).\n  ",
      Synopsis("info"),
      "\n      Inputs, outputs, opset, producer, parameters, GFLOPs and op histogram;\n"
      "      --optimized adds the optimizer's passes (--verbose: every rewrite), --memory the\n"
      "      arena figures.\n"
      "  --shape NAME=D1xD2x... (bench, info, classify; repeatable) prepares input NAME with that\n"
      "      shape instead of defaulting its dynamic dimensions to 1; it must agree with the\n"
      "      model's fixed dimensions. --batch sets the first dimension of the other inputs only.\n"
      "      classify resizes and crops the image to the given HxW.\n"
      "  --fixed-shape (bench, info) loads for the prepared shape only: the unpacked weights a\n"
      "      session keeps to plan other shapes of a model with dynamic inputs are released.\n"
      "  --no-winograd runs 3x3 convolutions on the direct kernels only "
      "(SessionOptions::winograd).\n"
      "  --max-tensor-mb N, --max-arena-mb N (every command) refuse a model whose tensors or\n"
      "      arena would exceed N MiB (defaults: 4096 per tensor; half the memory, at most 16 "
      "GiB,\n"
      "      for the arena).\n"
      "  onnxrun help | --help | --version\n\n"
      "Exit status: 0 success, 1 model/input/runtime failure, 2 usage error.\n");
}

int UsageError(const std::string& command, const std::string& message) {
  std::cerr << "onnxrun: " << (command.empty() ? "" : command + ": ") << OneLine(message)
            << "; usage: " << Synopsis(command) << std::endl;
  return kExitUsage;
}

int Fail(const std::string& message) {
  std::cerr << "onnxrun: " << OneLine(message) << std::endl;
  return kExitFailure;
}

int PrintCommandHelp(const std::string& command) {
  std::cout << "usage: " << Synopsis(command) << "\n";
  return kExitOk;
}

std::string Where(const std::string& path, const absl::Status& status) {
  std::string message(status.message());
  if (message.find(path) != std::string::npos) return message;
  return absl::StrCat(path, ": ", message);
}

std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      if (!out.empty() && out.back() != ':' && out.back() != ';') out += ';';
      if (!out.empty()) out += ' ';
      continue;
    }
    if (c == '\t') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double value, int decimals) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.*f", decimals, value);
}

std::string JsonIntArray(const std::vector<int64_t>& values) {
  return "[" + absl::StrJoin(values, ",") + "]";
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return "[" + absl::StrJoin(shape, ",") + "]";
}

void NoteDefaultedDims(const std::string& model, const std::vector<TensorInfo>& inputs,
                       bool batch_given, const std::map<std::string, std::vector<int64_t>>& given) {
  for (const TensorInfo& in : inputs) {
    if (given.count(in.name)) continue;
    bool defaulted = false;
    for (size_t d = 0; d < in.model_shape.size() && d < in.shape.size(); ++d)
      defaulted |= in.model_shape[d] < 0 && !(d == 0 && batch_given);
    if (!defaulted) continue;
    std::fprintf(stderr,
                 "onnxrun: note: %s: input '%s' is declared %s with dynamic dimensions; they were "
                 "set to 1, so this runs %s (use --batch for the first one, --shape for all)\n",
                 model.c_str(), in.name.c_str(), ShapeString(in.model_shape).c_str(),
                 ShapeString(in.shape).c_str());
  }
}

std::string LoadError(const std::string& model, const absl::Status& status,
                      const ParsedArgs& args) {
  auto it = args.all_values.find("shape");
  const std::string message(status.message());
  for (size_t i = 0; it != args.all_values.end() && i < it->second.size(); ++i) {
    const std::string& text = it->second[i];
    const std::string name = text.substr(0, text.rfind('='));
    if (message.find("'" + name + "'") != std::string::npos)
      return absl::StrCat("--shape ", text, ": ", Where(model, status));
  }
  return Where(model, status);
}

double NowMs() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
}

std::string BaseName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string SignalName(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev ? absl::StrCat("SIG", abbrev) : absl::StrCat("signal ", signal);
}

namespace {

struct Child {
  size_t index;
  pid_t pid;
  int fd;
  double deadline_ms;
  std::string text;
};

// Forks a child running task(index); on failure fills `error`.
std::optional<Child> StartChild(size_t index, double timeout_s,
                                const std::function<std::string(size_t)>& task,
                                std::string* error) {
  std::cout.flush();
  std::cerr.flush();
  fflush(nullptr);
  int fds[2];
  if (pipe(fds) != 0) {
    *error = absl::StrCat("cannot create a pipe: ", strerror(errno));
    return std::nullopt;
  }
  pid_t pid = fork();
  if (pid < 0) {
    *error = absl::StrCat("cannot fork: ", strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    close(fds[0]);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
    std::string text;
    try {
      text = task(index);
    } catch (...) {
      _exit(4);
    }
    for (size_t done = 0; done < text.size();) {
      ssize_t w = write(fds[1], text.data() + done, text.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) _exit(3);
      done += w;
    }
    _exit(0);  // no atexit handlers or static destructors in the child
  }
  close(fds[1]);
  return Child{index, pid, fds[0], NowMs() + timeout_s * 1000.0, ""};
}

}  // namespace

void RunInChildren(size_t n, int jobs, double timeout_s,
                   const std::function<std::string(size_t)>& task,
                   const std::function<void(size_t, const ChildResult&)>& report) {
  std::vector<std::optional<ChildResult>> results(n);
  std::vector<Child> active;
  size_t next = 0, reported = 0;
  while (reported < n) {
    while (active.size() < static_cast<size_t>(std::max(jobs, 1)) && next < n) {
      std::string error;
      if (auto child = StartChild(next, timeout_s, task, &error)) {
        active.push_back(std::move(*child));
      } else {
        results[next] = ChildResult{};
        results[next]->error = error;
      }
      ++next;
    }
    std::vector<pollfd> fds;
    double wait_ms = 1000;
    for (const Child& c : active) {
      fds.push_back({c.fd, POLLIN, 0});
      wait_ms = std::min(wait_ms, c.deadline_ms - NowMs());
    }
    if (!active.empty()) poll(fds.data(), fds.size(), static_cast<int>(std::max(wait_ms, 0.0)) + 1);
    std::vector<Child> still;
    for (size_t i = 0; i < active.size(); ++i) {
      Child& c = active[i];
      bool eof = false;
      if (fds[i].revents != 0) {
        char buf[4096];
        ssize_t r = read(c.fd, buf, sizeof buf);
        if (r > 0) c.text.append(buf, r);
        eof = r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN);
      }
      bool timed_out = !eof && NowMs() >= c.deadline_ms;
      if (!eof && !timed_out) {
        still.push_back(std::move(c));
        continue;
      }
      if (timed_out) kill(c.pid, SIGKILL);
      int status = 0;
      while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
      }
      close(c.fd);
      ChildResult r;
      r.timed_out = timed_out;
      if (!timed_out && WIFSIGNALED(status)) r.signal = WTERMSIG(status);
      if (!timed_out && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
      if (!timed_out && r.signal == 0 && r.exit_code == 0) r.text = std::move(c.text);
      results[c.index] = std::move(r);
    }
    active = std::move(still);
    while (reported < n && results[reported]) {
      report(reported, *results[reported]);
      results[reported].reset();
      ++reported;
    }
  }
}

}  // namespace onnxrun::cli
