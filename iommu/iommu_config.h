// Configuration of the IOMMU model: every latency, size and policy knob, with its
// default and where the default comes from.
//
// IommuConfig is the resolved runtime struct the Iommu module takes; RootPortConfig
// describes one PCIe root port and the device behind it (ATS/PRI capability as
// software enabled it in the device's configuration space).
//
// Simplifications: one clock-free description in ns (no IOMMU clock domain); sizes
// that have no published figure are marked as assumptions.
#pragma once

#include <cstdint>
#include <string>

#include "sc_models/cache/translation_cache.h"
#include "sc_models/config/choice.h"
#include "sc_models/pcie/ats_encoding.h"

namespace iosim {

struct IotlbConfig {
  // 64 entries of 4 KiB (256 KiB reach): pcie-bench (Neugebauer et al., "Understanding
  // PCIe performance for end host networking", SIGCOMM 2018; Gen3 x8, Broadwell Xeon,
  // random 64 B DMA reads over a growing window) keeps the median read latency at the
  // IOTLB-hit level up to a 512 KiB window and at the miss level from 1 MiB, from which
  // the authors infer an IOTLB of about 64 entries. Intel does not publish the size.
  // The organisation (8 sets x 8 ways) is an assumption.
  uint32_t sets = 8;
  uint32_t ways = 8;
  Replacement replacement = Replacement::kLru;
  // A few cycles at a ~1 GHz IOMMU clock (design target: "IOTLB lookup latency a few
  // ns at the IOMMU clock").
  double lookup_latency_ns = 3.0;
  // Lookups that can start per lookup time (pipelined lookup ports).
  uint32_t lookup_ports = 1;

  TranslationCacheConfig cache_config() const;
  template <class V>
  void visit(V& v) {
    v("sets", sets, "sets", "IOTLB sets (power of two)");
    v("ways", ways, "entries", "IOTLB ways per set");
    v.choice("replacement", replacement, kReplacement, "IOTLB victim choice");
    v("lookup_latency_ns", lookup_latency_ns, "ns", "IOTLB lookup time (hit or miss)");
    v("lookup_ports", lookup_ports, "ports", "IOTLB lookups served in parallel");
  }
};

struct WalkerConfig {
  // Page-walk cache entries per level (0 disables the level). Defaults cache PML4
  // and PDPT entries but not PD entries, so a miss with warm walk caches reads the
  // PDE and the PTE: 2 memory reads, matching the 1.9-2.4 reads per IOTLB miss
  // measured by the F&S artifact (Fast & Safe IO memory protection, SOSP 2024).
  uint32_t pml4e_cache_entries = 4;
  uint32_t pdpte_cache_entries = 16;
  uint32_t pde_cache_entries = 0;
  // Page walkers working in parallel; further misses queue (assumption: 4).
  uint32_t walkers = 4;
  // Fixed walker cost per miss besides its memory reads: dispatch, walk-cache lookup
  // and IOTLB fill. 90 ns + 2 x 93 ns DRAM reads + 3 ns IOTLB lookup = ~280 ns added
  // by a miss with warm walk caches (F&S artifact, SOSP 2024: ~280 ns per miss).
  double walk_overhead_ns = 90.0;

  template <class V>
  void visit(V& v) {
    v("pml4e_cache_entries", pml4e_cache_entries, "entries", "PML4E walk-cache entries");
    v("pdpte_cache_entries", pdpte_cache_entries, "entries", "PDPTE walk-cache entries");
    v("pde_cache_entries", pde_cache_entries, "entries", "PDE walk-cache entries");
    v("walkers", walkers, "walkers", "page walkers working in parallel");
    v("walk_overhead_ns", walk_overhead_ns, "ns",
      "walker time per miss besides memory reads (dispatch, walk-cache lookup, fill)");
  }
};

struct TableCacheConfig {
  // Assumptions: small fully associative LRU caches.
  uint32_t context_cache_entries = 64;
  uint32_t pasid_cache_entries = 128;
  // Lookup time of either cache, hit or miss.
  double lookup_latency_ns = 2.0;

  template <class V>
  void visit(V& v) {
    v("context_cache_entries", context_cache_entries, "entries",
      "context-cache entries (SMMUv3: STE cache)");
    v("pasid_cache_entries", pasid_cache_entries, "entries",
      "PASID-cache entries (SMMUv3: CD cache)");
    v("lookup_latency_ns", lookup_latency_ns, "ns",
      "context/PASID (SMMUv3: STE/CD) cache lookup time");
  }
};

struct CommandQueueConfig {
  // Assumptions for the queue processor, on top of the memory read of each
  // descriptor: decode/dispatch per fetch and per-command execution time.
  double fetch_latency_ns = 10.0;
  double process_latency_ns = 20.0;
  // ATC invalidation timeout. PCIe Base Spec (ATS chapter, "Invalidate Completion
  // timeout"): a Function must complete an invalidation within 1 minute (+50%/-0%);
  // the TA may time out after that. Scenarios usually lower it.
  double itag_timeout_ns = 60e9;

