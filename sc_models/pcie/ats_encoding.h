// Bit-level encodings of the PCIe ATS / PRI / PASID fields that the simulator
// carries in its TLM extension (see pcie_ext.h):
//
//  - the S-bit range encoding shared by Translation Completions and Invalidate
//    Requests: S=0 means 4 KiB at the given address; S=1 means the size is set by
//    the lowest-order 0 bit of the address at bit 12 or above (bit 12 = 0 -> 8 KiB,
//    bits 12 = 1 and 13 = 0 -> 16 KiB, ...). Bits 62:12 set with bit 63 clear is
//    the whole 64-bit address space (the value Linux's VT-d and AMD-Vi drivers use
//    for a full device-TLB flush);
//  - the Translation Completion data entry (8 bytes per translation);
//  - the Invalidate Request payload, the Invalidate Completion header fields,
//    the Page Request / Stop Marker fields and the PRG Response header fields;
//  - the PASID TLP prefix contents (PASID, Execute Requested, Privileged Mode
//    Requested).
//
// Multi-byte wire values are given as host integers whose most significant bits
// are the first transmitted bytes (DW0 of the field in bits 63:32). Field
// positions follow the PCIe Base Specification (chapter 10, ATS/PRI).
//
// Simplifications: only the fields the simulator uses are encoded. TLP header
// fields other than the message-specific ones (Fmt/Type, Length, Tag, TC, ...)
// are not produced; the ATS Memory Attributes (AMA) bits of a completion entry
// are not modelled (always 0); a completion entry is always the 64-bit form.
// Reserved bits are written as 0 and ignored on decode, as receivers do.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "sc_models/pcie/pcie_fields.h"

namespace iosim {

// A field value that the encoding cannot represent, or a malformed encoding.
class PcieEncodingError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Contents of a PASID TLP prefix. `present` false means the TLP has no prefix.
struct PasidPrefix {
  bool present = false;
  uint32_t pasid = 0;           // 0 .. 2^20-1
  bool exe_requested = false;   // Execute Requested
  bool priv_requested = false;  // Privileged Mode Requested

  // A prefix carrying `pasid`; throws PcieEncodingError if it needs more than 20 bits.
  static PasidPrefix with(uint32_t pasid, bool exe = false, bool priv = false);
  // Throws PcieEncodingError when the PASID does not fit in 20 bits.
  void validate() const;
  bool operator==(const PasidPrefix& o) const;
  bool operator!=(const PasidPrefix& o) const { return !(*this == o); }
};

// A naturally aligned power-of-two block [base, base + 2^log2_size).
struct AtsRange {
  uint64_t base = 0;
  unsigned log2_size = kAtsPageShift;  // 12 .. 64; 64 = the whole 64-bit address space

  // Validated constructors: `size_bytes` must be a power of two >= 4 KiB and `base`
  // a multiple of it.
  static AtsRange of_size(uint64_t base, uint64_t size_bytes);
  static AtsRange with_log2(uint64_t base, unsigned log2_size);
  static AtsRange whole_space() { return AtsRange{0, kAtsWholeSpaceLog2}; }

  bool is_whole_space() const { return log2_size >= kAtsWholeSpaceLog2; }
  // Size in bytes; throws PcieEncodingError for the whole space (2^64 does not fit).
  uint64_t size_bytes() const;
  uint64_t last() const;  // last byte address (inclusive)
  bool contains(uint64_t addr) const { return addr >= base && addr <= last(); }
  // True if [start, end) (end exclusive, start < end) intersects this range.
  bool overlaps(uint64_t start, uint64_t end) const;
  void validate() const;
  bool operator==(const AtsRange& o) const { return base == o.base && log2_size == o.log2_size; }
  bool operator!=(const AtsRange& o) const { return !(*this == o); }
};

// An address field in S-bit form: `address` holds bits 63:12 (bits 11:0 are zero).
struct SBitAddress {
  uint64_t address = 0;
  bool s = false;
  bool operator==(const SBitAddress& o) const { return address == o.address && s == o.s; }
};

// Range -> (address field, S). Throws PcieEncodingError for a misaligned or
// out-of-range block.
SBitAddress encode_s_range(const AtsRange& range);
SBitAddress encode_s_range(uint64_t base, uint64_t size_bytes);
// (address field, S) -> range. Bits 11:0 of `address` must be zero. With S=1 and
// bits 63:12 all set (no 0 bit at all) the result is also the whole address space.
AtsRange decode_s_range(uint64_t address, bool s);
// Smallest naturally aligned power-of-two block of at least 4 KiB covering
// [start, end). Requires start < end; throws PcieEncodingError otherwise.
AtsRange cover_range(uint64_t start, uint64_t end);

// Completion Status of a Translation Completion (header field; values from the
// Completion Status encoding).
enum class AtsCompletionStatus : uint8_t {
  kSuccess = 0b000,
  kUnsupportedRequest = 0b001,  // the TA does not accept translation requests from this Function
  kCompleterAbort = 0b100,      // the TA could not translate because of an error in the TA
};

// One Translation Completion data entry (8 bytes):
//   bits 63:12 translated address (S-bit encoded), 11 S, 10 N, 5 Global, 4 Priv,
//   3 Exe, 2 U, 1 W, 0 R.
// R=W=0 means the untranslated address is not accessible (no translation).
struct AtsCompletionEntry {
  AtsRange range;  // translated range; the untranslated range has the same size
  bool read = false;
  bool write = false;
  bool untranslated_only = false;  // U: access only with untranslated requests
  bool non_snooped = false;        // N
  bool global = false;             // valid for every PASID of the Function
  bool priv = false;               // permissions are for privileged mode
  bool exe = false;                // execute permitted

