// TLM extension carrying the PCIe semantics of a transaction: requester ID,
// PASID TLP prefix (PASID, Execute Requested, Privileged Mode Requested),
// Address Type, and for messages the message body.
//
// What the generic payload means with each kind:
//  - kMemory: a memory read or write (data in the payload). Address Type is
//    untranslated (00) or translated (10).
//  - kTranslationRequest: an ATS Translation Request (Address Type 01), sent as
//    a TLM read of the untranslated address; `no_write` is the NW flag. The
//    translation agent answers by setting `completion_status` and filling
//    `completions` (one entry per translated range, several for a request that
//    covers several pages); it may also copy the encoded entries into the data
//    buffer, 8 bytes each.
//  - message kinds (Invalidate Request/Completion, Page Request, Stop Marker,
//    PRG Response): a posted message, conventionally a TLM write; the body is
//    in `body` and the payload's data pointer is unused. The PASID of a message
//    travels in `pasid` (the TLP prefix) and is kept equal to the body's own
//    `pasid` by the message() factory.
//
// The kind is derived from the body and the Address Type, so the two cannot
// disagree. The bit-level encodings of the bodies are in ats_encoding.h.
//
// Simplifications: no TLP header fields beyond those listed (tags, traffic
// classes, attributes, byte enables are not carried); the extension is a plain
// value object (clone() copies everything) without memory-manager pooling.
#pragma once

#include "sc_models/pcie/ats_encoding.h"

#include <tlm>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <type_traits>
#include <variant>
#include <vector>

namespace iosim {

// Address Type (AT) field of a memory request. 11b is reserved.
enum class AddressType : uint8_t {
  kUntranslated = 0b00,
  kTranslationRequest = 0b01,
  kTranslated = 0b10,
};
// Converts the 2-bit field; throws PcieEncodingError for the reserved value 11b.
AddressType decode_address_type(unsigned bits);
const char* to_string(AddressType at);

enum class PcieKind : uint8_t {
  kMemory,
  kTranslationRequest,
  kInvalidateRequest,
  kInvalidateCompletion,
  kPageRequest,
  kStopMarker,
  kPrgResponse,
};
const char* to_string(PcieKind kind);
// Inline: the link asks it of every transaction.
inline bool is_message(PcieKind kind) {
  return kind != PcieKind::kMemory && kind != PcieKind::kTranslationRequest;
}

// 16-bit Requester ID: bus[15:8], device[7:3], function[2:0].
struct RequesterId {
  uint16_t value = 0;
  // Throws PcieEncodingError if device > 31 or function > 7.
  static RequesterId from_bdf(unsigned bus, unsigned device, unsigned function);
  unsigned bus() const { return value >> 8; }
  unsigned device() const { return (value >> 3) & 0x1f; }
  unsigned function() const { return value & 0x7; }
};

class PcieExtension : public tlm::tlm_extension<PcieExtension> {
 public:
  using Body = std::variant<std::monostate, InvalidateRequest, InvalidateCompletion, PageRequest,
                            StopMarker, PrgResponse>;

  uint16_t requester_id = 0;  // Requester ID of the sender (RequesterId::value)
  PasidPrefix pasid;          // PASID TLP prefix, if present
  AddressType address_type = AddressType::kUntranslated;
  bool no_write = false;  // NW flag of a Translation Request
  Body body;              // message body; monostate for memory requests and translation requests

  // Filled in by the translation agent when it answers a Translation Request.
  AtsCompletionStatus completion_status = AtsCompletionStatus::kSuccess;
  std::vector<AtsCompletionEntry> completions;

  // Factories. They validate their arguments (throwing PcieEncodingError).
  static PcieExtension memory(uint16_t requester_id, AddressType at = AddressType::kUntranslated,
                              PasidPrefix pasid = {});
  static PcieExtension translation_request(uint16_t requester_id, PasidPrefix pasid = {},
                                           bool no_write = false);
  // A message; the TLP prefix is taken from the body's PASID.
  static PcieExtension message(uint16_t requester_id, Body body);

  // Inline: the link and the IOMMU ask it several times per TLP.
  PcieKind kind() const {
    // The kind of each Body alternative, in their order above; the monostate (and a
    // valueless body) is a memory request or a translation request.
    constexpr PcieKind kOfBody[] = {
        PcieKind::kMemory,      PcieKind::kInvalidateRequest, PcieKind::kInvalidateCompletion,
        PcieKind::kPageRequest, PcieKind::kStopMarker,        PcieKind::kPrgResponse};
    const size_t i = body.index();
    if (i != 0 && i < std::size(kOfBody)) return kOfBody[i];
    return address_type == AddressType::kTranslationRequest ? PcieKind::kTranslationRequest
                                                            : PcieKind::kMemory;
  }
  // Bytes of data the TLP carrying this message has (8 for an Invalidate
  // Request, 0 for the header-only messages); 0 for non-messages.
  uint32_t message_payload_bytes() const;
  // Bytes of data of the Translation Completion: 8 per entry on success, 0 otherwise.
  uint32_t completion_payload_bytes() const {
    if (completion_status != AtsCompletionStatus::kSuccess) return 0;
    return static_cast<uint32_t>(completions.size() * sizeof(uint64_t));
  }
  // Checks field ranges and consistency; throws PcieEncodingError with the reason.
  void validate() const;

  // The extension of `gp`, or nullptr.
  static PcieExtension* of(const tlm::tlm_generic_payload& gp) {
    return gp.get_extension<PcieExtension>();
  }

  tlm::tlm_extension_base* clone() const override;
  void copy_from(const tlm::tlm_extension_base& other) override;
};

// kind() relies on the order and number of the Body alternatives.
static_assert(std::variant_size_v<PcieExtension::Body> == 6);
static_assert(
    std::is_same_v<std::variant_alternative_t<1, PcieExtension::Body>, InvalidateRequest>);
static_assert(
    std::is_same_v<std::variant_alternative_t<2, PcieExtension::Body>, InvalidateCompletion>);
static_assert(std::is_same_v<std::variant_alternative_t<3, PcieExtension::Body>, PageRequest>);
static_assert(std::is_same_v<std::variant_alternative_t<4, PcieExtension::Body>, StopMarker>);
static_assert(std::is_same_v<std::variant_alternative_t<5, PcieExtension::Body>, PrgResponse>);

}  // namespace iosim
