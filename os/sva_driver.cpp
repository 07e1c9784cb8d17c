#include "os/sva_driver.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "os/iopf_handler.h"
#include "os/stat_names.h"
#include "sc_models/config/params.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/pcie/pcie_fields.h"
#include "sc_models/sim/spawn.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;

namespace {

constexpr uint32_t kPasidTableEntries = 256;  // one 4 KiB frame of 16-byte entries
constexpr uint8_t kPasidTablePts = 8;

const SvaConfig& validated(const SvaConfig& c) {
  c.validate();
  return c;
}

SvaPolicyParams policy_params(const SvaConfig& c) {
  return SvaPolicyParams{c.intel_batch_descriptors, c.intel_max_address_mask,
                         c.arm_full_flush_pages, c.intel_dtlb_extra_inval};
}

// Throws ParamError for arch_invalidate under range_end: the memory manager calls
// arch_invalidate_secondary_tlbs only under under_ptl, so the driver would never hear
// of an invalidation.
SvaNotifierMode resolve_mode(const SvaConfig& c, const Kernel& k) {
  if (c.notifier == SvaNotifierMode::kArchInvalidate) {
    if (k.config().secondary_tlb_flush != SecondaryTlbFlush::kUnderPtl) {
      throw ParamError(
          "sva.notifier: arch_invalidate needs os.secondary_tlb_flush = under_ptl (with "
          "range_end the memory manager never calls arch_invalidate_secondary_tlbs); use auto "
          "or range_start_end");
    }
    return SvaNotifierMode::kArchInvalidate;
  }
  if (c.notifier) return *c.notifier;
  return k.config().secondary_tlb_flush == SecondaryTlbFlush::kUnderPtl
             ? SvaNotifierMode::kArchInvalidate
             : SvaNotifierMode::kRangeStartEnd;
}

}  // namespace

void SvaConfig::validate() const {
  if (intel_batch_descriptors < 1) throw ParamError("sva.intel_batch_descriptors must be >= 1");
  if (intel_max_address_mask > 52) throw ParamError("sva.intel_max_address_mask must be <= 52");
  if (arm_full_flush_pages < 1) throw ParamError("sva.arm_full_flush_pages must be >= 1");
  if (command_queue_qs > 7) throw ParamError("sva.command_queue_qs must be <= 7");
  if (page_request_queue_pqs > 7) throw ParamError("sva.page_request_queue_pqs must be <= 7");
  const std::pair<const char*, double> non_negative[] = {
      {"sva.descriptor_write_ns", descriptor_write_ns},
      {"sva.table_write_ns", table_write_ns},
      {"sva.poll_interval_ns", poll_interval_ns},
      {"sva.wait_timeout_ns", wait_timeout_ns},
      {"sva.queue_lock.acquire_ns", queue_lock.acquire_ns}};
  for (const auto& [name, v] : non_negative) {
    if (!(v >= 0)) throw ParamError(std::string(name) + " must be >= 0");
  }
}

void SvaConfig::validate_wait_timeout(double itag_timeout_ns) const {
  if (wait_timeout_ns > 0 && wait_timeout_ns < itag_timeout_ns) {
    std::ostringstream o;
    o << std::setprecision(15)
      << "sva.wait_timeout_ns must be 0 (no software limit) or at least "
         "iommu.command_queue.itag_timeout_ns ("
      << itag_timeout_ns << " ns), got " << wait_timeout_ns
      << ": a shorter limit abandons waits for ATC invalidations the IOMMU still tracks";
    throw ParamError(o.str());
  }
}

