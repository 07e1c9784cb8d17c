// StreamTables: STE and CD fetches and their caches.
#include "iommu/smmuv3/stream_tables.h"

#include <algorithm>

#include "iommu/smmuv3/sw_interface.h"
#include "sc_models/timing/server_pool.h"

namespace iosim::smmuv3 {

using sc_core::sc_time;

namespace {

StreamConfig fault(FaultReason reason, std::optional<EventType> event) {
  StreamConfig r;
  r.fault = reason;
  r.event = event;
  return r;
}

bool set_fault(StreamConfig& r, FaultReason reason, std::optional<EventType> event) {
  r.fault = reason;
  r.event = event;
  return false;
}

}  // namespace

StreamTables::StreamTables(const TableCacheConfig& cfg, MemoryPort& mem, StatGroup& g)
    : cfg_(cfg),
      mem_(mem),
      lookup_(ns(cfg.lookup_latency_ns)),
      ste_hits_(g.counter("ste_cache_hits", "lookups", "STE cache hits")),
      ste_misses_(g.counter("ste_cache_misses", "lookups", "STE cache misses")),
      cd_hits_(g.counter("cd_cache_hits", "lookups", "CD cache hits")),
      cd_misses_(g.counter("cd_cache_misses", "lookups", "CD cache misses")),
      reads_(g.counter("table_reads", "reads", "L1 descriptor, STE and CD reads")) {}

bool StreamTables::read(uint64_t addr, uint64_t* words, unsigned count, sc_time& delay) {
  reads_.inc();
  uint8_t b[kSteBytes] = {};
  const bool ok = mem_.read(addr, b, 8 * count, delay);
  for (unsigned w = 0; w < count; ++w) {
    words[w] = 0;
    for (int i = 7; i >= 0; --i) words[w] = (words[w] << 8) | b[8 * w + static_cast<unsigned>(i)];
  }
  return ok;
}

bool StreamTables::fetch_ste(uint32_t sid, StreamConfig& r, sc_time& delay) {
  // 6.3.24: LOG2SIZE (at most SIDSIZE) StreamIDs; beyond them C_BAD_STREAMID.
  const auto log2size =
      std::min<unsigned>(static_cast<unsigned>(reg::kStrtabCfgLog2Size.get(cfg_reg_)), kSidBits);
  if (sid >= (1u << log2size)) {
    return set_fault(r, FaultReason::kBadStreamId, EventType::kCBadStreamid);
  }
  const uint64_t base = reg::kStrtabBaseAddr.get(base_reg_) << reg::kStrtabBaseAddr.lo;
  uint64_t ste_addr = base + uint64_t{kSteBytes} * sid;
  if (reg::kStrtabCfgFmt.get(cfg_reg_) == reg::kStrtabFmt2Level) {
    // 3.3.2: StreamID[LOG2SIZE-1:SPLIT] indexes the level-1 table of L1STDs.
    const auto split = static_cast<unsigned>(reg::kStrtabCfgSplit.get(cfg_reg_));
    uint64_t word = 0;
    if (!read(base + uint64_t{kL1StdBytes} * (sid >> split), &word, 1, delay)) {
      return set_fault(r, FaultReason::kTableReadError, EventType::kFSteFetch);
    }
    const L1Std l1 = L1Std::decode(word);
    if (!l1.valid()) return set_fault(r, FaultReason::kBadStreamId, EventType::kCBadStreamid);
    const uint64_t index = sid & ((1ull << split) - 1);
    if (index >= l1.ste_count()) return set_fault(r, FaultReason::kBadSte, EventType::kCBadSte);
    ste_addr = l1.l2ptr + uint64_t{kSteBytes} * index;
  }
  SteWords w{};
  if (!read(ste_addr, w.data(), 8, delay)) {
    return set_fault(r, FaultReason::kTableReadError, EventType::kFSteFetch);
  }
  try {
    r.ste = Ste::decode(w);
  } catch (const ConfigError& e) {
    return set_fault(r, FaultReason::kBadSte, e.event());
  }
  // The model's own checks against its ID registers (formats.h): S1CDMax <= SSIDSIZE.
  if (r.ste.config == SteConfig::kS1Translate && r.ste.s1_cdmax > kSsidBits) {
    return set_fault(r, FaultReason::kBadSte, EventType::kCBadSte);
  }
  return true;
}

bool StreamTables::fetch_cd(const Ste& ste, uint32_t index, StreamConfig& r, sc_time& delay) {
  uint64_t cd_addr = ste.s1_context_ptr + uint64_t{kCdBytes} * index;
  if (ste.s1_cdmax > 0 && ste.s1fmt != S1Fmt::kLinear) {
    // 5.4.1: leaf tables of 4 KiB (64 CDs) or 64 KiB (1024 CDs; Linux's CTXDESC_SPLIT).
    const unsigned split = ste.s1fmt == S1Fmt::kTwoLevel4K ? 6 : 10;
    uint64_t word = 0;
    if (!read(ste.s1_context_ptr + uint64_t{kL1CdBytes} * (index >> split), &word, 1, delay)) {
      return set_fault(r, FaultReason::kTableReadError, EventType::kFCdFetch);
    }
    const L1Cd l1 = L1Cd::decode(word);
    if (!l1.valid) {
      return set_fault(r, FaultReason::kBadSubstreamId, EventType::kCBadSubstreamid);
    }
    cd_addr = l1.l2ptr + uint64_t{kCdBytes} * (index & ((1u << split) - 1));
  }
  CdWords w{};
  if (!read(cd_addr, w.data(), 8, delay)) {
    return set_fault(r, FaultReason::kTableReadError, EventType::kFCdFetch);
  }
  try {
    r.cd = Cd::decode(w);
  } catch (const ConfigError& e) {
    return set_fault(r, FaultReason::kBadCd, e.event());
  }
  return true;
}

StreamConfig StreamTables::lookup(uint32_t sid, std::optional<uint32_t> ssid, sc_time& delay) {
  StreamConfig r;
  delay += lookup_;
  auto it = ste_index_.find(sid);
  if (it != ste_index_.end()) {
    ste_hits_.inc();
    ste_lru_.splice(ste_lru_.begin(), ste_lru_, it->second);
    r.ste = ste_lru_.front().second;
  } else {
    ste_misses_.inc();
    if (!fetch_ste(sid, r, delay)) return r;
    insert_ste(sid, r.ste);
  }
  const Ste& ste = r.ste;
  switch (ste.config) {
    case SteConfig::kAbort:
      return fault(FaultReason::kStreamAbort, std::nullopt);  // 5.2: no event
    case SteConfig::kBypass:
      r.bypass = true;  // the SubstreamID is not looked at
      return r;
    case SteConfig::kS1Translate:
      break;
  }
  uint32_t index = 0;
  if (ssid) {
    if (ste.s1_cdmax == 0 || *ssid >= (1u << ste.s1_cdmax)) {
      return fault(FaultReason::kBadSubstreamId, EventType::kCBadSubstreamid);
    }
    index = *ssid;
  } else if (ste.s1_cdmax > 0) {
    switch (ste.s1dss) {
      case S1Dss::kTerminate:
        return fault(FaultReason::kStreamAbort, EventType::kFStreamDisabled);
      case S1Dss::kBypass:
        r.bypass = true;
        return r;
      case S1Dss::kSubstream0:
        break;
    }
  }
  delay += lookup_;
  const CdKey key{sid, index};
  if (const Cd* cd = find_cd(key)) {
    cd_hits_.inc();
    r.cd = *cd;
    return r;
  }
  cd_misses_.inc();
  if (fetch_cd(ste, index, r, delay)) insert_cd(key, r.cd);
  return r;
}

const Cd* StreamTables::find_cd(const CdKey& k) {
  auto it = cd_index_.find(k);
  if (it == cd_index_.end()) return nullptr;
  cd_lru_.splice(cd_lru_.begin(), cd_lru_, it->second);
  return &cd_lru_.front().second;
}

void StreamTables::insert_ste(uint32_t sid, const Ste& s) {
  if (cfg_.context_cache_entries == 0) return;
  if (ste_lru_.size() >= cfg_.context_cache_entries) {
    ste_index_.erase(ste_lru_.back().first);
    ste_lru_.pop_back();
  }
  ste_lru_.emplace_front(sid, s);
  ste_index_[sid] = ste_lru_.begin();
}

void StreamTables::insert_cd(const CdKey& k, const Cd& cd) {
  if (cfg_.pasid_cache_entries == 0) return;
  if (cd_lru_.size() >= cfg_.pasid_cache_entries) {
    cd_index_.erase(cd_lru_.back().first);
    cd_lru_.pop_back();
  }
  cd_lru_.emplace_front(k, cd);
  cd_index_[k] = cd_lru_.begin();
}

void StreamTables::invalidate_stes(uint32_t first, uint32_t last) {
  for (auto it = ste_lru_.begin(); it != ste_lru_.end();) {
    if (it->first >= first && it->first <= last) {
      ste_index_.erase(it->first);
      it = ste_lru_.erase(it);
    } else {
      ++it;
    }
  }
  // The CDs of those streams (the index is ordered by StreamID first).
  for (auto it = cd_index_.lower_bound({first, 0});
       it != cd_index_.end() && it->first.first <= last;) {
    cd_lru_.erase(it->second);
    it = cd_index_.erase(it);
  }
}

void StreamTables::invalidate_all() {
  ste_lru_.clear();
  ste_index_.clear();
  cd_lru_.clear();
  cd_index_.clear();
}

void StreamTables::invalidate_cd(uint32_t sid, uint32_t ssid) {
  auto it = cd_index_.find({sid, ssid});
  if (it == cd_index_.end()) return;
  cd_lru_.erase(it->second);
  cd_index_.erase(it);
}

void StreamTables::invalidate_cds(uint32_t sid) {
  for (auto it = cd_index_.lower_bound({sid, 0});
       it != cd_index_.end() && it->first.first == sid;) {
    cd_lru_.erase(it->second);
    it = cd_index_.erase(it);
  }
}

}  // namespace iosim::smmuv3
