#include "os/amdvi_sva_driver.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "os/iopf_handler.h"
#include "sc_models/config/params.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;
using namespace amdvi;

namespace {

unsigned frames_for(uint64_t bytes) {
  return static_cast<unsigned>(std::max<uint64_t>(1, (bytes + kPageBytes - 1) / kPageBytes));
}

uint64_t ring_base(uint64_t addr, unsigned len) {
  return addr | reg::kBaseLen.put(len);
}

IoPageRequest io_page_request(const PprLogEntry& e) {
  IoPageRequest r;
  r.rid = e.device_id;
  r.pasid_present = e.flags & ppr_flag::kGn;
  r.pasid = e.pasid;
  r.read = e.flags & ppr_flag::kRead;
  r.write = e.flags & ppr_flag::kWrite;
  r.exe = e.flags & ppr_flag::kExec;
  r.priv = !(e.flags & ppr_flag::kUser);  // ppr_flag_to_fault_perm
  r.last = e.last;
  r.prg_index = e.prgi;
  r.addr = e.address;
  r.stop_marker = e.last && !r.read && !r.write;
  return r;
}

bool is_wait(const Command& c) {
  return std::holds_alternative<CompletionWait>(c);
}

}  // namespace

AmdviSvaPolicy AmdviSvaDriver::policy_of(SvaPolicyName name) {
  switch (name) {
    case SvaPolicyName::kAuto:
    case SvaPolicyName::kAmd:
      return AmdviSvaPolicy::kAmd;
    case SvaPolicyName::kAmdLegacy:
      return AmdviSvaPolicy::kAmdLegacy;
    default:
      throw ParamError("sva.policy: the AMD-Vi driver takes auto, amd or amd_legacy");
  }
}

AmdviSvaDriver::AmdviSvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel)
    : AmdviSvaDriver(name, cfg, kernel, policy_of(cfg.policy)) {}

AmdviSvaDriver::AmdviSvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel,
                               AmdviSvaPolicy policy)
    : SvaDriver(name, cfg, kernel), policy_(policy) {}

AmdviSvaDriver::~AmdviSvaDriver() = default;

// --- setup ---------------------------------------------------------------------------

void AmdviSvaDriver::write_control(uint64_t bits, bool on) {
  // iommu_feature_enable / iommu_feature_disable: read-modify-write of Control.
  control_ = on ? (control_ | bits) : (control_ & ~bits);
  write_reg(reg::kControl, control_);
}

void AmdviSvaDriver::init() {
  const uint64_t efr = read_reg(reg::kExtFeature);
  if (!(efr & reg::kEfrGtSup) || !(efr & reg::kEfrPprSup)) {
    throw std::runtime_error("AMD-Vi SVA driver: the IOMMU lacks GTSup or PPRSup");
  }
  dev_table_ = alloc_frames(frames_for(uint64_t{kDeviceIds} * kDteBytes), "the device table");
  cmd_bytes_ = ring_bytes(kCmdBufLen);
  cmd_buf_ = alloc_frames(frames_for(cmd_bytes_), "the command buffer");
  event_log_ = alloc_frames(frames_for(ring_bytes(kEventLogLen)), "the event log");
  ppr_bytes_ = ring_bytes(kPprLogLen);
  ppr_log_ = alloc_frames(frames_for(ppr_bytes_), "the PPR log");
  sem_addr_ = alloc_frame("the completion-wait semaphore");  // alloc_cwwb_sem
  cmd_tail_ = cmd_head_cache_ = 0;
  sem_val_ = 0;

  // early_enable_iommu: iommu_disable, then each part.
  control_ = 0;
  write_reg(reg::kControl, 0);
  // iommu_set_device_table: base | (size in 4 KiB pages - 1).
  write_reg(reg::kDevTableBase,
            dev_table_ | reg::kDevTableSize.put(frames_for(uint64_t{kDeviceIds} * kDteBytes) - 1));
  // iommu_enable_command_buffer + amd_iommu_reset_cmd_buffer.
  write_reg(reg::kCmdBufBase, ring_base(cmd_buf_, kCmdBufLen));
  write_reg(reg::kCmdBufHead, 0);
  write_reg(reg::kCmdBufTail, 0);
  write_control(reg::kCtrlCmdBufEn, true);
  // iommu_enable_event_buffer.
  write_reg(reg::kEventLogBase, ring_base(event_log_, kEventLogLen));
  write_reg(reg::kEventLogHead, 0);
  write_reg(reg::kEventLogTail, 0);
  write_control(reg::kCtrlEventIntEn | reg::kCtrlEventLogEn, true);
  // iommu_init_flags: the invalidation time-out (1 s) and coherent accesses; the
  // completion-wait interrupt that wakes the simulated poller (see the header).
  control_ = (control_ & ~reg::kCtrlInvTimeout.mask()) |
             reg::kCtrlInvTimeout.put(reg::kInvTimeout1s) | reg::kCtrlCoherent |
             reg::kCtrlComWaitIntEn;
  write_reg(reg::kControl, control_);
  write_control(reg::kCtrlGtEn, true);      // iommu_enable_gt
  write_control(reg::kCtrlIommuEn, true);   // iommu_enable
  submit({InvalidateIommuAll{}.encode()});  // amd_iommu_flush_all_caches (EFR.IASup)
  // amd_iommu_enable_ppr_log.
  write_control(reg::kCtrlPprEn, true);
  write_reg(reg::kPprLogBase, ring_base(ppr_log_, kPprLogLen));
  write_reg(reg::kPprLogHead, 0);
  write_reg(reg::kPprLogTail, 0);
  write_control(reg::kCtrlPprIntEn, true);
  write_control(reg::kCtrlPprLogEn, true);
}

