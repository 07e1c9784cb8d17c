#include "os/smmuv3_sva_driver.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "os/iopf_handler.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;
using namespace smmuv3;

namespace {

// Linux's STE/CD/queue attributes (arm-smmu-v3.h): inner-shareable, write-back.
constexpr uint32_t kShIsh = 3;
constexpr uint32_t kCacheWb = 1;
constexpr uint8_t kMemAttrOiwb = 0xf;
// A level-1 descriptor's Span for level-2 tables of 2^kStrtabSplit STEs.
constexpr uint8_t kL2Span = Smmuv3SvaDriver::kStrtabSplit + 1;
// Linux STRTAB_L1_SZ_SHIFT (20) less log2 of an 8-byte descriptor: at most 2^17 L1 entries.
constexpr unsigned kMaxL1Log2 = 17;

uint64_t queue_base(uint64_t addr, unsigned log2) {
  return reg::kQBaseRwa | reg::kQBaseAddr.put(addr >> reg::kQBaseAddr.lo) |
         reg::kQBaseLog2Size.put(log2);
}

unsigned frames_for(uint64_t bytes) {
  return static_cast<unsigned>(std::max<uint64_t>(1, (bytes + kPageBytes - 1) / kPageBytes));
}

// arm_smmu_make_sva_cd with an mm (live) or without (quiet: EPD0 set, R and S clear).
Cd sva_cd(uint16_t asid, uint64_t ttb0) {
  Cd cd;
  cd.asid = asid;
  cd.ttb0 = ttb0;
  cd.aset = true;
  cd.record = true;
  cd.abort = true;
  if (!ttb0) {
    cd.epd0 = true;
    cd.record = false;
  }
  return cd;
}

AtcInv atc_inv(uint16_t rid, std::optional<uint32_t> ssid, AtcSpan span) {
  AtcInv c;
  c.sid = rid;
  c.ssv = ssid.has_value();
  c.ssid = ssid.value_or(0);
  c.addr = span.addr;
  c.size = span.size;
  return c;
}

constexpr AtcSpan kAtcAll{0, AtcInv::kSizeAll};

IoPageRequest io_page_request(const PriqEntry& e) {
  IoPageRequest r;
  r.rid = static_cast<uint16_t>(e.sid);
  r.pasid_present = e.ssv;
  r.pasid = e.ssid;
  r.read = e.read;
  r.write = e.write;
  r.exe = e.exec;
  r.priv = e.pnu;
  r.last = e.last;
  r.prg_index = e.prgi;
  r.addr = e.addr;
  r.stop_marker = e.last && !e.read && !e.write;  // chapter 8: LWR = 0b100
  return r;
}

}  // namespace

Smmuv3SvaDriver::Smmuv3SvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel)
    : SvaDriver(name, cfg, kernel),
      skipped_commands_(stats_.counter("skipped_commands", "commands",
                                       "illegal commands replaced by a CMD_SYNC (CERROR_ILL)")) {
  static_assert((1u << kCdTableLog2) == kPasids, "one CD per PASID");
}

Smmuv3SvaDriver::~Smmuv3SvaDriver() = default;

// --- setup ---------------------------------------------------------------------------

void Smmuv3SvaDriver::write_reg_sync(uint64_t off, uint64_t ack_off, uint32_t value) {
  write_reg32(off, value);
  while (read_reg32(ack_off) != value) {
    kernel().context().current().spin_for(ns(config().poll_interval_ns));
  }
}

