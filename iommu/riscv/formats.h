// In-memory formats of the RISC-V IOMMU (RISC-V IOMMU Architecture Specification v1.0,
// "the spec"): the device directory table and device contexts (chapter 2.1), the
// process directory table and process contexts (2.2), the commands (3.1), fault records
// (3.2) and page request records (3.3), as plain structs with encode() to little-endian
// 64-bit words and a static decode(). Reserved bits are written 0; the layout comment of
// each struct gives word:bits, word w being bytes 8w..8w+7 of the structure.
//
// decode() rejects what the IOMMU would: a device or process context with a reserved bit
// set or a field value this IOMMU does not support throws TableError carrying the fault
// cause it records ("DDT entry misconfigured" 259, "PDT entry misconfigured" 267; the
// configuration checks of 2.1.4 and 2.2.4). A command with a reserved encoding, a
// reserved bit set or an unsupported function throws CommandError (the IOMMU sets
// cqcsr.cmd_ill, 3.1). Both derive from iosim::DescriptorError. encode() throws
// DescriptorError when a value does not fit its field. An entry with V = 0 decodes
// (valid = false): the walker reports "not valid" (258, 266) for it.
//
// What the model implements, and so accepts (capabilities in sw_interface.h): no
// second stage (iohgatp.MODE must be Bare, T2GPA = 0), no MSI translation (msiptp.MODE
// Off in the extended format), SXL = 0, and one first-stage format: the simulator's
// x86-64-style 4-level page tables, the one page-table format of the CPU and every
// IOMMU. iosatp.MODE = Sv48 (48-bit VA, 4 levels of 512 entries: the same walk geometry)
// with PPN = the PML4's frame number is accepted, as is Bare; Sv39 and Sv57 are
// rejected as a misconfigured context.
#pragma once

#include <array>
#include <cstdint>
#include <iterator>
#include <string>
#include <variant>

#include "iommu/bit_field.h"
#include "iommu/descriptor_error.h"

namespace iosim::riscv {

// Structure sizes in bytes (spec 2.1, 2.2, 3.1 - 3.3).
inline constexpr uint32_t kDdteBytes = 8;         // non-leaf DDT entry
inline constexpr uint32_t kDcBaseBytes = 32;      // base-format device context
inline constexpr uint32_t kDcExtendedBytes = 64;  // extended format (capabilities.MSI_FLAT)
inline constexpr uint32_t kPdteBytes = 8;         // non-leaf PDT entry
inline constexpr uint32_t kPcBytes = 16;          // process context
inline constexpr uint32_t kCmdBytes = 16;
inline constexpr uint32_t kFaultRecordBytes = 32;
inline constexpr uint32_t kPageRequestBytes = 16;

using DcWords = std::array<uint64_t, 8>;  // the first 4 are used in the base format
using PcWords = std::array<uint64_t, 2>;
using CmdWords = std::array<uint64_t, 2>;
using FaultWords = std::array<uint64_t, 4>;
using PageRequestWords = std::array<uint64_t, 2>;

// The PPN field of table entries, ddtp and the queue base registers (bits 53:10 hold
// physical address bits 55:12).
inline constexpr Field kPpnField{53, 10};
constexpr uint64_t ppn_to_addr(uint64_t word) {
  return kPpnField.get(word) << 12;
}
constexpr uint64_t addr_to_ppn_field(uint64_t addr) {
  return kPpnField.put(addr >> 12);
}

// Fault causes (spec 3.2, table of fault record CAUSE values).
enum class Cause : uint16_t {
  kInstAccessFault = 1,
  kReadAccessFault = 5,
  kWriteAccessFault = 7,
  kInstPageFault = 12,
  kReadPageFault = 13,
  kWritePageFault = 15,
  kAllDisallowed = 256,  // ddtp.iommu_mode = Off
  kDdtLoadFault = 257,
  kDdtInvalid = 258,
  kDdtMisconfigured = 259,
  kTransactionTypeDisallowed = 260,
  kPdtLoadFault = 265,
  kPdtInvalid = 266,
  kPdtMisconfigured = 267,
};

// Transaction types of fault records (spec 3.2, TTYP).
enum class Ttyp : uint8_t {
  kNone = 0,
  kUntranslatedExec = 1,
  kUntranslatedRead = 2,
  kUntranslatedWrite = 3,
  kTranslatedExec = 5,
  kTranslatedRead = 6,
  kTranslatedWrite = 7,
  kAtsTranslationRequest = 8,
  kPcieMessage = 9,
};

// A device or process context the IOMMU finds misconfigured: cause() is recorded.
class TableError : public DescriptorError {
 public:
  TableError(Cause cause, const std::string& what) : DescriptorError(what), cause_(cause) {}
  Cause cause() const { return cause_; }

