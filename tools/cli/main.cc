// onnxrun command-line tool: classify, test, bench, info.
#include <sys/stat.h>

#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "onnxrun/onnxrun.h"
#include "tools/cli/cli_common.h"

namespace {

bool IsCommand(const std::string& word) {
  return word == "classify" || word == "test" || word == "bench" || word == "info";
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

int Main(const std::vector<std::string>& args) {
  using namespace onnxrun::cli;
  if (args.empty()) return UsageError("", "missing command");
  const std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());

  if (command == "--help" || command == "-h" || command == "help") {
    if (command == "help" && !rest.empty()) {
      if (rest.size() > 1 || !IsCommand(rest[0])) {
        return UsageError("", "help takes one command name, got '" + rest[0] + "'");
      }
      return PrintCommandHelp(rest[0]);
    }
    if (!rest.empty()) return UsageError("", "'" + command + "' takes no arguments");
    std::cout << HelpText();
    return kExitOk;
  }
  if (command == "--version" || command == "version") {
    if (!rest.empty()) return UsageError("", "'" + command + "' takes no arguments");
    std::cout << "onnxrun " << onnxrun::Version() << "\n";
    return kExitOk;
  }
  if (command == "classify") return RunClassify(rest);
  if (command == "test") return RunTest(rest);
  if (command == "bench") return RunBench(rest);
  if (command == "info") return RunInfo(rest);
  if (command.size() > 1 && command[0] == '-') {
    return UsageError("", "unknown option '" + command + "'");
  }
  // "onnxrun MODEL IMAGE ...": the first word names a model file. A bare word that is not a file
  // and does not look like a path is taken for a mistyped command.
  if (!Exists(command) && command.find('.') == std::string::npos &&
      command.find('/') == std::string::npos) {
    return UsageError("", "unknown command '" + command + "'");
  }
  return RunClassify(args);
}

}  // namespace

// The library returns allocation failures as errors; the CLI's own (reading inputs, images,
// printing) end the same way: one line on stderr, exit 1.
int main(int argc, char** argv) {
  try {
    return Main(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::bad_alloc& e) {
    std::cerr << "onnxrun: out of memory (std::bad_alloc: " << e.what() << ")\n";
  } catch (const std::length_error& e) {
    std::cerr << "onnxrun: allocation too large (std::length_error: " << e.what() << ")\n";
  }
  return onnxrun::cli::kExitFailure;
}