SvaDriver::SvaDriver(sc_core::sc_module_name name, const SvaConfig& cfg, Kernel& kernel)
    : sc_module(name),
      regs("regs"),
      irq("irq"),
      completion_line_(irq, &IommuInterrupts::completion_event),
      fault_line_(irq, &IommuInterrupts::fault_event),
      cfg_(validated(cfg)),
      kernel_(kernel),
      policy_(cfg.policy(policy_params(cfg))),
      mode_(resolve_mode(cfg, kernel)),
      queue_lock_(kernel.context(), std::string(this->name()) + ".queue_lock", cfg.queue_lock),
      stats_(kernel.context().stats().group(*this)),
      invalidation_latency_(
          stats_.histogram(SvaDriverStats::kInvalidationLatency,
                           "notifier invalidation entry to the wait status seen")),
      spin_time_(stats_.histogram("spin_time", "time spent polling for queue space or status")),
      invalidations_(stats_.counter("invalidations", "calls", "notifier invalidations")),
      descriptors_(
          stats_.counter("descriptors", "descriptors", "descriptors written, waits included")),
      batches_(stats_.counter("batches", "batches", "tail writes followed by a wait")),
      full_flushes_(
          stats_.counter("full_flushes", "calls", "invalidations that flushed the whole PASID")),
      failed_waits_(stats_.counter(
          SvaDriverStats::kFailedWaits, "waits",
          "waits given up: device gone after an ITag timeout, amd_legacy's timed-out wait, "
          "a rejected descriptor, or sva.wait_timeout_ns")),
      wait_timeouts_(stats_.counter(SvaDriverStats::kWaitTimeouts, "waits",
                                    "waits abandoned after sva.wait_timeout_ns")),
      retries_(
          stats_.counter(SvaDriverStats::kRetries, "batches",
                         "batches (intel) or waits (arm) written again after an ITag timeout")),
      queue_full_stalls_(
          stats_.counter("queue_full_stalls", "descriptors", "descriptors that waited for space")),
      breakdown_(stats_) {
  spawn_method_on(completion_line_, "on_wait_irq", [this] { on_wait_irq(); });
  spawn_method_on(fault_line_, "on_fault_irq", [this] { on_fault_irq(); });
  spawn_method_on(timeout_ev_, "on_timeout", [this] { on_timeout(); });
}

SvaDriver::~SvaDriver() = default;

void SvaDriver::on_wait_irq() {
  const sc_time now = sc_core::sc_time_stamp();
  if (!spinning_) {
    irq_.notify();
    return;
  }
  // Wake the poller at the first poll that sees the status, not at the write.
  const sc_time seen = poll_seen(spin_start_, now);
  if (seen > now) {
    irq_.notify(seen - now);
  } else {
    irq_.notify();
  }
}

void SvaDriver::on_fault_irq() {
  // Faults before the poller's first poll are not about its batch (see spin_for_status).
  if (spinning_ && sc_core::sc_time_stamp() < spin_start_) return;
  fault_pending_ = true;
  irq_.notify();
}

void SvaDriver::on_timeout() {
  if (!spinning_ || !(cfg_.wait_timeout_ns > 0)) return;
  const sc_time now = sc_core::sc_time_stamp();
  if (now >= spin_deadline_) {
    irq_.notify();
  } else {
    timeout_ev_.notify(spin_deadline_ - now);
  }
}

sc_time SvaDriver::poll_seen(const sc_time& start, const sc_time& now) const {
  if (now <= start) return start;
  if (!(cfg_.poll_interval_ns > 0)) return now;
  const double p = cfg_.poll_interval_ns;
  const double waited = time_in(now - start, sc_core::SC_NS);
  const double polls = std::ceil(waited / p - 1e-9);
  return start + ns(polls * p);
}

// --- registers and memory ----------------------------------------------------------

// One 64-bit register access over `regs` at sc_time_stamp() + `pending`: `pending` is
// the transport's annotated delay (a target that synchronises waits for it together
// with its register latency, one wait instead of two); whatever delay the target
// leaves annotated becomes the new `pending`.
void SvaDriver::reg_access(tlm::tlm_command cmd, uint64_t off, uint64_t& value, sc_time& pending) {
  // Several threads may be inside an access at once: each takes its own payload.
  tlm::tlm_generic_payload& gp = payloads_.take();
  gp.set_command(cmd);
  gp.set_address(off);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&value));
  gp.set_data_length(8);
  gp.set_streaming_width(8);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  regs->b_transport(gp, pending);
  payloads_.give(gp);
}

