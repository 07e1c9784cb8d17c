#include "cpu/cpu_page_walker.h"
#include "sc_models/memory/page_size.h"

namespace iosim {

CpuPageWalker::CpuPageWalker(const CpuPageWalkerConfig& cfg, const Clock& clock, Read read,
                             CmpXchg cmpxchg)
    : cfg_(cfg),
      clock_(clock),
      read_(std::move(read)),
      cmpxchg_(std::move(cmpxchg)),
      pwc_(cfg.pml4_cache_entries, cfg.pdpt_cache_entries, cfg.pd_cache_entries) {}

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
  const WalkCache::Start start = pwc_.lookup(tag, va, root);
  r.start_level = start.level;
  WalkRules rules;
  rules.write = write;  // no A bits on non-leaf entries
  const TableWalk w = walk_tables(
      pwc_, tag, va, start, rules,
      [this](uint64_t addr, Pte& e) {
        e = Pte(read_(addr));
        return true;
      },
      [this](uint64_t addr, Pte old, Pte updated) {
        return cmpxchg_(addr, old.raw(), updated.raw());
      });
  r.reads = w.reads;
  r.writes = w.writes;
  if (w.aborted) {  // the entry changed under the locked update
    retry = true;
    return r;
  }
  if (w.status != WalkStatus::kOk) {
    r.status = w.status;
    r.fault_level = w.level;
    return r;
  }
  r.status = WalkStatus::kOk;
  r.leaf = w.leaf;
  r.page_pa = w.leaf.page_address(w.size) + (va & page_offset_mask(w.size) & kPageMask);
  r.size = w.size;
  r.writable = w.perms & tperm::kWrite;
  r.user = w.perms & tperm::kUser;
  return r;
}

void CpuPageWalker::invalidate(uint32_t asid) {
  TagFilter f;
  f.domain = asid;
  pwc_.invalidate(f);
}

void CpuPageWalker::invalidate_all() {
  pwc_.invalidate_all();
}

}  // namespace iosim
