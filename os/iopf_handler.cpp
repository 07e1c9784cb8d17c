#include "os/iopf_handler.h"

#include <string>

#include "os/sva_driver.h"
#include "sc_models/config/params.h"
#include "sc_models/sim/spawn.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

using sc_core::sc_time;

namespace {

const IopfConfig& validated(const IopfConfig& c) {
  c.validate();
  return c;
}

}  // namespace

void IopfConfig::validate() const {
  const std::pair<const char*, double> non_negative[] = {
      {"iopf.interrupt_entry_ns", interrupt_entry_ns},
      {"iopf.descriptor_read_ns", descriptor_read_ns},
      {"iopf.per_request_ns", per_request_ns},
      {"iopf.group_dispatch_ns", group_dispatch_ns}};
  for (const auto& [name, v] : non_negative) {
    if (!(v >= 0)) throw ParamError(std::string(name) + " must be >= 0");
  }
  if (cpu < 0) throw ParamError("iopf.cpu must be >= 0");
}

IopfHandler::IopfHandler(sc_core::sc_module_name name, const IopfConfig& cfg, SvaDriver& driver,
                         Kernel& kernel)
    : sc_module(name),
      irq("irq"),
      page_request_line_(irq, &IommuInterrupts::page_request_event),
      cfg_(validated(cfg)),
      interrupt_entry_(ns(cfg_.interrupt_entry_ns)),
      descriptor_read_(ns(cfg_.descriptor_read_ns)),
      per_request_(ns(cfg_.per_request_ns)),
      group_dispatch_(ns(cfg_.group_dispatch_ns)),
      driver_(driver),
      kernel_(kernel),
      stats_(kernel.context().stats().group(*this)),
      fault_latency_(stats_.histogram("fault_latency",
                                      "page request interrupt to the group's response submitted")),
      page_requests_(stats_.counter("page_requests", "requests", "page requests read")),
      groups_(stats_.counter("groups", "groups", "page request groups handled")),
      responses_success_(stats_.counter("responses_success", "responses", "Success responses")),
      responses_invalid_(
          stats_.counter("responses_invalid", "responses", "Invalid Request responses")),
      responses_failure_(
          stats_.counter("responses_failure", "responses", "Response Failure responses")),
      stop_markers_(stats_.counter("stop_markers", "messages", "Stop Markers dropped")),
      discarded_groups_(stats_.counter("discarded_groups", "groups",
                                       "partial groups discarded after a queue overflow")) {
  sc_core::sc_spawn([this] { run(); }, "run");
  spawn_method_on(page_request_line_, "on_irq", [this] { on_irq(); });
  driver_.set_iopf_handler(this);
}

uint64_t IopfHandler::responses(PrgResponseCode code) const {
  switch (code) {
    case PrgResponseCode::kSuccess:
      return responses_success_.value();
    case PrgResponseCode::kInvalidRequest:
      return responses_invalid_.value();
    case PrgResponseCode::kResponseFailure:
      return responses_failure_.value();
  }
  return 0;
}

void IopfHandler::on_irq() {
  irq_pending_ = true;
  irq_ev_.notify();
}

void IopfHandler::run() {
  ExecContext& ctx = kernel_.context().current();
  for (;;) {
    while (!irq_pending_) sc_core::wait(irq_ev_);
    irq_pending_ = false;
    busy_ = true;
    irq_time_ = sc_core::sc_time_stamp();
    sc_time pending = interrupt_entry_;
    round(pending);
    // What is left (the last register accesses) is kept as annotated time when no
    // interrupt came meanwhile and no other process can run before it ends: nobody
    // can see busy_ before then, the next interrupt comes later (the next round starts
    // from the kernel time), and idle_ev_ is notified for that time: a drain() waiting
    // wakes then, and the kernel gets there even when nothing else happens (a run
    // that ends when no event is left ends at the same time).
    const bool ahead = !irq_pending_ && kernel_.context().timing().may_keep(pending);
    if (!ahead) ctx.run_for(pending);
    busy_ = false;
    if (ahead) {
      idle_ev_.notify(pending);
      kernel_.context().timing().notified();
    } else if (draining_ > 0) {
      idle_ev_.notify(sc_core::SC_ZERO_TIME);
    }
  }
}