uint64_t SvaDriver::read_reg(uint64_t off, sc_time& pending) {
  uint64_t v = 0;
  reg_access(tlm::TLM_READ_COMMAND, off, v, pending);
  return v;
}

void SvaDriver::write_reg(uint64_t off, uint64_t value, sc_time& pending) {
  reg_access(tlm::TLM_WRITE_COMMAND, off, value, pending);
}

uint64_t SvaDriver::read_reg(uint64_t off) {
  sc_time pending = sc_core::SC_ZERO_TIME;
  const uint64_t v = read_reg(off, pending);
  kernel_.context().current().charge(pending);
  return v;
}

void SvaDriver::write_reg(uint64_t off, uint64_t value) {
  sc_time pending = sc_core::SC_ZERO_TIME;
  write_reg(off, value, pending);
  kernel_.context().current().charge(pending);
}

uint64_t SvaDriver::alloc_frame(const char* what) {
  const uint64_t pa = kernel_.allocator().alloc();
  if (pa == PageAllocator::kNoFrame) {
    throw std::runtime_error(std::string("SVA driver: out of frames for ") + what);
  }
  kernel_.env().mem->zero_frame(pa);
  return pa;
}

uint64_t SvaDriver::alloc_frames(unsigned n, const char* what) {
  const uint64_t first = alloc_frame(what);
  for (unsigned i = 1; i < n; ++i) {
    if (alloc_frame(what) != first + uint64_t{i} * kPageBytes) {
      throw std::runtime_error(std::string("SVA driver: frames for ") + what +
                               " are not contiguous");
    }
  }
  return first;
}

void SvaDriver::write_entry(uint64_t addr, const Desc128& d) {
  write_desc(*kernel_.env().mem, addr, d);
  kernel_.context().current().run_for(ns(cfg_.table_write_ns));
}

uint32_t SvaDriver::read_status() const {
  uint32_t v = 0;
  kernel_.env().mem->read(status_addr_, &v, 4);
  return v;
}

// --- setup ---------------------------------------------------------------------------

void SvaDriver::init() {
  root_table_ = alloc_frame("the root table");
  cq_base_ = alloc_frames(1u << cfg_.command_queue_qs, "the command queue");
  cq_bytes_ = kPageBytes << cfg_.command_queue_qs;
  pq_base_ = alloc_frames(1u << cfg_.page_request_queue_pqs, "the page request queue");
  status_addr_ = alloc_frame("the wait status");
  cq_tail_ = cq_head_cache_ = 0;
  write_reg(vtd_reg::kRtaddr, root_table_);
  write_reg(vtd_reg::kIqa, cq_base_ | cfg_.command_queue_qs);
  write_reg(vtd_reg::kPqa, pq_base_ | cfg_.page_request_queue_pqs);
}

void SvaDriver::attach_device(uint16_t rid, bool ats, bool pri) {
  if (!root_table_) throw std::runtime_error("SVA driver: attach_device before init");
  const uint8_t bus = static_cast<uint8_t>(rid >> 8);
  auto ct = context_tables_.find(bus);
  if (ct == context_tables_.end()) {
    const uint64_t table = alloc_frame("a context table");
    ct = context_tables_.emplace(bus, table).first;
    write_entry(root_table_ + kTableEntryBytes * bus, RootEntry{true, table}.encode());
  }
  DeviceState& dev = devices_[rid];
  if (!dev.pasid_table) dev.pasid_table = alloc_frame("a PASID table");
  dev.ats = ats;
  dev.pri = pri;
  const ContextEntry ce{true, ats, pri, true, dev.pasid_table, kPasidTablePts, 0};
  write_entry(ct->second + kTableEntryBytes * (rid & 0xff), ce.encode());
  submit_and_wait({ContextCacheInv{ContextCacheInv::kDevice, 0, rid}.encode()});
}

