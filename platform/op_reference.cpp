// Operation reference for --list-ops and the README.
#include "platform/op_reference.h"

#include "os/vma.h"

#include <algorithm>

namespace iosim {

namespace {

// What the value of an argument looks like in a synopsis.
std::string placeholder(const OpArg& a) {
  if (a.positional) return a.name;
  switch (a.kind) {
    case ArgKind::kAddress:
      return "ADDR";
    case ArgKind::kOffset:
    case ArgKind::kPageBytes:
      return "N";
    case ArgKind::kInteger:
      return "V";
    case ArgKind::kDuration:
      return "DURATION";
    case ArgKind::kProt:
      return "none|r|rw|rx|rwx";
    case ArgKind::kFlag:
      return "0|1";
    case ArgKind::kProcess:
    case ArgKind::kNewProcess:
      return "P";
    case ArgKind::kDevice:
      return "DEVICE";
  }
  return "?";
}

std::string prot_name(uint64_t prot) {
  std::string s;
  if (prot & kProtRead) s += "r";
  if (prot & kProtWrite) s += "w";
  if (prot & kProtExec) s += "x";
  return s.empty() ? "none" : s;
}

std::string default_text(const OpArg& a) {
  if (a.required) return "";
  if (a.kind == ArgKind::kProt) return prot_name(a.default_value);
  if (a.kind == ArgKind::kDevice) return "";  // no device: the help says what then
  return std::to_string(a.default_value);
}

// "type; help (default D)".
std::string describe(const OpArg& a) {
  std::string s = op_arg_type(a);
  if (!a.help.empty()) s += "; " + a.help;
  const std::string d = default_text(a);
  if (!d.empty()) s += " (default " + d + ")";
  return s;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string op_synopsis(const CpuOperation& op) {
  std::string s = op.name;
  for (const OpArg& a : op.args) {
    const std::string arg = a.positional ? a.name : a.name + "=" + placeholder(a);
    s += " " + (a.required ? arg : "[" + arg + "]");
  }
  return s;
}

std::string op_arg_type(const OpArg& a) {
  switch (a.kind) {
    case ArgKind::kAddress:
      return "address (a map symbol or a number)";
    case ArgKind::kOffset:
      return "bytes";
    case ArgKind::kPageBytes:
      return "bytes, a non-zero multiple of 4K";
    case ArgKind::kInteger:
      return "64-bit integer";
    case ArgKind::kDuration:
      return "duration (ps, ns, us, ms, s)";
    case ArgKind::kProt:
      return "none, r, rw, rx or rwx";
    case ArgKind::kFlag:
      return "0 or 1";
    case ArgKind::kProcess:
      return "a process that exists at boot";
    case ArgKind::kNewProcess:
      return "a new process name";
    case ArgKind::kDevice:
      return "a device, deviceN (N < device.count)";
  }
  return "?";
}

std::string format_op_table(const std::vector<CpuOperation>& ops) {
  std::string out;
  for (const CpuOperation& op : ops) {
    out += op_synopsis(op) + "\n    " + op.help + " (recorded as " + op.recorded_as + ")\n";
    size_t width = 0;
    for (const OpArg& a : op.args) width = std::max(width, a.name.size());
    for (const OpArg& a : op.args) {
      out += "    " + a.name + std::string(width - a.name.size() + 2, ' ') + describe(a) + "\n";
    }
  }
  return out;
}

std::string format_op_markdown(const std::vector<CpuOperation>& ops) {
  std::string out =
      "| Operation | Arguments | Recorded as | Description |\n"
      "|---|---|---|---|\n";
  for (const CpuOperation& op : ops) {
    std::string args;
    for (const OpArg& a : op.args) {
      args += (args.empty() ? "" : "<br>") + ("`" + a.name + "`: " + describe(a));
    }
    out += "| `" + md_escape(op_synopsis(op)) + "` | " + md_escape(args) + " | `" + op.recorded_as +
           "` | " + md_escape(op.help) + " |\n";
  }
  return out;
}

}  // namespace iosim
