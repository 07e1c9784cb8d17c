#include "sc_models/page_table/page_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "sc_models/memory/physical_memory.h"

namespace iosim {
namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kRW = Pte::kWritable;
constexpr uint64_t kUS = Pte::kUser;
constexpr uint64_t kNX = Pte::kNoExecute;

// VA built from its four table indices and a page offset.
constexpr uint64_t make_va(uint64_t i4, uint64_t i3, uint64_t i2, uint64_t i1, uint64_t off = 0) {
  return (i4 << 39) | (i3 << 30) | (i2 << 21) | (i1 << 12) | off;
}

PhysicalMemoryConfig memory_config() {
  PhysicalMemoryConfig c;
  c.size_bytes = 4 * kGiB;
  return c;
}

// 4 GiB of memory and an editor whose allocator hands out consecutive frames from
// 1 MiB, so the addresses of the tables it creates are known in advance.
class PageTableTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kFirstTable = 1 * kMiB;
  PhysicalMemory mem{"mem", memory_config()};
  uint64_t next_frame = kFirstTable;
  PageTableEditor ed{mem, [this] {
                       const uint64_t pa = next_frame;
                       next_frame += 4096;
                       return pa;
                     }};
  uint64_t root = ed.new_root();
  uint64_t table(unsigned n) const { return kFirstTable + 4096 * uint64_t{n}; }  // n-th allocated
};

TEST(Pte, EncodesAndDecodesLeafAndTableEntries) {
  const Pte p = Pte::leaf(0x12345000, PageSize::k4K,
                          kRW | kUS | Pte::kAccessed | Pte::kDirty | Pte::kGlobal | kNX);
  EXPECT_EQ(p.raw(), 0x8000000012345167ull);
  EXPECT_TRUE(p.present() && p.writable() && p.user() && p.accessed() && p.dirty());
  EXPECT_TRUE(p.global() && p.no_execute());
  EXPECT_FALSE(p.page_size_bit() || p.write_through() || p.cache_disable());
  EXPECT_EQ(p.page_address(PageSize::k4K), 0x12345000u);
  EXPECT_EQ(p.flags(), 0x8000000000000167ull);
  EXPECT_TRUE(p.is_leaf_at(kPtLevel));
  EXPECT_FALSE(p.is_leaf_at(kPdLevel));

  const Pte big =
      Pte::leaf(0x80600000, PageSize::k2M, kRW | Pte::kWriteThrough | Pte::kCacheDisable);
  EXPECT_EQ(big.raw(), 0x80600000ull | 0x9b);
  EXPECT_TRUE(big.page_size_bit() && big.is_leaf_at(kPdLevel) && big.is_leaf_at(kPdptLevel));
  EXPECT_FALSE(big.is_leaf_at(kPml4Level));
  EXPECT_EQ(Pte(big.raw() | 0x1000).page_address(PageSize::k2M), 0x80600000u);  // bit 12 = PAT
  EXPECT_EQ(Pte::leaf(0xc0000000, PageSize::k1G, 0).raw(), 0xc0000081ull);
  // PS passed in the flags of a 4 KiB leaf is dropped (bit 7 is PAT at the PT level).
  EXPECT_FALSE(Pte::leaf(0x1000, PageSize::k4K, Pte::kPageSize).page_size_bit());

  EXPECT_THROW(Pte::leaf(0x80601000, PageSize::k2M, 0), std::invalid_argument);
  EXPECT_THROW(Pte::leaf(0x40200000, PageSize::k1G, 0), std::invalid_argument);
  EXPECT_THROW(Pte::leaf(uint64_t{1} << 52, PageSize::k4K, 0), std::invalid_argument);
  EXPECT_THROW(Pte::leaf(0x1000, PageSize::k4K, 0x2000), std::invalid_argument);

  const Pte t = Pte::table(0x7654000);
  EXPECT_EQ(t.raw(), 0x7654007u);
  EXPECT_EQ(t.table_address(), 0x7654000u);
  EXPECT_THROW(Pte::table(0x7654800), std::invalid_argument);
  EXPECT_EQ(t.without(kRW).with(kNX).raw(), 0x8000000007654005ull);
  EXPECT_NE(t, t.with(Pte::kAccessed));
}

