// Shared helpers of the huge-page paths (see the header).
#include "os/thp.h"

#include "os/mm.h"
#include "os/os_context.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/observe/stats.h"

namespace iosim::thp {

void count(OsEnv& env, const char* name) {
  StatGroup& g = env.os->stats().group("os.thp");
  for (const auto& s : g.stats()) {
    if (s->name() == name) {
      static_cast<Counter&>(*s).inc();
      return;
    }
  }
  g.counter(name, "events", "transparent huge page events (/proc/vmstat)").inc();
}

bool vma_allows(const OsConfig& cfg, const Vma& v, uint64_t haddr) {
  if (cfg.thp == ThpMode::kNever || v.shared || v.hugetlb) return false;
  if (cfg.thp == ThpMode::kMadvise && !v.hugepage) return false;
  return haddr >= v.start && haddr + kPmdBytes <= v.end;
}

bool pmd_none(const Mm& mm, uint64_t haddr) {
  const auto ea = find_entry_address(*mm.env().mem, mm.root(), haddr, kPdLevel);
  if (!ea) {
    // No PD table yet (none) unless a PUD leaf maps the range.
    return !mm.present_leaf(haddr);
  }
  return !Pte(mm.env().mem->read_u64(*ea)).present();
}

void map_frames(PageAllocator& a, uint64_t pa, uint64_t bytes) {
  for (uint64_t f = pa; f < pa + bytes; f += kPageBytes) a.map(f);
}
void get_frames(PageAllocator& a, uint64_t pa, uint64_t bytes) {
  for (uint64_t f = pa; f < pa + bytes; f += kPageBytes) a.get(f);
}
void put_frames(PageAllocator& a, uint64_t pa, uint64_t bytes) {
  for (uint64_t f = pa; f < pa + bytes; f += kPageBytes) a.put(f);
}
bool exclusive(const PageAllocator& a, uint64_t pa, uint64_t bytes) {
  for (uint64_t f = pa; f < pa + bytes; f += kPageBytes) {
    if (a.refcount(f) != 1) return false;
  }
  return true;
}

}  // namespace iosim::thp
