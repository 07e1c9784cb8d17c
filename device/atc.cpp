#include "device/atc.h"

#include "sc_models/lookahead.h"

#include <algorithm>

#include <cassert>

namespace iosim {

std::optional<Atc::Hit> Atc::lookup(uint32_t pasid, uint64_t va) {
  const TranslationEntry* e = cache_.lookup(TranslationTag{pasid, 0}, va);
  if (!e) return std::nullopt;
  Hit h;
  h.id = e->user;
  h.pa = e->translate(va);
  h.perms = e->perms;
  h.obtained = fill_time_of(e->user);
  return h;
}

Atc::FillTimes::iterator Atc::fill_time_slot(uint64_t id) {
  auto it = std::lower_bound(fill_time_.begin(), fill_time_.end(), id,
                             [](const auto& f, uint64_t i) { return f.first < i; });
  return it != fill_time_.end() && it->first == id ? it : fill_time_.end();
}

sc_core::sc_time Atc::fill_time_of(uint64_t id) {
  if (id == memo_id_) return memo_time_;
  auto it = fill_time_slot(id);
  if (it == fill_time_.end()) return sc_core::SC_ZERO_TIME;
  memo_id_ = id;
  memo_time_ = it->second;
  return memo_time_;
}

// Keeps the fill times of the live ids only (ids of evicted, invalidated or replaced
// entries are not looked up again; dropping them as they go would shift the list
// per fill).
void Atc::prune_fill_times() {
  std::vector<uint64_t> live;
  live.reserve(cache_.size());
  cache_.for_each([&live](const TranslationEntry& e) { live.push_back(e.user); });
  std::sort(live.begin(), live.end());
  // Both lists are sorted by id: one pass over them.
  size_t kept = 0;
  auto l = live.begin();
  for (const auto& f : fill_time_) {
    while (l != live.end() && *l < f.first) ++l;
    if (l != live.end() && *l == f.first) fill_time_[kept++] = f;
  }
  fill_time_.resize(kept);
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
  cache_.insert(e);                      // an evicted entry's fill time goes with the next pruning
  fill_time_.emplace_back(e.user, now);  // the largest id so far
  memo_id_ = e.user;                     // looked up next (the access that missed)
  memo_time_ = now;
  if (fill_time_.size() > 16 * cache_.capacity()) prune_fill_times();
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
  return ids;
}

void Atc::acquire(uint64_t id) {
  for (auto& u : users_) {
    if (u.first == id) {
      ++u.second;
      return;
    }
  }
  users_.emplace_back(id, 1);
}

void Atc::release(uint64_t id, const sc_core::sc_time& after) {
  auto it =
      std::find_if(users_.begin(), users_.end(), [id](const auto& u) { return u.first == id; });
  assert(it != users_.end() && it->second > 0);
  if (--it->second == 0) {
    *it = users_.back();
    users_.pop_back();
    // Only a waiter needs the event (and a needless one would be pending activity
    // that stops a lookahead, sc_models/lookahead.h).
    if (waiting_ > 0) {
      released_.notify(after);
      lookahead::forget();
    }
  }
}

uint32_t Atc::users(uint64_t id) const {
  for (const auto& u : users_) {
    if (u.first == id) return u.second;
  }
  return 0;
}

void Atc::wait_unused(const std::vector<uint64_t>& ids) {
  for (;;) {
    bool busy = false;
    for (uint64_t id : ids) busy = busy || users(id) > 0;
    if (!busy) return;
    ++waiting_;
    sc_core::wait(released_);
    --waiting_;
  }
}

}  // namespace iosim