TEST(Pte, IndicesCanonicalAddressesAndPageSizes) {
  const uint64_t va = make_va(5, 6, 7, 8, 0x123);
  EXPECT_EQ(pt_index(va, kPml4Level), 5u);
  EXPECT_EQ(pt_index(va, kPdptLevel), 6u);
  EXPECT_EQ(pt_index(va, kPdLevel), 7u);
  EXPECT_EQ(pt_index(va, kPtLevel), 8u);
  EXPECT_EQ(pt_index(0xffffffffffffffffull, kPml4Level), 511u);
  EXPECT_EQ(entry_address(0x3000, va, kPdLevel), 0x3000u + 8 * 7);

  EXPECT_TRUE(is_canonical(0x00007fffffffffffull));
  EXPECT_FALSE(is_canonical(0x0000800000000000ull));
  EXPECT_FALSE(is_canonical(0xffff7fffffffffffull));
  EXPECT_TRUE(is_canonical(0xffff800000000000ull));

  EXPECT_EQ(page_bytes(PageSize::k4K), 4096u);
  EXPECT_EQ(page_bytes(PageSize::k2M), 2 * kMiB);
  EXPECT_EQ(page_bytes(PageSize::k1G), kGiB);
  EXPECT_EQ(page_shift(PageSize::k2M), 21u);
  EXPECT_EQ(leaf_level(PageSize::k1G), kPdptLevel);
  EXPECT_EQ(level_span_shift(kPml4Level), 39u);
  EXPECT_EQ(level_span_shift(kPtLevel), 12u);
  EXPECT_STREQ(page_size_name(PageSize::k2M), "2M");
}

TEST_F(PageTableTest, Map4KPageWalksWithItsOffsetsAndListsEntriesRead) {
  const uint64_t va = make_va(0xfe, 0x48, 0x1a2, 0x167);
  EXPECT_EQ(ed.map(root, va, 0x12345000, PageSize::k4K, kRW | kUS), Pte());
  EXPECT_EQ(ed.tables_allocated(), 4u);  // root, PDPT, PD, PT

  for (uint64_t off : {0ull, 0x800ull, 0xfffull}) {
    const WalkResult r = walk(mem, root, va + off);
    ASSERT_EQ(r.status, WalkStatus::kOk);
    EXPECT_EQ(r.pa, 0x12345000u + off);
    EXPECT_EQ(r.size, PageSize::k4K);
    EXPECT_EQ(r.fault_level, 0);
  }
  const WalkResult r = walk(mem, root, va);
  EXPECT_EQ(r.leaf, Pte::leaf(0x12345000, PageSize::k4K, kRW | kUS));
  ASSERT_EQ(r.num_reads, 4u);
  EXPECT_EQ(r.entry_addrs[0], root + 8 * 0xfe);
  EXPECT_EQ(r.entry_addrs[1], table(1) + 8 * 0x48);
  EXPECT_EQ(r.entry_addrs[2], table(2) + 8 * 0x1a2);
  EXPECT_EQ(r.entry_addrs[3], table(3) + 8 * 0x167);
  EXPECT_EQ(r.leaf_addr, r.entry_addrs[3]);
  for (unsigned i = 0; i < 3; ++i) {  // intermediate entries are P|RW|US tables
    EXPECT_EQ(r.entries[i], Pte::table(table(i + 1))) << i;
  }
  for (int level = kPml4Level; level >= kPtLevel; --level) {
    EXPECT_EQ(find_entry_address(mem, root, va, level), r.entry_addrs[kPml4Level - level]);
  }
  auto slot = ed.lookup(root, va + 0x10);
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(slot->entry_addr, r.leaf_addr);
  EXPECT_EQ(slot->level, kPtLevel);
  EXPECT_EQ(slot->pte, r.leaf);

  // A second page in the same PT allocates nothing new.
  ed.map(root, va + 0x1000, 0x2000, PageSize::k4K, 0);
  EXPECT_EQ(ed.tables_allocated(), 4u);
  EXPECT_EQ(walk(mem, root, va + 0x1abc).pa, 0x2abcu);
}

