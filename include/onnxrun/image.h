// Image input helpers: decode a JPEG or PNG file and turn it into a model input tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "onnxrun/onnxrun.h"

namespace onnxrun {

// 8-bit interleaved pixels, RGB order (grayscale and RGBA files are converted to RGB).
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // height * width * 3
};

// Decodes a JPEG or PNG file (detected by its signature, not its name). A missing, truncated or
// corrupt file gives an error naming the file and what is wrong.
absl::StatusOr<Image> DecodeImage(const std::string& path);

enum class Preprocess {
  kTorchvision,  // RGB, x/255, minus ImageNet mean (0.485, 0.456, 0.406), / std (0.229, 0.224,
                 // 0.225)
  kCaffe,        // BGR, 0..255, minus mean B 104, G 117, R 123, no scaling
  kGray,         // one channel: luma (0.299 R + 0.587 G + 0.114 B) / 255 (LeNet-style digits)
};

absl::StatusOr<Preprocess> ParsePreprocess(
    const std::string& name);  // "torchvision"|"caffe"|"gray"

// Resizes the shorter side to round(256/224 * max(height, width)) (256 for a 224 input) with
// bilinear interpolation (half-pixel centers, antialiased when shrinking, like PIL), center-crops
// to height x width, applies the preset and returns an NCHW tensor [1, channels, height, width].
// `channels` must be 3 (kTorchvision, kCaffe) or 1 (kGray).
absl::StatusOr<Tensor> ImageToTensor(const Image& image, int64_t height, int64_t width,
                                     int64_t channels, Preprocess preset);

}  // namespace onnxrun
