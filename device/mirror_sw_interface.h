// What software sees of a mirror device's MMU (device.N.kind = mirror), and all that
// the OS model (os/) includes of device/: the register map, the in-memory formats the
// driver and the device share, and the interrupt line.
//
// A mirror device keeps its own page table (the x86-64 4-level format of
// sc_models/page_table, in system memory, filled by its driver) and a TLB, and sends
// physical addresses upstream (the IOMMU passes them through). PCIe defines no
// interface for such an MMU; this block is the project's own, shaped like the
// replayable-fault designs of GPUs and RDMA NICs (a fault buffer in memory, a replay
// doorbell, a TLB invalidation doorbell with a completion write):
//
// Registers (64-bit, 8-byte accesses over TLM: the Device's `regs` target socket, each
// access taking the device's mirror.mmio_latency_ns):
//   0x00 CTX_SEL     w   context (0..kMirrorContexts-1) the next CTX_ROOT write programs
//   0x08 CTX_ROOT    w   root (PML4 frame) of the selected context's page table | bit 0 V;
//                        0 disables the context (its accesses fault)
//   0x10 FAULT_BASE  w   fault buffer base (4 KiB aligned); resets PUT and GET
//   0x18 FAULT_PUT   r   index of the next record the device writes
//   0x20 FAULT_GET   rw  index of the next record software reads
//   0x28 REPLAY      w   any value: the accesses stalled on a fault walk again
//   0x30 INV_CTX     w   context of the next TLB invalidation
//   0x38 INV_START   w   first byte of its range (4 KiB aligned)
//   0x40 INV_END     w   end of its range (exclusive)
//   0x48 INV_STATUS  w   address of the status word the completion writes
//   0x50 INV_DOORBELL w  a sequence number: the device drops the TLB entries of the
//                        range, waits until no access in flight uses one of them, then
//                        writes the sequence number (8 bytes) to the status word and
//                        raises the invalidation interrupt
// Unknown offsets read 0 and ignore writes.
//
// Fault buffer: kMirrorFaultRecords records of 16 bytes (a ring indexed modulo its
// size): qw0 = faulting address (4 KiB aligned) | bit 0 write; qw1 = context. The
// device writes a record, advances PUT and raises the fault interrupt; a full buffer
// (PUT + 1 == GET) drops the record (the access still waits for a replay).
//
// MirrorConfig (device.N.mirror.*) holds the MMU's parameters and the choices of the
// device's driver (os/mirror_driver.h): how it subscribes to the mm's notifiers and
// when it drops its page references.
#pragma once

#include <systemc>

#include <cstdint>
#include <string>
#include <utility>

#include "sc_models/config/choice.h"
#include "sc_models/config/params.h"

