#include "device/atc.h"

#include <cassert>

namespace iosim {

std::optional<Atc::Hit> Atc::lookup(uint32_t pasid, uint64_t va) {
  const TranslationEntry* e = cache_.lookup(TranslationTag{pasid, 0}, va);
  if (!e) return std::nullopt;
  Hit h;
  h.id = e->user;
  h.pa = e->translate(va);
  h.perms = e->perms;
  auto it = fill_time_.find(e->user);
  h.obtained = it == fill_time_.end() ? sc_core::SC_ZERO_TIME : it->second;
  return h;
}

uint64_t Atc::fill(uint32_t pasid, uint64_t va, const AtsCompletionEntry& c, sc_core::sc_time now) {
  if (!c.read && !c.write) return 0;
  TranslationEntry e;
  e.pasid = pasid;
  e.log2_size = static_cast<uint8_t>(c.range.log2_size);
  e.base = c.range.is_whole_space() ? 0 : va & ~(c.range.size_bytes() - 1);
  e.global = c.global;
  e.perms = (c.read ? tperm::kRead : 0) | (c.write ? tperm::kWrite : 0) |
            (c.exe ? tperm::kExec : 0) | (c.priv ? tperm::kPriv : 0) |
            (c.untranslated_only ? tperm::kUntranslated : 0) |
            (c.non_snooped ? tperm::kNoSnoop : 0);
  e.target = c.range.base;
  e.user = next_id_++;
  if (auto evicted = cache_.insert(e)) fill_time_.erase(evicted->user);
  fill_time_[e.user] = now;
  return e.user;
}

std::vector<uint64_t> Atc::invalidate(std::optional<uint32_t> pasid, const AtsRange& range,
                                      bool global_invalidate) {
  TagFilter f;
  f.pasid = pasid;
  f.global = global_invalidate ? GlobalEntries::kRemove : GlobalEntries::kKeep;
  const uint64_t first = range.is_whole_space() ? 0 : range.base;
  const uint64_t last = range.is_whole_space() ? ~0ull : range.last();
  std::vector<uint64_t> ids;
  cache_.for_each([&](const TranslationEntry& e) {
    if (f.matches(e) && e.overlaps(first, last)) ids.push_back(e.user);
  });
  cache_.invalidate(f, first, last);
  for (uint64_t id : ids) fill_time_.erase(id);
  return ids;
}

void Atc::release(uint64_t id) {
  auto it = users_.find(id);
  assert(it != users_.end() && it->second > 0);
  if (--it->second == 0) {
    users_.erase(it);
    // Only wait_unused() waits for the event: without a waiter the notification
    // would wake nobody (and cost a delta notification per access).
    if (waiters_ > 0) released_.notify(sc_core::SC_ZERO_TIME);
  }
}

uint32_t Atc::users(uint64_t id) const {
  auto it = users_.find(id);
  return it == users_.end() ? 0 : it->second;
}

void Atc::wait_unused(const std::vector<uint64_t>& ids) {
  for (;;) {
    bool busy = false;
    for (uint64_t id : ids) busy = busy || users(id) > 0;
    if (!busy) return;
    ++waiters_;
    sc_core::wait(released_);
    --waiters_;
  }
}

}  // namespace iosim
