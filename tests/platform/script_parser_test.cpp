#include "platform/script_parser.h"
#include "common/asan.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>

namespace iosim {
namespace {

using Kind = ScriptValue::Kind;

const char* kScenario =
    "# COW race, two threads\n"
    "process P0\n"
    "map P0 addrA size=4K at=0x7f0000001000\n"
    "\n"
    "cpu thread CPU-thread-0 core=0 process=P0:\n"
    "  @100ns store addrA value=1   # first write\n"
    "  wait 2us\n"
    "  loop count=2:\n"
    "    load addrA\n"
    "device thread dev0.t0 pasid=0x5 name=\"dma 0\":\n"
    "  @1ms read addrA len=64\n";

TEST(ScriptParser, ScenarioGivesTheExactTree) {
  ScriptParseResult r = parse_script(kScenario, "s.scn", {"cpu thread", "device thread"});
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_EQ(r.statements.size(), 4u);

  const ScriptStatement& proc = r.statements[0];
  EXPECT_EQ(proc.keyword, "process");
  EXPECT_EQ(proc.loc.line, 2);
  EXPECT_EQ(proc.loc.column, 1);
  ASSERT_EQ(proc.positional.size(), 1u);
  EXPECT_EQ(proc.positional[0].kind, Kind::kSymbol);
  EXPECT_EQ(proc.positional[0].text, "P0");
  EXPECT_FALSE(proc.is_block);

  const ScriptStatement& map = r.statements[1];
  EXPECT_EQ(map.keyword, "map");
  ASSERT_EQ(map.positional.size(), 2u);
  EXPECT_EQ(map.positional[1].text, "addrA");
  EXPECT_EQ(map.positional[1].loc.column, 8);
  ASSERT_EQ(map.named.size(), 2u);
  EXPECT_EQ(map.named[0].key, "size");
  EXPECT_EQ(map.named[0].loc.column, 14);
  EXPECT_EQ(map.named[0].value.kind, Kind::kInteger);
  EXPECT_EQ(map.named[0].value.integer, 4096u);
  EXPECT_EQ(map.named[0].value.loc.column, 19);
  EXPECT_EQ(map.address("at"), 0x7f0000001000u);

  const ScriptStatement& cpu = r.statements[2];
  EXPECT_EQ(cpu.keyword, "cpu thread");
  EXPECT_TRUE(cpu.is_block);
  EXPECT_EQ(cpu.symbol_at(0, "thread name"), "CPU-thread-0");
  EXPECT_EQ(cpu.integer("core"), 0u);
  EXPECT_EQ(cpu.symbol("process"), "P0");
  ASSERT_EQ(cpu.children.size(), 3u);
  const ScriptStatement& store = cpu.children[0];
  EXPECT_EQ(store.keyword, "store");
  ASSERT_TRUE(store.time_ps.has_value());
  EXPECT_EQ(*store.time_ps, 100000u);
  EXPECT_EQ(store.time_loc.column, 3);
  EXPECT_EQ(store.loc.line, 6);
  EXPECT_EQ(store.loc.column, 10);
  EXPECT_EQ(store.integer("value"), 1u);
  EXPECT_EQ(cpu.children[1].keyword, "wait");
  EXPECT_EQ(cpu.children[1].duration_ps_at(0, "duration"), 2000000u);
  EXPECT_FALSE(cpu.children[1].time_ps.has_value());
  const ScriptStatement& loop = cpu.children[2];
  EXPECT_TRUE(loop.is_block);
  ASSERT_EQ(loop.children.size(), 1u);
  EXPECT_EQ(loop.children[0].keyword, "load");
  EXPECT_EQ(loop.children[0].loc.column, 5);

  const ScriptStatement& dev = r.statements[3];
  EXPECT_EQ(dev.keyword, "device thread");
  EXPECT_EQ(dev.symbol_at(0, "thread name"), "dev0.t0");
  EXPECT_EQ(dev.integer("pasid"), 5u);
  EXPECT_EQ(dev.value("name").kind, Kind::kString);
  EXPECT_EQ(dev.value("name").text, "dma 0");
  ASSERT_EQ(dev.children.size(), 1u);
  EXPECT_EQ(*dev.children[0].time_ps, 1000000000u);
}

TEST(ScriptParser, WithoutMultiwordKeywordsTheFirstWordIsTheKeyword) {
  ScriptParseResult r = parse_script("cpu thread T0:\n  wait 1ns\n", "k.scn");
  ASSERT_TRUE(r.errors.empty());
  EXPECT_EQ(r.statements[0].keyword, "cpu");
  EXPECT_EQ(r.statements[0].positional.size(), 2u);
}

// Parses text expected to give exactly one error, and returns it.
ConfigError one_error(const std::string& text) {
  ScriptParseResult r = parse_script(text, "e.scn");
  EXPECT_EQ(r.errors.size(), 1u) << text;
  return r.errors.empty() ? ConfigError{} : r.errors[0];
}

TEST(ScriptParser, EachSyntaxErrorHasItsLineAndColumn) {
  EXPECT_EQ(one_error("wait 1ns\n@fast store x\n").to_string(),
            "e.scn:2:2: expected a duration such as 100ns after '@'");
  EXPECT_EQ(one_error("@4K store x\n").to_string(),
            "e.scn:1:2: expected a duration such as 100ns after '@'");
  EXPECT_EQ(one_error("store x size=12Q\n").to_string(),
            "e.scn:1:14: bad number '12Q' (expected an integer such as 4, 0x10 or 2M, or a "
            "duration such as 100ns)");
  EXPECT_EQ(one_error("store x value=\n").to_string(),
            "e.scn:1:15: expected a value after 'value='");
  EXPECT_EQ(one_error("store x 4=5\n").to_string(),
            "e.scn:1:9: expected an argument name before '='");
  EXPECT_EQ(one_error("  42 store\n").to_string(), "e.scn:1:3: expected a statement keyword");
  EXPECT_EQ(one_error("store x $y\n").to_string(), "e.scn:1:9: unexpected character '$'");
  EXPECT_EQ(one_error("store x: y\n").to_string(),
            "e.scn:1:8: ':' must end the line (it opens a block)");
  EXPECT_EQ(one_error("store x name=\"abc\n").to_string(),
            "e.scn:1:14: unterminated string (expected a closing '\"')");
  EXPECT_EQ(one_error("store x @1ns\n").to_string(), "e.scn:1:9: '@time' must start the statement");
  EXPECT_EQ(one_error("store x\n  load y\n").to_string(),
            "e.scn:2:3: unexpected indentation (no block is open here)");
  EXPECT_EQ(one_error("t:\n    a\n  b\n").to_string(),
            "e.scn:3:3: indentation does not match any enclosing block");
  EXPECT_EQ(one_error("t:\nwait 1ns\n").to_string(),
            "e.scn:1:1: expected an indented block after 't ...:'");
  EXPECT_EQ(one_error("t:\n  # only a comment\n").to_string(),
            "e.scn:1:1: expected an indented block after 't ...:'");
  EXPECT_EQ(one_error("t:\n\tload x\n  load y\n").to_string(),
            "e.scn:2:1: tab in indentation (indent with spaces)");
  EXPECT_EQ(one_error("wait 99999999999999999999ns\n").to_string(),
            "e.scn:1:6: number '99999999999999999999ns' does not fit in 64 bits");
}

TEST(ScriptParser, ParsingContinuesAfterAnErrorLine) {
  ScriptParseResult r = parse_script("a 1\nb 1X\nc 2\nd =\ne 3\n", "c.scn");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_EQ(r.errors[1].line, 4);
  ASSERT_EQ(r.statements.size(), 3u);
  EXPECT_EQ(r.statements[2].keyword, "e");
}

// Runs f and returns the ScriptError it throws.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const ScriptError& e) {
    return e.error().to_string();
  }
  return "no error";
}

