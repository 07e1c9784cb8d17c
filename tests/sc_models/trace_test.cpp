#include "sc_models/observe/trace.h"

#include "sc_models/observe/json.h"
#include "sc_models/config/params.h"

#include <gtest/gtest.h>
#include <systemc>

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::SC_PS;
using sc_core::sc_time;
using sc_core::SC_US;

std::vector<Json> events_of(const Json& doc) {
  return doc.at("traceEvents").get<std::vector<Json>>();
}

// Events with ph == "M" and the given metadata name.
std::vector<Json> metadata(const Json& doc, const std::string& name) {
  std::vector<Json> out;
  for (const Json& e : events_of(doc)) {
    if (e.at("ph").get<std::string>() == "M" && e.at("name").get<std::string>() == name)
      out.push_back(e);
  }
  return out;
}

std::vector<Json> non_metadata(const Json& doc) {
  std::vector<Json> out;
  for (const Json& e : events_of(doc)) {
    if (e.at("ph").get<std::string>() != "M") out.push_back(e);
  }
  return out;
}

TEST(ChromeTrace, WritesEventsWithMicrosecondTimesAndOneThreadNamePerTrack) {
  ChromeTrace tr;
  int cpu0 = tr.track("CPU-thread-0");  // before open: metadata written at open
  std::ostringstream os;
  tr.open(os, "sim");
  EXPECT_TRUE(tr.enabled());
  int dev2 = tr.track("DEV-thread-2");
  EXPECT_EQ(tr.track("CPU-thread-0"), cpu0);  // same name, same tid
  int cmdq = tr.track("iommu.cmdq");
  EXPECT_EQ(cpu0, 1);
  EXPECT_EQ(dev2, 2);
  EXPECT_EQ(cmdq, 3);
  EXPECT_EQ(tr.track_name(dev2), "DEV-thread-2");

  tr.complete(cpu0, "cow_fault", "mm", sc_time(1500, SC_NS), sc_time(250, SC_NS),
              {{"pasid", 5u}, TraceArg::hex("addr", 0x7f0000001000ull), {"note", "a \"b\""}});
  tr.instant(dev2, "ats_req", "ats", sc_time(1, SC_PS), {{"delta", -3}, {"ratio", 0.5}});
  tr.begin(cmdq, "inv_wait", "iommu", sc_time(2, SC_US));
  tr.end(cmdq, sc_time(2750, SC_NS));
  tr.counter("cmdq_depth", sc_time(3, SC_US), 4);
  tr.instant(cpu0, "late", "mm", sc_time(1, SC_NS));  // out of time order: kept in call order
  tr.close();
  EXPECT_FALSE(tr.enabled());

  Json doc = parse_json(os.str());
  EXPECT_EQ(doc.at("displayTimeUnit").get<std::string>(), "ns");
  ASSERT_EQ(events_of(doc).size(), 1u + 2 * 3 + 6);  // process + 2 per track + events
  EXPECT_EQ(tr.events_written(), events_of(doc).size());
  auto procs = metadata(doc, "process_name");
  ASSERT_EQ(procs.size(), 1u);
  EXPECT_EQ(procs[0].at("args").at("name").get<std::string>(), "sim");
  auto names = metadata(doc, "thread_name");
  ASSERT_EQ(names.size(), 3u);
  const char* expected[] = {"CPU-thread-0", "DEV-thread-2", "iommu.cmdq"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(names[i].at("tid").get<double>(), i + 1);
    EXPECT_EQ(names[i].at("pid").get<double>(), 1);
    EXPECT_EQ(names[i].at("args").at("name").get<std::string>(), expected[i]);
  }
  EXPECT_EQ(metadata(doc, "thread_sort_index").size(), 3u);

  auto ev = non_metadata(doc);
  ASSERT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev[0].at("name").get<std::string>(), "cow_fault");
  EXPECT_EQ(ev[0].at("cat").get<std::string>(), "mm");
  EXPECT_EQ(ev[0].at("ph").get<std::string>(), "X");
  EXPECT_EQ(ev[0].at("ts").get<double>(), 1.5);
  EXPECT_EQ(ev[0].at("dur").get<double>(), 0.25);
  EXPECT_EQ(ev[0].at("tid").get<double>(), cpu0);
  EXPECT_EQ(ev[0].at("args").at("pasid").get<double>(), 5);
  EXPECT_EQ(ev[0].at("args").at("addr").get<std::string>(), "0x7f0000001000");
  EXPECT_EQ(ev[0].at("args").at("note").get<std::string>(), "a \"b\"");
  EXPECT_EQ(ev[1].at("ph").get<std::string>(), "i");
  EXPECT_EQ(ev[1].at("s").get<std::string>(), "t");
  EXPECT_EQ(ev[1].at("ts").get<double>(), 1e-6);  // 1 ps
  EXPECT_FALSE(ev[1].contains("dur"));
  EXPECT_EQ(ev[1].at("args").at("delta").get<double>(), -3);
  EXPECT_EQ(ev[1].at("args").at("ratio").get<double>(), 0.5);
  EXPECT_EQ(ev[2].at("ph").get<std::string>(), "B");
  EXPECT_EQ(ev[2].at("ts").get<double>(), 2.0);
  EXPECT_EQ(ev[3].at("ph").get<std::string>(), "E");
  EXPECT_EQ(ev[3].at("ts").get<double>(), 2.75);
  EXPECT_EQ(ev[3].at("tid").get<double>(), cmdq);
  EXPECT_EQ(ev[4].at("ph").get<std::string>(), "C");
  EXPECT_EQ(ev[4].at("name").get<std::string>(), "cmdq_depth");
  EXPECT_EQ(ev[4].at("args").at("value").get<double>(), 4);
  EXPECT_EQ(ev[5].at("name").get<std::string>(), "late");
  EXPECT_EQ(ev[5].at("ts").get<double>(), 0.001);
}

