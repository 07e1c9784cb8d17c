#include "device/atc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <vector>

namespace iosim {
namespace {

AtsCompletionEntry entry(uint64_t pa, uint64_t size, bool r, bool w, bool global = false) {
  AtsCompletionEntry e;
  e.range = AtsRange::of_size(pa, size);
  e.read = r;
  e.write = w;
  e.global = global;
  return e;
}

TEST(Atc, FillFromSBitRangeCoversEveryPageOfIt) {
  Timing timing;
  Atc atc(TranslationCacheConfig{}, timing);
  const sc_core::sc_time t(7, sc_core::SC_NS);
  const uint64_t id = atc.fill(1, 0x40201000, entry(0x80000000, 2u << 20, true, false), t);
  ASSERT_NE(id, 0u);
  auto h = atc.lookup(1, 0x40200000 + 511 * 4096 + 12);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, id);
  EXPECT_EQ(h->pa, 0x80000000u + 511 * 4096 + 12);
  EXPECT_EQ(h->perms, tperm::kRead);
  EXPECT_EQ(h->obtained, t);
  EXPECT_FALSE(atc.lookup(1, 0x40400000));
  EXPECT_FALSE(atc.lookup(2, 0x40200000));                                   // other PASID
  EXPECT_EQ(atc.fill(1, 0x1000, entry(0x2000, 4096, false, false), t), 0u);  // R=W=0
  EXPECT_EQ(atc.cache().size(), 1u);
}

TEST(Atc, InvalidateByPasidRangeOrEveryPasidReturnsDroppedIds) {
  Timing timing;
  Atc atc(TranslationCacheConfig{}, timing);
  const sc_core::sc_time t;
  const uint64_t a = atc.fill(1, 0x1000, entry(0x10000, 4096, true, true), t);
  const uint64_t b = atc.fill(2, 0x1000, entry(0x20000, 4096, true, true), t);
  const uint64_t g = atc.fill(1, 0x3000, entry(0x30000, 4096, true, true, true), t);
  atc.fill(1, 0x5000, entry(0x50000, 4096, true, true), t);
  EXPECT_EQ(atc.invalidate(1u, AtsRange::of_size(0, 0x4000), false),
            (std::vector<uint64_t>{a}));  // global entry kept
  EXPECT_EQ(atc.invalidate(1u, AtsRange::of_size(0, 0x4000), true), (std::vector<uint64_t>{g}));
  EXPECT_EQ(atc.invalidate(std::nullopt, AtsRange::of_size(0, 0x4000), false),
            (std::vector<uint64_t>{b}));
  EXPECT_EQ(atc.cache().size(), 1u);
  EXPECT_EQ(atc.invalidate(std::nullopt, AtsRange::whole_space(), false).size(), 1u);
}

TEST(Atc, UsersAreCountedPerTranslation) {
  Timing timing;
  Atc atc(TranslationCacheConfig{}, timing);
  const uint64_t a = atc.fill(1, 0x1000, entry(0x10000, 4096, true, true), {});
  atc.acquire(a);
  atc.acquire(a);
  EXPECT_EQ(atc.users(a), 2u);
  atc.release(a);
  atc.release(a);
  EXPECT_EQ(atc.users(a), 0u);
}

// A 2 MiB and a 1 GiB completion are ONE entry each in a set-associative ATC (the
// device's geometry), and an Invalidate Request for one 4 KiB page anywhere inside
// either drops the whole entry (its id returned), whatever set the page selects.
TEST(Atc, HugeCompletionIsOneEntryAndAFourKibInvalidateInsideDropsIt) {
  Timing timing;
  TranslationCacheConfig cfg;
  cfg.sets = 16;
  cfg.ways = 4;
  Atc atc(cfg, timing);
  const uint64_t va2m = 0x40200000, va1g = 0x80000000;
  const uint64_t m = atc.fill(1, va2m + 0x3000, entry(0x600000, 2u << 20, true, true), {});
  const uint64_t g = atc.fill(1, va1g + 0x7000, entry(0x40000000, 1u << 30, true, true), {});
  const uint64_t small = atc.fill(1, 0x1000, entry(0x9000, 4096, true, true), {});
  EXPECT_EQ(atc.cache().size(), 3u);
  for (uint64_t off : {uint64_t{0}, uint64_t{0x1ff000}}) {
    auto h = atc.lookup(1, va2m + off + 8);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->id, m);
    EXPECT_EQ(h->pa, 0x600000 + off + 8);
  }
  auto h = atc.lookup(1, va1g + 0x3fe00000);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->id, g);
  const uint64_t page2m = va2m + 0x1ff000, page1g = va1g + 0x12345000;
  ASSERT_NE(atc.cache().set_of(va2m, 21), atc.cache().set_of(page2m, 12));
  EXPECT_EQ(atc.invalidate(1u, AtsRange::with_log2(page2m, 12), false), (std::vector<uint64_t>{m}));
  EXPECT_EQ(atc.invalidate(std::nullopt, AtsRange::with_log2(page1g, 12), false),
            (std::vector<uint64_t>{g}));
  EXPECT_FALSE(atc.lookup(1, va2m));
  EXPECT_FALSE(atc.lookup(1, va1g));
  EXPECT_EQ(atc.lookup(1, 0x1000)->id, small);
  EXPECT_EQ(atc.cache().size(), 1u);
}

}  // namespace
// The fill times (kept per cache slot) give every live entry the time of its own
// fill through evictions, invalidations and in-place replacements (the same range
// filled again under a new id), checked against a map of every fill.
TEST(Atc, LookupGivesEachEntryItsOwnFillTime) {
  TranslationCacheConfig cfg;
  cfg.ways = 4;
  Timing timing;
  Atc atc(cfg, timing);
  std::map<uint64_t, sc_core::sc_time> filled;  // id -> fill time
  uint64_t x = 12345;
  auto next = [&x] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x >> 33;
  };
  for (int step = 0; step < 2000; ++step) {
    const uint64_t page = next() % 8;  // 8 pages, 4 entries: evictions and refills
    if (step % 13 == 0) {
      atc.invalidate(1u, AtsRange::of_size(page << 12, 4096), false);
    } else {
      const sc_core::sc_time t(static_cast<double>(step), sc_core::SC_NS);
      const uint64_t id =
          atc.fill(1, page << 12, entry(0x100000 + (page << 12), 4096, true, true), t);
      filled[id] = t;
    }
    for (uint64_t p = 0; p < 8; ++p) {
      // Twice: a lookup does not disturb what the next one finds.
      for (int again = 0; again < 2; ++again) {
        const auto h = atc.lookup(1, (p << 12) + 8);
        if (!h) continue;
        ASSERT_EQ(filled.count(h->id), 1u);
        EXPECT_EQ(h->obtained, filled[h->id]) << "step " << step << " page " << p;
      }
    }
  }
  size_t live = 0;
  atc.cache().for_each([&live](const TranslationEntry&) { ++live; });
  EXPECT_EQ(live, 4u);
}