void SvaDriver::attach_identity(uint16_t rid) {
  attach_device(rid, false, false);
  PasidEntry pe;
  pe.present = true;
  pe.pgtt = Pgtt::kPassThrough;
  write_entry(devices_.at(rid).pasid_table, pe.encode());  // RID_PASID = 0
  submit_and_wait({PasidCacheInv{PasidCacheInv::kPasid, 0, 0}.encode()});
}

uint64_t SvaDriver::pasid_table_of(uint16_t rid) const {
  auto it = devices_.find(rid);
  return it == devices_.end() ? 0 : it->second.pasid_table;
}

// --- bind / unbind / release -----------------------------------------------------------

SvaDriver::Binding* SvaDriver::binding_of(const Mm& mm) {
  for (auto& [pasid, b] : bindings_) {
    if (b.mm == &mm) return &b;
  }
  return nullptr;
}

const SvaDriver::Binding* SvaDriver::binding_of(const Mm& mm) const {
  return const_cast<SvaDriver*>(this)->binding_of(mm);
}

uint32_t SvaDriver::bind(Mm& mm, uint16_t rid, int /*cpu*/) {
  auto dev = devices_.find(rid);
  if (dev == devices_.end()) {
    throw std::runtime_error("SVA driver: bind to device " + std::to_string(rid) +
                             " that is not attached");
  }
  Binding* b = binding_of(mm);
  if (!b) {
    uint32_t pasid = 1;
    while (pasid < kPasidTableEntries && bindings_.count(pasid)) ++pasid;
    if (pasid >= kPasidTableEntries) throw std::runtime_error("SVA driver: no free PASID");
    notifiers_.push_back(std::make_unique<SvaNotifier>(*this, mode_));
    Binding nb;
    nb.mm = &mm;
    nb.pasid = pasid;
    nb.notifier = notifiers_.back().get();
    b = &bindings_.emplace(pasid, nb).first->second;
    if (mm.notifier_subscriptions().register_notifier(b->notifier) != 0) {
      bindings_.erase(pasid);
      throw std::runtime_error("SVA driver: MMU notifier registration refused on " + mm.name());
    }
    if (gt_) gt_->pasid_binding(PasidBindingEvent{sc_core::sc_time_stamp(), pasid, mm.id(), true});
  }
  if (std::find(b->rids.begin(), b->rids.end(), rid) != b->rids.end()) return b->pasid;
  const PasidEntry pe{true, false, mm.root(), static_cast<uint16_t>(b->pasid)};
  write_entry(dev->second.pasid_table + kTableEntryBytes * b->pasid, pe.encode());
  submit_and_wait({pasid_cache_inv(b->pasid)});
  b->rids.push_back(rid);
  return b->pasid;
}

void SvaDriver::append_pasid_flush(std::vector<Desc128>& d, uint32_t pasid,
                                   const std::vector<uint16_t>& rids, bool atc) const {
  d.push_back(pasid_iotlb_all(pasid));
  if (!atc) return;
  for (uint16_t rid : ats_rids(rids)) {
    d.push_back(pasid_dev_tlb(rid, pasid, 0, kAtsWholeSpaceLog2));
  }
}

std::vector<Desc128> SvaDriver::teardown_commands(uint32_t pasid, const std::vector<uint16_t>& rids,
                                                  bool atc) const {
  std::vector<Desc128> d{pasid_cache_inv(pasid)};
  append_pasid_flush(d, pasid, rids, atc);
  d.push_back(wait_descriptor());
  return d;
}

uint32_t SvaDriver::free_pasids() const {
  return kPasidTableEntries - 1 - static_cast<uint32_t>(bindings_.size());
}

