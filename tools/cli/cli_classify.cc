// onnxrun [classify] MODEL IMAGE: top-K classes of one image.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "onnxrun/image.h"
#include "onnxrun/onnxrun.h"
#include "tools/cli/cli_common.h"

#ifndef ONNXRUN_LABELS_FILE
#define ONNXRUN_LABELS_FILE ""
#endif

namespace onnxrun::cli {
namespace {

constexpr int64_t kDefaultImageSize = 224;
constexpr const char* kLabelsFileName = "imagenet_classes.txt";

absl::StatusOr<std::vector<std::string>> ReadLabels(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open labels file '", path, "'"));
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  while (!labels.empty() && labels.back().empty()) labels.pop_back();
  return labels;
}

// The ImageNet labels file shipped with the CLI: <exe dir>/../share/onnxrun/ (installed), next to
// the binary (build tree), then the source tree (ONNXRUN_LABELS_FILE). Empty when none is found.
std::string FindLabelsFile() {
  std::vector<std::filesystem::path> candidates;
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    candidates.push_back(exe.parent_path() / ".." / "share" / "onnxrun" / kLabelsFileName);
    candidates.push_back(exe.parent_path() / kLabelsFileName);
  }
  candidates.push_back(ONNXRUN_LABELS_FILE);
  for (const auto& path : candidates) {
    if (!path.empty() && std::filesystem::is_regular_file(path, error)) return path.string();
  }
  return "";
}

// True when `p` already looks like a probability distribution.
bool IsDistribution(const std::vector<float>& p) {
  double sum = 0;
  for (float v : p) {
    if (!(v >= 0.0f && v <= 1.0f)) return false;
    sum += v;
  }
  return std::abs(sum - 1.0) <= 1e-3;
}

std::vector<float> Softmax(const std::vector<float>& logits) {
  float max = *std::max_element(logits.begin(), logits.end());
  std::vector<float> out(logits.size());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i) sum += out[i] = std::exp(logits[i] - max);
  for (float& v : out) v = static_cast<float>(v / sum);
  return out;
}

}  // namespace

