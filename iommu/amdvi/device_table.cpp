// DeviceTable: DTE and GCR3 fetches and their caches.
#include "iommu/amdvi/device_table.h"

#include "iommu/amdvi/sw_interface.h"
#include "sc_models/timing/server_pool.h"

namespace iosim::amdvi {

using sc_core::sc_time;

namespace {

bool fail(DeviceContext& c, FaultReason r, EventCode code, uint16_t flags = 0) {
  c.fault = r;
  c.event = TableEvent{code, flags};
  return false;
}

}  // namespace

DeviceTable::DeviceTable(const TableCacheConfig& cfg, MemoryPort& mem, StatGroup& g)
    : cfg_(cfg),
      mem_(mem),
      lookup_(ns(cfg.lookup_latency_ns)),
      dte_hits_(g.counter("dte_cache_hits", "lookups", "device table entry cache hits")),
      dte_misses_(g.counter("dte_cache_misses", "lookups", "device table entry cache misses")),
      gcr3_hits_(g.counter("gcr3_cache_hits", "lookups", "GCR3 cache hits")),
      gcr3_misses_(g.counter("gcr3_cache_misses", "lookups", "GCR3 cache misses")),
      reads_(g.counter("table_reads", "reads", "DTE and GCR3 table entry reads")) {}

bool DeviceTable::fetch_dte(uint16_t devid, DeviceContext& c, sc_time& delay) {
  // 3.4.1: the table holds (Size + 1) 4 KiB pages of 128 DTEs.
  const uint64_t entries = (reg::kDevTableSize.get(base_reg_) + 1) * (4096 / kDteBytes);
  if (devid >= entries) {
    return fail(c, FaultReason::kContextNotPresent, EventCode::kIllegalDevTableEntry,
                event_flag::kRz);
  }
  const uint64_t base = base_reg_ & reg::kBaseAddr.mask();
  uint8_t b[kDteBytes] = {};
  reads_.inc();
  if (!mem_.read(base + uint64_t{kDteBytes} * devid, b, kDteBytes, delay)) {
    return fail(c, FaultReason::kTableReadError, EventCode::kDevTabHardwareError);
  }
  DteWords w{};
  for (unsigned q = 0; q < 4; ++q) {
    for (int i = 7; i >= 0; --i) w[q] = (w[q] << 8) | b[8 * q + static_cast<unsigned>(i)];
  }
  try {
    c.dte = Dte::decode(w);
  } catch (const DescriptorError&) {
    return fail(c, FaultReason::kContextNotPresent, EventCode::kIllegalDevTableEntry,
                event_flag::kRz);
  }
  return true;
}

bool DeviceTable::walk_gcr3(const Dte& dte, uint32_t pasid, DeviceContext& c, sc_time& delay) {
  uint64_t table = dte.gcr3_root;
  for (int level = dte.glx; level >= 0; --level) {
    const uint64_t addr =
        table + uint64_t{kGcr3EntryBytes} * gcr3_index(pasid, static_cast<unsigned>(level));
    uint64_t w = 0;
    reads_.inc();
    if (!mem_.read_u64(addr, w, delay)) {
      return fail(c, FaultReason::kTableReadError, EventCode::kPageTabHardwareError,
                  event_flag::kGn);
    }
    const Gcr3Entry e = Gcr3Entry::decode(w);
    if (!e.valid) {
      return fail(c, FaultReason::kPasidNotPresent, EventCode::kIoPageFault, event_flag::kGn);
    }
    table = e.root;
  }
  c.cr3 = table;
  return true;
}

bool DeviceTable::find_dte(uint16_t devid, DeviceContext& c, sc_time& delay) {
  delay += lookup_;
  auto it = dte_index_.find(devid);
  if (it != dte_index_.end()) {
    dte_hits_.inc();
    dte_lru_.splice(dte_lru_.begin(), dte_lru_, it->second);
    c.dte = dte_lru_.front().second;
    return true;
  }
  dte_misses_.inc();
  if (!fetch_dte(devid, c, delay)) return false;
  insert_dte(devid, c.dte);
  return true;
}

std::optional<Dte> DeviceTable::entry(uint16_t devid, sc_time& delay) {
  DeviceContext c;
  if (!find_dte(devid, c, delay)) return std::nullopt;
  return c.dte;
}

DeviceContext DeviceTable::lookup(uint16_t devid, std::optional<uint32_t> pasid, sc_time& delay) {
  DeviceContext c;
  if (!find_dte(devid, c, delay)) return c;
  const Dte& d = c.dte;
  if (!d.valid || !d.translation_valid) {
    c.pass_through = true;
    return c;
  }
  if (!d.ir && !d.iw) {
    fail(c, FaultReason::kContextNotPresent, EventCode::kIoPageFault, event_flag::kPe);
    return c;
  }
  if (!pasid) {
    if (d.mode == 0) {
      c.pass_through = true;
    } else {
      fail(c, FaultReason::kContextNotPresent, EventCode::kIllegalDevTableEntry);
    }
    return c;
  }
  if (!d.gv) {
    fail(c, FaultReason::kPasidDisabled, EventCode::kInvalidDeviceRequest, event_flag::kGn);
    return c;
  }
  if (*pasid >= (1u << kPasidBits) || *pasid >= (1u << (9 * (d.glx + 1u)))) {
    fail(c, FaultReason::kPasidOutOfRange, EventCode::kInvalidDeviceRequest, event_flag::kGn);
    return c;
  }
  delay += lookup_;
  const Gcr3Key key{devid, *pasid};
  auto g = gcr3_index_.find(key);
  if (g != gcr3_index_.end()) {
    gcr3_hits_.inc();
    gcr3_lru_.splice(gcr3_lru_.begin(), gcr3_lru_, g->second);
    c.cr3 = gcr3_lru_.front().second.cr3;
    return c;
  }
  gcr3_misses_.inc();
  if (walk_gcr3(d, *pasid, c, delay)) insert_gcr3(key, Gcr3Cached{d.domain_id, c.cr3});
  return c;
}

void DeviceTable::insert_dte(uint16_t devid, const Dte& d) {
  if (cfg_.context_cache_entries == 0) return;
  if (dte_lru_.size() >= cfg_.context_cache_entries) {
    dte_index_.erase(dte_lru_.back().first);
    dte_lru_.pop_back();
  }
  dte_lru_.emplace_front(devid, d);
  dte_index_[devid] = dte_lru_.begin();
}

void DeviceTable::insert_gcr3(const Gcr3Key& k, const Gcr3Cached& g) {
  if (cfg_.pasid_cache_entries == 0) return;
  if (gcr3_lru_.size() >= cfg_.pasid_cache_entries) {
    gcr3_index_.erase(gcr3_lru_.back().first);
    gcr3_lru_.pop_back();
  }
  gcr3_lru_.emplace_front(k, g);
  gcr3_index_[k] = gcr3_lru_.begin();
}

void DeviceTable::invalidate_dte(uint16_t devid) {
  auto it = dte_index_.find(devid);
  if (it != dte_index_.end()) {
    dte_lru_.erase(it->second);
    dte_index_.erase(it);
  }
  for (auto g = gcr3_index_.lower_bound({devid, 0});
       g != gcr3_index_.end() && g->first.first == devid;) {
    gcr3_lru_.erase(g->second);
    g = gcr3_index_.erase(g);
  }
}

void DeviceTable::invalidate_gcr3(uint16_t domain_id, std::optional<uint32_t> pasid) {
  for (auto it = gcr3_lru_.begin(); it != gcr3_lru_.end();) {
    if (it->second.domain_id == domain_id && (!pasid || it->first.second == *pasid)) {
      gcr3_index_.erase(it->first);
      it = gcr3_lru_.erase(it);
    } else {
      ++it;
    }
  }
}

void DeviceTable::invalidate_all() {
  dte_lru_.clear();
  dte_index_.clear();
  gcr3_lru_.clear();
  gcr3_index_.clear();
}

}  // namespace iosim::amdvi