void SvaDriver::unbind(Mm& mm, uint16_t rid, int /*cpu*/) {
  Binding* b = binding_of(mm);
  if (!b) return;
  auto it = std::find(b->rids.begin(), b->rids.end(), rid);
  if (it == b->rids.end()) return;
  const uint32_t pasid = b->pasid;
  const bool atc = !cfg_.unbind_skip_atc_flush;
  // intel_pasid_tear_down_entry(): clear the entry, then PASID cache, IOTLB and
  // device TLB (pasid_cache_invalidation_with_pasid, qi_flush_piotlb,
  // devtlb_invalidation_with_pasid), one wait.
  write_entry(devices_.at(rid).pasid_table + kTableEntryBytes * pasid, PasidEntry{}.encode());
  submit_and_wait(teardown_commands(pasid, {rid}, atc));
  // intel_drain_pasid_prq(): wait until no page request of the PASID is pending,
  // then flush the IOTLB and device TLB again with a wait.
  if (iopf_) iopf_->drain(pasid);
  std::vector<Desc128> drain;
  append_pasid_flush(drain, pasid, {rid}, atc);
  submit_and_wait(drain);
  b = &bindings_.at(pasid);
  b->rids.erase(std::find(b->rids.begin(), b->rids.end(), rid));
  if (b->rids.empty()) {
    // The last device: the notifier goes, and the PASID is free for the next bind.
    mm.notifier_subscriptions().unregister(*b->notifier);
    bindings_.erase(pasid);
    if (gt_) {
      gt_->pasid_binding(PasidBindingEvent{sc_core::sc_time_stamp(), pasid, mm.id(), false});
    }
  }
}

bool SvaDriver::flush_pasid(Mm& mm) {
  const Binding* b = binding_of(mm);
  if (!b) return false;
  std::vector<Desc128> d;
  append_pasid_flush(d, b->pasid, b->rids, true);
  submit_and_wait(d);
  return true;
}

void SvaDriver::flush_all() {
  std::vector<Desc128> d{PasidCacheInv{PasidCacheInv::kGlobal, 0, 0}.encode(),
                         IotlbInv{IotlbInv::kGlobal, 0, 0, 0, false}.encode()};
  for (const auto& [pasid, b] : bindings_) {
    for (uint16_t rid : ats_rids(b.rids)) {
      d.push_back(pasid_dev_tlb(rid, pasid, 0, kAtsWholeSpaceLog2));
    }
  }
  submit_and_wait(d);
}

void SvaDriver::release(Mm& mm) {
  Binding* b = binding_of(mm);
  if (!b || b->released || b->rids.empty()) return;
  b->released = true;
  for (uint16_t rid : b->rids) {
    write_entry(devices_.at(rid).pasid_table + kTableEntryBytes * b->pasid, PasidEntry{}.encode());
  }
  submit_and_wait(teardown_commands(b->pasid, b->rids));
}

std::optional<uint32_t> SvaDriver::pasid_of(const Mm& mm) const {
  const Binding* b = binding_of(mm);
  if (!b) return std::nullopt;
  return b->pasid;
}

Mm* SvaDriver::mm_of_pasid(uint32_t pasid) const {
  auto it = bindings_.find(pasid);
  return it == bindings_.end() ? nullptr : it->second.mm;
}

std::vector<uint16_t> SvaDriver::devices_of(uint32_t pasid) const {
  auto it = bindings_.find(pasid);
  return it == bindings_.end() ? std::vector<uint16_t>{} : it->second.rids;
}

// --- invalidation ----------------------------------------------------------------------

std::vector<uint16_t> SvaDriver::ats_rids(const std::vector<uint16_t>& rids) const {
  std::vector<uint16_t> out;
  for (uint16_t rid : rids) {
    auto it = devices_.find(rid);
    if (it == devices_.end() || it->second.ats) out.push_back(rid);
  }
  return out;
}