uint64_t AmdviSvaDriver::gcr3_table_of(uint16_t rid) const {
  auto it = gcr3_tables_.find(rid);
  return it == gcr3_tables_.end() ? 0 : it->second;
}

std::optional<uint16_t> AmdviSvaDriver::domain_id_of(uint16_t rid) const {
  auto it = domain_ids_.find(rid);
  if (it == domain_ids_.end()) return std::nullopt;
  return it->second;
}

uint16_t AmdviSvaDriver::domain_id(uint16_t rid) const {
  auto it = domain_ids_.find(rid);
  if (it == domain_ids_.end()) {
    throw std::logic_error("AMD-Vi SVA driver: device " + std::to_string(rid) + " not attached");
  }
  return it->second;
}

void AmdviSvaDriver::write_dte(uint16_t rid, const Dte& d) {
  const DteWords w = d.encode();
  PhysicalMemory& mem = *kernel().env().mem;
  const uint64_t addr = dev_table_ + uint64_t{kDteBytes} * rid;
  // set_dte_entry: data[1] before data[0] (the valid bits).
  for (unsigned q = 3; q >= 1; --q) mem.write_u64(addr + 8 * q, w[q]);
  mem.write_u64(addr, w[0]);
  kernel().context().current().run_for(ns(config().table_write_ns));
}

void AmdviSvaDriver::attach_device(uint16_t rid, bool ats, bool pri) {
  if (!cmd_buf_) throw std::runtime_error("AMD-Vi SVA driver: attach_device before init");
  DeviceState& dev = device_state(rid);
  dev.ats = ats;
  dev.pri = pri;
  // setup_gcr3_table: one 4 KiB table (get_gcr3_levels(256) = GLX 0) and the lowest free
  // DomainID from 1 (domain_id_alloc).
  uint64_t& gcr3 = gcr3_tables_[rid];
  if (!gcr3) gcr3 = alloc_frame("a GCR3 table");
  if (!domain_ids_.count(rid)) {
    uint16_t id = 1;
    auto used = [&](uint16_t x) {
      return std::any_of(domain_ids_.begin(), domain_ids_.end(),
                         [x](const auto& e) { return e.second == x; });
    };
    while (used(id)) ++id;
    domain_ids_.emplace(rid, id);
  }
  Dte d;
  d.ppr = pri;  // amd_iommu_iopf_add_device sets dev_data->ppr
  d.gv = true;
  d.glx = 0;
  d.gcr3_root = gcr3;
  d.domain_id = domain_id(rid);
  d.iotlb = ats;
  write_dte(rid, d);
  // amd_iommu_dev_update_dte: device_flush_dte (+ the whole IOTLB with ATS), then a wait.
  std::vector<CmdWords> cmds{InvalidateDevtabEntry{rid}.encode()};
  if (ats) {
    InvalidateIotlbPages all;
    all.device_id = all.queue_id = rid;
    all.address = kInvAllPages.address;
    all.s = true;
    cmds.push_back(all.encode());
  }
  submit(cmds);
}

