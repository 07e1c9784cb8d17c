// Bit fields of the IOMMU architectures' in-memory formats and registers, shared by
// every front-end's formats.h: a Field names bits hi..lo of a 64-bit word; the checked
// encoders throw DescriptorError (iommu/descriptor_error.h) naming the field when a
// value does not fit, rather than truncating it.
#pragma once

#include <cstdint>

namespace iosim {

// A contiguous bit field hi..lo of a 64-bit word or register.
struct Field {
  unsigned hi, lo;
  constexpr uint64_t max() const { return hi - lo == 63 ? ~0ull : (1ull << (hi - lo + 1)) - 1; }
  constexpr uint64_t mask() const { return max() << lo; }
  constexpr uint64_t get(uint64_t word) const { return (word >> lo) & max(); }
  constexpr uint64_t put(uint64_t value) const { return (value & max()) << lo; }
  constexpr bool fits(uint64_t value) const { return value <= max(); }
};

// Single bits.
constexpr uint64_t bit(bool b, unsigned pos) {
  return uint64_t{b} << pos;
}
constexpr bool bit_of(uint64_t w, unsigned pos) {
  return (w >> pos) & 1;
}

// `v` placed in field f; throws DescriptorError naming `what` when it does not fit.
uint64_t put_checked(Field f, uint64_t v, const char* what);
// An address held in place by field f (bits f.hi:f.lo are the address's own bits):
// the address itself; throws DescriptorError when it has bits outside the field.
uint64_t put_address(Field f, uint64_t addr, const char* what);

}  // namespace iosim
