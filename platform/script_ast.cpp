// Typed accessors of the scenario-script syntax tree.
#include "platform/script_ast.h"

namespace iosim {

namespace {

[[noreturn]] void fail(const ScriptLoc& loc, const std::string& key, const std::string& msg) {
  throw ScriptError(script_error(loc, key, msg));
}

}  // namespace

ConfigError script_error(const ScriptLoc& loc, const std::string& key, const std::string& message) {
  return {loc.file, loc.line, loc.column, key, message};
}

uint64_t script_integer(const ScriptValue& v, const std::string& key) {
  if (v.kind != ScriptValue::Kind::kInteger) {
    fail(v.loc, key, "expected an integer such as 4, 0x10 or 2M, got '" + v.text + "'");
  }
  return v.integer;
}

uint64_t script_duration_ps(const ScriptValue& v, const std::string& key) {
  if (v.kind != ScriptValue::Kind::kDuration) {
    fail(v.loc, key, "expected a duration such as 100ns, got '" + v.text + "'");
  }
  return v.duration_ps;
}

uint64_t script_address(const ScriptValue& v, const std::string& key) {
  if (v.kind != ScriptValue::Kind::kInteger) {
    fail(v.loc, key, "expected an address such as 0x7f0000001000, got '" + v.text + "'");
  }
  return v.integer;
}

std::string script_symbol(const ScriptValue& v, const std::string& key) {
  if (v.kind != ScriptValue::Kind::kSymbol) {
    fail(v.loc, key, "expected a name such as P0 or addrA, got '" + v.text + "'");
  }
  return v.text;
}

const ScriptValue* ScriptStatement::find(const std::string& key) const {
  for (const ScriptNamedArg& a : named) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

const ScriptValue& ScriptStatement::value(const std::string& key) const {
  const ScriptValue* v = find(key);
  if (!v) fail(loc, key, "'" + keyword + "' needs the argument " + key + "=...");
  return *v;
}

uint64_t ScriptStatement::integer(const std::string& key) const {
  return script_integer(value(key), key);
}
uint64_t ScriptStatement::integer_or(const std::string& key, uint64_t fallback) const {
  return has(key) ? integer(key) : fallback;
}
uint64_t ScriptStatement::duration_ps(const std::string& key) const {
  return script_duration_ps(value(key), key);
}
uint64_t ScriptStatement::duration_ps_or(const std::string& key, uint64_t fallback) const {
  return has(key) ? duration_ps(key) : fallback;
}
uint64_t ScriptStatement::address(const std::string& key) const {
  return script_address(value(key), key);
}
std::string ScriptStatement::symbol(const std::string& key) const {
  return script_symbol(value(key), key);
}
std::string ScriptStatement::symbol_or(const std::string& key, const std::string& fallback) const {
  return has(key) ? symbol(key) : fallback;
}

const ScriptValue& ScriptStatement::at(size_t index, const char* what) const {
  if (index >= positional.size()) {
    fail(loc, "", "'" + keyword + "' needs " + what + " as argument " + std::to_string(index + 1));
  }
  return positional[index];
}
uint64_t ScriptStatement::integer_at(size_t index, const char* what) const {
  return script_integer(at(index, what), what);
}
uint64_t ScriptStatement::duration_ps_at(size_t index, const char* what) const {
  return script_duration_ps(at(index, what), what);
}
uint64_t ScriptStatement::address_at(size_t index, const char* what) const {
  return script_address(at(index, what), what);
}
std::string ScriptStatement::symbol_at(size_t index, const char* what) const {
  return script_symbol(at(index, what), what);
}

namespace {

template <class Names>
void check_statement_args(const ScriptStatement& s, const Names& allowed, size_t max_positional) {
  for (size_t i = 0; i < s.named.size(); ++i) {
    const ScriptNamedArg& arg = s.named[i];
    bool ok = false;
    for (const auto& a : allowed) ok = ok || arg.key == a;
    if (!ok) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(arg.loc, arg.key,
           "unknown argument of '" + s.keyword + "' (expected one of: " + list + ")");
    }
    for (size_t j = 0; j < i; ++j) {
      if (s.named[j].key == arg.key) fail(arg.loc, arg.key, "argument given twice");
    }
  }
  if (s.positional.size() > max_positional) {
    fail(s.positional[max_positional].loc, "",
         "'" + s.keyword + "' takes " + std::to_string(max_positional) + " positional argument(s)");
  }
}

}  // namespace

void ScriptStatement::check_args(std::initializer_list<const char*> allowed,
                                 size_t max_positional) const {
  check_statement_args(*this, allowed, max_positional);
}

void ScriptStatement::check_args(const std::vector<std::string>& allowed,
                                 size_t max_positional) const {
  check_statement_args(*this, allowed, max_positional);
}

}  // namespace iosim
