// ConfigError formatting.
#include "platform/config_error.h"

namespace iosim {

std::string ConfigError::to_string() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line);
  if (line > 0 && column) s += ":" + std::to_string(*column);
  s += ": ";
  if (!key.empty()) s += key + ": ";
  return s + message;
}

bool operator==(const ConfigError& a, const ConfigError& b) {
  return a.file == b.file && a.line == b.line && a.column == b.column && a.key == b.key &&
         a.message == b.message;
}

std::ostream& operator<<(std::ostream& os, const ConfigError& e) {
  return os << e.to_string();
}

void print_errors(std::ostream& os, const std::vector<ConfigError>& errors) {
  for (const ConfigError& e : errors) os << e.to_string() << "\n";
}

}  // namespace iosim