 private:
  Cause cause_;
};

// A command the IOMMU refuses (cqcsr.cmd_ill).
class CommandError : public DescriptorError {
 public:
  using DescriptorError::DescriptorError;
};

// ---- Directory tables (spec 2.1, 2.2) ----

// ddtp.iommu_mode (spec 5.5).
enum class IommuMode : uint8_t { kOff = 0, kBare = 1, kLvl1 = 2, kLvl2 = 3, kLvl3 = 4 };
// DC.fsc.MODE when PDTV = 1 (pdtp, spec 2.1.3): process_id widths 8, 17, 20.
enum class PdtpMode : uint8_t { kBare = 0, kPd8 = 1, kPd17 = 2, kPd20 = 3 };
// iosatp.MODE (SXL = 0, spec 2.1.3 / 2.2.3).
enum class IosatpMode : uint8_t { kBare = 0, kSv39 = 8, kSv48 = 9, kSv57 = 10 };

// Non-leaf DDT and PDT entry (8 bytes, spec 2.1.1, 2.2.1): 0 V, 53:10 PPN; the other
// bits are reserved (decode() throws TableError(misconfigured) for them; `cause` says
// which table).
struct DirEntry {
  bool valid = false;
  uint64_t next = 0;  // physical address of the next-level table, 4 KiB aligned
  uint64_t encode() const;
  static DirEntry decode(uint64_t word, Cause misconfigured);
  bool operator==(const DirEntry& o) const { return valid == o.valid && next == o.next; }
};

// Device context (spec 2.1.2 / 2.1.3), base format (32 bytes) or extended (64):
//   0 tc:      0 V, 1 EN_ATS, 2 EN_PRI, 3 T2GPA, 4 DTF, 5 PDTV, 6 PRPR, 7 GADE, 8 SADE,
//              9 DPE, 10 SBE, 11 SXL; 63:12 reserved
//   1 iohgatp: 43:0 PPN, 59:44 GSCID, 63:60 MODE (Bare only here)
//   2 ta:      39:12 PSCID (the PSCID of fsc's iosatp when PDTV = 0)
//   3 fsc:     43:0 PPN, 63:60 MODE (iosatp when PDTV = 0, pdtp when PDTV = 1)
//   extended: 4 msiptp (63:60 MODE, Off here), 5 msi_addr_mask, 6 msi_addr_pattern: 0
// decode() throws TableError(259) for a reserved bit, EN_PRI without EN_ATS, PRPR
// without EN_PRI, T2GPA, a non-Bare iohgatp, SXL, DPE without PDTV, an unsupported fsc
// mode, or (extended) msiptp.MODE != Off.
struct DeviceContext {
  bool valid = true;
  bool en_ats = false, en_pri = false, t2gpa = false, dtf = false, pdtv = false, prpr = false;
  bool gade = false, sade = false, dpe = false, sbe = false, sxl = false;
  uint8_t iohgatp_mode = 0;
  uint16_t gscid = 0;
  uint64_t iohgatp_root = 0;
  uint32_t pscid = 0;     // 20 bits
  uint8_t fsc_mode = 0;   // IosatpMode (PDTV = 0) or PdtpMode (PDTV = 1)
  uint64_t fsc_root = 0;  // 4 KiB aligned: the first-stage root, or the PDT root
  DcWords encode(bool extended = false) const;
  static DeviceContext decode(const DcWords& w, bool extended = false);
  bool operator==(const DeviceContext& o) const;
};

// Process context (16 bytes, spec 2.2.2 / 2.2.3):
//   0 ta:  0 V, 1 ENS, 2 SUM, 31:12 PSCID; the rest reserved
//   1 fsc: 43:0 PPN, 63:60 MODE (iosatp)
// decode() throws TableError(267) for a reserved bit or an iosatp mode other than Bare
// and Sv48.
struct ProcessContext {
  bool valid = true;
  bool ens = false;  // supervisor (privileged) requests allowed
  bool sum = false;  // supervisor access to user pages
  uint32_t pscid = 0;
  IosatpMode mode = IosatpMode::kSv48;
  uint64_t root = 0;  // the PML4, 4 KiB aligned
  PcWords encode() const;
  static ProcessContext decode(const PcWords& w);
  bool operator==(const ProcessContext& o) const;
};

// The device-directory index of `device_id` at `level` (0 = leaf), spec 2.3.1:
// base format DDI[0] = bits 6:0, DDI[1] = 15:7, DDI[2] = 23:16; extended DDI[0] = 5:0,
// DDI[1] = 14:6, DDI[2] = 23:15.
uint32_t ddi(uint32_t device_id, unsigned level, bool extended = false);
// The process-directory index of `pid` at `level` (spec 2.3.2): PDI[0] = 7:0,
// PDI[1] = 16:8, PDI[2] = 19:17.
uint32_t pdi(uint32_t pid, unsigned level);

// ---- Commands (spec 3.1) ----

// Opcodes and functions (spec 3.1.1 - 3.1.4); word 0 bits 6:0 opcode, 9:7 func3.
inline constexpr uint8_t kOpIotinval = 1, kOpIofence = 2, kOpIodir = 3, kOpAts = 4;
inline constexpr uint8_t kFuncVma = 0, kFuncGvma = 1;           // IOTINVAL
inline constexpr uint8_t kFuncIofenceC = 0;                     // IOFENCE
inline constexpr uint8_t kFuncInvalDdt = 0, kFuncInvalPdt = 1;  // IODIR
inline constexpr uint8_t kFuncAtsInval = 0, kFuncAtsPrgr = 1;   // ATS

// Layouts (word 0 bits 6:0 opcode, 9:7 func3; every other bit not named is reserved):
//   IOTINVAL.VMA/GVMA  0: 10 AV, 31:12 PSCID, 32 PSCV, 33 GV, 59:44 GSCID;
//                      1: 61:10 ADDR[63:12]
//   IOFENCE.C          0: 10 AV, 11 WSI, 12 PR, 13 PW, 63:32 DATA;  1: 61:0 ADDR[63:2]
//   IODIR.INVAL_DDT/PDT 0: 31:12 PID, 33 DV, 63:40 DID
//   ATS.INVAL/PRGR     0: 31:12 PID, 32 PV, 33 DSV, 55:40 RID, 63:56 DSEG;
//                      1: the PCIe message payload (AtsInvalPayload, PrgrPayload)
struct IotinvalVma {
  bool av = false, pscv = false, gv = false;
  uint32_t pscid = 0;
  uint16_t gscid = 0;
  uint64_t addr = 0;  // 4 KiB aligned IOVA (AV)
  bool operator==(const IotinvalVma& o) const;
};
// Decoded only as far as the model goes: there is no second stage, so it invalidates
// every cached translation (an IOMMU may invalidate more than asked). PSCV = 1 is
// illegal (3.1.1).
struct IotinvalGvma {
  bool av = false, gv = false;
  uint16_t gscid = 0;
  uint64_t addr = 0;  // guest physical address (AV)
  bool operator==(const IotinvalGvma& o) const;
};
struct IofenceC {
  bool av = false, wsi = false, pr = false, pw = false;
  uint32_t data = 0;
  uint64_t addr = 0;  // 4-byte aligned (AV)
  bool operator==(const IofenceC& o) const;
};
// DV = 0 invalidates every cached device and process context; PID is reserved (0).
struct IodirInvalDdt {
  bool dv = false;
  uint32_t did = 0;  // 24 bits
  bool operator==(const IodirInvalDdt& o) const { return dv == o.dv && did == o.did; }
};
// DV must be 1 (3.1.3).
struct IodirInvalPdt {
  uint32_t did = 0;
  uint32_t pid = 0;
  bool operator==(const IodirInvalPdt& o) const { return did == o.did && pid == o.pid; }
};

// The ATS fields of word 0 shared by ATS.INVAL and ATS.PRGR.
struct AtsTarget {
  bool dsv = false;  // DSEG valid
  uint8_t dseg = 0;
  uint16_t rid = 0;
  bool pv = false;
  uint32_t pid = 0;
  bool operator==(const AtsTarget& o) const;
};

// ATS.INVAL payload: the Invalidate Request message body (PCIe 6.0, 10.3.1) as Linux's
// iommu-bits.h lays it out: 0 G (global), 11 S, 63:12 untranslated address (S-bit
// range encoding: with S = 1 the lowest 0 bit above bit 12 gives the size).
struct AtsInvalPayload {
  uint64_t address = 0;  // bits 63:12
  bool s = false;
  bool global = false;
  uint64_t encode() const;
  static AtsInvalPayload decode(uint64_t word);
  bool operator==(const AtsInvalPayload& o) const;
};
struct AtsInval {
  AtsTarget target;
  AtsInvalPayload payload;
  bool operator==(const AtsInval& o) const;
};

// ATS.PRGR payload: the PRG Response message header (PCIe 6.0, 10.4.2): 40:32 PRG
// index, 47:44 response code, 63:48 destination device ID.
struct PrgrPayload {
  uint16_t prgi = 0;
  uint8_t code = 0;  // PCIe Response Code: 0 Success, 1 Invalid Request, 0xF Failure
  uint16_t dst_id = 0;
  uint64_t encode() const;
  static PrgrPayload decode(uint64_t word);
  bool operator==(const PrgrPayload& o) const;
};
struct AtsPrgr {
  AtsTarget target;
  PrgrPayload payload;
  bool operator==(const AtsPrgr& o) const;
};

using Command = std::variant<IotinvalVma, IotinvalGvma, IofenceC, IodirInvalDdt, IodirInvalPdt,
                             AtsInval, AtsPrgr>;

// The command kinds as the statistics name them, in the order of Command's alternatives.
inline constexpr const char* kCommandKinds[] = {"iotinval_vma",    "iotinval_gvma",   "iofence_c",
                                                "iodir_inval_ddt", "iodir_inval_pdt", "ats_inval",
                                                "ats_prgr"};
static_assert(std::variant_size_v<Command> == std::size(kCommandKinds));
const char* kind_name(const Command& c);
CmdWords encode_command(const Command& c);
// The command in w; throws CommandError for a reserved opcode or function, a reserved
// bit set to 1, PID != 0 in IODIR.INVAL_DDT, DV = 0 in IODIR.INVAL_PDT, or PSCV = 1 in
// IOTINVAL.GVMA (spec 3.1).
Command decode_command(const CmdWords& w);

// ---- Fault queue (spec 3.2) ----

// Fault record (32 bytes):
//   0: 11:0 CAUSE, 31:12 PID, 32 PV, 33 PRIV, 39:34 TTYP, 63:40 DID
//   1: reserved (0);  2: iotval;  3: iotval2
struct FaultRecord {
  uint16_t cause = 0;
  uint32_t pid = 0;
  bool pv = false;
  bool priv = false;
  Ttyp ttyp = Ttyp::kNone;
  uint32_t did = 0;
  uint64_t iotval = 0;   // the faulting IOVA (or the message's page address)
  uint64_t iotval2 = 0;  // 0: no second stage
  FaultWords encode() const;
  static FaultRecord decode(const FaultWords& w);
  bool operator==(const FaultRecord& o) const;
};

// ---- Page request queue (spec 3.3) ----

// Page request record (16 bytes):
//   0: 31:12 PID, 32 PV, 33 PRIV, 34 EXEC, 63:40 DID
//   1: the Page Request message payload: 0 R, 1 W, 2 L, 11:3 PRGI, 63:12 address
// A Stop Marker is a record with L = 1, R = W = 0.
struct PageRequestRecord {
  uint32_t did = 0;
  bool pv = false;
  uint32_t pid = 0;
  bool priv = false;
  bool exec = false;
  bool read = false, write = false, last = false;
  uint16_t prgi = 0;
  uint64_t addr = 0;  // 4 KiB aligned
  bool stop_marker() const { return last && !read && !write; }
  PageRequestWords encode() const;
  static PageRequestRecord decode(const PageRequestWords& w);
  bool operator==(const PageRequestRecord& o) const;
};

}  // namespace iosim::riscv
