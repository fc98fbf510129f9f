// Attribute schema of every ONNX op in ops/op_list.inc: the attributes each op has in opsets 1 to
// 21 (the union over its versions: onnx.defs for 1 to 17, the ONNX changelog for 18 to 21) and
// their types. CheckAttributes applies it to
// a node before any op code runs (prepare.cc, next to CheckOperands), so infer, fold and lowering
// never read an attribute of the wrong type; unknown attributes are refused as ONNX Runtime does.
// Regenerate the table with the snippet in docs/ROBUSTNESS.md when an op is added.
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/op.h"

namespace onnxrun {
namespace {

// "name:type name:type|type ..." with types i, f, s, t, is, fs, ss, sparse.
const std::string_view* SchemaOf(const std::string& op) {
  static const auto* table = new std::unordered_map<std::string_view, std::string_view>{
      {"Conv", "auto_pad:s dilations:is group:i kernel_shape:is pads:is strides:is"},
      {"BatchNormalization",
       "consumed_inputs:is epsilon:f is_test:i momentum:f spatial:i training_mode:i"},
      {"MaxPool",
       "auto_pad:s ceil_mode:i dilations:is kernel_shape:is pads:is storage_order:i strides:is"},
      {"AveragePool",
       "auto_pad:s ceil_mode:i count_include_pad:i dilations:is kernel_shape:is pads:is "
       "strides:is"},
      {"GlobalAveragePool", ""},
      {"GlobalMaxPool", ""},
      {"LRN", "alpha:f beta:f bias:f size:i"},
      {"Relu", "consumed_inputs:is"},
      {"Clip", "consumed_inputs:is max:f min:f"},
      {"Sigmoid", "consumed_inputs:is"},
      {"Tanh", "consumed_inputs:is"},
      {"HardSigmoid", "alpha:f beta:f consumed_inputs:is"},
      {"HardSwish", ""},
      {"LeakyRelu", "alpha:f consumed_inputs:is"},
      {"Elu", "alpha:f consumed_inputs:is"},
      {"Selu", "alpha:f consumed_inputs:is gamma:f"},
      {"Softplus", ""},
      {"Softsign", ""},
      {"Exp", "consumed_inputs:is"},
      {"Log", "consumed_inputs:is"},
      {"Sqrt", "consumed_inputs:is"},
      {"Abs", "consumed_inputs:is"},
      {"Neg", "consumed_inputs:is"},
      {"Reciprocal", "consumed_inputs:is"},
      {"Floor", "consumed_inputs:is"},
      {"Ceil", "consumed_inputs:is"},
      {"Erf", ""},
      {"Add", "axis:i broadcast:i consumed_inputs:is"},
      {"Sub", "axis:i broadcast:i consumed_inputs:is"},
      {"Mul", "axis:i broadcast:i consumed_inputs:is"},
      {"Div", "axis:i broadcast:i consumed_inputs:is"},
      {"Pow", "axis:i broadcast:i"},
      {"Max", "consumed_inputs:is"},
      {"Min", "consumed_inputs:is"},
      {"Sum", "consumed_inputs:is"},
      {"Gemm", "alpha:f beta:f broadcast:i transA:i transB:i"},
      {"MatMul", ""},
      {"Softmax", "axis:i"},
      {"LogSoftmax", "axis:i"},
      {"Concat", "axis:i"},
      {"Reshape", "allowzero:i consumed_inputs:is shape:is"},
      {"Flatten", "axis:i"},
      {"Squeeze", "axes:is"},
      {"Unsqueeze", "axes:is"},
      {"Identity", ""},
      {"Dropout", "consumed_inputs:is is_test:i ratio:f seed:i"},
      {"Shape", "end:i start:i"},
      {"Size", ""},
      {"Constant",
       "sparse_value:sparse value:t value_float:f value_floats:fs value_int:i value_ints:is "
       "value_string:s value_strings:ss"},
      {"ConstantOfShape", "value:t"},
      {"Range", ""},
      {"Cast", "saturate:i to:i|s"},
      {"Gather", "axis:i"},
      {"Slice", "axes:is ends:is starts:is"},
      {"Transpose", "perm:is"},
      {"Split", "axis:i num_outputs:i split:is"},
      {"GroupNormalization", "epsilon:f num_groups:i stash_type:i"},
      {"Gelu", "approximate:s"},
      {"Mish", ""},
      {"CenterCropPad", "axes:is"},
      {"CastLike", "saturate:i"},
      {"PRelu", "consumed_inputs:is"},
      {"Mean", "consumed_inputs:is"},
      {"Pad", "mode:s paddings:is pads:is value:f"},
      {"ReduceSum", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"ReduceMean", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"ReduceMax", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"ReduceMin", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"ReduceProd", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"ReduceSumSquare", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"ReduceL1", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"ReduceL2", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"ReduceLogSum", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"ReduceLogSumExp", "axes:is keepdims:i noop_with_empty_axes:i"},
      {"Expand", ""},
      {"Tile", ""},
      {"Where", ""},
      {"Sin", ""},
      {"Cos", ""},
      {"Tan", ""},
      {"Asin", ""},
      {"Acos", ""},
      {"Atan", ""},
      {"Sinh", ""},
      {"Cosh", ""},
      {"Asinh", ""},
      {"Acosh", ""},
      {"Atanh", ""},
      {"Sign", ""},
      {"Round", ""},
      {"ThresholdedRelu", "alpha:f"},
      {"Shrink", "bias:f lambd:f"},
      {"Celu", "alpha:f"},
      {"DepthToSpace", "blocksize:i mode:s"},
      {"SpaceToDepth", "blocksize:i"},
      {"InstanceNormalization", "consumed_inputs:is epsilon:f"},
      {"Hardmax", "axis:i"},
      {"LayerNormalization", "axis:i epsilon:f stash_type:i"},
      {"Equal", "axis:i broadcast:i"},
      {"Less", "axis:i broadcast:i"},
      {"Greater", "axis:i broadcast:i"},
      {"LessOrEqual", ""},
      {"GreaterOrEqual", ""},
      {"And", "axis:i broadcast:i"},
      {"Or", "axis:i broadcast:i"},
      {"Xor", "axis:i broadcast:i"},
      {"Not", ""},
      {"BitwiseAnd", ""},
      {"BitwiseOr", ""},
      {"BitwiseXor", ""},
      {"BitwiseNot", ""},
      {"BitShift", "direction:s"},
      {"Mod", "fmod:i"},
      {"IsNaN", ""},
      {"IsInf", "detect_negative:i detect_positive:i"},
      {"ArgMax", "axis:i keepdims:i select_last_index:i"},
      {"ArgMin", "axis:i keepdims:i select_last_index:i"},
      {"TopK", "axis:i k:i largest:i sorted:i"},
      {"CumSum", "exclusive:i reverse:i"},
      {"GatherElements", "axis:i"},
      {"ScatterElements", "axis:i reduction:s"},
      {"Scatter", "axis:i"},
      {"GatherND", "batch_dims:i"},
      {"ScatterND", "reduction:s"},
      {"Trilu", "upper:i"},
      {"OneHot", "axis:i"},
      {"Compress", "axis:i"},
      {"EyeLike", "dtype:i k:i"},
      {"Unique", "axis:i sorted:i"},
      {"NonZero", ""},
      {"NonMaxSuppression", "center_point_box:i"},
      {"HannWindow", "output_datatype:i periodic:i"},
      {"MelWeightMatrix", "output_datatype:i"},
      {"HammingWindow", "output_datatype:i periodic:i"},
      {"BlackmanWindow", "output_datatype:i periodic:i"},
      {"Det", ""},
      {"Resize",
       "antialias:i axes:is coordinate_transformation_mode:s cubic_coeff_a:f exclude_outside:i "
       "extrapolation_value:f keep_aspect_ratio_policy:s mode:s nearest_mode:s"},
      {"Upsample", "height_scale:f mode:s scales:fs width_scale:f"},
      {"RNN",
       "activation_alpha:fs activation_beta:fs activations:ss clip:f direction:s hidden_size:i "
       "layout:i"},
      {"GRU",
       "activation_alpha:fs activation_beta:fs activations:ss clip:f direction:s hidden_size:i "
       "layout:i linear_before_reset:i"},
      {"LSTM",
       "activation_alpha:fs activation_beta:fs activations:ss clip:f direction:s hidden_size:i "
       "input_forget:i layout:i"},
      {"Einsum", "equation:s"},
      {"MeanVarianceNormalization", "axes:is"},
      {"GridSample", "align_corners:i mode:s padding_mode:s"},
      {"TfIdfVectorizer",
       "max_gram_length:i max_skip_count:i min_gram_length:i mode:s ngram_counts:is "
       "ngram_indexes:is pool_int64s:is pool_strings:ss weights:fs"},
      {"MaxUnpool", "kernel_shape:is pads:is strides:is"},
      {"DFT", "axis:i inverse:i onesided:i"},
      {"STFT", "onesided:i"},
      {"RoiAlign",
       "coordinate_transformation_mode:s mode:s output_height:i output_width:i sampling_ratio:i "
       "spatial_scale:f"},
      {"ConvTranspose",
       "auto_pad:s dilations:is group:i kernel_shape:is output_padding:is output_shape:is pads:is "
       "strides:is"},
      {"ReverseSequence", "batch_axis:i time_axis:i"},
  };
  auto it = table->find(op);
  return it != table->end() ? &it->second : nullptr;
}

using Kind = ir::Attribute::Kind;

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t at = 0; at <= s.size();) {
    size_t end = s.find(sep, at);
    if (end == std::string_view::npos) end = s.size();
    if (end > at) parts.push_back(s.substr(at, end - at));
    at = end + 1;
  }
  return parts;
}