Desc128 SvaDriver::wait_descriptor() const {
  return InvWait{true, true, true, 0, status_addr_}.encode();
}

std::vector<Desc128> SvaDriver::build_commands(uint32_t pasid, const std::vector<uint16_t>& rids,
                                               uint64_t start, uint64_t end) const {
  std::vector<SvaTarget> targets;
  for (uint16_t rid : rids) {
    auto it = devices_.find(rid);
    targets.push_back(SvaTarget{rid, it == devices_.end() || it->second.ats});
  }
  return policy_->commands(pasid, targets, start, end, wait_descriptor()).descs;
}

void SvaDriver::invalidate(Mm& mm, uint64_t start, uint64_t end,
                           std::optional<MmuNotifierEvent> event) {
  const sc_time t0 = sc_core::sc_time_stamp();
  Binding* b = binding_of(mm);
  if (!b || b->rids.empty() || end <= start) return;
  const uint32_t pasid = b->pasid;
  invalidations_.inc();
  std::vector<SvaTarget> targets;
  targets.reserve(b->rids.size());
  for (uint16_t rid : b->rids) targets.push_back(SvaTarget{rid, devices_.at(rid).ats});
  SvaCommands c;
  c.descs.reserve(targets.size() + 3);  // a page-selective flush needs no more
  policy_->build(pasid, targets, start, end, wait_descriptor(), c);
  if (c.full_flush) full_flushes_.inc();
  if (!submit_and_wait(c.descs)) return;
  const sc_time now = sc_core::sc_time_stamp();
  invalidation_latency_.sample(now - t0);
  breakdown_.sample(event, start, end, now - t0);
  if (gt_) gt_->invalidation_done(InvalidationDoneEvent{now, mm.id(), pasid, start, end});
}

