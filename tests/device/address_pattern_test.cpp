#include "device/address_pattern.h"
#include "sc_models/config/params.h"

#include <gtest/gtest.h>

#include <map>

namespace iosim {
namespace {

DmaThreadConfig cfg(AccessPattern pattern) {
  DmaThreadConfig c;
  c.pattern = pattern;
  c.base_va = 0x100000;
  c.window_bytes = 16 * 64;
  c.request_bytes = 64;
  c.request_count = 1;
  return c;
}

TEST(AddressPattern, StreamWrapsInsideTheWindow) {
  AddressPattern p(cfg(AccessPattern::kStream));
  for (uint64_t i = 0; i < 20; ++i) {
    const DmaRequest r = p.next();
    EXPECT_EQ(r.va, 0x100000 + (i % 16) * 64);
    EXPECT_EQ(r.len, 64u);
    EXPECT_FALSE(r.write);
  }
}

TEST(AddressPattern, StridedStepsByStride) {
  DmaThreadConfig c = cfg(AccessPattern::kStrided);
  c.stride_bytes = 256;
  AddressPattern p(c);
  EXPECT_EQ(p.next().va, 0x100000u);
  EXPECT_EQ(p.next().va, 0x100100u);
  EXPECT_EQ(p.next().va, 0x100200u);
  EXPECT_EQ(p.next().va, 0x100300u);
  EXPECT_EQ(p.next().va, 0x100000u);
}

TEST(AddressPattern, RandomHotsetZipfStayAlignedInWindowAndMixWrites) {
  for (AccessPattern pattern :
       {AccessPattern::kRandom, AccessPattern::kHotset, AccessPattern::kZipf}) {
    DmaThreadConfig c = cfg(pattern);
    c.read_fraction = 0.5;
    AddressPattern p(c);
    uint64_t writes = 0;
    std::map<uint64_t, uint64_t> hits;
    for (int i = 0; i < 10000; ++i) {
      const DmaRequest r = p.next();
      ASSERT_GE(r.va, c.base_va);
      ASSERT_LT(r.va, c.base_va + c.window_bytes);
      ASSERT_EQ(r.va % 64, 0u);
      writes += r.write;
      ++hits[r.va];
    }
    EXPECT_NEAR(static_cast<double>(writes), 5000, 300) << kAccessPattern.name_of(pattern);
    if (pattern == AccessPattern::kHotset) {
      // hot part: 10% of 16 slots -> 1 slot, 90% of the requests (plus its share of the rest)
      EXPECT_NEAR(static_cast<double>(hits[c.base_va]), 9000, 300);
    }
    if (pattern == AccessPattern::kZipf) {
      EXPECT_GT(hits[c.base_va], hits[c.base_va + 64]);  // rank 1 beats rank 2
    }
  }
}

TEST(AddressPattern, ScriptIsNotAPatternAndBadValuesNameTheParameter) {
  EXPECT_THROW(AddressPattern(cfg(AccessPattern::kScript)), std::invalid_argument);
  DmaThreadConfig c = cfg(AccessPattern::kStream);
  c.read_fraction = 1.5;
  EXPECT_THROW(c.validate("t."), ParamError);
  c = cfg(AccessPattern::kStream);
  c.request_count = 0;
  EXPECT_THROW(c.validate("t."), ParamError);
}

}  // namespace
}  // namespace iosim