std::string_view KindCode(Kind k) {
  switch (k) {
    case Kind::kInt:
      return "i";
    case Kind::kFloat:
      return "f";
    case Kind::kString:
      return "s";
    case Kind::kInts:
      return "is";
    case Kind::kFloats:
      return "fs";
    case Kind::kStrings:
      return "ss";
    case Kind::kTensor:
      return "t";
    case Kind::kGraph:
      return "graph";
    default:
      return "other";
  }
}

std::string TypeName(std::string_view code) {
  static const auto* names =
      new std::unordered_map<std::string_view, std::string_view>{{"i", "an int"},
                                                                 {"f", "a float"},
                                                                 {"s", "a string"},
                                                                 {"is", "a list of ints"},
                                                                 {"fs", "a list of floats"},
                                                                 {"ss", "a list of strings"},
                                                                 {"t", "a tensor"},
                                                                 {"sparse", "a sparse tensor"},
                                                                 {"graph", "a graph"},
                                                                 {"other", "of an unknown type"}};
  auto it = names->find(code);
  return std::string(it != names->end() ? it->second : code);
}

// Attributes ONNX defines as 0 or 1.
bool IsFlag(const std::string& name) {
  return name == "keepdims" || name == "ceil_mode" || name == "count_include_pad" ||
         name == "allowzero" || name == "noop_with_empty_axes" || name == "transA" ||
         name == "transB" || name == "select_last_index" || name == "largest" || name == "sorted" ||
         name == "exclusive" || name == "reverse" || name == "upper" || name == "fmod" ||
         name == "periodic" || name == "detect_negative" || name == "detect_positive";
}

