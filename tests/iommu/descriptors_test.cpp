#include "iommu/vtd/descriptors.h"

#include <gtest/gtest.h>

namespace iosim {
namespace {

TEST(Descriptors, InvalidationDescriptorsRoundTripAndCarryTheirType) {
  PasidIotlbInv p{PasidIotlbInv::kPage, 0x1234, 0xabcde, 0x7fff0000, 4, true};
  EXPECT_EQ(descriptor_type(p.encode()), InvType::kPasidIotlb);
  EXPECT_EQ(PasidIotlbInv::decode(p.encode()), p);
  // Field positions: type 6, granularity 3 at 5:4, DID at 31:16, PASID at 51:32.
  EXPECT_EQ(p.encode().qw0, 6u | (3u << 4) | (0x1234ull << 16) | (0xabcdeull << 32));
  EXPECT_EQ(p.encode().qw1, 0x7fff0000ull | (1u << 6) | 4u);

  IotlbInv i{IotlbInv::kDomain, 7, 0, 0, false};
  EXPECT_EQ(IotlbInv::decode(i.encode()), i);
  EXPECT_EQ(descriptor_type(i.encode()), InvType::kIotlb);

  ContextCacheInv c{ContextCacheInv::kDevice, 3, 0x0100};
  EXPECT_EQ(ContextCacheInv::decode(c.encode()), c);
  EXPECT_EQ(c.encode().qw0, 1u | (3u << 4) | (3ull << 16) | (0x100ull << 32));

  PasidCacheInv pc{PasidCacheInv::kPasid, 9, 0x12345};
  EXPECT_EQ(PasidCacheInv::decode(pc.encode()), pc);

  DevTlbInv d{true, 0x0108, 5, 0x42, 0x1000, true, true};
  EXPECT_EQ(descriptor_type(d.encode()), InvType::kPasidDevTlb);
  EXPECT_EQ(DevTlbInv::decode(d.encode()), d);
  EXPECT_EQ(d.encode().qw1, 0x1000ull | (1u << 11) | 1u);
  DevTlbInv legacy{false, 0x0108, 3, 0, 0x2000, true, false};
  EXPECT_EQ(DevTlbInv::decode(legacy.encode()), legacy);
  EXPECT_EQ(legacy.encode().qw1, 0x2000ull | 1u);

  InvWait w{true, true, false, 0xdeadbeef, 0x5000};
  EXPECT_EQ(InvWait::decode(w.encode()), w);
  EXPECT_EQ(w.encode().qw0, 5u | (1u << 4) | (1u << 5) | (0xdeadbeefull << 32));

  PageGroupResponseDesc g{true, 1, 0x0100, 77, true, 300};
  EXPECT_EQ(PageGroupResponseDesc::decode(g.encode()), g);
  EXPECT_EQ(g.encode().qw1, (1u << 2) | (300u << 3));
}

TEST(Descriptors, UnknownTypesAndReservedGranularitiesAreRejected) {
  EXPECT_THROW(descriptor_type(Desc128{4, 0}), DescriptorError);
  EXPECT_THROW(descriptor_type(Desc128{0, 0}), DescriptorError);
  EXPECT_THROW(IotlbInv::decode(Desc128{2, 0}), DescriptorError);
  EXPECT_THROW(PasidIotlbInv::decode(Desc128{6 | (1u << 4), 0}), DescriptorError);
}

TEST(Descriptors, PageRequestDescriptorMatchesTheVtdLayout) {
  PageRequestDesc r;
  r.pasid_present = true;
  r.rid = 0x0100;
  r.pasid = 0x54321;
  r.exe = true;
  r.read = true;
  r.write = true;
  r.lpig = true;
  r.prg_index = 511;
  r.addr = 0x7f0000123000;
  uint64_t q[4];
  r.encode(q);
  EXPECT_EQ(q[0], 1u | (1u << 8) | (0x0100ull << 16) | (0x54321ull << 32) | (1ull << 52));
  EXPECT_EQ(q[1], 1u | 2u | 4u | (511u << 3) | 0x7f0000123000ull);
  EXPECT_EQ(PageRequestDesc::decode(q), r);
  EXPECT_FALSE(r.is_stop_marker());
}

TEST(Descriptors, TableEntriesRoundTrip) {
  ContextEntry c{true, true, true, true, 0x123000, 10, 0};
  EXPECT_EQ(ContextEntry::decode(c.encode()), c);
  PasidEntry p{true, true, 0xabc000, 42};
  EXPECT_EQ(PasidEntry::decode(p.encode()), p);
  EXPECT_EQ((p.encode().qw0 >> 6) & 7, 0b001u);  // PGTT first-stage
  p.pgtt = Pgtt::kPassThrough;
  EXPECT_EQ((p.encode().qw0 >> 6) & 7, 0b100u);
  EXPECT_EQ(PasidEntry::decode(p.encode()), p);
  RootEntry r{true, 0x5000};
  EXPECT_EQ(RootEntry::decode(r.encode()).context_table, 0x5000u);
}

}  // namespace
}  // namespace iosim