// The user counts (an open-addressing table that grows and deletes by backward
// shift) against a map, with hundreds of translations in flight at once, ids far
// apart and ids released long after their entry was evicted.
TEST(Atc, UserCountsMatchAReferenceWithManyTranslationsInFlight) {
  TranslationCacheConfig cfg;
  cfg.ways = 8;
  Timing timing;
  Atc atc(cfg, timing);
  std::vector<uint64_t> ids;
  for (uint64_t p = 0; p < 600; ++p) {
    ids.push_back(atc.fill(1, p << 12, entry(0x100000 + (p << 12), 4096, true, true), {}));
  }
  std::map<uint64_t, uint32_t> ref;
  uint64_t x = 99;
  auto next = [&x] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x >> 33;
  };
  size_t max_live = 0;
  for (int step = 0; step < 20000; ++step) {
    // Mostly acquires in the first half, mostly releases in the second.
    const bool acquire = ref.empty() || next() % 100 < (step < 10000 ? 70u : 30u);
    if (acquire) {
      const uint64_t id = ids[next() % ids.size()];
      atc.acquire(id);
      ++ref[id];
    } else {
      auto it = ref.begin();
      std::advance(it, static_cast<long>(next() % ref.size()));
      atc.release(it->first);
      if (--it->second == 0) ref.erase(it);
    }
    max_live = std::max(max_live, ref.size());
    if (step % 97 == 0) {
      for (uint64_t id : ids) {
        const auto r = ref.find(id);
        ASSERT_EQ(atc.users(id), r == ref.end() ? 0u : r->second) << "step " << step;
      }
    }
  }
  EXPECT_GT(max_live, 400u);  // the table grew well past its first size
  while (!ref.empty()) {
    atc.release(ref.begin()->first);
    if (--ref.begin()->second == 0) ref.erase(ref.begin());
  }
  for (uint64_t id : ids) EXPECT_EQ(atc.users(id), 0u);
}

}  // namespace iosim
