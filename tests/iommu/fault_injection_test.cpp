// Fault injection per device (DeviceFaultConfig) on the real Device, PcieLink and
// Iommu: late, dropped, duplicated and early Invalidate Completions, a Translation
// Request answered with Unsupported Request, a lost PRG Response with the device's
// PRI response time-out, and a device that stops answering. Each test asserts the
// recovery (time-out, retry, error record) and the fault counters.
#include <gtest/gtest.h>

#include "device/device.h"
#include "device_iommu_bench.h"
#include "iommu/vtd/descriptors.h"
#include "sc_models/pcie/ats_encoding.h"
#include "sc_models/pcie/pcie_link.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using test::IommuSystem;
using test::kRid;
using test::run_thread;
using test::until;

constexpr uint32_t kPasid = 5;
constexpr uint64_t kVa = 0x400000;

IommuConfig with_itag_timeout(double ns) {
  IommuConfig c;
  c.command_queue.itag_timeout_ns = ns;
  return c;
}

struct System : test::DeviceIommuSystem {
  using DeviceIommuSystem::DeviceIommuSystem;

  uint64_t counter(const std::string& path) const {
    const auto* c = ctx.stats().find_as<Counter>(path);
    EXPECT_NE(c, nullptr) << path;
    return c ? c->value() : ~0ull;
  }
  // Writes one PASID-based device-TLB invalidation of kVa and an inv_wait (status
  // write, interrupt) and rings the doorbell.
  void invalidate_page(uint64_t status, uint32_t data) {
    const SBitAddress a = encode_s_range(kVa, 0x1000);
    submit(DevTlbInv{true, kRid, 0, kPasid, a.address, a.s, false}.encode());
    submit(InvWait{true, true, false, data, status}.encode());
  }
  // The one Invalidate Request's round trip: down the link, the device's processing,
  // the completion back up.
  double round_trip_ns() const {
    return to_ns(link.tlp_time(InvalidateRequest::kPayloadBytes) + link.latency() +
                 ns(dev.config().invalidation_processing_latency_ns) + link.tlp_time(0) +
                 link.latency());
  }
};

DeviceConfig one_script_thread(std::vector<ScriptOp> ops) {
  return test::one_script_thread(std::move(ops), kPasid);
}

// One ATC invalidation of a page the device has read, submitted at 5 us: the time
// from the doorbell to the wait's interrupt, and the ATC invalidation latency.
struct OneInvalidation {
  double wait_ns = 0;
  double atc_latency_ns = 0;
  double cmd_ns = 0, status_write_ns = 0, round_trip_ns = 0;
  // The reference: a doorbell's register write, the first descriptor's fetch and
  // execution, the request's round trip and the wait's status write.
  double expected_wait_ns() const {
    return IommuConfig{}.register_latency_ns + cmd_ns + round_trip_ns + status_write_ns;
  }
};

