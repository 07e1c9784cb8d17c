// Temporal decoupling of the IOMMU's upstream path (iommu/memory_port.h): with a
// non-zero global quantum, untranslated requests and Translation Requests sent by a
// decoupled initiator (annotated delay = its local time) are translated and
// forwarded to memory without a wait per request; the same requests take the same
// simulated time as with a zero quantum. Each test runs in its own process, so each
// sets its own quantum.
#include <gtest/gtest.h>

#include <systemc>
#include <tlm>

// After <systemc>: the keeper header does not include the kernel declarations.
#include <tlm_utils/tlm_quantumkeeper.h>

#include "iommu/iommu.h"
#include "iommu_bench.h"
#include "sc_models/timing/lookahead.h"

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;
using test::IommuBench;

constexpr uint64_t kVa = 0x40000000;
constexpr uint64_t kRequests = 1000;
constexpr double kGapNs = 10;  // the initiator's own time between requests

struct Outcome {
  sc_time elapsed;           // simulated time of the measured requests
  uint64_t evaluations = 0;  // sc_delta_count() over them
  uint64_t ok = 0;           // requests answered OK (reads and ATS successes)
  uint64_t iotlb_misses = 0;
};

// After one exact warm-up read (walk, IOTLB fill), the test thread sends kRequests
// requests, alternately an 8-byte untranslated read and a Translation Request of
// the same page (both IOTLB hits), as a decoupled initiator with a quantum keeper.
Outcome run(const sc_time& quantum, bool lookahead = true) {
  tlm::tlm_global_quantum::instance().set(quantum);
  IommuBench b;
  b.ctx.lookahead().set_enabled(lookahead);
  const uint64_t root = b.bind(1);
  b.editor.map(root, kVa, 0x200000, PageSize::k4K, IommuBench::kUserRw);
  Outcome r;
  test::run_thread([&] {
    uint64_t v = 0;
    ASSERT_EQ(b.dma(1, kVa, false, &v, 8), tlm::TLM_OK_RESPONSE);
    const uint64_t misses = b.iommu.iotlb().misses();
    const sc_time t0 = sc_core::sc_time_stamp();
    const uint64_t e0 = sc_core::sc_delta_count();
    tlm_utils::tlm_quantumkeeper qk;
    qk.reset();
    for (uint64_t i = 0; i < kRequests; ++i) {
      qk.inc(sc_time(kGapNs, SC_NS));
      sc_time d = qk.get_local_time();
      if (i % 2 == 0) {
        PcieExtension ext =
            PcieExtension::memory(test::kRid, AddressType::kUntranslated, PasidPrefix::with(1));
        if (b.dev.transport(tlm::TLM_READ_COMMAND, kVa + 8 * (i % 512), &v, 8, d, &ext) ==
            tlm::TLM_OK_RESPONSE) {
          ++r.ok;
        }
      } else {
        PcieExtension ext = PcieExtension::translation_request(test::kRid, PasidPrefix::with(1));
        uint64_t entry = 0;
        b.dev.transport(tlm::TLM_READ_COMMAND, kVa, &entry, 8, d, &ext);
        if (ext.completion_status == AtsCompletionStatus::kSuccess && ext.completions.size() == 1 &&
            ext.completions[0].read) {
          ++r.ok;
        }
      }
      qk.set(d);
      if (qk.need_sync()) qk.sync();
    }
    qk.sync();
    r.elapsed = sc_core::sc_time_stamp() - t0;
    r.evaluations = sc_core::sc_delta_count() - e0;
    r.iotlb_misses = b.iommu.iotlb().misses() - misses;
  });
  return r;
}

// Every request: the gap and an IOTLB lookup; reads also one 8-byte memory read
// (access latency plus transfer time, each in whole picoseconds as the memory
// adds them).
sc_time expected_elapsed() {
  const IommuConfig c;
  const PhysicalMemoryConfig m = test::small_memory();
  const sc_time read =
      sc_time(m.access_latency_ns, SC_NS) + sc_time(8 / m.channel_bandwidth_gb_per_s, SC_NS);
  return static_cast<double>(kRequests) * sc_time(kGapNs + c.iotlb.lookup_latency_ns, SC_NS) +
         static_cast<double>(kRequests / 2) * read;
}

TEST(IommuTemporalDecoupling, WithoutQuantumEveryRequestSynchronises) {
  const Outcome r = run(sc_core::SC_ZERO_TIME, false);
  EXPECT_EQ(r.ok, kRequests);
  EXPECT_EQ(r.iotlb_misses, 0u);
  EXPECT_EQ(r.elapsed, expected_elapsed());
  // A read waits three times (the IOMMU synchronising to its arrival and to the end
  // of its translation, the initiator to its completion), a Translation Request
  // twice; the initiator's final sync once more.
  EXPECT_EQ(r.evaluations, kRequests / 2 * 3 + kRequests / 2 * 2 + 1);
}

// With the lookahead (sc_models/timing/lookahead.h) and one initiator, the IOMMU never
// has to wait: nothing else can run before a request's arrival or the end of its
// translation. Same results and times; one wait per request, the initiator's.
TEST(IommuTemporalDecoupling, WithoutQuantumALoneInitiatorsRequestsNeedNoIommuWait) {
  const Outcome r = run(sc_core::SC_ZERO_TIME, true);
  EXPECT_EQ(r.ok, kRequests);
  EXPECT_EQ(r.iotlb_misses, 0u);
  EXPECT_EQ(r.elapsed, expected_elapsed());
  EXPECT_EQ(r.evaluations, kRequests + 1);
}

TEST(IommuTemporalDecoupling, WithAQuantumTheIommuMakesNoWaitPerRequest) {
  const sc_time quantum(1, sc_core::SC_US);
  const Outcome r = run(quantum);
  EXPECT_EQ(r.ok, kRequests);
  EXPECT_EQ(r.iotlb_misses, 0u);
  EXPECT_EQ(r.elapsed, expected_elapsed());
  // Only at quantum boundaries: the IOMMU when a request's annotated time crosses
  // one, the initiator when its local time does (at most both per quantum), and the
  // final sync; 2501 without a quantum.
  const auto quanta = static_cast<uint64_t>(expected_elapsed() / quantum);
  EXPECT_EQ(quanta, 58u);
  EXPECT_GE(r.evaluations, quanta);
  EXPECT_LE(r.evaluations, 2 * quanta + 1);
}

}  // namespace
}  // namespace iosim
