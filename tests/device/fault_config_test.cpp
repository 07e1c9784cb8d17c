// DeviceFaultConfig: the device.<i>.fault.* parameters, their defaults (every fault
// off), and the ParamError each bad value gives, naming its key.
#include <gtest/gtest.h>

#include "device/device_config.h"
#include "sc_models/config/params.h"

#include <string>

namespace iosim {
namespace {

// The message of the ParamError validate() throws ("" when none).
std::string error_of(const DeviceConfig& c) {
  try {
    c.validate();
  } catch (const ParamError& e) {
    return e.what();
  }
  return "";
}

TEST(DeviceFaultConfig, EveryFaultIsOffByDefault) {
  const DeviceFaultConfig f;
  EXPECT_FALSE(f.any());
  EXPECT_FALSE(f.invalidation_faults());
  EXPECT_EQ(error_of(DeviceConfig{}), "");
}

TEST(DeviceFaultConfig, TheKeysAreListedWithUnitsUnderFault) {
  DeviceConfig c;
  std::vector<std::string> names;
  for (const ParamInfo& p : list_params(c, "device.")) {
    if (p.name.rfind("device.fault.", 0) == 0) {
      names.push_back(p.name);
      EXPECT_FALSE(p.help.empty()) << p.name;
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "device.fault.completion_delay_ns", "device.fault.drop_completions",
                       "device.fault.duplicate_completions", "device.fault.early_completion_ns",
                       "device.fault.translation_ur", "device.fault.lose_prg_responses",
                       "device.fault.pri_response_timeout_ns", "device.fault.pri_timeout_action",
                       "device.fault.unresponsive_from_ns"}));
  for (const ParamInfo& p : list_params(c, "device.")) {
    if (p.name == "device.fault.pri_timeout_action") {
      EXPECT_EQ(p.choices, "error|retry");
    } else if (p.name == "device.fault.completion_delay_ns") {
      EXPECT_EQ(p.unit, "ns");
    } else if (p.name == "device.fault.drop_completions") {
      EXPECT_EQ(p.unit, "requests");
    }
  }
}

TEST(DeviceFaultConfig, NegativeTimesNameTheirKey) {
  for (const char* key : {"completion_delay_ns", "early_completion_ns", "pri_response_timeout_ns",
                          "unresponsive_from_ns"}) {
    DeviceConfig c;
    const std::string k = key;
    if (k == "completion_delay_ns") c.fault.completion_delay_ns = -1;
    if (k == "early_completion_ns") c.fault.early_completion_ns = -1;
    if (k == "pri_response_timeout_ns") c.fault.pri_response_timeout_ns = -1;
    if (k == "unresponsive_from_ns") c.fault.unresponsive_from_ns = -1;
    EXPECT_EQ(error_of(c), "fault." + k + ": must be >= 0");
  }
}

TEST(DeviceFaultConfig, ContradictoryOrUnusableFaultsAreRefused) {
  DeviceConfig early_late;
  early_late.fault.early_completion_ns = 10;
  early_late.fault.completion_delay_ns = 10;
  EXPECT_EQ(error_of(early_late).rfind("fault.early_completion_ns: cannot be combined", 0), 0u);

  DeviceConfig drop_dup;
  drop_dup.fault.drop_completions = 1;
  drop_dup.fault.duplicate_completions = 1;
  EXPECT_EQ(error_of(drop_dup).rfind("fault.duplicate_completions: cannot be combined", 0), 0u);

  DeviceConfig ur_no_ats;
  ur_no_ats.ats_enabled = ur_no_ats.pri_enabled = false;
  ur_no_ats.fault.translation_ur = 1;
  EXPECT_EQ(error_of(ur_no_ats).rfind("fault.translation_ur: needs ats_enabled", 0), 0u);

  DeviceConfig lost_no_timeout;
  lost_no_timeout.fault.lose_prg_responses = 1;
  EXPECT_EQ(error_of(lost_no_timeout),
            "fault.lose_prg_responses: needs a PRI response time-out "
            "(pri_response_timeout_ns > 0): the device would wait for ever");
  lost_no_timeout.fault.pri_response_timeout_ns = 1000;
  EXPECT_EQ(error_of(lost_no_timeout), "");

  DeviceConfig timeout_no_pri;
  timeout_no_pri.pri_enabled = false;
  timeout_no_pri.fault.pri_response_timeout_ns = 1000;
  EXPECT_EQ(error_of(timeout_no_pri), "fault.pri_response_timeout_ns: needs pri_enabled");
}

TEST(DeviceFaultConfig, EachFaultTurnsTheFaultStatisticsOn) {
  auto on = [](auto set) {
    DeviceFaultConfig f;
    set(f);
    return f.any();
  };
  EXPECT_TRUE(on([](DeviceFaultConfig& f) { f.completion_delay_ns = 1; }));
  EXPECT_TRUE(on([](DeviceFaultConfig& f) { f.drop_completions = 1; }));
  EXPECT_TRUE(on([](DeviceFaultConfig& f) { f.duplicate_completions = 1; }));
  EXPECT_TRUE(on([](DeviceFaultConfig& f) { f.early_completion_ns = 1; }));
  EXPECT_TRUE(on([](DeviceFaultConfig& f) { f.translation_ur = 1; }));
  EXPECT_TRUE(on([](DeviceFaultConfig& f) { f.pri_response_timeout_ns = 1; }));
  EXPECT_TRUE(on([](DeviceFaultConfig& f) { f.unresponsive_from_ns = 1; }));
  EXPECT_FALSE(on([](DeviceFaultConfig& f) { f.pri_timeout_action = PriTimeoutAction::kRetry; }));
}

}  // namespace
}  // namespace iosim
