// Operation reference: the --list-ops text and the README's Markdown table of the CPU
// thread operations, both rendered from the operation table (platform/cpu_operations.h).
//
// An operation's synopsis lists its positional arguments by placeholder (ADDR), its
// required named ones as key=VALUE and its optional ones in brackets; each argument is
// then described with what it may be and its default.
#pragma once

#include "platform/cpu_operations.h"

#include <string>
#include <vector>

namespace iosim {

// "store ADDR [offset=N] value=V".
std::string op_synopsis(const CpuOperation& op);
// What an argument may be, e.g. "bytes, a non-zero multiple of 4K".
std::string op_arg_type(const OpArg& a);

// Per operation: the synopsis, its help and the name its results are recorded as,
// then one indented line per argument.
std::string format_op_table(const std::vector<CpuOperation>& ops);

// A GitHub Markdown table: | Operation | Arguments | Recorded as | Description |.
std::string format_op_markdown(const std::vector<CpuOperation>& ops);

}  // namespace iosim
