#include "sc_models/stats.h"

#include "sc_models/json_reader.h"
#include "sc_models/json_writer.h"

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

JsonValue dump(const StatRegistry& r) {
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
  JsonValue j = dump(r);
  const JsonValue& h = j["top"]["iommu"]["iotlb"]["hits"];
  EXPECT_EQ(h["kind"].str(), "counter");
  EXPECT_EQ(h["unit"].str(), "lookups");
  EXPECT_EQ(h["desc"].str(), "lookups that hit");
  EXPECT_EQ(h["value"].number(), 1000.0);
  EXPECT_EQ(j["top"]["iommu"]["iotlb"]["misses"]["value"].number(), 254.0);
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"kind", "unit", "desc", "value"}));
}

TEST(Stats, HistogramDumpHasPercentilesWithinBoundAndDecadeBuckets) {
  StatRegistry r;
  Histogram& lat = r.group("top.dev").histogram("inv_latency", "invalidation latency");
  for (int i = 1; i <= 10000; ++i) lat.sample(static_cast<double>(i));
  lat.sample(sc_time(20, sc_core::SC_MS));  // one >= 10 ms sample
  JsonValue h = dump(r)["top"]["dev"]["inv_latency"];
  EXPECT_EQ(h["kind"].str(), "histogram");
  EXPECT_EQ(h["unit"].str(), "ns");
  EXPECT_EQ(h["count"].number(), 10001.0);
  EXPECT_EQ(h["min"].number(), 1.0);
  EXPECT_EQ(h["max"].number(), 2e7);
  EXPECT_DOUBLE_EQ(h["mean"].number(), (50005000.0 + 2e7) / 10001.0);
  EXPECT_NEAR(h["p50"].number(), 5000.0, 50.0);  // rank 5001 of 10001 is 5001
  EXPECT_NEAR(h["p90"].number(), 9001.0, 90.0);
  EXPECT_NEAR(h["p99"].number(), 9901.0, 99.0);
  EXPECT_EQ(h.keys(), (std::vector<std::string>{"kind", "unit", "desc", "count", "min", "mean",
                                                "p50", "p90", "p99", "max", "buckets"}));
  const JsonValue& b = h["buckets"];
  EXPECT_EQ(b.keys(), (std::vector<std::string>{"<0.1us", "0.1us-1us", "1us-10us", "10us-100us",
                                                "100us-1ms", "1ms-10ms", ">=10ms"}));
  EXPECT_EQ(b["<0.1us"].number(), 99.0);      // 1..99
  EXPECT_EQ(b["0.1us-1us"].number(), 900.0);  // 100..999
  EXPECT_EQ(b["1us-10us"].number(), 9000.0);  // 1000..9999
  EXPECT_EQ(b["10us-100us"].number(), 1.0);   // 10000
  EXPECT_EQ(b["100us-1ms"].number(), 0.0);
  EXPECT_EQ(b["1ms-10ms"].number(), 0.0);
  EXPECT_EQ(b[">=10ms"].number(), 1.0);
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
  JsonValue j = dump(r);
  EXPECT_EQ(j["lat"]["count"].number(), 0.0);
  EXPECT_TRUE(j["lat"]["p50"].is_null());
  EXPECT_TRUE(j["lat"]["min"].is_null());
  EXPECT_TRUE(j["depth"]["mean"].is_null());
  EXPECT_TRUE(j["depth"]["max"].is_null());
  EXPECT_EQ(j["lat"]["buckets"][">=10ms"].number(), 0.0);
}

TEST(Stats, AverageKeepsSumCountMinMaxMean) {
  StatRegistry r;
  Average& depth = r.group("top.iommu.cmdq").average("depth", "entries", "queue depth at submit");
  for (double v : {2.0, 4.0, 9.0, 1.0}) depth.sample(v);
  JsonValue a = dump(r)["top"]["iommu"]["cmdq"]["depth"];
  EXPECT_EQ(a["kind"].str(), "average");
  EXPECT_EQ(a["count"].number(), 4.0);
  EXPECT_EQ(a["sum"].number(), 16.0);
  EXPECT_EQ(a["min"].number(), 1.0);
  EXPECT_EQ(a["max"].number(), 9.0);
  EXPECT_EQ(a["mean"].number(), 4.0);
}

