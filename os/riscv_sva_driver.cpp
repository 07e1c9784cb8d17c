#include "os/riscv_sva_driver.h"

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
using namespace riscv;

namespace {

unsigned frames_for(uint64_t bytes) {
  return static_cast<unsigned>(std::max<uint64_t>(1, (bytes + kPageBytes - 1) / kPageBytes));
}

IoPageRequest io_page_request(const PageRequestRecord& r) {
  IoPageRequest p;
  p.rid = static_cast<uint16_t>(r.did);
  p.pasid_present = r.pv;
  p.pasid = r.pid;
  p.read = r.read;
  p.write = r.write;
  p.exe = r.exec;
  p.priv = r.priv;
  p.last = r.last;
  p.prg_index = r.prgi;
  p.addr = r.addr;
  p.stop_marker = r.stop_marker();
  return p;
}

// The ATS.INVAL of `range` for `rid`'s PASID (riscv_iommu_ats_inval_payload's S-bit
// encoding; the whole space is every address bit but 63 set with S).
AtsInval ats_inval_cmd(uint16_t rid, uint32_t pasid, const AtsRange& range) {
  AtsInval c;
  c.target.rid = rid;
  c.target.pv = true;
  c.target.pid = pasid;
  if (range.is_whole_space()) {
    c.payload = AtsInvalPayload{0x7fff'ffff'ffff'f000ull, true, false};
  } else {
    const SBitAddress a = encode_s_range(range);
    c.payload = AtsInvalPayload{a.address, a.s, false};
  }
  return c;
}

IotinvalVma inval_pscid(uint32_t pscid) {
  IotinvalVma c;
  c.pscv = true;
  c.pscid = pscid;
  return c;
}

}  // namespace

RiscvSvaDriver::RiscvSvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel)
    : SvaDriver(name, cfg, kernel),
      skipped_commands_(stats_.counter("skipped_commands", "commands",
                                       "illegal commands replaced by an IOFENCE.C (cmd_ill)")) {}

RiscvSvaDriver::~RiscvSvaDriver() = default;

// --- setup ---------------------------------------------------------------------------

void RiscvSvaDriver::enable_queue(uint64_t base_off, uint64_t ptr_off, uint64_t csr_off,
                                  uint64_t addr, unsigned log2) {
  write_reg(base_off, reg::queue_base(addr, log2));
  write_reg32(ptr_off, 0);
  write_reg32(csr_off, reg::kQcsrEn | reg::kQcsrIe | reg::kQcsrMf);
  while ((read_reg32(csr_off) & (reg::kQcsrOn | reg::kQcsrBusy)) != reg::kQcsrOn) {
    kernel().context().current().spin_for(ns(config().poll_interval_ns));
  }
}

void RiscvSvaDriver::init() {
  // riscv_iommu_init_check.
  caps_ = read_reg(reg::kCapabilities);
  if (!(caps_ & reg::kCapSv48)) throw std::runtime_error("RISC-V IOMMU: no Sv48");
  if (reg::kCapIgs.get(caps_) == reg::kIgsWsi) write_reg32(reg::kFctl, reg::kFctlWsi);
  cq_base_ = alloc_frames(frames_for(uint64_t{kCmdBytes} << kCqLog2), "the command queue");
  fq_base_ = alloc_frames(frames_for(uint64_t{kFaultRecordBytes} << kFqLog2), "the fault queue");
  pq_log2_ = 7 + config().page_request_queue_pqs;
  pq_base_ =
      alloc_frames(frames_for(uint64_t{kPageRequestBytes} << pq_log2_), "the page request queue");
  status_ = alloc_frame("the IOFENCE.C status word");
  empty_root_ = alloc_frame("an empty first-stage root");
  cqt_ = cqh_cache_ = pqh_ = 0;
  enable_queue(reg::kCqb, reg::kCqt, reg::kCqcsr, cq_base_, kCqLog2);
  enable_queue(reg::kFqb, reg::kFqh, reg::kFqcsr, fq_base_, kFqLog2);
  // riscv_iommu_iodir_alloc + riscv_iommu_iodir_set_mode: the deepest mode first.
  ddt_root_ = alloc_frame("the device directory");
  pdts_.clear();
  for (auto m : {IommuMode::kLvl3, IommuMode::kLvl2, IommuMode::kLvl1}) {
    write_reg(reg::kDdtp,
              reg::kDdtpMode.put(static_cast<uint64_t>(m)) | addr_to_ppn_field(ddt_root_));
    uint64_t ddtp = read_reg(reg::kDdtp);
    while (ddtp & reg::kDdtpBusy) {
      kernel().context().current().spin_for(ns(config().poll_interval_ns));
      ddtp = read_reg(reg::kDdtp);
    }
    mode_ = static_cast<IommuMode>(reg::kDdtpMode.get(ddtp));
    if (mode_ == m) break;
  }
  submit({IodirInvalDdt{}, IotinvalVma{}});
  // The page request queue (the out-of-tree PRI series): with ATS.
  if (caps_ & reg::kCapAts) enable_queue(reg::kPqb, reg::kPqh, reg::kPqcsr, pq_base_, pq_log2_);
}

