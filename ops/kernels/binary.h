// Binary elementwise ops with numpy broadcasting. (ops/kernels/binary.cc)
#pragma once

#include <pthreadpool.h>

#include <cstddef>
#include <cstdint>

#include "ops/kernels/kernels.h"

namespace onnxrun::kernels {

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin };

// Numpy broadcast of two shapes (ranks <= kMaxRank). Writes the output rank and
// shape; returns false if incompatible.
bool BroadcastShape(size_t a_rank, const size_t* a_shape, size_t b_rank, const size_t* b_shape,
                    size_t* out_rank, size_t* out_shape);
// y = a op b with numpy broadcasting; y is contiguous with the broadcast shape.
// y may alias a or b when that operand already has the output shape.
bool BroadcastBinary(BinaryOp op, const float* a, size_t a_rank, const size_t* a_shape,
                     const float* b, size_t b_rank, const size_t* b_shape, float* y);
// int64 version for Add/Sub/Mul/Div (Div truncates toward zero like C++ and
// ONNX Runtime; Max/Min also work). Wrap-around arithmetic. Returns false on
// division by zero, kPow, or incompatible shapes.
bool BroadcastBinaryI64(BinaryOp op, const int64_t* a, size_t a_rank, const size_t* a_shape,
                        const int64_t* b, size_t b_rank, const size_t* b_shape, int64_t* y);

}  // namespace onnxrun::kernels
