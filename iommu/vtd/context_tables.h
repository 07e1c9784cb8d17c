// ContextTables: the device context table and per-device PASID tables in memory
// (layout in descriptors.h), fetched through memory with latency and cached in a
// context cache (by Requester ID) and a PASID cache (by Requester ID + PASID).
//
// A context-cache miss reads the root entry and the context entry (2 reads of 16
// bytes); a PASID-cache miss reads the PASID entry (1 read). Entries found not
// present are not cached (VT-d may cache them; software invalidates either way).
//
// Called by the Translator. Timing: lookup_latency_ns per cache lookup, plus the
// memory latency of the reads of a miss (through the IOMMU's `mem` socket).
//
// Invalidation: the context cache globally or by device (SID); a domain-selective
// context-cache invalidation drops the whole context cache because context entries
// carry no domain ID in this layout. The PASID cache globally, by domain (DID of
// the PASID entry) or by DID + PASID.
//
// Simplifications: both caches are fully associative with LRU replacement.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>

#include "iommu/vtd/descriptors.h"
#include "iommu/iommu_config.h"
#include "iommu/memory_port.h"
#include "sc_models/observe/stats.h"

namespace iosim {

// What went wrong while resolving a request's tables (kOk when nothing did).
enum class TableStatus {
  kOk,
  kRootNotPresent,
  kContextNotPresent,
  kPasidDisabled,    // PASID-tagged request but the context has PASIDE = 0
  kPasidOutOfRange,  // PASID >= 2^PTS
  kPasidNotPresent,
  kBadPasidEntry,  // PGTT holds a translation type the model does not implement
  kReadError,      // a table fetch returned a TLM error
};
const char* to_string(TableStatus s);

struct TableResult {
  TableStatus status = TableStatus::kOk;
  ContextEntry context;
  PasidEntry pasid_entry;
  uint32_t pasid = 0;  // the PASID whose entry was used (RID_PASID without a prefix)
  bool ok() const { return status == TableStatus::kOk; }
};

class ContextTables {
 public:
  ContextTables(const TableCacheConfig& cfg, MemoryPort& mem, StatGroup& stats);

  void set_root_table(uint64_t rtaddr) { rtaddr_ = rtaddr; }
  uint64_t root_table() const { return rtaddr_; }

  // Resolves the context entry of `rid` and the PASID entry to use (`pasid`, or the
  // context's RID_PASID when the request has no PASID). Advances `delay` by the
  // cache lookups and fetches.
  TableResult resolve(uint16_t rid, std::optional<uint32_t> pasid, sc_core::sc_time& delay);
  // Context entry only.
  TableStatus context(uint16_t rid, ContextEntry& out, sc_core::sc_time& delay);

  void invalidate_context_all();
  void invalidate_context_device(uint16_t sid);
  void invalidate_pasid_all();
  void invalidate_pasid_domain(uint16_t did);
  void invalidate_pasid(uint16_t did, uint32_t pasid);

  // Requester IDs whose PASID entries named this domain ID (for DID-scoped IOTLB
  // invalidation; learned on every PASID-entry fetch).
  const std::set<uint16_t>& rids_of_domain(uint16_t did) const;

  size_t context_cache_size() const { return ctx_lru_.size(); }
  size_t pasid_cache_size() const { return pasid_lru_.size(); }

 private:
  using PasidKey = std::pair<uint16_t, uint32_t>;
  bool fetch(uint64_t addr, Desc128& out, sc_core::sc_time& delay);
  TableStatus fetch_context(uint16_t rid, ContextEntry& out, sc_core::sc_time& delay);
  TableStatus fetch_pasid(uint16_t rid, const ContextEntry& ctx, uint32_t pasid, PasidEntry& out,
                          sc_core::sc_time& delay);
  void insert_context(uint16_t rid, const ContextEntry& e);
  void insert_pasid(const PasidKey& k, const PasidEntry& e);

  TableCacheConfig cfg_;
  MemoryPort& mem_;
  uint64_t rtaddr_ = 0;
  sc_core::sc_time lookup_;

  std::list<std::pair<uint16_t, ContextEntry>> ctx_lru_;  // front = most recent
  std::unordered_map<uint16_t, decltype(ctx_lru_)::iterator> ctx_index_;
  std::list<std::pair<PasidKey, PasidEntry>> pasid_lru_;
  std::map<PasidKey, decltype(pasid_lru_)::iterator> pasid_index_;
  std::map<uint16_t, std::set<uint16_t>> domain_rids_;

  Counter& ctx_hits_;
  Counter& ctx_misses_;
  Counter& pasid_hits_;
  Counter& pasid_misses_;
  Counter& fetch_reads_;
};

}  // namespace iosim
