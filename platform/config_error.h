// ConfigError: one problem found in a config file, a --set override, a command
// line or a scenario script, with the place it came from.
//
// Every input error of the platform is collected as a ConfigError rather than
// thrown one at a time, so a user sees all mistakes of a file in one run. The CLI
// prints them as "file:line[:column]: key: message" on stderr and exits with 2.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace iosim {

struct ConfigError {
  std::string file;           // file name as given, or "<command line>"
  int line = 0;               // 1-based; 0 when the input has no lines
  std::optional<int> column;  // 1-based, when known
  std::string key;            // parameter or argument concerned; may be empty
  std::string message;        // what is wrong and what was expected

  // "file:line[:column]: [key: ]message"
  std::string to_string() const;
};

bool operator==(const ConfigError& a, const ConfigError& b);
std::ostream& operator<<(std::ostream& os, const ConfigError& e);

// Prints every error on its own line.
void print_errors(std::ostream& os, const std::vector<ConfigError>& errors);

}  // namespace iosim
