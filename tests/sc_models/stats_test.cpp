#include "sc_models/observe/stats.h"

#include "sc_models/observe/json.h"

#include <gtest/gtest.h>
#include <systemc>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

Json dump(const StatRegistry& r) {
  return parse_json(r.to_json());
}

TEST(Stats, CountersDumpTheirTotalsWithUnitAndDescription) {
  StatRegistry r;
  StatGroup& g = r.group("top.iommu.iotlb");
  Counter& hits = g.counter("hits", "lookups", "lookups that hit");
  Counter& misses = g.counter("misses", "lookups", "lookups that missed");
  for (int i = 0; i < 1000; ++i) hits.inc();
  misses.add(250);
  misses.add(4);
  EXPECT_EQ(hits.value(), 1000u);
  Json j = dump(r);
  const Json& h = j.at("top").at("iommu").at("iotlb").at("hits");
  EXPECT_EQ(h.at("kind").get<std::string>(), "counter");
  EXPECT_EQ(h.at("unit").get<std::string>(), "lookups");
  EXPECT_EQ(h.at("desc").get<std::string>(), "lookups that hit");
  EXPECT_EQ(h.at("value").get<double>(), 1000.0);
  EXPECT_EQ(j.at("top").at("iommu").at("iotlb").at("misses").at("value").get<double>(), 254.0);
  EXPECT_EQ(json_keys(h), (std::vector<std::string>{"kind", "unit", "desc", "value"}));
}

TEST(Stats, HistogramDumpHasPercentilesWithinBoundAndDecadeBuckets) {
  StatRegistry r;
  Histogram& lat = r.group("top.dev").histogram("inv_latency", "invalidation latency");
  for (int i = 1; i <= 10000; ++i) lat.sample(static_cast<double>(i));
  lat.sample(sc_time(20, sc_core::SC_MS));  // one >= 10 ms sample
  Json h = dump(r).at("top").at("dev").at("inv_latency");
  EXPECT_EQ(h.at("kind").get<std::string>(), "histogram");
  EXPECT_EQ(h.at("unit").get<std::string>(), "ns");
  EXPECT_EQ(h.at("count").get<double>(), 10001.0);
  EXPECT_EQ(h.at("min").get<double>(), 1.0);
  EXPECT_EQ(h.at("max").get<double>(), 2e7);
  EXPECT_DOUBLE_EQ(h.at("mean").get<double>(), (50005000.0 + 2e7) / 10001.0);
  EXPECT_NEAR(h.at("p50").get<double>(), 5000.0, 50.0);  // rank 5001 of 10001 is 5001
  EXPECT_NEAR(h.at("p90").get<double>(), 9001.0, 90.0);
  EXPECT_NEAR(h.at("p99").get<double>(), 9901.0, 99.0);
  EXPECT_EQ(json_keys(h), (std::vector<std::string>{"kind", "unit", "desc", "count", "min", "mean",
                                                    "p50", "p90", "p99", "max", "buckets"}));
  const Json& b = h.at("buckets");
  EXPECT_EQ(json_keys(b), (std::vector<std::string>{"<0.1us", "0.1us-1us", "1us-10us", "10us-100us",
                                                    "100us-1ms", "1ms-10ms", ">=10ms"}));
  EXPECT_EQ(b.at("<0.1us").get<double>(), 99.0);      // 1..99
  EXPECT_EQ(b.at("0.1us-1us").get<double>(), 900.0);  // 100..999
  EXPECT_EQ(b.at("1us-10us").get<double>(), 9000.0);  // 1000..9999
  EXPECT_EQ(b.at("10us-100us").get<double>(), 1.0);   // 10000
  EXPECT_EQ(b.at("100us-1ms").get<double>(), 0.0);
  EXPECT_EQ(b.at("1ms-10ms").get<double>(), 0.0);
  EXPECT_EQ(b.at(">=10ms").get<double>(), 1.0);
}