void AmdviSvaDriver::attach_identity(uint16_t rid) {
  if (!cmd_buf_) throw std::runtime_error("AMD-Vi SVA driver: attach_identity before init");
  DeviceState& dev = device_state(rid);
  dev.ats = false;
  dev.pri = false;
  Dte d;  // V, TV, Mode 0, IR, IW: the identity domain
  write_dte(rid, d);
  submit({InvalidateDevtabEntry{rid}.encode()});
}

// --- GCR3 entries and flushes -----------------------------------------------------------

std::vector<Command> AmdviSvaDriver::flush_commands(uint16_t rid, uint32_t pasid, InvAddress a,
                                                    bool atc) const {
  InvalidateIommuPages tlb;
  tlb.domain_id = domain_id(rid);
  tlb.pasid = pasid;
  tlb.gn = true;
  tlb.pde = true;
  tlb.address = a.address;
  tlb.s = a.s;
  InvalidateIotlbPages dev;
  dev.device_id = dev.queue_id = rid;
  dev.pasid = pasid;
  dev.gn = true;
  dev.address = a.address;
  dev.s = a.s;
  auto it = devices().find(rid);
  const bool ats = atc && (it == devices().end() || it->second.ats);
  std::vector<Command> out{tlb};
  if (policy_ == AmdviSvaPolicy::kAmdLegacy) {
    // __flush_pasid: the IOMMU TLB first and waited for, then the device TLBs.
    out.push_back(CompletionWait{});
    if (ats) out.push_back(dev);
    if (ats) out.push_back(CompletionWait{});
    return out;
  }
  // amd_iommu_dev_flush_pasid_pages.
  if (ats) out.push_back(dev);
  out.push_back(CompletionWait{});
  return out;
}

std::vector<Command> AmdviSvaDriver::range_commands(uint16_t rid, uint32_t pasid, uint64_t start,
                                                    uint64_t end) const {
  InvAddress a;
  if (policy_ == AmdviSvaPolicy::kAmdLegacy) {
    // mn_invalidate_range: one page, else the whole PASID (amd_iommu_flush_tlb).
    a = (start ^ (end - 1)) < kPageBytes ? InvAddress{start & ~(kPageBytes - 1), false}
                                         : kInvAllPages;
  } else {
    a = inv_address(start, end - start);  // build_inv_address
  }
  return flush_commands(rid, pasid, a, true);
}

bool AmdviSvaDriver::flush_pasid_dev(uint16_t rid, uint32_t pasid, bool atc) {
  return run(flush_commands(rid, pasid, kInvAllPages, atc));
}

void AmdviSvaDriver::update_gcr3(uint16_t rid, uint32_t pasid, uint64_t cr3) {
  const uint64_t table = gcr3_table_of(rid);
  if (!table) throw std::runtime_error("AMD-Vi SVA driver: GCR3 write for a device not attached");
  const Gcr3Entry e{cr3 != 0, cr3};
  kernel().env().mem->write_u64(table + uint64_t{kGcr3EntryBytes} * gcr3_index(pasid, 0),
                                e.encode());
  kernel().context().current().run_for(ns(config().table_write_ns));
}

// iommu_sva_set_dev_pasid -> amd_iommu_set_gcr3 -> update_gcr3: the entry, then
// amd_iommu_dev_flush_pasid_all (amd_legacy: __set_gcr3 + __amd_iommu_flush_tlb).
void AmdviSvaDriver::set_dev_pasid(uint16_t rid, uint32_t pasid, Mm& mm) {
  update_gcr3(rid, pasid, mm.root());
  flush_pasid_dev(rid, pasid);
}

// amd_iommu_remove_dev_pasid -> amd_iommu_clear_gcr3: the entry cleared and the PASID
// flushed on the device; then its page requests are drained (iopf_queue_flush_dev's
// contract, as the other drivers here).
void AmdviSvaDriver::remove_dev_pasid(uint16_t rid, uint32_t pasid) {
  update_gcr3(rid, pasid, 0);
  flush_pasid_dev(rid, pasid, !config().unbind_skip_atc_flush);
  if (iopf()) iopf()->drain(pasid);
}

// sva_mn_release (amd_legacy: mn_release -> unbind_pasid): every device's entry cleared
// and flushed.
void AmdviSvaDriver::mm_release(uint32_t pasid, const std::vector<uint16_t>& rids) {
  for (uint16_t rid : rids) {
    update_gcr3(rid, pasid, 0);
    flush_pasid_dev(rid, pasid);
  }
}

