#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/pcie/ats_encoding.h"

#include <gtest/gtest.h>

#include <memory>

namespace iosim {
namespace {

constexpr uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

// ------------------------------------------------------------ S-bit encoding

TEST(SBitEncoding, FourKiBIsSZeroWithTheAddressUnchanged) {
  EXPECT_EQ(encode_s_range(0x12345000, 4 * KiB), (SBitAddress{0x12345000, false}));
  EXPECT_EQ(decode_s_range(0x12345000, false), AtsRange::of_size(0x12345000, 4 * KiB));
}

TEST(SBitEncoding, SizeIsTheLowestZeroBitAtOrAboveBit12) {
  // 8 KiB: bit 12 = 0. 16 KiB: bit 12 = 1, bit 13 = 0. 2 MiB: bits 19:12 = 1, bit 20 = 0.
  EXPECT_EQ(encode_s_range(0x2000, 8 * KiB), (SBitAddress{0x2000, true}));
  EXPECT_EQ(encode_s_range(0x4000, 16 * KiB), (SBitAddress{0x5000, true}));
  EXPECT_EQ(encode_s_range(0x200000, 2 * MiB), (SBitAddress{0x2ff000, true}));
  EXPECT_EQ(encode_s_range(0x40000000, 1 * GiB), (SBitAddress{0x5ffff000, true}));
  EXPECT_EQ(decode_s_range(0x5000, true), AtsRange::of_size(0x4000, 16 * KiB));
  EXPECT_EQ(decode_s_range(0x2ff000, true), AtsRange::of_size(0x200000, 2 * MiB));
}

TEST(SBitEncoding, EveryPowerOfTwoSizeRoundTrips) {
  for (unsigned log2 = 12; log2 < 64; ++log2) {
    const uint64_t size = uint64_t{1} << log2;
    // Put the block at an aligned address with high bits set (when there is room).
    const uint64_t base = log2 < 63 ? (uint64_t{0x5a5} << 52) & ~(size - 1) : 0;
    const AtsRange r = AtsRange::of_size(base, size);
    const SBitAddress a = encode_s_range(r);
    EXPECT_EQ(a.s, log2 > 12) << "log2 " << log2;
    EXPECT_EQ(a.address & 0xfff, 0u);
    EXPECT_EQ(decode_s_range(a.address, a.s), r) << "log2 " << log2;
  }
}

TEST(SBitEncoding, WholeAddressSpace) {
  const SBitAddress a = encode_s_range(AtsRange::whole_space());
  EXPECT_EQ(a, (SBitAddress{0x7fff'ffff'ffff'f000ull, true}));
  EXPECT_TRUE(decode_s_range(a.address, true).is_whole_space());
  // All address bits set (no zero bit at all) is read as the whole space too.
  EXPECT_TRUE(decode_s_range(0xffff'ffff'ffff'f000ull, true).is_whole_space());
  const AtsRange w = AtsRange::whole_space();
  EXPECT_EQ(w.last(), ~uint64_t{0});
  EXPECT_TRUE(w.contains(0) && w.contains(~uint64_t{0}));
  EXPECT_THROW(w.size_bytes(), PcieEncodingError);
}

TEST(SBitEncoding, RejectsMisalignedAndOddSizes) {
  EXPECT_THROW(encode_s_range(0x1000, 8 * KiB), PcieEncodingError);  // not 8K aligned
  EXPECT_THROW(encode_s_range(0x0, 12 * KiB), PcieEncodingError);    // not a power of two
  EXPECT_THROW(encode_s_range(0x0, 2 * KiB), PcieEncodingError);     // below 4 KiB
  EXPECT_THROW(encode_s_range(0x0, 0), PcieEncodingError);
  EXPECT_THROW(encode_s_range(AtsRange{0x1000, kAtsWholeSpaceLog2}), PcieEncodingError);
  EXPECT_THROW(decode_s_range(0x1234, false), PcieEncodingError);  // bits 11:0 set
  EXPECT_THROW(decode_s_range(0x1800, true), PcieEncodingError);
}

TEST(AtsRange, ContainsAndOverlaps) {
  const AtsRange r = AtsRange::of_size(0x200000, 2 * MiB);
  EXPECT_EQ(r.last(), 0x3fffffu);
  EXPECT_EQ(r.size_bytes(), 2 * MiB);
  EXPECT_TRUE(r.contains(0x200000));
  EXPECT_TRUE(r.contains(0x3fffff));
  EXPECT_FALSE(r.contains(0x400000));
  EXPECT_TRUE(r.overlaps(0x3ff000, 0x401000));
  EXPECT_FALSE(r.overlaps(0x400000, 0x500000));
  EXPECT_FALSE(r.overlaps(0x100000, 0x200000));  // end is exclusive
}

// --------------------------------------------------------------- cover_range

TEST(CoverRange, AlignedUnalignedAndStraddlingRanges) {
  EXPECT_EQ(cover_range(0x1000, 0x2000), AtsRange::of_size(0x1000, 4 * KiB));
  EXPECT_EQ(cover_range(0x1234, 0x1235), AtsRange::of_size(0x1000, 4 * KiB));
  EXPECT_EQ(cover_range(0x1000, 0x3000), AtsRange::of_size(0x0, 16 * KiB));
  EXPECT_EQ(cover_range(0x1f000, 0x21000), AtsRange::of_size(0x0, 256 * KiB));
  EXPECT_EQ(cover_range(0x200000, 0x400000), AtsRange::of_size(0x200000, 2 * MiB));
  EXPECT_EQ(cover_range(0x200000, 0x400001), AtsRange::of_size(0x0, 8 * MiB));
  EXPECT_EQ(cover_range(0x2000, 0x4000), AtsRange::of_size(0x2000, 8 * KiB));
  EXPECT_EQ(cover_range(0x3000, 0x5000), AtsRange::of_size(0x0, 32 * KiB));
  EXPECT_TRUE(cover_range(0x1000, 0x8000'0000'0000'1000ull).is_whole_space());
  EXPECT_TRUE(cover_range(0, ~uint64_t{0}).is_whole_space());
  EXPECT_THROW(cover_range(0x2000, 0x2000), PcieEncodingError);
  EXPECT_THROW(cover_range(0x3000, 0x2000), PcieEncodingError);
}

TEST(CoverRange, ResultAlwaysCoversAndIsMinimal) {
  const uint64_t starts[] = {0x0, 0x1fff, 0x7000, 0x12345678, 0x7fff'ffff'f000ull};
  const uint64_t lengths[] = {1, 0x1000, 0x1001, 0x9000, 0x200000, 0x12345678};
  for (uint64_t s : starts) {
    for (uint64_t len : lengths) {
      const AtsRange r = cover_range(s, s + len);
      EXPECT_TRUE(r.contains(s) && r.contains(s + len - 1));
      if (r.log2_size > 12) {  // the half-size block holding `s` does not cover it
        const AtsRange half{s & ~((uint64_t{1} << (r.log2_size - 1)) - 1), r.log2_size - 1};
        EXPECT_FALSE(half.contains(s + len - 1)) << std::hex << s << "+" << len;
      }
    }
  }
}

// --------------------------------------------------------- Completion entries

TEST(AtsCompletionEntry, FlagBitPositions) {
  AtsCompletionEntry e;
  e.range = AtsRange::of_size(0x12345000, 4 * KiB);
  e.read = true;
  e.write = true;
  EXPECT_EQ(e.encode(), 0x12345003u);
  const struct {
    bool AtsCompletionEntry::*flag;
    uint64_t bit;
  } flags[] = {{&AtsCompletionEntry::untranslated_only, 1u << 2},
               {&AtsCompletionEntry::exe, 1u << 3},
               {&AtsCompletionEntry::priv, 1u << 4},
               {&AtsCompletionEntry::global, 1u << 5},
               {&AtsCompletionEntry::non_snooped, 1u << 10}};
  for (const auto& f : flags) {
    AtsCompletionEntry g = e;
    g.*f.flag = true;
    EXPECT_EQ(g.encode(), 0x12345003u | f.bit);
    EXPECT_EQ(AtsCompletionEntry::decode(g.encode()), g);
  }
}

TEST(AtsCompletionEntry, SizedEntriesRoundTripInAMultiEntryCompletion) {
  std::vector<AtsCompletionEntry> entries(3);
  entries[0].range = AtsRange::of_size(0x8000'0000, 2 * MiB);
  entries[0].read = true;
  entries[1].range = AtsRange::of_size(0x4000'0000, 1 * GiB);
  entries[1].read = entries[1].write = entries[1].exe = entries[1].priv = true;
  entries[2].range = AtsRange::of_size(0x9000, 4 * KiB);  // R=W=0: not accessible
  const std::vector<uint64_t> raw = encode_completion(entries);
  ASSERT_EQ(raw.size(), 3u);
  EXPECT_EQ(raw[0], 0x800ff000u | (1u << 11) | 1u);  // S set, R set
  EXPECT_EQ(decode_completion(raw), entries);
}

// --------------------------------------------------------- Invalidate Request

TEST(InvalidateRequest, PayloadEncodingAndRoundTrip) {
  InvalidateRequest r;
  r.destination_id = 0x0300;
  r.itag = 31;
  r.pasid = PasidPrefix::with(0xfffff);
  r.range = AtsRange::of_size(0x40000000, 2 * MiB);
  r.global_invalidate = true;
  EXPECT_EQ(r.encode_payload(), 0x400ff000u | (1u << 11) | 1u);
  const InvalidateRequest d = InvalidateRequest::decode_payload(r.encode_payload());
  EXPECT_EQ(d.range, r.range);
  EXPECT_TRUE(d.global_invalidate);

  r.range = AtsRange::of_size(0x7000, 4 * KiB);
  r.global_invalidate = false;
  EXPECT_EQ(r.encode_payload(), 0x7000u);
  r.range = AtsRange::whole_space();
  EXPECT_TRUE(InvalidateRequest::decode_payload(r.encode_payload()).range.is_whole_space());
}

TEST(InvalidateRequest, RejectsOutOfRangeFields) {
  InvalidateRequest r;
  r.itag = 32;
  EXPECT_THROW(r.encode_payload(), PcieEncodingError);
  r.itag = 0;
  r.pasid = PasidPrefix{true, 1u << 20, false, false};
  EXPECT_THROW(r.encode_payload(), PcieEncodingError);
  r.pasid = {};
  r.range = AtsRange{0x1000, 13};  // misaligned 8 KiB block
  EXPECT_THROW(r.validate(), PcieEncodingError);
}

// ------------------------------------------------------- Invalidate Completion

TEST(InvalidateCompletion, HeaderEncodingWithCountEightSentAsZero) {
  InvalidateCompletion c;
  c.destination_id = 0x0010;
  c.itag_vector = 0x8000'0005;
  for (unsigned cc = 1; cc <= 8; ++cc) {
    c.completion_count = cc;
    const uint64_t raw = c.encode_header();
    EXPECT_EQ((raw >> 32) & 0x7, cc % 8);
    EXPECT_EQ(raw >> 48, 0x0010u);
    EXPECT_EQ(static_cast<uint32_t>(raw), 0x8000'0005u);
    EXPECT_EQ(InvalidateCompletion::decode_header(raw), c);
  }
  c.completion_count = 0;
  EXPECT_THROW(c.encode_header(), PcieEncodingError);
  c.completion_count = 9;
  EXPECT_THROW(c.encode_header(), PcieEncodingError);
}

// --------------------------------------------------- Page Request, Stop Marker

TEST(PageRequest, HeaderEncodingAndRoundTrip) {
  PageRequest p;
  p.page_address = 0x7f00'0000'1000ull;
  p.read = p.write = p.last = true;
  p.prg_index = 0x1ff;
  EXPECT_EQ(p.encode_header(), 0x7f00'0000'1fffull);
  EXPECT_EQ(PageRequest::decode_header(p.encode_header()), p);
  p.last = false;
  p.write = false;
  p.prg_index = 5;
  EXPECT_EQ(p.encode_header(), 0x7f00'0000'1000ull | (5u << 3) | 1u);
  EXPECT_EQ(PageRequest::decode_header(p.encode_header()), p);
  EXPECT_FALSE(PageRequest::is_stop_marker(p.encode_header()));
}

TEST(PageRequest, RejectsOutOfRangeFields) {
  PageRequest p;
  p.read = true;
  p.prg_index = 512;
  EXPECT_THROW(p.encode_header(), PcieEncodingError);
  p.prg_index = 0;
  p.page_address = 0x1800;
  EXPECT_THROW(p.encode_header(), PcieEncodingError);
  p.page_address = 0x1000;
  p.pasid = PasidPrefix{true, 0x100000, false, false};
  EXPECT_THROW(p.encode_header(), PcieEncodingError);
  p.pasid = {};
  p.read = false;
  p.last = true;  // L=1, R=W=0 is a Stop Marker, not a page request
  EXPECT_THROW(p.encode_header(), PcieEncodingError);
}

TEST(StopMarker, IsAPageRequestWithLastAndNoAccess) {
  StopMarker m;
  m.prg_index = 0x42;
  m.pasid = PasidPrefix::with(77);
  const uint64_t raw = m.encode_header();
  EXPECT_EQ(raw, (0x42u << 3) | (1u << 2));
  EXPECT_TRUE(PageRequest::is_stop_marker(raw));
  EXPECT_EQ(StopMarker::decode_header(raw).prg_index, 0x42u);
  EXPECT_THROW(StopMarker::decode_header(raw | 1), PcieEncodingError);  // R set
  m.pasid = {};
  EXPECT_THROW(m.encode_header(), PcieEncodingError);  // needs a PASID
  m.pasid = PasidPrefix::with(77);
  m.prg_index = 600;
  EXPECT_THROW(m.encode_header(), PcieEncodingError);
}

// ----------------------------------------------------------------- PRG Response

TEST(PrgResponse, ResponseCodesAndRoundTrip) {
  PrgResponse r;
  r.destination_id = 0x0118;
  r.prg_index = 0x1ff;
  const struct {
    PrgResponseCode code;
    uint32_t value;
  } codes[] = {{PrgResponseCode::kSuccess, 0x0},
               {PrgResponseCode::kInvalidRequest, 0x1},
               {PrgResponseCode::kResponseFailure, 0xf}};
  for (const auto& c : codes) {
    r.code = c.code;
    const uint32_t raw = r.encode_header();
    EXPECT_EQ(raw, 0x0118'0000u | (c.value << 12) | 0x1ffu);
    EXPECT_EQ(PrgResponse::decode_header(raw), r);
  }
  EXPECT_STREQ(to_string(PrgResponseCode::kResponseFailure), "Response Failure");
  EXPECT_THROW(PrgResponse::decode_header(0x2000), PcieEncodingError);  // reserved code 0010b
  r.prg_index = 512;
  EXPECT_THROW(r.encode_header(), PcieEncodingError);
}

// ------------------------------------------------------------------ extension

TEST(PasidPrefix, TwentyBitLimit) {
  EXPECT_EQ(PasidPrefix::with(0xfffff, true, true).pasid, 0xfffffu);
  EXPECT_THROW(PasidPrefix::with(0x100000), PcieEncodingError);
  EXPECT_EQ(PasidPrefix{}, (PasidPrefix{false, 5, true, false}));  // absent prefixes compare equal
}

TEST(PcieExtension, KindsFollowBodyAndAddressType) {
  EXPECT_EQ(PcieExtension::memory(1).kind(), PcieKind::kMemory);
  EXPECT_EQ(PcieExtension::memory(1, AddressType::kTranslated).kind(), PcieKind::kMemory);
  const auto tr = PcieExtension::translation_request(1, PasidPrefix::with(9), true);
  EXPECT_EQ(tr.kind(), PcieKind::kTranslationRequest);
  EXPECT_TRUE(tr.no_write);
  EXPECT_EQ(tr.address_type, AddressType::kTranslationRequest);

  PageRequest pr;
  pr.page_address = 0x5000;
  pr.read = true;
  pr.pasid = PasidPrefix::with(9, false, true);
  const auto m = PcieExtension::message(0x0100, pr);
  EXPECT_EQ(m.kind(), PcieKind::kPageRequest);
  EXPECT_EQ(m.pasid, pr.pasid);  // the prefix follows the body
  EXPECT_TRUE(is_message(m.kind()));
  EXPECT_EQ(m.message_payload_bytes(), 0u);

  InvalidateRequest ir;
  ir.range = AtsRange::of_size(0x0, 16 * KiB);
  EXPECT_EQ(PcieExtension::message(0, ir).kind(), PcieKind::kInvalidateRequest);
  EXPECT_EQ(PcieExtension::message(0, ir).message_payload_bytes(), 8u);
  EXPECT_EQ(PcieExtension::message(0, InvalidateCompletion{}).kind(),
            PcieKind::kInvalidateCompletion);
  StopMarker sm;
  sm.pasid = PasidPrefix::with(3);
  EXPECT_EQ(PcieExtension::message(0, sm).kind(), PcieKind::kStopMarker);
  EXPECT_EQ(PcieExtension::message(0, PrgResponse{}).kind(), PcieKind::kPrgResponse);
}

TEST(PcieExtension, ValidationRejectsInconsistentFields) {
  EXPECT_THROW(PcieExtension::memory(1, AddressType::kTranslationRequest), PcieEncodingError);
  EXPECT_THROW(PcieExtension::memory(1, AddressType::kUntranslated, PasidPrefix{true, 1u << 20}),
               PcieEncodingError);
  EXPECT_THROW(PcieExtension::message(1, std::monostate{}), PcieEncodingError);
  InvalidateRequest bad;
  bad.itag = 40;
  EXPECT_THROW(PcieExtension::message(1, bad), PcieEncodingError);

  PcieExtension e = PcieExtension::memory(1);
  e.no_write = true;  // NW only exists on translation requests
  EXPECT_THROW(e.validate(), PcieEncodingError);

  PageRequest pr;
  pr.read = true;
  pr.pasid = PasidPrefix::with(4);
  PcieExtension m = PcieExtension::message(1, pr);
  m.pasid = PasidPrefix::with(5);  // prefix disagrees with the body
  EXPECT_THROW(m.validate(), PcieEncodingError);
  m.pasid = pr.pasid;
  m.address_type = AddressType::kTranslated;
  EXPECT_THROW(m.validate(), PcieEncodingError);
}

TEST(PcieExtension, AddressTypeAndRequesterIdFields) {
  EXPECT_EQ(decode_address_type(0), AddressType::kUntranslated);
  EXPECT_EQ(decode_address_type(1), AddressType::kTranslationRequest);
  EXPECT_EQ(decode_address_type(2), AddressType::kTranslated);
  EXPECT_THROW(decode_address_type(3), PcieEncodingError);
  const RequesterId rid = RequesterId::from_bdf(0x3a, 0x1f, 7);
  EXPECT_EQ(rid.value, 0x3affu);
  EXPECT_EQ(rid.bus(), 0x3au);
  EXPECT_EQ(rid.device(), 0x1fu);
  EXPECT_EQ(rid.function(), 7u);
  EXPECT_THROW(RequesterId::from_bdf(0, 32, 0), PcieEncodingError);
  EXPECT_THROW(RequesterId::from_bdf(0, 0, 8), PcieEncodingError);
}

TEST(PcieExtension, TranslationCompletionPayloadAndCloneViaPayload) {
  auto ext = std::make_unique<PcieExtension>(PcieExtension::translation_request(0x0200));
  ext->completions.resize(2);
  EXPECT_EQ(ext->completion_payload_bytes(), 16u);
  ext->completion_status = AtsCompletionStatus::kUnsupportedRequest;
  EXPECT_EQ(ext->completion_payload_bytes(), 0u);

  tlm::tlm_generic_payload gp;
  EXPECT_EQ(PcieExtension::of(gp), nullptr);
  gp.set_extension(ext.get());
  ASSERT_EQ(PcieExtension::of(gp), ext.get());
  std::unique_ptr<PcieExtension> copy(static_cast<PcieExtension*>(ext->clone()));
  const PcieExtension* c = copy.get();
  EXPECT_EQ(c->requester_id, 0x0200u);
  EXPECT_EQ(c->completions.size(), 2u);
  EXPECT_EQ(c->kind(), PcieKind::kTranslationRequest);
  PcieExtension target;
  target.copy_from(*ext);
  EXPECT_EQ(target.completion_status, AtsCompletionStatus::kUnsupportedRequest);
  gp.clear_extension(ext.get());
}

}  // namespace
}  // namespace iosim