TEST_F(PageTableTest, Map2MPageWalksThreeLevels) {
  const uint64_t va = make_va(1, 2, 3, 0);
  const uint64_t pa = 2 * kGiB + 6 * kMiB;
  ed.map(root, va, pa, PageSize::k2M, kRW);
  EXPECT_EQ(ed.tables_allocated(), 3u);
  for (uint64_t off : {0ull, 0x12345ull, 0x1fffffull}) {
    const WalkResult r = walk(mem, root, va + off);
    ASSERT_EQ(r.status, WalkStatus::kOk);
    EXPECT_EQ(r.pa, pa + off);
    EXPECT_EQ(r.size, PageSize::k2M);
  }
  const WalkResult r = walk(mem, root, va);
  EXPECT_EQ(r.num_reads, 3u);
  EXPECT_EQ(r.leaf_addr, table(2) + 8 * 3);
  EXPECT_TRUE(r.leaf.page_size_bit());
  EXPECT_EQ(find_entry_address(mem, root, va, kPdLevel), r.leaf_addr);
  EXPECT_FALSE(find_entry_address(mem, root, va, kPtLevel).has_value());
  EXPECT_EQ(ed.lookup(root, va + 0x1000)->size, PageSize::k2M);
}

TEST_F(PageTableTest, Map1GPageInTheUpperHalfWalksTwoLevels) {
  const uint64_t va = 0xffff800000000000ull | make_va(0, 7, 0, 0);
  const uint64_t pa = 3 * kGiB;
  ed.map(root, va, pa, PageSize::k1G, kRW | kUS | Pte::kGlobal);
  EXPECT_EQ(ed.tables_allocated(), 2u);
  for (uint64_t off : {uint64_t{0}, uint64_t{0x2345678}, kGiB - 1}) {
    const WalkResult r = walk(mem, root, va + off);
    ASSERT_EQ(r.status, WalkStatus::kOk);
    EXPECT_EQ(r.pa, pa + off);
    EXPECT_EQ(r.size, PageSize::k1G);
  }
  const WalkResult r = walk(mem, root, va);
  EXPECT_EQ(r.num_reads, 2u);
  EXPECT_EQ(r.entry_addrs[0], root + 8 * 256);
  EXPECT_EQ(r.leaf_addr, table(1) + 8 * 7);
  EXPECT_TRUE(r.leaf.global());
}

TEST_F(PageTableTest, EffectivePermissionsCombineAllLevels) {
  const uint64_t full = make_va(0, 0, 0, 1), ro = make_va(0, 0, 0, 2), kern = make_va(0, 0, 0, 3);
  ed.map(root, full, 0x10000, PageSize::k4K, kRW | kUS);
  ed.map(root, ro, 0x11000, PageSize::k4K, kUS);
  ed.map(root, kern, 0x12000, PageSize::k4K, kRW | kNX);

  WalkResult r = walk(mem, root, full);
  EXPECT_TRUE(r.writable && r.user && !r.no_execute);
  EXPECT_TRUE(r.allows(true, true, true));
  r = walk(mem, root, ro);
  EXPECT_TRUE(!r.writable && r.user && !r.no_execute);
  EXPECT_FALSE(r.allows(true, false, false));
  EXPECT_TRUE(r.allows(false, true, true));
  r = walk(mem, root, kern);
  EXPECT_TRUE(r.writable && !r.user && r.no_execute);
  EXPECT_FALSE(r.allows(false, true, false));
  EXPECT_FALSE(r.allows(false, false, true));
  EXPECT_TRUE(r.allows(true, false, false));

  // RW cleared in a PD entry makes a writable leaf read-only.
  const uint64_t va_pd = make_va(1, 0, 0, 0);
  ed.map(root, va_pd, 0x20000, PageSize::k4K, kRW | kUS);
  const uint64_t pde = *find_entry_address(mem, root, va_pd, kPdLevel);
  mem.write_u64(pde, Pte(mem.read_u64(pde)).without(kRW).raw());
  r = walk(mem, root, va_pd);
  EXPECT_TRUE(r.leaf.writable());
  EXPECT_TRUE(!r.writable && r.user && !r.no_execute);

  // NX in a PML4 entry and US cleared in a PDPT entry apply to a 2M page below.
  const uint64_t va_top = make_va(2, 0, 1, 0);
  ed.map(root, va_top, 0x400000, PageSize::k2M, kRW | kUS);
  const uint64_t pml4e = *find_entry_address(mem, root, va_top, kPml4Level);
  const uint64_t pdpte = *find_entry_address(mem, root, va_top, kPdptLevel);
  mem.write_u64(pml4e, Pte(mem.read_u64(pml4e)).with(kNX).raw());
  mem.write_u64(pdpte, Pte(mem.read_u64(pdpte)).without(kUS).raw());
  r = walk(mem, root, va_top + 0x1234);
  EXPECT_TRUE(r.writable && !r.user && r.no_execute);

  // The editor changes leaf permissions and returns the old entry.
  const Pte old = ed.set_permissions(root, full, false, true, false);
  EXPECT_TRUE(old.writable() && !old.no_execute());
  r = walk(mem, root, full);
  EXPECT_TRUE(!r.writable && r.user && r.no_execute);
  EXPECT_EQ(r.pa, 0x10000u);
}

