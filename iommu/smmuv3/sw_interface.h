// What software sees of the SMMUv3 front end: the register map (Arm IHI 0070, "SMMU
// architecture specification" v3.x, chapter 6), the queue pointer arithmetic (spec 3.5)
// and, through iommu/smmuv3/formats.h, the in-memory formats the driver writes and the
// SMMU reads. Pure C++: no SystemC types, so a driver model, a test or a tool can use it.
//
// Offsets are the spec's. Registers are 32-bit unless marked 64; the spec's page 1
// (offset 0x10000) holds EVENTQ_PROD/CONS and PRIQ_PROD/CONS, which are kept at their
// page-1 offsets here (0x100A8, 0x100AC, 0x100C8, 0x100CC). Fields are given as Field
// {hi, lo} (formats.h) or single-bit masks. Registers and fields the model does not use
// (secure bank, IDR2/IDR4, the PMCG and ECMDQ pages, VATOS) are left out.
//
// Queues (spec 3.5): a queue of 2^LOG2SIZE entries is indexed by PROD and CONS, each
// holding an index in bits LOG2SIZE-1:0 and a wrap bit at bit LOG2SIZE: equal index
// and wrap means empty, equal index with different wrap means full. Bits above the
// wrap bit carry other fields (CMDQ_CONS.ERR, the overflow flags) and are preserved by
// queue_next().
//
// The range invalidation capability is IDR3.RIL (bit 10), not an IDR0 bit.
#pragma once

#include <cstdint>

#include "iommu/smmuv3/formats.h"