void Smmuv3SvaDriver::init() {
  const SvaConfig& cfg = config();
  // arm_smmu_device_hw_probe: the ID registers the driver acts on.
  const uint32_t idr0 = read_reg32(reg::kIdr0);
  const unsigned sid_bits = static_cast<unsigned>(reg::kIdr1SidSize.get(read_reg32(reg::kIdr1)));
  ril_ = read_reg32(reg::kIdr3) & reg::kIdr3Ril;
  init_stream_table(idr0, sid_bits);
  cmdq_log2_ = 8 + cfg.command_queue_qs;
  cmdq_base_ = alloc_frames(frames_for(uint64_t{kCmdBytes} << cmdq_log2_), "the command queue");
  eventq_base_ = alloc_frames(frames_for(uint64_t{kEventBytes} << kEventqLog2), "the event queue");
  priq_log2_ = 7 + cfg.page_request_queue_pqs;
  priq_base_ = alloc_frames(frames_for(uint64_t{kPriqBytes} << priq_log2_), "the PRI queue");
  prod_ = cons_cache_ = priq_cons_ = 0;

  // arm_smmu_device_reset.
  read_reg32(reg::kCr0);
  write_reg_sync(reg::kCr0, reg::kCr0Ack, 0);  // arm_smmu_device_disable
  write_reg32(reg::kCr1, reg::kCr1QueueSh.put(kShIsh) | reg::kCr1QueueOc.put(kCacheWb) |
                             reg::kCr1QueueIc.put(kCacheWb) | reg::kCr1TableSh.put(kShIsh) |
                             reg::kCr1TableOc.put(kCacheWb) | reg::kCr1TableIc.put(kCacheWb));
  write_reg32(reg::kCr2, reg::kCr2Ptm | reg::kCr2RecInvSid);
  // arm_smmu_write_strtab.
  write_reg(reg::kStrtabBase, reg::kStrtabBaseRa | reg::kStrtabBaseAddr.put(strtab_ >> 6));
  const uint64_t strtab_cfg =
      two_level_
          ? reg::kStrtabCfgFmt.put(reg::kStrtabFmt2Level) |
                reg::kStrtabCfgLog2Size.put(l1_log2_ + kStrtabSplit) |
                reg::kStrtabCfgSplit.put(kStrtabSplit)
          : reg::kStrtabCfgFmt.put(reg::kStrtabFmtLinear) | reg::kStrtabCfgLog2Size.put(sid_bits);
  write_reg32(reg::kStrtabBaseCfg, strtab_cfg);
  // The command queue, enabled alone to invalidate what the SMMU may have cached.
  write_reg(reg::kCmdqBase, queue_base(cmdq_base_, cmdq_log2_));
  write_reg32(reg::kCmdqProd, 0);
  write_reg32(reg::kCmdqCons, 0);
  uint32_t enables = reg::kCr0CmdqEn;
  write_reg_sync(reg::kCr0, reg::kCr0Ack, enables);
  submit_one(CfgiSteRange::all());
  submit_one(TlbiNsnhAll{});
  // Event queue, PRI queue (IDR0.PRI), ATS checking (IDR0.ATS).
  write_reg(reg::kEventqBase, queue_base(eventq_base_, kEventqLog2));
  write_reg32(reg::kEventqProd, 0);
  write_reg32(reg::kEventqCons, 0);
  enables |= reg::kCr0EventqEn;
  write_reg_sync(reg::kCr0, reg::kCr0Ack, enables);
  if (idr0 & reg::kIdr0Pri) {
    write_reg(reg::kPriqBase, queue_base(priq_base_, priq_log2_));
    write_reg32(reg::kPriqProd, 0);
    write_reg32(reg::kPriqCons, 0);
    enables |= reg::kCr0PriqEn;
    write_reg_sync(reg::kCr0, reg::kCr0Ack, enables);
  }
  if (idr0 & reg::kIdr0Ats) {
    enables |= reg::kCr0AtsChk;
    write_reg_sync(reg::kCr0, reg::kCr0Ack, enables);
  }
  // arm_smmu_setup_irqs: disabled, then the wired gerror, event and PRI interrupts.
  write_reg_sync(reg::kIrqCtrl, reg::kIrqCtrlAck, 0);
  write_reg_sync(reg::kIrqCtrl, reg::kIrqCtrlAck,
                 reg::kIrqCtrlGerrorIrqEn | reg::kIrqCtrlEventqIrqEn |
                     ((idr0 & reg::kIdr0Pri) ? reg::kIrqCtrlPriqIrqEn : 0));
  enables |= reg::kCr0SmmuEn;
  write_reg_sync(reg::kCr0, reg::kCr0Ack, enables);
}

