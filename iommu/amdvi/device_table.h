// DeviceTable: the AMD-Vi device table and the GCR3 tables in memory (AMD IOMMU
// specification #48882, 2.2.2 and 2.2.6; formats in formats.h), fetched through the
// IOMMU's memory port and cached in a device table entry cache (by DeviceID,
// tables.context_cache_entries) and a GCR3 cache (by DeviceID + PASID, with the DTE's
// DomainID, tables.pasid_cache_entries).
//
// lookup() gives the context of one request:
//  - DeviceID beyond the table (Device Table Base Size) or a DTE with reserved bits set:
//    ILLEGAL_DEV_TABLE_ENTRY (RZ); a DTE read that failed: DEV_TAB_HARDWARE_ERROR;
//  - V = 0 or TV = 0: the request passes through untranslated (2.2.2.1: no translation
//    information; as QEMU's amdvi_do_translate does);
//  - IR = IW = 0 (Linux's blocked DTE, clear_dte_entry): every access faults,
//    IO_PAGE_FAULT with PE;
//  - a request with a PASID: DTE.GV = 1 is needed (else INVALID_DEVICE_REQUEST); the
//    PASID must lie within EFR.PASmax and the GCR3 table's GLX + 1 levels of 9 bits
//    (else INVALID_DEVICE_REQUEST); the GCR3 walk reads one 8-byte entry per level
//    (Linux __get_gcr3_pte's indexing), an entry with V = 0 is IO_PAGE_FAULT (GN, not
//    present), a failed read PAGE_TAB_HARDWARE_ERROR; the leaf's root is the guest CR3;
//  - a request without PASID: Mode = 0 passes through; Mode != 0 (host page tables) is
//    not modelled and reported as ILLEGAL_DEV_TABLE_ENTRY.
// A fault carries the event the IOMMU logs for it (TableEvent).
//
// Timing: tables.lookup_latency_ns per cache lookup (DTE, then GCR3), plus the memory
// reads of a miss (the 32-byte DTE; 8 bytes per GCR3 level).
//
// Simplifications: fully associative LRU caches; faulting lookups are not cached;
// IR/IW are all-or-nothing (either one set allows both accesses); DTE.SE/SA (event
// suppression) are not consulted.
#pragma once

#include <systemc>

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

#include "iommu/amdvi/formats.h"
#include "iommu/iommu_config.h"
#include "iommu/memory_port.h"
#include "iommu/translator.h"
#include "sc_models/observe/stats.h"

namespace iosim::amdvi {

// The event a table fault logs.
struct TableEvent {
  EventCode code = EventCode::kIllegalDevTableEntry;
  uint16_t flags = 0;
};

// What the tables say about one request.
struct DeviceContext {
  FaultReason fault = FaultReason::kNone;
  std::optional<TableEvent> event;  // the event a fault logs
  Dte dte;
  bool pass_through = false;
  uint64_t cr3 = 0;  // the PASID's guest CR3 (GCR3 path)
  bool ok() const { return fault == FaultReason::kNone; }
};

class DeviceTable {
 public:
  // EFR.PASmax + 1: the model's PASIDs are 16 bits (Linux PASID_MASK).
  static constexpr unsigned kPasidBits = 16;
  // EFR.GLXSup: GCR3 tables of up to 2 levels (GLX 0 and 1).
  static constexpr unsigned kMaxGlx = 1;

  DeviceTable(const TableCacheConfig& cfg, MemoryPort& mem, StatGroup& stats);

  // Device Table Base Address register (3.4.1).
  void write_base(uint64_t v) { base_reg_ = v; }
  uint64_t base_reg() const { return base_reg_; }

  // The context of a request of `devid` with `pasid`; advances `delay`.
  DeviceContext lookup(uint16_t devid, std::optional<uint32_t> pasid, sc_core::sc_time& delay);

  // The DTE of `devid` alone (nullopt when it cannot be read); advances `delay`.
  std::optional<Dte> entry(uint16_t devid, sc_core::sc_time& delay);

  // INVALIDATE_DEVTAB_ENTRY: the DTE of devid and its cached GCR3 entries.
  void invalidate_dte(uint16_t devid);
  // INVALIDATE_IOMMU_PAGES with GN = 1 and PDE = 1: the cached GCR3 entries of the
  // DomainID and PASID (every PASID of the domain when nullopt).
  void invalidate_gcr3(uint16_t domain_id, std::optional<uint32_t> pasid);
  // INVALIDATE_IOMMU_ALL.
  void invalidate_all();

  size_t dte_cache_size() const { return dte_lru_.size(); }
  size_t gcr3_cache_size() const { return gcr3_lru_.size(); }

 private:
  using Gcr3Key = std::pair<uint16_t, uint32_t>;  // DeviceID, PASID
  struct Gcr3Cached {
    uint16_t domain_id = 0;
    uint64_t cr3 = 0;
  };
  bool fetch_dte(uint16_t devid, DeviceContext& c, sc_core::sc_time& delay);
  // The cached or fetched DTE into c.dte (one cache lookup).
  bool find_dte(uint16_t devid, DeviceContext& c, sc_core::sc_time& delay);
  bool walk_gcr3(const Dte& dte, uint32_t pasid, DeviceContext& c, sc_core::sc_time& delay);
  void insert_dte(uint16_t devid, const Dte& d);
  void insert_gcr3(const Gcr3Key& k, const Gcr3Cached& g);

  TableCacheConfig cfg_;
  MemoryPort& mem_;
  uint64_t base_reg_ = 0;
  sc_core::sc_time lookup_;

  std::list<std::pair<uint16_t, Dte>> dte_lru_;  // front = most recent
  std::unordered_map<uint16_t, decltype(dte_lru_)::iterator> dte_index_;
  std::list<std::pair<Gcr3Key, Gcr3Cached>> gcr3_lru_;
  std::map<Gcr3Key, decltype(gcr3_lru_)::iterator> gcr3_index_;

  Counter& dte_hits_;
  Counter& dte_misses_;
  Counter& gcr3_hits_;
  Counter& gcr3_misses_;
  Counter& reads_;
};

}  // namespace iosim::amdvi
