// libFuzzer target: TensorProto bytes -> onnxrun::ReadTensorFile. Every input must end in a tensor
// or an error, never a crash, sanitizer report, hang or unbounded allocation.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "onnxrun/onnxrun.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = onnxrun::fuzz::WriteInput(data, size);
  std::string name;
  auto tensor = onnxrun::ReadTensorFile(path, &name);
  if (tensor.ok()) {
    // Touch every element so a size that disagrees with the storage is caught.
    double sum = 0;
    for (float v : tensor->values()) sum += v;
    for (int64_t v : tensor->ints()) sum += static_cast<double>(v);
    volatile double sink = sum;
    (void)sink;
  }
  return 0;
}