uint64_t RiscvSvaDriver::dc_address(uint16_t rid) const {
  if (!ddt_root_) return 0;
  PhysicalMemory& mem = *const_cast<RiscvSvaDriver*>(this)->kernel().env().mem;
  uint64_t table = ddt_root_;
  for (unsigned level = static_cast<unsigned>(mode_) - 2; level > 0; --level) {
    const DirEntry e = DirEntry::decode(mem.read_u64(table + kDdteBytes * ddi(rid, level)),
                                        Cause::kDdtMisconfigured);
    if (!e.valid) return 0;
    table = e.next;
  }
  return table + kDcBaseBytes * ddi(rid, 0);
}

uint64_t RiscvSvaDriver::make_dc(uint16_t rid) {
  PhysicalMemory& mem = *kernel().env().mem;
  uint64_t table = ddt_root_;
  for (unsigned level = static_cast<unsigned>(mode_) - 2; level > 0; --level) {
    const uint64_t addr = table + kDdteBytes * ddi(rid, level);
    DirEntry e = DirEntry::decode(mem.read_u64(addr), Cause::kDdtMisconfigured);
    if (!e.valid) {
      e = DirEntry{true, alloc_frame("a device directory table")};
      mem.write_u64(addr, e.encode());
      kernel().context().current().run_for(ns(config().table_write_ns));
    }
    table = e.next;
  }
  return table + kDcBaseBytes * ddi(rid, 0);
}

void RiscvSvaDriver::iodir_update(uint16_t rid, const DeviceContext& dc) {
  if (!ddt_root_) throw std::runtime_error("RISC-V IOMMU driver: attach before init");
  PhysicalMemory& mem = *kernel().env().mem;
  ExecContext& ctx = kernel().context().current();
  const sc_time step = ns(config().table_write_ns);
  const uint64_t addr = make_dc(rid);
  const uint64_t tc = mem.read_u64(addr);
  if (tc & 1) {  // valid: made invalid first, its cached copy invalidated
    mem.write_u64(addr, tc & ~uint64_t{1});
    ctx.run_for(step);
    submit({IodirInvalDdt{true, rid}});
  }
  const DcWords w = dc.encode();
  mem.write_u64(addr + 24, w[3]);  // fsc
  mem.write_u64(addr + 16, w[2]);  // ta
  mem.write_u64(addr + 8, w[1]);   // iohgatp
  mem.write_u64(addr, w[0]);       // tc, V last (dma_wmb before it)
  ctx.run_for(step);
  submit({IodirInvalDdt{true, rid}});
}

void RiscvSvaDriver::attach_device(uint16_t rid, bool ats, bool pri) {
  DeviceState& dev = device_state(rid);
  dev.ats = ats;
  dev.pri = pri;
  uint64_t& pdt = pdts_[rid];
  if (!pdt) pdt = alloc_frame("a process directory");  // PD8: 256 contexts of 16 bytes
  DeviceContext dc;
  dc.en_ats = ats;
  dc.en_pri = ats && pri;
  dc.prpr = dc.en_pri;
  dc.pdtv = true;
  dc.dpe = true;
  dc.sade = caps_ & reg::kCapAmoHwad;
  dc.fsc_mode = static_cast<uint8_t>(PdtpMode::kPd8);
  dc.fsc_root = pdt;
  iodir_update(rid, dc);
}