// arm_smmu_init_strtab: 2-level when IDR0.ST_LEVEL allows and SIDSIZE > STRTAB_SPLIT
// (arm_smmu_init_strtab_2lvl), else linear with every STE abort
// (arm_smmu_init_strtab_linear, arm_smmu_init_initial_stes).
void Smmuv3SvaDriver::init_stream_table(uint32_t idr0, unsigned sid_bits) {
  two_level_ = reg::kIdr0StLevel.get(idr0) == reg::kIdr0StLevel2 && sid_bits > kStrtabSplit;
  l2_tables_.clear();
  if (two_level_) {
    l1_log2_ = std::min(kMaxL1Log2, sid_bits - kStrtabSplit);
    strtab_ = alloc_frames(frames_for(uint64_t{kL1StdBytes} << l1_log2_), "the stream table");
    return;
  }
  const uint64_t n = uint64_t{1} << sid_bits;
  strtab_ = alloc_frames(frames_for(n * kSteBytes), "the stream table");
  Ste abort;
  const SteWords w = abort.encode();
  for (uint64_t i = 0; i < n; ++i) {
    kernel().env().mem->write(strtab_ + i * kSteBytes, w.data(), sizeof w);
  }
}

void Smmuv3SvaDriver::ensure_l2_table(uint16_t sid) {
  if (!two_level_) return;
  const uint8_t bus = static_cast<uint8_t>(sid >> kStrtabSplit);
  if (l2_tables_.count(bus)) return;
  const unsigned n = 1u << kStrtabSplit;
  const uint64_t l2 = alloc_frames(frames_for(uint64_t{n} * kSteBytes), "a level-2 stream table");
  const SteWords abort = Ste{}.encode();
  for (unsigned i = 0; i < n; ++i) {
    kernel().env().mem->write(l2 + uint64_t{i} * kSteBytes, abort.data(), sizeof abort);
  }
  kernel().env().mem->write_u64(strtab_ + uint64_t{kL1StdBytes} * bus, L1Std{kL2Span, l2}.encode());
  kernel().context().current().run_for(ns(config().table_write_ns));
  l2_tables_.emplace(bus, l2);
}

uint64_t Smmuv3SvaDriver::ste_address(uint16_t sid) const {
  if (!strtab_) return 0;
  if (!two_level_) return strtab_ + uint64_t{kSteBytes} * sid;
  auto it = l2_tables_.find(static_cast<uint8_t>(sid >> kStrtabSplit));
  if (it == l2_tables_.end()) return 0;
  return it->second + uint64_t{kSteBytes} * (sid & ((1u << kStrtabSplit) - 1));
}

uint64_t Smmuv3SvaDriver::cd_address(uint16_t rid, uint32_t ssid) const {
  auto it = cd_tables_.find(rid);
  return it == cd_tables_.end() ? 0 : it->second + uint64_t{kCdBytes} * ssid;
}

void Smmuv3SvaDriver::write_entry(uint64_t addr, const Words8& target, bool rest_first,
                                  const CmdWords& cfgi) {
  PhysicalMemory& mem = *kernel().env().mem;
  ExecContext& ctx = kernel().context().current();
  const sc_time step = ns(config().table_write_ns);
  auto write_rest = [&] {
    bool changed = false;
    for (unsigned i = 1; i < 8; ++i) {
      changed = changed || mem.read_u64(addr + 8 * i) != target[i];
      mem.write_u64(addr + 8 * i, target[i]);
    }
    return changed;
  };
  if (rest_first) {
    write_rest();
    ctx.run_for(step);
    submit({cfgi});
  }
  mem.write_u64(addr, target[0]);
  ctx.run_for(step);
  submit({cfgi});
  if (!rest_first && write_rest()) {
    ctx.run_for(step);
    submit({cfgi});
  }
}

// arm_smmu_write_ste: the entry writer with arm_smmu_sync_ste_for_sid (CFGI_STE, Leaf,
// + CMD_SYNC) as its sync, then a PREFETCH_CONFIG without sync.
void Smmuv3SvaDriver::write_ste(uint16_t sid, const Ste& ste) {
  ensure_l2_table(sid);
  const uint64_t addr = ste_address(sid);
  SteWords old{};
  kernel().env().mem->read(addr, old.data(), sizeof old);
  // An invalid or abort STE uses only V and Config: the other qwords go first.
  const uint64_t v0 = old[0];
  const bool rest_first =
      !(v0 & 1) || ((v0 >> 1) & 0b111) == static_cast<uint64_t>(SteConfig::kAbort);
  write_entry(addr, ste.encode(), rest_first, CfgiSte{sid, true}.encode());
  submit({PrefetchConfig{sid, false, 0}.encode()}, false);
}

