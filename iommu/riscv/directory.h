// DirectoryTables: the RISC-V IOMMU's device directory table and process directory
// tables in memory (spec 2.1, 2.2; formats in formats.h), fetched through the IOMMU's
// memory port and cached in a DDT cache (device contexts by device ID,
// tables.context_cache_entries) and a PDT cache (process contexts by device ID and
// process ID, tables.pasid_cache_entries).
//
// resolve() is the spec's "process to translate an IOVA" (2.3) up to the first-stage
// walk: ddtp.iommu_mode Off faults every request ("all inbound transactions
// disallowed", 256) and Bare passes it through; a device ID wider than the mode's
// levels, a process ID on a device without PDTV or wider than pdtp.MODE is "transaction
// type disallowed" (260); the device context is located through 1, 2 or 3 levels
// (2.3.1: DDI[0..2]; base-format contexts, capabilities.MSI_FLAT = 0) and the process
// context through the PDT (2.3.2: PD8 / PD17 / PD20). With PDTV = 0 the device context's
// own iosatp and PSCID translate; with PDTV = 1 a request without process ID uses
// process 0 when DPE = 1, else its first stage is Bare (steps 11 - 13). Faults: a
// table read that fails is a load access fault (257 DDT, 265 PDT), V = 0 "not valid"
// (258, 266), a context or non-leaf entry failing decode() "misconfigured" (259, 267).
//
// Timing: tables.lookup_latency_ns per cache lookup (device context, then process
// context), plus the memory reads of a miss (8 bytes per non-leaf level, 32 for the
// device context, 16 for the process context).
//
// Simplifications: both caches are fully associative LRU; non-leaf entries are not
// cached; contexts found invalid or misconfigured are not cached; invalidating a device
// context also drops its process contexts (the spec's IODIR.INVAL_DDT does).
#pragma once

#include <systemc>

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "iommu/iommu_config.h"
#include "iommu/memory_port.h"
#include "iommu/riscv/formats.h"
#include "sc_models/observe/stats.h"

namespace iosim::riscv {

// A device's context as located for one request or message.
struct DeviceLookup {
  std::optional<Cause> fault;
  bool bare = false;  // ddtp.iommu_mode = Bare: no device context
  DeviceContext dc;
  bool ok() const { return !fault; }
};

// What the tables say about one request's first stage.
struct Resolved {
  std::optional<Cause> fault;
  bool pass_through = false;  // ddtp Bare, or a Bare first stage
  bool ats_allowed = false;   // DC.tc.EN_ATS
  bool ens = false;           // privileged requests allowed (PC.ta.ENS)
  uint32_t pscid = 0;
  uint64_t root = 0;  // the first-stage root (PML4)
  bool ok() const { return !fault; }
};

class DirectoryTables {
 public:
  // Process ID bits (PD20) and device ID bits (3-level, base format) the IOMMU supports.
  static constexpr unsigned kPidBits = 20;
  static constexpr unsigned kDidBits = 24;

  DirectoryTables(const TableCacheConfig& cfg, MemoryPort& mem, StatGroup& stats);

  // ddtp (spec 5.5): every mode is supported, so a write takes effect; busy reads 0.
  void write_ddtp(uint64_t v);
  uint64_t ddtp() const { return ddtp_; }
  IommuMode mode() const;

  // Steps 1 - 6 of 2.3 for `did`: the device context (through the DDT cache).
  DeviceLookup locate_device(uint32_t did, sc_core::sc_time& delay);
  // The first stage of a request of `did` with process ID `pid`.
  Resolved resolve(uint32_t did, std::optional<uint32_t> pid, sc_core::sc_time& delay);

  // IODIR.INVAL_DDT: one device's context and its process contexts, or all of them.
  void invalidate_ddt(std::optional<uint32_t> did);
  // IODIR.INVAL_PDT.
  void invalidate_pdt(uint32_t did, uint32_t pid);

  size_t ddt_cache_size() const { return dc_lru_.size(); }
  size_t pdt_cache_size() const { return pc_lru_.size(); }

 private:
  using PcKey = std::pair<uint32_t, uint32_t>;  // device ID, process ID
  std::optional<Cause> fetch_dc(uint32_t did, DeviceContext& dc, sc_core::sc_time& delay);
  std::optional<Cause> fetch_pc(const DeviceContext& dc, uint32_t pid, ProcessContext& pc,
                                sc_core::sc_time& delay);
  bool read(uint64_t addr, uint64_t* words, unsigned count, sc_core::sc_time& delay);
  void insert_dc(uint32_t did, const DeviceContext& dc);
  void insert_pc(const PcKey& k, const ProcessContext& pc);

  TableCacheConfig cfg_;
  MemoryPort& mem_;
  uint64_t ddtp_ = 0;  // iommu_mode Off at reset
  sc_core::sc_time lookup_;

  std::list<std::pair<uint32_t, DeviceContext>> dc_lru_;  // front = most recent
  std::unordered_map<uint32_t, decltype(dc_lru_)::iterator> dc_index_;
  std::list<std::pair<PcKey, ProcessContext>> pc_lru_;
  std::map<PcKey, decltype(pc_lru_)::iterator> pc_index_;

  Counter& ddt_hits_;
  Counter& ddt_misses_;
  Counter& pdt_hits_;
  Counter& pdt_misses_;
  Counter& reads_;
};

}  // namespace iosim::riscv