// The opset that introduced each op of ops/op_list.inc not in opset 1: onnx.defs' lowest
// since_version (the snippet in docs/ROBUSTNESS.md), the ONNX changelog for opsets 18 to 21.
int IntroducedIn(const std::string& op) {
  static const auto* table = new std::unordered_map<std::string_view, int>{
      {"Sin", 7},
      {"Cos", 7},
      {"Tan", 7},
      {"Asin", 7},
      {"Acos", 7},
      {"Atan", 7},
      {"Expand", 8},
      {"Erf", 9},
      {"ConstantOfShape", 9},
      {"Where", 9},
      {"Sinh", 9},
      {"Cosh", 9},
      {"Asinh", 9},
      {"Acosh", 9},
      {"Atanh", 9},
      {"Sign", 9},
      {"Shrink", 9},
      {"ThresholdedRelu", 10},
      {"NonMaxSuppression", 10},
      {"Range", 11},
      {"Round", 11},
      {"Celu", 12},
      {"HardSwish", 14},
      {"CastLike", 15},
      {"LayerNormalization", 17},
      {"MelWeightMatrix", 17},
      {"CenterCropPad", 18},
      {"GroupNormalization", 18},
      {"Mish", 18},
      {"Gelu", 20},
  };
  auto it = table->find(op);
  return it != table->end() ? it->second : 1;
}

}  // namespace