TEST_F(PageTableTest, NonPresentWalkReportsTheFaultLevel) {
  WalkResult r = walk(mem, root, 0);
  EXPECT_EQ(r.status, WalkStatus::kNotPresent);
  EXPECT_EQ(r.fault_level, kPml4Level);
  ASSERT_EQ(r.num_reads, 1u);
  EXPECT_EQ(r.entry_addrs[0], root);
  EXPECT_FALSE(r.present());
  EXPECT_FALSE(r.allows(false, false, false));

  const uint64_t va = make_va(0, 0, 2, 0);
  ed.map(root, va, 0x5000, PageSize::k4K, kRW);
  struct Case {
    uint64_t va;
    int level;
  };
  for (const Case& c :
       {Case{make_va(0, 0, 2, 1), kPtLevel}, Case{make_va(0, 0, 3, 0), kPdLevel},
        Case{make_va(0, 1, 0, 0), kPdptLevel}, Case{make_va(1, 0, 0, 0), kPml4Level}}) {
    r = walk(mem, root, c.va);
    EXPECT_EQ(r.status, WalkStatus::kNotPresent) << std::hex << c.va;
    EXPECT_EQ(r.fault_level, c.level) << std::hex << c.va;
    EXPECT_EQ(r.num_reads, static_cast<unsigned>(kPml4Level - c.level + 1));
    EXPECT_EQ(r.entries[r.num_reads - 1], Pte());
  }
  EXPECT_EQ(walk(mem, root, make_va(0, 0, 2, 1)).entry_addrs[3], table(3) + 8);

  r = walk(mem, root, 0x0000800000000000ull);
  EXPECT_EQ(r.status, WalkStatus::kNonCanonical);
  EXPECT_EQ(r.num_reads, 0u);
  EXPECT_FALSE(find_entry_address(mem, root, 0x0000800000000000ull, kPtLevel).has_value());

  // PS in a PML4 entry is a reserved-bit fault.
  const uint64_t va5 = make_va(5, 0, 0, 0);
  mem.write_u64(entry_address(root, va5, kPml4Level),
                Pte::table(table(10)).with(Pte::kPageSize).raw());
  r = walk(mem, root, va5);
  EXPECT_EQ(r.status, WalkStatus::kReservedBit);
  EXPECT_EQ(r.fault_level, kPml4Level);

  // A PD entry pointing outside memory ends the walk at the PT level.
  const uint64_t pde = *find_entry_address(mem, root, va, kPdLevel);
  mem.write_u64(pde, Pte::table(8 * kGiB).raw());
  r = walk(mem, root, va);
  EXPECT_EQ(r.status, WalkStatus::kBadAddress);
  EXPECT_EQ(r.fault_level, kPtLevel);
  EXPECT_EQ(r.num_reads, 3u);
  EXPECT_STREQ(walk_status_name(r.status), "bad-address");
}

