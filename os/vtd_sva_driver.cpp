#include "os/vtd_sva_driver.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "os/iopf_handler.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/pcie/pcie_fields.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;

namespace {

constexpr uint32_t kPasidTableEntries = 256;  // one 4 KiB frame of 16-byte entries
constexpr uint8_t kPasidTablePts = 8;

SvaPolicyParams policy_params(const SvaConfig& c) {
  return SvaPolicyParams{c.intel_batch_descriptors, c.intel_max_address_mask,
                         c.intel_dtlb_extra_inval};
}

IoPageRequest io_page_request(const PageRequestDesc& d) {
  IoPageRequest r;
  r.rid = d.rid;
  r.pasid_present = d.pasid_present;
  r.pasid = d.pasid;
  r.read = d.read;
  r.write = d.write;
  r.exe = d.exe;
  r.priv = d.priv;
  r.last = d.lpig;
  r.prg_index = d.prg_index;
  r.addr = d.addr;
  r.stop_marker = d.is_stop_marker();
  return r;
}

}  // namespace

VtdSvaDriver::VtdSvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel)
    : SvaDriver(name, cfg, kernel),
      policy_(make_vtd_policy(config().policy, policy_params(config()))) {
  static_assert(kPasidTableEntries == kPasids, "one PASID table entry per PASID");
}

VtdSvaDriver::~VtdSvaDriver() = default;

void VtdSvaDriver::write_entry(uint64_t addr, const Desc128& d) {
  write_desc(*kernel().env().mem, addr, d);
  kernel().context().current().run_for(ns(config().table_write_ns));
}

// --- setup ---------------------------------------------------------------------------

void VtdSvaDriver::init() {
  const SvaConfig& cfg = config();
  root_table_ = alloc_frame("the root table");
  cq_base_ = alloc_frames(1u << cfg.command_queue_qs, "the command queue");
  cq_bytes_ = kPageBytes << cfg.command_queue_qs;
  pq_base_ = alloc_frames(1u << cfg.page_request_queue_pqs, "the page request queue");
  status_addr_ = alloc_frame("the wait status");
  cq_tail_ = cq_head_cache_ = 0;
  write_reg(vtd_reg::kRtaddr, root_table_);
  write_reg(vtd_reg::kIqa, cq_base_ | cfg.command_queue_qs);
  write_reg(vtd_reg::kPqa, pq_base_ | cfg.page_request_queue_pqs);
}

void VtdSvaDriver::attach_device(uint16_t rid, bool ats, bool pri) {
  if (!root_table_) throw std::runtime_error("SVA driver: attach_device before init");
  const uint8_t bus = static_cast<uint8_t>(rid >> 8);
  auto ct = context_tables_.find(bus);
  if (ct == context_tables_.end()) {
    const uint64_t table = alloc_frame("a context table");
    ct = context_tables_.emplace(bus, table).first;
    write_entry(root_table_ + kTableEntryBytes * bus, RootEntry{true, table}.encode());
  }
  DeviceState& dev = device_state(rid);
  uint64_t& pasid_table = pasid_tables_[rid];
  if (!pasid_table) pasid_table = alloc_frame("a PASID table");
  dev.ats = ats;
  dev.pri = pri;
  const ContextEntry ce{true, ats, pri, true, pasid_table, kPasidTablePts, 0};
  write_entry(ct->second + kTableEntryBytes * (rid & 0xff), ce.encode());
  submit_and_wait({ContextCacheInv{ContextCacheInv::kDevice, 0, rid}.encode()});
}

void VtdSvaDriver::attach_identity(uint16_t rid) {
  attach_device(rid, false, false);
  PasidEntry pe;
  pe.present = true;
  pe.pgtt = Pgtt::kPassThrough;
  write_entry(pasid_tables_.at(rid), pe.encode());  // RID_PASID = 0
  submit_and_wait({PasidCacheInv{PasidCacheInv::kPasid, 0, 0}.encode()});
}

uint64_t VtdSvaDriver::pasid_table_of(uint16_t rid) const {
  auto it = pasid_tables_.find(rid);
  return it == pasid_tables_.end() ? 0 : it->second;
}

// --- bind / unbind / release -----------------------------------------------------------

