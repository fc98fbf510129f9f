// Shared pieces of the onnxrun command-line tool: argument parsing, error reporting, JSON output.
// The tool is a thin client of the public API (onnxrun/onnxrun.h, onnxrun/image.h) only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "onnxrun/onnxrun.h"

namespace onnxrun::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime, model or input failure
inline constexpr int kExitUsage = 2;    // bad command line

// One option a command accepts: "--name VALUE" / "--name=VALUE" when takes_value, else "--name".
struct OptionSpec {
  std::string name;  // without the leading "--"
  bool takes_value = false;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // valued options (the last occurrence wins)
  std::map<std::string, std::vector<std::string>> all_values;  // every occurrence, in order
  std::set<std::string> flags;                                 // flags given
  bool help = false;                                           // -h / --help was given

  bool Has(const std::string& name) const { return flags.count(name) || values.count(name); }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Numeric options; an error (usage error) names the option and the bad value.
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback, int64_t min,
                                 int64_t max = INT32_MAX) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback, double min) const;
  // --threads (default 1, >= 1). More than the CPUs the process may use (onnxrun::UsableCpus(),
  // the limit Session::Load applies too) is clamped to them with a note on stderr.
  absl::StatusOr<int64_t> GetThreads() const;
  // --max-tensor-mb / --max-arena-mb (MiB) into SessionOptions::max_tensor_bytes / max_arena_bytes
  // (unchanged when not given); a usage error names the option.
  absl::Status GetLimits(SessionOptions* options) const;
  // Every --shape NAME=D1xD2x... (repeatable) as SessionOptions::input_shapes. A usage error names
  // the value and what is wrong: no '=', an empty name, a name given twice, a dimension that is
  // not an integer in [1, 2^31), or more than 2^31 elements in all.
  absl::StatusOr<std::map<std::string, std::vector<int64_t>>> GetShapes() const;
};

// Parses `args` (the words after the command). Unknown options and missing values are errors.
// "--" ends the options; everything after it is positional.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<OptionSpec>& specs);

// One-line synopsis of a command ("classify", "test", "bench", "info"), and the full help text.
const char* Synopsis(const std::string& command);
std::string HelpText();

// Prints "onnxrun: [command: ]message; usage: <synopsis>" as one line on stderr; returns
// kExitUsage.
int UsageError(const std::string& command, const std::string& message);
// Prints "onnxrun: message" (newlines folded) as one line on stderr; returns kExitFailure.
int Fail(const std::string& message);
// Prints a command's synopsis on stdout (for "onnxrun CMD --help"); returns kExitOk.
int PrintCommandHelp(const std::string& command);

// The status message, prefixed with "path: " unless it already names `path`.
std::string Where(const std::string& path, const absl::Status& status);
// Folds a possibly multi-line message into one line ("a\nb" -> "a; b").
std::string OneLine(std::string_view text);

// JSON helpers: a quoted, escaped string; a number (null when not finite); an int array.
std::string JsonString(std::string_view text);
std::string JsonNumber(double value, int decimals = 3);
std::string JsonIntArray(const std::vector<int64_t>& values);

// "[1,3,224,224]".
std::string ShapeString(const std::vector<int64_t>& shape);
// For bench and info: one note on stderr per input whose declared shape has dynamic dimensions
// the session filled with its default (1), e.g. a [N,3,H,W] input timed as [1,3,1,1]. The batch
// dimension is not mentioned when `batch_given` (--batch set it); inputs in `given` (--shape) are
// skipped.
void NoteDefaultedDims(const std::string& model, const std::vector<onnxrun::TensorInfo>& inputs,
                       bool batch_given, const std::map<std::string, std::vector<int64_t>>& given);
// A Session::Load failure as one line. When the message names an input given by --shape, the
// flag and its value lead ("--shape x=1x3x8x8: input 'x': ..."), else "model: message".
std::string LoadError(const std::string& model, const absl::Status& status, const ParsedArgs& args);
// Monotonic wall clock in milliseconds.
double NowMs();
// Final path component, ignoring trailing slashes.
std::string BaseName(const std::string& path);

// How a forked child ended.
struct ChildResult {
  std::string text;        // what the task returned (empty unless it finished)
  bool timed_out = false;  // killed after the time limit
  int signal = 0;          // the signal that killed it, 0 if none
  int exit_code = 0;       // its exit status when it exited
  std::string error;       // fork/pipe failure in the parent
};
// Runs task(i) for i in [0, n), each in its own forked child (stdout redirected to /dev/null; the
// returned text comes back through a pipe), at most `jobs` at a time, each SIGKILLed after
// `timeout_s` seconds. `report(i, result)` is called in the parent in index order, as soon as
// every earlier task has been reported. Call only from a single-threaded process.
void RunInChildren(size_t n, int jobs, double timeout_s,
                   const std::function<std::string(size_t)>& task,
                   const std::function<void(size_t, const ChildResult&)>& report);
// "SIGSEGV" (or "signal N").
std::string SignalName(int signal);

// Commands. `args` are the words after the command name.
int RunClassify(const std::vector<std::string>& args);
int RunTest(const std::vector<std::string>& args);
int RunBench(const std::vector<std::string>& args);
int RunInfo(const std::vector<std::string>& args);

}  // namespace onnxrun::cli
