// Transparent huge pages and explicit 1 GiB mappings: the helpers the memory-manager
// paths share (mm/huge_memory.c, mm/khugepaged.c, mm/hugetlb.c).
//
// Where each step lives:
//   fault (do_huge_pmd_anonymous_page)       FaultHandler::do_huge_anonymous
//   COW of a PMD (do_huge_pmd_wp_page)       FaultHandler::do_huge_wp
//   split (__split_huge_pmd)                 Mm::split_huge_pmd (CLEAR over 2 MiB)
//   zap of a whole PMD (zap_huge_pmd)        Mm::zap
//   collapse (collapse_huge_page)            PageOps::collapse
//   migration of a PMD (migrate_pages)       PageOps::migrate
//   MADV_HUGEPAGE, 1 GiB hugetlb mapping     MmOps::madvise_hugepage, MmOps::mmap_hugetlb
// Counters go to os.thp (named as /proc/vmstat's thp_* lines); the group is created by
// the first event, so runs without huge pages have none.
//
// Simplifications: a huge page is 512 (or 262144) contiguous 4 KiB frames, each with
// its own refcount and mapcount (no compound folio), so a split changes no count; no
// huge zero page (transparent_hugepage/use_zero_page = 0: a read fault allocates a huge
// page too); private anonymous VMAs only (shared anonymous memory is shmem, governed by
// shmem_enabled, not modelled); no deferred split queue, no khugepaged thread (the
// `collapse` operation runs one collapse where it is asked).
#pragma once

#include <cstdint>

#include "os/os_config.h"
#include "os/vma.h"

namespace iosim {

class Mm;

namespace thp {

constexpr uint64_t kPmdBytes = uint64_t{1} << 21;        // HPAGE_PMD_SIZE
constexpr uint64_t kPmdFrames = kPmdBytes / kPageBytes;  // HPAGE_PMD_NR
constexpr uint64_t kPudBytes = uint64_t{1} << 30;

// One more event of os.thp.`name` (thp_fault_alloc, thp_split_pmd, ...).
void count(OsEnv& env, const char* name);

// thp_vma_allowable_order for an anonymous fault at `haddr` (2 MiB aligned): the mode
// allows it (always, or madvise with VM_HUGEPAGE), the VMA is private anonymous and
// [haddr, haddr + 2 MiB) lies inside it (thp_vma_suitable_order).
bool vma_allows(const OsConfig& cfg, const Vma& v, uint64_t haddr);

// pmd_none: no page table and no leaf at the PMD entry of haddr.
bool pmd_none(const Mm& mm, uint64_t haddr);

// page_add/remove_rmap and get/put of each 4 KiB frame of a huge page.
void map_frames(PageAllocator& a, uint64_t pa, uint64_t bytes);
void get_frames(PageAllocator& a, uint64_t pa, uint64_t bytes);
void put_frames(PageAllocator& a, uint64_t pa, uint64_t bytes);
// True when every frame of the huge page at pa has one reference (exclusively owned).
bool exclusive(const PageAllocator& a, uint64_t pa, uint64_t bytes);

}  // namespace thp
}  // namespace iosim
