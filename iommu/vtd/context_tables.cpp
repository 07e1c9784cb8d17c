// ContextTables: context / PASID table fetches and their caches.
#include "iommu/vtd/context_tables.h"

#include "sc_models/timing/server_pool.h"

namespace iosim {

const char* to_string(TableStatus s) {
  switch (s) {
    case TableStatus::kOk:
      return "ok";
    case TableStatus::kRootNotPresent:
      return "root_not_present";
    case TableStatus::kContextNotPresent:
      return "context_not_present";
    case TableStatus::kPasidDisabled:
      return "pasid_disabled";
    case TableStatus::kPasidOutOfRange:
      return "pasid_out_of_range";
    case TableStatus::kPasidNotPresent:
      return "pasid_not_present";
    case TableStatus::kBadPasidEntry:
      return "bad_pasid_entry";
    case TableStatus::kReadError:
      return "table_read_error";
  }
  return "?";
}

ContextTables::ContextTables(const TableCacheConfig& cfg, MemoryPort& mem, StatGroup& g)
    : cfg_(cfg),
      mem_(mem),
      lookup_(ns(cfg.lookup_latency_ns)),
      ctx_hits_(g.counter("context_cache_hits", "lookups", "context-cache hits")),
      ctx_misses_(g.counter("context_cache_misses", "lookups", "context-cache misses")),
      pasid_hits_(g.counter("pasid_cache_hits", "lookups", "PASID-cache hits")),
      pasid_misses_(g.counter("pasid_cache_misses", "lookups", "PASID-cache misses")),
      fetch_reads_(g.counter("table_reads", "reads", "root/context/PASID entry reads")) {}

namespace {
// The cached value of `key` in an LRU cache (list front = most recent, `index` maps
// each key to its list node), moved to the front; nullptr when absent. The front
// entry is checked first: back-to-back requests of one device and PASID then need no
// index lookup (keys are unique, so it is the entry the index would give).
template <class List, class Index, class Key>
typename List::value_type::second_type* find_lru(List& lru, Index& index, const Key& key) {
  if (!lru.empty() && lru.front().first == key) return &lru.front().second;
  auto it = index.find(key);
  if (it == index.end()) return nullptr;
  lru.splice(lru.begin(), lru, it->second);
  return &lru.front().second;
}
}  // namespace

bool ContextTables::fetch(uint64_t addr, Desc128& out, sc_core::sc_time& delay) {
  fetch_reads_.inc();
  uint8_t b[16] = {};
  const bool ok = mem_.read(addr, b, 16, delay);
  out = {0, 0};
  for (int i = 7; i >= 0; --i) {
    out.qw0 = (out.qw0 << 8) | b[i];
    out.qw1 = (out.qw1 << 8) | b[8 + i];
  }
  return ok;
}

TableStatus ContextTables::fetch_context(uint16_t rid, ContextEntry& out, sc_core::sc_time& delay) {
  Desc128 raw;
  if (!fetch(rtaddr_ + kTableEntryBytes * (rid >> 8), raw, delay)) return TableStatus::kReadError;
  const RootEntry root = RootEntry::decode(raw);
  if (!root.present) return TableStatus::kRootNotPresent;
  if (!fetch(root.context_table + kTableEntryBytes * (rid & 0xff), raw, delay)) {
    return TableStatus::kReadError;
  }
  out = ContextEntry::decode(raw);
  return out.present ? TableStatus::kOk : TableStatus::kContextNotPresent;
}

TableStatus ContextTables::context(uint16_t rid, ContextEntry& out, sc_core::sc_time& delay) {
  delay += lookup_;
  if (const ContextEntry* e = find_lru(ctx_lru_, ctx_index_, rid)) {
    ctx_hits_.inc();
    out = *e;
    return TableStatus::kOk;
  }
  ctx_misses_.inc();
  const TableStatus st = fetch_context(rid, out, delay);
  if (st == TableStatus::kOk) insert_context(rid, out);
  return st;
}

TableStatus ContextTables::fetch_pasid(uint16_t rid, const ContextEntry& ctx, uint32_t pasid,
                                       PasidEntry& out, sc_core::sc_time& delay) {
  delay += lookup_;
  const PasidKey key{rid, pasid};
  if (const PasidEntry* e = find_lru(pasid_lru_, pasid_index_, key)) {
    pasid_hits_.inc();
    out = *e;
    return TableStatus::kOk;
  }
  pasid_misses_.inc();
  if (ctx.pts < 20 && pasid >= (1u << ctx.pts)) return TableStatus::kPasidOutOfRange;
  Desc128 raw;
  if (!fetch(ctx.pasid_table + uint64_t{kTableEntryBytes} * pasid, raw, delay)) {
    return TableStatus::kReadError;
  }
  out = PasidEntry::decode(raw);
  if (!out.present) return TableStatus::kPasidNotPresent;
  if (out.pgtt_unsupported) return TableStatus::kBadPasidEntry;
  domain_rids_[out.did].insert(rid);
  insert_pasid(key, out);
  return TableStatus::kOk;
}

TableResult ContextTables::resolve(uint16_t rid, std::optional<uint32_t> pasid,
                                   sc_core::sc_time& delay) {
  TableResult r;
  r.status = context(rid, r.context, delay);
  if (!r.ok()) return r;
  if (pasid && !r.context.pasid_enable) {
    r.status = TableStatus::kPasidDisabled;
    return r;
  }
  r.pasid = pasid ? *pasid : r.context.rid_pasid;
  r.status = fetch_pasid(rid, r.context, r.pasid, r.pasid_entry, delay);
  return r;
}

void ContextTables::insert_context(uint16_t rid, const ContextEntry& e) {
  if (cfg_.context_cache_entries == 0) return;
  if (ctx_lru_.size() >= cfg_.context_cache_entries) {
    ctx_index_.erase(ctx_lru_.back().first);
    ctx_lru_.pop_back();
  }
  ctx_lru_.emplace_front(rid, e);
  ctx_index_[rid] = ctx_lru_.begin();
}

void ContextTables::insert_pasid(const PasidKey& k, const PasidEntry& e) {
  if (cfg_.pasid_cache_entries == 0) return;
  if (pasid_lru_.size() >= cfg_.pasid_cache_entries) {
    pasid_index_.erase(pasid_lru_.back().first);
    pasid_lru_.pop_back();
  }
  pasid_lru_.emplace_front(k, e);
  pasid_index_[k] = pasid_lru_.begin();
}

void ContextTables::invalidate_context_all() {
  ctx_lru_.clear();
  ctx_index_.clear();
}

void ContextTables::invalidate_context_device(uint16_t sid) {
  auto it = ctx_index_.find(sid);
  if (it == ctx_index_.end()) return;
  ctx_lru_.erase(it->second);
  ctx_index_.erase(it);
}

void ContextTables::invalidate_pasid_all() {
  pasid_lru_.clear();
  pasid_index_.clear();
}

void ContextTables::invalidate_pasid_domain(uint16_t did) {
  for (auto it = pasid_lru_.begin(); it != pasid_lru_.end();) {
    if (it->second.did == did) {
      pasid_index_.erase(it->first);
      it = pasid_lru_.erase(it);
    } else {
      ++it;
    }
  }
}

void ContextTables::invalidate_pasid(uint16_t did, uint32_t pasid) {
  for (auto it = pasid_lru_.begin(); it != pasid_lru_.end();) {
    if (it->second.did == did && it->first.second == pasid) {
      pasid_index_.erase(it->first);
      it = pasid_lru_.erase(it);
    } else {
      ++it;
    }
  }
}

const std::set<uint16_t>& ContextTables::rids_of_domain(uint16_t did) const {
  static const std::set<uint16_t> kEmpty;
  auto it = domain_rids_.find(did);
  return it == domain_rids_.end() ? kEmpty : it->second;
}

}  // namespace iosim
