// TLM extension carrying PCIe semantics. See pcie_ext.h.
#include "sc_models/pcie/pcie_ext.h"

#include <string>
#include <utility>

namespace iosim {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw PcieEncodingError(what);
}

// The PASID prefix a message body carries (Invalidate Completions carry none).
struct BodyPasid {
  PasidPrefix operator()(const std::monostate&) const { return {}; }
  PasidPrefix operator()(const InvalidateCompletion&) const { return {}; }
  template <class T>
  PasidPrefix operator()(const T& body) const {
    return body.pasid;
  }
};

struct BodyValidate {
  void operator()(const std::monostate&) const {}
  template <class T>
  void operator()(const T& body) const {
    body.validate();
  }
};

}  // namespace

AddressType decode_address_type(unsigned bits) {
  switch (bits) {
    case 0b00:
      return AddressType::kUntranslated;
    case 0b01:
      return AddressType::kTranslationRequest;
    case 0b10:
      return AddressType::kTranslated;
    default:
      fail("Address Type " + std::to_string(bits) + " is reserved");
  }
}

const char* to_string(AddressType at) {
  switch (at) {
    case AddressType::kUntranslated:
      return "untranslated";
    case AddressType::kTranslationRequest:
      return "translation-request";
    case AddressType::kTranslated:
      return "translated";
  }
  return "reserved";
}

const char* to_string(PcieKind kind) {
  switch (kind) {
    case PcieKind::kMemory:
      return "memory";
    case PcieKind::kTranslationRequest:
      return "translation-request";
    case PcieKind::kInvalidateRequest:
      return "invalidate-request";
    case PcieKind::kInvalidateCompletion:
      return "invalidate-completion";
    case PcieKind::kPageRequest:
      return "page-request";
    case PcieKind::kStopMarker:
      return "stop-marker";
    case PcieKind::kPrgResponse:
      return "prg-response";
  }
  return "unknown";
}

RequesterId RequesterId::from_bdf(unsigned bus, unsigned device, unsigned function) {
  if (bus > 0xff) fail("bus " + std::to_string(bus) + " out of range 0..255");
  if (device > 0x1f) fail("device " + std::to_string(device) + " out of range 0..31");
  if (function > 0x7) fail("function " + std::to_string(function) + " out of range 0..7");
  return RequesterId{static_cast<uint16_t>(bus << 8 | device << 3 | function)};
}

// --------------------------------------------------------------- factories

PcieExtension PcieExtension::memory(uint16_t requester_id, AddressType at, PasidPrefix pasid) {
  if (at == AddressType::kTranslationRequest) {
    fail("a memory request cannot have Address Type 01; use translation_request()");
  }
  PcieExtension e;
  e.requester_id = requester_id;
  e.address_type = at;
  e.pasid = pasid;
  e.validate();
  return e;
}

PcieExtension PcieExtension::translation_request(uint16_t requester_id, PasidPrefix pasid,
                                                 bool no_write) {
  PcieExtension e;
  e.requester_id = requester_id;
  e.address_type = AddressType::kTranslationRequest;
  e.pasid = pasid;
  e.no_write = no_write;
  e.validate();
  return e;
}

PcieExtension PcieExtension::message(uint16_t requester_id, Body body) {
  if (std::holds_alternative<std::monostate>(body)) fail("a message needs a body");
  PcieExtension e;
  e.requester_id = requester_id;
  e.pasid = std::visit(BodyPasid{}, body);
  e.body = std::move(body);
  e.validate();
  return e;
}

// ------------------------------------------------------------------ queries

uint32_t PcieExtension::message_payload_bytes() const {
  return kind() == PcieKind::kInvalidateRequest ? InvalidateRequest::kPayloadBytes : 0;
}

void PcieExtension::validate() const {
  pasid.validate();
  const PcieKind k = kind();
  if (no_write && k != PcieKind::kTranslationRequest) {
    fail("the NW flag is only defined for a Translation Request");
  }
  if (is_message(k)) {
    if (address_type != AddressType::kUntranslated) {
      fail(std::string("a ") + to_string(k) + " message has no Address Type");
    }
    std::visit(BodyValidate{}, body);
    if (std::visit(BodyPasid{}, body) != pasid) {
      fail(std::string("the PASID prefix of a ") + to_string(k) +
           " differs from the PASID in its body");
    }
  }
  for (const auto& c : completions) c.range.validate();
}

tlm::tlm_extension_base* PcieExtension::clone() const {
  return new PcieExtension(*this);
}

void PcieExtension::copy_from(const tlm::tlm_extension_base& other) {
  *this = static_cast<const PcieExtension&>(other);
}

}  // namespace iosim
