// OutputFile: temporary name, checked before the run, renamed on success.
#include "platform/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace iosim {

namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

OutputFile::OutputFile(std::string final_path) : final_(std::move(final_path)) {
  if (!final_.empty()) temp_ = final_ + ".partial-" + std::to_string(::getpid());
}

OutputFile::~OutputFile() {
  discard();
}

bool OutputFile::prepare() {
  if (final_.empty()) return true;
  if (is_directory(final_) || final_.back() == '/') {
    error_ = "cannot write '" + final_ + "': it is a directory";
    return false;
  }
  const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0) {
    error_ = "cannot write '" + final_ + "': " + std::strerror(errno);
    return false;
  }
  ::close(fd);
  std::remove(temp_.c_str());  // the producer creates it again
  return true;
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

bool commit_outputs(const std::vector<OutputFile*>& outputs, std::string& error) {
  for (OutputFile* f : outputs) {
    if (!f->final_path().empty() && !exists(f->temp_path())) {
      error = "cannot write '" + f->final_path() + "': the output was not produced";
      for (OutputFile* g : outputs) g->discard();
      return false;
    }
  }
  std::vector<OutputFile*> done;
  for (OutputFile* f : outputs) {
    if (f->commit()) {
      done.push_back(f);
      continue;
    }
    error = f->error();
    for (OutputFile* g : done) std::remove(g->final_path().c_str());
    for (OutputFile* g : outputs) g->discard();
    return false;
  }
  return true;
}

}  // namespace iosim
