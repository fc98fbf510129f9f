// LeNet-5 trained on the real handwritten digits (sklearn load_digits): onnxrun's test accuracy on
// the held-out split next to PyTorch's, and the two must agree image for image.
// Usage: digits_accuracy MODEL_DIR (holds test_data_set_1/{input_0,output_0}.pb = the held-out
// batch and PyTorch's logits, and digits_labels.txt = the true labels)
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "onnxrun/onnxrun.h"

namespace {
int ArgMax(const float* row, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (row[i] > row[best]) best = i;
  return best;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: digits_accuracy MODEL_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  auto x = onnxrun::ReadTensorFile(dir + "/test_data_set_1/input_0.pb");
  auto ref = onnxrun::ReadTensorFile(dir + "/test_data_set_1/output_0.pb");
  if (!x.ok() || !ref.ok()) {
    std::fprintf(stderr, "cannot read the held-out set in %s\n", dir.c_str());
    return 1;
  }
  std::vector<int> labels;
  std::ifstream lf(dir + "/digits_labels.txt");
  for (int v; lf >> v;) labels.push_back(v);
  const int n = static_cast<int>(x->shape()[0]);
  if (static_cast<int>(labels.size()) != n) {
    std::fprintf(stderr, "%zu labels for %d images\n", labels.size(), n);
    return 1;
  }
  onnxrun::SessionOptions options;
  options.batch_size = n;
  auto session = onnxrun::Session::Load(dir + "/model.onnx", options);
  if (!session.ok()) {
    std::fprintf(stderr, "%s\n", std::string(session.status().message()).c_str());
    return 1;
  }
  std::vector<onnxrun::Tensor> out;
  absl::Status s = (*session)->Run({{(*session)->inputs()[0].name, &*x}}, &out);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  const int classes = static_cast<int>(out[0].shape().back());
  int ours_ok = 0, torch_ok = 0, disagree = 0;
  for (int i = 0; i < n; ++i) {
    const int a = ArgMax(out[0].data() + i * classes, classes);
    const int b = ArgMax(ref->data() + i * classes, classes);
    ours_ok += a == labels[i];
    torch_ok += b == labels[i];
    if (a != b) {
      ++disagree;
      std::printf("image %d: onnxrun says %d, PyTorch says %d (label %d)\n", i, a, b, labels[i]);
    }
  }
  std::printf("held-out digits: %d images; accuracy onnxrun %.4f, PyTorch %.4f; %d disagreements\n",
              n, double(ours_ok) / n, double(torch_ok) / n, disagree);
  return disagree == 0 ? 0 : 1;
}
