// Bit-level encodings of PCIe ATS / PRI / PASID fields. See ats_encoding.h.
#include "sc_models/pcie/ats_encoding.h"

#include <string>

namespace iosim {
namespace {

constexpr uint64_t kPageOffsetMask = (uint64_t{1} << kAtsPageShift) - 1;  // bits 11:0
constexpr uint64_t kWholeSpaceField = 0x7FFF'FFFF'FFFF'F000ull;  // bits 62:12 set, 63 clear

// Completion entry / request flag bit positions.
constexpr unsigned kBitR = 0, kBitW = 1, kBitU = 2, kBitExe = 3, kBitPriv = 4, kBitGlobal = 5,
                   kBitN = 10, kBitS = 11;
// Invalidate Request payload.
constexpr unsigned kBitGlobalInvalidate = 0;
// Page Request header.
constexpr unsigned kBitLast = 2, kPrgIndexShift = 3;
// Invalidate Completion header.
constexpr unsigned kInvCplDeviceIdShift = 48, kInvCplCountShift = 32;
// PRG Response header.
constexpr unsigned kPrgRspDestShift = 16, kPrgRspCodeShift = 12;

uint64_t bit(unsigned n, bool v) {
  return v ? (uint64_t{1} << n) : 0;
}
bool test(uint64_t raw, unsigned n) {
  return (raw >> n) & 1;
}

[[noreturn]] void fail(const std::string& what) {
  throw PcieEncodingError(what);
}

std::string hex(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 0xf]);
    v >>= 4;
  } while (v);
  return "0x" + s;
}

void check_itag(unsigned itag) {
  if (itag > kItagMax) fail("ITag " + std::to_string(itag) + " out of range 0..31");
}

void check_prg_index(unsigned index) {
  if (index > kPrgIndexMax) fail("PRG index " + std::to_string(index) + " out of range 0..511");
}

void check_page_aligned(uint64_t addr, const char* what) {
  if (addr & kPageOffsetMask) fail(std::string(what) + " " + hex(addr) + " is not 4 KiB aligned");
}

}  // namespace

// ---------------------------------------------------------------- PasidPrefix

PasidPrefix PasidPrefix::with(uint32_t pasid, bool exe, bool priv) {
  PasidPrefix p{true, pasid, exe, priv};
  p.validate();
  return p;
}

void PasidPrefix::validate() const {
  if (pasid > kPasidMax) fail("PASID " + hex(pasid) + " does not fit in 20 bits");
}

bool PasidPrefix::operator==(const PasidPrefix& o) const {
  if (present != o.present) return false;
  if (!present) return true;  // the other fields are meaningless without a prefix
  return pasid == o.pasid && exe_requested == o.exe_requested && priv_requested == o.priv_requested;
}

// ------------------------------------------------------------------- AtsRange

AtsRange AtsRange::with_log2(uint64_t base, unsigned log2_size) {
  AtsRange r{base, log2_size};
  r.validate();
  return r;
}

AtsRange AtsRange::of_size(uint64_t base, uint64_t size_bytes) {
  if (size_bytes == 0 || (size_bytes & (size_bytes - 1)) != 0) {
    fail("range size " + hex(size_bytes) + " is not a power of two");
  }
  unsigned log2 = 0;
  while ((uint64_t{1} << log2) != size_bytes) ++log2;
  return with_log2(base, log2);
}

void AtsRange::validate() const {
  if (log2_size < kAtsPageShift || log2_size > kAtsWholeSpaceLog2) {
    fail("range size 2^" + std::to_string(log2_size) + " outside 4 KiB .. 2^64");
  }
  if (is_whole_space()) {
    if (base != 0) fail("whole-address-space range must start at 0, got " + hex(base));
    return;
  }
  if (base & ((uint64_t{1} << log2_size) - 1)) {
    fail("range base " + hex(base) + " is not aligned to its size 2^" + std::to_string(log2_size));
  }
}

uint64_t AtsRange::size_bytes() const {
  if (is_whole_space()) fail("the whole 64-bit address space has no 64-bit size");
  return uint64_t{1} << log2_size;
}

uint64_t AtsRange::last() const {
  if (is_whole_space()) return ~uint64_t{0};
  return base + ((uint64_t{1} << log2_size) - 1);
}

bool AtsRange::overlaps(uint64_t start, uint64_t end) const {
  if (start >= end) return false;
  return start <= last() && end - 1 >= base;
}

// ----------------------------------------------------------- S-bit encoding

SBitAddress encode_s_range(const AtsRange& range) {
  range.validate();
  if (range.log2_size == kAtsPageShift) return {range.base, false};
  if (range.is_whole_space()) return {kWholeSpaceField, true};
  // Set bits 12 .. log2-2; bit log2-1 stays 0 because the base is aligned.
  const uint64_t ones = (uint64_t{1} << (range.log2_size - 1)) - 1;
  return {(range.base | ones) & ~kPageOffsetMask, true};
}