TEST_F(PageTableTest, EditorLooksUpSetsAndClearsLeaves) {
  const uint64_t va = make_va(3, 4, 5, 6);
  EXPECT_FALSE(ed.lookup(root, va).has_value());
  EXPECT_THROW(ed.set_leaf(root, va, Pte()), std::invalid_argument);
  EXPECT_THROW(ed.clear_leaf(root, va), std::invalid_argument);
  ed.map(root, va, 0x7000, PageSize::k4K, kRW | kUS);
  const Pte first = Pte::leaf(0x7000, PageSize::k4K, kRW | kUS);

  // Remapping the same page returns the entry it replaced.
  EXPECT_EQ(ed.map(root, va, 0x8000, PageSize::k4K, kUS), first);
  const Pte second = Pte::leaf(0x8000, PageSize::k4K, kUS);
  EXPECT_EQ(ed.set_leaf(root, va, first), second);
  EXPECT_EQ(walk(mem, root, va).pa, 0x7000u);

  EXPECT_EQ(ed.set_accessed(root, va, true), first);
  EXPECT_EQ(ed.set_dirty(root, va, true), first.with(Pte::kAccessed));
  EXPECT_EQ(walk(mem, root, va).leaf, first.with(Pte::kAccessed | Pte::kDirty));
  ed.set_accessed(root, va, false);
  EXPECT_EQ(ed.set_dirty(root, va, false), first.with(Pte::kDirty));
  EXPECT_EQ(walk(mem, root, va).leaf, first);
  EXPECT_EQ(ed.update_flags(root, va, Pte::kGlobal, kRW), first);
  EXPECT_EQ(walk(mem, root, va).leaf, first.without(kRW).with(Pte::kGlobal));
  EXPECT_THROW(ed.update_flags(root, va, 0, Pte::kPresent), std::invalid_argument);
  EXPECT_THROW(ed.update_flags(root, va, 0x1000, 0), std::invalid_argument);

  const Pte before_clear = Pte(mem.read_u64(walk(mem, root, va).leaf_addr));
  EXPECT_EQ(ed.clear_leaf(root, va), before_clear);
  const WalkResult r = walk(mem, root, va);
  EXPECT_EQ(r.status, WalkStatus::kNotPresent);
  EXPECT_EQ(r.fault_level, kPtLevel);
  // The slot still exists (the PT is kept), holding a non-present entry.
  auto slot = ed.lookup(root, va);
  ASSERT_TRUE(slot.has_value());
  EXPECT_FALSE(slot->pte.present());
  EXPECT_THROW(ed.set_accessed(root, va, true), std::invalid_argument);
  EXPECT_THROW(ed.set_permissions(root, va, true, true, true), std::invalid_argument);
}

