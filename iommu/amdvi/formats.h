// In-memory formats of the AMD IOMMU (AMD I/O Virtualization Technology (IOMMU)
// Specification, #48882): device table entries and the GCR3 table (2.2), command buffer
// entries (2.4), event log entries (2.5) and PPR log entries (2.6), as plain structs with
// encode() to little-endian 64-bit words and a static decode(). Reserved bits are written
// 0; fields this model does not use (interrupt remapping, host page tables, SNP, vAPIC)
// are written 0 and ignored on decode. The layout comment of each struct gives bits of
// the whole entry (bit 64 is bit 0 of its second quadword), as the specification does.
//
// Translation for SVA goes through the guest (GCR3) path only: DTE.GV = 1, the GCR3
// table indexed by PASID gives the root of an x86 long-mode 4-level page table. Those
// guest tables are native to AMD-Vi (2.2.6: guest page tables use the x86-64 long-mode
// format), and they are the simulator's x86-64-style tables (sc_models/page_table), the
// same the CPU walks. DTE.Mode (the host page table) is 0 in every entry the driver
// writes; the model does not walk host (nested) tables.
//
// Commands: decode_command() throws CommandError for an opcode this IOMMU does not
// implement (PREFETCH_IOMMU_PAGES: EFR.PrefSup = 0) or a reserved bit set; the command
// processor logs ILLEGAL_COMMAND_ERROR for it (2.4: reserved fields must be zero).
// encode() throws DescriptorError when a value does not fit its field.
//
// Address ranges (2.4.3): INVALIDATE_IOMMU_PAGES and INVALIDATE_IOTLB_PAGES carry a page
// address (bits 63:12) and S; S = 1 means the size is given by the lowest clear address
// bit at 12 or above (the PCIe ATS S-bit scheme, sc_models/pcie/ats_encoding.h), and
// bits 62:12 all set (0x7FFF_FFFF_FFFF_F000) is the whole address space. inv_address()
// is Linux's build_inv_address (drivers/iommu/amd/iommu.c, 6.10).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>

#include "iommu/bit_field.h"
#include "iommu/descriptor_error.h"
#include "sc_models/pcie/ats_encoding.h"

