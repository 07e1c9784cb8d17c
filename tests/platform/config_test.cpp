#include "common/asan.h"
#include "platform/config_file.h"
#include "platform/config_params.h"
#include "platform/input_file.h"
#include "test_system_config.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace iosim {
namespace {

namespace fs = std::filesystem;
using testcfg::SystemCfg;

// A fresh directory per test process for config files.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("iosim_cfg_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

TEST(ConfigFile, SectionsDottedKeysCommentsAndLines) {
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text(
      "# header\n"
      "seed = 7\n"
      "\n"
      "[iommu]\n"
      "; a comment\n"
      "iotlb.sets = 128   # inline\n"
      "  walk_latency_ns=250\n"
      "[device.2]\n"
      "atc.ways = 8\n",
      "a.cfg", entries, errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].key, "seed");
  EXPECT_EQ(entries[0].value, "7");
  EXPECT_EQ(entries[0].line, 2);
  EXPECT_EQ(entries[1].key, "iommu.iotlb.sets");
  EXPECT_EQ(entries[1].value, "128");
  EXPECT_EQ(entries[1].line, 6);
  EXPECT_EQ(entries[2].key, "iommu.walk_latency_ns");
  EXPECT_EQ(entries[2].value, "250");
  EXPECT_EQ(entries[2].line, 7);
  EXPECT_EQ(entries[3].key, "device.2.atc.ways");
  EXPECT_EQ(entries[3].line, 9);
  EXPECT_EQ(entries[3].file, "a.cfg");
}

TEST(ConfigFile, MalformedLinesAreReportedWithPositionAndTheRestIsRead) {
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text("seed = 1\n  no equals here\n[bad section\nbad key = 3\n[iommu]\nx = 2\n",
                   "b.cfg", entries, errors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].to_string(),
            "b.cfg:2:3: expected 'key = value', a [section] header or a comment");
  EXPECT_EQ(errors[1].to_string(), "b.cfg:3:1: expected a section header such as [iommu]");
  EXPECT_EQ(errors[2].line, 4);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].key, "iommu.x");
  EXPECT_EQ(entries[1].line, 6);
}

TEST(ConfigFile, IncludeIsExpandedInPlaceAndLaterLinesOverride) {
  TempDir dir;
  dir.write("base/system.cfg", "seed = 1\n[iommu]\nwalk_latency_ns = 100\niotlb.sets = 32\n");
  std::string top = dir.write("scenario.cfg",
                              "seed = 5\n"
                              "include = base/system.cfg\n"
                              "[iommu]\n"
                              "iotlb.sets = 256\n");
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_file(top, entries, errors);
  ASSERT_TRUE(errors.empty()) << errors[0];
  ASSERT_TRUE(parse_set_override("iommu.walk_latency_ns=900", entries, errors));
  ASSERT_EQ(entries.size(), 6u);
  EXPECT_EQ(entries[1].file, (fs::path(top).parent_path() / "base/system.cfg").string());
  EXPECT_EQ(entries[1].line, 1);
  EXPECT_EQ(entries[4].line, 4);
  EXPECT_EQ(entries[5].file, "--set");

  SystemCfg cfg;
  apply_config_entries(cfg, entries, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(cfg.seed, 1u);                     // the include (line 2) overrides line 1
  EXPECT_EQ(cfg.iommu.iotlb.sets, 256u);       // the including file's later line wins
  EXPECT_EQ(cfg.iommu.walk_latency_ns, 900u);  // --set is applied last
}

TEST(ConfigFile, IncludeCycleAndMissingFileAreErrors) {
  TempDir dir;
  dir.write("a.cfg", "seed = 1\ninclude = b.cfg\n");
  dir.write("b.cfg", "\n\ninclude = a.cfg\n");
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_file(dir.path("a.cfg"), entries, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, dir.path("b.cfg"));
  EXPECT_EQ(errors[0].line, 3);
  EXPECT_EQ(errors[0].key, "include");
  EXPECT_NE(errors[0].message.find("include cycle"), std::string::npos);
  EXPECT_EQ(entries.size(), 1u);

  errors.clear();
  dir.write("c.cfg", "include = nowhere.cfg\n");
  load_config_file(dir.path("c.cfg"), entries, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 1);
  EXPECT_NE(errors[0].message.find("cannot open config file"), std::string::npos);

  errors.clear();
  load_config_file(dir.path("missing.cfg"), entries, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].file, dir.path("missing.cfg"));
}