TEST(ChromeTrace, DisabledTracerWritesNothingAndReopenRepeatsMetadataOnce) {
  ChromeTrace tr;
  int t = tr.track("DEV-thread-0");
  tr.complete(t, "ignored", "x", sc_time(1, SC_NS), sc_time(1, SC_NS));
  tr.instant(t, "ignored", "x", sc_time(1, SC_NS));
  tr.close();  // no-op when not open
  EXPECT_EQ(tr.events_written(), 0u);

  std::ostringstream first, second;
  tr.open(first);
  tr.instant(t, "one", "x", sc_time(1, SC_NS));
  tr.open(second);  // closes `first`
  tr.instant(t, "two", "x", sc_time(2, SC_NS));
  tr.close();
  for (const std::string& text : {first.str(), second.str()}) {
    Json doc = parse_json(text);
    EXPECT_EQ(metadata(doc, "thread_name").size(), 1u);
    EXPECT_EQ(non_metadata(doc).size(), 1u);
  }
  EXPECT_EQ(non_metadata(parse_json(second.str()))[0].at("name").get<std::string>(), "two");
}

TEST(ChromeTrace, ErrorsAreClear) {
  ChromeTrace tr;
  EXPECT_THROW(tr.open("/nonexistent-dir/x/trace.json"), std::runtime_error);
  EXPECT_FALSE(tr.enabled());
  std::ostringstream os;
  tr.open(os);
  EXPECT_THROW(tr.instant(7, "bad tid", "x", sc_time(1, SC_NS)), std::out_of_range);
  EXPECT_THROW(tr.track_name(0), std::out_of_range);
  tr.close();
  EXPECT_NO_THROW(parse_json(os.str()));  // the failed call wrote nothing
}

struct Agent : sc_core::sc_module {
  ChromeTrace& tr;
  int tid;
  Agent(sc_core::sc_module_name n, ChromeTrace& t) : sc_module(n), tr(t), tid(t.track(name())) {
    sc_core::sc_spawn([this] { run(); }, "run");
  }
  void run() {
    for (int i = 0; i < 4; ++i) {
      sc_time start = sc_core::sc_time_stamp();
      wait(sc_time(125, SC_NS));
      tr.complete(tid, "access", "dma", start, sc_core::sc_time_stamp() - start, {{"i", i}});
    }
  }
};