void IopfHandler::round(sc_time& pending) {
  ExecContext::Frame frame(kernel_.context().current(), "iopf.prq_event_thread");
  driver_.read_page_requests(*this, pending);
}

void IopfHandler::take(const IoPageRequest& r, sc_time& pending) {
  pending += descriptor_read_;
  if (r.stop_marker) {
    stop_markers_.inc();
    return;
  }
  page_requests_.inc();
  const GroupKey key{r.rid, r.pasid_present ? r.pasid : 0, r.prg_index};
  auto it = partial_.find(key);
  if (it == partial_.end()) {
    // A group of one request is handled as it is, without collecting it.
    if (r.last) return handle_group(&r, 1, pending);
    it = partial_.emplace(key, std::vector<IoPageRequest>()).first;
  }
  it->second.push_back(r);
  if (!r.last) return;
  const std::vector<IoPageRequest> complete = std::move(it->second);
  partial_.erase(it);
  handle_group(complete.data(), complete.size(), pending);
}

void IopfHandler::discard_partial_groups() {
  discarded_groups_.add(partial_.size());
  partial_.clear();
}

PrgResponseCode IopfHandler::handle_request(const IoPageRequest& r, sc_time& pending) {
  pending += per_request_;
  // The mm and VMA lookups read what others can change: they happen at the end of
  // `pending`, which is charged first unless no other process can run before then
  // (the state is then the same now); the fault handler charges what is left.
  kernel_.context().current().keep_up(pending);
  if (!r.pasid_present || r.priv) return PrgResponseCode::kInvalidRequest;
  Mm* mm = driver_.mm_of_pasid(r.pasid);
  if (!mm || mm->users() <= 0) return PrgResponseCode::kInvalidRequest;
  const Vma* vma = mm->vmas().find(r.addr);
  if (!vma || (r.read && !vma->readable()) || (r.write && !vma->writable())) {
    return PrgResponseCode::kInvalidRequest;
  }
  switch (kernel_.handle_fault(*mm, cfg_.cpu, r.addr, r.write, pending)) {
    case FaultResult::kSegv:
      return PrgResponseCode::kInvalidRequest;
    case FaultResult::kOom:
      return PrgResponseCode::kResponseFailure;
    default:
      return PrgResponseCode::kSuccess;
  }
}

void IopfHandler::handle_group(const IoPageRequest* group, size_t n, sc_time& pending) {
  groups_.inc();
  pending += group_dispatch_;
  PrgResponseCode code = PrgResponseCode::kSuccess;
  for (size_t i = 0; i < n; ++i) {
    code = handle_request(group[i], pending);
    if (code != PrgResponseCode::kSuccess) break;  // errors are sticky in a group
  }
  kernel_.context().current().charge(pending);  // left when a check failed before the fault
  driver_.send_page_response(group[n - 1], code);
  switch (code) {
    case PrgResponseCode::kSuccess:
      responses_success_.inc();
      break;
    case PrgResponseCode::kInvalidRequest:
      responses_invalid_.inc();
      break;
    case PrgResponseCode::kResponseFailure:
      responses_failure_.inc();
      break;
  }
  fault_latency_.sample(sc_core::sc_time_stamp() - irq_time_);
}

void IopfHandler::drain(uint32_t pasid) {
  ExecContext& ctx = kernel_.context().current();
  for (;;) {
    if (driver_.page_request_queue_empty() && !busy_ && !irq_pending_) break;
    ++draining_;
    ctx.sleep_on(idle_ev_, "iopf drain");
    --draining_;
  }
  for (auto it = partial_.begin(); it != partial_.end();) {
    it = std::get<1>(it->first) == pasid ? partial_.erase(it) : std::next(it);
  }
}

}  // namespace iosim
