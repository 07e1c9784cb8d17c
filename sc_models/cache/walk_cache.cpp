// Paging-structure caches and the walk-step decision shared by the page walkers.
#include "sc_models/cache/walk_cache.h"

namespace iosim {

WalkCache::WalkCache(uint32_t pml4e_entries, uint32_t pdpte_entries, uint32_t pde_entries) {
  const uint32_t entries[5] = {0, 0, pde_entries, pdpte_entries, pml4e_entries};
  for (int level = kPdLevel; level <= kPml4Level; ++level) {
    if (entries[level] == 0) continue;
    TranslationCacheConfig c;
    c.sets = 1;
    c.ways = entries[level];
    caches_[level] = std::make_unique<TranslationCache>(c);
  }
}

WalkCache::Start WalkCache::lookup(const TranslationTag& tag, uint64_t va, uint64_t root) {
  Start s;
  s.table = root;
  for (int level = kPdLevel; level <= kPml4Level; ++level) {
    if (!caches_[level]) continue;
    if (const TranslationEntry* e = caches_[level]->lookup(tag, va)) {
      s.level = level - 1;
      s.table = e->target;
      s.perms = e->perms;
      s.hit_level = level;
      return s;
    }
    s.missed_levels |= 1u << level;
  }
  return s;
}

void WalkCache::insert(int level, const TranslationTag& tag, uint64_t va, uint64_t next_table,
                       uint32_t perms) {
  if (level < kPdLevel || level > kPml4Level || !caches_[level]) return;
  TranslationEntry e;
  e.pasid = tag.pasid;
  e.domain = tag.domain;
  e.log2_size = static_cast<uint8_t>(level_span_shift(level));
  e.base = va & ~e.offset_mask();
  e.target = next_table;
  e.perms = perms;
  caches_[level]->insert(e);
}

size_t WalkCache::invalidate(const TagFilter& f, uint64_t first, uint64_t last) {
  size_t n = 0;
  for (auto& c : caches_) {
    if (c) n += c->invalidate(f, first, last);
  }
  return n;
}

size_t WalkCache::invalidate_all() {
  return invalidate(TagFilter{});
}

const TranslationCache* WalkCache::cache(int level) const {
  if (level < kPdLevel || level > kPml4Level) return nullptr;
  return caches_[level].get();
}

WalkStep walk_step(Pte entry, int level, uint32_t perms, const WalkRules& rules) {
  WalkStep s;
  if (!entry.present()) {
    s.status = WalkStatus::kNotPresent;
    return s;
  }
  if (level == kPml4Level && entry.page_size_bit()) {
    s.status = WalkStatus::kReservedBit;
    return s;
  }
  if (!entry.writable()) perms &= ~tperm::kWrite;
  if (!entry.user()) perms &= ~tperm::kUser;
  if (entry.no_execute()) perms &= ~tperm::kExec;
  s.perms = perms;
  s.leaf = entry.is_leaf_at(level);
  if (s.leaf) {
    s.size = level == kPtLevel ? PageSize::k4K : level == kPdLevel ? PageSize::k2M : PageSize::k1G;
    const bool dirty = rules.write && (perms & tperm::kWrite);
    s.update = entry.with(Pte::kAccessed | (dirty ? Pte::kDirty : 0));
  } else {
    s.next_table = entry.table_address();
    s.update = rules.set_table_accessed ? entry.with(Pte::kAccessed) : entry;
  }
  return s;
}

}  // namespace iosim
