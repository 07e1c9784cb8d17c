// CheckerHistory: PTE versions per page (bounded, large pages), frames, CPU writes
// to the current page, invalidation lookup by PASID and mm.
#include "sc_models/check/checker_history.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace iosim {
namespace {

sc_core::sc_time at(double ns) {
  return sc_core::sc_time(ns, sc_core::SC_NS);
}
uint64_t pte(uint64_t frame, bool writable) {
  return frame | 0x5 | (writable ? 0x2 : 0x0);
}
constexpr uint64_t k2M = uint64_t{1} << 21;

TEST(CheckerHistory, LargePageMapsEachVaToIts4KFrame) {
  CheckerHistory h(CheckerConfig{});
  const uint64_t va = 0x40000000, frame = 0x80000000;
  h.on_pte_change({at(10), 1, va, k2M, 0, pte(frame, true) | 0x80, "fault"});
  const PageHistory* p = h.page(1, va + 0x12345);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->page_bytes, k2M);
  EXPECT_EQ(p->va, va);
  ASSERT_EQ(p->versions.size(), 2u);  // initial (not present) + the fault
  EXPECT_FALSE(p->versions[0].present());
  EXPECT_EQ(p->current().frame_of(va + 0x12345, k2M), frame + 0x12000);
  EXPECT_EQ(h.page(1, va + k2M), nullptr);
  EXPECT_EQ(h.page(2, va), nullptr);
  EXPECT_THROW(h.on_pte_change({at(20), 1, va, 8192, 0, 0, "bad"}), std::invalid_argument);
}

// A split publishes the 2 MiB leaf's clear, then the 4 KiB leaves: a 4 KiB page inside
// starts with the huge leaf's versions (as its part of it), so a translation obtained
// from the huge leaf is found in the 4 KiB page's history.
TEST(CheckerHistory, A4KPageInsideASplitHugePageInheritsItsVersions) {
  CheckerHistory h(CheckerConfig{});
  const uint64_t va = 0x40000000, frame = 0x80000000, page = va + 0x5000;
  h.on_pte_change({at(10), 1, va, k2M, 0, pte(frame, true) | 0x80, "thp_anonymous"});
  h.on_pte_change({at(20), 1, va, k2M, pte(frame, true) | 0x80, 0, "munmap_split"});
  h.on_pte_change({at(20), 1, page, 4096, 0, pte(frame + 0x5000, true), "munmap_split"});
  h.on_pte_change({at(30), 1, page, 4096, pte(frame + 0x5000, true), 0, "munmap"});
  const PageHistory* p = h.page(1, page + 8);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->page_bytes, 4096u);
  ASSERT_EQ(p->versions.size(), 5u);  // initial, huge leaf, split clear, 4 KiB PTE, unmap
  EXPECT_EQ(p->versions[1].pte_raw, pte(frame + 0x5000, true));  // the 4 KiB part, no PS
  EXPECT_EQ(p->versions[1].since, at(10));
  // A translation obtained at 15 ns (from the huge leaf) maps the page's frame.
  const int k = p->version_at(at(15), frame + 0x5000, page);
  ASSERT_EQ(k, 1);
  EXPECT_TRUE(p->versions[k].writable());
  // Another page of the huge page, never split to a 4 KiB change, stays on the huge
  // leaf's history (now not present).
  const PageHistory* other = h.page(1, va + 0x7000);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->page_bytes, k2M);
  EXPECT_FALSE(other->current().present());
}