namespace iosim::amdvi {

// Entry sizes in bytes (2.2.2, 2.2.6, 2.4, 2.5, 2.6).
inline constexpr uint32_t kDteBytes = 32;
inline constexpr uint32_t kGcr3EntryBytes = 8;
inline constexpr uint32_t kCmdBytes = 16;
inline constexpr uint32_t kEventBytes = 16;
inline constexpr uint32_t kPprBytes = 16;
// Entries per 4 KiB GCR3 table (one level indexes 9 PASID bits).
inline constexpr uint32_t kGcr3TableEntries = 512;

using DteWords = std::array<uint64_t, 4>;
using CmdWords = std::array<uint64_t, 2>;
using EventWords = std::array<uint64_t, 2>;
using PprWords = std::array<uint64_t, 2>;

// A command the IOMMU refuses: logged as ILLEGAL_COMMAND_ERROR.
class CommandError : public DescriptorError {
 public:
  using DescriptorError::DescriptorError;
};

// ---- Device table (2.2.2) ----

// Device Table Entry (256 bits, 2.2.2.1):
//   0 V, 1 TV, 8:7 HAD, 11:9 Mode, 51:12 host page table root, 52 PPR, 53 GPRP, 54 GIoV,
//   55 GV, 57:56 GLX, 60:58 GCR3 root [14:12], 61 IR, 62 IW,
//   79:64 DomainID, 95:80 GCR3 root [30:15], 96 I (IOTLB enable), 97 SE, 98 SA,
//   100:99 IoCtl, 101 Cache, 102 SD, 103 EX, 105:104 SysMgt, 127:107 GCR3 root [51:31],
//   128..255: interrupt remapping (written 0, ignored).
// decode() throws DescriptorError for a reserved bit set (6:2, 63, 106) or GLX = 3
// (reserved). The GCR3 table root pointer is 4 KiB aligned (bits 11:0 zero).
struct Dte {
  bool valid = true;
  bool translation_valid = true;
  uint8_t had = 0;
  uint8_t mode = 0;              // host page table levels; 0 = no host translation
  uint64_t page_table_root = 0;  // host page table (unused by the model)
  bool ppr = false;              // peripheral page requests enabled
  bool gprp = false;             // guest PPR response with PASID
  bool giov = false;             // guest I/O protection valid (requests without PASID)
  bool gv = false;               // guest translation valid: the GCR3 table is used
  uint8_t glx = 0;               // GCR3 table levels - 1
  uint64_t gcr3_root = 0;        // GCR3 table root pointer (4 KiB aligned)
  bool ir = true, iw = true;     // I/O read / write permission
  uint16_t domain_id = 0;
  bool iotlb = false;           // I: ATS Translation Requests allowed
  bool se = false, sa = false;  // suppress (all) I/O page fault events
  uint8_t sysmgt = 0;
  DteWords encode() const;
  static Dte decode(const DteWords& w);
  bool operator==(const Dte& o) const;
};

// GCR3 table entry (64 bits, 2.2.6): 0 V (GCR3_VALID), 51:12 the guest CR3 (the PML4 of
// the process page table) at the leaf level, or the next-level GCR3 table above it.
struct Gcr3Entry {
  bool valid = false;
  uint64_t root = 0;  // 4 KiB aligned
  uint64_t encode() const;
  static Gcr3Entry decode(uint64_t w);
  bool operator==(const Gcr3Entry& o) const { return valid == o.valid && root == o.root; }
};

// The GCR3 table index of `pasid` at `level` (0 = leaf), as Linux's __get_gcr3_pte.
constexpr uint32_t gcr3_index(uint32_t pasid, unsigned level) {
  return (pasid >> (9 * level)) & 0x1ff;
}

// ---- Commands (2.4) ----

// Opcodes (2.4, command summary): bits 63:60 of the first quadword.
enum class Opcode : uint8_t {
  kCompletionWait = 0x1,
  kInvalidateDevtabEntry = 0x2,
  kInvalidateIommuPages = 0x3,
  kInvalidateIotlbPages = 0x4,
  kInvalidateInterruptTable = 0x5,
  kPrefetchIommuPages = 0x6,  // not implemented (EFR.PrefSup = 0): illegal
  kCompletePprRequest = 0x7,
  kInvalidateIommuAll = 0x8,
};
// Every opcode above, in opcode order.
inline constexpr Opcode kOpcodes[] = {
    Opcode::kCompletionWait,       Opcode::kInvalidateDevtabEntry,    Opcode::kInvalidateIommuPages,
    Opcode::kInvalidateIotlbPages, Opcode::kInvalidateInterruptTable, Opcode::kPrefetchIommuPages,
    Opcode::kCompletePprRequest,   Opcode::kInvalidateIommuAll};
// The statistics' name of a command kind: "completion_wait", "invalidate_iommu_pages", ...
const char* kind_name(Opcode op);

// COMPLETION_WAIT (2.4.1): 0 S (store), 1 I (interrupt), 2 F (flush queue), 51:3 store
// address, 127:64 store data.
struct CompletionWait {
  static constexpr Opcode kOpcode = Opcode::kCompletionWait;
  bool store = false;
  bool interrupt = false;
  bool flush = false;
  uint64_t store_addr = 0;  // 8-byte aligned
  uint64_t store_data = 0;
  CmdWords encode() const;
  static CompletionWait decode(const CmdWords& w);
  bool operator==(const CompletionWait& o) const;
};

// INVALIDATE_DEVTAB_ENTRY (2.4.2): 15:0 DeviceID.
struct InvalidateDevtabEntry {
  static constexpr Opcode kOpcode = Opcode::kInvalidateDevtabEntry;
  uint16_t device_id = 0;
  CmdWords encode() const;
  static InvalidateDevtabEntry decode(const CmdWords& w);
  bool operator==(const InvalidateDevtabEntry& o) const { return device_id == o.device_id; }
};

// INVALIDATE_IOMMU_PAGES (2.4.3): 19:0 PASID, 47:32 DomainID, 64 S, 65 PDE, 66 GN,
// 127:76 address (bits 63:12). GN = 1: guest translations of DomainID + PASID; GN = 0:
// every translation of DomainID. PDE = 1 also drops cached page directory entries (the
// walk caches) and, with GN = 1, cached GCR3 entries of the PASID.
struct InvalidateIommuPages {
  static constexpr Opcode kOpcode = Opcode::kInvalidateIommuPages;
  uint32_t pasid = 0;
  uint16_t domain_id = 0;
  bool s = false;
  bool pde = false;
  bool gn = false;
  uint64_t address = 0;  // bits 63:12
  CmdWords encode() const;
  static InvalidateIommuPages decode(const CmdWords& w);
  bool operator==(const InvalidateIommuPages& o) const;
};

// INVALIDATE_IOTLB_PAGES (2.4.4): the ATS Invalidate Request to a device.
//   15:0 DeviceID, 23:16 PASID[15:8], 31:24 MaxPend, 47:32 QueueID, 55:48 PASID[7:0],
//   59:56 PASID[19:16], 64 S, 66 GN, 69:68 Type, 127:76 address (bits 63:12).
// The PASID split follows Linux's build_inv_iotlb_pages (iommu.c 6.10).
struct InvalidateIotlbPages {
  static constexpr Opcode kOpcode = Opcode::kInvalidateIotlbPages;
  uint16_t device_id = 0;
  uint32_t pasid = 0;
  uint8_t maxpend = 0;    // the device's Invalidate Queue Depth (Linux: ats_qdep)
  uint16_t queue_id = 0;  // Linux writes the DeviceID
  bool s = false;
  bool gn = false;
  uint8_t type = 0;
  uint64_t address = 0;  // bits 63:12
  CmdWords encode() const;
  static InvalidateIotlbPages decode(const CmdWords& w);
  bool operator==(const InvalidateIotlbPages& o) const;
};

// INVALIDATE_INTERRUPT_TABLE (2.4.5): 15:0 DeviceID. Accepted; no interrupt remapping.
struct InvalidateInterruptTable {
  static constexpr Opcode kOpcode = Opcode::kInvalidateInterruptTable;
  uint16_t device_id = 0;
  CmdWords encode() const;
  static InvalidateInterruptTable decode(const CmdWords& w);
  bool operator==(const InvalidateInterruptTable& o) const { return device_id == o.device_id; }
};

// COMPLETE_PPR_REQUEST Status values (2.4.7): the PCIe PRG Response codes.
inline constexpr uint8_t kPprStatusSuccess = 0x0;
inline constexpr uint8_t kPprStatusInvalidRequest = 0x1;
inline constexpr uint8_t kPprStatusResponseFailure = 0xf;

// COMPLETE_PPR_REQUEST (2.4.7): 15:0 DeviceID, 51:32 PASID, 66 GN, 104:96 the PPR tag
// (PRG index), 111:108 Status (Linux build_complete_ppr: PPR_STATUS_SHIFT 12).
struct CompletePprRequest {
  static constexpr Opcode kOpcode = Opcode::kCompletePprRequest;
  uint16_t device_id = 0;
  uint32_t pasid = 0;
  bool gn = false;
  uint16_t tag = 0;  // 9-bit PRG index
  uint8_t status = kPprStatusSuccess;
  CmdWords encode() const;
  static CompletePprRequest decode(const CmdWords& w);
  bool operator==(const CompletePprRequest& o) const;
};

// INVALIDATE_IOMMU_ALL (2.4.8): no fields.
struct InvalidateIommuAll {
  static constexpr Opcode kOpcode = Opcode::kInvalidateIommuAll;
  CmdWords encode() const;
  static InvalidateIommuAll decode(const CmdWords& w);
  bool operator==(const InvalidateIommuAll&) const { return true; }
};

using Command =
    std::variant<CompletionWait, InvalidateDevtabEntry, InvalidateIommuPages, InvalidateIotlbPages,
                 InvalidateInterruptTable, CompletePprRequest, InvalidateIommuAll>;
Opcode opcode_of(const Command& c);
CmdWords encode_command(const Command& c);
// Throws CommandError for an unimplemented opcode or a reserved bit set.
Command decode_command(const CmdWords& w);

// ---- Invalidation addresses (2.4.3) ----

// The address field and S of an invalidation of [start, start + size), as Linux's
// build_inv_address: one page -> that page, S = 0; else the smallest naturally aligned
// block holding both ends, S = 1; a block beyond bit 51 -> the whole space.
struct InvAddress {
  uint64_t address = 0;  // bits 63:12
  bool s = false;
  bool operator==(const InvAddress& o) const { return address == o.address && s == o.s; }
};
InvAddress inv_address(uint64_t start, uint64_t size);
// The whole address space: CMD_INV_IOMMU_ALL_PAGES_ADDRESS (0x7FFF_FFFF_FFFF_FFFF)
// with bits 11:0 cleared, S = 1.
inline constexpr InvAddress kInvAllPages{0x7ffffffffffff000ull, true};
// The block an (address, S) pair invalidates.
AtsRange covered_range(uint64_t address, bool s);

// ---- Event log (2.5) ----

// Event codes (2.5, bits 63:60).
enum class EventCode : uint8_t {
  kIllegalDevTableEntry = 0x1,
  kIoPageFault = 0x2,
  kDevTabHardwareError = 0x3,
  kPageTabHardwareError = 0x4,
  kIllegalCommandError = 0x5,
  kCommandHardwareError = 0x6,
  kIotlbInvTimeout = 0x7,
  kInvalidDeviceRequest = 0x8,
  kInvalidPprRequest = 0x9,
};
const char* to_string(EventCode c);

// Flags of the translation events (bits 59:48 of the entry; Linux EVENT_FLAGS).
namespace event_flag {
inline constexpr uint16_t kGn = 1u << 0;  // the request had a PASID (guest translation)
inline constexpr uint16_t kNx = 1u << 1;  // execute requested
inline constexpr uint16_t kUs = 1u << 2;  // user (non-privileged) request
inline constexpr uint16_t kI = 1u << 3;   // interrupt request
inline constexpr uint16_t kPr = 1u << 4;  // the page was present
inline constexpr uint16_t kRw = 1u << 5;  // write
inline constexpr uint16_t kPe = 1u << 6;  // permission denied
inline constexpr uint16_t kRz = 1u << 7;  // reserved bit not zero
inline constexpr uint16_t kTr = 1u << 8;  // a Translation Request (ATS)
}  // namespace event_flag

// Event log entry (128 bits, 2.5.x): 15:0 DeviceID, 19:16 PASID[19:16], 47:32 PASID[15:0]
// (IO_PAGE_FAULT with GN = 0: the DomainID), 59:48 flags (event-specific; Type fields
// included), 63:60 EventCode, 127:64 address (the faulting address; for
// ILLEGAL_COMMAND_ERROR and IOTLB_INV_TIMEOUT the physical address of the command).
struct EventEntry {
  EventCode code = EventCode::kIoPageFault;
  uint16_t device_id = 0;
  uint32_t pasid = 0;  // or DomainID, see above
  uint16_t flags = 0;
  uint64_t address = 0;
  EventWords encode() const;
  static EventEntry decode(const EventWords& w);
  bool operator==(const EventEntry& o) const;
};

// ---- PPR log (2.6) ----

// PPR log flags (bits 59:48; Linux PPR_FLAG_*).
namespace ppr_flag {
inline constexpr uint16_t kExec = 0x002;
inline constexpr uint16_t kRead = 0x004;
inline constexpr uint16_t kWrite = 0x020;
inline constexpr uint16_t kUser = 0x040;  // 1: user, 0: supervisor (privileged)
inline constexpr uint16_t kReservedNotZero = 0x080;
inline constexpr uint16_t kGn = 0x100;  // the PASID is valid
}  // namespace ppr_flag
// PPR log entry types (bits 63:60).
inline constexpr uint8_t kPprPageServiceRequest = 0x1;

// PPR log entry (128 bits, 2.6.1, PAGE_SERVICE_REQUEST): 15:0 DeviceID, 31:16 PASID[15:0],
// 40:32 PPR tag (the PRG index), 41 L (last request of the group), 45:42 PASID[19:16],
// 59:48 flags, 63:60 type, 127:76 page address (bits 63:12). Linux reads the tag as
// bits 41:32 (PPR_TAG) and answers with its bits 8:0; the model carries the PCIe Last
// bit in tag bit 9. A Stop Marker is written with L = 1 and R = W = 0.
struct PprLogEntry {
  uint8_t type = kPprPageServiceRequest;
  uint16_t device_id = 0;
  uint32_t pasid = 0;
  uint16_t prgi = 0;
  bool last = false;
  uint16_t flags = 0;
  uint64_t address = 0;  // 4 KiB aligned
  PprWords encode() const;
  static PprLogEntry decode(const PprWords& w);
  bool operator==(const PprLogEntry& o) const;
};

}  // namespace iosim::amdvi