// arm_smmu_write_cd_entry: the entry writer with arm_smmu_sync_cd (CFGI_CD, Leaf, per
// stream of the master + CMD_SYNC) as its sync.
void Smmuv3SvaDriver::write_cd(uint16_t rid, uint32_t ssid, const Words8& cd) {
  const uint64_t addr = cd_address(rid, ssid);
  if (!addr) throw std::runtime_error("SVA driver: CD write for a device not attached");
  const bool old_valid = kernel().env().mem->read_u64(addr) & (uint64_t{1} << 31);  // CD.V
  write_entry(addr, cd, !old_valid, CfgiCd{rid, ssid, true}.encode());
}

void Smmuv3SvaDriver::attach_device(uint16_t rid, bool ats, bool pri) {
  if (!cmdq_base_) throw std::runtime_error("SVA driver: attach_device before init");
  DeviceState& dev = device_state(rid);
  dev.ats = ats;
  dev.pri = pri;
  // arm_smmu_alloc_cd_tables: linear for up to CTXDESC_L2_ENTRIES (1024) SSIDs.
  uint64_t& cdtab = cd_tables_[rid];
  if (!cdtab) {
    cdtab = alloc_frames(frames_for(uint64_t{kCdBytes} << kCdTableLog2), "a CD table");
  }
  // arm_smmu_make_cdtable_ste with S1DSS = terminate (a blocked RID domain).
  Ste s;
  s.config = SteConfig::kS1Translate;
  s.s1fmt = S1Fmt::kLinear;
  s.s1_context_ptr = cdtab;
  s.s1_cdmax = kCdTableLog2;
  s.s1dss = S1Dss::kTerminate;
  s.eats = ats ? Eats::kTranslate : Eats::kAbort;
  write_ste(rid, s);
  // arm_smmu_enable_ats: ATC_INV of PASID 0 (SSV = 0: the whole ATC) + CMD_SYNC.
  if (ats) submit_one(atc_inv(rid, std::nullopt, kAtcAll));
}

void Smmuv3SvaDriver::attach_identity(uint16_t rid) {
  if (!cmdq_base_) throw std::runtime_error("SVA driver: attach_identity before init");
  DeviceState& dev = device_state(rid);
  dev.ats = false;
  dev.pri = false;
  Ste s;
  s.config = SteConfig::kBypass;
  write_ste(rid, s);
}

// --- bind / unbind / release -----------------------------------------------------------

std::optional<uint16_t> Smmuv3SvaDriver::asid_of(uint32_t pasid) const {
  auto it = asids_.find(pasid);
  if (it == asids_.end()) return std::nullopt;
  return it->second;
}

uint16_t Smmuv3SvaDriver::asid(uint32_t pasid) const {
  auto it = asids_.find(pasid);
  if (it == asids_.end()) {
    throw std::logic_error("SVA driver: PASID " + std::to_string(pasid) + " has no ASID");
  }
  return it->second;
}

// arm_smmu_sva_set_dev_pasid: arm_smmu_make_sva_cd + arm_smmu_set_pasid (the CD
// written by arm_smmu_write_cd_entry). The first device of the mm allocates the SVA
// domain's ASID (arm_smmu_sva_domain_alloc: lowest free from 1).
void Smmuv3SvaDriver::set_dev_pasid(uint16_t rid, uint32_t pasid, Mm& mm) {
  if (!asids_.count(pasid)) {
    uint16_t a = 1;
    auto used = [&](uint16_t x) {
      return std::any_of(asids_.begin(), asids_.end(),
                         [x](const auto& e) { return e.second == x; });
    };
    while (used(a)) ++a;
    asids_.emplace(pasid, a);
  }
  write_cd(rid, pasid, sva_cd(asid(pasid), mm.root()).encode());
}