void AmdviSvaDriver::flush_pasid_on(uint32_t pasid, const std::vector<uint16_t>& rids) {
  for (uint16_t rid : rids) flush_pasid_dev(rid, pasid);
}

void AmdviSvaDriver::flush_all() {
  submit({InvalidateIommuAll{}.encode()});
  std::vector<CmdWords> cmds;
  for (const auto& [pasid, b] : bindings()) {
    for (uint16_t rid : ats_rids(b.rids)) {
      InvalidateIotlbPages all;
      all.device_id = all.queue_id = rid;
      all.pasid = pasid;
      all.gn = true;
      all.address = kInvAllPages.address;
      all.s = true;
      cmds.push_back(all.encode());
    }
  }
  if (!cmds.empty()) submit(cmds);
}

// sva_arch_invalidate_secondary_tlbs (amd) / mn_invalidate_range (amd_legacy): each
// bound device in turn.
SvaDriver::InvalidationResult AmdviSvaDriver::invalidate_range(uint32_t pasid,
                                                               const std::vector<uint16_t>& rids,
                                                               uint64_t start, uint64_t end) {
  InvalidationResult r;
  r.completed = true;
  for (uint16_t rid : rids) {
    const std::vector<Command> cmds = range_commands(rid, pasid, start, end);
    const auto& tlb = std::get<InvalidateIommuPages>(cmds.front());
    r.full_flush = tlb.s && covered_range(tlb.address, tlb.s).is_whole_space();
    r.completed = run(cmds) && r.completed;
  }
  return r;
}

// --- the command buffer --------------------------------------------------------------

bool AmdviSvaDriver::run(const std::vector<Command>& cmds) {
  if (!cmd_buf_) throw std::runtime_error("AMD-Vi SVA driver: command submitted before init");
  sc_time pending = sc_core::SC_ZERO_TIME;
  queue_lock_.lock(pending);
  bool ok = true;
  for (const Command& c : cmds) {
    if (is_wait(c)) {
      ok = completion_wait(pending) && ok;
    } else {
      put_command(encode_command(c), pending);
    }
  }
  kernel().context().current().charge(pending);
  queue_lock_.unlock();
  return ok;
}

bool AmdviSvaDriver::submit(const std::vector<CmdWords>& cmds, bool wait) {
  std::vector<Command> list;
  list.reserve(cmds.size() + 1);
  for (const CmdWords& w : cmds) list.push_back(decode_command(w));
  if (wait) list.push_back(CompletionWait{});
  return run(list);
}

// __iommu_queue_command_sync: at most 0x20 bytes (two entries) left -> read the head
// again, polling until there is room.
void AmdviSvaDriver::wait_for_space(sc_time& pending) {
  auto left = [&] {
    return (cmd_head_cache_ + cmd_bytes_ - ring_next(cmd_tail_, cmd_bytes_)) % cmd_bytes_;
  };
  if (left() > 0x20) return;
  ExecContext& ctx = kernel().context().current();
  ctx.charge(pending);
  cmd_head_cache_ = read_reg(reg::kCmdBufHead) & reg::kPointer.mask();
  if (left() > 0x20) return;
  queue_full_stalls_.inc();
  const sc_time t0 = sc_core::sc_time_stamp();
  do {
    ctx.spin_for(ns(config().poll_interval_ns));
    cmd_head_cache_ = read_reg(reg::kCmdBufHead) & reg::kPointer.mask();
  } while (left() <= 0x20);
  spin_time_.sample(sc_core::sc_time_stamp() - t0);
}

// copy_cmd_to_buffer: the command, then the tail register.
void AmdviSvaDriver::put_command(const CmdWords& w, sc_time& pending) {
  wait_for_space(pending);
  PhysicalMemory& mem = *kernel().env().mem;
  mem.write_u64(cmd_buf_ + cmd_tail_, w[0]);
  mem.write_u64(cmd_buf_ + cmd_tail_ + 8, w[1]);
  pending += ns(config().descriptor_write_ns);
  descriptors_.inc();
  cmd_tail_ = ring_next(cmd_tail_, cmd_bytes_);
  write_reg(reg::kCmdBufTail, cmd_tail_, pending);
}