void CheckOpset(const ir::Node& n, int64_t opset, std::vector<std::string>* errors) {
  if (!n.domain.empty() && n.domain != "ai.onnx") return;
  const int since = IntroducedIn(n.op);
  if (opset < since)
    errors->push_back(absl::StrCat(n.Describe(), ": ", n.op, " first appears in opset ", since,
                                   "; the model imports opset ", opset));
}

void CheckAttributes(const ir::Node& n, std::vector<std::string>* errors) {
  const auto auto_pad = n.attrs.find("auto_pad");
  const auto pads = n.attrs.find("pads");
  if (n.domain == kInternalDomain) return;  // created by the optimizer, not read from a model
  const std::string_view* schema = SchemaOf(n.op);
  if (!schema) return;
  const auto add = [&](const std::string& why) { errors->push_back(n.Describe() + ": " + why); };
  for (const auto& [name, a] : n.attrs) {
    std::string_view types;
    for (std::string_view entry : Split(*schema, ' ')) {
      const size_t colon = entry.find(':');
      if (entry.substr(0, colon) == name) types = entry.substr(colon + 1);
    }
    if (types.empty()) {
      add(absl::StrCat("attribute '", name, "' is not an attribute of ", n.op));
      continue;
    }
    const std::string_view actual = KindCode(a.kind);
    bool ok = false;
    for (std::string_view t : Split(types, '|')) {
      // An empty list is stored as ints whatever its declared element type.
      ok |= t == actual || (a.kind == Kind::kInts && a.ints.empty() && t.size() == 2);
    }
    if (!ok) {
      std::string expected;
      for (std::string_view t : Split(types, '|'))
        absl::StrAppend(&expected, expected.empty() ? "" : " or ", TypeName(t));
      add(absl::StrCat("attribute '", name, "' is ", TypeName(actual), ", expected ", expected));
      continue;
    }
    if (IsFlag(name) && a.kind == Kind::kInt && a.i != 0 && a.i != 1)
      add(absl::StrCat("attribute '", name, "' is ", a.i, "; it must be 0 or 1"));
  }
  // A pooling window made only of padding has no input to average (it gave -inf) or to take the
  // max of; ONNX Runtime refuses such pads too. (Pads that fuse_pad merges in later are exempt.)
  auto kernel = n.attrs.find("kernel_shape");
  if ((n.op == "AveragePool" || n.op == "MaxPool") && kernel != n.attrs.end() &&
      pads != n.attrs.end() && kernel->second.kind == Kind::kInts &&
      pads->second.kind == Kind::kInts &&
      pads->second.ints.size() == 2 * kernel->second.ints.size()) {
    const auto& k = kernel->second.ints;
    const auto& p = pads->second.ints;
    for (size_t i = 0; i < k.size(); ++i)
      if (p[i] >= k[i] || p[i + k.size()] >= k[i]) {
        add(absl::StrCat("pads ", p[i], " and ", p[i + k.size()], " of spatial axis ", i,
                         " must be smaller than the kernel size ", k[i]));
        break;
      }
  }
  // Explicit pads contradict an automatic padding (ONNX: pads only with auto_pad NOTSET).
  if (auto_pad != n.attrs.end() && auto_pad->second.kind == Kind::kString &&
      auto_pad->second.s != "NOTSET" && pads != n.attrs.end() && pads->second.kind == Kind::kInts) {
    bool nonzero = false;
    for (int64_t p : pads->second.ints) nonzero |= p != 0;
    if (nonzero)
      add(absl::StrCat("attribute 'auto_pad' is '", auto_pad->second.s,
                       "' but 'pads' are given explicitly; use one or the other"));
  }
}

}  // namespace onnxrun
