// Every model planned with aliasing (views, in-place ops, concat slices) must give outputs
// bitwise equal to a plan with aliasing switched off.
// Usage: alias_check MODEL_DIR... (each in the ONNX test-data layout)
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "onnxrun/onnxrun.h"

namespace {

bool Check(const std::string& dir) {
  std::vector<onnxrun::Tensor> inputs;
  for (int k = 0;; ++k) {
    const std::string path = dir + "/test_data_set_0/input_" + std::to_string(k) + ".pb";
    if (!std::filesystem::exists(path)) break;
    auto t = onnxrun::ReadTensorFile(path);
    if (!t.ok()) {
      std::printf("FAIL %s: %s\n", dir.c_str(), std::string(t.status().message()).c_str());
      return false;
    }
    inputs.push_back(std::move(*t));
  }
  std::vector<std::vector<onnxrun::Tensor>> results;
  int in_place_concats = 0;
  for (bool alias : {true, false}) {
    onnxrun::SessionOptions options;
    options.in_place = alias;
    options.concat_in_place = alias;
    if (!inputs.empty()) options.batch_size = inputs[0].shape()[0];
    auto session = onnxrun::Session::Load(dir + "/model.onnx", options);
    if (!session.ok()) {
      std::printf("FAIL %s: %s\n", dir.c_str(), std::string(session.status().message()).c_str());
      return false;
    }
    std::vector<std::pair<std::string, const onnxrun::Tensor*>> named;
    for (size_t k = 0; k < inputs.size() && k < (*session)->inputs().size(); ++k)
      named.emplace_back((*session)->inputs()[k].name, &inputs[k]);
    std::vector<onnxrun::Tensor> out;
    absl::Status s = (*session)->Run(named, &out);
    if (!s.ok()) {
      std::printf("FAIL %s: %s\n", dir.c_str(), std::string(s.message()).c_str());
      return false;
    }
    if (alias) in_place_concats = (*session)->report().memory.concats_in_place;
    results.push_back(std::move(out));
  }
  for (size_t i = 0; i < results[0].size(); ++i) {
    const auto& a = results[0][i].values();
    const auto& b = results[1][i].values();
    if (a.size() != b.size() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0) {
      std::printf("FAIL %s: output %zu differs with aliasing on vs off\n", dir.c_str(), i);
      return false;
    }
  }
  std::printf("PASS %s (bitwise equal; %d concats in place)\n", dir.c_str(), in_place_concats);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: alias_check MODEL_DIR...\n");
    return 2;
  }
  int failed = 0;
  for (int i = 1; i < argc; ++i) failed += !Check(argv[i]);
  return failed ? 1 : 0;
}