TEST(ScriptAccessors, TypeErrorsPointAtTheArgument) {
  ScriptParseResult r =
      parse_script("store addrA value=x delay=5 len=4 when=3us extra=1\n", "a.scn");
  ASSERT_TRUE(r.errors.empty());
  const ScriptStatement& st = r.statements[0];
  EXPECT_EQ(error_of([&] { st.integer("value"); }),
            "a.scn:1:19: value: expected an integer such as 4, 0x10 or 2M, got 'x'");
  EXPECT_EQ(error_of([&] { st.duration_ps("delay"); }),
            "a.scn:1:27: delay: expected a duration such as 100ns, got '5'");
  EXPECT_EQ(error_of([&] { st.address_at(0, "address"); }),
            "a.scn:1:7: address: expected an address such as 0x7f0000001000, got 'addrA'");
  EXPECT_EQ(error_of([&] { st.symbol("len"); }),
            "a.scn:1:33: len: expected a name such as P0 or addrA, got '4'");
  EXPECT_EQ(error_of([&] { st.integer("size"); }),
            "a.scn:1:1: size: 'store' needs the argument size=...");
  EXPECT_EQ(error_of([&] { st.at(1, "a value"); }),
            "a.scn:1:1: 'store' needs a value as argument 2");
  EXPECT_EQ(error_of([&] {
              st.check_args({"value", "delay", "len", "when"}, 1);
            }),
            "a.scn:1:44: extra: unknown argument of 'store' (expected one of: value, delay, len, "
            "when)");
  EXPECT_EQ(st.duration_ps("when"), 3000000u);
  EXPECT_EQ(st.integer_or("size", 7), 7u);
  EXPECT_EQ(st.symbol_or("who", "me"), "me");
}

TEST(ScriptParser, MissingFileIsOneError) {
  ScriptParseResult r = parse_script_file("/nonexistent/dir/x.scn");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message,
            "cannot open script file '/nonexistent/dir/x.scn': No such file or directory");
}

TEST(ScriptParser, ADirectoryOrAnEndlessFileIsRefused) {
  ScriptParseResult dir = parse_script_file("/tmp");
  ASSERT_EQ(dir.errors.size(), 1u);
  EXPECT_EQ(dir.errors[0].file, "/tmp");
  EXPECT_EQ(dir.errors[0].message, "'/tmp' is a directory, not a script file");
}

TEST(ScriptParserDeathTest, DevZeroStopsAtTheLimit) {
  // /dev/zero never ends: reading stops one byte past the limit. In a child with an
  // alarm and a memory limit, so a reader without a limit fails instead of hanging.
  EXPECT_EXIT(
      {
        ::alarm(20);
#if !IOSIM_ASAN
        struct rlimit r {};
        r.rlim_cur = r.rlim_max = rlim_t{1} << 30;
        ::setrlimit(RLIMIT_DATA, &r);
#endif
        ScriptParseResult zero = parse_script_file("/dev/zero");
        std::fprintf(stderr, "%zu %zu %s\n", zero.errors.size(), zero.statements.size(),
                     zero.errors.empty() ? "" : zero.errors[0].message.c_str());
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0),
      "^1 0 script file '/dev/zero' is larger than 16 MiB \\(the limit for a script file\\)");
}

}  // namespace
}  // namespace iosim
