// The SMMUv3 software-visible formats (iommu/smmuv3/): raw encodings against the bit
// positions of Arm IHI 0070 and Linux's arm-smmu-v3.h, round trips, the errors decode()
// raises, the range TLBI and ATC_INV helpers, and the queue pointer arithmetic.
#include "iommu/smmuv3/sw_interface.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace iosim::smmuv3 {
namespace {

constexpr uint64_t kPage = 0x1000;

template <typename T>
T round_trip(const T& v) {
  return T::decode(v.encode());
}

CmdqError cerror_of(const CmdWords& w) {
  try {
    decode_command(w);
  } catch (const CommandError& e) {
    return e.cerror();
  }
  return CmdqError::kNone;
}

template <typename T, typename Words>
EventType config_error_of(const Words& w) {
  try {
    T::decode(w);
  } catch (const ConfigError& e) {
    return e.event();
  }
  return EventType::kFUut;  // no error
}

TEST(Smmuv3Formats, SteKnownEncodingAndRoundTrip) {
  Ste s;
  s.config = SteConfig::kS1Translate;
  s.s1_context_ptr = 0x12340;
  // V (bit 0) | Config 0b101 (bits 3:1) | S1ContextPtr 0x12340.
  EXPECT_EQ(s.encode()[0], 0x1234bull);
  EXPECT_EQ(s.encode()[1], 0u);

  s.s1fmt = S1Fmt::kTwoLevel64K;
  s.s1_cdmax = 4;
  s.s1dss = S1Dss::kSubstream0;
  s.s1stalld = true;
  s.eats = Eats::kTranslate;
  const SteWords w = s.encode();
  // + S1Fmt 2 at 5:4, S1CDMax 4 at 63:59.
  EXPECT_EQ(w[0], 0x2000'0000'0001'236bull);
  // S1DSS 2 at 1:0, S1STALLD bit 27, EATS 1 at 29:28.
  EXPECT_EQ(w[1], 0x1800'0002ull);
  for (size_t i = 2; i < w.size(); ++i) EXPECT_EQ(w[i], 0u) << "word " << i;
  EXPECT_EQ(Ste::decode(w), s);

  Ste bypass;
  bypass.config = SteConfig::kBypass;
  bypass.strw = kStrwEl2;
  EXPECT_EQ(bypass.encode()[0], 0x9u);  // V | 0b100 << 1
  EXPECT_EQ(bypass.encode()[1], 2ull << 30);
  EXPECT_EQ(round_trip(bypass), bypass);
}

TEST(Smmuv3Formats, IllFormedSteIsCBadSte) {
  SteWords w{};
  EXPECT_EQ(config_error_of<Ste>(w), EventType::kCBadSte);  // V=0
  w[0] = 1 | (0b001 << 1);                                  // reserved Config
  EXPECT_EQ(config_error_of<Ste>(w), EventType::kCBadSte);
  w[0] = 1 | (0b110 << 1);  // stage 2: S2P=0
  EXPECT_EQ(config_error_of<Ste>(w), EventType::kCBadSte);
  w[0] = 1 | (0b111 << 1);  // nested
  EXPECT_EQ(config_error_of<Ste>(w), EventType::kCBadSte);

  // S1Fmt=3 is reserved only with a CD table (S1CDMax > 0).
  w[0] = 1 | (0b101 << 1) | (3 << 4);
  EXPECT_EQ(config_error_of<Ste>(w), EventType::kFUut);
  w[0] |= 2ull << 59;
  EXPECT_EQ(config_error_of<Ste>(w), EventType::kCBadSte);
  w[0] = 1 | (0b101 << 1) | (2ull << 59);
  w[1] = 3;  // S1DSS=3
  EXPECT_EQ(config_error_of<Ste>(w), EventType::kCBadSte);
  w[1] = 3ull << 28;  // EATS=3
  EXPECT_EQ(config_error_of<Ste>(w), EventType::kCBadSte);
  w[1] = 1ull << 28;  // EATS=1: fine
  EXPECT_EQ(Ste::decode(w).eats, Eats::kTranslate);
}

TEST(Smmuv3Formats, LevelOneDescriptors) {
  L1Std l1{9, 0x80000};  // Linux: Span = STRTAB_SPLIT + 1 with SPLIT 8
  EXPECT_EQ(l1.encode(), 0x80009u);
  EXPECT_EQ(l1.ste_count(), 256u);
  EXPECT_EQ(round_trip(l1), l1);
  EXPECT_FALSE(L1Std::decode(0x80000).valid());
  EXPECT_EQ(L1Std::decode(0x80000).ste_count(), 0u);
  EXPECT_THROW(L1Std({9, 0x80020}).encode(), DescriptorError);  // not 64-byte aligned

  L1Cd cd{true, 0x5000};
  EXPECT_EQ(cd.encode(), 0x5001u);
  EXPECT_EQ(round_trip(cd), cd);
  EXPECT_EQ(L1Cd::decode(0x5000 | 0xff0).l2ptr, 0x5000u);  // bits 11:1 are not L2Ptr
  EXPECT_THROW(L1Cd({true, 0x5800}).encode(), DescriptorError);
}

TEST(Smmuv3Formats, CdKnownEncodingAndRoundTrip) {
  Cd c;
  c.asid = 0x1234;
  c.ttb0 = 0x7654'3000;
  c.mair = 0x0000'0000'0004'ff44ull;
  const CdWords w = c.encode();
  // T0SZ 16, EPD1 (30), V (31), IPS 5 (34:32), AA64 (41), R (45), A (46), ASID (63:48).
  EXPECT_EQ(w[0], 0x1234'6205'c000'0010ull);
  EXPECT_EQ(w[1], 0x7654'3000ull);
  EXPECT_EQ(w[2], 0u);
  EXPECT_EQ(w[3], c.mair);
  EXPECT_EQ(Cd::decode(w), c);

  Cd d = c;
  d.epd0 = d.hd = d.ha = d.affd = d.aset = d.stall = true;
  d.record = d.abort = false;
  d.ips = 2;
  const CdWords dw = d.encode();
  EXPECT_EQ(
      dw[0] &
          ((1ull << 14) | (1ull << 35) | (1ull << 42) | (1ull << 43) | (1ull << 44) | (1ull << 47)),
      (1ull << 14) | (1ull << 35) | (1ull << 42) | (1ull << 43) | (1ull << 44) | (1ull << 47));
  EXPECT_EQ(dw[0] & ((1ull << 45) | (1ull << 46)), 0u);
  EXPECT_EQ(Cd::decode(dw), d);
  EXPECT_THROW(Cd({true, 16, 0, false, true, false, 5, false, false, false, false, true, true,
                   false, 1, 0x7654'3008, 0})
                   .encode(),
               DescriptorError);  // TTB0 not 16-byte aligned
}

TEST(Smmuv3Formats, IllegalCdIsCBadCd) {
  const CdWords good = Cd{}.encode();
  EXPECT_EQ(config_error_of<Cd>(good), EventType::kFUut);
  CdWords w = good;
  w[0] &= ~(1ull << 31);  // V=0
  EXPECT_EQ(config_error_of<Cd>(w), EventType::kCBadCd);
  w = good;
  w[0] = (w[0] & ~0x3full) | 25;  // T0SZ=25: a 39-bit, 3-level walk
  EXPECT_EQ(config_error_of<Cd>(w), EventType::kCBadCd);
  w = good;
  w[0] |= 1ull << 6;  // TG0=64K
  EXPECT_EQ(config_error_of<Cd>(w), EventType::kCBadCd);
  w = good;
  w[0] &= ~(1ull << 41);  // AA64=0
  EXPECT_EQ(config_error_of<Cd>(w), EventType::kCBadCd);
  w = good;
  w[0] |= 1ull << 15;  // ENDI=1
  EXPECT_EQ(config_error_of<Cd>(w), EventType::kCBadCd);
}

TEST(Smmuv3Formats, CommandKnownEncodings) {
  Sync sync{SyncCs::kIrq, 3, 0xf, 0xdeadbeef, 0x8000'0040};
  EXPECT_EQ(sync.encode()[0], 0xdead'beef'0fc0'1046ull);
  EXPECT_EQ(sync.encode()[1], 0x8000'0040ull);

  TlbiNhVa va{0x1234, 0, {0x40000, true, 3, kTlbiTg4K, 7, 2}};
  EXPECT_EQ(va.encode()[0], 0x1234'0000'0020'7012ull);
  EXPECT_EQ(va.encode()[1], 0x40701ull);

  AtcInv atc{0x100, 5, true, false, 0x10000, 4};
  EXPECT_EQ(atc.encode()[0], 0x100'0000'5840ull);
  EXPECT_EQ(atc.encode()[1], 0x10004ull);
  EXPECT_EQ(AtcInv({0x100, 0, false, true, 0, 0}).encode()[0], 0x100'0000'0240ull);

  PriResp pri{0x208, 0, false, 0x1ff, PriResponse::kSuccess};
  EXPECT_EQ(pri.encode()[0], 0x208'0000'0041ull);
  EXPECT_EQ(pri.encode()[1], 0x21ffull);

  // CMD_CFGI_ALL = CMD_CFGI_STE_RANGE (0x04) with Range 31.
  EXPECT_EQ(CfgiSteRange::all().encode(), (CmdWords{0x04, 31}));
  EXPECT_EQ(CfgiCd({3, 7, true}).encode(), (CmdWords{0x3'0000'7005ull, 1}));
  EXPECT_EQ(CfgiSte({0xabcd, true}).encode(), (CmdWords{0xabcd'0000'0003ull, 1}));
  EXPECT_EQ(CfgiCdAll({9}).encode(), (CmdWords{0x9'0000'0006ull, 0}));
  EXPECT_EQ(TlbiNhAsid({0x55, 0}).encode(), (CmdWords{0x0055'0000'0000'0011ull, 0}));
  EXPECT_EQ(TlbiNhAll({}).encode(), (CmdWords{0x10, 0}));
  EXPECT_EQ(TlbiNsnhAll({}).encode(), (CmdWords{0x30, 0}));
  EXPECT_EQ(Resume({7, 0x99, ResumeAction::kRetry}).encode(), (CmdWords{0x7'0000'1044ull, 0x99}));
  EXPECT_EQ(opcode_of(Command{sync}), Opcode::kSync);
}

TEST(Smmuv3Formats, EveryCommandRoundTripsThroughDecodeCommand) {
  const std::vector<Command> cmds = {
      PrefetchConfig{0x10, true, 0xfffff},
      PrefetchAddr{0x11, false, 0, 3, 0xffff'f000},
      CfgiSte{0xffff'ffff, true},
      CfgiSteRange{0x1234, 7},
      CfgiCd{0x22, 0x12345, false},
      CfgiCdAll{0x33},
      TlbiNhAll{0x44},
      TlbiNhAsid{0xffff, 0x3},
      TlbiNhVa{0xbeef, 0, {0xffff'ffff'ffff'f000ull, false, 0, kTlbiTg4K, 31, 31}},
      TlbiNhVaa{0, {0x7000, true, 0, kTlbiTgNone, 0, 0}},
      TlbiNsnhAll{},
      AtcInv{0x77, 0x8, true, true, 0x40'0000, 10},
      PriResp{0x88, 0x9, true, 0x101, PriResponse::kFail},
      Resume{0x99, 0xabcd, ResumeAction::kAbort},
      Sync{SyncCs::kSev, 2, 1, 0x1234'5678, 0xffff'ffff'fffcull},
  };
  for (const Command& c : cmds) {
    const CmdWords w = encode_command(c);
    EXPECT_EQ(w[0] & 0xff, static_cast<uint64_t>(opcode_of(c)));
    EXPECT_EQ(decode_command(w), c) << to_string(opcode_of(c));
  }
  const CfgiSteRange r{0x1234, 7};  // 2^8 StreamIDs holding 0x1234
  EXPECT_EQ(r.first_sid(), 0x1200u);
  EXPECT_EQ(r.last_sid(), 0x12ffu);
  EXPECT_TRUE(CfgiSteRange::all().is_all());
  EXPECT_EQ(CfgiSteRange::all().first_sid(), 0u);
  EXPECT_EQ(CfgiSteRange::all().last_sid(), 0xffff'ffffu);
}

TEST(Smmuv3Formats, IllegalCommandsCarryCerrorIll) {
  EXPECT_EQ(cerror_of({0x00, 0}), CmdqError::kIll);
  EXPECT_EQ(cerror_of({0x07, 0}), CmdqError::kIll);  // unallocated
  EXPECT_EQ(cerror_of({0x20, 0}), CmdqError::kIll);  // TLBI_EL2_ALL: no HYP
  EXPECT_EQ(cerror_of({0x28, 0}), CmdqError::kIll);  // TLBI_S12_VMALL: no S2P
  EXPECT_EQ(cerror_of({0x45, 0}), CmdqError::kIll);  // STALL_TERM: no stall model
  EXPECT_EQ(cerror_of({0xff, 0}), CmdqError::kIll);
  EXPECT_EQ(cerror_of({0x46 | (3u << 12), 0}), CmdqError::kIll);  // SYNC CS=3
  EXPECT_EQ(cerror_of({0x41, 3u << 12}), CmdqError::kIll);        // PRI_RESP Resp=3
  EXPECT_EQ(cerror_of({0x44 | (3u << 12), 0}), CmdqError::kIll);  // RESUME Action=3
  // TLBI_NH_VA with TG=4K and TTL=NUM=SCALE=0 is reserved; TTL=3 or TG=0 is not.
  EXPECT_EQ(cerror_of({0x12, 0x5000 | (1u << 10)}), CmdqError::kIll);
  EXPECT_EQ(cerror_of({0x13, 0x5000 | (1u << 10)}), CmdqError::kIll);
  EXPECT_EQ(cerror_of({0x12, 0x5000 | (1u << 10) | (3u << 8)}), CmdqError::kNone);
  EXPECT_EQ(cerror_of({0x12, 0x5000}), CmdqError::kNone);
  try {
    decode_command({0x20, 0});
    FAIL() << "no CommandError";
  } catch (const DescriptorError& e) {
    EXPECT_NE(std::string(e.what()).find("0x20"), std::string::npos);
  }
  // A value that does not fit is an encoding error, not a truncation.
  EXPECT_THROW(CfgiCd({1, 1u << 20, false}).encode(), DescriptorError);
  EXPECT_THROW(PriResp({1, 0, false, 512, PriResponse::kDeny}).encode(), DescriptorError);
  EXPECT_THROW(Sync({SyncCs::kIrq, 0, 0, 0, 0x1002}).encode(), DescriptorError);
  EXPECT_THROW(AtcInv({1, 0, false, false, 0x1800, 0}).encode(), DescriptorError);
}

// The commands for [start, start + pages pages) as (NUM, SCALE) pairs.
std::vector<std::pair<int, int>> num_scale(const std::vector<TlbiNhVa>& cmds) {
  std::vector<std::pair<int, int>> out;
  for (const TlbiNhVa& c : cmds) out.emplace_back(c.va.num, c.va.scale);
  return out;
}
using NS = std::vector<std::pair<int, int>>;

// Checks that the commands cover [start, start + covered_pages pages) with no gap or
// overlap, each one legal and surviving encode/decode.
void expect_exact_cover(const std::vector<TlbiNhVa>& cmds, uint64_t start, uint64_t covered_pages) {
  uint64_t next = start;
  for (const TlbiNhVa& c : cmds) {
    const TlbiNhVa back = TlbiNhVa::decode(c.encode());  // throws if reserved
    ASSERT_EQ(back, c);
    const AddrRange r = covered_range(back);
    ASSERT_EQ(r.first, next);
    next = r.last + 1;
  }
  EXPECT_EQ(next, start + covered_pages * kPage);
}

TEST(Smmuv3Formats, RangeTlbiMatchesLinuxNumScale) {
  const uint64_t base = 0x4000'0000;
  struct Case {
    uint64_t start, pages;
    NS expect;
  };
  const std::vector<Case> cases = {
      {base, 1, {{0, 0}}},
      {base, 16, {{0, 4}}},
      {base, 512, {{0, 9}}},
      {base, 2048, {{0, 11}}},
      {0x5000, 3, {{2, 0}}},  // [0x5000, 0x8000): NUM+1 = 3 pages
      {base, 0x10000, {{0, 16}}},
      {base, 33, {{0, 0}, {0, 5}}},     // 1 page, then 32
      {base, 1000, {{28, 3}, {2, 8}}},  // 29 * 8 = 232, then 3 * 256 = 768
      {base, 0x10021, {{0, 0}, {0, 5}, {0, 16}}},
  };
  for (const Case& c : cases) {
    const auto cmds = tlbi_range_commands(0x42, c.start, c.start + c.pages * kPage, true, true);
    EXPECT_EQ(num_scale(cmds), c.expect) << c.pages << " pages";
    for (const TlbiNhVa& cmd : cmds) {
      EXPECT_EQ(cmd.asid, 0x42);
      EXPECT_EQ(cmd.va.tg, kTlbiTg4K);
      EXPECT_EQ(cmd.va.ttl, 3);  // 4 KiB leaves: level 3
      EXPECT_TRUE(cmd.va.leaf);
    }
    expect_exact_cover(cmds, c.start, c.pages);
  }
  // The first command of the 1000-page range covers 232 pages from its start.
  const auto cmds = tlbi_range_commands(1, base, base + 1000 * kPage, true, true);
  EXPECT_EQ(covered_range(cmds[0]), (AddrRange{base, base + 232 * kPage - 1}));
  EXPECT_EQ(cmds[1].va.addr, base + 232 * kPage);
}

TEST(Smmuv3Formats, RangeTlbiWithoutLeafLevelWidensLikeLinux) {
  const uint64_t base = 0x10'0000;
  // TTL=0: a count whose low 5 bits are 1 gets one more page (no NUM=SCALE=TTL=0).
  auto cmds = tlbi_range_commands(7, base, base + kPage, true);
  EXPECT_EQ(num_scale(cmds), (NS{{0, 1}}));
  EXPECT_EQ(cmds[0].va.ttl, 0);
  EXPECT_FALSE(cmds[0].va.leaf);
  expect_exact_cover(cmds, base, 2);
  cmds = tlbi_range_commands(7, base, base + 33 * kPage, true);
  EXPECT_EQ(num_scale(cmds), (NS{{16, 1}}));  // 34 pages = 17 * 2
  expect_exact_cover(cmds, base, 34);
  cmds = tlbi_range_commands(7, base, base + 16 * kPage, true);
  EXPECT_EQ(num_scale(cmds), (NS{{0, 4}}));
  expect_exact_cover(cmds, base, 16);
}

TEST(Smmuv3Formats, RangeTlbiCoversEveryCountExactly) {
  const uint64_t base = 0x7f00'0000'0000ull;
  for (uint64_t pages = 1; pages <= 2100; ++pages) {
    SCOPED_TRACE(pages);
    const uint64_t end = base + pages * kPage;
    const auto leaf = tlbi_range_commands(3, base, end, true, true);
    expect_exact_cover(leaf, base, pages);
    EXPECT_LE(leaf.size(), 3u);  // 5 bits of the count per command
    const auto nonleaf = tlbi_range_commands(3, base, end, true, false);
    expect_exact_cover(nonleaf, base, (pages & 31) == 1 ? pages + 1 : pages);
  }
}

TEST(Smmuv3Formats, NonRangeTlbiIsOneCommandPerPage) {
  // Unaligned bounds: every page they touch, [0x5000, 0x9000).
  const auto cmds = tlbi_range_commands(9, 0x5800, 0x8001, false);
  ASSERT_EQ(cmds.size(), 4u);
  for (size_t i = 0; i < cmds.size(); ++i) {
    EXPECT_EQ(cmds[i].va.addr, 0x5000 + i * kPage);
    EXPECT_EQ(cmds[i].va.tg, kTlbiTgNone);
    EXPECT_EQ(cmds[i].va.num, 0);
    EXPECT_EQ(cmds[i].va.scale, 0);
    EXPECT_EQ(cmds[i].va.ttl, 0);
    EXPECT_EQ(covered_range(cmds[i]),
              (AddrRange{0x5000 + i * kPage, 0x5000 + (i + 1) * kPage - 1}));
  }
  EXPECT_TRUE(tlbi_range_commands(9, 0x5000, 0x5000, false).empty());
  EXPECT_TRUE(tlbi_range_commands(9, 0x5000, 0x5000, true).empty());
}

TEST(Smmuv3Formats, CoveredRangeOfLargeAndOtherGranules) {
  // SCALE 31, NUM 31: 2^36 pages of 4 KiB = 2^48 bytes.
  const TlbiVaRange big{0, false, 0, kTlbiTg4K, 31, 31};
  EXPECT_EQ(covered_range(big), (AddrRange{0, (1ull << 48) - 1}));
  // TG=64K: granule 2^16, address aligned down to it.
  const TlbiVaRange k64{0x3'1000, true, 3, kTlbiTg64K, 1, 1};
  EXPECT_EQ(covered_range(k64), (AddrRange{0x3'0000, 0x3'0000 + 4 * 0x1'0000 - 1}));
  // Near the top, the range saturates rather than wrapping.
  const TlbiVaRange top{0xffff'ffff'ffff'0000ull, true, 3, kTlbiTg4K, 31, 4};
  EXPECT_EQ(covered_range(top).last, ~0ull);
}

TEST(Smmuv3Formats, AtcInvSpanMatchesLinux) {
  EXPECT_EQ(atc_inv_span(0x1000, 0x2000), (AtcSpan{0x1000, 0}));
  EXPECT_EQ(atc_inv_span(0x3000, 0x5000), (AtcSpan{0x0, 3}));     // pages 3, 4 -> [0, 8)
  EXPECT_EQ(atc_inv_span(0x8000, 0xc000), (AtcSpan{0x8000, 2}));  // pages 8..11
  EXPECT_EQ(atc_inv_span(0x7000, 0xb000), (AtcSpan{0x0, 4}));     // pages 7..10 -> [0, 16)
  EXPECT_EQ(atc_inv_span(0x1800, 0x1801), (AtcSpan{0x1000, 0}));
  EXPECT_EQ(atc_inv_span(0, 0), (AtcSpan{0, AtcInv::kSizeAll}));
  const AtcSpan s = atc_inv_span(0x3000, 0x5000);
  const AtcInv cmd{1, 0, false, false, s.addr, s.size};
  EXPECT_EQ(covered_range(cmd), (AddrRange{0, 0x7fff}));
  EXPECT_EQ(covered_range(AtcInv{1, 0, false, false, 0, AtcInv::kSizeAll}), (AddrRange{0, ~0ull}));
  // The chosen span always holds the range and is naturally aligned.
  for (uint64_t first = 0; first < 40; ++first) {
    for (uint64_t last = first; last < 40; ++last) {
      const AtcSpan sp = atc_inv_span(first * kPage, (last + 1) * kPage);
      const AddrRange r = covered_range(AtcInv{0, 0, false, false, sp.addr, sp.size});
      EXPECT_LE(r.first, first * kPage);
      EXPECT_GE(r.last, (last + 1) * kPage - 1);
      EXPECT_EQ(sp.addr % (kPage << sp.size), 0u);
    }
  }
}

TEST(Smmuv3Formats, EventRecordKnownEncodingAndRoundTrip) {
  EventRecord e;
  e.type = EventType::kFTranslation;
  e.sid = 0x42;
  e.ssv = true;
  e.ssid = 9;
  e.rnw = true;
  e.pnu = true;
  e.cls = EventClass::kIn;
  e.input_addr = 0xdead'b000;
  const EventWords w = e.encode();
  EXPECT_EQ(w[0], 0x42'0000'9810ull);
  EXPECT_EQ(w[1], 0x20a'0000'0000ull);  // PnU 33, RnW 35, CLASS 2 at 41:40
  EXPECT_EQ(w[2], 0xdead'b000ull);
  EXPECT_EQ(w[3], 0u);
  EXPECT_EQ(EventRecord::decode(w), e);

  EventRecord f;
  f.type = EventType::kFWalkEabt;
  f.sid = 0xffff'ffff;
  f.stall = f.ind = f.s2 = true;
  f.stag = 0xbeef;
  f.cls = EventClass::kTt;
  f.input_addr = ~0ull;
  f.addr2 = 0x000f'ffff'ffff'fff8ull;
  EXPECT_EQ(f.encode()[1], 0xbeefull | (1ull << 31) | (1ull << 34) | (1ull << 39) | (1ull << 40));
  EXPECT_EQ(round_trip(f), f);

  EXPECT_EQ(static_cast<int>(EventType::kCBadStreamid), 0x02);
  EXPECT_EQ(static_cast<int>(EventType::kCBadSte), 0x04);
  EXPECT_EQ(static_cast<int>(EventType::kCBadSubstreamid), 0x08);
  EXPECT_EQ(static_cast<int>(EventType::kCBadCd), 0x0a);
  EXPECT_EQ(static_cast<int>(EventType::kFWalkEabt), 0x0b);
  EXPECT_EQ(static_cast<int>(EventType::kFAccess), 0x12);
  EXPECT_EQ(static_cast<int>(EventType::kFPermission), 0x13);
  EXPECT_STREQ(to_string(EventType::kCBadCd), "C_BAD_CD");
}

TEST(Smmuv3Formats, PriqEntryKnownEncodingAndRoundTrip) {
  PriqEntry p;
  p.sid = 0x0108;
  p.ssv = true;
  p.ssid = 0x33;
  p.read = p.write = p.last = true;
  p.prgi = 0x45;
  p.addr = 0x7000'1000;
  const PriqWords w = p.encode();
  EXPECT_EQ(w[0], 0xf000'0033'0000'0108ull);
  EXPECT_EQ(w[1], 0x7000'1045ull);
  EXPECT_EQ(PriqEntry::decode(w), p);

  PriqEntry q;
  q.sid = 0xffff'ffff;
  q.ssid = 0xf'ffff;
  q.pnu = q.exec = true;
  q.prgi = 0x1ff;
  q.addr = 0xffff'ffff'ffff'f000ull;
  EXPECT_EQ(q.encode()[0], 0x0c0f'ffff'ffff'ffffull);  // PnU 58, X 59
  EXPECT_EQ(round_trip(q), q);
  PriqEntry wide;
  wide.ssid = 1u << 20;  // SubstreamIDs are 20 bits
  EXPECT_THROW(wide.encode(), DescriptorError);
}

TEST(Smmuv3Formats, RegisterMapFollowsTheSpecOffsets) {
  EXPECT_EQ(reg::kCr0, 0x20u);
  EXPECT_EQ(reg::kGerrorIrqCfg0, 0x68u);
  EXPECT_EQ(reg::kGerrorIrqCfg2, 0x74u);
  EXPECT_EQ(reg::kStrtabBaseCfg, 0x88u);
  EXPECT_EQ(reg::kCmdqCons, 0x9cu);
  EXPECT_EQ(reg::kEventqIrqCfg1, 0xb8u);
  EXPECT_EQ(reg::kPriqIrqCfg2, 0xdcu);
  EXPECT_EQ(reg::kEventqProd, 0x100a8u);
  EXPECT_EQ(reg::kEventqCons, 0x100acu);
  EXPECT_EQ(reg::kPriqProd, 0x100c8u);
  EXPECT_EQ(reg::kPriqCons, 0x100ccu);
  EXPECT_EQ(reg::kCmdqConsErr.put(static_cast<uint64_t>(CmdqError::kAtcInvSync)), 0x0300'0000u);
  EXPECT_EQ(reg::kStrtabCfgFmt.put(reg::kStrtabFmt2Level) | reg::kStrtabCfgSplit.put(8) |
                reg::kStrtabCfgLog2Size.put(16),
            0x1'0210u);
  EXPECT_EQ(reg::kIdr1CmdqS.put(19) | reg::kIdr1EventqS.put(19) | reg::kIdr1SidSize.put(16),
            (19u << 21) | (19u << 16) | 16u);
  EXPECT_EQ(reg::kIdr0StLevel.put(reg::kIdr0StLevel2), 1u << 27);
  EXPECT_EQ(reg::gerror_active(reg::kGerrorCmdqErr | reg::kGerrorSfmErr, reg::kGerrorCmdqErr),
            reg::kGerrorSfmErr);
  EXPECT_EQ(reg::kQBaseAddr.mask() | reg::kQBaseLog2Size.mask(), 0x000f'ffff'ffff'ffffull);
}

TEST(Smmuv3Formats, QueuePointersWrapFillAndEmpty) {
  const unsigned log2 = 2;  // 4 entries
  uint32_t prod = 0, cons = 0;
  EXPECT_TRUE(queue_empty(prod, cons, log2));
  EXPECT_FALSE(queue_full(prod, cons, log2));
  for (int i = 0; i < 4; ++i) prod = queue_next(prod, log2);
  EXPECT_EQ(prod, 0b100u);  // index 0, wrap 1
  EXPECT_TRUE(queue_full(prod, cons, log2));
  EXPECT_FALSE(queue_empty(prod, cons, log2));
  EXPECT_EQ(queue_used(prod, cons, log2), 4u);
  cons = queue_next(cons, log2);
  EXPECT_FALSE(queue_full(prod, cons, log2));
  EXPECT_EQ(queue_used(prod, cons, log2), 3u);
  for (int i = 0; i < 3; ++i) cons = queue_next(cons, log2);
  EXPECT_TRUE(queue_empty(prod, cons, log2));
  EXPECT_EQ(queue_next(0b111, log2), 0u);  // index 3, wrap 1 -> index 0, wrap 0
  EXPECT_EQ(queue_index(0b110, log2), 2u);
  EXPECT_TRUE(queue_wrap(0b110, log2));
  // CMDQ_CONS.ERR and the overflow flag ride above the wrap bit, untouched.
  const uint32_t err = reg::kCmdqConsErr.put(1);
  EXPECT_EQ(queue_next(err | 0b011, log2), err | 0b100);
  EXPECT_EQ(queue_next(reg::kQOverflow | 0b111, log2), reg::kQOverflow);
  EXPECT_TRUE(queue_empty(err | 0b101, 0b101, log2));
  EXPECT_EQ(queue_entry_offset(0b110, log2, kCmdBytes), 32u);
  EXPECT_EQ(queue_entry_offset(0b111, log2, kEventBytes), 96u);
}

}  // namespace
}  // namespace iosim::smmuv3