  uint64_t encode() const;
  static AtsCompletionEntry decode(uint64_t raw);
  bool operator==(const AtsCompletionEntry& o) const;
};

std::vector<uint64_t> encode_completion(const std::vector<AtsCompletionEntry>& entries);
std::vector<AtsCompletionEntry> decode_completion(const std::vector<uint64_t>& raw);

// ATS Invalidate Request (a message with an 8-byte payload, sent downstream).
// Payload: bits 63:12 untranslated address (S-bit encoded), 11 S, 0 Global
// Invalidate. The ITag travels in the message header, the PASID in the prefix.
struct InvalidateRequest {
  uint16_t destination_id = 0;  // Device ID of the Function whose ATC is invalidated
  uint8_t itag = 0;             // 0..31, identifies the request at the TA
  PasidPrefix pasid;            // present: invalidate only translations of that PASID
  AtsRange range;
  bool global_invalidate = false;  // with a PASID: also drop Global translations

  static constexpr uint32_t kPayloadBytes = 8;

  void validate() const;
  uint64_t encode_payload() const;
  // Fills range and global_invalidate from a payload; header fields stay default.
  static InvalidateRequest decode_payload(uint64_t payload);
  bool operator==(const InvalidateRequest& o) const;
};

// ATS Invalidate Completion (a message without payload, sent upstream).
// Message-specific header bytes 8..15: bits 63:48 Device ID (the TA), 34:32
// Completion Count (0 encodes 8), 31:0 ITag Vector.
struct InvalidateCompletion {
  uint16_t requester_id = 0;      // the Function that performed the invalidation
  uint16_t destination_id = 0;    // the TA that issued the Invalidate Request(s)
  uint32_t itag_vector = 0;       // bit i set: the request with ITag i is complete
  unsigned completion_count = 1;  // 1..8 completions make up the answer to a request

  void validate() const;
  uint64_t encode_header() const;
  // Decodes header bytes 8..15; requester_id stays default (it is in bytes 4..5).
  static InvalidateCompletion decode_header(uint64_t raw);
  bool operator==(const InvalidateCompletion& o) const;
};

// PRI Page Request (a message without payload, sent upstream).
// Message-specific header bytes 8..15: bits 63:12 page address, 11:3 PRG index,
// 2 L (last request of the group), 1 W, 0 R.
struct PageRequest {
  uint64_t page_address = 0;  // 4 KiB aligned untranslated address
  bool read = false;
  bool write = false;
  bool last = false;
  uint16_t prg_index = 0;  // 0..511
  PasidPrefix pasid;

  void validate() const;
  uint64_t encode_header() const;
  static PageRequest decode_header(uint64_t raw);
  // True for the L=1, R=0, W=0 combination that marks a Stop Marker.
  static bool is_stop_marker(uint64_t raw);
  bool operator==(const PageRequest& o) const;
};

// PRI Stop Marker: a Page Request with L=1, R=0, W=0 and a PASID prefix, telling
// the host that the Function has stopped using the PASID. It gets no response.
// The PRG index is carried in its field, the page address as 0.
struct StopMarker {
  uint16_t prg_index = 0;  // 0..511
  PasidPrefix pasid;       // must be present

  void validate() const;
  uint64_t encode_header() const;
  // Throws PcieEncodingError if `raw` is not a Stop Marker.
  static StopMarker decode_header(uint64_t raw);
  bool operator==(const StopMarker& o) const;
};

// Response Code of a PRG Response.
enum class PrgResponseCode : uint8_t {
  kSuccess = 0b0000,
  kInvalidRequest = 0b0001,
  kResponseFailure = 0b1111,
};
const char* to_string(PrgResponseCode code);

// PRI Page Request Group Response (a message without payload, sent downstream).
// Message-specific header bytes 12..15: bits 31:16 Destination (Device) ID,
// 15:12 Response Code, 8:0 PRG index.
struct PrgResponse {
  uint16_t destination_id = 0;  // the Function that sent the page requests
  uint16_t prg_index = 0;       // 0..511
  PrgResponseCode code = PrgResponseCode::kSuccess;
  PasidPrefix pasid;

  void validate() const;
  uint32_t encode_header() const;
  // Throws PcieEncodingError for a reserved Response Code.
  static PrgResponse decode_header(uint32_t raw);
  bool operator==(const PrgResponse& o) const;
};

}  // namespace iosim