int RunClassify(const std::vector<std::string>& args) {
  auto parsed = ParseArgs(args, {{"top", true},
                                 {"threads", true},
                                 {"max-tensor-mb", true},
                                 {"max-arena-mb", true},
                                 {"preprocess", true},
                                 {"labels", true},
                                 {"shape", true},
                                 {"json", false}});
  if (!parsed.ok()) return UsageError("classify", std::string(parsed.status().message()));
  if (parsed->help) return PrintCommandHelp("classify");
  if (parsed->positional.size() != 2) {
    return UsageError("classify", absl::StrCat("expected MODEL and IMAGE, got ",
                                               parsed->positional.size(), " argument(s)"));
  }
  const std::string model = parsed->positional[0];
  const std::string image_path = parsed->positional[1];
  auto top = parsed->GetInt("top", 5, 1);
  if (!top.ok()) return UsageError("classify", std::string(top.status().message()));
  auto threads = parsed->GetThreads();
  if (!threads.ok()) return UsageError("classify", std::string(threads.status().message()));
  bool preset_given = parsed->Has("preprocess");
  Preprocess preset = Preprocess::kTorchvision;
  if (preset_given) {
    auto p = ParsePreprocess(parsed->Get("preprocess"));
    if (!p.ok()) {
      return UsageError("classify", "--preprocess expects torchvision, caffe or gray, got '" +
                                        parsed->Get("preprocess") + "'");
    }
    preset = *p;
  }
  const bool json = parsed->Has("json");
  auto shapes = parsed->GetShapes();
  if (!shapes.ok()) return UsageError("classify", std::string(shapes.status().message()));

  SessionOptions options;
  options.num_threads = static_cast<int>(*threads);
  if (absl::Status s = parsed->GetLimits(&options); !s.ok())
    return UsageError("classify", std::string(s.message()));
  options.input_shapes = *shapes;
  auto session = Session::Load(model, options);
  if (!session.ok()) return Fail(LoadError(model, session.status(), *parsed));

  // The single float input [N, C, H, W]; dynamic C/H/W get defaults and a re-prepared session.
  const std::vector<TensorInfo>& inputs = (*session)->inputs();
  if (inputs.size() != 1) {
    return Fail(absl::StrCat(model, ": classify needs a model with one input, this one has ",
                             inputs.size()));
  }
  const TensorInfo input = inputs[0];
  if (input.dtype != "float32") {
    return Fail(absl::StrCat(model, ": input '", input.name, "' is ", input.dtype,
                             "; classify needs a float32 image input"));
  }
  // A --shape for the input is the prepared shape (Session::Load checked it against the model).
  const bool shape_given = shapes->count(input.name) > 0;
  std::vector<int64_t> dims =
      input.model_shape.empty() || shape_given ? input.shape : input.model_shape;
  if (dims.size() != 4) {
    return Fail(absl::StrCat(model, ": input '", input.name, "' has shape ", ShapeString(dims),
                             "; classify needs [N,C,H,W]"));
  }
  if (dims[0] != 1 && dims[0] != -1) {
    return Fail(absl::StrCat(model, ": ", shape_given ? "--shape for " : "", "input '", input.name,
                             "' has batch ", dims[0], "; classify needs batch 1",
                             shape_given ? "" : " or a dynamic batch"));
  }
  const bool dynamic = dims[1] < 0 || dims[2] < 0 || dims[3] < 0;
  if (dims[1] < 0) dims[1] = (preset_given && preset == Preprocess::kGray) ? 1 : 3;
  for (int d : {2, 3}) {
    if (dims[d] < 0) dims[d] = kDefaultImageSize;
  }
  dims[0] = 1;
  const int64_t channels = dims[1], height = dims[2], width = dims[3];
  if (channels != 1 && channels != 3) {
    return Fail(absl::StrCat(model, ": input '", input.name, "' has ", channels,
                             " channels; classify supports 1 (gray) or 3 (color)"));
  }
  if (!preset_given) preset = channels == 1 ? Preprocess::kGray : Preprocess::kTorchvision;
  if ((preset == Preprocess::kGray) != (channels == 1)) {
    return Fail(absl::StrCat("--preprocess ", parsed->Get("preprocess"), " does not fit ", model,
                             ": input '", input.name, "' has ", channels, " channel(s)"));
  }
  if (!shape_given && dynamic && dims != (*session)->inputs()[0].shape) {
    options.input_shapes[input.name] = dims;
    session = Session::Load(model, options);
    if (!session.ok()) return Fail(Where(model, session.status()));
  }

  auto image = DecodeImage(image_path);
  if (!image.ok()) return Fail(Where(image_path, image.status()));
  auto tensor = ImageToTensor(*image, height, width, channels, preset);
  if (!tensor.ok()) return Fail(Where(image_path, tensor.status()));

  std::vector<Tensor> outputs;
  double start = NowMs();
  absl::Status run = (*session)->Run({{input.name, &*tensor}}, &outputs);
  double latency_ms = NowMs() - start;
  if (!run.ok()) return Fail("inference failed: " + Where(model, run));
  if (outputs.empty()) return Fail(model + ": the model produced no output");

  // The first output, flattened to [classes]: at most one dimension may differ from 1.
  const Tensor& out = outputs[0];
  const std::string out_name = (*session)->outputs().empty() ? "0" : (*session)->outputs()[0].name;
  int non_unit = 0;
  for (int64_t d : out.shape()) non_unit += d != 1;
  if (non_unit > 1 || out.values().empty() ||
      static_cast<int64_t>(out.values().size()) != out.num_elements()) {
    return Fail(absl::StrCat(model, ": output '", out_name, "' has shape ",
                             ShapeString(out.shape()), " (", DataTypeName(out.dtype()),
                             "); classify needs float scores of shape [1,K]"));
  }
  const std::vector<float>& scores = out.values();
  for (float v : scores) {
    if (!std::isfinite(v)) {
      return Fail(absl::StrCat(model, ": output '", out_name, "' contains NaN or Inf"));
    }
  }
  const std::vector<float> probs = IsDistribution(scores) ? scores : Softmax(scores);
  const int64_t classes = static_cast<int64_t>(probs.size());

  std::vector<std::string> labels;
  if (parsed->Has("labels")) {
    auto read = ReadLabels(parsed->Get("labels"));
    if (!read.ok()) return Fail(std::string(read.status().message()));
    if (static_cast<int64_t>(read->size()) != classes) {
      return Fail(absl::StrCat("labels file '", parsed->Get("labels"), "' has ", read->size(),
                               " labels but ", model, " outputs ", classes, " classes"));
    }
    labels = std::move(*read);
  } else if (classes == 1000) {
    const std::string path = FindLabelsFile();
    auto read = ReadLabels(path);
    if (read.ok() && static_cast<int64_t>(read->size()) == classes) {
      labels = std::move(*read);
    } else {
      std::cerr << "onnxrun: warning: no usable ImageNet labels (" << kLabelsFileName
                << " in <exe dir>/../share/onnxrun, <exe dir> or the source tree); "
                   "printing class_N (--labels FILE sets them)\n";
    }
  }

  const int64_t k = std::min<int64_t>(*top, classes);
  std::vector<int64_t> order(classes);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return probs[a] != probs[b] ? probs[a] > probs[b] : a < b;
  });
  auto label_of = [&](int64_t i) { return labels.empty() ? absl::StrCat("class_", i) : labels[i]; };

  std::ostringstream text;
  if (json) {
    text << "{\"model\":" << JsonString(model) << ",\"image\":" << JsonString(image_path)
         << ",\"input_shape\":" << JsonIntArray(dims) << ",\"top\":[";
    for (int64_t r = 0; r < k; ++r) {
      int64_t i = order[r];
      text << (r ? "," : "") << "{\"rank\":" << r + 1 << ",\"index\":" << i
           << ",\"label\":" << JsonString(label_of(i))
           << ",\"probability\":" << JsonNumber(probs[i], 6) << "}";
    }
    text << "],\"latency_ms\":" << JsonNumber(latency_ms, 3) << "}\n";
  } else {
    for (int64_t r = 0; r < k; ++r) {
      int64_t i = order[r];
      text << absl::StrFormat("%d  %d  %s  %.4f\n", r + 1, i, label_of(i), probs[i]);
    }
  }
  std::cout << text.str() << std::flush;
  return kExitOk;
}

}  // namespace onnxrun::cli
