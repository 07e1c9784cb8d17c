// DescriptorError: an in-memory structure (a command, a table entry) whose type or
// fields the hardware does not accept. Each front-end reports it its own way: VT-d's
// queue processor records an Invalidation Queue Error, SMMUv3's a command queue error
// or a C_BAD_* event.
#pragma once

#include <stdexcept>

namespace iosim {

class DescriptorError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace iosim
