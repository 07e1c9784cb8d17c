#include "os/sva_driver.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include "os/stat_names.h"
#include "sc_models/config/params.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/sim/spawn.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;

namespace {

const SvaConfig& validated(const SvaConfig& c) {
  c.validate();
  return c;
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
      failed_waits_(stats_.counter(SvaDriverStats::kFailedWaits, "waits",
                                   "waits given up: device gone after an ITag timeout, "
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
void SvaDriver::reg_access(tlm::tlm_command cmd, uint64_t off, uint64_t& value, sc_time& pending,
                           unsigned len) {
  // Several threads may be inside an access at once: each takes its own payload.
  tlm::tlm_generic_payload& gp = payloads_.take();
  gp.set_command(cmd);
  gp.set_address(off);
  // The data pointer is the value's first byte: its low bytes on a little-endian host,
  // which the TLM payload's byte order is.
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&value));
  gp.set_data_length(len);
  gp.set_streaming_width(len);
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

uint32_t SvaDriver::read_reg32(uint64_t off, sc_time& pending) {
  uint64_t v = 0;
  reg_access(tlm::TLM_READ_COMMAND, off, v, pending, 4);
  return static_cast<uint32_t>(v);
}

void SvaDriver::write_reg32(uint64_t off, uint32_t value, sc_time& pending) {
  uint64_t v = value;
  reg_access(tlm::TLM_WRITE_COMMAND, off, v, pending, 4);
}

uint32_t SvaDriver::read_reg32(uint64_t off) {
  sc_time pending = sc_core::SC_ZERO_TIME;
  const uint32_t v = read_reg32(off, pending);
  kernel_.context().current().charge(pending);
  return v;
}

void SvaDriver::write_reg32(uint64_t off, uint32_t value) {
  sc_time pending = sc_core::SC_ZERO_TIME;
  write_reg32(off, value, pending);
  kernel_.context().current().charge(pending);
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

uint32_t SvaDriver::read_status() const {
  uint32_t v = 0;
  kernel_.env().mem->read(spin_addr_, &v, 4);
  return v;
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
  if (!devices_.count(rid)) {
    throw std::runtime_error("SVA driver: bind to device " + std::to_string(rid) +
                             " that is not attached");
  }
  Binding* b = binding_of(mm);
  if (!b) {
    uint32_t pasid = 1;
    while (pasid < kPasids && bindings_.count(pasid)) ++pasid;
    if (pasid >= kPasids) throw std::runtime_error("SVA driver: no free PASID");
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
  set_dev_pasid(rid, b->pasid, mm);
  b->rids.push_back(rid);
  return b->pasid;
}

uint32_t SvaDriver::free_pasids() const {
  return kPasids - 1 - static_cast<uint32_t>(bindings_.size());
}

void SvaDriver::unbind(Mm& mm, uint16_t rid, int /*cpu*/) {
  Binding* b = binding_of(mm);
  if (!b) return;
  auto it = std::find(b->rids.begin(), b->rids.end(), rid);
  if (it == b->rids.end()) return;
  const uint32_t pasid = b->pasid;
  remove_dev_pasid(rid, pasid);
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
  flush_pasid_on(b->pasid, b->rids);
  return true;
}

void SvaDriver::release(Mm& mm) {
  Binding* b = binding_of(mm);
  if (!b || b->released || b->rids.empty()) return;
  b->released = true;
  mm_release(b->pasid, b->rids);
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

void SvaDriver::set_device_present(uint16_t rid, bool present) {
  auto it = devices_.find(rid);
  if (it != devices_.end()) it->second.present = present;
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

void SvaDriver::invalidate(Mm& mm, uint64_t start, uint64_t end,
                           std::optional<MmuNotifierEvent> event) {
  const sc_time t0 = sc_core::sc_time_stamp();
  Binding* b = binding_of(mm);
  if (!b || b->rids.empty() || end <= start) return;
  const uint32_t pasid = b->pasid;
  invalidations_.inc();
  const InvalidationResult r = invalidate_range(pasid, b->rids, start, end);
  if (r.full_flush) full_flushes_.inc();
  if (!r.completed) return;
  const sc_time now = sc_core::sc_time_stamp();
  invalidation_latency_.sample(now - t0);
  breakdown_.sample(event, start, end, now - t0);
  if (gt_) gt_->invalidation_done(InvalidationDoneEvent{now, mm.id(), pasid, start, end});
}

// --- the wait ------------------------------------------------------------------------

SvaDriver::WaitResult SvaDriver::spin_for_status(uint64_t status_addr, uint32_t data,
                                                 const sc_time& pending) {
  ExecContext& ctx = kernel_.context().current();
  // Polling starts after the doorbell's register latency (`pending`); nothing is
  // seen before then, so that latency is not waited for on its own.
  const sc_time t0 = sc_core::sc_time_stamp() + pending;
  const bool bounded = cfg_.wait_timeout_ns > 0;
  const sc_time deadline = t0 + ns(cfg_.wait_timeout_ns);
  WaitResult result = WaitResult::kDone;
  fault_pending_ = false;  // faults before the first poll are not about this batch
  spin_addr_ = status_addr;
  spin_data_ = data;
  spin_start_ = t0;
  spin_deadline_ = deadline;
  spinning_ = true;
  // An earlier pending deadline (of an earlier wait) fires first and re-arms.
  if (bounded) timeout_ev_.notify(deadline - sc_core::sc_time_stamp());
  for (;;) {
    if (sc_core::sc_time_stamp() >= t0 && status_written()) break;
    if (fault_pending_) {
      fault_pending_ = false;
      if (const std::optional<WaitResult> failed = wait_fault()) {
        result = *failed;
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
          return (now >= t0 && status_written()) || fault_pending_ || (bounded && now >= deadline);
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
