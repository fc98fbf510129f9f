// libFuzzer target: image bytes -> onnxrun::DecodeImage, then ImageToTensor with each preset at a
// crop size taken from the input's first bytes.
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "onnxrun/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = onnxrun::fuzz::WriteInput(data, size);
  auto image = onnxrun::DecodeImage(path);
  if (!image.ok()) return 0;
  const int64_t h = size > 0 ? 1 + data[0] % 64 : 8;
  const int64_t w = size > 1 ? 1 + data[1] % 64 : 8;
  (void)onnxrun::ImageToTensor(*image, h, w, 3, onnxrun::Preprocess::kTorchvision);
  (void)onnxrun::ImageToTensor(*image, h, w, 3, onnxrun::Preprocess::kCaffe);
  (void)onnxrun::ImageToTensor(*image, h, w, 1, onnxrun::Preprocess::kGray);
  return 0;
}
