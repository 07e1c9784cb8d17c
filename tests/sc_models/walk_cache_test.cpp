#include "sc_models/cache/walk_cache.h"

#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

namespace iosim {
namespace {

constexpr uint64_t kRoot = 0x1000, kPdpt = 0x2000, kPd = 0x3000, kPt = 0x4000;
constexpr uint64_t kVa = 0x0000'7f12'3456'7000ull;  // PML4 254, PDPT 72, PD 418, PT 359
constexpr TranslationTag kTag{7, 3};

// Page tables as a map from entry address to value; absent entries read as zero.
struct FakeTables {
  std::map<uint64_t, uint64_t> mem;
  std::vector<uint64_t> reads;
  std::vector<std::pair<uint64_t, uint64_t>> writes;  // (address, new value)
  uint64_t limit = 0x10'0000;                         // reads at or above fail
  bool refuse_updates = false;

  void set(uint64_t table, uint64_t va, int level, Pte e) {
    mem[entry_address(table, va, level)] = e.raw();
  }
  // PML4 -> PDPT -> PD -> PT -> 4 KiB page at `pa` for kVa.
  void map_4k(uint64_t pa, uint64_t flags) {
    set(kRoot, kVa, 4, Pte::table(kPdpt));
    set(kPdpt, kVa, 3, Pte::table(kPd));
    set(kPd, kVa, 2, Pte::table(kPt));
    set(kPt, kVa, 1, Pte::leaf(pa, PageSize::k4K, flags));
  }
  TableWalk walk(WalkCache& c, const WalkCache::Start& s, const WalkRules& rules) {
    return walk_tables(
        c, kTag, kVa, s, rules,
        [this](uint64_t addr, Pte& e) {
          reads.push_back(addr);
          if (addr >= limit) return false;
          e = Pte(mem[addr]);
          return true;
        },
        [this](uint64_t addr, Pte old, Pte updated) {
          if (refuse_updates || mem[addr] != old.raw()) return false;
          writes.emplace_back(addr, updated.raw());
          mem[addr] = updated.raw();
          return true;
        });
  }
};

constexpr uint64_t kRwUser = Pte::kWritable | Pte::kUser;

WalkRules rules(bool write, bool table_accessed) {
  WalkRules r;
  r.write = write;
  r.set_table_accessed = table_accessed;
  return r;
}

TEST(WalkCache, DisabledLevelsAndFullMissStartAtTheRoot) {
  WalkCache c(2, 0, 8);
  EXPECT_NE(c.cache(4), nullptr);
  EXPECT_EQ(c.cache(3), nullptr);
  ASSERT_NE(c.cache(2), nullptr);
  EXPECT_EQ(c.cache(2)->capacity(), 8u);
  EXPECT_EQ(c.cache(1), nullptr);
  EXPECT_EQ(c.cache(5), nullptr);
  const WalkCache::Start s = c.lookup(kTag, kVa, kRoot);
  EXPECT_EQ(s.level, 4);
  EXPECT_EQ(s.table, kRoot);
  EXPECT_EQ(s.perms, kWalkRootPerms);
  EXPECT_EQ(s.hit_level, 0);
  EXPECT_EQ(s.missed_levels, (1u << 2) | (1u << 4));  // level 3 is disabled, not probed
}

TEST(WalkCache, LowestHitWinsAndCoversTheEntrySpan) {
  WalkCache c(4, 4, 4);
  c.insert(4, kTag, kVa, kPdpt, tperm::kWrite);
  c.insert(2, kTag, kVa, kPt, tperm::kUser);
  WalkCache::Start s = c.lookup(kTag, kVa, kRoot);
  EXPECT_EQ(s.hit_level, 2);
  EXPECT_EQ(s.level, 1);
  EXPECT_EQ(s.table, kPt);
  EXPECT_EQ(s.perms, tperm::kUser);
  EXPECT_EQ(s.missed_levels, 0u);
  // The PDE entry spans 2 MiB: the next 2 MiB region only hits the PML4E entry.
  s = c.lookup(kTag, kVa + (2ull << 20), kRoot);
  EXPECT_EQ(s.hit_level, 4);
  EXPECT_EQ(s.level, 3);
  EXPECT_EQ(s.table, kPdpt);
  EXPECT_EQ(s.missed_levels, (1u << 2) | (1u << 3));
  const TranslationEntry* e = c.cache(2)->peek(kTag, kVa);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->base, kVa & ~((1ull << 21) - 1));
  EXPECT_EQ(e->log2_size, 21);
  EXPECT_EQ(e->pasid, 7u);
  EXPECT_EQ(e->domain, 3u);
  // Another tag misses everywhere.
  EXPECT_EQ(c.lookup({7, 4}, kVa, kRoot).hit_level, 0);
  c.insert(1, kTag, kVa, kPt, 0);  // no cache for PT entries: ignored
  EXPECT_EQ(c.cache(2)->size() + c.cache(3)->size() + c.cache(4)->size(), 2u);
}

TEST(WalkCache, InvalidateByFilterAndRangeOnEveryLevel) {
  WalkCache c(4, 4, 4);
  c.insert(4, kTag, kVa, kPdpt, 0);
  c.insert(3, kTag, kVa, kPd, 0);
  c.insert(2, kTag, kVa, kPt, 0);
  c.insert(2, {8, 3}, kVa, kPt, 0);
  TagFilter pasid8;
  pasid8.pasid = 8;
  EXPECT_EQ(c.invalidate(pasid8), 1u);
  // A range outside the PDE's 2 MiB still overlaps the PDPTE and PML4E spans.
  EXPECT_EQ(c.invalidate(TagFilter{}, kVa + (4ull << 20), kVa + (4ull << 20)), 2u);
  EXPECT_EQ(c.lookup(kTag, kVa, kRoot).hit_level, 2);
  TagFilter other_domain;
  other_domain.domain = 9;
  EXPECT_EQ(c.invalidate(other_domain), 0u);
  EXPECT_EQ(c.invalidate_all(), 1u);
  EXPECT_EQ(c.lookup(kTag, kVa, kRoot).hit_level, 0);
}

TEST(WalkStep, FaultsOnNotPresentAndPml4PageSize) {
  EXPECT_EQ(walk_step(Pte(0), 3, kWalkRootPerms, {}).status, WalkStatus::kNotPresent);
  EXPECT_EQ(walk_step(Pte::table(kPt).with(Pte::kPageSize), 4, kWalkRootPerms, {}).status,
            WalkStatus::kReservedBit);
  // PS in a PDPT entry is a 1 GiB page, not a fault.
  const WalkStep s = walk_step(Pte::leaf(1ull << 30, PageSize::k1G, kRwUser), 3, kWalkRootPerms,
                               rules(false, false));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s.leaf);
  EXPECT_EQ(s.size, PageSize::k1G);
}

