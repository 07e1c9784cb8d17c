// Scenario-script lexer and parser: a small line-oriented language.
//
// Grammar (one statement per line; blank lines and '#' comments anywhere):
//
//   line       := indent [ '@' duration ] keyword { argument } [ ':' ] [ '#' comment ]
//   keyword    := symbol                 (or a registered multi-word keyword, e.g. "cpu thread")
//   argument   := value | symbol '=' value
//   value      := symbol | integer | duration | string
//   symbol     := [A-Za-z_][A-Za-z0-9_.-]*          e.g. P0, addrA, CPU-thread-0
//   integer    := [0-9]+ [K|M|G] | 0x[0-9a-fA-F]+ [K|M|G]   (K/M/G: powers of 1024)
//   duration   := [0-9]+ ( ps | ns | us | ms | s )            e.g. 100ns, 2us, 1ms
//   string     := '"' { any character but '"' } '"'
//
// '@T' says "at time T" (the builder defines what it is relative to). A line
// ending in ':' is a block header; the lines that follow, indented deeper than it
// (spaces only, the same depth for all of them), are its children; blocks nest.
// Example:
//
//   process P0
//   map P0 addrA size=4K
//   cpu thread CPU-thread-0 core=0 process=P0:
//     @100ns store addrA value=1
//     wait 2us
//
// Errors name file:line:column and what was expected; parsing goes on at the
// next line, so one run reports every syntax error.
//
// Simplifications: no escapes inside strings, no negative or fractional numbers,
// no line continuation.
#pragma once

#include "platform/config_error.h"
#include "platform/script_ast.h"

#include <string>
#include <vector>

namespace iosim {

struct ScriptParseResult {
  std::vector<ScriptStatement> statements;  // top level, in file order
  std::vector<ConfigError> errors;          // syntax errors, in file order
};

// multiword_keywords: keywords made of several words ("cpu thread"); the longest
// registered match of the leading symbols becomes the statement's keyword.
ScriptParseResult parse_script(const std::string& text, const std::string& file,
                               const std::vector<std::string>& multiword_keywords = {});

// Reads and parses a file; a missing file, a directory or a file larger than
// kMaxScriptFileBytes (platform/input_file.h) is one error.
ScriptParseResult parse_script_file(const std::string& path,
                                    const std::vector<std::string>& multiword_keywords = {});

}  // namespace iosim
