#include "platform/sweep.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace iosim {
namespace {

namespace fs = std::filesystem;

TEST(Sweep, TwoKeysTimesThreeValuesGiveSixPointsInOrder) {
  auto pts = expand_sweep({{"a.x", {"1", "2"}}, {"b.y", {"p", "q", "r"}}});
  ASSERT_EQ(pts.size(), 6u);
  const char* want[6][2] = {{"1", "p"}, {"1", "q"}, {"1", "r"}, {"2", "p"}, {"2", "q"}, {"2", "r"}};
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_EQ(pts[i].settings.size(), 2u);
    EXPECT_EQ(pts[i].settings[0], (Setting{"a.x", want[i][0]}));
    EXPECT_EQ(pts[i].settings[1], (Setting{"b.y", want[i][1]}));
  }
  EXPECT_TRUE(expand_sweep({}).empty());
}

// A fake simulator: reads "--set k=v" and "--stats FILE" and writes a stats JSON
// whose summary depends on the settings; the point x=2,y=q fails with status 3.
std::string write_fake_child(const fs::path& dir) {
  fs::path p = dir / "fake-sim.sh";
  std::ofstream(p) << "#!/bin/sh\n"
                      "x=; y=; stats=\n"
                      "while [ $# -gt 0 ]; do\n"
                      "  case \"$1\" in\n"
                      "    --set) case \"$2\" in a.x=*) x=${2#a.x=};; b.y=*) y=${2#b.y=};; esac;"
                      " shift 2;;\n"
                      "    --stats) stats=$2; shift 2;;\n"
                      "    *) shift;;\n"
                      "  esac\n"
                      "done\n"
                      "[ \"$x$y\" = 2q ] && exit 3\n"
                      "echo \"{\\\"summary\\\": {\\\"dma_requests\\\": ${x}00, "
                      "\\\"dma_read_latency_ns\\\": {\\\"count\\\": 4, \\\"p50\\\": ${x}.5}, "
                      "\\\"label\\\": \\\"$y\\\", \\\"hit_rate\\\": null}}\" > \"$stats\"\n";
  fs::permissions(p, fs::perms::owner_all);
  return p.string();
}

TEST(Sweep, RunsEveryPointAndWritesOneCsvRowEachIncludingFailures) {
  fs::path dir = fs::temp_directory_path() / ("iosim_sweep_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<SweepAxis> axes{{"a.x", {"1", "2"}}, {"b.y", {"p", "q", "r"}}};
  SweepRunOptions opts{write_fake_child(dir), {"sys.cfg", "--set", "c=1"}, 3};
  std::vector<SweepResult> results = run_sweep(expand_sweep(axes), opts);
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[4].exit_status, 3);
  EXPECT_TRUE(results[4].summary.empty());
  std::ostringstream csv;
  write_sweep_csv(csv, axes, results);
  EXPECT_EQ(csv.str(),
            "a.x,b.y,dma_requests,dma_read_latency_ns.count,dma_read_latency_ns.p50,label,"
            "hit_rate,exit_status\n"
            "1,p,100,4,1.5,p,,0\n"
            "1,q,100,4,1.5,q,,0\n"
            "1,r,100,4,1.5,r,,0\n"
            "2,p,200,4,2.5,p,,0\n"
            "2,q,,,,,,3\n"
            "2,r,200,4,2.5,r,,0\n");
  fs::remove_all(dir);
}

TEST(Sweep, MissingExecutableGivesStatus127Rows) {
  std::vector<SweepAxis> axes{{"k", {"v,1"}}};
  std::vector<SweepResult> results =
      run_sweep(expand_sweep(axes), {"/nonexistent/iommu-sim", {}, 1});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].exit_status, 127);
  std::ostringstream csv;
  write_sweep_csv(csv, axes, results);
  EXPECT_EQ(csv.str(), "k,exit_status\n\"v,1\",127\n");
}

}  // namespace
}  // namespace iosim