void VtdSvaDriver::set_dev_pasid(uint16_t rid, uint32_t pasid, Mm& mm) {
  const PasidEntry pe{true, false, mm.root(), static_cast<uint16_t>(pasid)};
  write_entry(pasid_tables_.at(rid) + kTableEntryBytes * pasid, pe.encode());
  submit_and_wait({pasid_cache_inv(pasid)});
}

void VtdSvaDriver::remove_dev_pasid(uint16_t rid, uint32_t pasid) {
  const bool atc = !config().unbind_skip_atc_flush;
  // intel_pasid_tear_down_entry(): clear the entry, then PASID cache, IOTLB and
  // device TLB (pasid_cache_invalidation_with_pasid, qi_flush_piotlb,
  // devtlb_invalidation_with_pasid), one wait.
  write_entry(pasid_tables_.at(rid) + kTableEntryBytes * pasid, PasidEntry{}.encode());
  submit_and_wait(teardown_commands(pasid, {rid}, atc));
  // intel_drain_pasid_prq(): wait until no page request of the PASID is pending,
  // then flush the IOTLB and device TLB again with a wait.
  if (iopf()) iopf()->drain(pasid);
  std::vector<Desc128> drain;
  append_pasid_flush(drain, pasid, {rid}, atc);
  submit_and_wait(drain);
}

void VtdSvaDriver::mm_release(uint32_t pasid, const std::vector<uint16_t>& rids) {
  for (uint16_t rid : rids) {
    write_entry(pasid_tables_.at(rid) + kTableEntryBytes * pasid, PasidEntry{}.encode());
  }
  submit_and_wait(teardown_commands(pasid, rids));
}

void VtdSvaDriver::append_pasid_flush(std::vector<Desc128>& d, uint32_t pasid,
                                      const std::vector<uint16_t>& rids, bool atc) const {
  d.push_back(pasid_iotlb_all(pasid));
  if (!atc) return;
  for (uint16_t rid : ats_rids(rids)) {
    d.push_back(pasid_dev_tlb(rid, pasid, 0, kAtsWholeSpaceLog2));
  }
}

std::vector<Desc128> VtdSvaDriver::teardown_commands(uint32_t pasid,
                                                     const std::vector<uint16_t>& rids,
                                                     bool atc) const {
  std::vector<Desc128> d{pasid_cache_inv(pasid)};
  append_pasid_flush(d, pasid, rids, atc);
  d.push_back(wait_descriptor());
  return d;
}

// --- flushes and invalidation ------------------------------------------------------------

void VtdSvaDriver::flush_pasid_on(uint32_t pasid, const std::vector<uint16_t>& rids) {
  std::vector<Desc128> d;
  append_pasid_flush(d, pasid, rids, true);
  submit_and_wait(d);
}

void VtdSvaDriver::flush_all() {
  std::vector<Desc128> d{PasidCacheInv{PasidCacheInv::kGlobal, 0, 0}.encode(),
                         IotlbInv{IotlbInv::kGlobal, 0, 0, 0, false}.encode()};
  for (const auto& [pasid, b] : bindings()) {
    for (uint16_t rid : ats_rids(b.rids)) {
      d.push_back(pasid_dev_tlb(rid, pasid, 0, kAtsWholeSpaceLog2));
    }
  }
  submit_and_wait(d);
}

Desc128 VtdSvaDriver::wait_descriptor() const {
  return InvWait{true, true, true, 0, status_addr_}.encode();
}

std::vector<Desc128> VtdSvaDriver::build_commands(uint32_t pasid, const std::vector<uint16_t>& rids,
                                                  uint64_t start, uint64_t end) const {
  std::vector<SvaTarget> targets;
  for (uint16_t rid : rids) {
    auto it = devices().find(rid);
    targets.push_back(SvaTarget{rid, it == devices().end() || it->second.ats});
  }
  return policy_->commands(pasid, targets, start, end, wait_descriptor()).descs;
}

