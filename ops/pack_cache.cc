// PackCache and LowerContext::Packed: weights packed once per session, whatever the number of run
// contexts and input shapes lowered over them.
#include "absl/strings/str_cat.h"
#include "ops/op.h"
#include "runtime/ir/status.h"

namespace onnxrun {

absl::StatusOr<std::shared_ptr<const void>> PackCache::GetOrPack(const std::string& key,
                                                                 const Packer& pack) {
  // Held while packing: a second lowering of the same weights waits for the first pack instead of
  // making its own (lowering is rare: once per run context and input shape).
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (std::shared_ptr<const void> live = it->second.lock()) return live;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const void> packed, pack());
  entries_[key] = packed;
  // Forget entries whose packs died with their kernels (evicted shapes), so the map stays small.
  for (auto e = entries_.begin(); e != entries_.end();)
    e = e->second.expired() ? entries_.erase(e) : std::next(e);
  return packed;
}

size_t PackCache::live_entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t live = 0;
  for (const auto& [key, entry] : entries_) live += entry.expired() ? 0 : 1;
  return live;
}

absl::StatusOr<std::shared_ptr<const void>> LowerContext::PackedImpl(
    const std::string& what, std::initializer_list<size_t> from,
    const PackCache::Packer& pack) const {
  std::string key = what;
  bool released = false;
  for (size_t i : from) {
    const ir::Tensor* t = constant(i);
    absl::StrAppend(&key, "|", t ? t->id() : 0);
    released |= t && t->released();
  }
  auto checked_pack = [&]() -> absl::StatusOr<std::shared_ptr<const void>> {
    if (released)
      return absl::InternalError(
          absl::StrCat(node->Describe(),
                       ": its weights were released before this kernel packed "
                       "them (",
                       what, ")"));
    return pack();
  };
  if (!packs) return checked_pack();
  ASSIGN_OR_RETURN(std::shared_ptr<const void> packed, packs->GetOrPack(key, checked_pack));
  if (packed_from)
    for (size_t i : from)
      if (const ir::Tensor* t = constant(i)) packed_from->push_back(t->id());
  return packed;
}

}  // namespace onnxrun
