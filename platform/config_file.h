// Config files: INI text read into an ordered list of (key, value, file, line).
//
// Syntax (Boost.Program_options' config-file format, plus the extras below):
//
//   # comment            ; comment (whole line)
//   include = base.cfg   # before the first [section]; path relative to this file
//   [iommu]
//   iotlb.sets = 64      # full key "iommu.iotlb.sets"
//   [device.2]
//   atc.ways = 8         # full key "device.2.atc.ways": instance 2 only
//
// The values come from boost::program_options::parse_config_file (unregistered
// options allowed); Boost does not report line numbers, so every line is
// pre-scanned to attach file:line to each key and to reject malformed lines with
// their position. An include is expanded in place, so a later line (or a later
// file) overrides an earlier one; --set overrides (parse_set_override) are
// appended last by the caller. Include cycles, missing files, directories, an
// empty include, a file larger than kMaxConfigFileBytes and more than
// kMaxConfigFiles files in all (platform/input_file.h) are errors.
//
// Simplifications: '#' starts a comment anywhere on a line (Boost's rule, so a
// value cannot contain '#'); ';' only at the start of a line; no line
// continuation; 'include' is only honoured before the first section.
#pragma once

#include "platform/config_error.h"

#include <string>
#include <vector>

namespace iosim {

struct ConfigEntry {
  std::string key;    // full dotted key, e.g. "iommu.iotlb.sets"
  std::string value;  // trimmed text after '='
  std::string file;   // file it came from, or "--set"
  int line = 0;       // 1-based line in that file, 0 for --set
};

// Reads a config file and the files it includes. Entries are appended in
// override order; problems are appended to errors (reading goes on after a bad
// line so that all errors are reported).
void load_config_file(const std::string& path, std::vector<ConfigEntry>& entries,
                      std::vector<ConfigError>& errors);

// Parses the text of one file (includes resolved relative to 'file').
void load_config_text(const std::string& text, const std::string& file,
                      std::vector<ConfigEntry>& entries, std::vector<ConfigError>& errors);

// Parses a "--set section.key=value" argument. Returns false and appends an
// error when there is no '=' or the key is empty.
bool parse_set_override(const std::string& arg, std::vector<ConfigEntry>& entries,
                        std::vector<ConfigError>& errors);

}  // namespace iosim
