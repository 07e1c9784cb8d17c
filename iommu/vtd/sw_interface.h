// What software sees of the VT-d front-end (iommu.arch = vtd), and all that its
// driver in os/ includes of it: the register map, the in-memory formats the driver
// writes and the IOMMU reads (descriptors and tables, iommu/vtd/descriptors.h), and
// the interrupt lines.
//
// The registers are reached over TLM (the Iommu's `regs` target socket): 64-bit
// registers, 4- or 8-byte aligned accesses; offsets follow VT-d (Architecture
// Specification rev. 3.x, chapter 11) where a VT-d register exists:
//   0x000 VER     ro  0x10
//   0x020 RTADDR  rw  root table address (4 KiB aligned)
//   0x038 FSTS    rw1c bit 0 PFO, 1 PPF (ro), 4 IQE, 6 ITE
//   0x080 IQH     ro  command queue head (byte offset)
//   0x088 IQT     rw  command queue tail (byte offset, bits 18:4); a write starts processing
//   0x090 IQA     rw  command queue base | QS (256 << QS descriptors; resets IQH/IQT)
//   0x098 ICS     rw1c bit 0 IWC (an inv_wait with IF=1 completed)
//   0x0C0 PQH     rw  page request queue head (byte offset)
//   0x0C8 PQT     ro  page request queue tail
//   0x0D0 PQA     rw  page request queue base | PQS (128 << PQS descriptors; resets PQH/PQT)
//   0x0D8 PRS     rw1c bit 0 PPR, 1 PRO
//   0x400 + 16 i  FRCD i: qw0 ro, qw1 (bit 63 F rw1c)
// Unknown offsets read 0 and ignore writes.
//
// Interrupts (iommu/interrupts.h): the completion line is an inv_wait with IF=1
// (ICS.IWC); the fault line a fault record, FSTS.IQE or FSTS.ITE; the page request
// line PRS.PPR.
#pragma once

#include <cstdint>

#include "iommu/interrupts.h"
#include "iommu/vtd/descriptors.h"

namespace iosim {

namespace vtd_reg {
inline constexpr uint64_t kVer = 0x000;
inline constexpr uint64_t kRtaddr = 0x020;
inline constexpr uint64_t kFsts = 0x038;
inline constexpr uint64_t kIqh = 0x080;
inline constexpr uint64_t kIqt = 0x088;
inline constexpr uint64_t kIqa = 0x090;
inline constexpr uint64_t kIcs = 0x098;
inline constexpr uint64_t kPqh = 0x0c0;
inline constexpr uint64_t kPqt = 0x0c8;
inline constexpr uint64_t kPqa = 0x0d0;
inline constexpr uint64_t kPrs = 0x0d8;
inline constexpr uint64_t kFrcdBase = 0x400;
inline constexpr uint64_t kFstsPfo = 1u << 0, kFstsPpf = 1u << 1, kFstsIqe = 1u << 4,
                          kFstsIte = 1u << 6;
inline constexpr uint64_t kIcsIwc = 1u << 0;
inline constexpr uint64_t kPrsPpr = 1u << 0, kPrsPro = 1u << 1;
}  // namespace vtd_reg

}  // namespace iosim
