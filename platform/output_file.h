// OutputFile: an output written under a temporary name and renamed into place
// only when the run succeeds, so bad input or a crash leaves no partial file.
//
// The temporary file is in the same directory as the final one (rename is atomic
// there). The destructor removes the temporary if commit() was not called.
#pragma once

#include <string>

namespace iosim {

class OutputFile {
 public:
  // final_path empty: no output requested (temp_path() is empty too).
  explicit OutputFile(std::string final_path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }
  // Renames the temporary onto the final name. Returns false (and sets error())
  // when the producer did not write it or the rename fails.
  bool commit();
  // Removes the temporary (idempotent).
  void discard();
  const std::string& error() const { return error_; }

 private:
  std::string final_, temp_, error_;
  bool done_ = false;
};

}  // namespace iosim
