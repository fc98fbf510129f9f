// Shared XNNPACK operators (see LowerSharedXnn in ops/xnn_kernel.h).
#include "ops/xnn_kernel.h"

#include <atomic>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "runtime/ir/status.h"

namespace onnxrun {
namespace {

struct SharedXnnOp {
  ~SharedXnnOp() {
    if (op) xnn_delete_operator(op);
  }
  xnn_operator_t op = nullptr;
  mutable std::mutex mu;
  mutable uint64_t owner = 0;  // serial of the kernel the operator is set up for
};

class SharedXnnKernel : public Kernel {
 public:
  SharedXnnKernel(std::shared_ptr<const SharedXnnOp> shared,
                  std::function<xnn_status(xnn_operator_t, pthreadpool_t)> setup, std::string what)
      : shared_(std::move(shared)), setup_(std::move(setup)), what_(std::move(what)) {
    static std::atomic<uint64_t> next{1};
    serial_ = next.fetch_add(1, std::memory_order_relaxed);
  }

  absl::Status Run(pthreadpool_t pool) override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    RETURN_IF_ERROR(BindLocked(pool));
    if (xnn_run_operator(shared_->op, pool) != xnn_status_success)
      return absl::InternalError(absl::StrCat(what_, ": XNNPACK operator failed to run"));
    return absl::OkStatus();
  }

  absl::Status Bind(pthreadpool_t pool) {
    std::lock_guard<std::mutex> lock(shared_->mu);
    return BindLocked(pool);
  }

 private:
  absl::Status BindLocked(pthreadpool_t pool) {
    if (shared_->owner == serial_) return absl::OkStatus();
    if (setup_(shared_->op, pool) != xnn_status_success)
      return absl::InternalError(absl::StrCat(what_, ": XNNPACK setup failed"));
    shared_->owner = serial_;
    return absl::OkStatus();
  }

  std::shared_ptr<const SharedXnnOp> shared_;
  std::function<xnn_status(xnn_operator_t, pthreadpool_t)> setup_;
  std::string what_;
  uint64_t serial_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> LowerSharedXnn(
    const LowerContext& ctx, const std::string& key, std::initializer_list<size_t> from,
    const std::function<xnn_status(xnn_operator_t*)>& create,
    std::function<xnn_status(xnn_operator_t, pthreadpool_t)> setup, const char* what) {
  const ir::Node& n = *ctx.node;
  ASSIGN_OR_RETURN(std::shared_ptr<const SharedXnnOp> shared,
                   ctx.Packed<SharedXnnOp>(
                       key, from, [&]() -> absl::StatusOr<std::shared_ptr<const SharedXnnOp>> {
                         auto op = std::make_shared<SharedXnnOp>();
                         RETURN_IF_ERROR(op_util::Xnn(create(&op->op), n,
                                                      absl::StrCat("create ", what).c_str()));
                         return op;
                       }));
  auto kernel = std::make_unique<SharedXnnKernel>(std::move(shared), std::move(setup),
                                                  absl::StrCat(n.Describe(), ": ", what));
  // Set up once now, so that bad sizes fail the load rather than the first run.
  RETURN_IF_ERROR(kernel->Bind(ctx.pool));
  return std::unique_ptr<Kernel>(std::move(kernel));
}

}  // namespace onnxrun