// arm_smmu_remove_dev_pasid (6.12, as arm_smmu_blocking_set_dev_pasid): clear the CD
// (arm_smmu_clear_cd), ATC_INV of the SSID on an ATS device (arm_smmu_atc_inv_master);
// then the page requests of the PASID are drained (iopf_queue_flush_dev's contract);
// the last device frees the SVA domain: TLBI_NH_ASID + CMD_SYNC
// (arm_smmu_sva_domain_free) and the ASID.
void Smmuv3SvaDriver::remove_dev_pasid(uint16_t rid, uint32_t pasid) {
  write_cd(rid, pasid, Words8{});
  if (device_state(rid).ats && !config().unbind_skip_atc_flush) {
    submit_one(atc_inv(rid, pasid, kAtcAll));
  }
  if (iopf()) iopf()->drain(pasid);
  if (devices_of(pasid).size() <= 1) {
    submit_one(TlbiNhAsid{asid(pasid), 0});
    asids_.erase(pasid);
  }
}

// arm_smmu_mm_release: every device's CD set to the quiet SVA CD (valid, EPD0: no
// translation, no C_BAD_CD events), then TLBI_NH_ASID (arm_smmu_tlb_inv_asid) and the
// whole-space ATC invalidation (arm_smmu_atc_inv_domain(0, 0)), each with a CMD_SYNC.
void Smmuv3SvaDriver::mm_release(uint32_t pasid, const std::vector<uint16_t>& rids) {
  const uint16_t a = asid(pasid);
  for (uint16_t rid : rids) write_cd(rid, pasid, sva_cd(a, 0).encode());
  submit_one(TlbiNhAsid{a, 0});
  atc_inv_domain(pasid, rids, kAtcAll);
}

// --- flushes and invalidation ------------------------------------------------------------

bool Smmuv3SvaDriver::submit_one(const Command& c) {
  return submit({encode_command(c)});
}

bool Smmuv3SvaDriver::atc_inv_domain(uint32_t pasid, const std::vector<uint16_t>& rids,
                                     AtcSpan span) {
  std::vector<CmdWords> cmds;
  for (uint16_t rid : ats_rids(rids)) cmds.push_back(atc_inv(rid, pasid, span).encode());
  if (cmds.empty()) return true;  // nr_ats_masters == 0
  return submit(cmds);
}

// arm_smmu_tlb_inv_context for the SVA domain: TLBI_NH_ASID, then the ATCs.
void Smmuv3SvaDriver::flush_pasid_on(uint32_t pasid, const std::vector<uint16_t>& rids) {
  submit_one(TlbiNhAsid{asid(pasid), 0});
  atc_inv_domain(pasid, rids, kAtcAll);
}

void Smmuv3SvaDriver::flush_all() {
  submit_one(CfgiSteRange::all());
  submit_one(TlbiNsnhAll{});
  std::vector<CmdWords> cmds;
  for (const auto& [pasid, b] : bindings()) {
    for (uint16_t rid : ats_rids(b.rids)) cmds.push_back(atc_inv(rid, pasid, kAtcAll).encode());
  }
  if (!cmds.empty()) submit(cmds);
}

// arm_smmu_mm_arch_invalidate_secondary_tlbs: without IDR3.RIL a range of
// CMDQ_MAX_TLBI_OPS pages or more, and the whole space (size ULONG_MAX) in any case,
// becomes one TLBI_NH_ASID (arm_smmu_tlb_inv_asid) and a whole-space ATC_INV; else the
// TLBI_NH_VA commands of __arm_smmu_tlb_inv_range (arm_smmu_tlb_inv_range_asid, Leaf =
// 0) and one ATC_INV of the range's span per ATS device (arm_smmu_atc_inv_domain). The
// TLBIs and the ATC_INVs are two submissions, each with its CMD_SYNC.
SvaDriver::InvalidationResult Smmuv3SvaDriver::invalidate_range(uint32_t pasid,
                                                                const std::vector<uint16_t>& rids,
                                                                uint64_t start, uint64_t end) {
  const uint16_t a = asid(pasid);
  const uint64_t size = end - start;
  const bool whole = size == ~uint64_t{0} ||
                     (!ril_ && size >= uint64_t{config().arm_full_flush_pages} * kPageBytes);
  InvalidationResult r;
  r.full_flush = whole;
  bool ok;
  if (whole) {
    ok = submit_one(TlbiNhAsid{a, 0});
  } else {
    const std::vector<TlbiNhVa> tlbi = tlbi_range_commands(a, start, end, ril_);
    std::vector<CmdWords> cmds;
    cmds.reserve(tlbi.size());
    for (const TlbiNhVa& c : tlbi) cmds.push_back(c.encode());
    ok = submit(cmds);
  }
  ok = atc_inv_domain(pasid, rids, whole ? kAtcAll : atc_inv_span(start, end)) && ok;
  r.completed = ok;
  return r;
}

