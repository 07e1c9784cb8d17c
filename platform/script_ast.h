// Scenario-script syntax tree and its typed accessors.
//
// A statement is what one line says (see platform/script_parser.h for the
// grammar): a keyword, positional values, key=value arguments, an optional
// "@time", and for a block header the statements indented under it. Every node
// carries file:line:column so that the system builder can report a semantic
// error (a missing or mistyped argument) at the argument itself.
//
// The typed accessors throw ScriptError, whose ConfigError names the position of
// the offending value (or of the statement when an argument is missing) and what
// was expected.
#pragma once

#include "platform/config_error.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace iosim {

struct ScriptLoc {
  std::string file;
  int line = 0;
  int column = 0;
};

struct ScriptValue {
  enum class Kind { kSymbol, kInteger, kDuration, kString };
  Kind kind = Kind::kSymbol;
  std::string text;          // source text (string contents without quotes)
  uint64_t integer = 0;      // kInteger: value with its K/M/G suffix applied
  uint64_t duration_ps = 0;  // kDuration: in picoseconds
  ScriptLoc loc;
};

struct ScriptNamedArg {
  std::string key;
  ScriptValue value;
  ScriptLoc loc;  // of the key
};

class ScriptError : public std::runtime_error {
 public:
  explicit ScriptError(ConfigError e) : std::runtime_error(e.to_string()), error_(std::move(e)) {}
  const ConfigError& error() const { return error_; }

 private:
  ConfigError error_;
};

// Builds the ConfigError for a position.
ConfigError script_error(const ScriptLoc& loc, const std::string& key, const std::string& message);

struct ScriptStatement {
  std::string keyword;  // e.g. "store", or "cpu thread" when registered as one keyword
  ScriptLoc loc;        // of the keyword
  std::optional<uint64_t> time_ps;
  ScriptLoc time_loc;  // of the '@'
  std::vector<ScriptValue> positional;
  std::vector<ScriptNamedArg> named;
  bool is_block = false;
  std::vector<ScriptStatement> children;

  // Named arguments.
  bool has(const std::string& key) const { return find(key) != nullptr; }
  const ScriptValue* find(const std::string& key) const;
  const ScriptValue& value(const std::string& key) const;  // throws when missing
  uint64_t integer(const std::string& key) const;
  uint64_t integer_or(const std::string& key, uint64_t fallback) const;
  uint64_t duration_ps(const std::string& key) const;
  uint64_t duration_ps_or(const std::string& key, uint64_t fallback) const;
  uint64_t address(const std::string& key) const;
  std::string symbol(const std::string& key) const;
  std::string symbol_or(const std::string& key, const std::string& fallback) const;

  // Positional arguments (index from 0).
  const ScriptValue& at(size_t index, const char* what) const;  // throws when missing
  uint64_t integer_at(size_t index, const char* what) const;
  uint64_t duration_ps_at(size_t index, const char* what) const;
  uint64_t address_at(size_t index, const char* what) const;
  std::string symbol_at(size_t index, const char* what) const;

  // Throws at the first named argument not in allowed, or given twice; and when
  // there are more than max_positional positional values.
  void check_args(std::initializer_list<const char*> allowed, size_t max_positional) const;
  void check_args(const std::vector<std::string>& allowed, size_t max_positional) const;
};

// Typed conversions of one value (errors at the value's column).
uint64_t script_integer(const ScriptValue& v, const std::string& key);
uint64_t script_duration_ps(const ScriptValue& v, const std::string& key);
uint64_t script_address(const ScriptValue& v, const std::string& key);
std::string script_symbol(const ScriptValue& v, const std::string& key);

}  // namespace iosim