SvaDriver::InvalidationResult VtdSvaDriver::invalidate_range(uint32_t pasid,
                                                             const std::vector<uint16_t>& rids,
                                                             uint64_t start, uint64_t end) {
  std::vector<SvaTarget> targets;
  targets.reserve(rids.size());
  for (uint16_t rid : rids) targets.push_back(SvaTarget{rid, devices().at(rid).ats});
  SvaCommands c;
  c.descs.reserve(targets.size() + 3);  // a page-selective flush needs no more
  policy_->build(pasid, targets, start, end, wait_descriptor(), c);
  InvalidationResult r;
  r.full_flush = c.full_flush;
  r.completed = submit_and_wait(c.descs);
  return r;
}

// --- the command queue -------------------------------------------------------------------

bool VtdSvaDriver::submit_and_wait(const std::vector<Desc128>& descs) {
  if (!cq_base_) throw std::runtime_error("SVA driver: command submitted before init");
  // Every batch ends with a wait: one is appended (to a copy) when the list does not.
  std::vector<Desc128> with_wait;
  const std::vector<Desc128>* all = &descs;
  if (descs.empty() || descriptor_type(descs.back()) != InvType::kInvWait) {
    with_wait = descs;
    with_wait.push_back(wait_descriptor());
    all = &with_wait;
  }
  // The lock's acquisition cost is charged with the first batch's descriptor writes.
  sc_time pending = sc_core::SC_ZERO_TIME;
  queue_lock_.lock(pending);
  bool ok = true;
  size_t i = 0;
  while (i < all->size()) {
    size_t j = i;
    while (descriptor_type((*all)[j]) != InvType::kInvWait) ++j;
    ok = complete_batch(&(*all)[i], j - i + 1, pending) && ok;
    i = j + 1;
  }
  queue_lock_.unlock();
  return ok;
}

// One batch until its wait completes. After an ATC invalidation time-out the batch is
// written again (drivers/iommu/intel/dmar.c, qi_check_fault/qi_submit_sync: ITE aborts
// the pending waits, qi_check_fault returns -EAGAIN and qi_submit_sync restarts) for
// as long as its devices are present (-ETIMEDOUT when pci_device_is_present() no longer
// finds one). False when the driver gives up.
bool VtdSvaDriver::complete_batch(const Desc128* d, size_t n, sc_time& pending) {
  WaitResult r = run_batch(d, n, pending);
  while (r == WaitResult::kAtcTimeout) {
    if (!devices_present(d, n)) {
      failed_waits_.inc();
      return false;
    }
    retries_.inc();
    r = run_batch(d, n, pending);
  }
  if (r != WaitResult::kDone) failed_waits_.inc();
  return r == WaitResult::kDone;
}

bool VtdSvaDriver::devices_present(const Desc128* d, size_t n) const {
  for (size_t k = 0; k < n; ++k) {
    const InvType t = descriptor_type(d[k]);
    if (t != InvType::kDevTlb && t != InvType::kPasidDevTlb) continue;
    auto it = devices().find(DevTlbInv::decode(d[k]).sid);
    if (it != devices().end() && !it->second.present) return false;
  }
  return true;
}

SvaDriver::WaitResult VtdSvaDriver::run_batch(const Desc128* d, size_t n, sc_time& pending) {
  const uint32_t data = next_status_++;
  if (next_status_ == 0) next_status_ = 1;
  // The descriptor writes are seen by the IOMMU only after the doorbell: their time
  // is charged once, with it.
  for (size_t k = 0; k + 1 < n; ++k) put_descriptor(d[k], pending);
  InvWait w = InvWait::decode(d[n - 1]);
  w.interrupt = true;
  w.status_write = true;
  w.status_data = data;
  w.status_addr = status_addr_;
  put_descriptor(w.encode(), pending);
  write_reg(vtd_reg::kIqt, cq_tail_, pending);
  batches_.inc();
  wait_errors_ = 0;
  const WaitResult r = spin_for_status(status_addr_, data, pending);
  pending = sc_core::SC_ZERO_TIME;
  return r;
}