namespace iosim::smmuv3 {

namespace reg {
// ---- Offsets (spec 6.3) ----
inline constexpr uint64_t kIdr0 = 0x0000;
inline constexpr uint64_t kIdr1 = 0x0004;
inline constexpr uint64_t kIdr3 = 0x000c;
inline constexpr uint64_t kIdr5 = 0x0014;
inline constexpr uint64_t kIidr = 0x0018;
inline constexpr uint64_t kAidr = 0x001c;
inline constexpr uint64_t kCr0 = 0x0020;
inline constexpr uint64_t kCr0Ack = 0x0024;
inline constexpr uint64_t kCr1 = 0x0028;
inline constexpr uint64_t kCr2 = 0x002c;
inline constexpr uint64_t kStatusr = 0x0040;
inline constexpr uint64_t kGbpa = 0x0044;
inline constexpr uint64_t kIrqCtrl = 0x0050;
inline constexpr uint64_t kIrqCtrlAck = 0x0054;
inline constexpr uint64_t kGerror = 0x0060;
inline constexpr uint64_t kGerrorN = 0x0064;
inline constexpr uint64_t kGerrorIrqCfg0 = 0x0068;  // 64
inline constexpr uint64_t kGerrorIrqCfg1 = 0x0070;
inline constexpr uint64_t kGerrorIrqCfg2 = 0x0074;
inline constexpr uint64_t kStrtabBase = 0x0080;  // 64
inline constexpr uint64_t kStrtabBaseCfg = 0x0088;
inline constexpr uint64_t kCmdqBase = 0x0090;  // 64
inline constexpr uint64_t kCmdqProd = 0x0098;
inline constexpr uint64_t kCmdqCons = 0x009c;
inline constexpr uint64_t kEventqBase = 0x00a0;     // 64
inline constexpr uint64_t kEventqIrqCfg0 = 0x00b0;  // 64
inline constexpr uint64_t kEventqIrqCfg1 = 0x00b8;
inline constexpr uint64_t kEventqIrqCfg2 = 0x00bc;
inline constexpr uint64_t kPriqBase = 0x00c0;     // 64
inline constexpr uint64_t kPriqIrqCfg0 = 0x00d0;  // 64
inline constexpr uint64_t kPriqIrqCfg1 = 0x00d8;
inline constexpr uint64_t kPriqIrqCfg2 = 0x00dc;
inline constexpr uint64_t kPage1 = 0x10000;
inline constexpr uint64_t kEventqProd = kPage1 + 0x00a8;
inline constexpr uint64_t kEventqCons = kPage1 + 0x00ac;
inline constexpr uint64_t kPriqProd = kPage1 + 0x00c8;
inline constexpr uint64_t kPriqCons = kPage1 + 0x00cc;
inline constexpr uint64_t kRegionBytes = 2 * kPage1;  // pages 0 and 1, 64 KiB each

// ---- IDR0 (6.3.1) ----
inline constexpr uint32_t kIdr0S2p = 1u << 0;
inline constexpr uint32_t kIdr0S1p = 1u << 1;
inline constexpr Field kIdr0Ttf{3, 2};  // 0b10 AArch64 tables
inline constexpr uint32_t kIdr0TtfAarch64 = 0b10;
inline constexpr uint32_t kIdr0Cohacc = 1u << 4;
inline constexpr Field kIdr0Httu{7, 6};  // 0 none, 1 access flag, 2 access flag + dirty
inline constexpr uint32_t kIdr0Hyp = 1u << 9;
inline constexpr uint32_t kIdr0Ats = 1u << 10;
inline constexpr uint32_t kIdr0Asid16 = 1u << 12;
inline constexpr uint32_t kIdr0Msi = 1u << 13;
inline constexpr uint32_t kIdr0Sev = 1u << 14;
inline constexpr uint32_t kIdr0Pri = 1u << 16;
inline constexpr uint32_t kIdr0Vmid16 = 1u << 18;
inline constexpr uint32_t kIdr0Cd2l = 1u << 19;  // 2-level CD tables
inline constexpr Field kIdr0TtEndian{22, 21};    // 0b10 little-endian only
inline constexpr uint32_t kIdr0TtEndianLe = 0b10;
inline constexpr Field kIdr0StallModel{25, 24};  // 0b01 stall not supported
inline constexpr uint32_t kIdr0StallModelNoStall = 0b01;
inline constexpr Field kIdr0StLevel{28, 27};  // 0b00 linear only, 0b01 2-level too
inline constexpr uint32_t kIdr0StLevel2 = 0b01;

// ---- IDR1 (6.3.2): log2 sizes ----
inline constexpr Field kIdr1SidSize{5, 0};
inline constexpr Field kIdr1SsidSize{10, 6};
inline constexpr Field kIdr1PriqS{15, 11};
inline constexpr Field kIdr1EventqS{20, 16};
inline constexpr Field kIdr1CmdqS{25, 21};

// ---- IDR3 (6.3.4) ----
inline constexpr uint32_t kIdr3Ril = 1u << 10;  // range invalidation (TLBI TG/NUM/SCALE)

// ---- IDR5 (6.3.6) ----
inline constexpr Field kIdr5Oas{2, 0};  // 0 32, 1 36, 2 40, 3 42, 4 44, 5 48, 6 52 bits
inline constexpr uint32_t kIdr5Oas48 = 0b101;
inline constexpr uint32_t kIdr5Gran4K = 1u << 4;
inline constexpr uint32_t kIdr5Gran16K = 1u << 5;
inline constexpr uint32_t kIdr5Gran64K = 1u << 6;

// ---- CR0 / CR0ACK (6.3.9, 6.3.10) ----
inline constexpr uint32_t kCr0SmmuEn = 1u << 0;
inline constexpr uint32_t kCr0PriqEn = 1u << 1;
inline constexpr uint32_t kCr0EventqEn = 1u << 2;
inline constexpr uint32_t kCr0CmdqEn = 1u << 3;
inline constexpr uint32_t kCr0AtsChk = 1u << 4;

// ---- CR1 (6.3.11): table and queue access attributes ----
inline constexpr Field kCr1QueueIc{1, 0};
inline constexpr Field kCr1QueueOc{3, 2};
inline constexpr Field kCr1QueueSh{5, 4};
inline constexpr Field kCr1TableIc{7, 6};
inline constexpr Field kCr1TableOc{9, 8};
inline constexpr Field kCr1TableSh{11, 10};

// ---- CR2 (6.3.12) ----
inline constexpr uint32_t kCr2E2h = 1u << 0;
inline constexpr uint32_t kCr2RecInvSid = 1u << 1;  // record C_BAD_STREAMID
inline constexpr uint32_t kCr2Ptm = 1u << 2;        // private TLB maintenance

// ---- GBPA (6.3.14): global bypass attributes ----
inline constexpr uint32_t kGbpaAbort = 1u << 20;  // SMMUEN=0 aborts instead of bypassing
inline constexpr uint32_t kGbpaUpdate = 1u << 31;

// ---- IRQ_CTRL / IRQ_CTRLACK (6.3.16, 6.3.17) ----
inline constexpr uint32_t kIrqCtrlGerrorIrqEn = 1u << 0;
inline constexpr uint32_t kIrqCtrlPriqIrqEn = 1u << 1;
inline constexpr uint32_t kIrqCtrlEventqIrqEn = 1u << 2;

// ---- GERROR / GERRORN (6.3.18, 6.3.19): an error is active while the bits differ ----
inline constexpr uint32_t kGerrorCmdqErr = 1u << 0;
inline constexpr uint32_t kGerrorEventqAbtErr = 1u << 2;
inline constexpr uint32_t kGerrorPriqAbtErr = 1u << 3;
inline constexpr uint32_t kGerrorMsiCmdqAbtErr = 1u << 4;
inline constexpr uint32_t kGerrorMsiEventqAbtErr = 1u << 5;
inline constexpr uint32_t kGerrorMsiPriqAbtErr = 1u << 6;
inline constexpr uint32_t kGerrorMsiGerrorAbtErr = 1u << 7;
inline constexpr uint32_t kGerrorSfmErr = 1u << 8;
inline constexpr uint32_t kGerrorMask = 0x1fd;
constexpr uint32_t gerror_active(uint32_t gerror, uint32_t gerrorn) {
  return (gerror ^ gerrorn) & kGerrorMask;
}

// ---- *_IRQ_CFG0..2 (6.3.20 - 6.3.22 and the queue equivalents): MSI target ----
inline constexpr Field kIrqCfg0Addr{51, 2};  // CFG0 (64): MSI address, 4-byte aligned
inline constexpr Field kIrqCfg1Data{31, 0};  // CFG1: MSI payload
inline constexpr Field kIrqCfg2MemAttr{3, 0};
inline constexpr Field kIrqCfg2Sh{5, 4};

// ---- STRTAB_BASE (64) / STRTAB_BASE_CFG (6.3.23, 6.3.24) ----
inline constexpr Field kStrtabBaseAddr{51, 6};
inline constexpr uint64_t kStrtabBaseRa = 1ull << 62;
inline constexpr Field kStrtabCfgLog2Size{5, 0};  // log2 of the StreamIDs covered
inline constexpr Field kStrtabCfgSplit{10, 6};    // 2-level: StreamID bits in a level-2 table
inline constexpr Field kStrtabCfgFmt{17, 16};
inline constexpr uint32_t kStrtabFmtLinear = 0b00;
inline constexpr uint32_t kStrtabFmt2Level = 0b01;

// ---- CMDQ_BASE, EVENTQ_BASE, PRIQ_BASE (64; 6.3.25, 6.3.28, 6.3.32) ----
inline constexpr Field kQBaseLog2Size{4, 0};
inline constexpr Field kQBaseAddr{51, 5};
inline constexpr uint64_t kQBaseRwa = 1ull << 62;  // RA (CMDQ) or WA (EVENTQ, PRIQ)

// ---- CMDQ_CONS (6.3.27), EVENTQ_PROD/CONS, PRIQ_PROD/CONS (6.3.29 - 6.3.35) ----
inline constexpr Field kCmdqConsErr{30, 24};      // CmdqError of the command at CONS
inline constexpr uint32_t kQOverflow = 1u << 31;  // EVENTQ/PRIQ PROD.OVFLG, CONS.OVACKFLG
}  // namespace reg

// ---- Queue pointers (spec 3.5) ----

constexpr uint32_t queue_index(uint32_t ptr, unsigned log2size) {
  return ptr & ((1u << log2size) - 1);
}
constexpr bool queue_wrap(uint32_t ptr, unsigned log2size) {
  return (ptr >> log2size) & 1;
}
// Index and wrap bit together (bits LOG2SIZE:0).
constexpr uint32_t queue_position(uint32_t ptr, unsigned log2size) {
  return ptr & ((2u << log2size) - 1);
}
constexpr bool queue_empty(uint32_t prod, uint32_t cons, unsigned log2size) {
  return queue_position(prod, log2size) == queue_position(cons, log2size);
}
constexpr bool queue_full(uint32_t prod, uint32_t cons, unsigned log2size) {
  return queue_index(prod, log2size) == queue_index(cons, log2size) &&
         queue_wrap(prod, log2size) != queue_wrap(cons, log2size);
}
// Entries between cons and prod.
constexpr uint32_t queue_used(uint32_t prod, uint32_t cons, unsigned log2size) {
  return (queue_position(prod, log2size) - queue_position(cons, log2size)) & ((2u << log2size) - 1);
}
// ptr advanced by one entry (the wrap bit toggling at the end); the bits above the wrap
// bit are kept.
constexpr uint32_t queue_next(uint32_t ptr, unsigned log2size) {
  const uint32_t pos_mask = (2u << log2size) - 1;
  return (ptr & ~pos_mask) | ((ptr + 1) & pos_mask);
}
// Byte offset of the entry ptr points at, from the queue base.
constexpr uint64_t queue_entry_offset(uint32_t ptr, unsigned log2size, uint32_t entry_bytes) {
  return uint64_t{queue_index(ptr, log2size)} * entry_bytes;
}

}  // namespace iosim::smmuv3
