#include "sc_models/cache/translation_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

#include "sc_models/config/params.h"

// Counts heap allocations so a test can assert that lookups make none. free() is
// called through a pointer so the compiler does not pair it with new expressions.
namespace {
std::atomic<uint64_t> g_allocations{0};
void (*volatile g_release)(void*) = std::free;
}  // namespace

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  g_release(p);
}
void operator delete(void* p, std::size_t) noexcept {
  g_release(p);
}

namespace iosim {
namespace {

constexpr uint64_t k4K = 1ull << 12;
constexpr uint64_t k2M = 1ull << 21;
constexpr uint64_t k1G = 1ull << 30;

TranslationCacheConfig geometry(uint32_t sets, uint32_t ways, const char* policy = "lru",
                                uint64_t seed = 1) {
  TranslationCacheConfig c;
  c.sets = sets;
  c.ways = ways;
  if (!assign_param(c, "replacement", policy)) throw std::logic_error(policy);
  c.random_seed = seed;
  return c;
}

TranslationEntry entry(uint32_t pasid, uint64_t base, unsigned log2 = 12, uint64_t target = 0,
                       bool global = false, uint32_t domain = 0) {
  TranslationEntry e;
  e.pasid = pasid;
  e.domain = domain;
  e.base = base;
  e.log2_size = static_cast<uint8_t>(log2);
  e.global = global;
  e.perms = tperm::kRead | tperm::kWrite;
  e.target = target;
  return e;
}

TranslationTag tag(uint32_t pasid, uint32_t domain = 0) {
  return {pasid, domain};
}

// ------------------------------------------------------------------ configuration

TEST(TranslationCache, ConfigListsParamsAndRejectsBadGeometry) {
  TranslationCacheConfig c;
  auto ps = list_params(c, "iotlb.");
  ASSERT_EQ(ps.size(), 4u);
  EXPECT_EQ(ps[0].name, "iotlb.sets");
  EXPECT_EQ(ps[0].default_value, "1");
  EXPECT_EQ(ps[1].name, "iotlb.ways");
  EXPECT_EQ(ps[1].default_value, "64");
  EXPECT_EQ(ps[2].choices, "lru|fifo|random");
  EXPECT_EQ(ps[3].name, "iotlb.random_seed");
  EXPECT_THROW(assign_param(c, "replacement", "plru"), ParamError);

  TranslationCache dflt(c);
  EXPECT_EQ(dflt.capacity(), 64u);
  EXPECT_EQ(dflt.sets(), 1u);
  EXPECT_EQ(dflt.policy(), Replacement::kLru);

  EXPECT_THROW(TranslationCache(geometry(3, 4)), ParamError);
  EXPECT_THROW(TranslationCache(geometry(0, 4)), ParamError);
  EXPECT_THROW(TranslationCache(geometry(4, 0)), ParamError);
  EXPECT_THROW(TranslationCache(geometry(1u << 20, 1u << 10)), ParamError);
  EXPECT_THROW(TranslationCache(geometry(4, 4, "mru")), ParamError);
  try {
    TranslationCache bad(geometry(6, 2));
    FAIL() << "no exception";
  } catch (const ParamError& e) {
    EXPECT_NE(std::string(e.what()).find("sets"), std::string::npos);
  }
}

TEST(TranslationCache, RejectsMalformedEntries) {
  TranslationCache c(geometry(4, 4));
  EXPECT_THROW(c.insert(entry(1, 0x1000, 11)), std::invalid_argument);
  EXPECT_THROW(c.insert(entry(1, 0, 65)), std::invalid_argument);
  EXPECT_THROW(c.insert(entry(1, 0x201000, 21)), std::invalid_argument);  // not 2M aligned
  EXPECT_THROW(c.insert(entry(1, 0x1000, 64)), std::invalid_argument);    // whole space at 0
  EXPECT_THROW(c.insert(entry(kPasidMax + 1, 0x1000)), std::invalid_argument);
  EXPECT_THROW(c.invalidate_range(0x2000, 0x1000), std::invalid_argument);
  EXPECT_THROW(c.invalidate(TagFilter{}, 0x2000, 0x1000), std::invalid_argument);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.stats().insertions, 0u);
  EXPECT_FALSE(c.insert(entry(kPasidMax, 0x1000)).has_value());
  EXPECT_FALSE(c.insert(entry(kNoPasid, 0x1000)).has_value());
  EXPECT_EQ(c.size(), 2u);
}

// ------------------------------------------------------------------ invalidation

TEST(TranslationCache, PasidInvalidationRemovesThatPasidFromEverySetAndKeepsOthers) {
  TranslationCache c(geometry(64, 4));
  for (uint32_t pasid : {1u, 2u, 3u}) {
    for (uint64_t i = 0; i < 64; ++i) c.insert(entry(pasid, i * k4K, 12, 0x100000000ull + i));
  }
  // Two 2M entries and one entry in another domain for PASID 2 as well.
  c.insert(entry(2, 5 * k2M, 21));
  c.insert(entry(2, 6 * k2M, 21));
  c.insert(entry(2, 0x7000, 12, 0, false, /*domain=*/9));
  ASSERT_EQ(c.stats().evictions, 0u);
  ASSERT_EQ(c.size(), 64u * 3 + 3);

  std::set<uint32_t> sets_of_pasid2;
  c.for_each([&](const TranslationEntry& e) {
    if (e.pasid == 2) sets_of_pasid2.insert(c.set_of(e.base, e.log2_size));
  });
  ASSERT_EQ(sets_of_pasid2.size(), 64u);  // PASID 2 lives in every set

  EXPECT_EQ(c.invalidate_pasid(2), 67u);
  EXPECT_EQ(c.size(), 128u);
  EXPECT_EQ(c.stats().invalidated, 67u);
  for (uint64_t i = 0; i < 64; ++i) {
    uint64_t va = i * k4K + 0x123;
    EXPECT_EQ(c.peek(tag(2), va), nullptr) << "page " << i;
    const TranslationEntry* e1 = c.peek(tag(1), va);
    const TranslationEntry* e3 = c.peek(tag(3), va);
    ASSERT_NE(e1, nullptr);
    ASSERT_NE(e3, nullptr);
    EXPECT_EQ(e1->translate(va), 0x100000000ull + i + 0x123);
    EXPECT_EQ(e3->pasid, 3u);
  }
  EXPECT_EQ(c.peek(tag(2), 5 * k2M + 0x1000), nullptr);
  EXPECT_EQ(c.peek(tag(2, 9), 0x7000), nullptr);
  size_t left_of_pasid2 = 0;
  c.for_each([&](const TranslationEntry& e) { left_of_pasid2 += e.pasid == 2; });
  EXPECT_EQ(left_of_pasid2, 0u);
  EXPECT_EQ(c.invalidate_pasid(2), 0u);
}

TEST(TranslationCache, GlobalEntriesMatchAnyPasidAndSurvivePasidFlushUnlessAsked) {
  TranslationCache c(geometry(16, 4));
  c.insert(entry(2, 0x7000, 12, 0xA000, /*global=*/true));
  c.insert(entry(2, 0x8000, 12, 0xB000));
  // A global entry matches any PASID (and no PASID) of its own domain only.
  ASSERT_NE(c.peek(tag(5), 0x7123), nullptr);
  EXPECT_EQ(c.peek(tag(5), 0x7123)->translate(0x7123), 0xA123u);
  EXPECT_NE(c.peek(tag(kNoPasid), 0x7123), nullptr);
  EXPECT_EQ(c.peek(tag(5, 1), 0x7123), nullptr);
  EXPECT_EQ(c.peek(tag(5), 0x8000), nullptr);

  // PASID-scoped flushes keep global entries by default (x86 INVPCID types 0/1)...
  EXPECT_EQ(c.invalidate_pasid(2), 1u);
  EXPECT_NE(c.peek(tag(2), 0x7000), nullptr);
  TagFilter in_pasid2;
  in_pasid2.pasid = 2;
  EXPECT_EQ(c.invalidate_va(0x7000, in_pasid2), 0u);
  EXPECT_EQ(c.invalidate_range(0, 0x100000, in_pasid2), 0u);
  // ... and remove them when told; a global entry belongs to every PASID.
  EXPECT_EQ(c.invalidate_pasid(7, GlobalEntries::kRemove), 1u);
  EXPECT_EQ(c.peek(tag(2), 0x7000), nullptr);

  // Invalidations that are not PASID-scoped remove matching global entries.
  c.insert(entry(2, 0x7000, 12, 0xA000, true));
  EXPECT_EQ(c.invalidate_va(0x7fff), 1u);
  c.insert(entry(2, 0x7000, 12, 0xA000, true));
  c.insert(entry(2, 0x7000, 12, 0xA000, true, 3));
  EXPECT_EQ(c.invalidate_domain(3), 1u);
  EXPECT_NE(c.peek(tag(1), 0x7000), nullptr);
  EXPECT_EQ(c.peek(tag(1, 3), 0x7000), nullptr);
}

TEST(TranslationCache, RangeOverlappingOne4KPageOfA2MEntryRemovesIt) {
  TranslationCache c(geometry(16, 4));
  const uint64_t base = 0x40200000;  // 2M aligned
  c.insert(entry(1, base, 21, 0x80000000));
  const uint64_t page = base + 5 * k4K;
  // The 2M entry does not live in the set the 4K page would select: a scan of that
  // one set would miss it.
  ASSERT_NE(c.set_of(base, 21), c.set_of(page, 12));
  EXPECT_EQ(c.invalidate_range(page, page + k4K), 1u);
  EXPECT_EQ(c.peek(tag(1), base), nullptr);
  EXPECT_EQ(c.size(), 0u);

  c.insert(entry(1, base, 21, 0x80000000));
  TagFilter f;
  f.pasid = 1;
  EXPECT_EQ(c.invalidate_va(page + 0x10, f), 1u);
  EXPECT_EQ(c.stats().invalidated, 2u);
}

TEST(TranslationCache, AdjacentRangeKeepsTheEntry) {
  TranslationCache c(geometry(16, 4));
  const uint64_t base = 0x40200000;
  c.insert(entry(1, base, 21, 0x80000000));
  EXPECT_EQ(c.invalidate_range(base - k4K, base), 0u);              // ends just below
  EXPECT_EQ(c.invalidate_range(base + k2M, base + k2M + k4K), 0u);  // starts just above
  EXPECT_EQ(c.invalidate_va(base + k2M), 0u);
  EXPECT_EQ(c.invalidate_va(base - 1), 0u);
  EXPECT_EQ(c.invalidate_range(base, base), 0u);  // empty range
  ASSERT_NE(c.peek(tag(1), base), nullptr);
  EXPECT_EQ(c.stats().invalidated, 0u);
  EXPECT_EQ(c.invalidate_va(base + k2M - 1), 1u);  // last byte overlaps
}

TEST(TranslationCache, DomainAndRequesterTagsAreSeparate) {
  TranslationCache c(geometry(8, 4));
  c.insert(entry(1, 0x5000, 12, 0x1000, false, 1));
  c.insert(entry(1, 0x5000, 12, 0x2000, false, 2));
  c.insert(entry(kNoPasid, 0x5000, 12, 0x3000, false, 2));
  EXPECT_EQ(c.peek(tag(1, 1), 0x5000)->target, 0x1000u);
  EXPECT_EQ(c.peek(tag(1, 2), 0x5000)->target, 0x2000u);
  EXPECT_EQ(c.peek(tag(kNoPasid, 2), 0x5000)->target, 0x3000u);
  EXPECT_EQ(c.peek(tag(kNoPasid, 1), 0x5000), nullptr);

  TagFilter d1;
  d1.domain = 1;
  EXPECT_EQ(c.invalidate_va(0x5abc, d1), 1u);
  EXPECT_EQ(c.peek(tag(1, 1), 0x5000), nullptr);
  EXPECT_NE(c.peek(tag(1, 2), 0x5000), nullptr);
  TagFilter no_pasid;
  no_pasid.pasid = kNoPasid;
  EXPECT_EQ(c.invalidate(no_pasid), 1u);
  EXPECT_EQ(c.invalidate_domain(2), 1u);
  EXPECT_EQ(c.size(), 0u);

  for (uint64_t i = 0; i < 10; ++i) c.insert(entry(static_cast<uint32_t>(i), i * k4K));
  EXPECT_EQ(c.invalidate_all(), 10u);
  EXPECT_EQ(c.stats().invalidated, 13u);
}

// ------------------------------------------------------------------ replacement

std::vector<uint64_t> evicted_bases(TranslationCache& c, const std::vector<uint64_t>& bases) {
  std::vector<uint64_t> out;
  for (uint64_t b : bases) {
    if (auto v = c.insert(entry(1, b))) out.push_back(v->base);
  }
  return out;
}

TEST(TranslationCache, LruEvictsExactlyTheLeastRecentlyUsed) {
  TranslationCache c(geometry(1, 4, "lru"));
  const uint64_t A = 0x1000, B = 0x2000, C = 0x3000, D = 0x4000;
  EXPECT_TRUE(evicted_bases(c, {A, B, C, D}).empty());
  ASSERT_NE(c.lookup(tag(1), A), nullptr);
  ASSERT_NE(c.lookup(tag(1), C), nullptr);
  // Recency now (oldest first): B D A C.
  EXPECT_EQ(evicted_bases(c, {0x5000}), std::vector<uint64_t>{B});
  EXPECT_EQ(evicted_bases(c, {0x6000}), std::vector<uint64_t>{D});
  EXPECT_EQ(evicted_bases(c, {0x7000}), std::vector<uint64_t>{A});
  // Refilling an entry in place makes it most recent without evicting anything.
  EXPECT_FALSE(c.insert(entry(1, C, 12, 0x99000)).has_value());
  EXPECT_EQ(evicted_bases(c, {0x8000}), std::vector<uint64_t>{0x5000});
  EXPECT_EQ(c.peek(tag(1), C)->target, 0x99000u);
  EXPECT_EQ(c.stats().evictions, 4u);

  // Set-associative: only the ways of the selected set compete.
  TranslationCache s(geometry(4, 2, "lru"));
  EXPECT_TRUE(evicted_bases(s, {1 * k4K, 5 * k4K, 2 * k4K, 6 * k4K}).empty());  // sets 1, 2
  ASSERT_NE(s.lookup(tag(1), 1 * k4K), nullptr);
  EXPECT_EQ(evicted_bases(s, {9 * k4K}), std::vector<uint64_t>{5 * k4K});
  EXPECT_EQ(evicted_bases(s, {10 * k4K}), std::vector<uint64_t>{2 * k4K});
}

TEST(TranslationCache, FifoEvictsInFillOrderRegardlessOfHits) {
  TranslationCache c(geometry(1, 4, "fifo"));
  EXPECT_TRUE(evicted_bases(c, {0x1000, 0x2000, 0x3000, 0x4000}).empty());
  ASSERT_NE(c.lookup(tag(1), 0x1000), nullptr);
  ASSERT_NE(c.lookup(tag(1), 0x1000), nullptr);
  EXPECT_EQ(evicted_bases(c, {0x5000}), std::vector<uint64_t>{0x1000});
  ASSERT_NE(c.lookup(tag(1), 0x2000), nullptr);
  EXPECT_EQ(evicted_bases(c, {0x6000, 0x7000}), (std::vector<uint64_t>{0x2000, 0x3000}));
  // A way freed by invalidation is refilled before any valid entry is evicted.
  EXPECT_EQ(c.invalidate_va(0x6000), 1u);
  EXPECT_TRUE(evicted_bases(c, {0x8000}).empty());
  EXPECT_EQ(evicted_bases(c, {0x9000}), std::vector<uint64_t>{0x4000});
  EXPECT_EQ(c.stats().evictions, 4u);
}

std::vector<uint64_t> random_run(uint64_t seed) {
  TranslationCache c(geometry(1, 8, "random", seed));
  std::vector<uint64_t> bases;
  for (uint64_t i = 1; i <= 200; ++i) bases.push_back(i * k4K);
  std::vector<uint64_t> out = evicted_bases(c, bases);
  EXPECT_EQ(c.stats().evictions, 192u);
  EXPECT_EQ(c.size(), 8u);
  return out;
}

TEST(TranslationCache, RandomReplacementIsReproducibleForAFixedSeed) {
  std::vector<uint64_t> a = random_run(42), b = random_run(42), other = random_run(43);
  ASSERT_EQ(a.size(), 192u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
  // Not FIFO (which would evict in fill order), and the invalid ways went first:
  // nothing was evicted before the 9th fill, so the first victim is among pages 1..8.
  EXPECT_FALSE(std::is_sorted(a.begin(), a.end()));
  EXPECT_LE(a.front(), 8 * k4K);
}

// ------------------------------------------------------------------ geometry and sizes

TEST(TranslationCache, MixedPageSizesAndAtsRangesAreAllFound) {
  TranslationCache c(geometry(16, 4));
  for (uint64_t i = 0; i < 8; ++i) c.insert(entry(1, 0x10000 + i * k4K, 12, 0x900000 + i * k4K));
  c.insert(entry(1, 0x40000000, 21, 0x200000000));    // 2M
  c.insert(entry(1, 2 * k1G, 30, 0x400000000));       // 1G
  c.insert(entry(1, 0x1230000, 16, 0x777770000));     // 64K ATS range (S bit)
  c.insert(entry(1, 1ull << 41, 40, 0x10000000000));  // 1T ATS range
  c.insert(entry(1, 1ull << 63, 63, 0));              // upper half of the space
  c.insert(entry(9, 0, 64, 0));                       // whole space, PASID 9
  EXPECT_EQ(c.stats().evictions, 0u);
  EXPECT_EQ(c.size(), 14u);

  struct Probe {
    uint64_t va, pa;
  };
  const Probe hits[] = {
      {0x10000, 0x900000},
      {0x17fff, 0x907fff},
      {0x40000000 + 0x1fffff, 0x200000000 + 0x1fffff},
      {2 * k1G + 0x12345678, 0x400000000 + 0x12345678},
      {0x123abcd, 0x77777abcd},
      {(1ull << 41) + 0xabcdef123, 0x10000000000 + 0xabcdef123},
      {~0ull, ~0ull >> 1},
  };
  for (const Probe& p : hits) {
    const TranslationEntry* e = c.lookup(tag(1), p.va);
    ASSERT_NE(e, nullptr) << std::hex << p.va;
    EXPECT_EQ(e->translate(p.va), p.pa) << std::hex << p.va;
  }
  for (uint64_t va : std::vector<uint64_t>{0x18000, 0x40200000, 3 * k1G, 0x1240000, 1ull << 40}) {
    EXPECT_EQ(c.lookup(tag(1), va), nullptr) << std::hex << va;
  }
  for (uint64_t va : {0ull, 0x40000000ull, 0x123456789abcdefull, ~0ull}) {
    ASSERT_NE(c.lookup(tag(9), va), nullptr);
    EXPECT_EQ(c.lookup(tag(9), va)->translate(va), va);
  }
  EXPECT_EQ(c.stats().hits, 7u + 8u);
  EXPECT_EQ(c.stats().misses, 5u);

  // Overlapping sizes: the smallest matching entry wins.
  c.insert(entry(1, 0x40001000, 12, 0x5000));
  EXPECT_EQ(c.lookup(tag(1), 0x40001abc)->translate(0x40001abc), 0x5abcu);
  EXPECT_EQ(c.lookup(tag(1), 0x40002000)->log2_size, 21);

  // Range invalidation across sizes: [1G, 2G+4K) of PASID 1 hits the 2M entry, the 4K
  // one under it and the 1G entry; the whole-space entry of PASID 9 overlaps it too.
  TagFilter pasid1;
  pasid1.pasid = 1;
  EXPECT_EQ(c.invalidate_range(k1G, 2 * k1G + k4K, pasid1), 3u);
  EXPECT_EQ(c.invalidate_range(k1G, 2 * k1G + k4K), 1u);
  EXPECT_EQ(c.size(), 11u);
}

TEST(TranslationCache, EvictionCounterCountsOnlyDisplacedValidEntries) {
  TranslationCache c(geometry(2, 2));
  for (uint64_t p : {0, 2, 4, 6, 8}) c.insert(entry(1, p * k4K));  // all in set 0
  EXPECT_EQ(c.stats().evictions, 3u);
  EXPECT_EQ(c.stats().insertions, 5u);
  EXPECT_EQ(c.size(), 2u);
  c.insert(entry(1, 8 * k4K, 12, 0x1000));  // same key: replaced in place
  EXPECT_EQ(c.stats().evictions, 3u);
  EXPECT_EQ(c.stats().insertions, 6u);
  EXPECT_EQ(c.size(), 2u);
  c.insert(entry(1, 1 * k4K));  // set 1 has room
  EXPECT_EQ(c.stats().evictions, 3u);
  EXPECT_EQ(c.size(), 3u);
  c.insert(entry(2, 8 * k4K));  // another PASID is another entry
  EXPECT_EQ(c.stats().evictions, 4u);

  EXPECT_NE(c.lookup(tag(1), 1 * k4K), nullptr);
  EXPECT_EQ(c.lookup(tag(1), 0), nullptr);
  EXPECT_EQ(c.stats().hits, 1u);
  EXPECT_EQ(c.stats().misses, 1u);
  c.reset_stats();
  EXPECT_EQ(c.stats().evictions, 0u);
  EXPECT_EQ(c.size(), 3u);
}

TEST(TranslationCache, FullyAssociativeHoldsAddressesThatConflictInASet) {
  // Eight pages 1 MiB apart: the same set in any cache of up to 256 sets.
  std::vector<uint64_t> bases;
  for (uint64_t k = 0; k < 8; ++k) bases.push_back(k << 20);

  TranslationCache full(geometry(1, 8));
  EXPECT_TRUE(evicted_bases(full, bases).empty());
  for (uint64_t b : bases) {
    EXPECT_EQ(full.set_of(b, 12), 0u);
    EXPECT_NE(full.lookup(tag(1), b), nullptr);
  }
  ASSERT_NE(full.lookup(tag(1), bases[0]), nullptr);  // bases[1] is now the LRU
  EXPECT_EQ(evicted_bases(full, {9ull << 20}), std::vector<uint64_t>{bases[1]});

  TranslationCache direct(geometry(8, 1));
  EXPECT_EQ(evicted_bases(direct, bases).size(), 7u);
  EXPECT_EQ(direct.size(), 1u);
  EXPECT_NE(direct.peek(tag(1), bases[7]), nullptr);
}

// ------------------------------------------------------------------ lookup side effects

TEST(TranslationCache, PeekChangesNeitherCountersNorRecency) {
  TranslationCache c(geometry(1, 2));
  c.insert(entry(1, 0x1000));
  c.insert(entry(1, 0x2000));
  EXPECT_NE(c.peek(tag(1), 0x1000), nullptr);
  EXPECT_EQ(c.peek(tag(1), 0x3000), nullptr);
  EXPECT_EQ(c.stats().hits, 0u);
  EXPECT_EQ(c.stats().misses, 0u);
  EXPECT_EQ(evicted_bases(c, {0x3000}), std::vector<uint64_t>{0x1000});
}

TEST(TranslationCache, LookupsDoNotAllocate) {
  TranslationCache c(geometry(256, 8));
  for (uint64_t i = 0; i < 2048; ++i) c.insert(entry(1, i * k4K));
  c.insert(entry(1, 1ull << 33, 21));
  c.insert(entry(1, 1ull << 34, 30, 0, true));
  uint64_t before = g_allocations.load();
  uint64_t found = 0;
  for (uint64_t i = 0; i < 10000; ++i)
    found += c.lookup(tag(1), (i * 7919 % 4096) * k4K) != nullptr;
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_EQ(found, c.stats().hits);
  EXPECT_GT(c.stats().hits, 0u);
  EXPECT_GT(c.stats().misses, 0u);
}

// ------------------------------------------------------------------ invalidation by index probes

// Every valid entry in slot order (slot positions included: two caches that agree
// here also pick the same slots for later fills).
std::vector<std::pair<size_t, TranslationEntry>> slots_of(const TranslationCache& c) {
  std::vector<std::pair<size_t, TranslationEntry>> v;
  size_t i = 0;
  c.for_each([&](const TranslationEntry& e) { v.emplace_back(i++, e); });
  return v;
}

bool same_entries(const TranslationCache& a, const TranslationCache& b) {
  std::vector<std::pair<size_t, TranslationEntry>> x = slots_of(a), y = slots_of(b);
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    const TranslationEntry &e = x[i].second, &f = y[i].second;
    if (e.pasid != f.pasid || e.domain != f.domain || e.base != f.base ||
        e.log2_size != f.log2_size || e.global != f.global || e.user != f.user) {
      return false;
    }
  }
  return true;
}

TEST(TranslationCache, PageInvalidationDropsTheEntriesOfItsPasidDomainAndGlobals) {
  TranslationCache c(geometry(1, 512));
  const uint64_t va = (5ull << 30) + 3 * k2M + 7 * k4K;
  c.insert(entry(1, va, 12, 0, false, 1));               // the page, PASID 1, domain 1
  c.insert(entry(1, va & ~(k2M - 1), 21, 0, false, 1));  // 2M page around it
  c.insert(entry(1, va & ~(k1G - 1), 30, 0, true, 1));   // global 1G page around it
  c.insert(entry(2, va, 12, 0, false, 1));               // other PASID
  c.insert(entry(1, va, 12, 0, false, 2));               // other domain
  c.insert(entry(1, va + k4K, 12, 0, false, 1));         // next page
  c.insert(entry(1, va & ~(k1G - 1), 30, 0, true, 2));   // global, other domain
  TagFilter f;
  f.domain = 1;
  f.pasid = 1;
  f.global = GlobalEntries::kKeep;
  EXPECT_EQ(c.invalidate_va(va, f), 2u);  // the 4K and 2M pages; the global entry stays
  EXPECT_EQ(c.peek(tag(3, 1), va)->log2_size, 30);
  f.global = GlobalEntries::kRemove;
  EXPECT_EQ(c.invalidate_va(va, f), 1u);  // now the global 1G page
  EXPECT_EQ(c.peek(tag(1, 1), va), nullptr);
  EXPECT_NE(c.peek(tag(2, 1), va), nullptr);
  EXPECT_NE(c.peek(tag(1, 2), va), nullptr);
  EXPECT_NE(c.peek(tag(1, 1), va + k4K), nullptr);
  EXPECT_EQ(c.size(), 4u);
  EXPECT_EQ(c.stats().invalidated, 3u);
}

// invalidate() probes the index for small ranges of a named domain (and PASID); it
// must remove exactly what invalidate_by_scan() removes and leave the same slots and
// replacement state, for every policy and geometry.
TEST(TranslationCache, ProbedInvalidationsMatchTheScan) {
  for (const char* policy : {"lru", "fifo", "random"}) {
    for (auto [sets, ways] : {std::pair<uint32_t, uint32_t>{1, 512}, {64, 8}, {8, 32}}) {
      TranslationCache probed(geometry(sets, ways, policy, 99));
      TranslationCache scanned(geometry(sets, ways, policy, 99));
      std::mt19937_64 rng(sets * 31 + ways);
      auto pick = [&](uint64_t n) { return rng() % n; };
      const unsigned sizes[] = {12, 12, 12, 12, 12, 21, 21, 30};
      size_t removed = 0;
      for (int step = 0; step < 20000; ++step) {
        const uint64_t op = pick(100);
        const uint32_t pasid = static_cast<uint32_t>(pick(4));  // 0..2, 3 = kNoPasid
        const uint32_t domain = static_cast<uint32_t>(pick(3));
        const uint64_t va = pick(2048) * k4K + (pick(4) << 30);
        if (op < 60) {
          const unsigned log2 = sizes[pick(8)];
          TranslationEntry e = entry(pasid == 3 ? kNoPasid : pasid, va & ~((1ull << log2) - 1),
                                     log2, 0, pick(8) == 0, domain);
          e.user = rng();
          const auto a = probed.insert(e);
          const auto b = scanned.insert(e);
          ASSERT_EQ(a.has_value(), b.has_value()) << policy << " step " << step;
          if (a) {
            ASSERT_EQ(a->user, b->user) << policy << " step " << step;
          }
        } else if (op < 75) {
          probed.lookup(tag(pasid, domain), va);
          scanned.lookup(tag(pasid, domain), va);
        } else {
          TagFilter f;
          f.domain = domain;
          if (pick(4)) f.pasid = pasid == 3 ? kNoPasid : pasid;
          f.global = pick(2) ? GlobalEntries::kKeep : GlobalEntries::kRemove;
          // One page, a few pages, a 2M or 1G block, or the whole space.
          const uint64_t span = op < 85 ? k4K : op < 93 ? pick(8) * k4K + k4K : op < 98 ? k2M : k1G;
          const uint64_t first = va & ~(span - 1);
          const uint64_t last = op == 99 ? ~0ull : first + span - 1;
          const size_t n = probed.invalidate(f, first, last);
          ASSERT_EQ(n, scanned.invalidate_by_scan(f, first, last)) << policy << " step " << step;
          removed += n;
        }
        ASSERT_TRUE(same_entries(probed, scanned)) << policy << " step " << step;
      }
      EXPECT_GT(removed, 500u) << policy;
      EXPECT_EQ(probed.stats().invalidated, scanned.stats().invalidated);
      EXPECT_EQ(probed.stats().evictions, scanned.stats().evictions);
    }
  }
}

// ------------------------------------------------------------------ reference model

// A plain model of the same semantics: per-set vectors in recency order, lookups by
// scanning every entry. The cache under test must agree with it after every step.
class ReferenceLru {
 public:
  ReferenceLru(uint32_t sets, uint32_t ways) : sets_(sets), ways_(ways), lists_(sets) {}

