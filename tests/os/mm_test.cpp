// Mm's PTE lookups: Mm::pte (which remembers the page table of the 2 MiB region it
// looked up last) returns what a walk of the tables from the root finds, whatever
// the order of the lookups and of the PTE writes that create tables.
#include "os/mm.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/tlm_bench.h"
#include "sc_models/page_table/page_table.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using test::MmBench;
using test::run_thread;

constexpr uint64_t kPage = Mm::kPageBytes;
constexpr uint64_t k2M = uint64_t{1} << 21;
constexpr uint64_t kVa = uint64_t{1} << 32;

// The leaf as a walk from the root finds it (not present: no table reaches it).
Pte walked(const MmBench& b, const Mm& mm, uint64_t va) {
  const auto ea = find_entry_address(b.mem, mm.root(), va, kPtLevel);
  return ea ? Pte(b.mem.read_u64(*ea)) : Pte();
}

TEST(Mm, PteMatchesAWalkFromTheRoot) {
  MmBench b;
  size_t checked = 0;
  run_thread([&] {
    Mm& mm = b.setup();
    // Three regions: two neighbours and one in another PD; a fourth never touched.
    const std::vector<uint64_t> vas = {kVa,           kVa + kPage,       kVa + k2M - kPage,
                                       kVa + k2M,     kVa + k2M + 8,     kVa + 512 * k2M,
                                       kVa + 3 * k2M, kVa + k2M + kPage, uint64_t{1} << 47};
    auto check_all = [&] {
      for (uint64_t va : vas) {
        for (uint64_t probe : {va, va + kPage, va - kPage}) {
          EXPECT_EQ(mm.pte(probe).raw(), walked(b, mm, probe).raw()) << std::hex << probe;
          ++checked;
        }
      }
    };
    check_all();  // nothing mapped yet
    ASSERT_EQ(b.os.mmap(mm, 0, kVa, 4 * k2M, kProtRead | kProtWrite, false), int64_t(kVa));
    ASSERT_EQ(b.os.mmap(mm, 0, kVa + 512 * k2M, k2M, kProtRead | kProtWrite, false),
              int64_t(kVa + 512 * k2M));
    // Lookups in one region between faults in others, so the remembered table changes.
    for (uint64_t va : {kVa + k2M, kVa, kVa + 512 * k2M, kVa + k2M - kPage, kVa + k2M + kPage}) {
      EXPECT_FALSE(mm.pte(kVa + 3 * k2M).present());
      EXPECT_TRUE(fault_handled(b.os.handle_fault(mm, 0, va, true)));
      EXPECT_TRUE(mm.pte(va).present());
      check_all();
    }
    // A cleared PTE reads as cleared through the remembered table too.
    EXPECT_EQ(b.os.munmap(mm, 0, kVa, kPage), 0);
    EXPECT_FALSE(mm.pte(kVa).present());
    check_all();
  });
  EXPECT_EQ(checked, 7u * 27);
}

}  // namespace
}  // namespace iosim