TEST(Stats, HistogramTakesSystemCTimesExactlyAtDecadeBoundaries) {
  StatRegistry r;
  Histogram& h = r.group("x").histogram("lat", "");
  h.sample(sc_time(100, SC_NS));             // exactly 0.1 us: second bucket
  h.sample(sc_time(99999, sc_core::SC_PS));  // 99.999 ns: first bucket
  h.sample(sc_time(1, sc_core::SC_US));      // exactly 1 us: third bucket
  h.sample(sc_time(10, sc_core::SC_MS));     // exactly 10 ms: last bucket
  EXPECT_EQ(h.decade_count(0), 1u);
  EXPECT_EQ(h.decade_count(1), 1u);
  EXPECT_EQ(h.decade_count(2), 1u);
  EXPECT_EQ(h.decade_count(6), 1u);
  EXPECT_EQ(h.min(), 99.999);
  EXPECT_EQ(h.max(), 1e7);
  EXPECT_EQ(time_in(sc_time(1500, sc_core::SC_PS), sc_core::SC_US), 0.0015);
  EXPECT_EQ(time_in(sc_time(3, sc_core::SC_MS), SC_NS), 3e6);
}

// A repeated duration reuses its conversion; the samples equal time_in's values.
TEST(Stats, HistogramTimeSamplesEqualTimeInNs) {
  StatRegistry r;
  Histogram& h = r.group("x").histogram("lat", "");
  LatencyHistogram ref;
  const sc_time times[] = {sc_time(616, SC_NS),
                           sc_time(616, SC_NS),
                           sc_core::SC_ZERO_TIME,
                           sc_time(1130033, sc_core::SC_PS),
                           sc_time(616, SC_NS),
                           sc_core::SC_ZERO_TIME,
                           sc_time(1130033, sc_core::SC_PS)};
  for (const sc_time& t : times) {
    h.sample(t);
    ref.sample(time_in(t, SC_NS));
    EXPECT_EQ(time_in_ns(t), time_in(t, SC_NS));
  }
  EXPECT_EQ(h.count(), 7u);
  EXPECT_EQ(h.sum(), ref.sum());
  EXPECT_EQ(h.min(), 0.0);
  EXPECT_EQ(h.max(), 1130.033);
  EXPECT_EQ(h.percentile(50), ref.percentile(50));
  EXPECT_EQ(h.decade_count(0), 2u);
  EXPECT_EQ(h.decade_count(1), 3u);
  EXPECT_EQ(h.decade_count(2), 2u);
}

TEST(Stats, EmptyHistogramAndAverageDumpNulls) {
  StatRegistry r;
  r.root().histogram("lat", "never sampled");
  r.root().average("depth", "entries", "never sampled");
  Json j = dump(r);
  EXPECT_EQ(j.at("lat").at("count").get<double>(), 0.0);
  EXPECT_TRUE(j.at("lat").at("p50").is_null());
  EXPECT_TRUE(j.at("lat").at("min").is_null());
  EXPECT_TRUE(j.at("depth").at("mean").is_null());
  EXPECT_TRUE(j.at("depth").at("max").is_null());
  EXPECT_EQ(j.at("lat").at("buckets").at(">=10ms").get<double>(), 0.0);
}

TEST(Stats, AverageKeepsSumCountMinMaxMean) {
  StatRegistry r;
  Average& depth = r.group("top.iommu.cmdq").average("depth", "entries", "queue depth at submit");
  for (double v : {2.0, 4.0, 9.0, 1.0}) depth.sample(v);
  Json a = dump(r).at("top").at("iommu").at("cmdq").at("depth");
  EXPECT_EQ(a.at("kind").get<std::string>(), "average");
  EXPECT_EQ(a.at("count").get<double>(), 4.0);
  EXPECT_EQ(a.at("sum").get<double>(), 16.0);
  EXPECT_EQ(a.at("min").get<double>(), 1.0);
  EXPECT_EQ(a.at("max").get<double>(), 9.0);
  EXPECT_EQ(a.at("mean").get<double>(), 4.0);
}

TEST(Stats, RatioAndFormulaAreComputedAtDumpTime) {
  StatRegistry r;
  StatGroup& g = r.group("top.atc");
  Counter& hits = g.counter("hits", "lookups", "");
  Counter& lookups = g.counter("lookups", "lookups", "");
  g.ratio("hit_rate", "hits / lookups", hits, lookups);
  g.formula("miss_count", "lookups", "lookups - hits",
            [&] { return static_cast<double>(lookups.value() - hits.value()); });
  Json before = dump(r).at("top").at("atc");
  EXPECT_TRUE(before.at("hit_rate").at("value").is_null());  // 0 / 0
  EXPECT_EQ(before.at("hit_rate").at("kind").get<std::string>(), "formula");
  hits.add(3);
  lookups.add(4);
  Json after = dump(r).at("top").at("atc");
  EXPECT_EQ(after.at("hit_rate").at("value").get<double>(), 0.75);
  EXPECT_EQ(after.at("miss_count").at("value").get<double>(), 1.0);
  EXPECT_EQ(r.find_as<Formula>("top.atc.hit_rate")->value(), 0.75);
}