void RiscvSvaDriver::attach_identity(uint16_t rid) {
  DeviceState& dev = device_state(rid);
  dev.ats = false;
  dev.pri = false;
  DeviceContext dc;  // riscv_iommu_attach_identity_domain: iosatp Bare
  dc.fsc_mode = static_cast<uint8_t>(IosatpMode::kBare);
  iodir_update(rid, dc);
}

// --- bind / unbind / release -----------------------------------------------------------

uint64_t RiscvSvaDriver::pc_address(uint16_t rid, uint32_t pasid) const {
  auto it = pdts_.find(rid);
  return it == pdts_.end() ? 0 : it->second + uint64_t{kPcBytes} * pdi(pasid, 0);
}

std::optional<uint32_t> RiscvSvaDriver::pscid_of(uint32_t pasid) const {
  auto it = pscids_.find(pasid);
  if (it == pscids_.end()) return std::nullopt;
  return it->second;
}

uint32_t RiscvSvaDriver::pscid(uint32_t pasid) const {
  auto it = pscids_.find(pasid);
  if (it == pscids_.end()) {
    throw std::logic_error("RISC-V IOMMU driver: PASID " + std::to_string(pasid) + " has no PSCID");
  }
  return it->second;
}

// The process context: fsc, then ta (with V) last.
void RiscvSvaDriver::write_pc(uint16_t rid, uint32_t pasid, const ProcessContext& pc) {
  const uint64_t addr = pc_address(rid, pasid);
  if (!addr)
    throw std::runtime_error("RISC-V IOMMU driver: process context of a device not attached");
  const PcWords w = pc.encode();
  kernel().env().mem->write_u64(addr + 8, w[1]);
  kernel().env().mem->write_u64(addr, w[0]);
  kernel().context().current().run_for(ns(config().table_write_ns));
}

void RiscvSvaDriver::set_dev_pasid(uint16_t rid, uint32_t pasid, Mm& mm) {
  if (!pscids_.count(pasid)) {
    uint32_t p = 1;
    auto used = [&](uint32_t x) {
      return std::any_of(pscids_.begin(), pscids_.end(),
                         [x](const auto& e) { return e.second == x; });
    };
    while (used(p)) ++p;
    pscids_.emplace(pasid, p);
  }
  ProcessContext pc;
  pc.pscid = pscid(pasid);
  pc.mode = IosatpMode::kSv48;
  pc.root = mm.root();
  write_pc(rid, pasid, pc);
  submit({IodirInvalPdt{rid, pasid}});
}

// The context cleared, IODIR.INVAL_PDT (and, for the mm's last device, IOTINVAL.VMA of
// its PSCID) + IOFENCE.C; the device's ATC + IOFENCE.C; the PASID's page requests
// drained; the PSCID freed with the last device.
void RiscvSvaDriver::remove_dev_pasid(uint16_t rid, uint32_t pasid) {
  write_pc(rid, pasid, ProcessContext{false});
  const bool last = devices_of(pasid).size() <= 1;
  std::vector<Command> cmds{IodirInvalPdt{rid, pasid}};
  if (last) cmds.push_back(inval_pscid(pscid(pasid)));
  submit(cmds);
  if (device_state(rid).ats && !config().unbind_skip_atc_flush) {
    submit({ats_inval_cmd(rid, pasid, AtsRange::whole_space())});
  }
  if (iopf()) iopf()->drain(pasid);
  if (last) pscids_.erase(pasid);
}

// Every device's context points at an empty root (DMA page-faults), then the PSCID and
// the ATCs are invalidated.
void RiscvSvaDriver::mm_release(uint32_t pasid, const std::vector<uint16_t>& rids) {
  const uint32_t p = pscid(pasid);
  std::vector<Command> cmds;
  for (uint16_t rid : rids) {
    ProcessContext pc;
    pc.pscid = p;
    pc.root = empty_root_;
    write_pc(rid, pasid, pc);
    cmds.push_back(IodirInvalPdt{rid, pasid});
  }
  cmds.push_back(inval_pscid(p));
  submit(cmds);
  ats_inval(pasid, rids, AtsRange::whole_space());
}

// --- flushes and invalidation ------------------------------------------------------------