  template <class V>
  void visit(V& v) {
    v("fetch_latency_ns", fetch_latency_ns, "ns", "per-descriptor fetch overhead");
    v("process_latency_ns", process_latency_ns, "ns", "per-command execution time");
    v("itag_timeout_ns", itag_timeout_ns, "ns",
      "time after which an unanswered ATC invalidation is reported as failed");
  }
};

// Page Request Group Response code sent for a last-in-group request lost to overflow.
inline constexpr ChoiceValue<PrgResponseCode> kOverflowResponseValues[] = {
    {"success", PrgResponseCode::kSuccess, "the device faults again and re-requests (VT-d)"},
    {"failure", PrgResponseCode::kResponseFailure,
     "Response Failure: the device disables its PRI"}};
inline constexpr Choices<PrgResponseCode> kOverflowResponse{kOverflowResponseValues};

struct PageRequestQueueConfig {
  // Assumption: time to format a page request descriptor before its memory write.
  double write_latency_ns = 10.0;
  // Answer to a last-in-group page request dropped by a full queue: "success" (the
  // device retries, faults again and re-requests; VT-d behaviour) or "failure".
  PrgResponseCode overflow_response = PrgResponseCode::kSuccess;

  template <class V>
  void visit(V& v) {
    v("write_latency_ns", write_latency_ns, "ns", "per page request formatting time");
    v.choice("overflow_response", overflow_response, kOverflowResponse,
             "PRG response sent for a last-in-group request dropped on overflow");
  }
};

// The architecture of the IOMMU: which front-end the platform builds on the core.
enum class IommuArch : uint8_t { kVtd, kSmmuv3, kRiscv, kAmdvi };
inline constexpr ChoiceValue<IommuArch> kIommuArchValues[] = {
    {"vtd", IommuArch::kVtd, "Intel VT-d, scalable mode (iommu/vtd/)"},
    {"smmuv3", IommuArch::kSmmuv3, "Arm SMMUv3 (iommu/smmuv3/)"},
    {"riscv", IommuArch::kRiscv, "RISC-V IOMMU 1.0 (iommu/riscv/)"},
    {"amdvi", IommuArch::kAmdvi, "AMD-Vi (AMD I/O Virtualization Technology, iommu/amdvi/)"}};
inline constexpr Choices<IommuArch> kIommuArch{kIommuArchValues};

// What an SMMUv3 (iommu.arch = smmuv3) advertises in its ID registers (Arm IHI 0070,
// section 6.3).
struct Smmuv3Config {
  // IDR3.RIL: range invalidation (CMD_TLBI_* with TG, NUM, SCALE; section 4.4.1).
  // SMMUv3.2 and later may have it (Arm IHI 0070 D.a); Linux uses it when present.
  bool range_invalidation = true;

  template <class V>
  void visit(V& v) {
    v("range_invalidation", range_invalidation, "",
      "IDR3.RIL: the SMMU accepts range TLB invalidations");
  }
};

struct IommuConfig {
  IommuArch arch = IommuArch::kVtd;
  Smmuv3Config smmuv3;
  IotlbConfig iotlb;
  WalkerConfig walker;
  TableCacheConfig tables;
  CommandQueueConfig command_queue;
  PageRequestQueueConfig page_request_queue;
  // Fault recording registers (VT-d CAP.NFR + 1). Assumption: 8.
  uint32_t fault_records = 8;
  // Reject translated (AT=10) requests from a Function whose port has ATS disabled.
  bool check_translated_requests = false;
  // Time the IOMMU takes to answer a register access (assumption: an uncached MMIO
  // access to an on-die agent, ~50 ns).
  double register_latency_ns = 50.0;

  // Throws ParamError naming the first invalid parameter.
  void validate() const;

  template <class V>
  void visit(V& v) {
    v.choice("arch", arch, kIommuArch, "IOMMU architecture (front-end)");
    v.section("smmuv3", smmuv3);
    v.section("iotlb", iotlb);
    v.section("walker", walker);
    v.section("tables", tables);
    v.section("command_queue", command_queue);
    v.section("page_request_queue", page_request_queue);
    v("fault_records", fault_records, "records", "fault recording registers");
    v("check_translated_requests", check_translated_requests, "",
      "reject translated requests from Functions without ATS enabled");
    v("register_latency_ns", register_latency_ns, "ns", "register read/write latency");
  }
};

// One root port and the Function behind it.
struct RootPortConfig {
  // Requester ID of the Function (bus[15:8] dev[7:3] fn[2:0]); further IDs seen on
  // the port are learned.
  uint32_t requester_id = 0x0100;
  bool ats_enabled = true;
  bool pri_enabled = true;
  // ATS Capability "Invalidate Queue Depth": 1..31, 0 encodes 32.
  uint32_t invalidate_queue_depth = 0;
  // Fault injection (set from DeviceFaultConfig::translation_ur; 0: off): the
  // translation agent answers the first N Translation Requests from this port with
  // Completion Status Unsupported Request (PCIe Base 5.0, section 10.2.3). UR is what
  // a translation agent answers, so the fault is injected here, where it is generated.
  uint64_t fault_translation_ur = 0;

  uint32_t queue_depth() const { return invalidate_queue_depth == 0 ? 32 : invalidate_queue_depth; }
  void validate() const;

  template <class V>
  void visit(V& v) {
    v("requester_id", requester_id, "", "Requester ID of the Function behind the port");
    v("ats_enabled", ats_enabled, "", "ATS enabled in the Function");
    v("pri_enabled", pri_enabled, "", "PRI enabled in the Function");
    v("invalidate_queue_depth", invalidate_queue_depth, "requests",
      "ATS Invalidate Queue Depth (0 = 32)");
    v("fault_translation_ur", fault_translation_ur, "requests",
      "fault: answer the first N Translation Requests with Unsupported Request");
  }
};

}  // namespace iosim