struct ChildModule : sc_core::sc_module {
  Histogram& lat;
  Counter& done;
  ChildModule(sc_core::sc_module_name n, StatRegistry& r)
      : sc_module(n),
        lat(r.group(*this).histogram("op_latency", "operation latency")),
        done(r.group(*this).counter("ops", "operations", "completed operations")) {
    sc_core::sc_spawn([this] { run(); }, "run");
  }
  void run() {
    for (int i = 0; i < 3; ++i) {
      sc_time start = sc_core::sc_time_stamp();
      wait(sc_time(100 * (i + 1), SC_NS));
      lat.sample(sc_core::sc_time_stamp() - start);
      done.inc();
    }
  }
};

struct ParentModule : sc_core::sc_module {
  ChildModule child;
  ParentModule(sc_core::sc_module_name n, StatRegistry& r) : sc_module(n), child("iotlb", r) {
    r.group(*this).counter("resets", "", "parent-level counter");
  }
};

TEST(Stats, GroupsAreNamedAfterTheSystemCHierarchy) {
  StatRegistry r;
  ParentModule top("top", r);
  EXPECT_EQ(r.group(top.child).path(), "top.iotlb");
  EXPECT_EQ(&r.group(top.child), &r.group("top.iotlb"));
  sc_core::sc_start();
  Json j = dump(r);
  EXPECT_EQ(json_keys(j), (std::vector<std::string>{"top"}));
  EXPECT_EQ(json_keys(j.at("top")), (std::vector<std::string>{"resets", "iotlb"}));
  const Json& c = j.at("top").at("iotlb");
  EXPECT_EQ(c.at("ops").at("value").get<double>(), 3.0);
  EXPECT_EQ(c.at("op_latency").at("count").get<double>(), 3.0);
  EXPECT_EQ(c.at("op_latency").at("min").get<double>(), 100.0);
  EXPECT_EQ(c.at("op_latency").at("max").get<double>(), 300.0);
  EXPECT_EQ(c.at("op_latency").at("mean").get<double>(), 200.0);
  EXPECT_EQ(c.at("op_latency").at("buckets").at("0.1us-1us").get<double>(), 3.0);
  EXPECT_EQ(r.find_as<Counter>("top.iotlb.ops")->value(), 3u);
}

TEST(Stats, KeyOrderIsDeterministic) {
  auto build = [](bool reversed) {
    StatRegistry r;
    const char* groups[] = {"top.b", "top.a.y", "top.a.x", "top.c"};
    for (int i = 0; i < 4; ++i) {
      StatGroup& g = r.group(groups[reversed ? 3 - i : i]);
      g.counter("z_first", "", "").inc();
      g.counter("a_second", "", "").add(2);
    }
    return r.to_json();
  };
  std::string one = build(false);
  EXPECT_EQ(one, build(true));
  Json j = parse_json(one);
  // Child groups sorted by name; stats in registration order.
  EXPECT_EQ(json_keys(j.at("top")), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(json_keys(j.at("top").at("a")), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(json_keys(j.at("top").at("b")), (std::vector<std::string>{"z_first", "a_second"}));
}

TEST(Stats, ResetZeroesEverythingAndReferencesStayValid) {
  StatRegistry r;
  Counter& c = r.group("a.b").counter("n", "", "");
  Average& avg = r.group("a").average("q", "", "");
  Histogram& h = r.group("a.b.c").histogram("lat", "");
  c.add(10);
  avg.sample(5);
  h.sample(500);
  r.reset();
  EXPECT_EQ(c.value(), 0u);
  EXPECT_EQ(avg.count(), 0u);
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.decade_count(1), 0u);
  c.inc();
  h.sample(50);
  Json j = dump(r);
  EXPECT_EQ(j.at("a").at("b").at("n").at("value").get<double>(), 1.0);
  EXPECT_EQ(j.at("a").at("b").at("c").at("lat").at("count").get<double>(), 1.0);
  EXPECT_EQ(j.at("a").at("b").at("c").at("lat").at("buckets").at("<0.1us").get<double>(), 1.0);
  EXPECT_EQ(j.at("a").at("q").at("count").get<double>(), 0.0);
}

TEST(Stats, BadNamesAndDuplicatesAreClearErrors) {
  StatRegistry r;
  StatGroup& g = r.group("top.x");
  g.counter("n", "", "");
  EXPECT_THROW(g.counter("n", "", ""), std::invalid_argument);
  EXPECT_THROW(g.histogram("n", ""), std::invalid_argument);
  EXPECT_THROW(g.counter("a.b", "", ""), std::invalid_argument);
  EXPECT_THROW(g.counter("", "", ""), std::invalid_argument);
  EXPECT_THROW(g.group("n"), std::invalid_argument);  // a stat already uses the name
  g.group("sub");
  EXPECT_THROW(g.counter("sub", "", ""), std::invalid_argument);
  EXPECT_THROW(r.group("top..x"), std::invalid_argument);
  EXPECT_THROW(r.group(".top"), std::invalid_argument);
  EXPECT_THROW(g.formula("f", "", "", nullptr), std::invalid_argument);
  try {
    g.counter("n", "", "");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("top.x"), std::string::npos) << e.what();
  }
}