bool RiscvSvaDriver::ats_inval(uint32_t pasid, const std::vector<uint16_t>& rids,
                               const AtsRange& range) {
  std::vector<Command> cmds;
  for (uint16_t rid : ats_rids(rids)) cmds.push_back(ats_inval_cmd(rid, pasid, range));
  if (cmds.empty()) return true;
  return submit(cmds);
}

void RiscvSvaDriver::flush_pasid_on(uint32_t pasid, const std::vector<uint16_t>& rids) {
  submit({inval_pscid(pscid(pasid))});
  ats_inval(pasid, rids, AtsRange::whole_space());
}

void RiscvSvaDriver::flush_all() {
  submit({IodirInvalDdt{}, IotinvalVma{}});
  std::vector<Command> cmds;
  for (const auto& [pasid, b] : bindings()) {
    for (uint16_t rid : ats_rids(b.rids)) {
      cmds.push_back(ats_inval_cmd(rid, pasid, AtsRange::whole_space()));
    }
  }
  if (!cmds.empty()) submit(cmds);
}

// riscv_iommu_iotlb_inval, then the ATCs (see the header).
SvaDriver::InvalidationResult RiscvSvaDriver::invalidate_range(uint32_t pasid,
                                                               const std::vector<uint16_t>& rids,
                                                               uint64_t start, uint64_t end) {
  const uint32_t p = pscid(pasid);
  const uint64_t len = end - start;
  const bool whole = len == 0 || len >= kIotlbInvalLimit;
  InvalidationResult r;
  r.full_flush = whole;
  std::vector<Command> cmds;
  if (whole) {
    cmds.push_back(inval_pscid(p));
  } else {
    for (uint64_t va = start & ~(kPageBytes - 1); va < end; va += kPageBytes) {
      IotinvalVma c = inval_pscid(p);
      c.av = true;
      c.addr = va;
      cmds.push_back(c);
    }
  }
  bool ok = submit(cmds);
  ok = ats_inval(pasid, rids, whole ? AtsRange::whole_space() : cover_range(start, end)) && ok;
  r.completed = ok;
  return r;
}

// --- the command queue -------------------------------------------------------------------

bool RiscvSvaDriver::submit(const std::vector<Command>& cmds, bool fence) {
  std::vector<CmdWords> words;
  words.reserve(cmds.size());
  for (const Command& c : cmds) words.push_back(encode_command(c));
  return submit_words(words, fence);
}

bool RiscvSvaDriver::submit_words(const std::vector<CmdWords>& cmds, bool fence) {
  if (!cq_base_) throw std::runtime_error("RISC-V IOMMU driver: command submitted before init");
  sc_time pending = sc_core::SC_ZERO_TIME;
  queue_lock_.lock(pending);
  for (const CmdWords& c : cmds) {
    put_command(c, pending);
    write_reg32(reg::kCqt, cqt_, pending);  // riscv_iommu_queue_send
  }
  bool ok = true;
  if (fence) {
    IofenceC f;  // riscv_iommu_cmd_iofence (PR, PW) + the completion write
    f.pr = f.pw = true;
    f.av = true;
    f.wsi = true;
    f.data = ++fence_seq_;
    f.addr = status_;
    put_command(encode_command(f), pending);
    write_reg32(reg::kCqt, cqt_, pending);
    batches_.inc();
    const WaitResult r = spin_for_status(status_, f.data, pending);
    pending = sc_core::SC_ZERO_TIME;
    // riscv_iommu_cmdq_process: fence_w_ip and ipsr.cip acknowledged.
    write_reg32(reg::kCqcsr, reg::kQcsrEn | reg::kQcsrIe | reg::kCqcsrFenceWIp, pending);
    write_reg32(reg::kIpsr, reg::kIpsrCip, pending);
    if (r != WaitResult::kDone) {
      failed_waits_.inc();
      ok = false;
    }
  }
  kernel().context().current().charge(pending);
  queue_lock_.unlock();
  return ok;
}

