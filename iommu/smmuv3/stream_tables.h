// StreamTables: the SMMUv3 stream table and context descriptor tables in memory (Arm IHI
// 0070, 3.3 and 5.1 - 5.4; formats in formats.h), fetched through the IOMMU's memory port
// and cached in an STE cache (by StreamID, tables.context_cache_entries) and a CD cache
// (by StreamID + SubstreamID, tables.pasid_cache_entries).
//
// lookup() gives the configuration of one request: its STE (linear stream table, or
// 2-level through the level-1 descriptor, STRTAB_BASE_CFG.FMT) and, for a stage-1 stream,
// its CD (the single CD when S1CDMax = 0, else a linear or 2-level CD table indexed by the
// SubstreamID; a request without one uses S1DSS: substream 0, bypass or terminate). A
// problem is a FaultReason plus the event the SMMU records for it (7.3): C_BAD_STREAMID
// (StreamID beyond STRTAB_BASE_CFG.LOG2SIZE, or an invalid level-1 descriptor, as QEMU's
// smmu_find_ste reads Span = 0), C_BAD_STE (V = 0, ill-formed, or the index beyond the
// level-2 table's Span), C_BAD_SUBSTREAMID (SSID beyond S1CDMax, a PASID on a stream with
// S1CDMax = 0, or an invalid level-1 CD descriptor), C_BAD_CD (V = 0 or ill-formed),
// F_STE_FETCH / F_CD_FETCH (a table read that returned an error), and none for an STE
// with Config = abort (5.2: the transaction is terminated without an event) while
// S1DSS = terminate records F_STREAM_DISABLED (5.2, S1DSS).
//
// Timing: tables.lookup_latency_ns per cache lookup (STE, then CD), plus the memory reads
// of a miss (the level-1 descriptor, 8 bytes; the STE or CD, 64 bytes each).
//
// Simplifications: both caches are fully associative LRU; entries found invalid are not
// cached; level-1 descriptors (stream table and CD table) are not cached, so the Leaf
// flag of CFGI_STE / CFGI_CD changes nothing; invalidating a stream's STE also drops its
// CDs (an SMMU may invalidate more than asked, never less).
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
#include "iommu/smmuv3/formats.h"
#include "iommu/translator.h"
#include "sc_models/observe/stats.h"

namespace iosim::smmuv3 {

// What the tables say about one request.
struct StreamConfig {
  FaultReason fault = FaultReason::kNone;
  std::optional<EventType> event;  // the event a fault records (none: silent abort)
  bool bypass = false;             // STE Config = bypass, or S1DSS = bypass
  Ste ste;
  Cd cd;  // the request's CD (fault == kNone and !bypass)
  bool ok() const { return fault == FaultReason::kNone; }
};

class StreamTables {
 public:
  // SIDSIZE and SSIDSIZE the SMMU implements (IDR1, 6.3.2).
  static constexpr unsigned kSidBits = 16;
  static constexpr unsigned kSsidBits = 20;

  StreamTables(const TableCacheConfig& cfg, MemoryPort& mem, StatGroup& stats);

  // STRTAB_BASE (64) and STRTAB_BASE_CFG as software wrote them (6.3.23, 6.3.24).
  void write_base(uint64_t v) { base_reg_ = v; }
  void write_cfg(uint32_t v) { cfg_reg_ = v; }
  uint64_t base_reg() const { return base_reg_; }
  uint32_t cfg_reg() const { return cfg_reg_; }

  // The configuration of a request of stream `sid` with SubstreamID `ssid` (a PASID);
  // advances `delay` by the cache lookups and fetches.
  StreamConfig lookup(uint32_t sid, std::optional<uint32_t> ssid, sc_core::sc_time& delay);

  // CMD_CFGI_STE / CFGI_STE_RANGE / CFGI_ALL: the STEs of [first, last] and their CDs.
  void invalidate_stes(uint32_t first, uint32_t last);
  void invalidate_all();
  // CMD_CFGI_CD / CFGI_CD_ALL.
  void invalidate_cd(uint32_t sid, uint32_t ssid);
  void invalidate_cds(uint32_t sid);

  size_t ste_cache_size() const { return ste_lru_.size(); }
  size_t cd_cache_size() const { return cd_lru_.size(); }

 private:
  using CdKey = std::pair<uint32_t, uint32_t>;  // StreamID, SubstreamID
  // Fetches the STE of sid; a fault fills r.fault and r.event.
  bool fetch_ste(uint32_t sid, StreamConfig& r, sc_core::sc_time& delay);
  // Fetches CD `index` of the stream's table.
  bool fetch_cd(const Ste& ste, uint32_t index, StreamConfig& r, sc_core::sc_time& delay);
  bool read(uint64_t addr, uint64_t* words, unsigned count, sc_core::sc_time& delay);
  const Cd* find_cd(const CdKey& k);
  void insert_ste(uint32_t sid, const Ste& s);
  void insert_cd(const CdKey& k, const Cd& cd);

  TableCacheConfig cfg_;
  MemoryPort& mem_;
  uint64_t base_reg_ = 0;
  uint32_t cfg_reg_ = 0;
  sc_core::sc_time lookup_;

  std::list<std::pair<uint32_t, Ste>> ste_lru_;  // front = most recent
  std::unordered_map<uint32_t, decltype(ste_lru_)::iterator> ste_index_;
  std::list<std::pair<CdKey, Cd>> cd_lru_;
  std::map<CdKey, decltype(cd_lru_)::iterator> cd_index_;

  Counter& ste_hits_;
  Counter& ste_misses_;
  Counter& cd_hits_;
  Counter& cd_misses_;
  Counter& reads_;
};

}  // namespace iosim::smmuv3