TEST_F(PageTableTest, EditorRejectsBadMappings) {
  EXPECT_THROW(ed.map(root, 0x0000800000000000ull, 0, PageSize::k4K, 0), std::invalid_argument);
  EXPECT_THROW(ed.map(root, 0x1800, 0x2000, PageSize::k4K, 0), std::invalid_argument);
  EXPECT_THROW(ed.map(root, 0x1000, 0x2800, PageSize::k4K, 0), std::invalid_argument);
  EXPECT_THROW(ed.map(root, 0x201000, 0x200000, PageSize::k2M, 0), std::invalid_argument);
  EXPECT_THROW(ed.map(root, kGiB, 0x200000, PageSize::k1G, 0), std::invalid_argument);
  EXPECT_THROW(ed.map(root, 0x1000, 0x2000, PageSize::k4K, 0x10000), std::invalid_argument);
  EXPECT_EQ(ed.tables_allocated(), 1u);  // nothing was created by the rejected calls

  // A 4K page inside an existing 2M page.
  ed.map(root, 0x200000, 0x400000, PageSize::k2M, kRW);
  try {
    ed.map(root, 0x201000, 0x9000, PageSize::k4K, kRW);
    FAIL() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("2M page"), std::string::npos) << e.what();
  }
  // A 2M page over a PD entry that points to a page table.
  ed.map(root, 0x600000, 0x9000, PageSize::k4K, kRW);
  EXPECT_THROW(ed.map(root, 0x600000, 0x800000, PageSize::k2M, kRW), std::invalid_argument);
  // A 1G page over a PDPT entry that points to a page directory.
  EXPECT_THROW(ed.map(root, 0, 0, PageSize::k1G, kRW), std::invalid_argument);
  EXPECT_EQ(walk(mem, root, 0x600000).pa, 0x9000u);  // unchanged
  // Replacing a 2M page with another 2M page is allowed.
  EXPECT_EQ(ed.map(root, 0x200000, 0xa00000, PageSize::k2M, kRW),
            Pte::leaf(0x400000, PageSize::k2M, kRW));

  PhysicalMemory other("other", memory_config());
  PageTableEditor bad_alloc(other, [] { return uint64_t{0x1234}; });
  EXPECT_THROW(bad_alloc.new_root(), std::invalid_argument);
  EXPECT_THROW((PageTableEditor{other, nullptr}), std::invalid_argument);
}

TEST_F(PageTableTest, UnmapClearsEveryLeafInTheRange) {
  for (uint64_t va : {0x200000ull, 0x201000ull, 0x203000ull, 0x600000ull}) {
    ed.map(root, va, va + kGiB, PageSize::k4K, kRW);
  }
  ed.map(root, 0x400000, 0x400000, PageSize::k2M, kRW);
  ed.map(root, 0xffff800000000000ull, 0x1000, PageSize::k4K, kRW);

  const auto gone = ed.unmap(root, 0x200000, 0x400000);  // [2 MiB, 6 MiB)
  ASSERT_EQ(gone.size(), 4u);
  const uint64_t expect_va[] = {0x200000, 0x201000, 0x203000, 0x400000};
  for (unsigned i = 0; i < 4; ++i) {
    EXPECT_EQ(gone[i].va, expect_va[i]);
    EXPECT_TRUE(gone[i].old.present());
    EXPECT_EQ(walk(mem, root, expect_va[i]).status, WalkStatus::kNotPresent);
  }
  EXPECT_EQ(gone[0].old, Pte::leaf(0x200000 + kGiB, PageSize::k4K, kRW));
  EXPECT_EQ(gone[3].size, PageSize::k2M);
  EXPECT_EQ(gone[3].entry_addr, *find_entry_address(mem, root, 0x400000, kPdLevel));
  EXPECT_EQ(walk(mem, root, 0x600000).status, WalkStatus::kOk);
  EXPECT_TRUE(ed.unmap(root, 0x200000, 0x400000).empty());

  // The whole lower half: skips absent tables, finds the one remaining page.
  const auto rest = ed.unmap(root, 0, uint64_t{1} << 47);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].va, 0x600000u);
  EXPECT_EQ(walk(mem, root, 0xffff800000000000ull).status, WalkStatus::kOk);
}

TEST_F(PageTableTest, UnmapOfPartOfALargePageChangesNothing) {
  ed.map(root, 0x7ff000, 0x1000, PageSize::k4K, kRW);
  ed.map(root, 0x800000, 0x800000, PageSize::k2M, kRW);
  EXPECT_THROW(ed.unmap(root, 0x7ff000, 0x2000), std::invalid_argument);
  EXPECT_EQ(walk(mem, root, 0x7ff000).status, WalkStatus::kOk);  // validated first
  EXPECT_THROW(ed.unmap(root, 0x900000, 0x100000), std::invalid_argument);
  EXPECT_EQ(walk(mem, root, 0x800000).status, WalkStatus::kOk);
  EXPECT_THROW(ed.unmap(root, 0x7ff800, 0x1000), std::invalid_argument);           // misaligned
  EXPECT_THROW(ed.unmap(root, 0x7ffffffff000ull, 0x2000), std::invalid_argument);  // hole
  EXPECT_TRUE(ed.unmap(root, 0x7ff000, 0).empty());
  EXPECT_EQ(ed.unmap(root, 0x7ff000, 0x201000).size(), 2u);
}