// iommu_completion_wait: COMPLETION_WAIT storing ++cmd_sem_val, then wait_on_sem.
bool AmdviSvaDriver::completion_wait(sc_time& pending) {
  const uint64_t data = ++sem_val_;
  CompletionWait c;
  c.store = true;
  c.interrupt = true;  // wakes the simulated poller (header)
  c.store_addr = sem_addr_;
  c.store_data = data;
  put_command(c.encode(), pending);
  batches_.inc();
  const WaitResult r = spin_for_status(sem_addr_, static_cast<uint32_t>(data), pending);
  pending = sc_core::SC_ZERO_TIME;
  if (r == WaitResult::kDone) return true;
  failed_waits_.inc();
  return false;
}

// wait_on_sem only polls the semaphore: a fault interrupt (an IOTLB_INV_TIMEOUT event,
// say) changes nothing. A stopped command buffer never reaches the wait: wait_on_sem
// gives up after LOOP_TIMEOUT with -EIO; here at once.
std::optional<SvaDriver::WaitResult> AmdviSvaDriver::wait_fault() {
  if (status_written()) return std::nullopt;
  if (!(read_reg(reg::kStatus) & reg::kStatusCmdBufRun)) return WaitResult::kRejected;
  return std::nullopt;
}

// --- page requests -----------------------------------------------------------------------

// amd_iommu_int_thread (amd_iommu_handle_irq for the PPR log): while Status has PPRInt or
// PPROverflow, clear them, poll the log (amd_iommu_poll_ppr_log), and after an overflow
// discard the partial groups and restart the log (amd_iommu_restart_ppr_log).
void AmdviSvaDriver::read_page_requests(PageRequestSink& sink, sc_time& pending) {
  Timing& timing = kernel().context().timing();
  PhysicalMemory& mem = *kernel().env().mem;
  auto rd = [&](uint64_t off) {
    Timing::KeepAhead ahead(timing);
    return read_reg(off, pending);
  };
  auto wr = [&](uint64_t off, uint64_t v) {
    Timing::KeepAhead ahead(timing);
    write_reg(off, v, pending);
  };
  const uint64_t mask = reg::kStatusPprInt | reg::kStatusPprOverflow;
  uint64_t status = rd(reg::kStatus);
  while (status & mask) {
    wr(reg::kStatus, mask);
    uint64_t head = rd(reg::kPprLogHead) & reg::kPointer.mask();
    const uint64_t tail = rd(reg::kPprLogTail) & reg::kPointer.mask();
    while (head != tail) {
      const uint64_t addr = ppr_log_ + head;
      const PprWords w{mem.read_u64(addr), mem.read_u64(addr + 8)};
      mem.write_u64(addr, 0);  // errata 733: the entry cleared
      mem.write_u64(addr + 8, 0);
      head = ring_next(head, ppr_bytes_);
      wr(reg::kPprLogHead, head);
      sink.take(io_page_request(PprLogEntry::decode(w)), pending);
    }
    if (status & reg::kStatusPprOverflow) {
      sink.discard_partial_groups();
      // amd_iommu_restart_log: PPRLogEn and PPRIntEn off, then on again.
      control_ &= ~(reg::kCtrlPprLogEn | reg::kCtrlPprIntEn);
      wr(reg::kControl, control_);
      control_ |= reg::kCtrlPprLogEn | reg::kCtrlPprIntEn;
      wr(reg::kControl, control_);
    }
    status = rd(reg::kStatus);
  }
}

void AmdviSvaDriver::send_page_response(const IoPageRequest& last, PrgResponseCode code) {
  CompletePprRequest c;
  c.device_id = last.rid;
  c.gn = last.pasid_present;
  c.pasid = last.pasid_present ? last.pasid : 0;
  c.tag = last.prg_index;
  switch (code) {
    case PrgResponseCode::kSuccess:
      c.status = kPprStatusSuccess;
      break;
    case PrgResponseCode::kInvalidRequest:
      c.status = kPprStatusInvalidRequest;
      break;
    default:
      c.status = kPprStatusResponseFailure;
      break;
  }
  submit({c.encode()}, false);  // amd_iommu_complete_ppr: queued, not waited for
}

bool AmdviSvaDriver::page_request_queue_empty() {
  const uint64_t head = read_reg(reg::kPprLogHead) & reg::kPointer.mask();
  const uint64_t tail = read_reg(reg::kPprLogTail) & reg::kPointer.mask();
  return head == tail;
}

}  // namespace iosim