TEST(ChromeTrace, StreamsSimulatedTimeToAFile) {
  std::string file = testing::TempDir() + "trace_test_events.json";
  ChromeTrace tr;
  tr.open(file);
  Agent a("dev0", tr);
  Agent b("dev1", tr);
  sc_core::sc_start();
  tr.close();
  std::ifstream in(file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::remove(file.c_str());
  Json doc = parse_json(ss.str());
  EXPECT_EQ(metadata(doc, "thread_name").size(), 2u);
  auto ev = non_metadata(doc);
  ASSERT_EQ(ev.size(), 8u);
  std::vector<int> per_tid(3, 0);
  for (const Json& e : ev) {
    int tid = static_cast<int>(e.at("tid").get<double>());
    int i = static_cast<int>(e.at("args").at("i").get<double>());
    EXPECT_EQ(i, per_tid.at(tid)++);  // each track's events in order
    EXPECT_EQ(e.at("ts").get<double>(), 0.125 * i);
    EXPECT_EQ(e.at("dur").get<double>(), 0.125);
  }
  EXPECT_EQ(per_tid[1], 4);
  EXPECT_EQ(per_tid[2], 4);
  // One event per line, so the file streams and greps well.
  size_t lines = 0;
  for (char c : ss.str()) lines += c == '\n';
  EXPECT_EQ(lines, 1u + 1 + 2 * 2 + 8 + 2);  // header, process, tracks, events, footer
}

TEST(ChromeTrace, StartsDisabledUntilOpened) {
  ChromeTrace tr;
  EXPECT_FALSE(tr.enabled());
  std::ostringstream out;
  tr.open(out);
  EXPECT_TRUE(tr.enabled());
  tr.close();
  EXPECT_FALSE(tr.enabled());
}

// ---------------------------------------------------------------- timeline

std::string header(const std::string& label) {
  std::string h = "[Time " + label + "] ";
  return h + std::string(77 - h.size(), '-');
}

TEST(Timeline, PrintsStepsLikeTheMmuNotifierTable) {
  TimelineConfig cfg;
  cfg.time_format = TimeFormat::kSteps;
  Timeline tl(cfg);
  int c0 = tl.thread("CPU-thread-0");
  int c2 = tl.thread("CPU-thread-2");
  int d0 = tl.thread("DEV-thread-0");
  sc_time n(1000, SC_NS);
  sc_time step(10, SC_NS);
  tl.record(n, c0, "try to write to addrA");
  tl.record(n, d0, "read addrA and populate device TLB");
  tl.record(n + step, c0, "COW_step0: {mmu_notifier_invalidate_range_start(addrA)}");
  tl.set_state(n + 2 * step, c0, "preempted");
  tl.record(n + 2 * step, c2, "write to addrA which is a write to new page");
  tl.record(n + 3 * step, d0, "read addrA from old page");
  tl.record(n + 3 * step, d0, "populate device TLB");

  std::vector<std::string> expected = {
      "[Time N] --------------------------------------------------------------------",
      "CPU-thread-0  {try to write to addrA}",
      "CPU-thread-2  {}",
      "DEV-thread-0  {read addrA and populate device TLB}",
      "[Time N+1] ------------------------------------------------------------------",
      "CPU-thread-0  {COW_step0: {mmu_notifier_invalidate_range_start(addrA)}}",
      "CPU-thread-2  {}",
      "DEV-thread-0  {}",
      "[Time N+2] ------------------------------------------------------------------",
      "CPU-thread-0  {preempted}",
      "CPU-thread-2  {write to addrA which is a write to new page}",
      "DEV-thread-0  {}",
      "[Time N+3] ------------------------------------------------------------------",
      "CPU-thread-0  {preempted}",
      "CPU-thread-2  {}",
      "DEV-thread-0  {read addrA from old page; populate device TLB}",
  };
  std::vector<std::string> got = tl.lines();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "line " << i;
  EXPECT_EQ(got[0].size(), 77u);
  EXPECT_EQ(got[4].size(), 77u);
  EXPECT_EQ(tl.size(), 7u);
}

TEST(Timeline, NanosecondLabelsSortOutOfOrderEventsAndPadNames) {
  Timeline tl;  // ns labels, enabled
  tl.record(sc_time(12500, SC_PS), "DEV-thread-2", "late-recorded but earlier");
  tl.record(sc_time(20, SC_NS), "CPU", "b");
  tl.record(sc_time(0, SC_NS), "CPU", "first");
  tl.record(sc_time(20, SC_NS), "DEV-thread-2", "c");
  tl.record(sc_time(20, SC_NS), "CPU", "d");
  std::ostringstream os;
  tl.print(os);
  std::string expected = header("0 ns") + "\n" +
                         "DEV-thread-2  {}\n"
                         "CPU           {first}\n" +
                         header("12.5 ns") + "\n" +
                         "DEV-thread-2  {late-recorded but earlier}\n"
                         "CPU           {}\n" +
                         header("20 ns") + "\n" +
                         "DEV-thread-2  {c}\n"
                         "CPU           {b; d}\n";
  EXPECT_EQ(os.str(), expected);
  EXPECT_EQ(tl.threads(), (std::vector<std::string>{"DEV-thread-2", "CPU"}));
}

TEST(Timeline, StateIsClearedAndEventsTakePrecedence) {
  TimelineConfig cfg;
  cfg.time_format = TimeFormat::kSteps;
  cfg.line_width = 20;
  Timeline tl(cfg);
  int a = tl.thread("A");
  tl.set_state(sc_time(1, SC_NS), a, "preempted");
  tl.record(sc_time(2, SC_NS), a, "resumes");
  tl.set_state(sc_time(2, SC_NS), a, "");
  tl.record(sc_time(3, SC_NS), a, "x");
  tl.set_state(sc_time(3, SC_NS), a, "");
  auto l = tl.lines();
  std::vector<std::string> expected = {"[Time N] -----------", "A  {preempted}",
                                       "[Time N+1] ---------", "A  {resumes}",
                                       "[Time N+2] ---------", "A  {x}"};
  EXPECT_EQ(l, expected);
}

TEST(Timeline, DisabledIgnoresAndMaxEventsDropsLaterOnes) {
  TimelineConfig cfg;
  cfg.max_events = 2;
  cfg.line_width = 30;
  Timeline tl(cfg, false);
  int t = tl.thread("T");
  tl.record(sc_time(1, SC_NS), t, "ignored");
  EXPECT_EQ(tl.size(), 0u);
  EXPECT_TRUE(tl.lines().empty());
  tl.set_enabled(true);
  for (int i = 0; i < 5; ++i) tl.record(sc_time(i, SC_NS), t, "e" + std::to_string(i));
  EXPECT_EQ(tl.size(), 2u);
  EXPECT_EQ(tl.dropped(), 3u);
  auto l = tl.lines();
  ASSERT_EQ(l.size(), 5u);
  EXPECT_EQ(l[0], "[Time 0 ns] ------------------");
  EXPECT_EQ(l[0].size(), 30u);
  EXPECT_EQ(l[1], "T  {e0}");
  EXPECT_EQ(l[3], "T  {e1}");
  EXPECT_EQ(l[4], "[Timeline: 3 later events dropped (max_events = 2)]");
  tl.clear();
  EXPECT_EQ(tl.size(), 0u);
  EXPECT_EQ(tl.dropped(), 0u);
  EXPECT_EQ(tl.threads().size(), 1u);
}

TEST(Timeline, ConfigIsCheckedAndListedAsParameters) {
  TimelineConfig ok;
  EXPECT_TRUE(assign_param(ok, "time_format", "steps"));
  EXPECT_THROW(assign_param(ok, "time_format", "cycles"), ParamError);
  EXPECT_TRUE(assign_param(ok, "line_width", "100"));
  auto ps = list_params(ok, "trace.timeline.");
  ASSERT_EQ(ps.size(), 3u);
  EXPECT_EQ(ps[0].name, "trace.timeline.line_width");
  EXPECT_EQ(ps[0].default_value, "100");
  EXPECT_EQ(ps[2].choices, "ns|steps");
  Timeline tl(ok);
  int x = tl.thread("X");
  tl.record(sc_time(5, SC_NS), x, "e");
  EXPECT_EQ(tl.lines()[0].size(), 100u);
  EXPECT_THROW(tl.record(sc_time(5, SC_NS), 3, "bad"), std::invalid_argument);
  EXPECT_FALSE(Timeline(ok, false).enabled());
}

TEST(Timeline, LongLabelStillGetsDashes) {
  TimelineConfig cfg;
  cfg.line_width = 5;
  Timeline tl(cfg);
  tl.record(sc_time(1, SC_NS), "T", "e");
  EXPECT_EQ(tl.lines()[0], "[Time 1 ns] ---");
}

// A trace with tracks "A" and "B" and the given slices on "A" after the nested ones.
std::vector<std::string> nesting_errors_with(
    const std::function<void(ChromeTrace&, int a, int b)>& more) {
  ChromeTrace tr;
  std::ostringstream os;
  tr.open(os);
  const int a = tr.track("A"), b = tr.track("B");
  tr.complete(a, "outer", "t", sc_time(0, SC_NS), sc_time(10, SC_NS));
  tr.complete(a, "inner", "t", sc_time(2, SC_NS), sc_time(3, SC_NS));
  tr.complete(a, "inner_end", "t", sc_time(7, SC_NS), sc_time(3, SC_NS));  // ends with outer
  tr.complete(a, "next", "t", sc_time(10, SC_NS), sc_time(2, SC_NS));      // starts as it ends
  tr.instant(a, "point", "t", sc_time(5, SC_NS));
  tr.complete(b, "other_track", "t", sc_time(4, SC_NS), sc_time(20, SC_NS));
  tr.begin(b, "b_span", "t", sc_time(30, SC_NS));
  tr.complete(b, "in_b_span", "t", sc_time(31, SC_NS), sc_time(2, SC_NS));
  tr.end(b, sc_time(40, SC_NS));
  more(tr, a, b);
  tr.close();
  return chrome_trace_nesting_errors(parse_json(os.str()));
}

TEST(ChromeTrace, NestingCheckAcceptsNestedAndDisjointSlices) {
  EXPECT_EQ(nesting_errors_with([](ChromeTrace&, int, int) {}), std::vector<std::string>{});
}

TEST(ChromeTrace, NestingCheckReportsPartialOverlapsPerTrack) {
  const std::vector<std::string> e = nesting_errors_with([](ChromeTrace& tr, int a, int b) {
    tr.complete(a, "straddles", "t", sc_time(11, SC_NS), sc_time(2, SC_NS));     // 11..13 vs 10..12
    tr.complete(b, "crosses_end", "t", sc_time(35, SC_NS), sc_time(10, SC_NS));  // 35..45 vs B/E
  });
  ASSERT_EQ(e.size(), 2u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0], "A: straddles [0.011000, 0.013000] us overlaps next [0.010000, 0.012000] us");
  EXPECT_EQ(e[1], "B: crosses_end [0.035000, 0.045000] us overlaps b_span [0.030000, 0.040000] us");
}

TEST(ChromeTrace, NestingCheckReportsUnmatchedBeginAndEnd) {
  const std::vector<std::string> e = nesting_errors_with([](ChromeTrace& tr, int a, int b) {
    tr.end(a, sc_time(50, SC_NS));
    tr.begin(b, "open", "t", sc_time(60, SC_NS));
  });
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "A: \"E\" without a \"B\"");
  EXPECT_EQ(e[1], "B: open never ends");
}

}  // namespace
}  // namespace iosim