// --- the command queue -------------------------------------------------------------------

bool Smmuv3SvaDriver::submit(const std::vector<CmdWords>& cmds, bool sync) {
  if (!cmdq_base_) throw std::runtime_error("SVA driver: command submitted before init");
  sc_time pending = sc_core::SC_ZERO_TIME;
  queue_lock_.lock(pending);
  bool ok = true;
  size_t i = 0;
  do {
    const size_t n = std::min(kBatchEntries, cmds.size() - i);
    const bool last = i + n == cmds.size();
    ok = issue_cmdlist(cmds.data() + i, n, sync && last, pending) && ok;
    i += n;
  } while (i < cmds.size());
  kernel().context().current().charge(pending);
  queue_lock_.unlock();
  return ok;
}

bool Smmuv3SvaDriver::issue_cmdlist(const CmdWords* cmds, size_t n, bool sync, sc_time& pending) {
  wait_for_space(static_cast<uint32_t>(n + (sync ? 1 : 0)), pending);
  for (size_t k = 0; k < n; ++k) put_command(cmds[k], pending);
  uint64_t slot = 0;
  if (sync) {
    // arm_smmu_cmdq_build_sync_cmd with ARM_SMMU_OPT_MSIPOLL: the MSI clears the
    // sync's own first word.
    slot = cmdq_base_ + queue_entry_offset(prod_, cmdq_log2_, kCmdBytes);
    Sync s;
    s.cs = SyncCs::kIrq;
    s.msh = kShIsh;
    s.msi_attr = kMemAttrOiwb;
    s.msi_data = 0;
    s.msi_addr = slot;
    put_command(s.encode(), pending);
  }
  write_reg32(reg::kCmdqProd, prod_, pending);
  if (!sync) return true;
  batches_.inc();
  const WaitResult r = spin_for_status(slot, 0, pending);
  pending = sc_core::SC_ZERO_TIME;
  if (r == WaitResult::kDone) return true;
  failed_waits_.inc();
  return false;
}

void Smmuv3SvaDriver::wait_for_space(uint32_t n, sc_time& pending) {
  const uint32_t size = 1u << cmdq_log2_;
  auto space = [&] { return size - queue_used(prod_, cons_cache_, cmdq_log2_); };
  if (space() >= n) return;
  ExecContext& ctx = kernel().context().current();
  ctx.charge(pending);
  cons_cache_ = queue_position(read_reg32(reg::kCmdqCons), cmdq_log2_);
  if (space() >= n) return;
  queue_full_stalls_.inc();
  const sc_time t0 = sc_core::sc_time_stamp();
  do {
    ctx.spin_for(ns(config().poll_interval_ns));
    cons_cache_ = queue_position(read_reg32(reg::kCmdqCons), cmdq_log2_);
  } while (space() < n);
  spin_time_.sample(sc_core::sc_time_stamp() - t0);
}

void Smmuv3SvaDriver::put_command(const CmdWords& w, sc_time& pending) {
  PhysicalMemory& mem = *kernel().env().mem;
  const uint64_t addr = cmdq_base_ + queue_entry_offset(prod_, cmdq_log2_, kCmdBytes);
  mem.write_u64(addr, w[0]);
  mem.write_u64(addr + 8, w[1]);
  pending += ns(config().descriptor_write_ns);
  descriptors_.inc();
  prod_ = queue_next(prod_, cmdq_log2_);
}

