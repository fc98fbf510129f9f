// A Kernel wrapping one XNNPACK operator, created and set up at load.
#pragma once

#include <xnnpack.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/op.h"

namespace onnxrun {

class XnnKernel : public Kernel {
 public:
  explicit XnnKernel(xnn_operator_t op = nullptr) : op_(op) {}
  ~XnnKernel() override {
    if (op_) xnn_delete_operator(op_);
  }
  xnn_operator_t* slot() { return &op_; }
  xnn_operator_t op() const { return op_; }
  absl::Status Run(pthreadpool_t pool) override {
    if (xnn_run_operator(op_, pool) != xnn_status_success)
      return absl::InternalError("XNNPACK operator failed to run");
    return absl::OkStatus();
  }

 private:
  xnn_operator_t op_;
};

// A Kernel running a sequence of kernels (e.g. a copy per Concat input). It can also own data its
// steps read (a constant the graph releases after lowering, a reordered copy of one).
class SequenceKernel : public Kernel {
 public:
  void Add(std::unique_ptr<Kernel> k) { steps_.push_back(std::move(k)); }
  void Hold(std::shared_ptr<const void> data) { held_.push_back(std::move(data)); }
  absl::Status Run(pthreadpool_t pool) override {
    for (auto& k : steps_) {
      absl::Status s = k->Run(pool);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<Kernel>> steps_;
  std::vector<std::shared_ptr<const void>> held_;
};

// An XNNPACK operator holding large packed weights, made once per session through its PackCache
// and shared by the kernels of every run context and input shape: XNNPACK keeps the pointers and
// sizes of the last setup inside the operator, so a kernel sets it up again when another kernel
// used it last, and runs on it take turns. (Operators without weights to speak of are simply made
// per context.)
//   create: makes the operator (packing the weights of constant inputs `from`);
//   setup:  binds it to this kernel's pointers and sizes.
// `key` holds every create parameter; `what` names the operator in errors.
// Weights (elements) from which a convolution's XNNPACK operator is shared this way (256 KiB).
inline constexpr int64_t kSharedXnnWeights = 64 * 1024;
absl::StatusOr<std::unique_ptr<Kernel>> LowerSharedXnn(
    const LowerContext& ctx, const std::string& key, std::initializer_list<size_t> from,
    const std::function<xnn_status(xnn_operator_t*)>& create,
    std::function<xnn_status(xnn_operator_t, pthreadpool_t)> setup, const char* what);

// A Kernel running a closure (own kernels); a closure returning an absl::Status fails the run
// with it.
template <typename F>
class FnKernel : public Kernel {
 public:
  explicit FnKernel(F f) : f_(std::move(f)) {}
  absl::Status Run(pthreadpool_t pool) override {
    if constexpr (std::is_same_v<decltype(f_(pool)), absl::Status>) {
      return f_(pool);
    } else {
      f_(pool);
      return absl::OkStatus();
    }
  }

 private:
  F f_;
};
template <typename F>
std::unique_ptr<Kernel> MakeFnKernel(F f) {
  return std::make_unique<FnKernel<F>>(std::move(f));
}

}  // namespace onnxrun
