// Ops computed on any element type: one compute function per op, run both to fold constant inputs
// at load and as the op's run-time kernel, on row-major buffers of float32 elements (the float
// types) or int64 elements (the integer types, bool as 0/1). Rank-4 float32 run-time operands are
// NHWC inside the runtime; the kernel converts them around the compute (ops/row_major.h).
#pragma once

#include <cstdint>
#include <vector>

#include "ops/op.h"

namespace onnxrun {

// One operand as a compute function sees it (data null for an omitted one).
struct TypedBuf {
  ir::DataType dtype = ir::DataType::kFloat32;
  ir::Shape shape;
  void* data = nullptr;
  bool is_float() const { return ir::IsFloatType(dtype); }
  float* f() const { return static_cast<float*>(data); }
  int64_t* i() const { return static_cast<int64_t*>(data); }
  int64_t count() const { return ir::NumElements(shape); }
  // Element k as a double (integers exactly up to 2^53).
  double at(int64_t k) const { return is_float() ? f()[k] : static_cast<double>(i()[k]); }
};

// dst[d] = src[s], for two buffers of the same type.
inline void CopyElement(const TypedBuf& src, int64_t s, const TypedBuf& dst, int64_t d) {
  if (src.is_float())
    dst.f()[d] = src.f()[s];
  else
    dst.i()[d] = src.i()[s];
}

// Computes the node's outputs (shapes and types as its infer set them) from its inputs. Errors
// (an index out of range) name the node.
using TypedCompute = absl::Status (*)(const ir::Node& n, const std::vector<TypedBuf>& in,
                                      const std::vector<TypedBuf>& out);

absl::Status FoldTyped(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* outputs,
                       TypedCompute compute);
absl::StatusOr<std::unique_ptr<Kernel>> LowerTyped(const LowerContext& ctx, TypedCompute compute);
// Caps of a typed op: kCapTyped (its kernel takes every type its infer accepts).
uint32_t TypedCaps(const ir::Graph& g, const ir::Node& n);
int64_t TypedWorkspace(const ir::Graph& g, const ir::Node& n, int threads);

template <TypedCompute F>
absl::Status FoldWith(const ir::Graph& g, const ir::Node& n, std::vector<ir::Tensor>* outputs) {
  return FoldTyped(g, n, outputs, F);
}
template <TypedCompute F>
absl::StatusOr<std::unique_ptr<Kernel>> LowerWith(const LowerContext& ctx) {
  return LowerTyped(ctx, F);
}

// The OpDef of a typed op: its infer and compute.
#define ONNXRUN_TYPED_OP(name, infer, compute) \
  extern const OpDef k##name##Op = {           \
      #name, infer, FoldWith<compute>, LowerWith<compute>, TypedCaps, TypedWorkspace}

// Integer values wrapped to the range of `t` (int8 wraps at 8 bits, bool is 0/1); int64 as is.
int64_t WrapTo(ir::DataType t, int64_t v);

// Numpy broadcasting: for every output element (row-major order), calls f(k, offsets) with the
// element offset of each input shape broadcast to `out`. Shapes must broadcast (infer checked).
class BroadcastIndex {
 public:
  BroadcastIndex(const ir::Shape& out, const std::vector<ir::Shape>& in);
  template <typename F>
  void ForEach(F f) {
    const int64_t count = ir::NumElements(out_);
    const size_t rank = out_.size();
    std::vector<int64_t> idx(rank, 0), off(strides_.size(), 0);
    for (int64_t k = 0; k < count; ++k) {
      f(k, off);
      for (size_t d = rank; d-- > 0;) {
        for (size_t j = 0; j < off.size(); ++j) off[j] += strides_[j][d];
        if (++idx[d] < out_[d]) break;
        for (size_t j = 0; j < off.size(); ++j) off[j] -= strides_[j][d] * out_[d];
        idx[d] = 0;
      }
    }
  }

 private:
  ir::Shape out_;
  std::vector<std::vector<int64_t>> strides_;  // per input, per output axis (0: broadcast)
};

// Row-major strides of `shape`.
std::vector<int64_t> Strides(const ir::Shape& shape);

}  // namespace onnxrun
