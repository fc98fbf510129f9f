// Operand schema of every op in ops/op_list.inc: the ONNX names of its inputs, which of them may be
// omitted (given as ""), and how many outputs it may have. CheckOperands applies it to a node
// before any op code runs (prepare.cc), so infer, the optimizer passes and the session never see
// an omitted required operand (IR id -1). Input counts that depend on the opset (Pad, Clip,
// Slice, the Reduce ops...) stay checked by each op's infer.
#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/op.h"

namespace onnxrun {
namespace {

struct Operands {
  // Input names in order; a trailing '?' marks an optional input (may be ""). Unset: one
  // required input "X".
  std::vector<std::string_view> inputs = {"X"};
  bool variadic = false;          // any number of inputs, each required (Sum, Concat...)
  int max_outputs = 1;            // -1: any number (Split)
  bool output0_optional = false;  // the recurrent ops' Y may be omitted (Y_h used alone)
};

const Operands* OperandsOf(const std::string& domain, const std::string& op) {
  using Table = std::unordered_map<std::string_view, Operands>;
  static const auto* onnx = new Table{
      {"Conv", {{"X", "W", "B?"}}},
      {"BatchNormalization", {{"X", "scale", "B", "input_mean", "input_var"}, false, 5}},
      {"MaxPool", {{"X"}, false, 2}},
      {"Clip", {{"input", "min?", "max?"}}},
      {"Add", {{"A", "B"}}},
      {"Sub", {{"A", "B"}}},
      {"Mul", {{"A", "B"}}},
      {"Div", {{"A", "B"}}},
      {"Pow", {{"X", "Y"}}},
      {"Max", {{"data"}, true}},
      {"Min", {{"data"}, true}},
      {"Sum", {{"data"}, true}},
      {"Mean", {{"data"}, true}},
      {"Concat", {{"inputs"}, true}},
      {"Gemm", {{"A", "B", "C?"}}},
      {"MatMul", {{"A", "B"}}},
      {"Reshape", {{"data", "shape"}}},
      {"Squeeze", {{"data", "axes?"}}},
      {"Unsqueeze", {{"data", "axes"}}},
      {"Dropout", {{"data", "ratio?", "training_mode?"}, false, 2}},
      {"Constant", {{}}},
      {"Range", {{"start", "limit", "delta"}}},
      {"Gather", {{"data", "indices"}}},
      {"Slice", {{"data", "starts", "ends", "axes?", "steps?"}}},
      {"Split", {{"input", "split?"}, false, -1}},
      {"CastLike", {{"input", "target_type"}}},
      {"PRelu", {{"X", "slope"}}},
      {"Pad", {{"data", "pads", "constant_value?", "axes?"}}},
      {"CenterCropPad", {{"input_data", "shape"}}},
      {"ReduceSum", {{"data", "axes?"}}},
      {"ReduceMean", {{"data", "axes?"}}},
      {"ReduceMax", {{"data", "axes?"}}},
      {"ReduceMin", {{"data", "axes?"}}},
      {"ReduceProd", {{"data", "axes?"}}},
      {"ReduceSumSquare", {{"data", "axes?"}}},
      {"ReduceL1", {{"data", "axes?"}}},
      {"ReduceL2", {{"data", "axes?"}}},
      {"ReduceLogSum", {{"data", "axes?"}}},
      {"ReduceLogSumExp", {{"data", "axes?"}}},
      {"Expand", {{"input", "shape"}}},
      {"Tile", {{"input", "repeats"}}},
      {"Where", {{"condition", "X", "Y"}}},
      {"InstanceNormalization", {{"input", "scale", "B"}}},
      {"GroupNormalization", {{"X", "scale", "bias"}}},
      {"LayerNormalization", {{"X", "Scale", "B?"}, false, 3}},
      {"Equal", {{"A", "B"}}},
      {"Less", {{"A", "B"}}},
      {"Greater", {{"A", "B"}}},
      {"LessOrEqual", {{"A", "B"}}},
      {"GreaterOrEqual", {{"A", "B"}}},
      {"And", {{"A", "B"}}},
      {"Or", {{"A", "B"}}},
      {"Xor", {{"A", "B"}}},
      {"BitwiseAnd", {{"A", "B"}}},
      {"BitwiseOr", {{"A", "B"}}},
      {"BitwiseXor", {{"A", "B"}}},
      {"BitShift", {{"X", "Y"}}},
      {"Mod", {{"A", "B"}}},
      {"TopK", {{"X", "K"}, false, 2}},
      {"CumSum", {{"x", "axis"}}},
      {"GatherElements", {{"data", "indices"}}},
      {"ScatterElements", {{"data", "indices", "updates"}}},
      {"Scatter", {{"data", "indices", "updates"}}},
      {"GatherND", {{"data", "indices"}}},
      {"ScatterND", {{"data", "indices", "updates"}}},
      {"Trilu", {{"input", "k?"}}},
      {"OneHot", {{"indices", "depth", "values"}}},
      {"Compress", {{"input", "condition"}}},
      {"Unique", {{"X"}, false, 4}},
      {"MelWeightMatrix",
       {{"num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz"}}},
      {"NonMaxSuppression",
       {{"boxes", "scores", "max_output_boxes_per_class?", "iou_threshold?", "score_threshold?"}}},
      {"Resize", {{"X", "roi?", "scales?", "sizes?"}}},
      {"Upsample", {{"X", "scales"}}},
      {"ConvTranspose", {{"X", "W", "B?"}}},
      {"Einsum", {{"Inputs"}, true}},
      {"GridSample", {{"X", "grid"}}},
      {"MaxUnpool", {{"X", "I", "output_shape?"}}},
      {"DFT", {{"input", "dft_length?", "axis?"}}},
      {"STFT", {{"signal", "frame_step", "window?", "frame_length?"}}},
      {"RoiAlign", {{"X", "rois", "batch_indices"}}},
      {"RNN", {{"X", "W", "R", "B?", "sequence_lens?", "initial_h?"}, false, 2, true}},
      {"GRU", {{"X", "W", "R", "B?", "sequence_lens?", "initial_h?"}, false, 2, true}},
      {"LSTM",
       {{"X", "W", "R", "B?", "sequence_lens?", "initial_h?", "initial_c?", "P?"}, false, 3, true}},
      {"ReverseSequence", {{"input", "sequence_lens"}}},
  };
  static const auto* internal = new Table{
      {"ChannelScale", {{"X", "scale", "addend?"}}},
  };
  static const Operands kOneInput;
  const Table* table = domain == kInternalDomain ? internal : onnx;
  auto it = table->find(op);
  return it != table->end() ? &it->second : &kOneInput;
}

}  // namespace

void CheckOperands(const ir::Node& n, std::vector<std::string>* errors) {
  const Operands& o = *OperandsOf(n.domain, n.op);
  const auto add = [&](const std::string& why) { errors->push_back(n.Describe() + ": " + why); };
  if (!o.variadic && n.inputs.size() > o.inputs.size())
    add(absl::StrCat("has ", n.inputs.size(), " inputs; at most ", o.inputs.size(), " allowed"));
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] >= 0) continue;
    if (!o.variadic && i >= o.inputs.size()) continue;  // already refused by the count
    const std::string_view name = o.variadic ? o.inputs[0] : o.inputs[i];
    if (!o.variadic && name.ends_with('?')) continue;
    add(absl::StrCat("input ", i, " (", std::string(name), ") is required but empty"));
  }
  // Required inputs must be present, not only non-empty. Ops whose inputs were attributes in
  // older opsets (Reshape's shape, Pad's pads, Slice, Squeeze, the Reduce axes...) need input 0
  // here and the rest from their infer (op_util::RequireInputs, by opset).
  static const auto* opset_dependent = new std::unordered_map<std::string_view, bool>{
      {"Reshape", true},   {"Pad", true},   {"Clip", true},    {"Slice", true}, {"Squeeze", true},
      {"Unsqueeze", true}, {"Split", true}, {"Dropout", true}, {"Tile", true},  {"TopK", true}};
  size_t required = 0;
  for (std::string_view name : o.inputs) required += !name.ends_with('?');
  if (o.variadic || opset_dependent->count(n.op) || n.op.rfind("Reduce", 0) == 0)
    required = std::min<size_t>(required, 1);
  if (n.inputs.size() < required)
    add(absl::StrCat("input ", n.inputs.size(), " (", std::string(o.inputs[n.inputs.size()]),
                     ") is required but missing"));
  if (o.max_outputs >= 0 && n.outputs.size() > static_cast<size_t>(o.max_outputs))
    add(absl::StrCat("has ", n.outputs.size(), " outputs; at most ", o.max_outputs, " allowed"));
  if (n.outputs.empty())
    add("has no outputs");
  else if (n.outputs[0] < 0 && !o.output0_optional)
    add("output 0 is required but empty");
}

}  // namespace onnxrun