TEST(CheckerHistory, VersionsAreBoundedAndOldTranslationsAreNotJudged) {
  CheckerConfig cfg;
  cfg.pte_versions_per_page = 3;
  CheckerHistory h(cfg);
  const uint64_t va = 0x1000;
  for (int i = 1; i <= 5; ++i) {
    h.on_pte_change(
        {at(100 * i), 1, va, 4096, pte(0x1000 * i, true), pte(0x1000 * (i + 1), true), "migrate"});
  }
  const PageHistory* p = h.page(1, va);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->versions.size(), 3u);
  EXPECT_TRUE(p->truncated);
  EXPECT_EQ(p->versions[0].since, at(300));
  EXPECT_EQ(p->current().frame_of(va, 4096), 0x6000u);
  EXPECT_EQ(p->version_in_effect(at(250)), -1);
  EXPECT_EQ(p->version_at(at(350), 0x4000, va), 0);
  EXPECT_EQ(p->version_in_effect(at(500)), 2);
}

TEST(CheckerHistory, SameTimeVersionsPickTheOneMappingTheFrame) {
  CheckerHistory h(CheckerConfig{});
  const uint64_t va = 0x2000;
  h.on_pte_change({at(100), 1, va, 4096, pte(0xa000, false), 0, "cow"});
  h.on_pte_change({at(100), 1, va, 4096, 0, pte(0xb000, true), "cow"});
  const PageHistory* p = h.page(1, va);
  EXPECT_EQ(p->version_at(at(100), 0xb000, va), 2);
  EXPECT_EQ(p->version_at(at(100), 0xc000, va), 2);  // no match: newest
  EXPECT_EQ(p->version_at(at(50), 0xa000, va), 0);
}

TEST(CheckerHistory, CpuWriteCountsOnlyThroughTheCurrentMapping) {
  CheckerHistory h(CheckerConfig{});
  const uint64_t va = 0x3000;
  h.on_pte_change({at(100), 1, va, 4096, pte(0xa000, false), pte(0xb000, true), "cow"});
  h.on_cpu_access({at(110), "CPU-thread-0", 1, va, 0xa008, true, 1});   // old frame
  h.on_cpu_access({at(120), "CPU-thread-0", 2, va, 0xb008, true, 2});   // other mm
  h.on_cpu_access({at(130), "CPU-thread-0", 1, va, 0xb008, false, 3});  // a load
  EXPECT_FALSE(h.page(1, va)->current().cpu_written);
  h.on_cpu_access({at(140), "CPU-thread-1", 1, va + 8, 0xb008, true, 4});
  h.on_cpu_access({at(150), "CPU-thread-2", 1, va, 0xb000, true, 5});
  const PteVersion& cur = h.page(1, va)->current();
  EXPECT_TRUE(cur.cpu_written);
  EXPECT_EQ(cur.write_time, at(140));  // the first one is kept
  EXPECT_EQ(cur.write_thread, "CPU-thread-1");
  EXPECT_EQ(cur.write_value, 4u);
}

TEST(CheckerHistory, FramesRememberLastFreeAndReuse) {
  CheckerHistory h(CheckerConfig{});
  h.on_frame({at(10), 0x5000, true});  // never freed: not tracked
  EXPECT_EQ(h.frame(0x5000), nullptr);
  h.on_frame({at(20), 0x5000, false});
  EXPECT_TRUE(h.frame(0x5123)->freed);
  EXPECT_FALSE(h.frame(0x5000)->reallocated);
  h.on_frame({at(30), 0x5000, true});
  EXPECT_TRUE(h.frame(0x5000)->reallocated);
  EXPECT_EQ(h.frame(0x5000)->last_alloc, at(30));
  EXPECT_EQ(h.frame(0x5000)->last_free, at(20));
}

