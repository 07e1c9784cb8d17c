// DirectoryTables: DDT and PDT walks and their caches.
#include "iommu/riscv/directory.h"

#include "iommu/riscv/sw_interface.h"
#include "sc_models/timing/server_pool.h"

namespace iosim::riscv {

using sc_core::sc_time;

namespace {

unsigned ddt_levels(IommuMode m) {
  switch (m) {
    case IommuMode::kLvl1:
      return 1;
    case IommuMode::kLvl2:
      return 2;
    case IommuMode::kLvl3:
      return 3;
    default:
      return 0;
  }
}

unsigned pdt_levels(PdtpMode m) {
  return static_cast<unsigned>(m);  // PD8 1, PD17 2, PD20 3
}

}  // namespace

DirectoryTables::DirectoryTables(const TableCacheConfig& cfg, MemoryPort& mem, StatGroup& g)
    : cfg_(cfg),
      mem_(mem),
      lookup_(ns(cfg.lookup_latency_ns)),
      ddt_hits_(g.counter("ddt_cache_hits", "lookups", "device-context cache hits")),
      ddt_misses_(g.counter("ddt_cache_misses", "lookups", "device-context cache misses")),
      pdt_hits_(g.counter("pdt_cache_hits", "lookups", "process-context cache hits")),
      pdt_misses_(g.counter("pdt_cache_misses", "lookups", "process-context cache misses")),
      reads_(g.counter("table_reads", "reads", "DDT and PDT entry reads")) {}

void DirectoryTables::write_ddtp(uint64_t v) {
  const uint64_t mode = reg::kDdtpMode.get(v);
  if (mode > static_cast<uint64_t>(IommuMode::kLvl3)) return;  // unsupported: unchanged
  ddtp_ = (v & (reg::kDdtpMode.mask() | kPpnField.mask()));
}

IommuMode DirectoryTables::mode() const {
  return static_cast<IommuMode>(reg::kDdtpMode.get(ddtp_));
}

bool DirectoryTables::read(uint64_t addr, uint64_t* words, unsigned count, sc_time& delay) {
  reads_.inc();
  uint8_t b[kDcExtendedBytes] = {};
  const bool ok = mem_.read(addr, b, 8 * count, delay);
  for (unsigned w = 0; w < count; ++w) {
    words[w] = 0;
    for (int i = 7; i >= 0; --i) words[w] = (words[w] << 8) | b[8 * w + static_cast<unsigned>(i)];
  }
  return ok;
}

std::optional<Cause> DirectoryTables::fetch_dc(uint32_t did, DeviceContext& dc, sc_time& delay) {
  uint64_t table = ppn_to_addr(ddtp_);
  for (unsigned level = ddt_levels(mode()) - 1; level > 0; --level) {
    uint64_t word = 0;
    if (!read(table + uint64_t{kDdteBytes} * ddi(did, level), &word, 1, delay)) {
      return Cause::kDdtLoadFault;
    }
    try {
      const DirEntry e = DirEntry::decode(word, Cause::kDdtMisconfigured);
      if (!e.valid) return Cause::kDdtInvalid;
      table = e.next;
    } catch (const TableError& err) {
      return err.cause();
    }
  }
  DcWords w{};
  if (!read(table + uint64_t{kDcBaseBytes} * ddi(did, 0), w.data(), kDcBaseBytes / 8, delay)) {
    return Cause::kDdtLoadFault;
  }
  try {
    dc = DeviceContext::decode(w);
  } catch (const TableError& err) {
    return err.cause();
  }
  if (!dc.valid) return Cause::kDdtInvalid;
  return std::nullopt;
}

std::optional<Cause> DirectoryTables::fetch_pc(const DeviceContext& dc, uint32_t pid,
                                               ProcessContext& pc, sc_time& delay) {
  uint64_t table = dc.fsc_root;
  for (unsigned level = pdt_levels(static_cast<PdtpMode>(dc.fsc_mode)) - 1; level > 0; --level) {
    uint64_t word = 0;
    if (!read(table + uint64_t{kPdteBytes} * pdi(pid, level), &word, 1, delay)) {
      return Cause::kPdtLoadFault;
    }
    try {
      const DirEntry e = DirEntry::decode(word, Cause::kPdtMisconfigured);
      if (!e.valid) return Cause::kPdtInvalid;
      table = e.next;
    } catch (const TableError& err) {
      return err.cause();
    }
  }
  PcWords w{};
  if (!read(table + uint64_t{kPcBytes} * pdi(pid, 0), w.data(), 2, delay)) {
    return Cause::kPdtLoadFault;
  }
  try {
    pc = ProcessContext::decode(w);
  } catch (const TableError& err) {
    return err.cause();
  }
  if (!pc.valid) return Cause::kPdtInvalid;
  return std::nullopt;
}

DeviceLookup DirectoryTables::locate_device(uint32_t did, sc_time& delay) {
  DeviceLookup r;
  const IommuMode m = mode();
  if (m == IommuMode::kOff) {
    r.fault = Cause::kAllDisallowed;  // step 1
    return r;
  }
  if (m == IommuMode::kBare) {
    r.bare = true;  // step 2
    return r;
  }
  // Step 5: the device ID is wider than the mode's levels.
  if ((m == IommuMode::kLvl2 && ddi(did, 2) != 0) ||
      (m == IommuMode::kLvl1 && (ddi(did, 2) != 0 || ddi(did, 1) != 0))) {
    r.fault = Cause::kTransactionTypeDisallowed;
    return r;
  }
  delay += lookup_;
  auto it = dc_index_.find(did);
  if (it != dc_index_.end()) {
    ddt_hits_.inc();
    dc_lru_.splice(dc_lru_.begin(), dc_lru_, it->second);
    r.dc = dc_lru_.front().second;
    return r;
  }
  ddt_misses_.inc();
  r.fault = fetch_dc(did, r.dc, delay);
  if (!r.fault) insert_dc(did, r.dc);
  return r;
}

Resolved DirectoryTables::resolve(uint32_t did, std::optional<uint32_t> pid, sc_time& delay) {
  Resolved r;
  const DeviceLookup d = locate_device(did, delay);
  if (!d.ok()) {
    r.fault = d.fault;
    return r;
  }
  if (d.bare) {
    r.pass_through = true;
    r.ens = true;
    return r;
  }
  const DeviceContext& dc = d.dc;
  r.ats_allowed = dc.en_ats;
  // Step 7: a process ID needs PDTV and must fit pdtp.MODE.
  if (pid &&
      (!dc.pdtv || (dc.fsc_mode == static_cast<uint8_t>(PdtpMode::kPd8) && *pid >= 1u << 8) ||
       (dc.fsc_mode == static_cast<uint8_t>(PdtpMode::kPd17) && *pid >= 1u << 17))) {
    r.fault = Cause::kTransactionTypeDisallowed;
    return r;
  }
  if (!dc.pdtv) {  // step 10: the device context's iosatp
    r.pass_through = dc.fsc_mode == static_cast<uint8_t>(IosatpMode::kBare);
    r.ens = true;
    r.pscid = dc.pscid;
    r.root = dc.fsc_root;
    return r;
  }
  std::optional<uint32_t> p = pid;
  if (!p && dc.dpe) p = 0;                                           // step 11
  if (!p || dc.fsc_mode == static_cast<uint8_t>(PdtpMode::kBare)) {  // steps 12, 13
    r.pass_through = true;
    r.ens = true;
    return r;
  }
  delay += lookup_;
  const PcKey key{did, *p};
  ProcessContext pc;
  auto it = pc_index_.find(key);
  if (it != pc_index_.end()) {
    pdt_hits_.inc();
    pc_lru_.splice(pc_lru_.begin(), pc_lru_, it->second);
    pc = pc_lru_.front().second;
  } else {
    pdt_misses_.inc();
    r.fault = fetch_pc(dc, *p, pc, delay);
    if (r.fault) return r;
    insert_pc(key, pc);
  }
  r.pass_through = pc.mode == IosatpMode::kBare;
  r.ens = pc.ens;
  r.pscid = pc.pscid;
  r.root = pc.root;
  return r;
}

void DirectoryTables::insert_dc(uint32_t did, const DeviceContext& dc) {
  if (cfg_.context_cache_entries == 0) return;
  if (dc_lru_.size() >= cfg_.context_cache_entries) {
    dc_index_.erase(dc_lru_.back().first);
    dc_lru_.pop_back();
  }
  dc_lru_.emplace_front(did, dc);
  dc_index_[did] = dc_lru_.begin();
}

void DirectoryTables::insert_pc(const PcKey& k, const ProcessContext& pc) {
  if (cfg_.pasid_cache_entries == 0) return;
  if (pc_lru_.size() >= cfg_.pasid_cache_entries) {
    pc_index_.erase(pc_lru_.back().first);
    pc_lru_.pop_back();
  }
  pc_lru_.emplace_front(k, pc);
  pc_index_[k] = pc_lru_.begin();
}

void DirectoryTables::invalidate_ddt(std::optional<uint32_t> did) {
  if (!did) {
    dc_lru_.clear();
    dc_index_.clear();
    pc_lru_.clear();
    pc_index_.clear();
    return;
  }
  auto it = dc_index_.find(*did);
  if (it != dc_index_.end()) {
    dc_lru_.erase(it->second);
    dc_index_.erase(it);
  }
  for (auto p = pc_index_.lower_bound({*did, 0}); p != pc_index_.end() && p->first.first == *did;) {
    pc_lru_.erase(p->second);
    p = pc_index_.erase(p);
  }
}

void DirectoryTables::invalidate_pdt(uint32_t did, uint32_t pid) {
  auto it = pc_index_.find({did, pid});
  if (it == pc_index_.end()) return;
  pc_lru_.erase(it->second);
  pc_index_.erase(it);
}

}  // namespace iosim::riscv
