// Classifies one image with an ONNX model: onnxrun::onnxrun + onnxrun::image, top-5 classes.
//   classify MODEL.onnx IMAGE.{jpg,png}
// Without CMake: c++ -std=c++20 classify.cc $(pkg-config --cflags --libs onnxrun-image) -o classify
#include <algorithm>
#include <iostream>
#include <numeric>
#include <vector>

#include "onnxrun/image.h"
#include "onnxrun/onnxrun.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: classify MODEL.onnx IMAGE\n";
    return 2;
  }
  auto session = onnxrun::Session::Load(argv[1]);
  if (!session.ok()) {
    std::cerr << "error: " << session.status().message() << "\n";
    return 1;
  }
  const onnxrun::TensorInfo& in = (*session)->inputs()[0];  // [1, 3, H, W]
  auto image = onnxrun::DecodeImage(argv[2]);
  if (!image.ok()) {
    std::cerr << "error: " << image.status().message() << "\n";
    return 1;
  }
  auto input = onnxrun::ImageToTensor(*image, in.shape[2], in.shape[3], in.shape[1],
                                      onnxrun::Preprocess::kTorchvision);
  std::vector<onnxrun::Tensor> outputs;
  absl::Status status = input.status();
  if (status.ok()) status = (*session)->Run({{in.name, &*input}}, &outputs);
  if (!status.ok()) {
    std::cerr << "error: " << status.message() << "\n";
    return 1;
  }
  const std::vector<float>& scores = outputs[0].values();
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min<size_t>(5, order.size());
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return scores[a] > scores[b]; });
  for (size_t r = 0; r < k; ++r) {
    std::cout << r + 1 << "  " << order[r] << "  " << scores[order[r]] << "\n";
  }
  return 0;
}
