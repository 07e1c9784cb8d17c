// What software sees of the AMD-Vi front end: the MMIO register map (AMD I/O
// Virtualization Technology (IOMMU) Specification #48882, 3.4) and, through
// iommu/amdvi/formats.h, the in-memory formats the driver writes and the IOMMU reads.
// Pure C++: no SystemC types, so a driver model, a test or a tool can use it.
//
// Every register is 64 bits wide at an 8-byte aligned offset (3.4). Offsets and bits are
// the specification's (Linux drivers/iommu/amd/amd_iommu_types.h names the same). The
// registers the model does not implement (exclusion range, MSI, GA log, performance
// counters, the second PPR and event logs, segment tables) read 0 and ignore writes.
//
// Ring buffers (3.4.1 - 3.4.3, 3.4.9): the command buffer, event log and PPR log are
// circular buffers of 2^Len 16-byte entries (Len 8..15: 4 KiB .. 512 KiB) at a 4 KiB
// aligned base. Head and tail registers hold the byte offset of an entry in bits 18:4.
// A buffer is empty when head == tail and full when advancing the tail would reach the
// head (one entry always stays free).
#pragma once

#include <cstdint>

#include "iommu/amdvi/formats.h"

namespace iosim::amdvi {

namespace reg {
// ---- Offsets (3.4) ----
inline constexpr uint64_t kDevTableBase = 0x0000;
inline constexpr uint64_t kCmdBufBase = 0x0008;
inline constexpr uint64_t kEventLogBase = 0x0010;
inline constexpr uint64_t kControl = 0x0018;
inline constexpr uint64_t kExclusionBase = 0x0020;
inline constexpr uint64_t kExclusionLimit = 0x0028;
inline constexpr uint64_t kExtFeature = 0x0030;
inline constexpr uint64_t kPprLogBase = 0x0038;
inline constexpr uint64_t kCmdBufHead = 0x2000;
inline constexpr uint64_t kCmdBufTail = 0x2008;
inline constexpr uint64_t kEventLogHead = 0x2010;
inline constexpr uint64_t kEventLogTail = 0x2018;
inline constexpr uint64_t kStatus = 0x2020;
inline constexpr uint64_t kPprLogHead = 0x2030;
inline constexpr uint64_t kPprLogTail = 0x2038;
inline constexpr uint64_t kRegionBytes = 0x4000;

// ---- Device Table Base Address (3.4.1): 8:0 Size (4 KiB units - 1), 51:12 base ----
inline constexpr Field kDevTableSize{8, 0};
inline constexpr Field kBaseAddr{51, 12};  // every base register's address field
// ---- Command buffer, event log, PPR log base (3.4.2, 3.4.3, 3.4.9): 59:56 Len ----
inline constexpr Field kBaseLen{59, 56};
inline constexpr unsigned kMinLen = 8;   // 256 entries
inline constexpr unsigned kMaxLen = 15;  // 32768 entries
// ---- Head and tail pointers (3.4.x): the entry's byte offset in bits 18:4 ----
inline constexpr Field kPointer{18, 4};

// ---- Control (3.4.4) ----
inline constexpr uint64_t kCtrlIommuEn = 1ull << 0;
inline constexpr uint64_t kCtrlHtTunEn = 1ull << 1;
inline constexpr uint64_t kCtrlEventLogEn = 1ull << 2;
inline constexpr uint64_t kCtrlEventIntEn = 1ull << 3;
inline constexpr uint64_t kCtrlComWaitIntEn = 1ull << 4;
inline constexpr Field kCtrlInvTimeout{7, 5};  // stored; the model's is itag_timeout_ns
inline constexpr uint64_t kCtrlPassPw = 1ull << 8;
inline constexpr uint64_t kCtrlResPassPw = 1ull << 9;
inline constexpr uint64_t kCtrlCoherent = 1ull << 10;
inline constexpr uint64_t kCtrlIsoc = 1ull << 11;
inline constexpr uint64_t kCtrlCmdBufEn = 1ull << 12;
inline constexpr uint64_t kCtrlPprLogEn = 1ull << 13;
inline constexpr uint64_t kCtrlPprIntEn = 1ull << 14;
inline constexpr uint64_t kCtrlPprEn = 1ull << 15;
inline constexpr uint64_t kCtrlGtEn = 1ull << 16;
inline constexpr uint64_t kCtrlGaEn = 1ull << 17;
// CTRL_INV_TO_* values of InvTimeout (Linux sets 1 s).
inline constexpr uint64_t kInvTimeout1s = 4;

// ---- Status (3.4.6): the overflow and interrupt bits are write-1-to-clear ----
inline constexpr uint64_t kStatusEventOverflow = 1ull << 0;
inline constexpr uint64_t kStatusEventLogInt = 1ull << 1;
inline constexpr uint64_t kStatusComWaitInt = 1ull << 2;
inline constexpr uint64_t kStatusEventLogRun = 1ull << 3;
inline constexpr uint64_t kStatusCmdBufRun = 1ull << 4;
inline constexpr uint64_t kStatusPprOverflow = 1ull << 5;
inline constexpr uint64_t kStatusPprInt = 1ull << 6;
inline constexpr uint64_t kStatusPprLogRun = 1ull << 7;
inline constexpr uint64_t kStatusW1c = kStatusEventOverflow | kStatusEventLogInt |
                                       kStatusComWaitInt | kStatusPprOverflow | kStatusPprInt;

// ---- Extended Feature Register (3.4.5), read-only ----
inline constexpr uint64_t kEfrPrefSup = 1ull << 0;
inline constexpr uint64_t kEfrPprSup = 1ull << 1;
inline constexpr uint64_t kEfrXtSup = 1ull << 2;
inline constexpr uint64_t kEfrNxSup = 1ull << 3;
inline constexpr uint64_t kEfrGtSup = 1ull << 4;
inline constexpr uint64_t kEfrIaSup = 1ull << 6;
inline constexpr uint64_t kEfrGaSup = 1ull << 7;
inline constexpr uint64_t kEfrHeSup = 1ull << 8;
inline constexpr uint64_t kEfrPcSup = 1ull << 9;
inline constexpr Field kEfrHats{11, 10};    // host address translation size: 0 = 4 levels
inline constexpr Field kEfrGats{13, 12};    // guest address translation size: 0 = 4 levels
inline constexpr Field kEfrGlxSup{15, 14};  // GCR3 table levels supported - 1
inline constexpr Field kEfrPasMax{36, 32};  // PASIDs: 2^(PASmax + 1)
}  // namespace reg

// ---- Ring pointers ----

// Bytes of a ring of 2^len entries of `entry_bytes` (len clamped to 8..15).
constexpr uint64_t ring_bytes(unsigned len, uint32_t entry_bytes = 16) {
  const unsigned l = len < reg::kMinLen ? reg::kMinLen : (len > reg::kMaxLen ? reg::kMaxLen : len);
  return (uint64_t{1} << l) * entry_bytes;
}
// The pointer (a byte offset) advanced by one 16-byte entry, wrapping at `bytes`.
constexpr uint64_t ring_next(uint64_t ptr, uint64_t bytes) {
  return (ptr + 16) % bytes;
}
constexpr bool ring_empty(uint64_t head, uint64_t tail) {
  return head == tail;
}
constexpr bool ring_full(uint64_t head, uint64_t tail, uint64_t bytes) {
  return ring_next(tail, bytes) == head;
}
// Entries between head and tail.
constexpr uint64_t ring_used(uint64_t head, uint64_t tail, uint64_t bytes) {
  return ((tail + bytes - head) % bytes) / 16;
}

}  // namespace iosim::amdvi