  const TranslationEntry* lookup(const TranslationTag& t, uint64_t va) {
    const TranslationEntry* best = nullptr;
    size_t bs = 0, bi = 0;
    for (size_t s = 0; s < lists_.size(); ++s) {
      for (size_t i = 0; i < lists_[s].size(); ++i) {
        const TranslationEntry& e = lists_[s][i];
        if (e.domain != t.domain || !(e.global || e.pasid == t.pasid) || !e.contains(va)) continue;
        if (!best ||
            std::make_pair(e.log2_size, e.global) < std::make_pair(best->log2_size, best->global)) {
          best = &e;
          bs = s;
          bi = i;
        }
      }
    }
    if (!best) return nullptr;
    TranslationEntry e = *best;
    lists_[bs].erase(lists_[bs].begin() + static_cast<long>(bi));
    lists_[bs].insert(lists_[bs].begin(), e);
    return &lists_[bs].front();
  }

  std::optional<TranslationEntry> insert(const TranslationEntry& n) {
    auto& l = lists_[set_of(n)];
    for (size_t i = 0; i < l.size(); ++i) {
      const TranslationEntry& e = l[i];
      if (e.base == n.base && e.log2_size == n.log2_size && e.domain == n.domain &&
          e.global == n.global && (n.global || e.pasid == n.pasid)) {
        l.erase(l.begin() + static_cast<long>(i));
        l.insert(l.begin(), n);
        return std::nullopt;
      }
    }
    std::optional<TranslationEntry> victim;
    if (l.size() == ways_) {
      victim = l.back();
      l.pop_back();
    }
    l.insert(l.begin(), n);
    return victim;
  }