bool SvaDriver::submit_and_wait(const std::vector<Desc128>& descs) {
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

// One batch until its wait completes, with the policy's answer to an ATC
// invalidation time-out (see os/sva_policy.h). False when the driver gives up.
bool SvaDriver::complete_batch(const Desc128* d, size_t n, sc_time& pending) {
  WaitResult r = run_batch(d, n, pending);
  while (r == WaitResult::kAtcTimeout) {
    switch (policy_->on_atc_timeout()) {
      case AtcTimeoutRecovery::kResubmitBatch:
        // qi_check_fault: -ETIMEDOUT when a device of the batch is gone, else -EAGAIN.
        if (!devices_present(d, n)) {
          failed_waits_.inc();
          return false;
        }
        retries_.inc();
        r = run_batch(d, n, pending);
        break;
      case AtcTimeoutRecovery::kRepeatSync:
        retries_.inc();
        r = run_batch(&d[n - 1], 1, pending);
        break;
      case AtcTimeoutRecovery::kProceed:
        failed_waits_.inc();
        return true;
    }
  }
  if (r != WaitResult::kDone) failed_waits_.inc();
  return r == WaitResult::kDone;
}

bool SvaDriver::devices_present(const Desc128* d, size_t n) const {
  for (size_t k = 0; k < n; ++k) {
    const InvType t = descriptor_type(d[k]);
    if (t != InvType::kDevTlb && t != InvType::kPasidDevTlb) continue;
    auto it = devices_.find(DevTlbInv::decode(d[k]).sid);
    if (it != devices_.end() && !it->second.present) return false;
  }
  return true;
}

void SvaDriver::set_device_present(uint16_t rid, bool present) {
  auto it = devices_.find(rid);
  if (it != devices_.end()) it->second.present = present;
}

SvaDriver::WaitResult SvaDriver::run_batch(const Desc128* d, size_t n, sc_time& pending) {
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
  const WaitResult r = spin_for_status(data, cq_tail_, pending);
  pending = sc_core::SC_ZERO_TIME;
  return r;
}

void SvaDriver::put_descriptor(const Desc128& d, sc_time& pending) {
  ExecContext& ctx = kernel_.context().current();
  const uint64_t next = (cq_tail_ + 16) % cq_bytes_;
  if (next == cq_head_cache_) {
    kernel_.context().current().charge(pending);
    cq_head_cache_ = read_reg(vtd_reg::kIqh);
    if (next == cq_head_cache_) {
      // Full: let the IOMMU consume what is already written, then poll the head.
      queue_full_stalls_.inc();
      const sc_time t0 = sc_core::sc_time_stamp();
      write_reg(vtd_reg::kIqt, cq_tail_);
      do {
        ctx.spin_for(ns(cfg_.poll_interval_ns));
        cq_head_cache_ = read_reg(vtd_reg::kIqh);
      } while (next == cq_head_cache_);
      spin_time_.sample(sc_core::sc_time_stamp() - t0);
    }
  }
  write_desc(*kernel_.env().mem, cq_base_ + cq_tail_, d);
  pending += ns(cfg_.descriptor_write_ns);
  descriptors_.inc();
  cq_tail_ = next;
}

SvaDriver::WaitResult SvaDriver::spin_for_status(uint32_t data, uint64_t tail,
                                                 const sc_time& pending) {
  ExecContext& ctx = kernel_.context().current();
  // Polling starts after the doorbell's register latency (`pending`); nothing is
  // seen before then, so that latency is not waited for on its own.
  const sc_time t0 = sc_core::sc_time_stamp() + pending;
  const bool bounded = cfg_.wait_timeout_ns > 0;
  const sc_time deadline = t0 + ns(cfg_.wait_timeout_ns);
  WaitResult result = WaitResult::kDone;
  uint64_t errors = 0;     // FSTS error bits seen during this wait
  fault_pending_ = false;  // faults before the first poll are not about this batch
  spin_start_ = t0;
  spin_deadline_ = deadline;
  spinning_ = true;
  // An earlier pending deadline (of an earlier wait) fires first and re-arms.
  if (bounded) timeout_ev_.notify(deadline - sc_core::sc_time_stamp());
  for (;;) {
    if (sc_core::sc_time_stamp() >= t0 && read_status() == data) break;
    if (fault_pending_) {
      // qi_check_fault(): an ITag timeout or a rejected descriptor shows in FSTS.
      fault_pending_ = false;
      const uint64_t errs =
          read_reg(vtd_reg::kFsts) & (vtd_reg::kFstsIte | vtd_reg::kFstsIqe);
      if (errs) write_reg(vtd_reg::kFsts, errs);
      errors |= errs;
      if (read_status() != data && read_reg(vtd_reg::kIqh) == tail) {
        // The wait was processed without its status write: it failed.
        result = (errors & vtd_reg::kFstsIte) ? WaitResult::kAtcTimeout : WaitResult::kRejected;
        break;
      }
      continue;
    }
    if (bounded && sc_core::sc_time_stamp() >= deadline) {
      wait_timeouts_.inc();
      result = WaitResult::kAbandoned;
      break;
    }
    ctx.spin_until(
        [&] {
          const sc_time now = sc_core::sc_time_stamp();
          return (now >= t0 && read_status() == data) || fault_pending_ ||
                 (bounded && now >= deadline);
        },
        irq_);
  }
  irq_.cancel();  // drop a pending poll wake-up (only left after a fault)
  spinning_ = false;
  const bool ok = result == WaitResult::kDone;
  // Software sees the status at its first poll at or after the write.
  const sc_time seen =
      ok ? poll_seen(t0, sc_core::sc_time_stamp()) : std::max(t0, sc_core::sc_time_stamp());
  if (seen > sc_core::sc_time_stamp()) ctx.spin_for(seen - sc_core::sc_time_stamp());
  spin_time_.sample(sc_core::sc_time_stamp() - t0);
  return result;
}

}  // namespace iosim
