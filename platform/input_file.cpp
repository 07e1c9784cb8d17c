// Bounded reading of config and script files.
#include "platform/input_file.h"

#include <sys/stat.h>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace iosim {

namespace {

std::string size_text(uint64_t bytes) {
  if (bytes % (uint64_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

bool read_input_file(const std::string& path, uint64_t max_bytes, const std::string& what,
                     std::string& text, std::string& error) {
  struct stat st {};
  if (path.empty()) {
    error = "no " + what + " named (empty path)";
    return false;
  }
  if (::stat(path.c_str(), &st) != 0) {
    error = "cannot open " + what + " '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    error = "'" + path + "' is a directory, not a " + what;
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + what + " '" + path + "'";
    return false;
  }
  text.clear();
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      error = what + " '" + path + "' is larger than " + size_text(max_bytes) +
              " (the limit for a " + what + ")";
      text.clear();
      return false;
    }
  }
  if (in.bad()) {
    error = "cannot read " + what + " '" + path + "'";
    return false;
  }
  return true;
}

}  // namespace iosim
