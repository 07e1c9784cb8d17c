// A stub IOMMU for device tests: answers Translation Requests from a table,
// performs memory reads/writes on a byte map, records every upstream TLP with
// its time, and sends Invalidate Requests and PRG Responses downstream on
// demand (or PRG Responses automatically after a latency), with an optional
// annotated delay.
#pragma once

#include "sc_models/pcie/pcie_ext.h"

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace iosim::test {

struct StubIommu : sc_core::sc_module {
  struct Tlp {
    sc_core::sc_time time;  // sc_time_stamp() + the annotated delay: its arrival
    PcieKind kind;
    AddressType at;
    uint64_t addr;
    bool write;
    PasidPrefix pasid;
    bool no_write;
    PcieExtension::Body body;
  };

  tlm_utils::simple_target_socket<StubIommu> up;       // from the device
  tlm_utils::simple_initiator_socket<StubIommu> down;  // to the device

  std::vector<Tlp> log;
  std::map<uint64_t, uint8_t> mem;
  sc_core::sc_time translation_latency = sc_core::sc_time(100, sc_core::SC_NS);
  sc_core::sc_time read_latency = sc_core::sc_time(50, sc_core::SC_NS);
  // Translation of (pasid, page): default 4 KiB, PA = VA + pa_offset, R/W.
  uint64_t pa_offset = 0x100000000ull;
  std::function<AtsCompletionEntry(uint32_t pasid, uint64_t page)> translate;
  // When set, answers each PRG (on its L=1 request) with this code after prg_latency.
  std::optional<PrgResponseCode> auto_prg;
  sc_core::sc_time prg_latency = sc_core::sc_time(1000, sc_core::SC_NS);
  std::function<void(const PageRequest&)> on_page_request;
  // Annotated delay of every downstream message (a link's latency): the device acts
  // on the message when it arrives, at the send time plus this delay.
  sc_core::sc_time down_delay = sc_core::SC_ZERO_TIME;

  explicit StubIommu(sc_core::sc_module_name n) : sc_module(n), up("up"), down("down") {
    up.register_b_transport(this, &StubIommu::b_transport);
    translate = [this](uint32_t, uint64_t page) {
      AtsCompletionEntry e;
      e.range = AtsRange::of_size(page + pa_offset, 4096);
      e.read = e.write = true;
      return e;
    };
  }

  std::vector<Tlp> of_kind(PcieKind k) const {
    std::vector<Tlp> out;
    for (const Tlp& t : log) {
      if (t.kind == k) out.push_back(t);
    }
    return out;
  }
  size_t index_of(PcieKind k, size_t nth = 0) const {
    for (size_t i = 0; i < log.size(); ++i) {
      if (log[i].kind == k && nth-- == 0) return i;
    }
    return log.size();
  }

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    PcieExtension* ext = PcieExtension::of(gp);
    log.push_back({sc_core::sc_time_stamp() + delay, ext->kind(), ext->address_type,
                   gp.get_address(), gp.is_write(), ext->pasid, ext->no_write, ext->body});
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    switch (ext->kind()) {
      case PcieKind::kTranslationRequest:
        ext->completions = {
            translate(ext->pasid.present ? ext->pasid.pasid : 0xffffffffu, gp.get_address())};
        delay += translation_latency;
        return;
      case PcieKind::kMemory:
        for (unsigned i = 0; i < gp.get_data_length(); ++i) {
          if (gp.is_write()) {
            mem[gp.get_address() + i] = gp.get_data_ptr()[i];
          } else {
            gp.get_data_ptr()[i] = mem[gp.get_address() + i];
          }
        }
        if (gp.is_read()) delay += read_latency;
        return;
      case PcieKind::kPageRequest: {
        const PageRequest& pr = std::get<PageRequest>(ext->body);
        if (on_page_request) on_page_request(pr);
        if (auto_prg && pr.last) {
          const PrgResponseCode code = *auto_prg;
          sc_core::sc_spawn([this, pr, code] {
            sc_core::wait(prg_latency);
            send_prg(pr.prg_index, code, pr.pasid);
          });
        }
        return;
      }
      default:
        return;
    }
  }

  void send(PcieExtension::Body body) {
    PcieExtension ext = PcieExtension::message(0, std::move(body));
    uint8_t buf[8] = {};
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_WRITE_COMMAND);
    gp.set_data_ptr(buf);
    gp.set_data_length(ext.message_payload_bytes());
    gp.set_streaming_width(ext.message_payload_bytes());
    gp.set_extension(&ext);
    sc_core::sc_time d = down_delay;
    down->b_transport(gp, d);
    gp.clear_extension(&ext);
  }
  void send_invalidate(uint8_t itag, std::optional<uint32_t> pasid, AtsRange range,
                       bool global = false) {
    InvalidateRequest r;
    r.destination_id = 0x0100;
    r.itag = itag;
    if (pasid) r.pasid = PasidPrefix::with(*pasid);
    r.range = range;
    r.global_invalidate = global;
    send(r);
  }
  void send_prg(uint16_t index, PrgResponseCode code, PasidPrefix pasid) {
    PrgResponse r;
    r.destination_id = 0x0100;
    r.prg_index = index;
    r.code = code;
    r.pasid = pasid;
    send(r);
  }
};

}  // namespace iosim::test