void VtdSvaDriver::put_descriptor(const Desc128& d, sc_time& pending) {
  ExecContext& ctx = kernel().context().current();
  const uint64_t next = (cq_tail_ + 16) % cq_bytes_;
  if (next == cq_head_cache_) {
    kernel().context().current().charge(pending);
    cq_head_cache_ = read_reg(vtd_reg::kIqh);
    if (next == cq_head_cache_) {
      // Full: let the IOMMU consume what is already written, then poll the head.
      queue_full_stalls_.inc();
      const sc_time t0 = sc_core::sc_time_stamp();
      write_reg(vtd_reg::kIqt, cq_tail_);
      do {
        ctx.spin_for(ns(config().poll_interval_ns));
        cq_head_cache_ = read_reg(vtd_reg::kIqh);
      } while (next == cq_head_cache_);
      spin_time_.sample(sc_core::sc_time_stamp() - t0);
    }
  }
  write_desc(*kernel().env().mem, cq_base_ + cq_tail_, d);
  pending += ns(config().descriptor_write_ns);
  descriptors_.inc();
  cq_tail_ = next;
}

std::optional<SvaDriver::WaitResult> VtdSvaDriver::wait_fault() {
  // qi_check_fault(): an ITag timeout or a rejected descriptor shows in FSTS.
  const uint64_t errs = read_reg(vtd_reg::kFsts) & (vtd_reg::kFstsIte | vtd_reg::kFstsIqe);
  if (errs) write_reg(vtd_reg::kFsts, errs);
  wait_errors_ |= errs;
  if (!status_written() && read_reg(vtd_reg::kIqh) == cq_tail_) {
    // The wait was processed without its status write: it failed.
    return (wait_errors_ & vtd_reg::kFstsIte) ? WaitResult::kAtcTimeout : WaitResult::kRejected;
  }
  return std::nullopt;
}

// --- page requests -----------------------------------------------------------------------

// Register accesses made inside a Timing::KeepAhead scope may keep their latency
// as annotated time (the caller's `pending`) when no other process can run before
// it ends: the IOMMU's register target then takes the access without a context
// switch, and consecutive accesses cost one wait, not one each. Exact because these
// accesses (PRS, PQT, PQH) wake no process and the IOPF handler computes every time
// from sc_time_stamp() + pending. Nothing else may wait while the scope lives
// (another process would run inside it).
void VtdSvaDriver::read_page_requests(PageRequestSink& sink, sc_time& pending) {
  Timing& timing = kernel().context().timing();
  PhysicalMemory& mem = *kernel().env().mem;
  const uint64_t size = kPageBytes << config().page_request_queue_pqs;
  uint64_t tail, head;
  {
    Timing::KeepAhead ahead(timing);
    // Clear PPR before reading the pointers, so a later request raises a new interrupt.
    write_reg(vtd_reg::kPrs, vtd_reg::kPrsPpr, pending);
    tail = read_reg(vtd_reg::kPqt, pending);
    head = read_reg(vtd_reg::kPqh, pending);
  }
  while (head != tail) {
    // The IOMMU wrote every descriptor up to PQT before advancing it: reading one
    // before its time is charged sees the same bytes.
    uint64_t raw[4];
    mem.read(pq_base_ + head, raw, sizeof raw);
    sink.take(io_page_request(PageRequestDesc::decode(raw)), pending);
    head = (head + PageRequestDesc::kBytes) % size;
  }
  Timing::KeepAhead ahead(timing);  // to the end: the caller charges `pending` after it
  write_reg(vtd_reg::kPqh, tail, pending);
  if (read_reg(vtd_reg::kPrs, pending) & vtd_reg::kPrsPro) {
    const uint64_t pqh = read_reg(vtd_reg::kPqh, pending);
    if (pqh == read_reg(vtd_reg::kPqt, pending)) {
      sink.discard_partial_groups();
      write_reg(vtd_reg::kPrs, vtd_reg::kPrsPro, pending);
    }
  }
}

void VtdSvaDriver::send_page_response(const IoPageRequest& last, PrgResponseCode code) {
  PageGroupResponseDesc resp;
  resp.pasid_present = last.pasid_present;
  resp.response_code = static_cast<uint8_t>(code);
  resp.rid = last.rid;
  resp.pasid = last.pasid;
  resp.lpig = true;
  resp.prg_index = last.prg_index;
  response_.assign(1, resp.encode());
  submit_and_wait(response_);
}

bool VtdSvaDriver::page_request_queue_empty() {
  return read_reg(vtd_reg::kPqh) == read_reg(vtd_reg::kPqt);
}

}  // namespace iosim
