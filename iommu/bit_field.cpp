// Checked bit-field encoders of the in-memory formats.
#include "iommu/bit_field.h"

#include <cstdio>
#include <string>

#include "iommu/descriptor_error.h"

namespace iosim {

namespace {
std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

uint64_t put_checked(Field f, uint64_t v, const char* what) {
  if (!f.fits(v)) {
    throw DescriptorError(std::string(what) + ": " + hex(v) + " does not fit in bits " +
                          std::to_string(f.hi) + ":" + std::to_string(f.lo));
  }
  return f.put(v);
}

uint64_t put_address(Field f, uint64_t addr, const char* what) {
  if ((addr & ~f.mask()) != 0) {
    throw DescriptorError(std::string(what) + ": address " + hex(addr) +
                          " is not a multiple of 2^" + std::to_string(f.lo) + " below 2^" +
                          std::to_string(f.hi + 1));
  }
  return addr;
}

}  // namespace iosim
