// onnxrun [classify] MODEL IMAGE|DIR...: top-K classes of one image, or of many
// (cli_classify_batch.cc).
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
#include "absl/strings/str_join.h"
#include "onnxrun/image.h"
#include "onnxrun/onnxrun.h"
#include "tools/cli/classify.h"
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

std::string ClassifyModel::Label(int64_t i) const {
  return labels.empty() ? absl::StrCat("class_", i) : labels[i];
}

absl::StatusOr<Tensor> ImageToModelInput(const ClassifyModel& m, const Image& image) {
  absl::StatusOr<Tensor> nchw = ImageToTensor(image, m.height, m.width, m.channels, m.preset);
  if (!nchw.ok() || !m.nhwc) return nchw;
  Tensor nhwc({1, m.height, m.width, m.channels});
  const int64_t plane = m.height * m.width;
  for (int64_t c = 0; c < m.channels; ++c)
    for (int64_t p = 0; p < plane; ++p)
      nhwc.data()[p * m.channels + c] = nchw->data()[c * plane + p];
  return nhwc;
}

absl::StatusOr<Ranked> RankScores(const ClassifyModel& m, const float* scores) {
  std::vector<float> s(scores, scores + m.classes);
  for (float v : s)
    if (!std::isfinite(v))
      return absl::InvalidArgumentError(
          absl::StrCat(m.path, ": output '", m.output, "' contains NaN or Inf"));
  const std::vector<float> probs = IsDistribution(s) ? s : Softmax(s);
  const int64_t k = std::min<int64_t>(m.top, m.classes);
  std::vector<int64_t> order(m.classes);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
    return probs[a] != probs[b] ? probs[a] > probs[b] : a < b;
  });
  Ranked r;
  for (int64_t i = 0; i < k; ++i) {
    r.index.push_back(order[i]);
    r.probability.push_back(probs[order[i]]);
  }
  return r;
}

