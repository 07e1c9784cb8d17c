#include "device/atc.h"

#include "sc_models/timing/local_time.h"

#include <cassert>

namespace iosim {

std::optional<Atc::Hit> Atc::lookup(uint32_t pasid, uint64_t va) {
  const TranslationEntry* e = cache_.lookup(TranslationTag{pasid, 0}, va);
  if (!e) return std::nullopt;
  Hit h;
  h.id = e->user;
  h.pa = e->translate(va);
  h.perms = e->perms;
  h.obtained = fill_time_[cache_.slot_of(*e)];
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
  cache_.insert(e);  // replaces an entry of the same key in place, or takes a slot
  fill_time_[cache_.last_insert_slot()] = now;
  return e.user;
}

std::vector<uint64_t> Atc::invalidate(std::optional<uint32_t> pasid, const AtsRange& range,
                                      bool global_invalidate) {
  TagFilter f;
  f.pasid = pasid;
  f.global = global_invalidate ? GlobalEntries::kRemove : GlobalEntries::kKeep;
  const uint64_t first = range.is_whole_space() ? 0 : range.base;
  const uint64_t last = range.is_whole_space() ? ~0ull : range.last();
  return drop(f, first, last);
}

std::vector<uint64_t> Atc::invalidate_bytes(uint32_t pasid, uint64_t first, uint64_t last) {
  TagFilter f;
  f.pasid = pasid;
  f.global = GlobalEntries::kKeep;
  return drop(f, first, last);
}

std::vector<uint64_t> Atc::drop(const TagFilter& f, uint64_t first, uint64_t last) {
  std::vector<uint64_t> ids;
  cache_.for_each([&](const TranslationEntry& e) {
    if (f.matches(e) && e.overlaps(first, last)) ids.push_back(e.user);
  });
  cache_.invalidate(f, first, last);
  return ids;
}

size_t Atc::user_bucket(uint64_t id) const {
  const size_t mask = users_.size() - 1;
  size_t b = user_home(id, mask);
  while (users_[b].id != 0 && users_[b].id != id) b = (b + 1) & mask;
  return b;
}

void Atc::grow_users() {
  const std::vector<User> old = std::move(users_);
  users_.assign(old.size() * 2, User{});
  for (const User& u : old) {
    if (u.id != 0) users_[user_bucket(u.id)] = u;
  }
}

void Atc::acquire(uint64_t id) {
  assert(id != 0);
  size_t b = user_bucket(id);
  if (users_[b].id == 0) {
    if (2 * (user_count_ + 1) > users_.size()) {  // at most half full
      grow_users();
      b = user_bucket(id);
    }
    users_[b].id = id;
    ++user_count_;
  }
  ++users_[b].count;
}

void Atc::release(uint64_t id, const sc_core::sc_time& after) {
  size_t b = user_bucket(id);
  assert(users_[b].id == id && users_[b].count > 0);
  if (--users_[b].count > 0) return;
  // Backward-shift deletion: move later members of the probe run into the hole
  // when the hole lies between their home bucket and where they are.
  const size_t mask = users_.size() - 1;
  users_[b] = User{};
  --user_count_;
  for (size_t i = (b + 1) & mask; users_[i].id != 0; i = (i + 1) & mask) {
    if (((i - user_home(users_[i].id, mask)) & mask) >= ((i - b) & mask)) {
      users_[b] = users_[i];
      users_[i] = User{};
      b = i;
    }
  }
  // Only a waiter needs the event (a needless one would be pending activity, which
  // stops a LocalTime from keeping its waits ahead).
  if (waiting_ > 0) {
    released_.notify(after);
    timing_.notified();
  }
}

uint32_t Atc::users(uint64_t id) const {
  const User& u = users_[user_bucket(id)];
  return u.id == id ? u.count : 0;
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
