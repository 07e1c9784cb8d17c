// Config files: pre-scan for positions, Boost.Program_options for the values.
#include "platform/config_file.h"

#include "platform/input_file.h"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/parsers.hpp>

#include <cassert>
#include <filesystem>
#include <sstream>

namespace iosim {

namespace {

namespace fs = std::filesystem;

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return s.front() != '.' && s.back() != '.';
}

// One key line found by the pre-scan.
struct KeyLine {
  std::string key;
  int line;
};

class FileLoader {
 public:
  FileLoader(std::vector<ConfigEntry>& entries, std::vector<ConfigError>& errors)
      : entries_(entries), errors_(errors) {}

  void load_path(const std::string& path, const std::string& from_file, int from_line) {
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(fs::path(path), ec);
    std::string id = ec ? path : canon.string();
    for (const std::string& open : stack_) {
      if (open == id) {
        errors_.push_back({from_file, from_line, std::nullopt, "include",
                           "include cycle: '" + path + "' is already being read"});
        return;
      }
    }
    const std::string where = from_file.empty() ? path : from_file;
    const std::string key = from_file.empty() ? "" : "include";
    if (++files_read_ > kMaxConfigFiles) {
      errors_.push_back({where, from_line, std::nullopt, key,
                         "more than " + std::to_string(kMaxConfigFiles) +
                             " config files read (every include counts)"});
      return;
    }
    std::string text, error;
    if (!read_input_file(path, kMaxConfigFileBytes, "config file", text, error)) {
      errors_.push_back({where, from_line, std::nullopt, key, error});
      return;
    }
    stack_.push_back(id);
    load_text(text, path);
    stack_.pop_back();
  }

  void load_text(const std::string& text, const std::string& file) {
    std::vector<KeyLine> keys;
    std::string cleaned = prescan(text, file, keys);
    std::vector<std::pair<std::string, std::string>> values;
    if (!boost_parse(cleaned, file, values)) return;
    assert(values.size() == keys.size());
    for (size_t i = 0; i < keys.size() && i < values.size(); ++i) {
      if (keys[i].key == "include") {
        if (values[i].second.empty()) {
          errors_.push_back(
              {file, keys[i].line, std::nullopt, "include", "expected a file name after '='"});
          continue;
        }
        load_path(resolve(values[i].second, file), file, keys[i].line);
      } else {
        entries_.push_back({values[i].first, values[i].second, file, keys[i].line});
      }
    }
  }

 private:
  static std::string resolve(const std::string& target, const std::string& including) {
    fs::path p(target);
    if (p.is_absolute()) return target;
    return (fs::path(including).parent_path() / p).string();
  }

  // Returns the text handed to Boost: malformed and ';' comment lines blanked so
  // that Boost sees only lines the pre-scan accepted (and line counts agree).
  std::string prescan(const std::string& text, const std::string& file,
                      std::vector<KeyLine>& keys) {
    std::istringstream in(text);
    std::string raw, out, section;
    int line = 0;
    while (std::getline(in, raw)) {
      ++line;
      if (scan_line(raw, file, line, section, keys)) out += raw;
      out += "\n";
    }
    return out;
  }

  bool scan_line(const std::string& raw, const std::string& file, int line, std::string& section,
                 std::vector<KeyLine>& keys) {
    std::string s = trim(raw.substr(0, raw.find('#')));
    if (s.empty() || s[0] == ';') return false;
    int col = static_cast<int>(raw.find_first_not_of(" \t")) + 1;
    if (s.front() == '[') {
      std::string name = s.back() == ']' ? trim(s.substr(1, s.size() - 2)) : "";
      if (s.back() != ']' || !valid_name(name) || name != s.substr(1, s.size() - 2)) {
        errors_.push_back({file, line, col, "", "expected a section header such as [iommu]"});
        return false;
      }
      section = name;
      return true;
    }
    size_t eq = s.find('=');
    std::string key = eq == std::string::npos ? "" : trim(s.substr(0, eq));
    if (eq == std::string::npos || !valid_name(key)) {
      errors_.push_back(
          {file, line, col, "", "expected 'key = value', a [section] header or a comment"});
      return false;
    }
    if (key == "include" && !section.empty()) {
      errors_.push_back(
          {file, line, col, "include", "'include' is only allowed before the first [section]"});
      return false;
    }
    keys.push_back({key == "include" ? key : (section.empty() ? key : section + "." + key), line});
    return true;
  }

  bool boost_parse(const std::string& cleaned, const std::string& file,
                   std::vector<std::pair<std::string, std::string>>& values) {
    namespace po = boost::program_options;
    try {
      std::istringstream in(cleaned);
      po::options_description none;
      po::parsed_options parsed = po::parse_config_file(in, none, true);
      for (const po::option& o : parsed.options) {
        values.emplace_back(o.string_key, o.value.empty() ? std::string() : o.value.front());
      }
      return true;
    } catch (const std::exception& e) {
      errors_.push_back({file, 0, std::nullopt, "", std::string("config syntax: ") + e.what()});
      return false;
    }
  }

  std::vector<ConfigEntry>& entries_;
  std::vector<ConfigError>& errors_;
  std::vector<std::string> stack_;
  int files_read_ = 0;
};

}  // namespace

void load_config_file(const std::string& path, std::vector<ConfigEntry>& entries,
                      std::vector<ConfigError>& errors) {
  FileLoader(entries, errors).load_path(path, "", 0);
}

void load_config_text(const std::string& text, const std::string& file,
                      std::vector<ConfigEntry>& entries, std::vector<ConfigError>& errors) {
  FileLoader(entries, errors).load_text(text, file);
}

bool parse_set_override(const std::string& arg, std::vector<ConfigEntry>& entries,
                        std::vector<ConfigError>& errors) {
  size_t eq = arg.find('=');
  std::string key = eq == std::string::npos ? "" : trim(arg.substr(0, eq));
  if (eq == std::string::npos || !valid_name(key)) {
    errors.push_back(
        {"--set", 0, std::nullopt, "", "expected section.key=value, got '" + arg + "'"});
    return false;
  }
  entries.push_back({key, trim(arg.substr(eq + 1)), "--set", 0});
  return true;
}

}  // namespace iosim
