// The CPU operation table: every entry decodes from a statement written after its own
// schema, optional arguments take their defaults, every mistake is an error at its
// position naming the key, and the reference (--list-ops, the README's table) is
// rendered from the same entries.
#include "platform/cpu_operations.h"

#include <gtest/gtest.h>

#include "platform/cli.h"
#include "platform/op_reference.h"
#include "platform/script_parser.h"

#include <set>
#include <sstream>

namespace iosim {
namespace {

// Resolves names as the scenario builder would, with fixed answers.
struct FixedOperands : ScriptOperands {
  uint64_t address(const ScriptValue& v, const std::string& key) override {
    if (v.kind == ScriptValue::Kind::kSymbol) return 0x10000000;
    return script_address(v, key);
  }
  uint32_t boot_process(const ScriptValue& v, const std::string& key) override {
    script_symbol(v, key);
    return 7;
  }
  uint32_t new_process(const ScriptValue& v) override {
    created.push_back(script_symbol(v, "process"));
    return 9;
  }
  size_t device(const ScriptValue& v, const std::string& key) override {
    if (script_symbol(v, key) != "device1") throw ScriptError(script_error(v.loc, key, "bad"));
    return 1;
  }
  std::vector<std::string> created;
};

ScriptStatement statement(const std::string& line) {
  ScriptParseResult r = parse_script(line + "\n", "t.scn");
  EXPECT_TRUE(r.errors.empty()) << line;
  EXPECT_EQ(r.statements.size(), 1u) << line;
  return r.statements.at(0);
}

ThreadOp decode(const std::string& line) {
  FixedOperands names;
  return decode_cpu_operation(statement(line), names);
}

ConfigError error_of(const std::string& line) {
  try {
    decode(line);
  } catch (const ScriptError& e) {
    return e.error();
  }
  ADD_FAILURE() << "no error for: " << line;
  return {};
}

// A value of each kind as a script writes it, and what it decodes to.
const char* sample(ArgKind k) {
  switch (k) {
    case ArgKind::kAddress:
      return "0x2000";
    case ArgKind::kOffset:
      return "8";
    case ArgKind::kPageBytes:
      return "8K";
    case ArgKind::kInteger:
      return "5";
    case ArgKind::kDuration:
      return "3us";
    case ArgKind::kProt:
      return "r";
    case ArgKind::kFlag:
      return "1";
    case ArgKind::kProcess:
      return "P1";
    case ArgKind::kNewProcess:
      return "Q";
    case ArgKind::kDevice:
      return "device1";
  }
  return "?";
}

TEST(CpuOperations, EntriesAreCompleteAndFoundByName) {
  std::set<std::string> names, recorded;
  for (const CpuOperation& op : cpu_operations()) {
    EXPECT_TRUE(names.insert(op.name).second) << op.name;
    EXPECT_TRUE(recorded.insert(op.recorded_as).second) << op.recorded_as;
    EXPECT_FALSE(op.help.empty()) << op.name;
    EXPECT_NE(op.run, nullptr) << op.name;
    EXPECT_EQ(find_cpu_operation(op.name), &op);
    std::set<std::string> keys;
    for (const OpArg& a : op.args) {
      EXPECT_TRUE(keys.insert(a.name).second) << op.name << " " << a.name;
      if (a.positional) {
        EXPECT_TRUE(a.required) << op.name << " " << a.name;
      }
    }
  }
  EXPECT_EQ(names.size(), 23u);
  EXPECT_EQ(find_cpu_operation("repeat"), nullptr);
  EXPECT_EQ(find_cpu_operation("jump"), nullptr);
}

// Every entry, with every argument given, decodes each value into its field.
TEST(CpuOperations, EveryOperationDecodesEveryArgumentIntoItsField) {
  for (const CpuOperation& op : cpu_operations()) {
    std::string line = op.name;
    bool has_offset = false;
    for (const OpArg& a : op.args) {
      line += " " + (a.positional ? std::string() : a.name + "=") + sample(a.kind);
      has_offset = has_offset || a.kind == ArgKind::kOffset;
    }
    SCOPED_TRACE(line);
    FixedOperands names;
    const ThreadOp t = decode_cpu_operation(statement(line), names);
    EXPECT_EQ(t.op, &op);
    EXPECT_LT(t.at_ns, 0);
    for (const OpArg& a : op.args) {
      switch (a.field) {
        case ArgField::kAddr:
          EXPECT_EQ(t.addr, has_offset ? 0x2008u : 0x2000u);
          break;
        case ArgField::kLen:
          EXPECT_EQ(t.len, 8192u);
          break;
        case ArgField::kValue:
          EXPECT_EQ(t.value, 5u);
          break;
        case ArgField::kAddr2:
          EXPECT_EQ(t.addr2, 0x2000u);
          break;
        case ArgField::kMm2:
          EXPECT_EQ(t.mm2, a.kind == ArgKind::kNewProcess ? 9u : 7u);
          break;
        case ArgField::kProt:
          EXPECT_EQ(t.prot, kProtRead);
          break;
        case ArgField::kShared:
          EXPECT_TRUE(t.shared);
          break;
        case ArgField::kDurationNs:
          EXPECT_DOUBLE_EQ(t.duration_ns, 3000.0);
          break;
        case ArgField::kDevice:
          EXPECT_EQ(t.device, 1u);
          break;
      }
    }
    if (op.name == "fork") {
      EXPECT_EQ(names.created, std::vector<std::string>{"Q"});
    }
  }
}

TEST(CpuOperations, BindUnbindAndFlushesNameADeviceOrNothing) {
  EXPECT_EQ(decode("bind device1").device, 1u);
  EXPECT_EQ(decode("unbind device1").device, 1u);
  EXPECT_EQ(decode("oom_reap P1").mm2, 7u);
  EXPECT_EQ(op_synopsis(*find_cpu_operation("bind")), "bind DEVICE");
  EXPECT_EQ(op_synopsis(*find_cpu_operation("flush_pasid")), "flush_pasid");
  EXPECT_TRUE(find_cpu_operation("bind")->in_process);
  EXPECT_FALSE(find_cpu_operation("flush_all")->in_process);
  EXPECT_FALSE(find_cpu_operation("oom_reap")->in_process);
}

TEST(CpuOperations, OptionalArgumentsTakeTheirDefaults) {
  const ThreadOp m = decode("mmap size=4K");
  EXPECT_EQ(m.addr, 0u);  // the kernel picks
  EXPECT_EQ(m.len, 4096u);
  EXPECT_EQ(m.prot, kProtRead | kProtWrite);
  EXPECT_FALSE(m.shared);
  EXPECT_EQ(decode("load addrA").addr, 0x10000000u);
  EXPECT_EQ(decode("age 0x3000 offset=4K").addr, 0x4000u);
  EXPECT_DOUBLE_EQ(decode("wait 250ps").duration_ns, 0.25);
}

void expect_at(const ConfigError& e, int column, const std::string& key,
               const std::string& fragment) {
  EXPECT_EQ(e.file, "t.scn");
  EXPECT_EQ(e.line, 1);
  EXPECT_EQ(e.column, column);
  EXPECT_EQ(e.key, key);
  EXPECT_NE(e.message.find(fragment), std::string::npos) << e.message;
}

TEST(CpuOperations, AnUnknownOperationListsEveryEntry) {
  const ConfigError e = error_of("jump 5");
  std::string list;
  for (const CpuOperation& op : cpu_operations()) list += op.name + ", ";
  expect_at(e, 1, "jump", "unknown CPU operation 'jump' (expected one of: " + list + "repeat)");
}

TEST(CpuOperations, ArgumentErrorsNameTheKeyAtItsPosition) {
  expect_at(error_of("store 0x1000 colour=red"), 14, "colour",
            "unknown argument of 'store' (expected one of: offset, value)");
  expect_at(error_of("store 0x1000 value=1 value=2"), 22, "value", "argument given twice");
  expect_at(error_of("munmap 0x1000"), 1, "size", "'munmap' needs the argument size=...");
  expect_at(error_of("munmap 0x1000 size=100"), 20, "size", "expected a non-zero multiple of 4K");
  expect_at(error_of("mmap size=4K shared=2"), 21, "shared", "expected 0 or 1");
  expect_at(error_of("mprotect 0x1000 size=4K prot=wx"), 30, "prot",
            "expected one of none, r, rw, rx, rwx, got 'wx'");
  expect_at(error_of("load"), 1, "", "'load' needs an address as argument 1");
  expect_at(error_of("load 5us"), 6, "address", "expected an address");
  expect_at(error_of("wait 1us 2us"), 10, "", "'wait' takes 1 positional argument(s)");
  expect_at(error_of("wait 5"), 6, "a duration such as 2us", "expected a duration");
  expect_at(error_of("fork 5"), 6, "process", "expected a name");
  expect_at(error_of("ksm 0x1000 other_addr=0x2000"), 1, "other", "needs the argument other=");
}

TEST(OpReference, SynopsesFollowTheSchema) {
  EXPECT_EQ(op_synopsis(*find_cpu_operation("store")), "store ADDR [offset=N] value=V");
  EXPECT_EQ(op_synopsis(*find_cpu_operation("mmap")),
            "mmap [at=ADDR] size=N [prot=none|r|rw|rx|rwx] [shared=0|1]");
  EXPECT_EQ(op_synopsis(*find_cpu_operation("wait")), "wait DURATION");
  EXPECT_EQ(op_synopsis(*find_cpu_operation("exit")), "exit");
}

TEST(OpReference, MarkdownHasOneRowPerOperation) {
  const std::string md = format_op_markdown(cpu_operations());
  std::istringstream in(md);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), cpu_operations().size() + 2);
  EXPECT_EQ(lines[0], "| Operation | Arguments | Recorded as | Description |");
  for (size_t i = 0; i < cpu_operations().size(); ++i) {
    const CpuOperation& op = cpu_operations()[i];
    EXPECT_EQ(lines[i + 2].rfind("| `" + op.name, 0), 0u) << lines[i + 2];
    EXPECT_NE(lines[i + 2].find("| `" + op.recorded_as + "` |"), std::string::npos);
  }
  // '|' inside a cell is escaped.
  EXPECT_NE(md.find("[prot=none\\|r\\|rw\\|rx\\|rwx]"), std::string::npos);
  EXPECT_NE(md.find("`prot`: none, r, rw, rx or rwx; the protection (default rw)"),
            std::string::npos);
}

int run(std::vector<const char*> args, std::string& out, std::string& err) {
  args.insert(args.begin(), "iommu-sim");
  std::ostringstream o, e;
  const int status = run_cli(static_cast<int>(args.size()), args.data(), {}, o, e);
  out = o.str();
  err = e.str();
  return status;
}

TEST(OpReference, ListOpsPrintsTheTableWithoutAConfig) {
  std::string out, err;
  EXPECT_EQ(run({"--list-ops"}, out, err), kExitOk);
  EXPECT_EQ(out, format_op_table(cpu_operations()));
  EXPECT_NE(out.find("ksm ADDR [offset=N] other=P other_addr=ADDR\n"), std::string::npos);
  EXPECT_EQ(run({"--list-ops", "--markdown"}, out, err), kExitOk);
  EXPECT_EQ(out, format_op_markdown(cpu_operations()));
  EXPECT_EQ(run({"--markdown"}, out, err), kExitBadInput);
  EXPECT_NE(err.find("--markdown needs --list-params or --list-ops"), std::string::npos) << err;
  EXPECT_EQ(run({"--list-ops", "--list-params"}, out, err), kExitBadInput);
}

}  // namespace
}  // namespace iosim
