// OutputFile: an output written under a temporary name and renamed into place
// only when the run succeeds, so bad input or a crash leaves no partial file.
//
// The temporary file is in the same directory as the final one (rename is atomic
// there). prepare() creates and removes it before the run, so an output that cannot be
// written (a directory, a missing or read-only directory) is an error before any
// simulation. commit_outputs() renames a group of outputs all or none: every
// temporary must exist before the first rename, and a rename that fails removes
// the outputs of the group renamed before it. The destructor removes the
// temporary if commit() was not called.
#pragma once

#include <string>
#include <vector>

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
  // Checks that the final path is not a directory and that the temporary can be
  // created (it is removed again: the producer writes it). Returns false (and sets error()) when
  // either fails.
  bool prepare();
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

// Commits every output or none. Returns false and sets error to the first
// failure; then no final file of the group is left (the temporaries are removed).
bool commit_outputs(const std::vector<OutputFile*>& outputs, std::string& error);

}  // namespace iosim
