// Reading an input file (config file, include, scenario script) with a size limit.
//
// A config or script is small text. The limit keeps a wrong path (/dev/zero, a
// log, a disk image) from being read without end: reading stops one byte past the
// limit and the file is refused. A directory is refused too (on Linux it would
// otherwise open and read as empty). Other non-regular files (a pipe, /dev/stdin)
// are read like files, up to the limit.
#pragma once

#include <cstdint>
#include <string>

namespace iosim {

// Largest config file (each file, includes counted separately) and scenario script.
constexpr uint64_t kMaxConfigFileBytes = uint64_t{1} << 20;   // 1 MiB
constexpr uint64_t kMaxScriptFileBytes = uint64_t{16} << 20;  // 16 MiB
// Files read for one config, counting every include (a file included twice counts twice).
constexpr int kMaxConfigFiles = 256;

// Reads the file into text. On failure returns false and sets error to a message
// such as "cannot open config file 'x': No such file or directory"; `what` names
// the kind of file ("config file", "script file").
bool read_input_file(const std::string& path, uint64_t max_bytes, const std::string& what,
                     std::string& text, std::string& error);

}  // namespace iosim
