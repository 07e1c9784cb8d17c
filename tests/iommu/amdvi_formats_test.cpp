// AMD-Vi formats: encode/decode round trips, known bit positions, the S-bit invalidation
// addresses of Linux's build_inv_address, illegal commands.
#include "iommu/amdvi/formats.h"

#include <gtest/gtest.h>

#include "iommu/amdvi/sw_interface.h"

namespace iosim::amdvi {
namespace {

TEST(AmdviFormats, DteRoundTripAndSplitGcr3Root) {
  Dte d;
  d.ppr = true;
  d.gv = true;
  d.glx = 1;
  d.gcr3_root = 0x000f'edcb'a987'6000ull;  // bits 51:12 across the three fields
  d.domain_id = 0x1234;
  d.iotlb = true;
  const DteWords w = d.encode();
  EXPECT_EQ(w[0] & 1, 1u);                    // V
  EXPECT_EQ((w[0] >> 1) & 1, 1u);             // TV
  EXPECT_EQ((w[0] >> 52) & 1, 1u);            // PPR
  EXPECT_EQ((w[0] >> 55) & 1, 1u);            // GV
  EXPECT_EQ((w[0] >> 56) & 3, 1u);            // GLX
  EXPECT_EQ((w[0] >> 58) & 7, 0x6u);          // GCR3[14:12]
  EXPECT_EQ((w[0] >> 61) & 3, 3u);            // IR, IW
  EXPECT_EQ(w[1] & 0xffff, 0x1234u);          // DomainID
  EXPECT_EQ((w[1] >> 16) & 0xffff, 0x530eu);  // GCR3[30:15]
  EXPECT_EQ((w[1] >> 32) & 1, 1u);            // I
  EXPECT_EQ(w[1] >> 43, 0x1fdb97u);           // GCR3[51:31]
  EXPECT_EQ(w[2], 0u);
  EXPECT_EQ(w[3], 0u);
  EXPECT_EQ(Dte::decode(w), d);
  EXPECT_EQ(Dte::decode(w).gcr3_root, d.gcr3_root);
  DteWords bad = w;
  bad[0] |= 1ull << 63;
  EXPECT_THROW(Dte::decode(bad), DescriptorError);
  bad = w;
  bad[0] |= 3ull << 56;  // GLX = 3
  EXPECT_THROW(Dte::decode(bad), DescriptorError);
}

TEST(AmdviFormats, Gcr3EntryAndIndex) {
  const Gcr3Entry e{true, 0x12345000};
  EXPECT_EQ(e.encode(), 0x12345001u);
  EXPECT_EQ(Gcr3Entry::decode(0x12345001u), e);
  EXPECT_EQ(gcr3_index(0x3ff, 0), 0x1ffu);
  EXPECT_EQ(gcr3_index(0x3ff, 1), 1u);
}

TEST(AmdviFormats, CommandRoundTripsAndOpcodes) {
  CompletionWait cw{true, true, false, 0x1000008, 0x1122334455667788ull};
  InvalidateIommuPages ip{0x12345, 0xbeef, true, true, true, 0x7000};
  InvalidateIotlbPages it{0x0100, 0xabcde, 32, 0x0100, true, true, 0, 0x40000000};
  CompletePprRequest pr{0x0200, 7, true, 0x1ab, kPprStatusResponseFailure};
  const Command cmds[] = {cw, InvalidateDevtabEntry{0x0100}, ip, it, InvalidateInterruptTable{5},
                          pr, InvalidateIommuAll{}};
  for (const Command& c : cmds) {
    const CmdWords w = encode_command(c);
    EXPECT_EQ(w[0] >> 60, static_cast<uint64_t>(opcode_of(c)));
    EXPECT_EQ(decode_command(w), c);
  }
  const CmdWords w = cw.encode();
  EXPECT_EQ(w[0], (1ull << 60) | 0x1000008u | 0x3u);
  EXPECT_EQ(w[1], 0x1122334455667788ull);
  const CmdWords p = ip.encode();
  EXPECT_EQ(p[0], (3ull << 60) | (0xbeefull << 32) | 0x12345u);
  EXPECT_EQ(p[1], 0x7000u | 0x7u);  // S, PDE, GN
  // Linux build_inv_iotlb_pages: PASID[15:8] at 23:16, PASID[7:0] at 55:48.
  const CmdWords t = it.encode();
  EXPECT_EQ((t[0] >> 16) & 0xff, 0xbcu);
  EXPECT_EQ((t[0] >> 48) & 0xff, 0xdeu);
  EXPECT_EQ((t[0] >> 56) & 0xf, 0xau);
  EXPECT_EQ((t[0] >> 24) & 0xff, 32u);
  // Linux build_complete_ppr: tag in data[3] 8:0, status in data[3] 15:12.
  const CmdWords c = pr.encode();
  EXPECT_EQ(c[1] >> 32, 0x1abu | (0xfu << 12));
  EXPECT_EQ(c[1] & 0xffffffff, 0x4u);  // GN
}

TEST(AmdviFormats, IllegalCommands) {
  EXPECT_THROW(decode_command({0, 0}), CommandError);                            // opcode 0
  EXPECT_THROW(decode_command({6ull << 60, 0}), CommandError);                   // PREFETCH
  EXPECT_THROW(decode_command({0xfull << 60, 0}), CommandError);                 // reserved opcode
  EXPECT_THROW(decode_command({(2ull << 60) | (1ull << 20), 0}), CommandError);  // reserved
  EXPECT_THROW(decode_command({8ull << 60, 1}), CommandError);
}

// Linux build_inv_address: one page, 16 pages, 2 MiB and the whole space.
TEST(AmdviFormats, InvalidationAddressSBitEncodings) {
  const uint64_t va = uint64_t{1} << 32;
  EXPECT_EQ(inv_address(va + 0x123, 8), (InvAddress{va, false}));
  const InvAddress p16 = inv_address(va, 16 * 4096);
  EXPECT_EQ(p16, (InvAddress{va | 0x7000, true}));
  EXPECT_EQ(covered_range(p16.address, p16.s), AtsRange::with_log2(va, 16));
  const InvAddress m2 = inv_address(va, 2u << 20);
  EXPECT_EQ(m2, (InvAddress{va | 0xff000, true}));
  EXPECT_EQ(covered_range(m2.address, m2.s), AtsRange::with_log2(va, 21));
  // An unaligned range widens to the block holding both ends.
  const InvAddress u = inv_address(va + 0x3000, 2 * 4096);
  EXPECT_EQ(covered_range(u.address, u.s), AtsRange::with_log2(va, 15));
  EXPECT_EQ(inv_address(0, ~uint64_t{0}), kInvAllPages);
  EXPECT_EQ(kInvAllPages.address, 0x7ffffffffffff000ull);
  EXPECT_TRUE(covered_range(kInvAllPages.address, true).is_whole_space());
}

TEST(AmdviFormats, EventAndPprEntries) {
  EventEntry e{EventCode::kIoPageFault, 0x0100, 0x12345,
               event_flag::kGn | event_flag::kRw | event_flag::kUs, 0xdead000};
  const EventWords w = e.encode();
  // Linux iommu_print_event: type event[1] 31:28, devid event[0] 15:0, flags event[1] 27:16.
  EXPECT_EQ(w[0] >> 60, 2u);
  EXPECT_EQ(w[0] & 0xffff, 0x0100u);
  EXPECT_EQ((w[0] >> 48) & 0xfff, 0x025u);
  EXPECT_EQ((w[0] >> 16) & 0xf, 0x1u);        // PASID[19:16]
  EXPECT_EQ((w[0] >> 32) & 0xffff, 0x2345u);  // PASID[15:0]
  EXPECT_EQ(w[1], 0xdead000u);
  EXPECT_EQ(EventEntry::decode(w), e);
  PprLogEntry p;
  p.device_id = 0x0200;
  p.pasid = 0x54321;
  p.prgi = 0x1ff;
  p.last = true;
  p.flags = ppr_flag::kGn | ppr_flag::kWrite | ppr_flag::kUser;
  p.address = 0x7000'0000'1000ull;
  const PprWords q = p.encode();
  // Linux PPR_REQ_TYPE 63:60, PPR_FLAGS 59:48, PPR_DEVID 15:0, PPR_TAG 41:32, PPR_PASID.
  EXPECT_EQ(q[0] >> 60, 1u);
  EXPECT_EQ((q[0] >> 48) & 0xfff, 0x160u);
  EXPECT_EQ((q[0] >> 32) & 0x3ff, 0x3ffu);
  EXPECT_EQ(((((q[0] >> 42) & 0xf) << 16) | ((q[0] >> 16) & 0xffff)), 0x54321u);
  EXPECT_EQ(PprLogEntry::decode(q), p);
}

TEST(AmdviFormats, RingArithmetic) {
  EXPECT_EQ(ring_bytes(9), 8192u);
  EXPECT_EQ(ring_bytes(3), 4096u);  // below the minimum Len
  EXPECT_TRUE(ring_full(0x20, 0x10, 4096));
  EXPECT_FALSE(ring_full(0x20, 0x20, 4096));
  EXPECT_EQ(ring_used(4080, 16, 4096), 2u);
}

}  // namespace
}  // namespace iosim::amdvi
