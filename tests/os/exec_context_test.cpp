// Tests of ExecContext: one context per SystemC thread, atomic-context and
// non-block accounting, might_sleep reports, frames, spin/sleep time.
#include "os/exec_context.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "os/diagnostics.h"
#include "sc_models/timing/server_pool.h"
#include "tests/os/os_bench.h"

namespace iosim {
namespace {

using test::run_threads;
using test::TestOs;
using test::until;

using sc_core::sc_time;

TEST(ExecContext, EachThreadHasItsOwnContext) {
  TestOs os;
  ExecContext* a = nullptr;
  ExecContext* a_again = nullptr;
  ExecContext* b = nullptr;
  unsigned b_preempt = 9;
  run_threads({[&] {
                 a = &os.current();
                 a->preempt_disable();
                 sc_core::wait(ns(10));
                 a_again = &os.current();
                 a->preempt_enable();
               },
               [&] {
                 sc_core::wait(ns(5));
                 b = &os.current();
                 b_preempt = b->preempt_count();
               }});
  EXPECT_EQ(a, a_again);
  EXPECT_NE(a, b);
  EXPECT_EQ(b_preempt, 0u);  // a's preempt_disable does not leak into b
  EXPECT_NE(a->name().find("thread0"), std::string::npos);
  EXPECT_EQ(os.current().name(), "");  // outside any process
}

TEST(ExecContext, MightSleepReportsOnlyInAtomicOrNonBlockSections) {
  TestOs os;
  std::vector<bool> allowed;
  test::run_thread([&] {
    ExecContext& ctx = os.current();
    allowed.push_back(ctx.might_sleep("plain"));
    ctx.preempt_disable();
    allowed.push_back(ctx.might_sleep("preempt_off"));
    ctx.preempt_enable();
    ctx.non_block_start();
    allowed.push_back(ctx.might_sleep("non_block"));
    ctx.non_block_end();
    allowed.push_back(ctx.might_sleep("plain_again"));
  });
  EXPECT_EQ(allowed, (std::vector<bool>{true, false, false, true}));
  auto d = os.diagnostics().of_kind(DiagKind::kSleepInAtomic);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_NE(d[0].message.find("preempt_off"), std::string::npos);
  EXPECT_NE(d[0].message.find("preempt_count=1"), std::string::npos);
  EXPECT_NE(d[1].message.find("non_block_count=1"), std::string::npos);
}

TEST(ExecContext, SpinAndSleepTimeAreAccountedSeparately) {
  TestOs os;
  sc_time spun, slept, now;
  sc_core::sc_event ev;
  bool flag = false;
  run_threads({[&] {
                 ExecContext& ctx = os.current();
                 ctx.non_block_start();
                 ctx.spin_until([&] { return flag; }, ev);  // allowed in a non-block section
                 ctx.spin_for(ns(30));
                 ctx.non_block_end();
                 ctx.sleep_for(ns(70), "msleep");
                 ctx.run_for(ns(11));
                 spun = ctx.spin_time();
                 slept = ctx.sleep_time();
                 now = sc_core::sc_time_stamp();
               },
               [&] {
                 sc_core::wait(ns(100));
                 flag = true;
                 ev.notify(sc_core::SC_ZERO_TIME);
               }});
  EXPECT_EQ(spun, ns(130));
  EXPECT_EQ(slept, ns(70));
  EXPECT_EQ(now, ns(211));
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(ExecContext, FramesNameWhereADiagnosticHappened) {
  TestOs os;
  std::string inner, outer, after;
  test::run_thread([&] {
    ExecContext& ctx = os.current();
    {
      ExecContext::Frame f1(ctx, "iommu.invalidate");
      outer = ctx.where();
      {
        ExecContext::Frame f2(ctx, "iommu.wait_cmdq");
        inner = ctx.where();
        ctx.preempt_disable();
        ctx.sleep_for(ns(1), "schedule");
        ctx.preempt_enable();
      }
    }
    after = ctx.where();
  });
  EXPECT_EQ(outer, "iommu.invalidate");
  EXPECT_EQ(inner, "iommu.wait_cmdq");
  EXPECT_EQ(after, "");
  auto d = os.diagnostics().of_kind(DiagKind::kSleepInAtomic);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].where, "iommu.wait_cmdq");
  EXPECT_EQ(d[0].time, sc_core::SC_ZERO_TIME);
}

TEST(ExecContext, FrameOfAnOwnerNamesOwnerDotLabel) {
  // The owner's name is read when the text is asked for, not copied at entry.
  TestOs os;
  std::string owner = "sva";
  std::vector<std::string> seen;
  test::run_thread([&] {
    ExecContext& ctx = os.current();
    ExecContext::Frame outer(ctx, owner, "arch_invalidate_secondary_tlbs");
    seen.push_back(ctx.where());
    {
      ExecContext::Frame inner(ctx, "spin");
      seen.push_back(ctx.where());
    }
    owner = "sva1";
    seen.push_back(ctx.where());
    os.diagnostics().report(DiagKind::kLockNotHeld, "test");
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"sva.arch_invalidate_secondary_tlbs", "spin",
                                            "sva1.arch_invalidate_secondary_tlbs"}));
  ASSERT_EQ(os.diagnostics().total(), 1u);
  EXPECT_EQ(os.diagnostics().of_kind(DiagKind::kLockNotHeld)[0].where,
            "sva1.arch_invalidate_secondary_tlbs");
}

TEST(ExecContext, UnbalancedPreemptEnableIsReported) {
  TestOs os;
  unsigned count = 9;
  test::run_thread([&] {
    os.current().preempt_enable();
    os.current().non_block_end();
    count = os.current().preempt_count();
  });
  EXPECT_EQ(count, 0u);
  EXPECT_EQ(os.diagnostics().count(DiagKind::kLockNotHeld), 2u);
}

TEST(ExecContext, DiagnosticsListenerSeesEveryRecord) {
  TestOs os;
  std::vector<std::string> seen;
  os.diagnostics().set_listener(
      [&](const Diagnostic& d) { seen.push_back(diag_kind_name(d.kind)); });
  os.diagnostics().report_at(DiagKind::kPtlNotHeld, "here", "msg");
  os.diagnostics().report(DiagKind::kSpteInsideRange, "msg2");
  os.diagnostics().set_listener(nullptr);
  EXPECT_EQ(seen, (std::vector<std::string>{"ptl_not_held", "spte_inside_range"}));
  EXPECT_EQ(os.diagnostics().total(), 2u);
  os.diagnostics().clear();
  EXPECT_EQ(os.diagnostics().total(), 0u);
  EXPECT_EQ(os.diagnostics().count(DiagKind::kPtlNotHeld), 0u);
}

}  // namespace
}  // namespace iosim