OneInvalidation one_invalidation(System& s) {
  const uint64_t root = s.bind(kPasid);
  s.editor.map(root, kVa, s.alloc(), PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
  const uint64_t status = s.alloc();
  sc_time submitted, done;
  run_thread([&] {
    s.setup_command_queue();
    until(5000);
    submitted = sc_core::sc_time_stamp();
    s.invalidate_page(status, 1);
    sc_core::wait(s.iommu.completion_event());
    done = sc_core::sc_time_stamp();
  });
  OneInvalidation r;
  r.wait_ns = to_ns(done - submitted);
  const auto* inv = s.ctx.stats().find_as<Histogram>("iommu.command_queue.atc_inv_latency");
  EXPECT_EQ(inv->count(), 1u);
  r.atc_latency_ns = inv->max();
  const PhysicalMemoryConfig m = test::small_memory();
  const CommandQueueConfig cq;
  r.cmd_ns = m.access_latency_ns + 16 / m.channel_bandwidth_gb_per_s + cq.fetch_latency_ns +
             cq.process_latency_ns;
  r.status_write_ns = m.access_latency_ns + 4 / m.channel_bandwidth_gb_per_s;
  r.round_trip_ns = s.round_trip_ns();
  return r;
}

TEST(FaultInjection, WithoutAFaultTheWaitTakesOneRoundTrip) {
  // The reference for the late completion below (same bench, no fault): no fault
  // statistics group exists.
  System s(one_script_thread({ScriptOp::read(kVa)}));
  const OneInvalidation r = one_invalidation(s);
  EXPECT_DOUBLE_EQ(r.atc_latency_ns, r.round_trip_ns);
  EXPECT_NEAR(r.wait_ns, r.expected_wait_ns(), 0.002);
  EXPECT_EQ(s.ctx.stats().find_as<Counter>("dev.fault.late_completions"), nullptr);
}

TEST(FaultInjection, LateCompletionDelaysTheWaitByExactlyTheConfiguredTime) {
  DeviceConfig dc = one_script_thread({ScriptOp::read(kVa)});
  dc.fault.completion_delay_ns = 3000;
  System s(dc);
  const OneInvalidation r = one_invalidation(s);
  EXPECT_DOUBLE_EQ(r.atc_latency_ns, r.round_trip_ns + 3000);
  EXPECT_NEAR(r.wait_ns, r.expected_wait_ns() + 3000, 0.002);
  EXPECT_EQ(s.counter("dev.fault.late_completions"), 1u);
  EXPECT_EQ(s.counter("iommu.command_queue.itag_timeouts"), 0u);
}

TEST(FaultInjection, DroppedCompletionEndsInTheItagTimeoutAndTheResubmittedBatchCompletes) {
  // The first Invalidate Request gets no completion: the IOMMU frees its ITag after
  // itag_timeout_ns, sets FSTS.ITE and fails the wait (no status write, no IWC).
  // Software writes the batch again (the intel policy's answer) and that one completes.
  DeviceConfig dc = one_script_thread({ScriptOp::read(kVa)});
  dc.fault.drop_completions = 1;
  System s(dc, {}, with_itag_timeout(20000));
  const uint64_t root = s.bind(kPasid);
  s.editor.map(root, kVa, s.alloc(), PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
  const uint64_t status = s.alloc();
  bool first_completed = true, ite = false;
  uint64_t status_after_first = 0;
  sc_time submitted, failed_at, done;
  run_thread([&] {
    s.setup_command_queue();
    until(5000);
    submitted = sc_core::sc_time_stamp();
    s.invalidate_page(status, 1);
    sc_core::wait(sc_time(100, sc_core::SC_US), s.iommu.completion_event());
    first_completed = s.iommu.command_queue().iwc();
    ite = s.iommu.command_queue().ite();
    status_after_first = s.memory.read_u64(status);
    failed_at = sc_core::sc_time_stamp();
    s.iommu.command_queue().clear_ite();
    s.invalidate_page(status, 2);  // the retry
    sc_core::wait(s.iommu.completion_event());
    done = sc_core::sc_time_stamp();
  });
  EXPECT_FALSE(first_completed);
  EXPECT_TRUE(ite);
  EXPECT_EQ(status_after_first, 0u);
  EXPECT_EQ(s.memory.read_u64(status), 2u);
  EXPECT_EQ(s.counter("dev.fault.dropped_completions"), 1u);
  EXPECT_EQ(s.counter("dev.invalidation.invalidate_requests"), 2u);
  EXPECT_EQ(s.counter("dev.invalidation.invalidate_completions"), 1u);
  EXPECT_EQ(s.counter("iommu.command_queue.itag_timeouts"), 1u);
  EXPECT_EQ(s.counter("iommu.command_queue.failed_waits"), 1u);
  EXPECT_EQ(s.port.itags_in_flight(), 0u);
  EXPECT_GT(to_ns(done - submitted), 20000.0);
  EXPECT_LT(to_ns(done - failed_at), 5000.0);
}

TEST(FaultInjection, DuplicatedCompletionIsCountedStaleAndHarmless) {
  // The copy arrives right after the original, while its ITag is free (ITags are
  // allocated round robin): it completes nothing, and the command queue counts it as
  // stale when it takes it (here during the next invalidation's wait), which uses
  // another ITag and completes on its own completion.
  DeviceConfig dc = one_script_thread({ScriptOp::read(kVa)});
  dc.fault.duplicate_completions = 1;
  System s(dc);
  const uint64_t root = s.bind(kPasid);
  s.editor.map(root, kVa, s.alloc(), PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
  const uint64_t status = s.alloc();
  double first_ns = 0, second_ns = 0;
  run_thread([&] {
    s.setup_command_queue();
    until(5000);
    s.invalidate_page(status, 1);
    sc_core::wait(s.iommu.completion_event());
    first_ns = to_ns(sc_core::sc_time_stamp()) - 5000;
    until(20000);
    s.invalidate_page(status, 2);
    sc_core::wait(s.iommu.completion_event());
    second_ns = to_ns(sc_core::sc_time_stamp()) - 20000;
  });
  EXPECT_EQ(s.counter("dev.fault.duplicated_completions"), 1u);
  EXPECT_EQ(s.counter("dev.invalidation.invalidate_completions"), 3u);
  EXPECT_EQ(s.counter("iommu.command_queue.stale_completions"), 1u);
  EXPECT_EQ(s.counter("iommu.command_queue.itag_timeouts"), 0u);
  EXPECT_EQ(s.memory.read_u64(status), 2u);
  const auto* inv = s.ctx.stats().find_as<Histogram>("iommu.command_queue.atc_inv_latency");
  ASSERT_EQ(inv->count(), 2u);
  EXPECT_DOUBLE_EQ(inv->min(), s.round_trip_ns());  // neither completed early
  EXPECT_DOUBLE_EQ(inv->max(), s.round_trip_ns());
  EXPECT_NEAR(first_ns, second_ns, 0.002);
}

TEST(FaultInjection, EarlyCompletionCompletesTheWaitWhileTheAtcStillHoldsTheEntry) {
  DeviceConfig dc = one_script_thread({ScriptOp::read(kVa)});
  dc.fault.early_completion_ns = 5000;
  System s(dc);
  const uint64_t root = s.bind(kPasid);
  s.editor.map(root, kVa, s.alloc(), PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
  const uint64_t status = s.alloc();
  size_t entries_at_completion = 0, entries_later = 0;
  double wait_ns = 0;
  run_thread([&] {
    s.setup_command_queue();
    until(5000);
    s.invalidate_page(status, 1);
    sc_core::wait(s.iommu.completion_event());
    wait_ns = to_ns(sc_core::sc_time_stamp()) - 5000;
    entries_at_completion = s.dev.atc().cache().size();
    until(15000);
    entries_later = s.dev.atc().cache().size();
  });
  EXPECT_EQ(entries_at_completion, 1u);  // software was told the entry was gone
  EXPECT_EQ(entries_later, 0u);          // dropped 5 us after the completion was sent
  EXPECT_LT(wait_ns, 5000.0);
  EXPECT_EQ(s.counter("dev.fault.early_completions"), 1u);
  EXPECT_EQ(s.counter("dev.invalidation.atc_entries_invalidated"), 1u);
}

TEST(FaultInjection, UnsupportedRequestIsAnAccessErrorOfTheThreadAndCounted) {
  // The translation agent answers the first Translation Request with UR: the access
  // fails; the next access translates normally.
  DeviceConfig dc = one_script_thread({ScriptOp::read(kVa), ScriptOp::read(kVa)});
  dc.fault.translation_ur = 1;
  RootPortConfig pc;
  pc.requester_id = kRid;
  pc.fault_translation_ur = 1;
  System s(dc, pc);
  const uint64_t root = s.bind(kPasid);
  const uint64_t frame = s.alloc();
  s.memory.write_u64(frame, 0x4444);
  s.editor.map(root, kVa, frame, PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
  run_thread([] {});
  const auto& errors = s.dev.thread(0).errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].reason, "translation request failed");
  const auto& reads = s.dev.thread(0).reads();
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_FALSE(reads[0].ok);
  EXPECT_TRUE(reads[1].ok);
  EXPECT_EQ(reads[1].value, 0x4444u);
  EXPECT_EQ(s.counter("iommu.injected_translation_ur"), 1u);
  EXPECT_EQ(s.counter("dev.fault.ur_completions"), 1u);
  EXPECT_EQ(s.counter("dev.ats.translation_errors"), 1u);
  EXPECT_EQ(s.counter("dev.access_errors"), 1u);
}

// The device reads a page that is not mapped; software maps it and answers every
// Page Request Group with Success; the first PRG Response is lost. Returns the
// simulated time the read ended at (the thread's only read).
struct LostResponse {
  DmaThread::ReadRecord read{};
  std::vector<DmaThread::ErrorRecord> errors;
  uint64_t groups_answered = 0;
};

LostResponse lost_prg_response(System& s) {
  const uint64_t root = s.bind(kPasid);
  const uint64_t frame = s.alloc();
  s.memory.write_u64(frame, 0x5555);
  const uint64_t pqa = s.alloc();
  LostResponse r;
  run_thread([&] {
    s.setup_command_queue();
    s.write_reg(vtd_reg::kPqa, pqa);
    uint64_t head = 0;
    for (;;) {  // killed at the end of the run
      sc_core::wait(s.iommu.page_request_event());
      const uint64_t tail = s.read_reg(vtd_reg::kPqt);
      for (; head != tail; head = (head + 32) % 4096) {
        uint64_t raw[4];
        for (int i = 0; i < 4; ++i) raw[i] = s.memory.read_u64(pqa + head + 8 * i);
        const PageRequestDesc pr = PageRequestDesc::decode(raw);
        s.editor.map(root, kVa, frame, PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
        PageGroupResponseDesc resp;
        resp.pasid_present = true;
        resp.response_code = 0;  // Success
        resp.rid = kRid;
        resp.pasid = kPasid;
        resp.prg_index = pr.prg_index;
        s.submit(resp.encode());
        ++r.groups_answered;
      }
      s.write_reg(vtd_reg::kPqh, head);
    }
  });
  const auto& reads = s.dev.thread(0).reads();
  EXPECT_EQ(reads.size(), 1u);
  if (!reads.empty()) r.read = reads[0];
  r.errors = s.dev.thread(0).errors();
  return r;
}

TEST(FaultInjection, LostPrgResponseEndsInThePriTimeoutAndAnAccessError) {
  DeviceConfig dc = one_script_thread({ScriptOp::read(kVa)});
  dc.fault.lose_prg_responses = 1;
  dc.fault.pri_response_timeout_ns = 50000;
  dc.fault.pri_timeout_action = PriTimeoutAction::kError;
  System s(dc);
  const LostResponse r = lost_prg_response(s);
  EXPECT_FALSE(r.read.ok);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].reason, "PRG Response time-out");
  // The Page Request left right after the miss; the time-out runs from there.
  EXPECT_GE(to_ns(r.read.time), 50000.0);
  EXPECT_LT(to_ns(r.read.time), 52000.0);
  EXPECT_EQ(r.groups_answered, 1u);
  EXPECT_EQ(s.counter("dev.fault.lost_prg_responses"), 1u);
  EXPECT_EQ(s.counter("dev.fault.pri_response_timeouts"), 1u);
  EXPECT_EQ(s.counter("dev.pri.page_request_groups"), 1u);
  EXPECT_EQ(s.counter("dev.access_errors"), 1u);
  EXPECT_EQ(s.dev.pri().outstanding(), 0u);  // the credits came back
  EXPECT_EQ(s.dev.pri().outstanding_groups(), 0u);
}

TEST(FaultInjection, LostPrgResponseWithRetrySendsTheGroupAgainAndTheReadSucceeds) {
  DeviceConfig dc = one_script_thread({ScriptOp::read(kVa)});
  dc.fault.lose_prg_responses = 1;
  dc.fault.pri_response_timeout_ns = 50000;
  dc.fault.pri_timeout_action = PriTimeoutAction::kRetry;
  System s(dc);
  const LostResponse r = lost_prg_response(s);
  // The page was mapped when the lost response was sent: the retried translation
  // finds it without a second Page Request Group.
  EXPECT_TRUE(r.read.ok);
  EXPECT_EQ(r.read.value, 0x5555u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_GE(to_ns(r.read.time), 50000.0);
  EXPECT_EQ(r.groups_answered, 1u);
  EXPECT_EQ(s.counter("dev.fault.pri_response_timeouts"), 1u);
  EXPECT_EQ(s.counter("dev.pri.page_request_groups"), 1u);
  EXPECT_EQ(s.counter("dev.access_errors"), 0u);
}

TEST(FaultInjection, UnresponsiveDeviceEndsInTimeoutsAndTheRunTerminates) {
  // From 5 us the device answers nothing: the invalidation at 15 us times out in the
  // IOMMU (20 us), the thread's access at 10 us fails without a TLP and ends the
  // thread, and the simulation runs out of events (no hang).
  DeviceConfig dc = one_script_thread(
      {ScriptOp::read(kVa), ScriptOp::at_ns(10000), ScriptOp::read(kVa), ScriptOp::read(kVa)});
  dc.fault.unresponsive_from_ns = 5000;
  System s(dc, {}, with_itag_timeout(20000));
  const uint64_t root = s.bind(kPasid);
  s.editor.map(root, kVa, s.alloc(), PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
  const uint64_t status = s.alloc();
  bool completed = true, ite = false;
  int hooks = 0;
  s.dev.on_unresponsive([&] { ++hooks; });
  run_thread([&] {
    s.setup_command_queue();
    until(15000);
    s.invalidate_page(status, 1);
    sc_core::wait(sc_time(100, sc_core::SC_US), s.iommu.completion_event());
    completed = s.iommu.command_queue().iwc();
    ite = s.iommu.command_queue().ite();
  });
  EXPECT_LT(sc_core::sc_time_stamp(), sc_time(1, sc_core::SC_SEC));  // ran out of events
  EXPECT_FALSE(completed);
  EXPECT_TRUE(ite);
  EXPECT_EQ(hooks, 1);
  EXPECT_TRUE(s.dev.unresponsive());
  const auto& reads = s.dev.thread(0).reads();
  ASSERT_EQ(reads.size(), 2u);  // the thread ended at its first refused access
  EXPECT_TRUE(reads[0].ok);
  EXPECT_FALSE(reads[1].ok);
  ASSERT_EQ(s.dev.thread(0).errors().size(), 1u);
  EXPECT_EQ(s.dev.thread(0).errors()[0].reason, "device unresponsive");
  EXPECT_EQ(s.counter("dev.fault.refused_accesses"), 1u);
  EXPECT_EQ(s.counter("dev.fault.ignored_invalidate_requests"), 1u);
  EXPECT_EQ(s.counter("dev.invalidation.invalidate_completions"), 0u);
  EXPECT_EQ(s.counter("dev.memory_requests"), 1u);  // nothing sent after 5 us
  EXPECT_EQ(s.counter("iommu.command_queue.itag_timeouts"), 1u);
  EXPECT_EQ(s.counter("iommu.command_queue.failed_waits"), 1u);
}

}  // namespace
}  // namespace iosim
