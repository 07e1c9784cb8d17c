// ConfigCheck: the checks that run on a loaded configuration (ranges, bounds that
// keep host memory in check, parameters that must agree), each naming the full keys
// of the values concerned, and locate_problems(), which reports each at the config
// line (or --set) that gave the value.
//
// A check lists the keys of the values that caused it, most specific first
// ("device.1.atc.ways"; for a pair that must agree, both). locate_problems() takes
// the first key that an entry set: the last entry with that key, or with the same
// key without the instance number (a "[device] atc.ways" line sets it for every
// device). A problem no entry set (a default that disagrees with another default)
// is reported at the first key with the file "(defaults)".
//
// Sub-configurations outside the platform validate themselves and throw with
// messages that name their parameters in their own ways; run_validate() turns such
// an exception into a problem at the full key of the parameter the message names
// (the longest parameter name or name tail found in it).
#pragma once

#include "platform/config_error.h"
#include "platform/config_file.h"
#include "sc_models/config/params.h"

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace iosim {

struct ConfigProblem {
  std::vector<std::string> keys;  // full keys, most specific first
  std::string message;
};

class ConfigCheck {
 public:
  // A problem at a key that already has one is dropped (the first one is kept).
  void require(bool ok, const std::string& key, const std::string& message) {
    if (!ok) add({{key}, message});
  }
  // Several values that must agree: keys[0] is reported where an entry set it, else keys[1] ...
  void require_keys(bool ok, const std::vector<std::string>& keys, const std::string& message) {
    if (!ok) add({keys, message});
  }
  // value <= max, else "is V, more than the limit of MAX: why".
  void at_most(const std::string& key, uint64_t value, uint64_t max, const std::string& why);
  // A time in ns: finite, >= 0 and at most kMaxTimeNs.
  void time_ns(const std::string& key, double value);

  // Calls validate(); an exception becomes a problem at the parameter of `names`
  // (full names, all starting with prefix) that its message names.
  template <class F>
  void run_validate(const std::string& prefix, const std::vector<std::string>& names,
                    F&& validate) {
    try {
      validate();
    } catch (const std::exception& e) {
      add(problem_from_message(prefix, names, e.what()));
    }
  }

  bool ok() const { return problems_.empty(); }
  const std::vector<ConfigProblem>& problems() const { return problems_; }

  // The key and message of a sub-configuration's error message (see run_validate).
  static ConfigProblem problem_from_message(const std::string& prefix,
                                            const std::vector<std::string>& names,
                                            const std::string& message);

 private:
  void add(ConfigProblem p);
  std::vector<ConfigProblem> problems_;
};

// Largest time a parameter may give: SystemC time is a 64-bit count of the time
// resolution (1 ps: at most 1.8e16 ns), and sums of times must not reach it.
constexpr double kMaxTimeNs = 1e15;

// "device.1.atc.ways" -> "device.atc.ways" (the first all-digit component removed);
// the key itself when it has none.
std::string key_without_instance(const std::string& key);

// One ConfigError per problem, at the entry that set its value (see the file comment).
std::vector<ConfigError> locate_problems(const std::vector<ConfigProblem>& problems,
                                         const std::vector<ConfigEntry>& entries);

}  // namespace iosim