namespace iosim {

namespace mirror_reg {
inline constexpr uint64_t kCtxSel = 0x00;
inline constexpr uint64_t kCtxRoot = 0x08;
inline constexpr uint64_t kFaultBase = 0x10;
inline constexpr uint64_t kFaultPut = 0x18;
inline constexpr uint64_t kFaultGet = 0x20;
inline constexpr uint64_t kReplay = 0x28;
inline constexpr uint64_t kInvCtx = 0x30;
inline constexpr uint64_t kInvStart = 0x38;
inline constexpr uint64_t kInvEnd = 0x40;
inline constexpr uint64_t kInvStatus = 0x48;
inline constexpr uint64_t kInvDoorbell = 0x50;
inline constexpr uint64_t kCtxRootValid = 1;
}  // namespace mirror_reg

// Contexts (address spaces) one mirror device holds at once.
inline constexpr uint32_t kMirrorContexts = 16;
// Records of the fault buffer (one 4 KiB frame of 16-byte records).
inline constexpr uint32_t kMirrorFaultRecords = 256;
inline constexpr uint32_t kMirrorFaultRecordBytes = 16;

struct MirrorFaultRecord {
  uint64_t va = 0;  // 4 KiB aligned
  bool write = false;
  uint32_t context = 0;
  void encode(uint64_t out[2]) const {
    out[0] = (va & ~uint64_t{0xfff}) | (write ? 1 : 0);
    out[1] = context;
  }
  static MirrorFaultRecord decode(const uint64_t in[2]) {
    MirrorFaultRecord r;
    r.va = in[0] & ~uint64_t{0xfff};
    r.write = in[0] & 1;
    r.context = static_cast<uint32_t>(in[1]);
    return r;
  }
};

// The mirror device's interrupt as software is wired to it (an MSI in hardware).
class MirrorDeviceInterrupts : public virtual sc_core::sc_interface {
 public:
  // Fault records were written to the fault buffer.
  virtual const sc_core::sc_event& fault_event() const = 0;
  // A TLB invalidation's status write reached memory.
  virtual const sc_core::sc_event& invalidation_event() const = 0;
};

// The notifier interface the driver subscribes with.
enum class MirrorApi { kInterval, kRange };
inline constexpr ChoiceValue<MirrorApi> kMirrorApiValues[] = {
    {"interval", MirrorApi::kInterval,
     "mmu_interval_notifier: read_begin/read_retry around a fault-in, set_seq in invalidate"},
    {"range", MirrorApi::kRange,
     "invalidate_range_start/end: ranges in progress block new device PTEs until their end"}};
inline constexpr Choices<MirrorApi> kMirrorApi{kMirrorApiValues};

// When a range-API driver drops the page reference it took when it mapped a page
// (include/linux/mmu_notifier.h, invalidate_range_start/end).
enum class MirrorRefcount { kDropAtStart, kDropAtEnd, kDropBeforeFlush };
inline constexpr ChoiceValue<MirrorRefcount> kMirrorRefcountValues[] = {
    {"drop_at_start", MirrorRefcount::kDropAtStart,
     "invalidate_range_start flushes the device TLB, then drops the references"},
    {"drop_at_end", MirrorRefcount::kDropAtEnd,
     "invalidate_range_end flushes the device TLB, then drops the references"},
    {"drop_before_flush", MirrorRefcount::kDropBeforeFlush,
     "wrong on purpose: start drops the references, end flushes (the VM may free a page "
     "the device TLB still maps)"}};
inline constexpr Choices<MirrorRefcount> kMirrorRefcount{kMirrorRefcountValues};

struct MirrorConfig {
  // --- the device's MMU ---
  // A register read by the CPU is a non-posted MMIO read across the link and back.
  // Assumed ~1 us: the order of the 64 B DMA read round trip this project calibrates
  // to (~600 ns, pcie-bench) plus the root complex's MMIO path; not calibrated.
  double mmio_read_ns = 1000.0;
  // A register write is posted: the core's uncached store leaves it. Assumed.
  double mmio_write_ns = 100.0;
  // Time the device takes to start a TLB invalidation (look up and drop entries),
  // before it waits for accesses in flight. Assumed, like the ATS device's
  // invalidation_processing_latency_ns.
  double invalidation_processing_ns = 500.0;
  // --- its driver ---
  MirrorApi api = MirrorApi::kInterval;
  MirrorRefcount refcount = MirrorRefcount::kDropAtStart;
  // interval: a fault-in checks mmu_interval_read_retry under the driver lock before
  // it writes the device PTE. false skips the check (a driver bug, to show the
  // collision it lets through).
  bool check_retry = true;
  // The fault interrupt wakes the driver's threaded handler: one scheduler wake-up
  // (os/exec_context.h kDefaultWakeupLatencyNs).
  double fault_entry_ns = 1000.0;
  // Estimate: the driver's bookkeeping per faulted page (hmm_range_fault setup, pfn
  // array, lookup of its own structures).
  double per_fault_ns = 300.0;
  // Estimate: one device PTE write into the (cached) page table in memory.
  double pte_write_ns = 20.0;
  // Core the driver's fault handler thread runs on.
  int cpu = 0;

  template <class V>
  void visit(V& v) {
    v("mmio_read_ns", mmio_read_ns, "ns", "kind mirror: register read (MMIO round trip)");
    v("mmio_write_ns", mmio_write_ns, "ns", "kind mirror: register write (posted)");
    v("invalidation_processing_ns", invalidation_processing_ns, "ns",
      "kind mirror: TLB invalidation processing before waiting for users");
    v.choice("api", api, kMirrorApi, "kind mirror: the driver's notifier interface");
    v.choice("refcount", refcount, kMirrorRefcount,
             "kind mirror, api range: when the driver drops its page references");
    v("check_retry", check_retry, "",
      "kind mirror, api interval: check read_retry before writing a device PTE");
    v("fault_entry_ns", fault_entry_ns, "ns", "kind mirror: fault interrupt to handler thread");
    v("per_fault_ns", per_fault_ns, "ns", "kind mirror: driver bookkeeping per faulted page");
    v("pte_write_ns", pte_write_ns, "ns", "kind mirror: one device PTE write");
    v("cpu", cpu, "", "kind mirror: core the driver's fault handler runs on");
  }
  // Throws ParamError naming `prefix` + the parameter.
  void validate(const std::string& prefix) const {
    const std::pair<const char*, double> non_negative[] = {
        {"mmio_read_ns", mmio_read_ns},
        {"mmio_write_ns", mmio_write_ns},
        {"invalidation_processing_ns", invalidation_processing_ns},
        {"fault_entry_ns", fault_entry_ns},
        {"per_fault_ns", per_fault_ns},
        {"pte_write_ns", pte_write_ns}};
    for (const auto& [name, value] : non_negative) {
      if (!(value >= 0)) throw ParamError(prefix + name + ": must be >= 0");
    }
    if (cpu < 0) throw ParamError(prefix + "cpu: must be >= 0");
  }
};

// The checkers' tag of a mirror device's context: device accesses and invalidations of
// context `ctx` of the device with requester ID `rid` are reported under it (the
// requests themselves carry no PASID). Above every PASID the SVA driver hands out.
constexpr uint32_t mirror_context_tag(uint16_t rid, uint32_t ctx) {
  return 0x80000u + (uint32_t{rid} & 0x7fffu) * kMirrorContexts + ctx;
}

}  // namespace iosim
