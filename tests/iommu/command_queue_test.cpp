// CommandQueue timing with and without the lookahead: commands other than the last
// one written keep their execution time as annotated delay when nothing else can
// run (sc_models/timing/lookahead.h); every downstream message, the status write and the
// completion interrupt must keep the times of waiting for each command.
#include "iommu/vtd/command_queue.h"

#include <gtest/gtest.h>

#include <vector>

#include "iommu_bench.h"
#include "sc_models/timing/lookahead.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using test::IommuBench;
using test::kRid;

struct Times {
  sc_time tail_written;       // the IQT write took effect
  std::vector<sc_time> sent;  // downstream messages, in order
  std::vector<PcieKind> kinds;
  sc_time irq;         // completion interrupt of the inv_wait
  uint64_t skips = 0;  // lookahead skips during the run
};

// Writes four descriptors with one tail write: a page-selective PASID IOTLB
// invalidation, a device-TLB invalidation, a page group response and an inv_wait
// (status write and interrupt); the device answers the invalidation 1 us after its
// request was sent.
Times run_batch(bool lookahead) {
  IommuBench b;
  b.ctx.lookahead().set_enabled(lookahead);
  Times t;
  b.down.hook = [&t](tlm::tlm_generic_payload& gp, sc_time& d) {
    if (auto* e = PcieExtension::of(gp)) {
      t.sent.push_back(sc_core::sc_time_stamp() + d);
      t.kinds.push_back(e->kind());
    }
  };
  const uint64_t status = 0x90000;
  const uint64_t skips0 = b.ctx.lookahead().skips();
  test::run_thread([&] {
    b.setup_command_queue();
    b.bind(5);
    const SBitAddress a = encode_s_range(0x1000, 0x1000);
    const Desc128 descs[] = {PasidIotlbInv{PasidIotlbInv::kPage, 1, 5, 0x1000, 0, false}.encode(),
                             DevTlbInv{true, kRid, 0, 5, a.address, a.s, false}.encode(),
                             PageGroupResponseDesc{true, 0, kRid, 5, true, 3}.encode(),
                             InvWait{true, true, false, 0xC0FFEE, status}.encode()};
    for (const Desc128& d : descs) {
      b.write_entry(b.cq_base + b.cq_tail, d);
      b.cq_tail += 16;
    }
    b.write_reg(vtd_reg::kIqt, b.cq_tail);
    t.tail_written = sc_core::sc_time_stamp();
    sc_core::wait(ns(1000));  // the request is sent well before
    if (t.sent.empty()) return;
    sc_core::wait(t.sent[0] + ns(1000) - sc_core::sc_time_stamp());
    InvalidateCompletion c;
    c.requester_id = kRid;
    c.itag_vector = 1u << 0;
    c.completion_count = 1;
    b.message(c);
    sc_core::wait(b.iommu.completion_event());
    t.irq = sc_core::sc_time_stamp();
  });
  t.skips = b.ctx.lookahead().skips() - skips0;
  EXPECT_EQ(b.memory.read_u64(status), 0xC0FFEEu);
  return t;
}

// The times every command must have: each takes a 16-byte fetch, the fetch and
// the processing latency, one after the other from the tail write.
void expect_exact_times(const Times& t) {
  const CommandQueueConfig cq = IommuConfig{}.command_queue;
  const PhysicalMemoryConfig m = test::small_memory();
  const double cmd_ns = m.access_latency_ns + 16 / m.channel_bandwidth_gb_per_s +
                        cq.fetch_latency_ns + cq.process_latency_ns;
  ASSERT_EQ(t.sent.size(), 2u);
  EXPECT_EQ(t.kinds[0], PcieKind::kInvalidateRequest);
  EXPECT_EQ(t.kinds[1], PcieKind::kPrgResponse);
  EXPECT_EQ(t.sent[0], t.tail_written + ns(2 * cmd_ns));
  EXPECT_EQ(t.sent[1], t.tail_written + ns(3 * cmd_ns));
  // The inv_wait: its fetch and processing, then (after the completion, 1 us after
  // the request) the 4-byte status write; the interrupt is at its end.
  const sc_time completion = t.sent[0] + ns(1000);
  const sc_time wait_ready = t.tail_written + ns(4 * cmd_ns);
  const double status_write_ns = m.access_latency_ns + 4 / m.channel_bandwidth_gb_per_s;
  EXPECT_EQ(t.irq, std::max(completion, wait_ready) + ns(status_write_ns));
}

TEST(CommandQueue, CommandsBeforeTheLastKeepTheirTimesWithTheLookahead) {
  const Times t = run_batch(true);
  expect_exact_times(t);
  EXPECT_GE(t.skips, 2u);  // the IOTLB invalidation's and the dev-TLB one's waits
}

TEST(CommandQueue, CommandsBeforeTheLastKeepTheirTimesWithoutTheLookahead) {
  const Times t = run_batch(false);
  expect_exact_times(t);
  EXPECT_EQ(t.skips, 0u);
}

