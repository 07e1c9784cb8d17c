// In-memory formats of the Arm SMMUv3 (Arm IHI 0070, "SMMU architecture specification",
// v3.x): the stream table, context descriptors, commands, event records and PRI queue
// entries, as plain structs with encode() to little-endian 64-bit words and a static
// decode(). Reserved bits are written 0 and ignored on decode; fields this model does not
// use (memory attributes, stage 2, secure state) are written 0 too. The layout comment
// of each struct gives word:bits, word w being bytes 8w..8w+7 of the structure.
//
// decode() rejects what the SMMU would: an ill-formed STE or CD throws ConfigError
// carrying the event the hardware records (C_BAD_STE, C_BAD_CD); a command with an
// unknown opcode or an illegal field throws CommandError carrying the CMDQ_CONS.ERR
// code (CERROR_ILL). Both derive from iosim::DescriptorError. encode() throws
// DescriptorError when a value does not fit its field.
//
// What the model implements, and so accepts (the ID registers in sw_interface.h say the
// same): stage 1 only (S2P=0: a stage-2 or nested STE is ILLEGAL), no EL2 (HYP=0: the
// TLBI_EL2 commands are CERROR_ILL), AArch64 little-endian tables only (CD.AA64=1,
// CD.ENDI=0). Translation goes through the simulator's x86-64-style 4-level tables (one
// page-table format for the CPU and every IOMMU): CD.TTB0 holds the PML4 address, and the
// only accepted walk geometry is T0SZ=16 (48-bit input) with TG0=4 KiB, which is the same
// 4-level walk of 512-entry tables. Stall mode is not modelled (CMD_RESUME decodes).
//
// Range TLBI: tlbi_range_commands() builds the CMD_TLBI_NH_VA sequence that Linux's
// __arm_smmu_tlb_inv_range (drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c) issues for a
// range; covered_range() is the hardware's reading of one command. atc_inv_span() is
// arm_smmu_atc_inv_to_cmd's choice of one ATC_INV span.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "iommu/bit_field.h"
#include "iommu/descriptor_error.h"

namespace iosim::smmuv3 {

// Structure sizes in bytes (spec 3.3, 4.1, 5.1, 5.4, 7.3, 8.1).
inline constexpr uint32_t kSteBytes = 64;
inline constexpr uint32_t kL1StdBytes = 8;
inline constexpr uint32_t kCdBytes = 64;
inline constexpr uint32_t kL1CdBytes = 8;
inline constexpr uint32_t kCmdBytes = 16;
inline constexpr uint32_t kEventBytes = 32;
inline constexpr uint32_t kPriqBytes = 16;

using CmdWords = std::array<uint64_t, 2>;
using SteWords = std::array<uint64_t, 8>;
using CdWords = std::array<uint64_t, 8>;
using EventWords = std::array<uint64_t, 4>;
using PriqWords = std::array<uint64_t, 2>;

// Event record types (spec 7.3, table of event types). Types this model does not raise
// are listed so that a decoded record names them.
enum class EventType : uint8_t {
  kFUut = 0x01,
  kCBadStreamid = 0x02,
  kFSteFetch = 0x03,
  kCBadSte = 0x04,
  kFBadAtsTreq = 0x05,
  kFStreamDisabled = 0x06,
  kFTranslForbidden = 0x07,
  kCBadSubstreamid = 0x08,
  kFCdFetch = 0x09,
  kCBadCd = 0x0a,
  kFWalkEabt = 0x0b,
  kFTranslation = 0x10,
  kFAddrSize = 0x11,
  kFAccess = 0x12,
  kFPermission = 0x13,
  kFTlbConflict = 0x20,
  kFCfgConflict = 0x21,
  kEPageRequest = 0x24,
};
const char* to_string(EventType t);

// CMDQ_CONS.ERR values (spec 4.1.4, 6.3.27).
enum class CmdqError : uint8_t { kNone = 0, kIll = 1, kAbt = 2, kAtcInvSync = 3 };

// An STE or CD the SMMU treats as ILLEGAL: event() is the configuration error recorded.
class ConfigError : public DescriptorError {
 public:
  ConfigError(EventType event, const std::string& what) : DescriptorError(what), event_(event) {}
  EventType event() const { return event_; }

 private:
  EventType event_;
};

// A command the SMMU refuses: cerror() is written to CMDQ_CONS.ERR.
class CommandError : public DescriptorError {
 public:
  CommandError(CmdqError cerror, const std::string& what)
      : DescriptorError(what), cerror_(cerror) {}
  CmdqError cerror() const { return cerror_; }

