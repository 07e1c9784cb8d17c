// Scenario loader: statements -> boot steps and thread programs, and every semantic
// error class with its file:line:column.
#include "platform/scenario.h"

#include "platform/cpu_operations.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <cstdlib>

namespace iosim {
namespace {

const ScenarioLimits kLimits{4, 2, 1000};

Scenario load(const std::string& text, const ScenarioLimits& lim = kLimits) {
  return load_scenario_text(text, "s.scn", lim);
}

// The error of loading `text` (fails the test when there is none).
ConfigError error_of(const std::string& text, const ScenarioLimits& lim = kLimits) {
  try {
    load(text, lim);
  } catch (const ScriptError& e) {
    return e.error();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return {};
}

const char* kHeader =
    "process P0\n"
    "map P0 addrA at=0x10000000 size=4K populate=write value=3\n"
    "map P0 addrB at=0x10002000 size=8K prot=r shared=1\n"
    "fork P0 P1\n"
    "bind P0 device1\n";

TEST(Scenario, BootStepsInScriptOrderWithProcessIds) {
  Scenario s = load(kHeader);
  ASSERT_EQ(s.processes, (std::vector<std::string>{"P0", "P1"}));
  ASSERT_EQ(s.boot.size(), 5u);
  EXPECT_EQ(s.boot[0].kind, BootStep::Kind::kProcess);
  EXPECT_EQ(s.boot[0].mm_id, 1u);
  EXPECT_EQ(s.boot[1].kind, BootStep::Kind::kMap);
  EXPECT_EQ(s.boot[1].va, 0x10000000u);
  EXPECT_EQ(s.boot[1].size, 4096u);
  EXPECT_EQ(s.boot[1].prot, kProtRead | kProtWrite);
  EXPECT_EQ(s.boot[1].populate, Populate::kWrite);
  EXPECT_EQ(s.boot[1].value, 3u);
  EXPECT_FALSE(s.boot[1].shared);
  EXPECT_EQ(s.boot[2].size, 8192u);
  EXPECT_EQ(s.boot[2].prot, kProtRead);
  EXPECT_TRUE(s.boot[2].shared);
  EXPECT_EQ(s.boot[2].populate, Populate::kNone);
  EXPECT_EQ(s.boot[3].kind, BootStep::Kind::kFork);
  EXPECT_EQ(s.boot[3].mm_id, 1u);
  EXPECT_EQ(s.boot[3].child_mm, 2u);
  EXPECT_EQ(s.boot[4].kind, BootStep::Kind::kBind);
  EXPECT_EQ(s.boot[4].device, 1u);
  EXPECT_EQ(s.boot[4].loc.line, 5);
  ASSERT_EQ(s.symbols.size(), 2u);
  EXPECT_EQ(s.symbols[1].name, "addrB");
  EXPECT_EQ(s.symbols[1].va, 0x10002000u);
}

TEST(Scenario, CpuThreadOpsWithTimesRepeatAndAddresses) {
  Scenario s = load(std::string(kHeader) +
                    "cpu thread T0 core=2 process=P1 hold=5us:\n"
                    "  @100ns store addrA value=1 offset=8\n"
                    "  repeat 2:\n"
                    "    load addrB offset=4K\n"
                    "    wait 2us\n"
                    "  mprotect addrA size=4K prot=r\n"
                    "  mremap addrB size=4K to=0x20000000\n"
                    "  ksm addrA other=P0 other_addr=addrA\n"
                    "  @3us fork P2\n"
                    "  mmap at=0x30000000 size=8K prot=rw\n"
                    "  exit\n");
  ASSERT_EQ(s.cpu_threads.size(), 1u);
  const CpuThreadSpec& t = s.cpu_threads[0];
  EXPECT_EQ(t.program.name, "T0");
  EXPECT_EQ(t.core, 2);
  EXPECT_EQ(t.program.mm_id, 2u);
  EXPECT_DOUBLE_EQ(t.program.preempt_hold_ns, 5000.0);
  const std::vector<ThreadOp>& ops = t.program.ops;
  ASSERT_EQ(ops.size(), 11u);
  EXPECT_EQ(ops[0].op, find_cpu_operation("store"));
  EXPECT_EQ(ops[0].addr, 0x10000008u);
  EXPECT_EQ(ops[0].value, 1u);
  EXPECT_DOUBLE_EQ(ops[0].at_ns, 100.0);
  for (int i : {1, 3}) {
    EXPECT_EQ(ops[i].op, find_cpu_operation("load"));
    EXPECT_EQ(ops[i].addr, 0x10003000u);
    EXPECT_LT(ops[i].at_ns, 0);
    EXPECT_EQ(ops[i + 1].op, find_cpu_operation("wait"));
    EXPECT_DOUBLE_EQ(ops[i + 1].duration_ns, 2000.0);
  }
  EXPECT_EQ(ops[5].op, find_cpu_operation("mprotect"));
  EXPECT_EQ(ops[5].prot, kProtRead);
  EXPECT_EQ(ops[6].op, find_cpu_operation("mremap"));
  EXPECT_EQ(ops[6].addr2, 0x20000000u);
  EXPECT_EQ(ops[7].op, find_cpu_operation("ksm"));
  EXPECT_EQ(ops[7].mm2, 1u);
  EXPECT_EQ(ops[7].addr2, 0x10000000u);
  EXPECT_EQ(ops[8].op, find_cpu_operation("fork"));
  EXPECT_EQ(ops[8].mm2, 3u);
  EXPECT_DOUBLE_EQ(ops[8].at_ns, 3000.0);
  EXPECT_EQ(ops[9].op, find_cpu_operation("mmap"));
  EXPECT_EQ(ops[9].len, 8192u);
  EXPECT_EQ(ops[10].op, find_cpu_operation("exit"));
  EXPECT_EQ(s.processes.back(), "P2");
}

TEST(Scenario, DevThreadOpsWithTimesBecomeAtTimeSteps) {
  Scenario s = load(std::string(kHeader) +
                    "dev thread D0 device=device1 process=P0:\n"
                    "  @1us read addrA len=64\n"
                    "  write addrB value=5 len=4\n"
                    "  wait 100ns\n"
                    "  stop\n");
  ASSERT_EQ(s.dev_threads.size(), 1u);
  const DevThreadSpec& t = s.dev_threads[0];
  EXPECT_EQ(t.name, "D0");
  EXPECT_EQ(t.device, 1u);
  EXPECT_EQ(t.mm_id, 1u);
  ASSERT_EQ(t.ops.size(), 5u);
  EXPECT_EQ(t.ops[0].kind, ScriptOp::Kind::kAtTime);
  EXPECT_DOUBLE_EQ(t.ops[0].time_ns, 1000.0);
  EXPECT_EQ(t.ops[1].kind, ScriptOp::Kind::kRead);
  EXPECT_EQ(t.ops[1].va, 0x10000000u);
  EXPECT_EQ(t.ops[1].len, 64u);
  EXPECT_EQ(t.ops[2].kind, ScriptOp::Kind::kWrite);
  EXPECT_EQ(t.ops[2].value, 5u);
  EXPECT_EQ(t.ops[2].len, 4u);
  EXPECT_EQ(t.ops[3].kind, ScriptOp::Kind::kWait);
  EXPECT_DOUBLE_EQ(t.ops[3].time_ns, 100.0);
  EXPECT_EQ(t.ops[4].kind, ScriptOp::Kind::kStopPasid);
}

void expect_at(const ConfigError& e, int line, int column, const std::string& key,
               const std::string& fragment) {
  EXPECT_EQ(e.file, "s.scn");
  EXPECT_EQ(e.line, line);
  EXPECT_EQ(e.column, column);
  EXPECT_EQ(e.key, key);
  EXPECT_NE(e.message.find(fragment), std::string::npos) << e.message;
}

TEST(ScenarioErrors, UnknownTopLevelKeyword) {
  expect_at(error_of("process P0\n  \nspawn P0\n"), 3, 1, "spawn",
            "expected one of: process, map, fork, bind, cpu thread, dev thread");
}

TEST(ScenarioErrors, UnknownCpuOperation) {
  expect_at(error_of("process P0\ncpu thread T core=0 process=P0:\n  jump 5\n"), 3, 3, "jump",
            "unknown CPU operation 'jump'");
}

TEST(ScenarioErrors, UnknownArgument) {
  expect_at(error_of("process P0\nmap P0 a at=0x1000 size=4K colour=red\n"), 2, 28, "colour",
            "expected one of: at, size, prot, shared, populate, value");
}

TEST(ScenarioErrors, MissingArgumentIsReportedAtTheStatement) {
  expect_at(error_of("process P0\nmap P0 a size=4K\n"), 2, 1, "at", "needs the argument at=");
  expect_at(error_of("process P0\ncpu thread T core=0 process=P0:\n  store 0x1000\n"), 3, 3,
            "value", "needs the argument value=");
  expect_at(error_of("process P0\nmap P0\n"), 2, 1, "", "a symbol name");
}

TEST(ScenarioErrors, BadValuesAtTheValue) {
  expect_at(error_of("process P0\nmap P0 a at=0x1000 size=4K prot=wx\n"), 2, 33, "prot",
            "expected one of none, r, rw, rx, rwx");
  expect_at(error_of("process P0\nmap P0 a at=0x1000 size=100\n"), 2, 25, "size", "multiple of 4K");
  expect_at(error_of("process P0\nmap P0 a at=0x1001 size=4K\n"), 2, 13, "at", "page-aligned");
  expect_at(error_of("process P0\ncpu thread T core=0 process=P0:\n  wait 5\n"), 3, 8,
            "a duration such as 2us", "expected a duration");
  expect_at(error_of("process P0\nmap P0 a at=0x1000 size=4K populate=all\n"), 2, 37, "populate",
            "none, read, write");
}

TEST(ScenarioErrors, UnknownSymbolProcessAndDevice) {
  expect_at(error_of("process P0\ncpu thread T core=0 process=P0:\n  load addrZ\n"), 3, 8,
            "address", "unknown symbol 'addrZ'");
  expect_at(error_of("process P0\nmap P9 a at=0x1000 size=4K\n"), 2, 5, "process",
            "unknown process 'P9'");
  expect_at(error_of("process P0\nbind P0 device7\n"), 2, 9, "device",
            "unknown device 'device7' (expected device0..device1");
  expect_at(error_of("process P0\ncpu thread T core=0 process=P1:\n  exit\n"), 2, 29, "process",
            "unknown process 'P1'");
}

TEST(ScenarioErrors, ThreadOnABusyCoreOrAMissingCore) {
  expect_at(error_of("process P0\n"
                     "cpu thread A core=1 process=P0:\n  exit\n"
                     "cpu thread B core=1 process=P0:\n  exit\n"),
            4, 19, "core", "core 1 already runs 'A' (line 2)");
  expect_at(error_of("process P0\ncpu thread A core=4 process=P0:\n  exit\n"), 2, 19, "core",
            "core 4 does not exist (cpu.cores = 4)");
}

TEST(ScenarioErrors, DevThreadNeedsABindOfItsProcess) {
  expect_at(error_of("process P0\nbind P0 device0\n"
                     "dev thread D device=device1 process=P0:\n  read 0x1000\n"),
            3, 37, "process", "'P0' is not bound to device1");
}

TEST(Scenario, ARuntimeBindInACpuThreadOfTheProcessSatisfiesItsDevThread) {
  Scenario s = load(
      "process P0\nprocess P1\n"
      "cpu thread A core=0 process=P1:\n  @2us bind device1\n  unbind device1\n"
      "dev thread D device=device1 process=P1:\n  read 0x1000\n");
  ASSERT_EQ(s.cpu_threads.size(), 1u);
  ASSERT_EQ(s.cpu_threads[0].program.ops.size(), 2u);
  EXPECT_EQ(s.cpu_threads[0].program.ops[0].op, find_cpu_operation("bind"));
  EXPECT_EQ(s.cpu_threads[0].program.ops[0].device, 1u);
  EXPECT_EQ(s.cpu_threads[0].program.ops[1].op, find_cpu_operation("unbind"));
  EXPECT_EQ(s.boot.size(), 2u);  // two processes, no boot bind
  ASSERT_EQ(s.dev_threads.size(), 1u);
}

TEST(ScenarioErrors, ARuntimeBindOfAnotherProcessOrDeviceDoesNotCount) {
  // P0's thread binds P0, not P1; P1's thread binds device0, not device1.
  expect_at(error_of("process P0\nprocess P1\n"
                     "cpu thread A core=0 process=P0:\n  bind device1\n"
                     "cpu thread B core=1 process=P1:\n  bind device0\n"
                     "dev thread D device=device1 process=P1:\n  read 0x1000\n"),
            7, 37, "process", "or a 'bind device1' operation in a cpu thread of P1");
}

TEST(ScenarioErrors, BindOperationsNameAnExistingDevice) {
  expect_at(error_of("process P0\ncpu thread A core=0 process=P0:\n  bind device2\n"), 3, 8,
            "device", "unknown device 'device2' (expected device0..device1");
  expect_at(error_of("process P0\ncpu thread A core=0 process=P0:\n  unbind\n"), 3, 3, "",
            "'unbind' needs a device such as device0");
  expect_at(error_of("process P0\ncpu thread A core=0 process=P0:\n  oom_reap P7\n"), 3, 12,
            "process", "unknown process 'P7'");
}

TEST(ScenarioErrors, ThreadMustBeABlockAndNamesUnique) {
  expect_at(error_of("process P0\ncpu thread A core=0 process=P0\n"), 2, 1, "cpu thread",
            "expected ':'");
  expect_at(error_of("process P0\ncpu thread A core=0 process=P0:\n  exit\n"
                     "cpu thread A core=1 process=P0:\n  exit\n"),
            4, 12, "name", "thread 'A' already exists");
}

TEST(ScenarioErrors, TooManyOpsAfterUnrolling) {
  expect_at(error_of("process P0\ncpu thread A core=0 process=P0:\n"
                     "  repeat 600:\n    wait 1ns\n    wait 1ns\n"),
            4, 5, "wait", "too many operations");
}

TEST(ScenarioErrors, AnEmptyRepeatCountsEveryPass) {
  // 2000 passes over a body that unrolls to nothing: each pass counts as one
  // operation against the limit (1000), so the repeat is refused at its line.
  expect_at(error_of("process P0\ncpu thread A core=0 process=P0:\n"
                     "  repeat 2000:\n    repeat 0:\n      wait 1ns\n"),
            3, 3, "repeat", "too many operations after unrolling repeat blocks (at most 1000");
  // Nested: the middle repeat's passes count too.
  expect_at(error_of("process P0\ncpu thread A core=0 process=P0:\n"
                     "  repeat 50:\n    repeat 50:\n      repeat 0:\n        wait 1ns\n"),
            4, 5, "repeat", "too many operations");
  // Within the limit it loads, with no operations.
  Scenario sc = load(
      "process P0\ncpu thread A core=0 process=P0:\n"
      "  repeat 900:\n    repeat 0:\n      wait 1ns\n  exit\n");
  ASSERT_EQ(sc.cpu_threads.size(), 1u);
  EXPECT_EQ(sc.cpu_threads[0].program.ops.size(), 1u);
}

TEST(ScenarioErrorsDeathTest, AHugeRepeatOfNothingIsRefusedWithoutIterating) {
  // 10^13 passes of nothing. The check runs in a child with a 20 s alarm, so a
  // loader that iterated would fail the test instead of hanging it.
  EXPECT_EXIT(
      {
        ::alarm(20);
        try {
          load(
              "process P0\ncpu thread A core=0 process=P0:\n"
              "  repeat 10000000000000:\n    repeat 0:\n      wait 1ns\n");
        } catch (const ScriptError& e) {
          std::fprintf(stderr, "%s\n", e.what());
          std::_Exit(0);
        }
        std::_Exit(1);
      },
      ::testing::ExitedWithCode(0), "s.scn:3:3: repeat: too many operations");
}

TEST(ScenarioErrors, SyntaxErrorsAreAllListed) {
  try {
    load("process P0\nmap P0 a at=@@ size=4K\nbind P0 device0 :: x\n");
    FAIL() << "no error";
  } catch (const ScriptError& e) {
    EXPECT_EQ(e.error().line, 2);
    EXPECT_NE(std::string(e.what()).find("s.scn:3:"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace iosim