// The range walk visits the present leaves in address order and reads only the
// entries inside the range of the tables that exist: a non-present upper-level entry
// skips its whole span.
TEST_F(PageTableTest, RangeWalkSkipsEmptyUpperLevels) {
  const uint64_t a = make_va(0, 4, 0, 0), b = make_va(0, 4, 0, 1), c = make_va(2, 0, 0, 7);
  const uint64_t big = make_va(0, 4, 1, 0);
  for (uint64_t va : {a, b, c}) ed.map(root, va, va & (kGiB - 1), PageSize::k4K, kRW);
  ed.map(root, big, 0x400000, PageSize::k2M, kRW);
  const uint64_t upper = 0xffff800000000000ull + make_va(0, 1, 0, 0);
  ed.map(root, upper, 0x1000, PageSize::k4K, kRW);

  std::vector<uint64_t> seen;
  std::vector<PageSize> sizes;
  auto record = [&](uint64_t va, const PageTableEditor::Slot& s) {
    seen.push_back(va);
    sizes.push_back(s.size);
    EXPECT_EQ(s.entry_addr, *find_entry_address(mem, root, va, leaf_level(s.size)));
    EXPECT_TRUE(s.pte.present());
  };
  // The lower half: 256 PML4 entries, then the whole PDPT, PD and PT under each
  // present entry on the way to a, b, big (PML4 0) and c (PML4 2).
  EXPECT_EQ(ed.for_each_present_leaf(root, 0, uint64_t{1} << 47, record),
            256u + 512u * 3 + 512u * 3);
  EXPECT_EQ(seen, (std::vector<uint64_t>{a, b, big, c}));
  EXPECT_EQ(sizes,
            (std::vector<PageSize>{PageSize::k4K, PageSize::k4K, PageSize::k2M, PageSize::k4K}));

  // Two pages of one PT: one entry per level and the two leaves.
  seen.clear();
  EXPECT_EQ(ed.for_each_present_leaf(root, a, a + 2 * 4096, record), 5u);
  EXPECT_EQ(seen, (std::vector<uint64_t>{a, b}));

  // 1 TiB with nothing mapped: the two PML4 entries that cover it.
  seen.clear();
  EXPECT_EQ(ed.for_each_present_leaf(root, make_va(4, 0, 0, 0), make_va(6, 0, 0, 0), record), 2u);
  EXPECT_TRUE(seen.empty());

  // The whole space, both canonical halves: the upper-half page has its canonical VA.
  seen.clear();
  ed.for_each_present_leaf(root, 0, ~uint64_t{0}, record);
  EXPECT_EQ(seen, (std::vector<uint64_t>{a, b, big, c, upper}));
  seen.clear();
  EXPECT_EQ(ed.for_each_present_leaf(root, a, a, record), 0u);  // empty range
  EXPECT_TRUE(seen.empty());
}

// The visitor may clear the leaf it is given; the walk goes on with the next entry.
TEST_F(PageTableTest, RangeWalkVisitorMayChangeItsLeaf) {
  for (uint64_t i = 0; i < 4; ++i) ed.map(root, make_va(1, 2, 3, i), 0x1000, PageSize::k4K, kRW);
  unsigned visited = 0;
  ed.for_each_present_leaf(root, make_va(1, 0, 0, 0), make_va(2, 0, 0, 0),
                           [&](uint64_t va, const PageTableEditor::Slot& s) {
                             mem.write_u64(s.entry_addr, 0);
                             EXPECT_EQ(va, make_va(1, 2, 3, visited));
                             ++visited;
                           });
  EXPECT_EQ(visited, 4u);
  for (uint64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(walk(mem, root, make_va(1, 2, 3, i)).status, WalkStatus::kNotPresent);
  }
}

}  // namespace
}  // namespace iosim