 private:
  CmdqError cerror_;
};

// ---- Stream table (spec 5.1, 5.2) ----

// Level-1 stream table descriptor (8 bytes, spec 5.1):
//   0: 4:0 Span (0 = no level-2 table; else it holds 2^(Span-1) STEs), 51:6 L2Ptr
struct L1Std {
  uint8_t span = 0;
  uint64_t l2ptr = 0;  // 64-byte aligned
  bool valid() const { return span != 0; }
  uint64_t ste_count() const { return span == 0 ? 0 : 1ull << (span - 1); }
  uint64_t encode() const;
  static L1Std decode(uint64_t word);
  bool operator==(const L1Std& o) const { return span == o.span && l2ptr == o.l2ptr; }
};

enum class SteConfig : uint8_t { kAbort = 0b000, kBypass = 0b100, kS1Translate = 0b101 };
enum class S1Fmt : uint8_t { kLinear = 0, kTwoLevel4K = 1, kTwoLevel64K = 2 };
enum class S1Dss : uint8_t { kTerminate = 0, kBypass = 1, kSubstream0 = 2 };
enum class Eats : uint8_t { kAbort = 0, kTranslate = 1 };
// StreamWorld values (STE.STRW): the model runs NS-EL1 streams only.
inline constexpr uint8_t kStrwNsEl1 = 0b00, kStrwEl2 = 0b10, kStrwEl2E2h = 0b11;

// Stream Table Entry (64 bytes, spec 5.2):
//   0: 0 V, 3:1 Config, 5:4 S1Fmt, 51:6 S1ContextPtr, 63:59 S1CDMax
//   1: 1:0 S1DSS, 27 S1STALLD, 29:28 EATS, 31:30 STRW
//   2..7: stage 2, memory attributes and the rest: written 0
// decode() throws ConfigError(C_BAD_STE) for V=0, a reserved or stage-2 Config,
// S1Fmt=3 or S1DSS=3 (when S1CDMax > 0) or EATS other than 0/1. The checks against
// the ID registers (S1CDMax <= SSIDSIZE, EATS with IDR0.ATS=0) are the model's.
struct Ste {
  bool valid = true;
  SteConfig config = SteConfig::kAbort;
  S1Fmt s1fmt = S1Fmt::kLinear;
  uint64_t s1_context_ptr = 0;  // 64-byte aligned: the CD (S1CDMax=0) or the CD table
  uint8_t s1_cdmax = 0;         // the CD table holds 2^s1_cdmax CDs
  S1Dss s1dss = S1Dss::kTerminate;
  bool s1stalld = false;
  Eats eats = Eats::kAbort;
  uint8_t strw = kStrwNsEl1;
  SteWords encode() const;
  static Ste decode(const SteWords& w);
  bool operator==(const Ste& o) const;
};

// ---- Context descriptors (spec 5.4) ----

// Level-1 CD table descriptor (8 bytes, spec 5.4.1):  0: 0 V, 51:12 L2Ptr
struct L1Cd {
  bool valid = false;
  uint64_t l2ptr = 0;  // 4 KiB aligned
  uint64_t encode() const;
  static L1Cd decode(uint64_t word);
  bool operator==(const L1Cd& o) const { return valid == o.valid && l2ptr == o.l2ptr; }
};

// TCR.TG0 values (4 KiB is the only one the model walks).
inline constexpr uint8_t kTg0_4K = 0b00, kTg0_64K = 0b01, kTg0_16K = 0b10;
// The walk the model implements: 48-bit input, 4 KiB granule, 4 levels from TTB0.
inline constexpr uint8_t kModelT0sz = 16;

// Context Descriptor (64 bytes, spec 5.4):
//   0: 5:0 T0SZ, 7:6 TG0, 14 EPD0, 15 ENDI, 30 EPD1, 31 V, 34:32 IPS, 35 AFFD,
//      41 AA64 (written 1), 42 HD, 43 HA, 44 S, 45 R, 46 A, 47 ASET, 63:48 ASID
//   1: 51:4 TTB0 (here: the physical address of the x86-64-style PML4)
//   3: MAIR
//   2, 4..7 (TTB1, AMAIR, the rest) and the TCR cacheability fields: written 0
// decode() throws ConfigError(C_BAD_CD) for V=0, AA64=0, ENDI=1, or any walk geometry
// other than T0SZ=16, TG0=4 KiB.
struct Cd {
  bool valid = true;
  uint8_t t0sz = kModelT0sz;
  uint8_t tg0 = kTg0_4K;
  bool epd0 = false;  // no walks through TTB0
  bool epd1 = true;   // no walks through TTB1 (the model has no upper half)
  bool endi = false;
  uint8_t ips = 0b101;  // intermediate physical size, IDR5.OAS encoding (48 bits)
  bool affd = false;    // access flag faults disabled
  bool hd = false;      // hardware dirty-state update
  bool ha = false;      // hardware access-flag update
  bool stall = false;   // S: stall faulting transactions
  bool record = true;   // R: record faults as events
  bool abort = true;    // A: terminated transactions get an abort (else RAZ/WI)
  bool aset = false;    // ASID set: shared with the CPU (non-broadcast TLBI)
  uint16_t asid = 0;
  uint64_t ttb0 = 0;  // 16-byte field granularity; the PML4 is 4 KiB aligned
  uint64_t mair = 0;
  CdWords encode() const;
  static Cd decode(const CdWords& w);
  bool operator==(const Cd& o) const;
};

// ---- Commands (spec 4.1 - 4.7) ----

// Opcodes (spec 4.1, command summary). CMD_CFGI_ALL is CMD_CFGI_STE_RANGE with Range=31.
enum class Opcode : uint8_t {
  kPrefetchConfig = 0x01,
  kPrefetchAddr = 0x02,
  kCfgiSte = 0x03,
  kCfgiSteRange = 0x04,
  kCfgiCd = 0x05,
  kCfgiCdAll = 0x06,
  kTlbiNhAll = 0x10,
  kTlbiNhAsid = 0x11,
  kTlbiNhVa = 0x12,
  kTlbiNhVaa = 0x13,
  kTlbiNsnhAll = 0x30,
  kAtcInv = 0x40,
  kPriResp = 0x41,
  kResume = 0x44,
  kSync = 0x46,
};
const char* to_string(Opcode op);
// Every opcode above, in opcode order.
inline constexpr Opcode kOpcodes[] = {
    Opcode::kPrefetchConfig, Opcode::kPrefetchAddr, Opcode::kCfgiSte,     Opcode::kCfgiSteRange,
    Opcode::kCfgiCd,         Opcode::kCfgiCdAll,    Opcode::kTlbiNhAll,   Opcode::kTlbiNhAsid,
    Opcode::kTlbiNhVa,       Opcode::kTlbiNhVaa,    Opcode::kTlbiNsnhAll, Opcode::kAtcInv,
    Opcode::kPriResp,        Opcode::kResume,       Opcode::kSync};
// The command kind as the statistics name it: the opcode's name in lower case
// ("cmd_tlbi_nh_va").
std::string kind_name(Opcode op);

// Layouts, in the spec's order (word 0 bits 7:0 is always the opcode; 11 SSV where present):
//   PREFETCH_CONFIG  0: 11 SSV, 31:12 SubstreamID, 63:32 StreamID
//   PREFETCH_ADDR    0: as PREFETCH_CONFIG;  1: 4:0 Size, 63:12 Address
//   CFGI_STE         0: 63:32 StreamID;  1: 0 Leaf
//   CFGI_STE_RANGE   0: 63:32 StreamID;  1: 4:0 Range (2^(Range+1) StreamIDs)
//   CFGI_CD          0: 31:12 SubstreamID, 63:32 StreamID;  1: 0 Leaf
//   CFGI_CD_ALL      0: 63:32 StreamID
//   TLBI_NH_ALL      0: 47:32 VMID
//   TLBI_NH_ASID     0: 47:32 VMID, 63:48 ASID
//   TLBI_NH_VA(A)    0: 16:12 NUM, 24:20 SCALE, 47:32 VMID, 63:48 ASID (VA only);
//                    1: 0 Leaf, 9:8 TTL, 11:10 TG, 63:12 Address
//   TLBI_NSNH_ALL    (no fields)
//   ATC_INV          0: 9 Global, 11 SSV, 31:12 SubstreamID, 63:32 StreamID;
//                    1: 5:0 Size, 63:12 Address
//   PRI_RESP         0: 11 SSV, 31:12 SubstreamID, 63:32 StreamID;  1: 8:0 PRGI, 13:12 Resp
//   RESUME           0: 13:12 Action, 63:32 StreamID;  1: 15:0 STAG
//   SYNC             0: 13:12 CS, 23:22 MSH, 27:24 MSIAttr, 63:32 MSIData;
//                    1: 51:2 MSIAddress
struct PrefetchConfig {
  static constexpr Opcode kOpcode = Opcode::kPrefetchConfig;
  uint32_t sid = 0;
  bool ssv = false;
  uint32_t ssid = 0;
  CmdWords encode() const;
  static PrefetchConfig decode(const CmdWords& w);
  bool operator==(const PrefetchConfig& o) const;
};

// Prefetch hint for an address range (Stride is not modelled: written 0).
struct PrefetchAddr {
  static constexpr Opcode kOpcode = Opcode::kPrefetchAddr;
  uint32_t sid = 0;
  bool ssv = false;
  uint32_t ssid = 0;
  uint8_t size = 0;
  uint64_t addr = 0;
  CmdWords encode() const;
  static PrefetchAddr decode(const CmdWords& w);
  bool operator==(const PrefetchAddr& o) const;
};

struct CfgiSte {
  static constexpr Opcode kOpcode = Opcode::kCfgiSte;
  uint32_t sid = 0;
  bool leaf = false;  // only the STE, not the CDs it points at
  CmdWords encode() const;
  static CfgiSte decode(const CmdWords& w);
  bool operator==(const CfgiSte& o) const { return sid == o.sid && leaf == o.leaf; }
};

// Invalidates the 2^(range+1) StreamIDs of the naturally aligned block holding sid;
// range 31 is CMD_CFGI_ALL (spec 4.3.4).
struct CfgiSteRange {
  static constexpr Opcode kOpcode = Opcode::kCfgiSteRange;
  static constexpr uint8_t kAllRange = 31;
  uint32_t sid = 0;
  uint8_t range = 0;
  static CfgiSteRange all() { return CfgiSteRange{0, kAllRange}; }
  bool is_all() const { return range == kAllRange; }
  uint32_t first_sid() const;
  uint32_t last_sid() const;
  CmdWords encode() const;
  static CfgiSteRange decode(const CmdWords& w);
  bool operator==(const CfgiSteRange& o) const { return sid == o.sid && range == o.range; }
};

struct CfgiCd {
  static constexpr Opcode kOpcode = Opcode::kCfgiCd;
  uint32_t sid = 0;
  uint32_t ssid = 0;
  bool leaf = false;  // only the CD, not the level-1 CD table descriptor
  CmdWords encode() const;
  static CfgiCd decode(const CmdWords& w);
  bool operator==(const CfgiCd& o) const;
};

struct CfgiCdAll {
  static constexpr Opcode kOpcode = Opcode::kCfgiCdAll;
  uint32_t sid = 0;
  CmdWords encode() const;
  static CfgiCdAll decode(const CmdWords& w);
  bool operator==(const CfgiCdAll& o) const { return sid == o.sid; }
};

struct TlbiNhAll {
  static constexpr Opcode kOpcode = Opcode::kTlbiNhAll;
  uint16_t vmid = 0;
  CmdWords encode() const;
  static TlbiNhAll decode(const CmdWords& w);
  bool operator==(const TlbiNhAll& o) const { return vmid == o.vmid; }
};

struct TlbiNhAsid {
  static constexpr Opcode kOpcode = Opcode::kTlbiNhAsid;
  uint16_t asid = 0;
  uint16_t vmid = 0;
  CmdWords encode() const;
  static TlbiNhAsid decode(const CmdWords& w);
  bool operator==(const TlbiNhAsid& o) const { return asid == o.asid && vmid == o.vmid; }
};

// TLBI TG values: 0 = not a range (one address), else the granule of NUM/SCALE.
inline constexpr uint8_t kTlbiTgNone = 0, kTlbiTg4K = 1, kTlbiTg16K = 2, kTlbiTg64K = 3;

// The address-range part of TLBI_NH_VA and TLBI_NH_VAA (spec 4.4.1 and 4.4.2). With
// TG=0 one address is invalidated; else (NUM+1) * 2^SCALE granules from addr (IDR3.RIL).
// TTL is the level of the leaf entries (0 = unknown). TG != 0 with TTL, NUM and SCALE
// all 0 is reserved: decode() throws CERROR_ILL.
struct TlbiVaRange {
  uint64_t addr = 0;  // bits 63:12
  bool leaf = false;  // only leaf entries (not the walk caches)
  uint8_t ttl = 0;
  uint8_t tg = kTlbiTgNone;
  uint8_t num = 0;
  uint8_t scale = 0;
  bool operator==(const TlbiVaRange& o) const;
};

struct TlbiNhVa {
  static constexpr Opcode kOpcode = Opcode::kTlbiNhVa;
  uint16_t asid = 0;
  uint16_t vmid = 0;
  TlbiVaRange va;
  CmdWords encode() const;
  static TlbiNhVa decode(const CmdWords& w);
  bool operator==(const TlbiNhVa& o) const;
};

// As TLBI_NH_VA for every ASID.
struct TlbiNhVaa {
  static constexpr Opcode kOpcode = Opcode::kTlbiNhVaa;
  uint16_t vmid = 0;
  TlbiVaRange va;
  CmdWords encode() const;
  static TlbiNhVaa decode(const CmdWords& w);
  bool operator==(const TlbiNhVaa& o) const { return vmid == o.vmid && va == o.va; }
};

struct TlbiNsnhAll {
  static constexpr Opcode kOpcode = Opcode::kTlbiNsnhAll;
  CmdWords encode() const;
  static TlbiNsnhAll decode(const CmdWords& w);
  bool operator==(const TlbiNsnhAll&) const { return true; }
};

// ATC invalidation sent to a PCIe endpoint: 2^size 4 KiB pages from addr (aligned to
// the span); size >= 52 is the whole address space (Linux: ATC_INV_SIZE_ALL).
struct AtcInv {
  static constexpr Opcode kOpcode = Opcode::kAtcInv;
  static constexpr uint8_t kSizeAll = 52;
  uint32_t sid = 0;
  uint32_t ssid = 0;
  bool ssv = false;
  bool global = false;  // also global (ASID-less) ATC entries
  uint64_t addr = 0;
  uint8_t size = 0;
  CmdWords encode() const;
  static AtcInv decode(const CmdWords& w);
  bool operator==(const AtcInv& o) const;
};

// PRI_RESP Resp values (spec 4.7.1; the PCIe PRG Response codes in their SMMU encoding).
enum class PriResponse : uint8_t { kDeny = 0, kFail = 1, kSuccess = 2 };

struct PriResp {
  static constexpr Opcode kOpcode = Opcode::kPriResp;
  uint32_t sid = 0;
  uint32_t ssid = 0;
  bool ssv = false;
  uint16_t prgi = 0;  // 9-bit page request group index
  PriResponse resp = PriResponse::kSuccess;
  CmdWords encode() const;
  static PriResp decode(const CmdWords& w);
  bool operator==(const PriResp& o) const;
};

// Resumes a stalled transaction (decoded only: the model does not stall).
enum class ResumeAction : uint8_t { kTerm = 0, kRetry = 1, kAbort = 2 };
struct Resume {
  static constexpr Opcode kOpcode = Opcode::kResume;
  uint32_t sid = 0;
  uint16_t stag = 0;
  ResumeAction action = ResumeAction::kTerm;
  CmdWords encode() const;
  static Resume decode(const CmdWords& w);
  bool operator==(const Resume& o) const;
};

// CMD_SYNC completion signal (CS).
enum class SyncCs : uint8_t { kNone = 0, kIrq = 1, kSev = 2 };
struct Sync {
  static constexpr Opcode kOpcode = Opcode::kSync;
  SyncCs cs = SyncCs::kNone;
  uint8_t msh = 0;       // MSI shareability
  uint8_t msi_attr = 0;  // MSI memory attributes
  uint32_t msi_data = 0;
  uint64_t msi_addr = 0;  // 4-byte aligned; with CS=IRQ, 0 means the wired interrupt
  CmdWords encode() const;
  static Sync decode(const CmdWords& w);
  bool operator==(const Sync& o) const;
};

using Command =
    std::variant<PrefetchConfig, PrefetchAddr, CfgiSte, CfgiSteRange, CfgiCd, CfgiCdAll, TlbiNhAll,
                 TlbiNhAsid, TlbiNhVa, TlbiNhVaa, TlbiNsnhAll, AtcInv, PriResp, Resume, Sync>;

Opcode opcode_of(const Command& c);
CmdWords encode_command(const Command& c);
// The command in w; throws CommandError(CERROR_ILL) for an opcode this SMMU does not
// implement or an illegal field value.
Command decode_command(const CmdWords& w);

// ---- Range invalidation helpers ----

// Inclusive byte range [first, last].
struct AddrRange {
  uint64_t first = 0, last = 0;
  bool operator==(const AddrRange& o) const { return first == o.first && last == o.last; }
};

// The CMD_TLBI_NH_VA commands Linux's __arm_smmu_tlb_inv_range issues for the pages
// overlapping [start, end) (byte addresses; a partial page counts whole), with the 4 KiB
// granule. ril (IDR3.RIL): range commands, TG=4K, each covering the next 5-bit group of
// the page count (SCALE = its lowest set bit, NUM+1 = the group); else one TG=0 command
// per page. leaf: Leaf=1 and TTL=3 (the kernel's hint for 4 KiB leaves); !leaf: TTL=0,
// and, as the kernel does, a page count with (count & 31) == 1 is widened by one page so
// that no command has TTL=NUM=SCALE=0. Empty range: no commands.
std::vector<TlbiNhVa> tlbi_range_commands(uint16_t asid, uint64_t start, uint64_t end, bool ril,
                                          bool leaf = false);
// The bytes a TLBI_NH_VA / TLBI_NH_VAA invalidates: TG=0, the 4 KiB page holding addr;
// else (NUM+1) << SCALE granules from addr aligned down to the granule.
AddrRange covered_range(const TlbiVaRange& va);
inline AddrRange covered_range(const TlbiNhVa& c) {
  return covered_range(c.va);
}
inline AddrRange covered_range(const TlbiNhVaa& c) {
  return covered_range(c.va);
}

// One ATC_INV span covering the pages of [start, end), as arm_smmu_atc_inv_to_cmd picks
// it: the smallest naturally aligned power-of-two block of 4 KiB pages holding them.
// start == end means everything (size 52, address 0).
struct AtcSpan {
  uint64_t addr = 0;
  uint8_t size = 0;  // log2 of the span in 4 KiB pages
  bool operator==(const AtcSpan& o) const { return addr == o.addr && size == o.size; }
};
AtcSpan atc_inv_span(uint64_t start, uint64_t end);
// The bytes an ATC_INV invalidates (the whole space for size >= 52).
AddrRange covered_range(const AtcInv& c);

// ---- Event queue (spec 7.3) ----

// CLASS of a translation-related fault: what the faulting access was doing.
enum class EventClass : uint8_t { kCd = 0b00, kTt = 0b01, kIn = 0b10 };

// Event record (32 bytes, spec 7.3):
//   0: 7:0 type, 11 SSV, 31:12 SubstreamID, 63:32 StreamID
//   1: 15:0 STAG, 31 Stall, 33 PnU, 34 InD, 35 RnW, 39 S2, 41:40 CLASS
//   2: 63:0 InputAddr
//   3: 51:3 the second address (IPA of a stage-2 fault, or a fetch address); 0 here
// Fields a type does not define are written 0. decode() accepts any type value.
struct EventRecord {
  EventType type = EventType::kFTranslation;
  uint32_t sid = 0;
  bool ssv = false;
  uint32_t ssid = 0;
  uint16_t stag = 0;
  bool stall = false;
  bool pnu = false;  // privileged
  bool ind = false;  // instruction fetch
  bool rnw = false;  // read
  bool s2 = false;   // the fault is in stage 2
  EventClass cls = EventClass::kCd;
  uint64_t input_addr = 0;
  uint64_t addr2 = 0;
  EventWords encode() const;
  static EventRecord decode(const EventWords& w);
  bool operator==(const EventRecord& o) const;
};

// ---- PRI queue (spec 8.1) ----

// PRI queue entry (16 bytes, spec 8.1): one PCIe Page Request.
//   0: 31:0 StreamID, 51:32 SubstreamID, 58 PnU (privileged), 59 X (execute), 60 R,
//      61 W, 62 L (last request of the group), 63 SSV
//   1: 8:0 PRGIndex, 63:12 page address
struct PriqEntry {
  uint32_t sid = 0;
  bool ssv = false;
  uint32_t ssid = 0;
  bool pnu = false;
  bool exec = false;
  bool read = false;
  bool write = false;
  bool last = false;
  uint16_t prgi = 0;
  uint64_t addr = 0;  // 4 KiB aligned
  PriqWords encode() const;
  static PriqEntry decode(const PriqWords& w);
  bool operator==(const PriqEntry& o) const;
};

}  // namespace iosim::smmuv3
