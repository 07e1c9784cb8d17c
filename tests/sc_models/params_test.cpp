#include "sc_models/config/params.h"

#include <gtest/gtest.h>

namespace iosim {
namespace {

enum class Victim { kLru, kFifo, kRandom };
constexpr ChoiceValue<Victim> kVictimValues[] = {{"lru", Victim::kLru, "least recently used"},
                                                 {"fifo", Victim::kFifo, "oldest first"},
                                                 {"random", Victim::kRandom, "any"}};
constexpr Choices<Victim> kVictim{kVictimValues};

struct InnerCfg {
  uint32_t entries = 64;
  Victim policy = Victim::kLru;
  template <class V>
  void visit(V& v) {
    v("entries", entries, "entries", "cache entries");
    v.choice("policy", policy, kVictim, "replacement policy");
  }
};

struct OuterCfg {
  double latency_ns = 12.5;
  bool enabled = true;
  int32_t offset = -3;
  InnerCfg cache;
  template <class V>
  void visit(V& v) {
    v("latency_ns", latency_ns, "ns", "access latency");
    v("enabled", enabled, "", "model on");
    v("offset", offset, "", "signed knob");
    v.section("cache", cache);
  }
};

struct FleetCfg {
  std::vector<InnerCfg> unit = std::vector<InnerCfg>(2);
  template <class V>
  void visit(V& v) {
    v.instances("unit", unit, "units");
  }
};

TEST(Params, ListerGivesDottedNamesDefaultsUnitsAndChoices) {
  OuterCfg c;
  auto ps = list_params(c, "top.");
  ASSERT_EQ(ps.size(), 5u);
  EXPECT_EQ(ps[0].name, "top.latency_ns");
  EXPECT_EQ(ps[0].default_value, "12.5");
  EXPECT_EQ(ps[0].unit, "ns");
  EXPECT_EQ(ps[1].default_value, "true");
  EXPECT_EQ(ps[2].default_value, "-3");
  EXPECT_EQ(ps[3].name, "top.cache.entries");
  EXPECT_EQ(ps[3].default_value, "64");
  EXPECT_EQ(ps[4].name, "top.cache.policy");
  EXPECT_EQ(ps[4].choices, "lru|fifo|random");
  EXPECT_EQ(ps[4].default_value, "lru");
  EXPECT_EQ(ps[4].help,
            "replacement policy (lru: least recently used; fifo: oldest first; random: any)");
}

// A choice is resolved to its value when assigned, and listed by the name of the value
// it holds; a part of a table accepts only its first entries.
TEST(Params, ChoiceMapsNamesToValuesBothWays) {
  InnerCfg c;
  c.policy = Victim::kRandom;
  EXPECT_EQ(list_params(c)[1].default_value, "random");
  EXPECT_TRUE(assign_param(c, "policy", "fifo"));
  EXPECT_EQ(c.policy, Victim::kFifo);
  try {
    assign_param(c, "policy", "Fifo");
    FAIL();
  } catch (const ParamError& e) {
    EXPECT_STREQ(e.what(), "'Fifo' is not one of lru|fifo|random");
  }
  EXPECT_EQ(c.policy, Victim::kFifo);
  const Choices<Victim> first_two{kVictimValues, 2};
  EXPECT_EQ(first_two.names(), "lru|fifo");
  EXPECT_EQ(first_two.find("random"), nullptr);
  EXPECT_EQ(first_two.find("fifo")->value, Victim::kFifo);
  EXPECT_EQ(kVictim.name_of(Victim::kRandom), "random");
}

TEST(Params, AssignerParsesAndRejects) {
  OuterCfg c;
  EXPECT_TRUE(assign_param(c, "cache.entries", "2K"));
  EXPECT_EQ(c.cache.entries, 2048u);
  EXPECT_TRUE(assign_param(c, "latency_ns", "0.25"));
  EXPECT_DOUBLE_EQ(c.latency_ns, 0.25);
  EXPECT_TRUE(assign_param(c, "enabled", "off"));
  EXPECT_FALSE(c.enabled);
  EXPECT_TRUE(assign_param(c, "offset", "-0x10"));
  EXPECT_EQ(c.offset, -16);
  EXPECT_TRUE(assign_param(c, "cache.policy", "fifo"));
  EXPECT_EQ(c.cache.policy, Victim::kFifo);
  EXPECT_FALSE(assign_param(c, "cache.entriez", "1"));
  EXPECT_THROW(assign_param(c, "cache.entries", "-1"), ParamError);
  EXPECT_THROW(assign_param(c, "cache.entries", "5000000000"), ParamError);
  EXPECT_THROW(assign_param(c, "cache.entries", "12x"), ParamError);
  EXPECT_THROW(assign_param(c, "cache.policy", "mru"), ParamError);
  EXPECT_THROW(assign_param(c, "latency_ns", "nan"), ParamError);
  EXPECT_THROW(assign_param(c, "enabled", "maybe"), ParamError);
  EXPECT_EQ(c.cache.entries, 2048u);  // failed assignments leave the value alone
}

TEST(Params, IntegersAreDecimalOrExplicitHex) {
  uint64_t v = 0;
  parse_unsigned("010", UINT64_MAX, v);  // a leading zero is not octal
  EXPECT_EQ(v, 10u);
  parse_unsigned("08", UINT64_MAX, v);
  EXPECT_EQ(v, 8u);
  parse_unsigned("0x10", UINT64_MAX, v);
  EXPECT_EQ(v, 16u);
  parse_unsigned("0X1fK", UINT64_MAX, v);
  EXPECT_EQ(v, 31u * 1024);
  parse_unsigned("18446744073709551615", UINT64_MAX, v);
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_THROW(parse_unsigned("18446744073709551616", UINT64_MAX, v), ParamError);
  EXPECT_THROW(parse_unsigned("0x", UINT64_MAX, v), ParamError);
  EXPECT_THROW(parse_unsigned("0b101", UINT64_MAX, v), ParamError);
  int64_t s = 0;
  parse_signed("-010", INT64_MIN, INT64_MAX, s);
  EXPECT_EQ(s, -10);
  OuterCfg c;
  EXPECT_TRUE(assign_param(c, "cache.entries", "010"));
  EXPECT_EQ(c.cache.entries, 10u);
}

TEST(Params, InstancesListTemplateOrEveryInstance) {
  FleetCfg c;
  c.unit[1].entries = 8;
  auto tmpl = list_params(c, "f.");
  ASSERT_EQ(tmpl.size(), 3u);
  EXPECT_EQ(tmpl[0].name, "f.unit.count");
  EXPECT_EQ(tmpl[0].default_value, "2");
  EXPECT_EQ(tmpl[0].unit, "instances");
  EXPECT_EQ(tmpl[1].name, "f.unit.<i>.entries");
  EXPECT_EQ(tmpl[1].default_value, "64");
  auto all = list_params(c, "f.", true);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[3].name, "f.unit.1.entries");
  EXPECT_EQ(all[3].default_value, "8");
  EXPECT_EQ(all[4].name, "f.unit.1.policy");
}

TEST(Params, InstancesAssignCountOneOrEvery) {
  FleetCfg c;
  EXPECT_TRUE(assign_param(c, "unit.count", "3"));
  ASSERT_EQ(c.unit.size(), 3u);
  EXPECT_TRUE(assign_param(c, "unit.entries", "16"));
  EXPECT_EQ(c.unit[0].entries, 16u);
  EXPECT_EQ(c.unit[2].entries, 16u);
  EXPECT_TRUE(assign_param(c, "unit.1.policy", "fifo"));
  EXPECT_EQ(c.unit[0].policy, Victim::kLru);
  EXPECT_EQ(c.unit[1].policy, Victim::kFifo);
  EXPECT_FALSE(assign_param(c, "unit.1.entriez", "1"));
  EXPECT_FALSE(assign_param(c, "unit.7.entriez", "1"));
  EXPECT_THROW(assign_param(c, "unit.7.entries", "1"), ParamError);
  EXPECT_THROW(assign_param(c, "unit.count", "4097"), ParamError);
  EXPECT_TRUE(assign_param(c, "unit.count", "0"));
  EXPECT_TRUE(assign_param(c, "unit.entries", "4"));  // checked even with no instance
  EXPECT_THROW(assign_param(c, "unit.entries", "x"), ParamError);
}

}  // namespace
}  // namespace iosim
