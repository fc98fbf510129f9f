// onnxrun command-line tool: classify, test, bench, info.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
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

// Loading a model writes hundreds of MB of fresh memory, and with 4 KB pages the page faults
// dominate it on VMs (VGG-16: 351k faults). The library puts its own large buffers on
// transparent huge pages (kernels::AdviseHugePages), but not protobuf's copies made while
// parsing; glibc does so for every large malloc block with GLIBC_TUNABLES=glibc.malloc.hugetlb=1,
// which it reads only at start. So the CLI starts itself again once with it, when the kernel
// offers THP, unless GLIBC_TUNABLES is already set (the user's own, or this re-exec) or
// ONNXRUN_HUGE_PAGES=0. VGG-16 then loads in 4.2 s instead of 9.9 (19k faults).
void ReexecWithHugePages(char** argv) {
  const char* opt = std::getenv("ONNXRUN_HUGE_PAGES");
  if ((opt && std::string(opt) == "0") || std::getenv("GLIBC_TUNABLES")) return;
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  if (!std::getline(thp, modes) || modes.find("[never]") != std::string::npos) return;
  if (setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("GLIBC_TUNABLES");  // exec failed: run as we are
}

}  // namespace

// The library returns allocation failures as errors; the CLI's own (reading inputs, images,
// printing) end the same way: one line on stderr, exit 1.
int main(int argc, char** argv) {
  ReexecWithHugePages(argv);
  try {
    return Main(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::bad_alloc& e) {
    std::cerr << "onnxrun: out of memory (std::bad_alloc: " << e.what() << ")\n";
  } catch (const std::length_error& e) {
    std::cerr << "onnxrun: allocation too large (std::length_error: " << e.what() << ")\n";
  }
  return onnxrun::cli::kExitFailure;
}