TEST(ConfigFile, DirectoriesEmptyIncludesAndEndlessFilesAreRefused) {
  TempDir dir;
  dir.write("adir/x.cfg", "seed = 1\n");
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  // A directory as the config itself.
  load_config_file(dir.path("adir/"), entries, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(),
            dir.path("adir/") + ": '" + dir.path("adir/") + "' is a directory, not a config file");
  // A directory as an include, and an empty include (which would name the
  // including file's directory).
  errors.clear();
  const std::string inc = dir.write("inc.cfg", "include = adir\ninclude =\nseed = 2\n");
  load_config_file(inc, entries, errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].to_string(),
            inc + ":1: include: '" + dir.path("adir") + "' is a directory, not a config file");
  EXPECT_EQ(errors[1].to_string(), inc + ":2: include: expected a file name after '='");
  // A file just over the limit is refused, one at the limit is read.
  errors.clear();
  entries.clear();
  std::string big = "seed = 3\n";
  big += std::string(kMaxConfigFileBytes - big.size(), '#');
  load_config_file(dir.write("big.cfg", big), entries, errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(entries.size(), 1u);
  load_config_file(dir.write("big.cfg", big + "\n"), entries, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("is larger than 1 MiB"), std::string::npos);
}

TEST(ConfigFileDeathTest, DevZeroAsAnIncludeStopsAtTheLimit) {
  TempDir dir;
  const std::string zero = dir.write("zero.cfg", "include = /dev/zero\n");
  // /dev/zero never ends: reading stops one byte past the limit (1 MiB).
  // In a child with an alarm and a memory limit, so a reader without a limit fails
  // the test instead of hanging it or exhausting the machine.
  EXPECT_EXIT(
      {
        ::alarm(20);
#if !IOSIM_ASAN
        struct rlimit r {};
        r.rlim_cur = r.rlim_max = rlim_t{1} << 30;
        ::setrlimit(RLIMIT_DATA, &r);
#endif
        std::vector<ConfigEntry> entries;
        std::vector<ConfigError> errors;
        load_config_file(zero, entries, errors);
        std::fprintf(stderr, "%zu %s\n", errors.size(),
                     errors.empty() ? "" : errors[0].to_string().c_str());
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0),
      "^1 .*zero.cfg:1: include: config file '/dev/zero' is larger than 1 MiB \\(the "
      "limit for a config file\\)");
}

TEST(ConfigFile, IncludesAreCountedSoADiamondCannotExplode) {
  TempDir dir;
  // Each level includes the next one twice: 2^16 reads without the count limit.
  for (int i = 0; i < 16; ++i) {
    const std::string next = "l" + std::to_string(i + 1) + ".cfg";
    dir.write("l" + std::to_string(i) + ".cfg", "include = " + next + "\ninclude = " + next + "\n");
  }
  dir.write("l16.cfg", "seed = 1\n");
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_file(dir.path("l0.cfg"), entries, errors);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].key, "include");
  EXPECT_NE(errors[0].message.find("more than 256 config files read"), std::string::npos)
      << errors[0];
  EXPECT_LE(entries.size(), 256u);
}

