// OutputFile: temporary name, renamed on success.
#include "platform/output_file.h"

#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace iosim {

OutputFile::OutputFile(std::string final_path) : final_(std::move(final_path)) {
  if (!final_.empty()) temp_ = final_ + ".partial-" + std::to_string(::getpid());
}

OutputFile::~OutputFile() {
  discard();
}

bool OutputFile::commit() {
  if (final_.empty() || done_) return true;
  done_ = true;
  if (std::rename(temp_.c_str(), final_.c_str()) != 0) {
    error_ = "cannot write '" + final_ + "': " + std::strerror(errno);
    std::remove(temp_.c_str());
    return false;
  }
  return true;
}

void OutputFile::discard() {
  if (final_.empty() || done_) return;
  done_ = true;
  std::remove(temp_.c_str());
}

}  // namespace iosim
