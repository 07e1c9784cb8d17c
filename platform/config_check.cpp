// Post-load configuration checks and their locations.
#include "platform/config_check.h"

#include <cmath>

namespace iosim {

namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Whether `word` occurs in `text` as a whole word (not inside a longer name).
bool has_word(const std::string& text, const std::string& word) {
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool before = at == 0 || (!is_word_char(text[at - 1]) && text[at - 1] != '.');
    const size_t end = at + word.size();
    const bool after = end == text.size() || !is_word_char(text[end]);
    if (before && after) return true;
  }
  return false;
}

// Drops "section: " and "name " / "'name' " in front of what the message says.
std::string strip_name(std::string msg, const std::string& tail) {
  const size_t colon = msg.find(": ");
  if (colon != std::string::npos && colon < 40 && msg.find('\'') > colon) {
    msg = msg.substr(colon + 2);
  }
  for (const std::string& lead : {tail + ": ", tail + " ", "'" + tail + "' "}) {
    if (msg.compare(0, lead.size(), lead) == 0) return msg.substr(lead.size());
  }
  return msg;
}

const ConfigEntry* last_entry(const std::vector<ConfigEntry>& entries, const std::string& key) {
  const std::string general = key_without_instance(key);
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    if (it->key == key || it->key == general) return &*it;
  }
  return nullptr;
}

}  // namespace

void ConfigCheck::add(ConfigProblem p) {
  for (const ConfigProblem& q : problems_) {
    if (!p.keys.empty() && !q.keys.empty() && q.keys.front() == p.keys.front()) return;
  }
  problems_.push_back(std::move(p));
}

void ConfigCheck::at_most(const std::string& key, uint64_t value, uint64_t max,
                          const std::string& why) {
  require(value <= max, key,
          "is " + std::to_string(value) + ", more than the limit of " + std::to_string(max) + ": " +
              why);
}

void ConfigCheck::time_ns(const std::string& key, double value) {
  require(std::isfinite(value) && value >= 0 && value <= kMaxTimeNs, key,
          "must be a time from 0 to 1e15 ns (SystemC time is a 64-bit count of picoseconds), got " +
              format_value(value));
}

ConfigProblem ConfigCheck::problem_from_message(const std::string& prefix,
                                                const std::vector<std::string>& names,
                                                const std::string& message) {
  std::string best_key, best_tail;
  for (const std::string& name : names) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    // Candidate tails: "iotlb.lookup_ports", then "lookup_ports".
    for (size_t from = prefix.size(); from != std::string::npos;) {
      const std::string tail = name.substr(from);
      if (tail.size() > best_tail.size() && has_word(message, tail)) {
        best_key = name;
        best_tail = tail;
      }
      const size_t dot = name.find('.', from);
      from = dot == std::string::npos ? dot : dot + 1;
    }
  }
  if (best_key.empty()) {
    std::string section = prefix;
    if (!section.empty() && section.back() == '.') section.pop_back();
    return {{section}, message};
  }
  return {{best_key}, strip_name(message, best_tail)};
}

std::string key_without_instance(const std::string& key) {
  size_t start = 0;
  while (start < key.size()) {
    size_t dot = key.find('.', start);
    if (dot == std::string::npos) break;
    bool digits = dot > start;
    for (size_t i = start; i < dot; ++i) digits = digits && key[i] >= '0' && key[i] <= '9';
    if (digits) return key.substr(0, start) + key.substr(dot + 1);
    start = dot + 1;
  }
  return key;
}

std::vector<ConfigError> locate_problems(const std::vector<ConfigProblem>& problems,
                                         const std::vector<ConfigEntry>& entries) {
  std::vector<ConfigError> out;
  for (const ConfigProblem& p : problems) {
    ConfigError e{"(defaults)", 0, std::nullopt, p.keys.empty() ? "" : p.keys.front(), p.message};
    for (const std::string& key : p.keys) {
      if (const ConfigEntry* at = last_entry(entries, key)) {
        e.file = at->file;
        e.line = at->line;
        e.key = key;
        break;
      }
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace iosim
