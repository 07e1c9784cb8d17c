// A stub IOMMU as software sees it (iommu/vtd/sw_interface.h): a TLM register target
// (`regs`) and the three interrupt lines (`irq`), over the same physical memory as
// the driver. No translation, caches or devices: the driver's tests check what it
// writes and how it reacts, and the stub can misbehave on request.
//
// Command queue: a write to IQT takes every descriptor from IQH up to it (recorded in
// `commands` with the time of the doorbell). An inv_wait completes `wait_latency`
// after the doorbell: its status word is written (SW) and the completion interrupt
// fires (IF); IQH then moves past it. Misbehaviours:
//   - stall_waits: the queue stops at the next wait (IQH stays before it, no status,
//     no interrupt, nothing after it is taken): the driver's sva.wait_timeout_ns path;
//   - reject_waits: each wait fails as on a rejected descriptor: FSTS.IQE is set, IQH
//     moves past it without a status write, and the fault interrupt fires.
// Page request queue: inject() writes a 32-byte descriptor at PQT, advances PQT, sets
// PRS.PPR and raises the page request interrupt (PRS.PRO on a full queue, as the IOMMU).
// Registers answer after `register_latency`, added to the annotated delay.
#pragma once

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <vector>

#include "iommu/vtd/sw_interface.h"
#include "sc_models/memory/physical_memory.h"

namespace iosim::test {

struct StubIommuRegs : sc_core::sc_module, IommuInterrupts {
  struct Command {
    sc_core::sc_time time;  // the doorbell: sc_time_stamp() + annotated delay
    Desc128 desc;
  };

  tlm_utils::simple_target_socket<StubIommuRegs> regs;
  sc_core::sc_export<IommuInterrupts> irq;

  sc_core::sc_time register_latency = sc_core::sc_time(10, sc_core::SC_NS);
  sc_core::sc_time wait_latency = sc_core::sc_time(200, sc_core::SC_NS);
  bool stall_waits = false;
  bool reject_waits = false;

  std::vector<Command> commands;
  uint64_t rtaddr = 0, iqa = 0, iqh = 0, iqt = 0, fsts = 0, ics = 0;
  uint64_t pqa = 0, pqh = 0, pqt = 0, prs = 0;

  StubIommuRegs(sc_core::sc_module_name name, PhysicalMemory& mem)
      : sc_module(name), regs("regs"), irq("irq"), mem_(mem) {
    regs.register_b_transport(this, &StubIommuRegs::b_transport);
    irq.bind(*this);
    sc_core::sc_spawn_options o;
    o.spawn_method();
    o.set_sensitivity(&due_);
    o.dont_initialize();
    sc_core::sc_spawn([this] { complete_waits(); }, "complete_waits", &o);
  }

  const sc_core::sc_event& completion_event() const override { return inv_wait_; }
  const sc_core::sc_event& fault_event() const override { return fault_; }
  const sc_core::sc_event& page_request_event() const override { return page_request_; }

  // The descriptors of type `t` the driver submitted, decoded.
  template <class D>
  std::vector<D> submitted(InvType t) const {
    std::vector<D> out;
    for (const Command& c : commands) {
      if (descriptor_type(c.desc) == t) out.push_back(D::decode(c.desc));
    }
    return out;
  }
  std::vector<PageGroupResponseDesc> responses() const {
    return submitted<PageGroupResponseDesc>(InvType::kPageGroupResponse);
  }

  // A page request (or Stop Marker) written to the queue now.
  void inject(const PageRequestDesc& d) {
    const uint64_t size = uint64_t{4096} << (pqa & 7);
    const uint64_t next = (pqt + PageRequestDesc::kBytes) % size;
    if (next == pqh || (prs & vtd_reg::kPrsPro)) {
      prs |= vtd_reg::kPrsPro;
    } else {
      uint64_t raw[4];
      d.encode(raw);
      mem_.write((pqa & ~uint64_t{0xfff}) + pqt, raw, sizeof raw);
      pqt = next;
      prs |= vtd_reg::kPrsPpr;
    }
    page_request_.notify(sc_core::SC_ZERO_TIME);
  }