SBitAddress encode_s_range(uint64_t base, uint64_t size_bytes) {
  return encode_s_range(AtsRange::of_size(base, size_bytes));
}

AtsRange decode_s_range(uint64_t address, bool s) {
  if (address & kPageOffsetMask) {
    fail("S-bit address field " + hex(address) + " has bits 11:0 set");
  }
  if (!s) return AtsRange{address, kAtsPageShift};
  const uint64_t zeros = ~(address | kPageOffsetMask);  // 0 bits at 12 and above
  if (zeros == 0) return AtsRange::whole_space();
  unsigned lowest_zero = kAtsPageShift;
  while (!test(zeros, lowest_zero)) ++lowest_zero;
  const unsigned log2 = lowest_zero + 1;
  if (log2 >= kAtsWholeSpaceLog2) return AtsRange::whole_space();
  return AtsRange{address & ~((uint64_t{1} << log2) - 1), log2};
}

AtsRange cover_range(uint64_t start, uint64_t end) {
  if (start >= end) {
    fail("cover_range needs start < end, got [" + hex(start) + ", " + hex(end) + ")");
  }
  const uint64_t last = end - 1;
  unsigned log2 = kAtsPageShift;
  while (log2 < kAtsWholeSpaceLog2 && (start >> log2) != (last >> log2)) ++log2;
  if (log2 >= kAtsWholeSpaceLog2) return AtsRange::whole_space();
  return AtsRange{start & ~((uint64_t{1} << log2) - 1), log2};
}

// ------------------------------------------------------- Translation Completion

uint64_t AtsCompletionEntry::encode() const {
  const SBitAddress a = encode_s_range(range);
  return a.address | bit(kBitS, a.s) | bit(kBitN, non_snooped) | bit(kBitGlobal, global) |
         bit(kBitPriv, priv) | bit(kBitExe, exe) | bit(kBitU, untranslated_only) |
         bit(kBitW, write) | bit(kBitR, read);
}

AtsCompletionEntry AtsCompletionEntry::decode(uint64_t raw) {
  AtsCompletionEntry e;
  e.range = decode_s_range(raw & ~kPageOffsetMask, test(raw, kBitS));
  e.non_snooped = test(raw, kBitN);
  e.global = test(raw, kBitGlobal);
  e.priv = test(raw, kBitPriv);
  e.exe = test(raw, kBitExe);
  e.untranslated_only = test(raw, kBitU);
  e.write = test(raw, kBitW);
  e.read = test(raw, kBitR);
  return e;
}

bool AtsCompletionEntry::operator==(const AtsCompletionEntry& o) const {
  return range == o.range && read == o.read && write == o.write &&
         untranslated_only == o.untranslated_only && non_snooped == o.non_snooped &&
         global == o.global && priv == o.priv && exe == o.exe;
}

std::vector<uint64_t> encode_completion(const std::vector<AtsCompletionEntry>& entries) {
  std::vector<uint64_t> raw;
  raw.reserve(entries.size());
  for (const auto& e : entries) raw.push_back(e.encode());
  return raw;
}

std::vector<AtsCompletionEntry> decode_completion(const std::vector<uint64_t>& raw) {
  std::vector<AtsCompletionEntry> entries;
  entries.reserve(raw.size());
  for (uint64_t r : raw) entries.push_back(AtsCompletionEntry::decode(r));
  return entries;
}

// ----------------------------------------------------------- Invalidate Request

void InvalidateRequest::validate() const {
  check_itag(itag);
  pasid.validate();
  range.validate();
}

uint64_t InvalidateRequest::encode_payload() const {
  validate();
  const SBitAddress a = encode_s_range(range);
  return a.address | bit(kBitS, a.s) | bit(kBitGlobalInvalidate, global_invalidate);
}

InvalidateRequest InvalidateRequest::decode_payload(uint64_t payload) {
  InvalidateRequest r;
  r.range = decode_s_range(payload & ~kPageOffsetMask, test(payload, kBitS));
  r.global_invalidate = test(payload, kBitGlobalInvalidate);
  return r;
}

bool InvalidateRequest::operator==(const InvalidateRequest& o) const {
  return destination_id == o.destination_id && itag == o.itag && pasid == o.pasid &&
         range == o.range && global_invalidate == o.global_invalidate;
}

// -------------------------------------------------------- Invalidate Completion

void InvalidateCompletion::validate() const {
  if (completion_count < 1 || completion_count > kInvCompletionCountMax) {
    fail("Completion Count " + std::to_string(completion_count) + " out of range 1..8");
  }
}