TEST(CheckerHistory, InvalidationLookupByPasidAndMm) {
  CheckerConfig cfg;
  cfg.invalidations_per_pasid = 2;
  CheckerHistory h(cfg);
  h.bind_pasid(7, 1);
  h.on_invalidation_done({at(10), 1, 7, 0x1000, 0x2000});
  h.on_invalidation_done({at(20), 1, 7, 0x5000, 0x6000});
  h.on_invalidation_done({at(30), 1, DeviceAccessEvent::kNoPasid, 0x1000, 0x3000});
  h.on_invalidation_done({at(40), 2, DeviceAccessEvent::kNoPasid, 0x0, 0x10000});
  ASSERT_NE(h.latest_invalidation(7, 0x1800), nullptr);
  EXPECT_EQ(h.latest_invalidation(7, 0x1800)->time, at(30));  // mm-wide is newer
  EXPECT_EQ(h.latest_invalidation(7, 0x5000)->time, at(20));
  EXPECT_EQ(h.latest_invalidation(7, 0x6000), nullptr);    // end is exclusive
  EXPECT_EQ(h.latest_invalidation(8, 0x1800), nullptr);    // unbound: only its own
  h.on_invalidation_done({at(50), 1, 7, 0x8000, 0x9000});  // pushes out the one at 10
  h.unbind_pasid(7);
  EXPECT_EQ(h.latest_invalidation(7, 0x1800), nullptr);
  EXPECT_EQ(h.latest_invalidation(7, 0x8000)->time, at(50));
}

// The checkers ask about one access in turn, so the last page and binding looked up
// are remembered; a PTE change or a (re)binding in between must be seen at once.
TEST(CheckerHistory, RepeatedLookupsSeeChangesMadeBetweenThem) {
  CheckerHistory h(CheckerConfig{});
  const uint64_t va = 0x40001000;
  EXPECT_EQ(h.page(1, va), nullptr);
  h.on_pte_change({at(10), 1, va, 4096, 0, pte(0x5000, true), "fault"});
  const PageHistory* small = h.page(1, va + 8);
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(small->page_bytes, 4096u);
  // A newer 2 MiB mapping covering the same VA is now the page in effect.
  h.on_pte_change({at(20), 1, va & ~(k2M - 1), k2M, 0, pte(0x80000000, true) | 0x80, "thp"});
  const PageHistory* large = h.page(1, va + 8);
  ASSERT_NE(large, nullptr);
  EXPECT_EQ(large->page_bytes, k2M);
  EXPECT_EQ(h.page(2, va + 8), nullptr);  // another mm, same VA
  EXPECT_EQ(h.page(1, va + 8), large);

  EXPECT_EQ(h.mm_of(5), nullptr);
  h.bind_pasid(5, 7);
  ASSERT_NE(h.mm_of(5), nullptr);
  EXPECT_EQ(*h.mm_of(5), 7u);
  h.unbind_pasid(5);
  EXPECT_EQ(h.mm_of(5), nullptr);
  h.bind_pasid(5, 8);
  ASSERT_NE(h.mm_of(5), nullptr);
  EXPECT_EQ(*h.mm_of(5), 8u);
}