TEST(Stats, RatioAndFormulaAreComputedAtDumpTime) {
  StatRegistry r;
  StatGroup& g = r.group("top.atc");
  Counter& hits = g.counter("hits", "lookups", "");
  Counter& lookups = g.counter("lookups", "lookups", "");
  g.ratio("hit_rate", "hits / lookups", hits, lookups);
  g.formula("miss_count", "lookups", "lookups - hits",
            [&] { return static_cast<double>(lookups.value() - hits.value()); });
  JsonValue before = dump(r)["top"]["atc"];
  EXPECT_TRUE(before["hit_rate"]["value"].is_null());  // 0 / 0
  EXPECT_EQ(before["hit_rate"]["kind"].str(), "formula");
  hits.add(3);
  lookups.add(4);
  JsonValue after = dump(r)["top"]["atc"];
  EXPECT_EQ(after["hit_rate"]["value"].number(), 0.75);
  EXPECT_EQ(after["miss_count"]["value"].number(), 1.0);
  EXPECT_EQ(r.find_as<Formula>("top.atc.hit_rate")->value(), 0.75);
}

struct ChildModule : sc_core::sc_module {
  Histogram& lat;
  Counter& done;
  SC_HAS_PROCESS(ChildModule);
  ChildModule(sc_core::sc_module_name n, StatRegistry& r)
      : sc_module(n),
        lat(r.group(*this).histogram("op_latency", "operation latency")),
        done(r.group(*this).counter("ops", "operations", "completed operations")) {
    SC_THREAD(run);
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
  JsonValue j = dump(r);
  EXPECT_EQ(j.keys(), (std::vector<std::string>{"top"}));
  EXPECT_EQ(j["top"].keys(), (std::vector<std::string>{"resets", "iotlb"}));
  const JsonValue& c = j["top"]["iotlb"];
  EXPECT_EQ(c["ops"]["value"].number(), 3.0);
  EXPECT_EQ(c["op_latency"]["count"].number(), 3.0);
  EXPECT_EQ(c["op_latency"]["min"].number(), 100.0);
  EXPECT_EQ(c["op_latency"]["max"].number(), 300.0);
  EXPECT_EQ(c["op_latency"]["mean"].number(), 200.0);
  EXPECT_EQ(c["op_latency"]["buckets"]["0.1us-1us"].number(), 3.0);
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
  JsonValue j = parse_json(one);
  // Child groups sorted by name; stats in registration order.
  EXPECT_EQ(j["top"].keys(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(j["top"]["a"].keys(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(j["top"]["b"].keys(), (std::vector<std::string>{"z_first", "a_second"}));
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
  JsonValue j = dump(r);
  EXPECT_EQ(j["a"]["b"]["n"]["value"].number(), 1.0);
  EXPECT_EQ(j["a"]["b"]["c"]["lat"]["count"].number(), 1.0);
  EXPECT_EQ(j["a"]["b"]["c"]["lat"]["buckets"]["<0.1us"].number(), 1.0);
  EXPECT_EQ(j["a"]["q"]["count"].number(), 0.0);
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
  JsonValue j = parse_json(text);
  EXPECT_EQ(j["top"]["weird"]["desc"].str(), desc);
  EXPECT_EQ(j["top"]["weird"]["unit"].str(), "unit \"u\"");
  EXPECT_EQ(JsonWriter::quote("a\"b\\c\nd\re\bf\fg\th"), "\"a\\\"b\\\\c\\nd\\re\\bf\\fg\\th\"");
  EXPECT_EQ(JsonWriter::quote(std::string("\0", 1)), "\"\\u0000\"");
}

TEST(Stats, NumbersAreFiniteOrNullAndRoundTrip) {
  EXPECT_EQ(JsonWriter::number(std::nan("")), "null");
  EXPECT_EQ(JsonWriter::number(INFINITY), "null");
  EXPECT_EQ(JsonWriter::number(-INFINITY), "null");
  EXPECT_EQ(JsonWriter::number(0.1), "0.1");
  EXPECT_EQ(JsonWriter::number(5000), "5000");
  EXPECT_EQ(JsonWriter::number(0.0015), "0.0015");
  std::ostringstream os;
  JsonWriter w(os);
  w.begin_array().value(std::numeric_limits<uint64_t>::max()).value(int64_t{-42});
  w.value(1e-7).value(12345.678).value(true).null().end_array();
  EXPECT_TRUE(w.done());
  EXPECT_EQ(os.str(), "[18446744073709551615,-42,1e-07,12345.678,true,null]");
  JsonValue j = parse_json(os.str());
  EXPECT_EQ(j[2].number(), 1e-7);
  EXPECT_EQ(j[3].number(), 12345.678);
  EXPECT_TRUE(j[4].boolean());
  EXPECT_TRUE(j[5].is_null());
}

TEST(Stats, JsonWriterPrettyPrintsAndRejectsMisuse) {
  std::ostringstream os;
  JsonWriter w(os, 2);
  w.begin_object().field("a", 1).key("b").begin_array().value(2).value(3).end_array();
  w.key("c").begin_object().end_object().end_object();
  EXPECT_EQ(os.str(), "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ],\n  \"c\": {}\n}");
  std::ostringstream o2;
  JsonWriter bad(o2);
  bad.begin_object();
  EXPECT_THROW(bad.value(1), std::logic_error);  // value without a key
  EXPECT_THROW(bad.end_array(), std::logic_error);
  bad.key("k");
  EXPECT_THROW(bad.key("k2"), std::logic_error);
  EXPECT_THROW(bad.end_object(), std::logic_error);  // key without value
}

TEST(Stats, JsonReaderDecodesEscapesAndRejectsBadInput) {
  JsonValue v = parse_json(R"( {"s": "a\u00b5\ud83d\ude00\/", "n": -1.5e3, "e": [], "o": {}} )");
  EXPECT_EQ(v["s"].str(), "a\xc2\xb5\xf0\x9f\x98\x80/");
  EXPECT_EQ(v["n"].number(), -1500.0);
  EXPECT_EQ(v["e"].size(), 0u);
  EXPECT_EQ(v["o"].size(), 0u);
  EXPECT_FALSE(v.has("missing"));
  EXPECT_THROW(v["missing"], std::out_of_range);
  EXPECT_THROW(v["n"].str(), std::out_of_range);
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "\"abc", "\"\\x\"", "nul",
                          "[1] x", "\"\\ud800\"", "{\"a\":1,}", "\"tab\there\""}) {
    EXPECT_THROW(parse_json(bad), std::invalid_argument) << bad;
  }
}

TEST(Stats, WritesJsonFileOrFailsClearly) {
  StatRegistry r;
  r.group("top").counter("n", "", "").add(5);
  std::string file = testing::TempDir() + "stats_test_dump.json";
  r.write_json_file(file);
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(parse_json(ss.str())["top"]["n"]["value"].number(), 5.0);
  std::remove(file.c_str());
  EXPECT_THROW(r.write_json_file("/nonexistent-dir/x/stats.json"), std::runtime_error);
}

TEST(Stats, GlobalRegistryIsOneInstance) {
  StatRegistry& a = StatRegistry::global();
  EXPECT_EQ(&a, &StatRegistry::global());
  Counter& c = a.group("global_test").counter("n", "", "");
  c.inc();
  EXPECT_EQ(StatRegistry::global().find_as<Counter>("global_test.n")->value(), 1u);
}

}  // namespace
}  // namespace iosim