// Two ATC invalidations in flight while the processor waits for them: the
// completion announced first arrives last. The wait completes at the later arrival,
// each ITag's latency is counted at its own arrival, and a completion for an ITag
// no longer in flight (delivered while the processor does not wait) is stale.
TEST(CommandQueue, WaitingProcessorTakesCompletionsAtTheirArrival) {
  IommuBench b;
  std::vector<sc_time> sent;
  b.down.hook = [&sent](tlm::tlm_generic_payload&, sc_time& d) {
    sent.push_back(sc_core::sc_time_stamp() + d);
  };
  const uint64_t status = 0x90000;
  sc_time announced, irq;
  test::run_thread([&] {
    b.setup_command_queue();
    const SBitAddress a = encode_s_range(0x1000, 0x1000);
    b.submit(DevTlbInv{true, kRid, 0, 5, a.address, a.s, false}.encode());
    b.submit(DevTlbInv{true, kRid, 0, 5, a.address, a.s, false}.encode());
    b.submit(InvWait{true, true, false, 7, status}.encode());
    sc_core::wait(ns(2000));
    announced = sc_core::sc_time_stamp();
    InvalidateCompletion c;
    c.requester_id = kRid;
    c.completion_count = 1;
    CommandQueue& cq = b.iommu.command_queue();
    c.itag_vector = 1u << 1;
    cq.on_invalidate_completion(b.port, c, ns(500));
    c.itag_vector = 1u << 0;
    cq.on_invalidate_completion(b.port, c, ns(200));
    sc_core::wait(b.iommu.completion_event());
    irq = sc_core::sc_time_stamp();
    cq.on_invalidate_completion(b.port, c, ns(10));  // ITag 0 is free by now
    sc_core::wait(ns(100));
  });
  ASSERT_EQ(sent.size(), 2u);
  const PhysicalMemoryConfig m = test::small_memory();
  const double status_write_ns = m.access_latency_ns + 4 / m.channel_bandwidth_gb_per_s;
  EXPECT_EQ(irq, announced + ns(500 + status_write_ns));
  EXPECT_EQ(b.memory.read_u64(status), 7u);
  EXPECT_EQ(b.port.itags_in_flight(), 0u);
  const auto* lat = b.ctx.stats().find_as<Histogram>("iommu.command_queue.atc_inv_latency");
  ASSERT_NE(lat, nullptr);
  ASSERT_EQ(lat->count(), 2u);
  EXPECT_DOUBLE_EQ(lat->min(), to_ns(announced + ns(200) - sent[0]));
  EXPECT_DOUBLE_EQ(lat->max(), to_ns(announced + ns(500) - sent[1]));
  const auto* stale = b.ctx.stats().find_as<Counter>("iommu.command_queue.stale_completions");
  ASSERT_NE(stale, nullptr);
  EXPECT_EQ(stale->value(), 1u);
}

// A split answer (Completion Count 3): the ITag is retired and the wait completes
// only when the third completion arrives; a fourth (a duplicate) is stale.
TEST(CommandQueue, ItagRetiresAfterTheLastOfCompletionCountCompletions) {
  IommuBench b;
  const uint64_t status = 0x90000;
  sc_time announced, irq;
  unsigned in_flight_after_two = 99;
  test::run_thread([&] {
    b.setup_command_queue();
    const SBitAddress a = encode_s_range(0x1000, 0x1000);
    b.submit(DevTlbInv{true, kRid, 0, 5, a.address, a.s, false}.encode());
    b.submit(InvWait{true, true, false, 7, status}.encode());
    sc_core::wait(ns(2000));
    announced = sc_core::sc_time_stamp();
    InvalidateCompletion c;
    c.requester_id = kRid;
    c.itag_vector = 1u << 0;
    c.completion_count = 3;
    CommandQueue& cq = b.iommu.command_queue();
    cq.on_invalidate_completion(b.port, c, ns(200));
    cq.on_invalidate_completion(b.port, c, ns(300));
    cq.on_invalidate_completion(b.port, c, ns(400));
    sc_core::wait(ns(350));
    in_flight_after_two = b.port.itags_in_flight();
    sc_core::wait(b.iommu.completion_event());
    irq = sc_core::sc_time_stamp();
    cq.on_invalidate_completion(b.port, c, ns(10));  // a duplicate: ITag 0 is free
    sc_core::wait(ns(100));
  });
  EXPECT_EQ(in_flight_after_two, 1u);
  const PhysicalMemoryConfig m = test::small_memory();
  const double status_write_ns = m.access_latency_ns + 4 / m.channel_bandwidth_gb_per_s;
  EXPECT_EQ(irq, announced + ns(400 + status_write_ns));
  EXPECT_EQ(b.memory.read_u64(status), 7u);
  EXPECT_EQ(b.port.itags_in_flight(), 0u);
  EXPECT_EQ(b.ctx.stats().find_as<Counter>("iommu.command_queue.stale_completions")->value(), 1u);
  EXPECT_EQ(b.ctx.stats().find_as<Histogram>("iommu.command_queue.atc_inv_latency")->count(), 1u);
}

}  // namespace
}  // namespace iosim