TEST(Stats, FindAndForEachUseDottedPaths) {
  StatRegistry r;
  r.group("top.a").counter("n", "", "").add(7);
  r.group("top").histogram("lat", "");
  r.root().counter("runs", "", "");
  EXPECT_EQ(r.find_as<Counter>("top.a.n")->value(), 7u);
  EXPECT_NE(r.find_as<Histogram>("top.lat"), nullptr);
  EXPECT_EQ(r.find_as<Counter>("top.lat"), nullptr);  // wrong kind
  EXPECT_NE(r.find("runs"), nullptr);
  EXPECT_EQ(r.find("top.b.n"), nullptr);
  EXPECT_EQ(r.find("top.a.m"), nullptr);
  std::vector<std::string> paths;
  r.root().for_each([&](const std::string& p, const Stat&) { paths.push_back(p); });
  EXPECT_EQ(paths, (std::vector<std::string>{"runs", "top.lat", "top.a.n"}));
}

TEST(Stats, StringsAreEscapedAndRoundTrip) {
  StatRegistry r;
  std::string desc = "quote \" backslash \\ newline \n tab \t ctrl \x01 \x1f micro \xc2\xb5s";
  r.group("top").counter("weird", "unit \"u\"", desc);
  std::string text = r.to_json();
  EXPECT_NE(text.find("\\u0001"), std::string::npos);
  EXPECT_NE(text.find("\\u001f"), std::string::npos);
  EXPECT_NE(text.find("\\\""), std::string::npos);
  Json j = parse_json(text);
  EXPECT_EQ(j.at("top").at("weird").at("desc").get<std::string>(), desc);
  EXPECT_EQ(j.at("top").at("weird").at("unit").get<std::string>(), "unit \"u\"");
}

// The stats dump's numbers: integers as digits, doubles in their shortest form
// (an integral double without ".0"), undefined values as null.
TEST(Stats, DumpedNumbersAreShortestAndUndefinedIsNull) {
  StatRegistry r;
  StatGroup& g = r.group("top");
  g.counter("n", "", "").add(std::numeric_limits<uint64_t>::max());
  Average& a = g.average("q", "", "");
  a.sample(5000);
  a.sample(1e5);
  g.formula("tenth", "", "", [] { return 0.1; });
  g.formula("undefined", "", "", [] { return std::nan(""); });
  const std::string text = r.to_json(0);
  EXPECT_NE(text.find("\"value\":18446744073709551615"), std::string::npos) << text;
  EXPECT_NE(text.find("\"sum\":105000,\"min\":5000,\"max\":1e+05,\"mean\":52500"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"value\":0.1}"), std::string::npos) << text;
  EXPECT_NE(text.find("\"value\":null}"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Stats, WritesJsonFileOrFailsClearly) {
  StatRegistry r;
  r.group("top").counter("n", "", "").add(5);
  std::string file = testing::TempDir() + "stats_test_dump.json";
  r.write_json_file(file);
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(parse_json(ss.str()).at("top").at("n").at("value").get<double>(), 5.0);
  std::remove(file.c_str());
  EXPECT_THROW(r.write_json_file("/nonexistent-dir/x/stats.json"), std::runtime_error);
}

}  // namespace
}  // namespace iosim