std::optional<SvaDriver::WaitResult> Smmuv3SvaDriver::wait_fault() {
  const uint32_t gerror = read_reg32(reg::kGerror);
  const uint32_t gerrorn = read_reg32(reg::kGerrorN);
  const uint32_t active = reg::gerror_active(gerror, gerrorn);
  if (!active) return std::nullopt;
  if (active & reg::kGerrorCmdqErr) skip_err();
  write_reg32(reg::kGerrorN, gerror);
  return std::nullopt;
}

void Smmuv3SvaDriver::skip_err() {
  const uint32_t cons = read_reg32(reg::kCmdqCons);
  switch (static_cast<CmdqError>(reg::kCmdqConsErr.get(cons))) {
    case CmdqError::kNone:
      return;
    case CmdqError::kAbt:  // "retrying command fetch"
      return;
    case CmdqError::kAtcInvSync:
      // CONS is at the CMD_SYNC, which runs again once acknowledged.
      retries_.inc();
      return;
    case CmdqError::kIll:
    default:
      break;
  }
  // The command becomes a CMD_SYNC (arm_smmu_cmdq_build_cmd without MSI: CS = SEV).
  Sync s;
  s.cs = SyncCs::kSev;
  s.msh = kShIsh;
  s.msi_attr = kMemAttrOiwb;
  const CmdWords w = s.encode();
  const uint64_t addr = cmdq_base_ + queue_entry_offset(cons, cmdq_log2_, kCmdBytes);
  kernel().env().mem->write_u64(addr, w[0]);
  kernel().env().mem->write_u64(addr + 8, w[1]);
  skipped_commands_.inc();
}

// --- page requests -----------------------------------------------------------------------

// Register accesses in a Timing::KeepAhead scope keep their latency in `pending` (see
// VtdSvaDriver::read_page_requests): PRIQ_PROD and PRIQ_CONS wake no process.
void Smmuv3SvaDriver::read_page_requests(PageRequestSink& sink, sc_time& pending) {
  Timing& timing = kernel().context().timing();
  PhysicalMemory& mem = *kernel().env().mem;
  auto read_prod = [&] {
    Timing::KeepAhead ahead(timing);
    return read_reg32(reg::kPriqProd, pending);
  };
  auto write_cons = [&] {
    Timing::KeepAhead ahead(timing);
    write_reg32(reg::kPriqCons, priq_cons_, pending);
  };
  uint32_t prod = read_prod();
  while (!queue_empty(prod, priq_cons_, priq_log2_)) {
    do {
      // queue_remove_raw: the entry, then CONS.
      const uint64_t addr = priq_base_ + queue_entry_offset(priq_cons_, priq_log2_, kPriqBytes);
      const PriqWords w{mem.read_u64(addr), mem.read_u64(addr + 8)};
      sink.take(io_page_request(PriqEntry::decode(w)), pending);
      priq_cons_ = queue_next(priq_cons_, priq_log2_);
      write_cons();
    } while (!queue_empty(prod, priq_cons_, priq_log2_));
    prod = read_prod();  // queue_sync_prod_in
  }
  // queue_sync_cons_ovf: an overflow is acknowledged once the queue is empty; the
  // groups whose last request was lost are discarded (iopf_queue_discard_partial).
  if ((prod ^ priq_cons_) & reg::kQOverflow) {
    sink.discard_partial_groups();
    priq_cons_ = (priq_cons_ & ~reg::kQOverflow) | (prod & reg::kQOverflow);
    write_cons();
  }
}

void Smmuv3SvaDriver::send_page_response(const IoPageRequest& last, PrgResponseCode code) {
  PriResp c;
  c.sid = last.rid;
  c.ssv = last.pasid_present;
  c.ssid = last.pasid_present ? last.pasid : 0;
  c.prgi = last.prg_index;
  switch (code) {
    case PrgResponseCode::kSuccess:
      c.resp = PriResponse::kSuccess;
      break;
    case PrgResponseCode::kInvalidRequest:
      c.resp = PriResponse::kDeny;
      break;
    default:
      c.resp = PriResponse::kFail;
      break;
  }
  submit({c.encode()}, false);
}

bool Smmuv3SvaDriver::page_request_queue_empty() {
  const uint32_t prod = read_reg32(reg::kPriqProd);
  const uint32_t cons = read_reg32(reg::kPriqCons);
  return queue_empty(prod, cons, priq_log2_);
}

}  // namespace iosim