TEST(ConfigApply, PerInstanceOverridesTouchOnlyThatInstance) {
  SystemCfg cfg;
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text("[device]\natc.sets = 32\n[device.2]\natc.ways = 8\n", "d.cfg", entries, errors);
  parse_set_override("device.1.threads=4", entries, errors);
  apply_config_entries(cfg, entries, errors);
  ASSERT_TRUE(errors.empty()) << errors[0];
  for (const auto& d : cfg.device) EXPECT_EQ(d.atc.sets, 32u);
  EXPECT_EQ(cfg.device[0].atc.ways, 4u);
  EXPECT_EQ(cfg.device[1].atc.ways, 4u);
  EXPECT_EQ(cfg.device[2].atc.ways, 8u);
  EXPECT_EQ(cfg.device[0].threads, 1u);
  EXPECT_EQ(cfg.device[1].threads, 4u);
}

TEST(ConfigApply, CountResizesAndMissingInstanceIsAnError) {
  SystemCfg cfg;
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text("[device.4]\natc.ways = 2\n[device]\ncount = 5\n[device.4]\natc.ways = 16\n",
                   "e.cfg", entries, errors);
  apply_config_entries(cfg, entries, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(),
            "e.cfg:2: device.4.atc.ways: bad value '2': instance 4 of 'device' does not exist "
            "(device.count = 3)");
  ASSERT_EQ(cfg.device.size(), 5u);
  EXPECT_EQ(cfg.device[4].atc.ways, 16u);
  EXPECT_EQ(cfg.device[3].atc.ways, 4u);
}

TEST(ConfigApply, UnknownKeySuggestsTheClosestNameWithFileAndLine) {
  SystemCfg cfg;
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text(
      "seed = 3\n[iommu]\niotlb.set = 4\nwalk_latncy_ns = 5\n[device.1]\natc.wayz = 2\n", "u.cfg",
      entries, errors);
  apply_config_entries(cfg, entries, errors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].to_string(),
            "u.cfg:3: iommu.iotlb.set: unknown parameter; did you mean 'iommu.iotlb.sets'?");
  EXPECT_EQ(errors[1].to_string(),
            "u.cfg:4: iommu.walk_latncy_ns: unknown parameter; did you mean "
            "'iommu.walk_latency_ns'?");
  EXPECT_EQ(errors[2].to_string(),
            "u.cfg:6: device.1.atc.wayz: unknown parameter; did you mean 'device.1.atc.ways'?");
  EXPECT_EQ(cfg.seed, 3u);
}

TEST(ConfigApply, BadValueNamesKeyValueAndWhatWasExpected) {
  SystemCfg cfg;
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text("[iommu]\nwalk_latency_ns = fast\nflush_policy = sometimes\ntimeline = 2\n",
                   "v.cfg", entries, errors);
  apply_config_entries(cfg, entries, errors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].to_string(),
            "v.cfg:2: iommu.walk_latency_ns: bad value 'fast': 'fast' is not a non-negative "
            "integer (decimal, 0x hex, optional K/M/G/T suffix)");
  EXPECT_EQ(errors[1].to_string(),
            "v.cfg:3: iommu.flush_policy: bad value 'sometimes': 'sometimes' is not one of "
            "range|full");
  // "timeline" inside [iommu] is iommu.timeline, which does not exist.
  EXPECT_EQ(errors[2].key, "iommu.timeline");
  EXPECT_EQ(cfg.iommu.walk_latency_ns, 100u);
}

TEST(ConfigApply, ListerShowsTemplateOrExpandedInstances) {
  SystemCfg cfg;
  auto tmpl = list_config_params(cfg, false);
  ASSERT_EQ(tmpl.size(), 2u + 4u + 1u + 3u);
  EXPECT_EQ(tmpl[6].name, "device.count");
  EXPECT_EQ(tmpl[6].default_value, "3");
  EXPECT_EQ(tmpl[7].name, "device.<i>.threads");
  EXPECT_EQ(tmpl[9].name, "device.<i>.atc.ways");
  auto expanded = list_config_params(cfg, true);
  EXPECT_EQ(expanded.size(), 7u + 9u);
  EXPECT_EQ(expanded.back().name, "device.2.atc.ways");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace iosim
