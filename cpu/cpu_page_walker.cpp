#include "cpu/cpu_page_walker.h"

namespace iosim {

namespace {

std::unique_ptr<TranslationCache> make_cache(uint32_t entries) {
  if (entries == 0) return nullptr;
  TranslationCacheConfig c;
  c.sets = 1;
  c.ways = entries;
  return std::make_unique<TranslationCache>(c);
}

}  // namespace

CpuPageWalker::CpuPageWalker(const CpuPageWalkerConfig& cfg, const Clock& clock, Read read,
                             CmpXchg cmpxchg)
    : cfg_(cfg), clock_(clock), read_(std::move(read)), cmpxchg_(std::move(cmpxchg)) {
  caches_[0] = make_cache(cfg.pd_cache_entries);
  caches_[1] = make_cache(cfg.pdpt_cache_entries);
  caches_[2] = make_cache(cfg.pml4_cache_entries);
}

CpuPageWalker::Result CpuPageWalker::walk(uint32_t asid, uint64_t root, uint64_t va, bool write) {
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  Result total;
  for (int attempt = 0; attempt < 8; ++attempt) {
    bool retry = false;
    Result r = walk_once(asid, root, va, write, retry);
    r.reads += total.reads;
    r.writes += total.writes;
    total = r;
    if (!retry) break;
  }
  total.latency = sc_core::sc_time_stamp() - t0;
  return total;
}

CpuPageWalker::Result CpuPageWalker::walk_once(uint32_t asid, uint64_t root, uint64_t va,
                                               bool write, bool& retry) {
  Result r;
  if (!is_canonical(va)) {
    r.status = WalkStatus::kNonCanonical;
    return r;
  }
  sc_core::wait(clock_.cycles(cfg_.pwc_lookup_cycles));
  const TranslationTag tag{kNoPasid, asid};
  int level = kPml4Level;
  uint64_t table = root;
  bool writable = true, user = true;
  for (int l = kPdLevel; l <= kPml4Level; ++l) {  // lowest cached level wins
    if (!cache(l)) continue;
    if (const TranslationEntry* e = cache(l)->lookup(tag, va)) {
      level = l - 1;
      table = e->target;
      writable = e->perms & tperm::kWrite;
      user = e->perms & tperm::kUser;
      break;
    }
  }
  r.start_level = level;
  for (;; --level) {
    const uint64_t addr = entry_address(table, va, level);
    const Pte e(read_(addr));
    ++r.reads;
    if (!e.present() || (level == kPml4Level && e.page_size_bit())) {
      r.status = e.present() ? WalkStatus::kReservedBit : WalkStatus::kNotPresent;
      r.fault_level = level;
      return r;
    }
    writable = writable && e.writable();
    user = user && e.user();
    if (e.is_leaf_at(level)) {
      const PageSize size = level == 1 ? PageSize::k4K : level == 2 ? PageSize::k2M : PageSize::k1G;
      Pte leaf = e.with(Pte::kAccessed | ((write && writable) ? Pte::kDirty : 0));
      if (leaf != e) {
        ++r.writes;
        if (!cmpxchg_(addr, e.raw(), leaf.raw())) {
          retry = true;
          return r;
        }
      }
      r.status = WalkStatus::kOk;
      r.leaf = leaf;
      r.page_pa = leaf.page_address(size) + (va & page_offset_mask(size) & ~uint64_t{0xfff});
      r.writable = writable;
      r.user = user;
      return r;
    }
    if (TranslationCache* c = cache(level)) {
      TranslationEntry ce;
      ce.domain = asid;
      ce.log2_size = static_cast<uint8_t>(level_span_shift(level));
      ce.base = va & ~((uint64_t{1} << ce.log2_size) - 1);
      ce.target = e.table_address();
      ce.perms = (writable ? tperm::kWrite : 0) | (user ? tperm::kUser : 0);
      c->insert(ce);
    }
    table = e.table_address();
  }
}

void CpuPageWalker::invalidate(uint32_t asid) {
  for (auto& c : caches_) {
    if (c) c->invalidate_domain(asid);
  }
}

void CpuPageWalker::invalidate_all() {
  for (auto& c : caches_) {
    if (c) c->invalidate_all();
  }
}

}  // namespace iosim