  size_t invalidate(const TagFilter& f, uint64_t first, uint64_t last) {
    size_t n = 0;
    for (auto& l : lists_) {
      auto it = std::remove_if(l.begin(), l.end(), [&](const TranslationEntry& e) {
        return e.overlaps(first, last) && f.matches(e);
      });
      n += static_cast<size_t>(l.end() - it);
      l.erase(it, l.end());
    }
    return n;
  }

  size_t size() const {
    size_t n = 0;
    for (auto& l : lists_) n += l.size();
    return n;
  }

 private:
  uint32_t set_of(const TranslationEntry& e) const {
    return e.log2_size >= 64 ? 0 : static_cast<uint32_t>(e.base >> e.log2_size) & (sets_ - 1);
  }
  uint32_t sets_, ways_;
  std::vector<std::vector<TranslationEntry>> lists_;
};

TEST(TranslationCache, AgreesWithAReferenceModelOverRandomOperations) {
  const uint32_t kSets = 8, kWays = 4;
  TranslationCache c(geometry(kSets, kWays, "lru"));
  ReferenceLru ref(kSets, kWays);
  std::mt19937_64 rng(12345);
  auto pick = [&](uint64_t n) { return rng() % n; };
  const unsigned sizes[] = {12, 12, 12, 12, 13, 16, 21, 21, 30};
  auto random_entry = [&] {
    unsigned log2 = sizes[pick(9)];
    uint64_t va = pick(1024) * k4K + (pick(4) << 30);
    TranslationEntry e = entry(static_cast<uint32_t>(1 + pick(3)), va & ~((1ull << log2) - 1), log2,
                               pick(1u << 20) * k4K, pick(10) == 0, static_cast<uint32_t>(pick(2)));
    e.user = rng();
    return e;
  };
  size_t hits = 0;
  for (int step = 0; step < 30000; ++step) {
    uint64_t op = pick(100);
    if (op < 50) {
      TranslationTag t = tag(static_cast<uint32_t>(1 + pick(3)), static_cast<uint32_t>(pick(2)));
      uint64_t va = pick(1024) * k4K + pick(k4K) + (pick(4) << 30);
      const TranslationEntry* got = c.lookup(t, va);
      const TranslationEntry* want = ref.lookup(t, va);
      ASSERT_EQ(got == nullptr, want == nullptr) << "step " << step;
      if (got) {
        ++hits;
        ASSERT_EQ(got->base, want->base) << "step " << step;
        ASSERT_EQ(got->log2_size, want->log2_size) << "step " << step;
        ASSERT_EQ(got->user, want->user) << "step " << step;
      }
    } else if (op < 88) {
      TranslationEntry e = random_entry();
      auto got = c.insert(e);
      auto want = ref.insert(e);
      ASSERT_EQ(got.has_value(), want.has_value()) << "step " << step;
      if (got) {
        ASSERT_EQ(got->user, want->user) << "step " << step;
      }
    } else {
      TagFilter f;
      if (op < 96) {
        if (pick(2)) f.pasid = static_cast<uint32_t>(1 + pick(3));
        if (pick(2)) f.domain = static_cast<uint32_t>(pick(2));
        f.global = pick(2) ? GlobalEntries::kKeep : GlobalEntries::kRemove;
      }
      uint64_t first = pick(1024) * k4K + (pick(4) << 30);
      uint64_t last = op < 98 ? first + pick(64) * k4K + k4K - 1 : ~0ull;
      ASSERT_EQ(c.invalidate(f, first, last), ref.invalidate(f, first, last)) << "step " << step;
    }
    ASSERT_EQ(c.size(), ref.size()) << "step " << step;
  }
  EXPECT_GT(hits, 1000u);
  EXPECT_EQ(c.stats().hits, hits);
}

}  // namespace
}  // namespace iosim