uint64_t InvalidateCompletion::encode_header() const {
  validate();
  const uint64_t cc = completion_count & 0x7;  // 8 is sent as 0
  return (uint64_t{destination_id} << kInvCplDeviceIdShift) | (cc << kInvCplCountShift) |
         itag_vector;
}

InvalidateCompletion InvalidateCompletion::decode_header(uint64_t raw) {
  InvalidateCompletion c;
  c.destination_id = static_cast<uint16_t>(raw >> kInvCplDeviceIdShift);
  const unsigned cc = (raw >> kInvCplCountShift) & 0x7;
  c.completion_count = cc == 0 ? kInvCompletionCountMax : cc;
  c.itag_vector = static_cast<uint32_t>(raw);
  return c;
}

bool InvalidateCompletion::operator==(const InvalidateCompletion& o) const {
  return requester_id == o.requester_id && destination_id == o.destination_id &&
         itag_vector == o.itag_vector && completion_count == o.completion_count;
}

// ----------------------------------------------------------------- Page Request

void PageRequest::validate() const {
  check_page_aligned(page_address, "page address");
  check_prg_index(prg_index);
  pasid.validate();
  if (last && !read && !write) fail("a Page Request with L=1, R=0, W=0 is a Stop Marker");
}

uint64_t PageRequest::encode_header() const {
  validate();
  return page_address | (uint64_t{prg_index} << kPrgIndexShift) | bit(kBitLast, last) |
         bit(kBitW, write) | bit(kBitR, read);
}

PageRequest PageRequest::decode_header(uint64_t raw) {
  PageRequest p;
  p.page_address = raw & ~kPageOffsetMask;
  p.prg_index = static_cast<uint16_t>((raw >> kPrgIndexShift) & kPrgIndexMax);
  p.last = test(raw, kBitLast);
  p.write = test(raw, kBitW);
  p.read = test(raw, kBitR);
  return p;
}

bool PageRequest::is_stop_marker(uint64_t raw) {
  return test(raw, kBitLast) && !test(raw, kBitW) && !test(raw, kBitR);
}

bool PageRequest::operator==(const PageRequest& o) const {
  return page_address == o.page_address && read == o.read && write == o.write && last == o.last &&
         prg_index == o.prg_index && pasid == o.pasid;
}

// ------------------------------------------------------------------ Stop Marker

void StopMarker::validate() const {
  check_prg_index(prg_index);
  if (!pasid.present) fail("a Stop Marker needs a PASID prefix");
  pasid.validate();
}

uint64_t StopMarker::encode_header() const {
  validate();
  return (uint64_t{prg_index} << kPrgIndexShift) | bit(kBitLast, true);
}

StopMarker StopMarker::decode_header(uint64_t raw) {
  if (!PageRequest::is_stop_marker(raw)) {
    fail("page request " + hex(raw) + " is not a Stop Marker (needs L=1, R=0, W=0)");
  }
  StopMarker m;
  m.prg_index = static_cast<uint16_t>((raw >> kPrgIndexShift) & kPrgIndexMax);
  return m;
}

bool StopMarker::operator==(const StopMarker& o) const {
  return prg_index == o.prg_index && pasid == o.pasid;
}

// ------------------------------------------------------------------ PRG Response

const char* to_string(PrgResponseCode code) {
  switch (code) {
    case PrgResponseCode::kSuccess:
      return "Success";
    case PrgResponseCode::kInvalidRequest:
      return "Invalid Request";
    case PrgResponseCode::kResponseFailure:
      return "Response Failure";
  }
  return "reserved";
}

void PrgResponse::validate() const {
  check_prg_index(prg_index);
  pasid.validate();
  switch (code) {
    case PrgResponseCode::kSuccess:
    case PrgResponseCode::kInvalidRequest:
    case PrgResponseCode::kResponseFailure:
      return;
  }
  fail("PRG Response Code " + std::to_string(static_cast<unsigned>(code)) + " is reserved");
}

uint32_t PrgResponse::encode_header() const {
  validate();
  return (uint32_t{destination_id} << kPrgRspDestShift) |
         (static_cast<uint32_t>(code) << kPrgRspCodeShift) | prg_index;
}

PrgResponse PrgResponse::decode_header(uint32_t raw) {
  PrgResponse r;
  r.destination_id = static_cast<uint16_t>(raw >> kPrgRspDestShift);
  r.prg_index = static_cast<uint16_t>(raw & kPrgIndexMax);
  r.code = static_cast<PrgResponseCode>((raw >> kPrgRspCodeShift) & 0xf);
  r.validate();  // rejects reserved response codes
  return r;
}

bool PrgResponse::operator==(const PrgResponse& o) const {
  return destination_id == o.destination_id && prg_index == o.prg_index && code == o.code &&
         pasid == o.pasid;
}

}  // namespace iosim
