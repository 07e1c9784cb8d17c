// libFuzzer target: the config-file reader (platform/config_file.h) and the --set
// parser on arbitrary text.
//
// Every input must end in entries and errors, never in a crash, an exception, a
// sanitizer report or a hang. Inputs that mention "include" are skipped: an include
// names a file to read, and a fuzzer must not read arbitrary paths of the machine
// (/dev/zero, a FIFO, a huge file); the include handling is covered by the unit
// tests in tests/platform/.
#include "platform/config_file.h"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.find("include") != std::string::npos) return -1;  // not added to the corpus

  std::vector<iosim::ConfigEntry> entries;
  std::vector<iosim::ConfigError> errors;
  iosim::load_config_text(text, "fuzz.cfg", entries, errors);
  for (const iosim::ConfigError& e : errors) (void)e.to_string();

  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) iosim::parse_set_override(line, entries, errors);
  return 0;
}
