// What `onnxrun classify` knows once the model is loaded, shared by the one-image output
// (cli_classify.cc) and the many-images pipeline (cli_classify_batch.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "onnxrun/image.h"
#include "onnxrun/onnxrun.h"

namespace onnxrun::cli {

struct ClassifyModel {
  std::string path;
  Session* session = nullptr;
  std::string input;  // the image input's name
  int64_t channels = 3, height = 224, width = 224;
  int64_t fixed_batch = 0;  // the model's fixed batch size, 0 when dynamic
  bool nhwc = false;        // the input is [N,H,W,C] (channels/height/width above are its sizes)
  Preprocess preset = Preprocess::kTorchvision;
  std::string output;  // the scores output's name
  int64_t classes = 0;
  std::vector<std::string> labels;  // empty: class_N
  int64_t top = 5;

  std::string Label(int64_t i) const;
};

// The image preprocessed into one model input, [1,C,H,W] or [1,H,W,C] for an NHWC model.
absl::StatusOr<Tensor> ImageToModelInput(const ClassifyModel& m, const Image& image);

struct Ranked {
  std::vector<int64_t> index;  // best first
  std::vector<float> probability;
};

// The top `m.top` classes of one image's scores (softmax applied unless they already are a
// distribution); error when a score is NaN or Inf.
absl::StatusOr<Ranked> RankScores(const ClassifyModel& m, const float* scores);

// Files to classify from IMAGE|DIR arguments: a directory is walked recursively for .jpg, .jpeg
// and .png files (any case), in sorted order; a file argument is taken as given.
std::vector<std::string> ExpandImageArgs(const std::vector<std::string>& args);

struct BatchOptions {
  int64_t batch = 1;
  int jobs = 2;
  std::string format = "text";  // text | jsonl | csv
};
// Classifies every image, one result line per image in input order; decoding runs on `jobs`
// threads ahead of the model. Returns the exit status (1 when any image failed).
int ClassifyImages(const ClassifyModel& m, const std::vector<std::string>& images,
                   const BatchOptions& options);

}  // namespace onnxrun::cli