void RiscvSvaDriver::wait_for_space(sc_time& pending) {
  if (!queue_full(cqh_cache_, cqt_, kCqLog2)) return;
  ExecContext& ctx = kernel().context().current();
  ctx.charge(pending);
  cqh_cache_ = read_reg32(reg::kCqh);
  if (!queue_full(cqh_cache_, cqt_, kCqLog2)) return;
  queue_full_stalls_.inc();
  const sc_time t0 = sc_core::sc_time_stamp();
  do {
    ctx.spin_for(ns(config().poll_interval_ns));
    cqh_cache_ = read_reg32(reg::kCqh);
  } while (queue_full(cqh_cache_, cqt_, kCqLog2));
  spin_time_.sample(sc_core::sc_time_stamp() - t0);
}

void RiscvSvaDriver::put_command(const CmdWords& w, sc_time& pending) {
  wait_for_space(pending);
  PhysicalMemory& mem = *kernel().env().mem;
  const uint64_t addr = cq_base_ + uint64_t{kCmdBytes} * cqt_;
  mem.write_u64(addr, w[0]);
  mem.write_u64(addr + 8, w[1]);
  pending += ns(config().descriptor_write_ns);
  descriptors_.inc();
  cqt_ = queue_next(cqt_, kCqLog2);
}

std::optional<SvaDriver::WaitResult> RiscvSvaDriver::wait_fault() {
  const uint32_t csr = read_reg32(reg::kCqcsr);
  const uint32_t errors = csr & reg::kCqcsrErrors;
  if (!errors) return std::nullopt;  // a fault record: not about the wait
  if (errors & reg::kCqcsrCmdIll) {
    const uint32_t head = read_reg32(reg::kCqh);
    const CmdWords w = encode_command(IofenceC{});
    const uint64_t addr = cq_base_ + uint64_t{kCmdBytes} * head;
    kernel().env().mem->write_u64(addr, w[0]);
    kernel().env().mem->write_u64(addr + 8, w[1]);
    skipped_commands_.inc();
  }
  if (errors & reg::kCqcsrCmdTo) retries_.inc();  // the IOFENCE.C runs again
  write_reg32(reg::kCqcsr, reg::kQcsrEn | reg::kQcsrIe | errors);
  write_reg32(reg::kIpsr, reg::kIpsrCip);
  return std::nullopt;
}

// --- page requests -----------------------------------------------------------------------

void RiscvSvaDriver::read_page_requests(PageRequestSink& sink, sc_time& pending) {
  Timing& timing = kernel().context().timing();
  PhysicalMemory& mem = *kernel().env().mem;
  auto read32 = [&](uint64_t off) {
    Timing::KeepAhead ahead(timing);
    return read_reg32(off, pending);
  };
  auto write32 = [&](uint64_t off, uint32_t v) {
    Timing::KeepAhead ahead(timing);
    write_reg32(off, v, pending);
  };
  write32(reg::kIpsr, reg::kIpsrPip);
  uint32_t tail = read32(reg::kPqt);
  while (!queue_empty(pqh_, tail)) {
    do {
      const uint64_t addr = pq_base_ + uint64_t{kPageRequestBytes} * pqh_;
      const PageRequestWords w{mem.read_u64(addr), mem.read_u64(addr + 8)};
      sink.take(io_page_request(PageRequestRecord::decode(w)), pending);
      pqh_ = queue_next(pqh_, pq_log2_);
      write32(reg::kPqh, pqh_);
    } while (!queue_empty(pqh_, tail));
    tail = read32(reg::kPqt);
  }
  // pqof: the IOMMU discarded requests (answering the lost last ones); once the queue
  // is empty the partial groups are discarded and pqof cleared.
  if (read32(reg::kPqcsr) & reg::kQcsrOf) {
    sink.discard_partial_groups();
    write32(reg::kPqcsr, reg::kQcsrEn | reg::kQcsrIe | reg::kQcsrOf);
  }
}

void RiscvSvaDriver::send_page_response(const IoPageRequest& last, PrgResponseCode code) {
  AtsPrgr c;
  c.target.rid = last.rid;
  c.target.pv = last.pasid_present;
  c.target.pid = last.pasid_present ? last.pasid : 0;
  c.payload = PrgrPayload{last.prg_index, static_cast<uint8_t>(code), last.rid};
  submit({c}, false);
}

bool RiscvSvaDriver::page_request_queue_empty() {
  return queue_empty(read_reg32(reg::kPqh), read_reg32(reg::kPqt));
}

}  // namespace iosim