int RunClassify(const std::vector<std::string>& args) {
  auto parsed = ParseArgs(args, {{"top", true},
                                 {"threads", true},
                                 {"max-tensor-mb", true},
                                 {"max-arena-mb", true},
                                 {"preprocess", true},
                                 {"labels", true},
                                 {"shape", true},
                                 {"batch", true},
                                 {"jobs", true},
                                 {"format", true},
                                 {"layout", true},
                                 {"json", false},
                                 {"no-winograd", false}});
  if (!parsed.ok()) return UsageError("classify", std::string(parsed.status().message()));
  if (parsed->help) return PrintCommandHelp("classify");
  if (parsed->positional.size() < 2) {
    return UsageError("classify", absl::StrCat("expected MODEL and IMAGE|DIR..., got ",
                                               parsed->positional.size(), " argument(s)"));
  }
  const std::string model = parsed->positional[0];
  const std::string image_path = parsed->positional[1];
  // One image file and none of the many-images flags: the one-image output (rank lines or one
  // JSON object). Anything else: one line per image (cli_classify_batch.cc).
  std::error_code fs_error;
  const bool many = parsed->positional.size() > 2 || parsed->Has("batch") || parsed->Has("jobs") ||
                    parsed->Has("format") || std::filesystem::is_directory(image_path, fs_error);
  BatchOptions batch_options;
  {
    auto b = parsed->GetInt("batch", 1, 1, 4096);
    auto j = parsed->GetInt("jobs", std::min(4, UsableCpus()), 1, 256);
    if (!b.ok()) return UsageError("classify", std::string(b.status().message()));
    if (!j.ok()) return UsageError("classify", std::string(j.status().message()));
    batch_options.batch = *b;
    batch_options.jobs = static_cast<int>(*j);
    batch_options.format = parsed->Has("format") ? parsed->Get("format")
                           : parsed->Has("json") ? "jsonl"
                                                 : "text";
    if (batch_options.format != "text" && batch_options.format != "jsonl" &&
        batch_options.format != "csv")
      return UsageError("classify",
                        "--format expects text, jsonl or csv, got '" + batch_options.format + "'");
  }
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
  const std::string layout = parsed->Has("layout") ? parsed->Get("layout") : "auto";
  if (layout != "auto" && layout != "nchw" && layout != "nhwc")
    return UsageError("classify", "--layout expects auto, nchw or nhwc, got '" + layout + "'");
  const bool json = parsed->Has("json");
  auto shapes = parsed->GetShapes();
  if (!shapes.ok()) return UsageError("classify", std::string(shapes.status().message()));

  SessionOptions options;
  options.num_threads = static_cast<int>(*threads);
  if (absl::Status s = parsed->GetLimits(&options); !s.ok())
    return UsageError("classify", std::string(s.message()));
  options.input_shapes = *shapes;
  options.winograd = !parsed->Has("no-winograd");
  auto session = Session::Load(model, options);
  if (!session.ok()) return Fail(LoadError(model, session.status(), *parsed));

  // The single float input [N, C, H, W]; dynamic C/H/W get defaults (planned before the run).
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
  const int64_t fixed_batch = shape_given ? 0 : std::max<int64_t>(0, dims[0]);
  if (dims[0] != 1 && dims[0] != -1 && !(many && fixed_batch > 1)) {
    return Fail(absl::StrCat(model, ": ", shape_given ? "--shape for " : "", "input '", input.name,
                             "' has batch ", dims[0], "; classify needs batch 1",
                             shape_given ? "" : " or a dynamic batch"));
  }
  // NHWC models (Keras via tf2onnx): [N,H,W,C] with 1 or 3 channels last and no channel count in
  // the second dimension, unless --layout says. `dims` is NCHW below; the model's own layout only
  // for the session.
  const bool nhwc = layout == "auto"
                        ? (dims[3] == 1 || dims[3] == 3) && dims[1] != 1 && dims[1] != 3
                        : layout == "nhwc";
  if (nhwc) dims = {dims[0], dims[3], dims[1], dims[2]};
  auto model_dims = [nhwc](std::vector<int64_t> d) {
    return nhwc ? std::vector<int64_t>{d[0], d[2], d[3], d[1]} : d;
  };
  const bool dynamic = dims[1] < 0 || dims[2] < 0 || dims[3] < 0;
  if (dims[1] < 0) dims[1] = (preset_given && preset == Preprocess::kGray) ? 1 : 3;
  if (dims[2] < 0 || dims[3] < 0) {
    // Never a silent guess: the image is resized to the default and stderr says so.
    for (int d : {2, 3}) {
      if (dims[d] < 0) dims[d] = kDefaultImageSize;
    }
    std::cerr << "note: " << model << ": input '" << input.name
              << "' has a dynamic height or width; classifying at " << dims[2] << "x" << dims[3]
              << " (set another with --shape " << input.name << "="
              << absl::StrJoin(model_dims({1, dims[1], dims[2], dims[3]}), "x") << ")\n";
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
  if (!shape_given && dynamic && model_dims(dims) != (*session)->inputs()[0].shape) {
    // Plan the image's shape now (no reload), so that the timed run below is a plain run.
    auto planned = (*session)->OutputShapes({{input.name, model_dims(dims)}});
    if (!planned.ok()) return Fail(Where(model, planned.status()));
  }

  // The scores output: the first, [N, K] (or [N, K, 1, 1]) for N images.
  if (fixed_batch > 1) dims[0] = fixed_batch;
  auto out_shapes = (*session)->OutputShapes({{input.name, model_dims(dims)}});
  if (!out_shapes.ok()) return Fail(Where(model, out_shapes.status()));
  const std::string out_name = (*session)->outputs().empty() ? "0" : (*session)->outputs()[0].name;
  const std::vector<int64_t> out_shape =
      out_shapes->empty() ? std::vector<int64_t>{} : out_shapes->front();
  int non_unit = 0;
  int64_t classes = 1;
  for (size_t d = 1; d < out_shape.size(); ++d) {
    non_unit += out_shape[d] != 1;
    classes *= out_shape[d];
  }
  if (out_shape.empty() || out_shape[0] != dims[0] || non_unit > 1 || classes < 1 ||
      (*session)->outputs()[0].dtype != "float32") {
    return Fail(absl::StrCat(model, ": output '", out_name, "' has shape ", ShapeString(out_shape),
                             " (", (*session)->outputs()[0].dtype,
                             "); classify needs float scores of shape [1,K]"));
  }
  dims[0] = 1;

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
  ClassifyModel cm;
  cm.path = model;
  cm.session = session->get();
  cm.input = input.name;
  cm.channels = channels;
  cm.height = height;
  cm.width = width;
  cm.fixed_batch = fixed_batch;
  cm.nhwc = nhwc;
  cm.preset = preset;
  cm.output = out_name;
  cm.classes = classes;
  cm.labels = std::move(labels);
  cm.top = *top;
  if (many) {
    if (fixed_batch > 1 && batch_options.batch != fixed_batch && parsed->Has("batch"))
      return Fail(absl::StrCat(model, ": input '", input.name, "' has a fixed batch of ",
                               fixed_batch, "; --batch ", batch_options.batch, " cannot be used"));
    if (fixed_batch == 1 && batch_options.batch > 1)
      return Fail(absl::StrCat(model, ": input '", input.name, "' has a fixed batch of 1; --batch ",
                               batch_options.batch, " needs a model with a dynamic batch"));
    if (fixed_batch > 1) batch_options.batch = fixed_batch;
    return ClassifyImages(
        cm, ExpandImageArgs({parsed->positional.begin() + 1, parsed->positional.end()}),
        batch_options);
  }

  auto image = DecodeImage(image_path);
  if (!image.ok()) return Fail(Where(image_path, image.status()));
  auto tensor = ImageToModelInput(cm, *image);
  if (!tensor.ok()) return Fail(Where(image_path, tensor.status()));

  std::vector<Tensor> outputs;
  double start = NowMs();
  absl::Status run = (*session)->Run({{input.name, &*tensor}}, &outputs);
  double latency_ms = NowMs() - start;
  if (!run.ok()) return Fail("inference failed: " + Where(model, run));
  if (outputs.empty() || outputs[0].num_elements() != classes)
    return Fail(model + ": the model produced no scores");
  auto ranked = RankScores(cm, outputs[0].data());
  if (!ranked.ok()) return Fail(std::string(ranked.status().message()));
  const size_t k = ranked->index.size();
  std::ostringstream text;
  if (json) {
    text << "{\"model\":" << JsonString(model) << ",\"image\":" << JsonString(image_path)
         << ",\"input_shape\":" << JsonIntArray(model_dims(dims)) << ",\"top\":[";
    for (size_t r = 0; r < k; ++r) {
      text << (r ? "," : "") << "{\"rank\":" << r + 1 << ",\"index\":" << ranked->index[r]
           << ",\"label\":" << JsonString(cm.Label(ranked->index[r]))
           << ",\"probability\":" << JsonNumber(ranked->probability[r], 6) << "}";
    }
    text << "],\"latency_ms\":" << JsonNumber(latency_ms, 3) << "}\n";
  } else {
    for (size_t r = 0; r < k; ++r)
      text << absl::StrFormat("%d  %d  %s  %.4f\n", r + 1, ranked->index[r],
                              cm.Label(ranked->index[r]), ranked->probability[r]);
  }
  std::cout << text.str() << std::flush;
  return kExitOk;
}

}  // namespace onnxrun::cli
