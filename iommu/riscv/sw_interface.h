// What software sees of the RISC-V IOMMU front end: the register map (RISC-V IOMMU
// Architecture Specification v1.0, chapter 5), the queue index arithmetic (chapter 3)
// and, through iommu/riscv/formats.h, the in-memory formats. Pure C++: no SystemC types,
// so a driver model, a test or a tool can use it.
//
// Offsets and bits are the spec's (they agree with Linux's
// drivers/iommu/riscv/iommu-bits.h). Registers are 32-bit unless marked 64. Registers
// the model does not implement (the performance monitor, the debug translation
// interface, the MSI configuration table) are left out: they read 0.
//
// Queues (chapter 3): a queue of 2^(LOG2SZ-1 + 1) entries at a 4 KiB aligned base;
// head and tail are plain indices; head == tail is empty and tail == head - 1 full (one
// entry stays unused). The command queue's tail (cqt) is software's, its head (cqh) the
// IOMMU's; the fault and page request queues the other way round.
#pragma once

#include <cstdint>

#include "iommu/riscv/formats.h"

namespace iosim::riscv {

namespace reg {
// ---- Offsets (spec 5.2, register layout) ----
inline constexpr uint64_t kCapabilities = 0x0000;  // 64
inline constexpr uint64_t kFctl = 0x0008;
inline constexpr uint64_t kDdtp = 0x0010;  // 64
inline constexpr uint64_t kCqb = 0x0018;   // 64
inline constexpr uint64_t kCqh = 0x0020;
inline constexpr uint64_t kCqt = 0x0024;
inline constexpr uint64_t kFqb = 0x0028;  // 64
inline constexpr uint64_t kFqh = 0x0030;
inline constexpr uint64_t kFqt = 0x0034;
inline constexpr uint64_t kPqb = 0x0038;  // 64
inline constexpr uint64_t kPqh = 0x0040;
inline constexpr uint64_t kPqt = 0x0044;
inline constexpr uint64_t kCqcsr = 0x0048;
inline constexpr uint64_t kFqcsr = 0x004c;
inline constexpr uint64_t kPqcsr = 0x0050;
inline constexpr uint64_t kIpsr = 0x0054;
inline constexpr uint64_t kIcvec = 0x02f8;  // 64
inline constexpr uint64_t kRegionBytes = 0x1000;

// ---- capabilities (5.3) ----
inline constexpr Field kCapVersion{7, 0};
inline constexpr uint64_t kCapVersion10 = 0x10;  // major 1, minor 0
inline constexpr uint64_t kCapSv32 = 1ull << 8;
inline constexpr uint64_t kCapSv39 = 1ull << 9;
inline constexpr uint64_t kCapSv48 = 1ull << 10;
inline constexpr uint64_t kCapSv57 = 1ull << 11;
inline constexpr uint64_t kCapSvpbmt = 1ull << 15;
inline constexpr uint64_t kCapSv39x4 = 1ull << 17;
inline constexpr uint64_t kCapSv48x4 = 1ull << 18;
inline constexpr uint64_t kCapAmoMrif = 1ull << 21;
inline constexpr uint64_t kCapMsiFlat = 1ull << 22;
inline constexpr uint64_t kCapMsiMrif = 1ull << 23;
inline constexpr uint64_t kCapAmoHwad = 1ull << 24;
inline constexpr uint64_t kCapAts = 1ull << 25;
inline constexpr uint64_t kCapT2gpa = 1ull << 26;
inline constexpr uint64_t kCapEnd = 1ull << 27;
inline constexpr Field kCapIgs{29, 28};  // 0 MSI, 1 WSI, 2 both
inline constexpr uint64_t kIgsMsi = 0, kIgsWsi = 1, kIgsBoth = 2;
inline constexpr uint64_t kCapHpm = 1ull << 30;
inline constexpr uint64_t kCapDbg = 1ull << 31;
inline constexpr Field kCapPas{37, 32};
inline constexpr uint64_t kCapPd8 = 1ull << 38;
inline constexpr uint64_t kCapPd17 = 1ull << 39;
inline constexpr uint64_t kCapPd20 = 1ull << 40;

// ---- fctl (5.4) ----
inline constexpr uint32_t kFctlBe = 1u << 0;
inline constexpr uint32_t kFctlWsi = 1u << 1;
inline constexpr uint32_t kFctlGxl = 1u << 2;

// ---- ddtp (5.5): 3:0 iommu_mode, 4 busy, 53:10 PPN ----
inline constexpr Field kDdtpMode{3, 0};
inline constexpr uint64_t kDdtpBusy = 1ull << 4;

// ---- cqb, fqb, pqb (5.6, 5.9, 5.12): 4:0 LOG2SZ-1, 53:10 PPN ----
inline constexpr Field kQbLog2SzM1{4, 0};
constexpr uint64_t queue_base(uint64_t addr, unsigned log2_entries) {
  return kQbLog2SzM1.put(log2_entries - 1) | addr_to_ppn_field(addr);
}

// ---- cqcsr, fqcsr, pqcsr (5.15 - 5.17) ----
inline constexpr uint32_t kQcsrEn = 1u << 0;   // cqen / fqen / pqen
inline constexpr uint32_t kQcsrIe = 1u << 1;   // cie / fie / pie
inline constexpr uint32_t kQcsrMf = 1u << 8;   // cqmf / fqmf / pqmf (RW1C)
inline constexpr uint32_t kQcsrOf = 1u << 9;   // fqof / pqof (RW1C)
inline constexpr uint32_t kQcsrOn = 1u << 16;  // cqon / fqon / pqon (RO)
inline constexpr uint32_t kQcsrBusy = 1u << 17;
inline constexpr uint32_t kCqcsrCmdTo = 1u << 9;      // RW1C
inline constexpr uint32_t kCqcsrCmdIll = 1u << 10;    // RW1C
inline constexpr uint32_t kCqcsrFenceWIp = 1u << 11;  // RW1C
inline constexpr uint32_t kCqcsrErrors = kQcsrMf | kCqcsrCmdTo | kCqcsrCmdIll;

// ---- ipsr (5.18, RW1C) ----
inline constexpr uint32_t kIpsrCip = 1u << 0;
inline constexpr uint32_t kIpsrFip = 1u << 1;
inline constexpr uint32_t kIpsrPmip = 1u << 2;
inline constexpr uint32_t kIpsrPip = 1u << 3;

// ---- icvec (5.27): the interrupt vector of each cause ----
inline constexpr Field kIcvecCiv{3, 0};
inline constexpr Field kIcvecFiv{7, 4};
inline constexpr Field kIcvecPmiv{11, 8};
inline constexpr Field kIcvecPiv{15, 12};
}  // namespace reg

// ---- Queue indices (chapter 3) ----

constexpr uint32_t queue_mask(unsigned log2_entries) {
  return (1u << log2_entries) - 1;
}
constexpr uint32_t queue_next(uint32_t index, unsigned log2_entries) {
  return (index + 1) & queue_mask(log2_entries);
}
constexpr bool queue_empty(uint32_t head, uint32_t tail) {
  return head == tail;
}
constexpr bool queue_full(uint32_t head, uint32_t tail, unsigned log2_entries) {
  return queue_next(tail, log2_entries) == head;
}
// Entries between head and tail.
constexpr uint32_t queue_used(uint32_t head, uint32_t tail, unsigned log2_entries) {
  return (tail - head) & queue_mask(log2_entries);
}

}  // namespace iosim::riscv
