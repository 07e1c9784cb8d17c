#include "device/mirror_mmu.h"

#include "sc_models/memory/page_size.h"
#include "sc_models/page_table/page_table.h"
#include "sc_models/sim/spawn.h"

#include <cstring>

namespace iosim {

MirrorMmu::MirrorMmu(sc_core::sc_module_name name, const Config& cfg, DeviceUpstream& up, Atc& tlb,
                     Timing& timing, StatGroup& stats)
    : sc_module(name),
      regs("regs"),
      irq("irq"),
      cfg_(cfg),
      up_(up),
      tlb_(tlb),
      timing_(timing),
      lookup_time_(ns(cfg.tlb_lookup_ns)),
      mmio_read_(ns(cfg.mirror.mmio_read_ns)),
      mmio_write_(ns(cfg.mirror.mmio_write_ns)),
      processing_(ns(cfg.mirror.invalidation_processing_ns)),
      walks_(stats.counter("walks", "walks", "device page-table walks")),
      walk_reads_(stats.counter("walk_reads", "reads", "page-table entries read by walks")),
      walk_restarts_(stats.counter("walk_restarts", "walks",
                                   "walks discarded because an invalidation came meanwhile")),
      faults_(stats.counter("faults", "faults", "device faults raised to the driver")),
      fault_records_dropped_(stats.counter("fault_records_dropped", "records",
                                           "fault records dropped on a full fault buffer")),
      replays_(stats.counter("replays", "writes", "REPLAY register writes")),
      invalidations_(stats.counter("invalidations", "requests", "TLB invalidations served")),
      tlb_hits_(stats.counter("tlb_hits", "lookups", "device TLB lookups that hit")),
      tlb_misses_(stats.counter("tlb_misses", "lookups", "device TLB lookups that missed")),
      invalidation_latency_(stats.histogram(
          "invalidation_latency", "INV_DOORBELL write to the status write reaching memory")) {
  regs.register_b_transport(this, &MirrorMmu::b_transport_regs);
  irq.bind(*this);
  sc_core::sc_spawn([this] { run_invalidations(); }, "invalidations");
  stats.ratio("tlb_hit_rate", "device TLB hits / lookups", tlb_hits_, tlb_misses_);
}

void MirrorMmu::b_transport_regs(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  if (gp.get_data_length() != 8 || gp.get_address() % 8 != 0) {
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  uint64_t value = 0;
  if (gp.is_write()) {
    std::memcpy(&value, gp.get_data_ptr(), 8);
    delay += mmio_write_;
    timing_.sync_delay(delay);  // it takes effect when it reaches the device
    write_reg(gp.get_address(), value);
  } else {
    delay += mmio_read_;
    timing_.sync_delay(delay);
    value = read_reg(gp.get_address());
    std::memcpy(gp.get_data_ptr(), &value, 8);
  }
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

uint64_t MirrorMmu::read_reg(uint64_t off) const {
  switch (off) {
    case mirror_reg::kFaultPut:
      return put_;
    case mirror_reg::kFaultGet:
      return get_;
    default:
      return 0;
  }
}

void MirrorMmu::write_reg(uint64_t off, uint64_t v) {
  switch (off) {
    case mirror_reg::kCtxSel:
      ctx_sel_ = static_cast<uint32_t>(v % kMirrorContexts);
      break;
    case mirror_reg::kCtxRoot:
      ctx_root_[ctx_sel_] = v;
      break;
    case mirror_reg::kFaultBase:
      fault_base_ = v & ~uint64_t{kPageBytes - 1};
      put_ = get_ = 0;
      break;
    case mirror_reg::kFaultGet:
      get_ = static_cast<uint32_t>(v % kMirrorFaultRecords);
      break;
    case mirror_reg::kReplay:
      replays_.inc();
      replay_.notify(sc_core::SC_ZERO_TIME);
      break;
    case mirror_reg::kInvCtx:
      inv_ctx_ = static_cast<uint32_t>(v % kMirrorContexts);
      break;
    case mirror_reg::kInvStart:
      inv_start_ = v;
      break;
    case mirror_reg::kInvEnd:
      inv_end_ = v;
      break;
    case mirror_reg::kInvStatus:
      inv_status_ = v;
      break;
    case mirror_reg::kInvDoorbell:
      inv_queue_.push_back({inv_ctx_, inv_start_, inv_end_, inv_status_, v});
      inv_arrived_.notify(sc_core::SC_ZERO_TIME);
      break;
    default:
      break;
  }
}

MirrorMmu::Result MirrorMmu::translate(uint32_t ctx, uint64_t va, bool write, LocalTime& time) {
  const uint32_t need = write ? tperm::kWrite : tperm::kRead;
  // A thread whose process is not bound yet names no context of the device.
  if (ctx >= kMirrorContexts) return {false, {}, "no device context"};
  bool counted = false;
  for (uint32_t walk_count = 0;;) {
    time.keep_up();
    if (auto hit = tlb_.lookup(ctx, va); hit && (hit->perms & need)) {
      if (!counted) tlb_hits_.inc();
      tlb_.acquire(hit->id);
      time.advance(lookup_time_);
      return {true, *hit, {}};
    }
    time.advance(lookup_time_);
    if (!counted) tlb_misses_.inc();
    counted = true;
    if (walk_count++ == cfg_.max_walks) {
      return {false, {}, "no device translation after every walk"};
    }
    switch (walk(ctx, va, write, time)) {
      case WalkResult::kFilled:
        break;
      case WalkResult::kRestart:
        --walk_count;  // an invalidation overtook it: not an attempt of its own
        break;
      case WalkResult::kFault:
        fault(ctx, va, write, time);
        break;
      case WalkResult::kError:
        return {false, {}, "device page-table read failed"};
    }
  }
}

MirrorMmu::WalkResult MirrorMmu::walk(uint32_t ctx, uint64_t va, bool write, LocalTime& time) {
  walks_.inc();
  const uint64_t generation = inv_generation_[ctx];
  const uint64_t root = ctx_root_[ctx];
  if (!(root & mirror_reg::kCtxRootValid) || !is_canonical(va)) return WalkResult::kFault;
  uint64_t table = root & Pte::kAddressMask;
  for (int level = kPml4Level; level >= kPtLevel; --level) {
    uint64_t raw = 0;
    sc_core::sc_time delay = time.send();
    const tlm::tlm_response_status st =
        up_.memory_request(tlm::TLM_READ_COMMAND, entry_address(table, va, level),
                           reinterpret_cast<uint8_t*>(&raw), sizeof raw, delay);
    time.received(delay);
    walk_reads_.inc();
    if (st != tlm::TLM_OK_RESPONSE) return WalkResult::kError;
    const Pte e(raw);
    if (!e.present()) return WalkResult::kFault;
    if (level != kPtLevel) {
      table = e.table_address();
      continue;
    }
    if (write && !e.writable()) return WalkResult::kFault;
    // An invalidation of the context processed since the walk began may have dropped
    // what it read: the walk is discarded rather than filled.
    if (inv_generation_[ctx] != generation) {
      walk_restarts_.inc();
      return WalkResult::kRestart;
    }
    const uint64_t page = va & ~uint64_t{kPageBytes - 1};
    const uint64_t frame = e.page_address(PageSize::k4K);
    sc_core::sc_time obtained = time.now();
    if (gt_) {
      if (auto t = gt_->device_pte_derived(tag(ctx), page, frame)) obtained = *t;
    }
    AtsCompletionEntry c;
    c.range = AtsRange::with_log2(frame, kAtsPageShift);
    c.read = true;
    c.write = e.writable();
    tlb_.fill(ctx, page, c, obtained);
    return WalkResult::kFilled;
  }
  return WalkResult::kFault;
}

void MirrorMmu::fault(uint32_t ctx, uint64_t va, bool write, LocalTime& time) {
  faults_.inc();
  time.sync();  // the driver's processes answer it
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  if ((put_ + 1) % kMirrorFaultRecords == get_ || fault_base_ == 0) {
    fault_records_dropped_.inc();
  } else {
    uint64_t raw[2];
    MirrorFaultRecord{va, write, ctx}.encode(raw);
    up_.memory_request(tlm::TLM_WRITE_COMMAND,
                       fault_base_ + uint64_t{put_} * kMirrorFaultRecordBytes,
                       reinterpret_cast<uint8_t*>(raw), sizeof raw, delay);
    put_ = (put_ + 1) % kMirrorFaultRecords;
    // The interrupt (an MSI) follows the record on the link.
    fault_irq_.notify(delay);
    timing_.notified();
  }
  sc_core::wait(replay_);
}

void MirrorMmu::run_invalidations() {
  for (;;) {
    while (inv_queue_.empty()) sc_core::wait(inv_arrived_);
    const Invalidation inv = inv_queue_.front();
    inv_queue_.pop_front();
    const sc_core::sc_time rung = sc_core::sc_time_stamp();
    sc_core::wait(processing_);
    ++inv_generation_[inv.ctx];
    if (inv.end > inv.start) {
      tlb_.wait_unused(tlb_.invalidate_bytes(inv.ctx, inv.start, inv.end - 1));
    }
    uint64_t seq = inv.seq;
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    up_.memory_request(tlm::TLM_WRITE_COMMAND, inv.status_addr, reinterpret_cast<uint8_t*>(&seq),
                       sizeof seq, delay);
    sc_core::wait(delay);
    invalidations_.inc();
    invalidation_latency_.sample(sc_core::sc_time_stamp() - rung);
    inv_irq_.notify(sc_core::SC_ZERO_TIME);
  }
}

}  // namespace iosim