 private:
  struct DueWait {
    sc_core::sc_time at;
    InvWait wait;
    uint64_t head_after;  // IQH once it completed
  };

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    using namespace vtd_reg;
    uint64_t v = 0;
    std::memcpy(&v, gp.get_data_ptr(), std::min<unsigned>(8, gp.get_data_length()));
    const uint64_t off = gp.get_address();
    if (gp.is_read()) {
      switch (off) {
        case kRtaddr:
          v = rtaddr;
          break;
        case kFsts:
          v = fsts;
          break;
        case kIqh:
          v = iqh;
          break;
        case kIqt:
          v = iqt;
          break;
        case kIqa:
          v = iqa;
          break;
        case kIcs:
          v = ics;
          break;
        case kPqh:
          v = pqh;
          break;
        case kPqt:
          v = pqt;
          break;
        case kPqa:
          v = pqa;
          break;
        case kPrs:
          v = prs;
          break;
        default:
          v = 0;
          break;
      }
      std::memcpy(gp.get_data_ptr(), &v, std::min<unsigned>(8, gp.get_data_length()));
    } else {
      switch (off) {
        case kRtaddr:
          rtaddr = v;
          break;
        case kFsts:
          fsts &= ~v;
          break;
        case kIqt:
          doorbell(v, sc_core::sc_time_stamp() + delay);
          break;
        case kIqa:
          iqa = v;
          iqh = iqt = fetched_ = 0;
          stalled_ = false;
          break;
        case kIcs:
          ics &= ~v;
          break;
        case kPqh:
          pqh = v;
          break;
        case kPqa:
          pqa = v;
          pqh = pqt = 0;
          break;
        case kPrs:
          prs &= ~v;
          break;
        default:
          break;
      }
    }
    delay += register_latency;
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }

  void doorbell(uint64_t tail, const sc_core::sc_time& at) {
    const uint64_t size = uint64_t{4096} << (iqa & 7);
    const uint64_t base = iqa & ~uint64_t{0xfff};
    iqt = tail;
    for (; !stalled_ && fetched_ != tail; fetched_ = (fetched_ + 16) % size) {
      const Desc128 d{mem_.read_u64(base + fetched_), mem_.read_u64(base + fetched_ + 8)};
      commands.push_back(Command{at, d});
      if (descriptor_type(d) != InvType::kInvWait) continue;
      if (stall_waits) {
        stalled_ = true;  // IQH stays before the wait
        break;
      }
      due_waits_.push_back(DueWait{at + wait_latency, InvWait::decode(d), (fetched_ + 16) % size});
    }
    if (!due_waits_.empty()) due_.notify(due_waits_.front().at - sc_core::sc_time_stamp());
  }

  void complete_waits() {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    while (!due_waits_.empty() && due_waits_.front().at <= now) {
      const DueWait w = due_waits_.front();
      due_waits_.pop_front();
      iqh = w.head_after;
      if (reject_waits) {
        fsts |= vtd_reg::kFstsIqe;
        fault_.notify(sc_core::SC_ZERO_TIME);
        continue;
      }
      if (w.wait.status_write) mem_.write(w.wait.status_addr, &w.wait.status_data, 4);
      if (w.wait.interrupt) {
        ics |= vtd_reg::kIcsIwc;
        inv_wait_.notify(sc_core::SC_ZERO_TIME);
      }
    }
    if (!due_waits_.empty()) due_.notify(due_waits_.front().at - now);
  }

  PhysicalMemory& mem_;
  uint64_t fetched_ = 0;  // next descriptor to take (IQH moves only as waits complete)
  bool stalled_ = false;  // stall_waits stopped the queue at a wait
  std::deque<DueWait> due_waits_;
  sc_core::sc_event due_, inv_wait_, fault_, page_request_;
};

}  // namespace iosim::test
