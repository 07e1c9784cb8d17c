// CheckerSuite: each checker on a scenario that must be flagged (exact counts and
// record fields) and on its nearest safe variant, PASID isolation, report text.
// Pure C++: synthetic ground-truth events with sc_time values, no elaboration.
#include "sc_models/check/checker_suite.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace iosim {
namespace {

constexpr uint32_t kMm = 1;
constexpr uint32_t kPasid = 7;
constexpr uint64_t kPage = 4096;

sc_core::sc_time at(double ns) {
  return sc_core::sc_time(ns, sc_core::SC_NS);
}
uint64_t pte(uint64_t frame, bool writable) {
  return frame | 0x5 | (writable ? 0x2 : 0x0);
}

// Feeds events through a GroundTruth hub into a CheckerSuite.
struct Bench {
  GroundTruth hub;
  CheckerSuite suite;
  explicit Bench(const CheckerConfig& cfg = CheckerConfig{}) : suite(cfg) {
    suite.attach(hub);
    suite.bind_pasid(kPasid, kMm);
  }
  void pte_change(double t, uint64_t va, uint64_t old_raw, uint64_t new_raw, const char* reason,
                  uint32_t mm = kMm) {
    hub.pte_change({at(t), mm, va, kPage, old_raw, new_raw, reason});
  }
  void frame(double t, uint64_t pa, bool allocated) { hub.frame({at(t), pa, allocated}); }
  void cpu_write(double t, const char* thread, uint64_t va, uint64_t pa, uint64_t value,
                 uint32_t mm = kMm) {
    hub.cpu_access({at(t), thread, mm, va, pa, true, value});
  }
  void dev(double t, const char* thread, uint64_t va, uint64_t pa, bool write, double translated,
           uint32_t pasid = kPasid) {
    hub.device_access({at(t), thread, 0x100, pasid, va, pa, write, 0, at(translated), true});
  }
  void inval_done(double t, uint64_t start, uint64_t end, uint32_t pasid = kPasid,
                  uint32_t mm = kMm) {
    hub.invalidation_done({at(t), mm, pasid, start, end});
  }
  void expect_counts(uint64_t uaf, uint64_t stale, uint64_t wap, uint64_t cc) {
    EXPECT_EQ(suite.count("use_after_free"), uaf);
    EXPECT_EQ(suite.count("stale_after_newer_write"), stale);
    EXPECT_EQ(suite.count("write_after_protect"), wap);
    EXPECT_EQ(suite.count("completion_contract"), cc);
    EXPECT_EQ(suite.total(), uaf + stale + wap + cc);
    EXPECT_EQ(suite.violations().size(), uaf + stale + wap + cc);
  }
};

// The COW timeline of mmu_notifier.rst: addrA and addrB in different pages, N = 1000 ns and one
// step = 100 ns.
constexpr uint64_t kAddrA = 0x7f0000001010;
constexpr uint64_t kAddrB = 0x7f0000003020;
constexpr uint64_t kOldA = 0x100000, kNewA = 0x200000;
constexpr uint64_t kOldB = 0x101000, kNewB = 0x201000;
uint64_t page_of(uint64_t va) {
  return va & ~(kPage - 1);
}

void cow_start(Bench& b) {
  // [N] devices read addrA and addrB and fill their ATCs.
  b.dev(1000, "DEV-thread-0", kAddrA, kOldA + 0x10, false, 1000);
  b.dev(1000, "DEV-thread-2", kAddrB, kOldB + 0x20, false, 1000);
}

void cow_writes_and_reads(Bench& b) {
  // [N+3] CPU-thread-2/3 write the new pages.
  b.cpu_write(1300, "CPU-thread-2", kAddrA, kNewA + 0x10, 0xa1);
  b.cpu_write(1300, "CPU-thread-3", kAddrB, kNewB + 0x20, 0xb1);
}

TEST(Checker, CowUnderRangeEndFlagsStaleAfterNewerWrite) {
  Bench b;
  cow_start(b);
  // [N+2] COW_step1: the PTEs point to the new pages; no secondary-TLB flush.
  b.pte_change(1200, page_of(kAddrA), pte(kOldA, false), pte(kNewA, true), "cow");
  b.pte_change(1200, page_of(kAddrB), pte(kOldB, false), pte(kNewB, true), "cow");
  cow_writes_and_reads(b);
  // [N+4] CPU-thread-1: range_end(addrB) invalidates addrB only.
  b.inval_done(1400, page_of(kAddrB), page_of(kAddrB) + kPage);
  // [N+5] DEV-thread-0 reads addrA from the old page (stale ATC entry),
  // DEV-thread-2 re-translated addrB after the invalidation and reads the new page.
  b.dev(1500, "DEV-thread-0", kAddrA, kOldA + 0x10, false, 1000);
  b.dev(1500, "DEV-thread-2", kAddrB, kNewB + 0x20, false, 1450);
  b.expect_counts(0, 1, 0, 0);
  ASSERT_EQ(b.suite.violations().size(), 1u);
  const Violation& v = b.suite.violations()[0];
  EXPECT_EQ(v.checker, "stale_after_newer_write");
  EXPECT_EQ(v.time, at(1500));
  EXPECT_EQ(v.thread, "DEV-thread-0");
  EXPECT_EQ(v.pasid, kPasid);
  EXPECT_EQ(v.va, kAddrA);
  EXPECT_FALSE(v.is_write);
  EXPECT_EQ(v.frames, (std::vector<uint64_t>{kOldA, kNewA}));
  ASSERT_EQ(v.steps.size(), 4u);
  EXPECT_EQ(v.steps[0].time, at(1000));
  EXPECT_NE(v.steps[0].text.find("DEV-thread-0 obtained translation"), std::string::npos);
  EXPECT_EQ(v.steps[1].time, at(1200));
  EXPECT_NE(v.steps[1].text.find("(cow)"), std::string::npos);
  EXPECT_EQ(v.steps[2].time, at(1300));
  EXPECT_NE(v.steps[2].text.find("CPU-thread-2 wrote 0xa1"), std::string::npos);
  EXPECT_EQ(v.steps[3].time, at(1500));
}

TEST(Checker, CowUnderPtlIsClean) {
  Bench b;
  cow_start(b);
  // [N+2] under the PTL: clear the PTE, flush secondary TLBs, then set the new PTE.
  for (auto [va, old_f, new_f] : {std::tuple{kAddrA, kOldA, kNewA}, {kAddrB, kOldB, kNewB}}) {
    b.pte_change(1200, page_of(va), pte(old_f, false), 0, "cow");
    b.inval_done(1210, page_of(va), page_of(va) + kPage);
    b.pte_change(1220, page_of(va), 0, pte(new_f, true), "cow");
  }
  cow_writes_and_reads(b);
  // [N+5] both devices missed in their ATC and walked the new PTEs.
  b.dev(1500, "DEV-thread-0", kAddrA, kNewA + 0x10, false, 1450);
  b.dev(1500, "DEV-thread-2", kAddrB, kNewB + 0x20, false, 1450);
  b.expect_counts(0, 0, 0, 0);
}

constexpr uint64_t kVa = 0x400000;
constexpr uint64_t kFrame = 0x333000;

TEST(Checker, MunmapDeviceWriteAfterFreeAndReallocFlagsUseAfterFree) {
  Bench b;
  b.dev(100, "DEV-thread-1", kVa, kFrame + 8, true, 100);
  b.pte_change(200, kVa, pte(kFrame, true), 0, "unmap");
  b.frame(300, kFrame, false);
  b.frame(400, kFrame, true);  // reused by another task
  b.dev(500, "DEV-thread-1", kVa + 8, kFrame + 8, true, 100);
  b.inval_done(600, kVa, kVa + kPage);  // range_end, too late
  b.expect_counts(1, 0, 0, 0);
  ASSERT_EQ(b.suite.violations().size(), 1u);
  const Violation& v = b.suite.violations()[0];
  EXPECT_EQ(v.checker, "use_after_free");
  EXPECT_EQ(v.time, at(500));
  EXPECT_EQ(v.thread, "DEV-thread-1");
  EXPECT_EQ(v.pasid, kPasid);
  EXPECT_EQ(v.va, kVa + 8);
  EXPECT_TRUE(v.is_write);
  EXPECT_EQ(v.frames, std::vector<uint64_t>{kFrame});
  EXPECT_NE(v.summary.find("freed and reallocated"), std::string::npos);
  std::vector<sc_core::sc_time> times;
  for (const auto& s : v.steps) times.push_back(s.time);
  EXPECT_EQ(times, (std::vector<sc_core::sc_time>{at(100), at(200), at(300), at(400), at(500)}));
  EXPECT_NE(v.steps[1].text.find("not present (unmap)"), std::string::npos);
  EXPECT_NE(v.steps[2].text.find("freed"), std::string::npos);
  EXPECT_NE(v.steps[3].text.find("reallocated"), std::string::npos);
}

TEST(Checker, MunmapWithInvalidationBeforeFreeIsClean) {
  Bench b;
  b.dev(100, "DEV-thread-1", kVa, kFrame, true, 100);
  b.pte_change(200, kVa, pte(kFrame, true), 0, "unmap");
  b.dev(250, "DEV-thread-1", kVa, kFrame, true, 100);  // before the flush completed: allowed
  b.inval_done(280, kVa, kVa + kPage);
  b.frame(300, kFrame, false);
  b.frame(400, kFrame, true);
  // A fresh translation of the reused frame (another mapping) is fine.
  b.dev(500, "DEV-thread-1", 0x900000, kFrame, true, 450);
  b.expect_counts(0, 0, 0, 0);
}

TEST(Checker, KsmWriteProtectDeferralIsClean) {
  Bench b;
  b.dev(100, "DEV-thread-0", kVa, kFrame, true, 100);
  b.pte_change(200, kVa, pte(kFrame, true), pte(kFrame, false), "ksm");
  // Until range_end's invalidation completes, the stale writable entry may be used.
  b.dev(250, "DEV-thread-0", kVa, kFrame, false, 100);
  b.dev(300, "DEV-thread-0", kVa, kFrame, true, 100);
  b.inval_done(400, kVa, kVa + kPage);
  b.expect_counts(0, 0, 0, 0);
}

TEST(Checker, KsmWriteAfterCompletionFlagsWriteAfterProtectAndCompletion) {
  Bench b;
  b.dev(100, "DEV-thread-0", kVa, kFrame, true, 100);
  b.pte_change(200, kVa, pte(kFrame, true), pte(kFrame, false), "ksm");
  b.dev(300, "DEV-thread-0", kVa, kFrame, true, 100);
  b.inval_done(400, kVa, kVa + kPage);
  // A read of the same frame still matches the read-only PTE: not flagged.
  b.dev(450, "DEV-thread-0", kVa, kFrame, false, 100);
  b.dev(500, "DEV-thread-0", kVa + 0x40, kFrame + 0x40, true, 100);
  b.expect_counts(0, 0, 1, 1);
  ASSERT_EQ(b.suite.violations().size(), 2u);
  const Violation& wap = b.suite.violations()[0];
  const Violation& cc = b.suite.violations()[1];
  EXPECT_EQ(wap.checker, "write_after_protect");
  EXPECT_EQ(cc.checker, "completion_contract");
  for (const Violation* v : {&wap, &cc}) {
    EXPECT_EQ(v->time, at(500));
    EXPECT_EQ(v->thread, "DEV-thread-0");
    EXPECT_EQ(v->pasid, kPasid);
    EXPECT_EQ(v->va, kVa + 0x40);
    EXPECT_TRUE(v->is_write);
    EXPECT_EQ(v->frames, std::vector<uint64_t>{kFrame});
    ASSERT_EQ(v->steps.size(), 4u);
    EXPECT_EQ(v->steps[1].time, at(200));
    EXPECT_NE(v->steps[1].text.find("RO (ksm)"), std::string::npos);
    EXPECT_EQ(v->steps[2].time, at(400));
    EXPECT_NE(v->steps[2].text.find("reported complete"), std::string::npos);
  }
  EXPECT_NE(wap.summary.find("read-only"), std::string::npos);
}

TEST(Checker, PasidsAreIsolated) {
  constexpr uint32_t kMm2 = 2, kPasid2 = 8;
  constexpr uint64_t kFrame2 = 0x444000, kNew2 = 0x555000, kVa2 = 0x800000;
  Bench b;
  b.suite.bind_pasid(kPasid2, kMm2);
  // Same VA in two mms: mm 2 has a COW with a CPU write; mm 1 does not change.
  b.pte_change(200, kVa, pte(kFrame2, false), pte(kNew2, true), "cow", kMm2);
  b.cpu_write(300, "CPU-thread-0", kVa, kNew2, 1, kMm2);
  b.dev(400, "DEV-thread-0", kVa, kFrame, false, 100, kPasid);
  b.expect_counts(0, 0, 0, 0);
  b.dev(400, "DEV-thread-1", kVa, kFrame2, false, 100, kPasid2);
  b.expect_counts(0, 1, 0, 0);
  EXPECT_EQ(b.suite.violations()[0].pasid, kPasid2);
  // mm 1 write-protects kVa2; an invalidation of PASID 8 does not cover PASID 7.
  b.pte_change(500, kVa2, pte(kFrame, true), pte(kFrame, false), "mprotect");
  b.inval_done(600, kVa2, kVa2 + kPage, kPasid2, kMm2);
  b.dev(700, "DEV-thread-0", kVa2, kFrame, true, 100, kPasid);
  b.expect_counts(0, 1, 0, 0);
  // An mm-wide invalidation of mm 1 covers every PASID bound to it.
  b.inval_done(800, 0, uint64_t{1} << 48, DeviceAccessEvent::kNoPasid, kMm);
  b.dev(900, "DEV-thread-0", kVa2, kFrame, true, 100, kPasid);
  b.expect_counts(0, 1, 1, 1);
  EXPECT_EQ(b.suite.violations()[1].pasid, kPasid);
  // A PASID nobody bound is not judged by the mm-based checkers.
  b.dev(950, "DEV-thread-3", kVa2, kFrame, true, 100, 99);
  b.expect_counts(0, 1, 1, 1);
}

TEST(Checker, ReportTextHasCountsTimeThreadVaAndFrames) {
  Bench b;
  cow_start(b);
  b.pte_change(1200, page_of(kAddrA), pte(kOldA, false), pte(kNewA, true), "cow");
  cow_writes_and_reads(b);
  b.dev(1500, "DEV-thread-0", kAddrA, kOldA + 0x10, false, 1000);
  const std::string r = b.suite.report();
  for (const char* s :
       {"Checker violations: 1", "use_after_free: 0", "stale_after_newer_write: 1",
        "write_after_protect: 0", "completion_contract: 0",
        "stale_after_newer_write at 1500 ns: DEV-thread-0 PASID 7 VA 0x7f0000001010 "
        "read frames 0x100000, 0x200000",
        "[1 us] DEV-thread-0 obtained translation", "[1200 ns] PTE of VA 0x7f0000001000",
        "[1300 ns] CPU-thread-2 wrote 0xa1", "[1500 ns] DEV-thread-0 read"}) {
    EXPECT_NE(r.find(s), std::string::npos) << s << "\n" << r;
  }
}

TEST(Checker, FreshTranslationAfterReallocationIsNotUseAfterFree) {
  Bench b;
  b.frame(100, kFrame, false);
  b.frame(200, kFrame, true);
  b.dev(300, "DEV-thread-0", kVa, kFrame, true, 250);
  b.dev(300, "DEV-thread-0", kVa, kFrame, true, 150);  // obtained between free and reuse
  b.expect_counts(0, 0, 0, 0);
}

TEST(Checker, RecordsAreBoundedButEveryViolationIsCounted) {
  CheckerConfig cfg;
  cfg.max_records = 2;
  Bench b(cfg);
  b.frame(100, kFrame, false);
  for (int i = 0; i < 5; ++i) b.dev(200 + i, "DEV-thread-0", kVa, kFrame, false, 50);
  EXPECT_EQ(b.suite.count("use_after_free"), 5u);
  EXPECT_EQ(b.suite.total(), 5u);
  ASSERT_EQ(b.suite.violations().size(), 2u);
  EXPECT_EQ(b.suite.violations()[1].time, at(201));
  EXPECT_EQ(b.suite.dropped_records(), 3u);
  EXPECT_NE(b.suite.report().find("(3 more violations not recorded)"), std::string::npos);
}

TEST(Checker, BadNamesAndConfigsGiveClearErrors) {
  CheckerSuite suite;
  EXPECT_EQ(suite.names(),
            (std::vector<std::string>{"use_after_free", "stale_after_newer_write",
                                      "write_after_protect", "completion_contract"}));
  EXPECT_EQ(suite.names(), checker_names());
  try {
    suite.count("use-after-free");
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("use_after_free"), std::string::npos);
  }
  CheckerConfig cfg;
  cfg.pte_versions_per_page = 1;
  try {
    CheckerSuite bad(cfg);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("pte_versions_per_page"), std::string::npos);
  }
}

}  // namespace
}  // namespace iosim
