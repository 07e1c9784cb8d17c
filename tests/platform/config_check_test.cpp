// ConfigCheck: problems of a loaded configuration located at the line (or --set)
// that gave the value, and the keys of sub-configurations' own error messages.
#include "platform/config_check.h"

#include <gtest/gtest.h>

namespace iosim {
namespace {

std::vector<ConfigEntry> entries() {
  return {{"device.count", "3", "a.cfg", 2},
          {"device.atc.ways", "0", "a.cfg", 4},
          {"device.2.atc.ways", "8", "b.cfg", 7},
          {"workload.processes", "2", "--set", 0}};
}

TEST(ConfigCheck, KeyWithoutInstance) {
  EXPECT_EQ(key_without_instance("device.1.atc.ways"), "device.atc.ways");
  EXPECT_EQ(key_without_instance("device.12.threads"), "device.threads");
  EXPECT_EQ(key_without_instance("iommu.iotlb.ways"), "iommu.iotlb.ways");
  EXPECT_EQ(key_without_instance("a.1b.c"), "a.1b.c");
}

TEST(ConfigCheck, ProblemsAreReportedWhereTheValueWasSet) {
  ConfigCheck c;
  c.require(false, "device.1.atc.ways", "must be at least 1");  // set for every device, line 4
  c.require(false, "device.2.atc.ways", "too many");            // set for device 2, b.cfg:7
  c.require(false, "device.1.atc.ways", "second problem, same key: dropped");
  c.require_keys(false, {"os.allocator.frames", "workload.processes"}, "too small");  // --set
  c.require(false, "sim.seed", "never set");
  c.require(true, "sim.quantum_ns", "fine");
  const std::vector<ConfigError> errors = locate_problems(c.problems(), entries());
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].to_string(), "a.cfg:4: device.1.atc.ways: must be at least 1");
  EXPECT_EQ(errors[1].to_string(), "b.cfg:7: device.2.atc.ways: too many");
  EXPECT_EQ(errors[2].to_string(), "--set: workload.processes: too small");
  EXPECT_EQ(errors[3].to_string(), "(defaults): sim.seed: never set");
}

TEST(ConfigCheck, BoundsAndTimes) {
  ConfigCheck c;
  c.at_most("timeline.line_width", 100000000, 1000, "laid out in memory");
  c.at_most("timeline.max_events", 1000, 1000, "kept in memory");
  c.time_ns("sim.max_time_ns", 1e17);
  c.time_ns("sim.duration_ns", 1e15);
  c.time_ns("sim.quantum_ns", -1);
  ASSERT_EQ(c.problems().size(), 3u);
  EXPECT_EQ(c.problems()[0].message,
            "is 100000000, more than the limit of 1000: laid out in memory");
  EXPECT_EQ(c.problems()[1].keys.front(), "sim.max_time_ns");
  EXPECT_EQ(c.problems()[1].message,
            "must be a time from 0 to 1e15 ns (SystemC time is a 64-bit count of picoseconds), "
            "got 1e+17");
  EXPECT_EQ(c.problems()[2].keys.front(), "sim.quantum_ns");
}

TEST(ConfigCheck, SubConfigurationMessagesGetTheirFullKey) {
  const std::vector<std::string> names{"iommu.iotlb.sets", "iommu.iotlb.ways",
                                       "iommu.iotlb.lookup_ports", "iommu.walker.walkers"};
  ConfigProblem p =
      ConfigCheck::problem_from_message("iommu.", names, "iommu: iotlb.lookup_ports must be >= 1");
  EXPECT_EQ(p.keys, std::vector<std::string>{"iommu.iotlb.lookup_ports"});
  EXPECT_EQ(p.message, "must be >= 1");
  p = ConfigCheck::problem_from_message("iommu.", names, "'ways' must be at least 1");
  EXPECT_EQ(p.keys, std::vector<std::string>{"iommu.iotlb.ways"});
  EXPECT_EQ(p.message, "must be at least 1");
  // A name inside a longer word does not count; nothing named: the section.
  p = ConfigCheck::problem_from_message("iommu.", names, "walkers_total is wrong");
  EXPECT_EQ(p.keys, std::vector<std::string>{"iommu"});
  EXPECT_EQ(p.message, "walkers_total is wrong");
  ConfigCheck c;
  c.run_validate("iommu.", names, [] { throw ParamError("iommu: walker.walkers must be >= 1"); });
  c.run_validate("iommu.", names, [] {});
  const std::vector<ConfigError> errors =
      locate_problems(c.problems(), {{"iommu.walker.walkers", "0", "x.cfg", 9}});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(), "x.cfg:9: iommu.walker.walkers: must be >= 1");
}

}  // namespace
}  // namespace iosim
