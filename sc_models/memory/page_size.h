// Page sizes of the x86-64 4-level paging every address space here uses: the CPU
// page tables, the IOMMU's first-stage tables (the same format, VT-d 3.4, 3.6) and
// the frames of physical memory.
//
// Intel SDM Vol. 3A, 4.5 "4-Level Paging and 5-Level Paging": a page-table entry maps
// a 4-KByte page; a page-directory entry with PS = 1 a 2-MByte page; a PDPT entry with
// PS = 1 a 1-GByte page. Each paging structure is one 4-KByte page of 512 8-byte
// entries, each level translating 9 bits of the address.
#pragma once

#include <cstdint>

namespace iosim {

inline constexpr unsigned kPageShift = 12;                         // 4 KiB
inline constexpr uint64_t kPageBytes = uint64_t{1} << kPageShift;  // 4096
inline constexpr uint64_t kPageOffsetMask = kPageBytes - 1;        // bits 11:0
inline constexpr uint64_t kPageMask = ~kPageOffsetMask;            // page base of an address

inline constexpr unsigned k2MiBPageShift = 21;
inline constexpr uint64_t k2MiBPageBytes = uint64_t{1} << k2MiBPageShift;

inline constexpr unsigned k1GiBPageShift = 30;
inline constexpr uint64_t k1GiBPageBytes = uint64_t{1} << k1GiBPageShift;

// Address bits translated per paging level (512 entries per table).
inline constexpr unsigned kLevelIndexBits = 9;

// Pages that `bytes` bytes from a page boundary touch.
constexpr uint64_t pages_in(uint64_t bytes) {
  return (bytes + kPageOffsetMask) >> kPageShift;
}

}  // namespace iosim