// Many PASIDs, each bound to its own mm, asking about their pages in turn (one page of
// every PASID, then every page of one PASID): every answer is the page of the PASID's
// own mm and VA, before and after the PTEs change, after a rebinding and after a
// newer large page; PASIDs far apart and beyond 20 bits keep their own bindings.
TEST(CheckerHistory, InterleavedPageLookupsOfManyPasids) {
  CheckerHistory h(CheckerConfig{});
  constexpr uint32_t kMms = 300;
  constexpr uint64_t kPages = 6;
  const uint64_t base = 0x7f0000000000;
  auto pasid_of = [](uint32_t mm) { return mm + 10; };
  auto frame = [](uint32_t mm, uint64_t p, uint64_t shift) { return (mm * 100 + p + shift) << 12; };
  for (uint32_t mm = 1; mm <= kMms; ++mm) {
    h.bind_pasid(pasid_of(mm), mm);
    for (uint64_t p = 0; p < kPages; ++p) {
      h.on_pte_change({at(1), mm, base + p * 4096, 4096, 0, pte(frame(mm, p, 0), true), "fault"});
    }
  }
  auto check = [&](uint32_t mm, uint64_t p, uint64_t shift) {
    const PageHistory* page = h.page_of_pasid(pasid_of(mm), base + p * 4096 + 64);
    ASSERT_NE(page, nullptr);
    EXPECT_EQ(page->mm_id, mm);
    EXPECT_EQ(page->va, base + p * 4096);
    EXPECT_EQ(page->current().frame_of(base + p * 4096, 4096), frame(mm, p, shift));
    EXPECT_EQ(page, h.page(mm, base + p * 4096));
  };
  for (uint64_t shift = 0; shift < 2; ++shift) {
    for (uint64_t p = 0; p < kPages; ++p) {
      for (uint32_t mm = 1; mm <= kMms; ++mm) check(mm, p, shift);
    }
    for (uint32_t mm = 1; mm <= kMms; ++mm) {
      for (uint64_t p = 0; p < kPages; ++p) check(mm, p, shift);
      EXPECT_EQ(h.page_of_pasid(pasid_of(mm), base + kPages * 4096), nullptr);  // unmapped
    }
    // Every page moves to the next frame: the remembered answers must not hide it.
    for (uint32_t mm = 1; mm <= kMms; ++mm) {
      for (uint64_t p = 0; p < kPages; ++p) {
        h.on_pte_change({at(2), mm, base + p * 4096, 4096, pte(frame(mm, p, shift), true),
                         pte(frame(mm, p, shift + 1), true), "migrate"});
      }
    }
  }
  // Rebinding: the PASID's next answer comes from the new mm.
  ASSERT_NE(h.page_of_pasid(pasid_of(1), base), nullptr);
  h.bind_pasid(pasid_of(1), 2);
  ASSERT_NE(h.page_of_pasid(pasid_of(1), base), nullptr);
  EXPECT_EQ(h.page_of_pasid(pasid_of(1), base)->mm_id, 2u);
  h.unbind_pasid(pasid_of(1));
  EXPECT_EQ(h.page_of_pasid(pasid_of(1), base), nullptr);
  // A newer 2 MiB page over the same VA is the page in effect from then on.
  ASSERT_EQ(h.page_of_pasid(pasid_of(3), base + 8)->page_bytes, 4096u);
  h.on_pte_change({at(3), 3, base, k2M, 0, pte(0x80000000, true) | 0x80, "thp"});
  ASSERT_NE(h.page_of_pasid(pasid_of(3), base + 8), nullptr);
  EXPECT_EQ(h.page_of_pasid(pasid_of(3), base + 8)->page_bytes, k2M);

  const uint32_t pasids[] = {1, 1023, 1024, 70000, 0xfffff, 0x100000, 0xfffffffe};
  for (uint32_t i = 0; i < 7; ++i) h.bind_pasid(pasids[i], 1000 + i);
  for (uint32_t i = 0; i < 7; ++i) {
    ASSERT_NE(h.mm_of(pasids[i]), nullptr) << pasids[i];
    EXPECT_EQ(*h.mm_of(pasids[i]), 1000 + i);
  }
  EXPECT_EQ(h.mm_of(2), nullptr);
  EXPECT_EQ(h.mm_of(1025), nullptr);
  EXPECT_EQ(h.mm_of(DeviceAccessEvent::kNoPasid), nullptr);
  h.unbind_pasid(1024);
  h.unbind_pasid(0x100000);
  EXPECT_EQ(h.mm_of(1024), nullptr);
  EXPECT_EQ(h.mm_of(0x100000), nullptr);
  EXPECT_EQ(*h.mm_of(1023), 1001u);
  EXPECT_EQ(*h.mm_of(0xfffffffe), 1006u);
}

TEST(CheckerHistory, ConfigBoundsAreValidated) {
  CheckerConfig cfg;
  cfg.invalidations_per_pasid = 0;
  try {
    CheckerHistory h(cfg);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("invalidations_per_pasid"), std::string::npos);
  }
}

}  // namespace
}  // namespace iosim