TEST(WalkStep, TableEntryGivesNextTableAndAccumulatesPermissions) {
  const Pte ro_table = Pte::table(kPd, Pte::kPresent | Pte::kUser | Pte::kNoExecute);
  WalkStep s = walk_step(ro_table, 3, kWalkRootPerms, rules(true, false));
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s.leaf);
  EXPECT_EQ(s.next_table, kPd);
  EXPECT_EQ(s.perms, tperm::kUser);
  EXPECT_EQ(s.update, ro_table);  // no A bit on tables unless asked
  s = walk_step(ro_table, 3, kWalkRootPerms, rules(true, true));
  EXPECT_EQ(s.update, ro_table.with(Pte::kAccessed));
  const Pte accessed = ro_table.with(Pte::kAccessed);
  EXPECT_EQ(walk_step(accessed, 3, kWalkRootPerms, rules(false, true)).update, accessed);
}

TEST(WalkStep, LeafSetsAccessedAndDirtyOnlyForAWritablePage) {
  const Pte rw = Pte::leaf(0x20'0000, PageSize::k2M, kRwUser);
  WalkStep s = walk_step(rw, 2, kWalkRootPerms, rules(false, false));
  EXPECT_EQ(s.size, PageSize::k2M);
  EXPECT_EQ(s.update, rw.with(Pte::kAccessed));
  EXPECT_EQ(s.perms, kWalkRootPerms);
  s = walk_step(rw, 2, kWalkRootPerms, rules(true, false));
  EXPECT_EQ(s.update, rw.with(Pte::kAccessed | Pte::kDirty));
  // Writable leaf under a read-only table: no Dirty bit.
  s = walk_step(rw, 2, tperm::kUser | tperm::kExec, rules(true, false));
  EXPECT_EQ(s.update, rw.with(Pte::kAccessed));
  EXPECT_EQ(s.perms, tperm::kUser | tperm::kExec);
  const Pte done = rw.with(Pte::kAccessed | Pte::kDirty);
  EXPECT_EQ(walk_step(done, 2, kWalkRootPerms, rules(true, true)).update, done);
}

TEST(WalkTables, FullWalkReadsFourEntriesFillsCachesAndSetsAccessedBits) {
  FakeTables t;
  t.map_4k(0xabc000, kRwUser);
  WalkCache c(4, 4, 4);
  TableWalk w = t.walk(c, c.lookup(kTag, kVa, kRoot), rules(true, true));
  ASSERT_EQ(w.status, WalkStatus::kOk);
  EXPECT_FALSE(w.aborted);
  EXPECT_EQ(w.level, 1);
  EXPECT_EQ(w.size, PageSize::k4K);
  EXPECT_EQ(w.leaf.page_address(PageSize::k4K), 0xabc000u);
  EXPECT_TRUE(w.leaf.dirty());
  EXPECT_EQ(w.perms, kWalkRootPerms);
  EXPECT_EQ(w.reads, 4u);
  EXPECT_EQ(w.writes, 4u);  // A on three tables, A+D on the leaf
  EXPECT_EQ(t.reads,
            (std::vector<uint64_t>{entry_address(kRoot, kVa, 4), entry_address(kPdpt, kVa, 3),
                                   entry_address(kPd, kVa, 2), entry_address(kPt, kVa, 1)}));
  EXPECT_EQ(t.writes.back().first, entry_address(kPt, kVa, 1));
  // Warm caches: the walk starts at the PT and reads one entry, no write left to do.
  const WalkCache::Start s = c.lookup(kTag, kVa, kRoot);
  EXPECT_EQ(s.hit_level, 2);
  t.reads.clear();
  w = t.walk(c, s, rules(true, true));
  EXPECT_EQ(w.status, WalkStatus::kOk);
  EXPECT_EQ(w.reads, 1u);
  EXPECT_EQ(w.writes, 0u);
  EXPECT_EQ(t.reads, (std::vector<uint64_t>{entry_address(kPt, kVa, 1)}));
}

// A walk that ends at a PD (2 MiB) or PDPT (1 GiB) leaf caches only the levels above
// the leaf; a 4 KiB invalidation anywhere inside the leaf's span removes every cached
// level covering that page.
TEST(WalkTables, HugeLeafWalkCachesOnlyTheLevelsAboveIt) {
  for (const PageSize size : {PageSize::k2M, PageSize::k1G}) {
    SCOPED_TRACE(page_shift(size));
    const int leaf_level = size == PageSize::k2M ? 2 : 3;
    FakeTables t;
    t.set(kRoot, kVa, 4, Pte::table(kPdpt));
    if (size == PageSize::k2M) {
      t.set(kPdpt, kVa, 3, Pte::table(kPd));
      t.set(kPd, kVa, 2, Pte::leaf(0x4000'0000, size, kRwUser));
    } else {
      t.set(kPdpt, kVa, 3, Pte::leaf(0x4000'0000, size, kRwUser));
    }
    WalkCache c(4, 4, 4);
    const TableWalk w = t.walk(c, c.lookup(kTag, kVa, kRoot), rules(false, true));
    ASSERT_EQ(w.status, WalkStatus::kOk);
    EXPECT_EQ(w.level, leaf_level);
    EXPECT_EQ(w.size, size);
    EXPECT_EQ(w.reads, static_cast<unsigned>(5 - leaf_level));
    for (int level = 2; level <= 4; ++level) {
      EXPECT_EQ(c.cache(level)->size(), level > leaf_level ? 1u : 0u) << "level " << level;
    }
    // Warm: the walk starts at the leaf's level and reads only the leaf.
    EXPECT_EQ(c.lookup(kTag, kVa, kRoot).level, leaf_level);
    // One 4 KiB page at the far end of the leaf's span removes every covering level.
    const uint64_t span = uint64_t{1} << page_shift(size);
    const uint64_t page = (kVa & ~(span - 1)) + span - 0x1000;
    EXPECT_EQ(c.invalidate(TagFilter{}, page, page + 0xfff), static_cast<size_t>(4 - leaf_level));
    EXPECT_EQ(c.lookup(kTag, kVa, kRoot).hit_level, 0);
  }
}

TEST(WalkTables, FaultLevelBadAddressAndAbortedUpdate) {
  FakeTables t;
  t.set(kRoot, kVa, 4, Pte::table(kPdpt));
  WalkCache c(4, 4, 4);
  TableWalk w = t.walk(c, c.lookup(kTag, kVa, kRoot), rules(false, false));
  EXPECT_EQ(w.status, WalkStatus::kNotPresent);
  EXPECT_EQ(w.level, 3);
  EXPECT_EQ(w.reads, 2u);
  EXPECT_EQ(c.cache(4)->size(), 1u);  // the PML4 entry used was cached
  EXPECT_EQ(c.cache(3)->size(), 0u);  // the faulting one was not

  t.set(kPdpt, kVa, 3, Pte::table(0x20'0000));  // PD outside memory
  w = t.walk(c, c.lookup(kTag, kVa, kRoot), rules(false, false));
  EXPECT_EQ(w.status, WalkStatus::kBadAddress);
  EXPECT_EQ(w.level, 2);
  EXPECT_EQ(w.reads, 2u);  // PDPTE (PML4E from the cache) and the failed PDE read

  FakeTables u;
  u.map_4k(0x5000, kRwUser);
  u.refuse_updates = true;
  WalkCache d(0, 0, 0);
  w = u.walk(d, d.lookup(kTag, kVa, kRoot), rules(true, false));
  EXPECT_TRUE(w.aborted);
  EXPECT_EQ(w.level, 1);
  EXPECT_EQ(w.reads, 4u);
  EXPECT_EQ(w.writes, 1u);
  EXPECT_TRUE(u.writes.empty());
}

}  // namespace
}  // namespace iosim
