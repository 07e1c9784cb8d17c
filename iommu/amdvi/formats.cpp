// Encoding and decoding of the AMD-Vi in-memory formats (see formats.h).
#include "iommu/amdvi/formats.h"

#include <cstdio>
#include <type_traits>

namespace iosim::amdvi {

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// ---- DTE (2.2.2.1): quadword 0 and 1 fields ----
constexpr unsigned kDteV = 0, kDteTv = 1, kDtePpr = 52, kDteGprp = 53, kDteGiov = 54, kDteGv = 55,
                   kDteIr = 61, kDteIw = 62;
constexpr Field kDteHad{8, 7};
constexpr Field kDteMode{11, 9};
constexpr Field kDteRoot{51, 12};
constexpr Field kDteGlx{57, 56};
constexpr Field kDteGcr3A{60, 58};  // GCR3 root [14:12]
constexpr uint64_t kDteQ0Reserved = (0x1full << 2) | (1ull << 63);
constexpr Field kDteDomain{15, 0};
constexpr Field kDteGcr3B{31, 16};  // GCR3 root [30:15]
constexpr unsigned kDteI = 32, kDteSe = 33, kDteSa = 34;
constexpr Field kDteSysMgt{41, 40};
constexpr Field kDteGcr3C{63, 43};  // GCR3 root [51:31]
constexpr uint64_t kDteQ1Reserved = 1ull << 42;

// ---- GCR3 entry (2.2.6) ----
constexpr Field kGcr3Root{51, 12};

// ---- Commands (2.4) ----
constexpr Field kOpcodeField{63, 60};
constexpr Field kCmdAddr{63, 12};  // quadword 1
constexpr Field kDeviceId{15, 0};
// COMPLETION_WAIT
constexpr unsigned kCwS = 0, kCwI = 1, kCwF = 2;
constexpr Field kCwAddr{51, 3};
// INVALIDATE_IOMMU_PAGES
constexpr Field kIpPasid{19, 0};
constexpr Field kIpDomain{47, 32};
constexpr unsigned kCmdS = 0, kCmdPde = 1, kCmdGn = 2;  // quadword 1
// INVALIDATE_IOTLB_PAGES
constexpr Field kItPasidMid{23, 16};  // PASID[15:8]
constexpr Field kItMaxPend{31, 24};
constexpr Field kItQueueId{47, 32};
constexpr Field kItPasidLo{55, 48};  // PASID[7:0]
constexpr Field kItPasidHi{59, 56};  // PASID[19:16]
constexpr Field kItType{5, 4};       // quadword 1
// COMPLETE_PPR_REQUEST
constexpr Field kPprPasid{51, 32};
constexpr Field kPprTag{40, 32};     // quadword 1 (bits 104:96)
constexpr Field kPprStatus{47, 44};  // quadword 1 (bits 111:108)

// Valid bits of each command (others are reserved and must be zero).
constexpr uint64_t kOpMask = kOpcodeField.mask();
constexpr uint64_t kCwQ0 = kOpMask | kCwAddr.mask() | 0x7;
constexpr uint64_t kDevQ0 = kOpMask | kDeviceId.mask();
constexpr uint64_t kIpQ0 = kOpMask | kIpDomain.mask() | kIpPasid.mask();
constexpr uint64_t kIpQ1 = kCmdAddr.mask() | 0x7;
constexpr uint64_t kItQ0 = ~0ull;
constexpr uint64_t kItQ1 = kCmdAddr.mask() | kItType.mask() | bit(true, kCmdGn) | bit(true, kCmdS);
constexpr uint64_t kPprQ0 = kOpMask | kPprPasid.mask() | kDeviceId.mask();
constexpr uint64_t kPprQ1 = kPprStatus.mask() | kPprTag.mask() | bit(true, kCmdGn);

// ---- Event log (2.5) and PPR log (2.6) ----
constexpr Field kEvPasidHi{19, 16};
constexpr Field kEvPasidLo{47, 32};
constexpr Field kEvFlags{59, 48};
constexpr Field kEvCode{63, 60};
constexpr Field kPprPasidLo{31, 16};
constexpr Field kPprPrgi{40, 32};
constexpr unsigned kPprLast = 41;
constexpr Field kPprPasidHi{45, 42};
constexpr Field kPprFlags{59, 48};
constexpr Field kPprType{63, 60};

void check_reserved(const CmdWords& w, uint64_t q0, uint64_t q1, const char* what) {
  if ((w[0] & ~q0) || (w[1] & ~q1)) {
    throw CommandError(std::string(what) + ": reserved bits set (" + hex(w[0]) + ", " + hex(w[1]) +
                       ")");
  }
}

uint64_t opcode_bits(Opcode op) {
  return kOpcodeField.put(static_cast<uint64_t>(op));
}

}  // namespace

// ---- Device table ----

DteWords Dte::encode() const {
  if (gcr3_root & 0xfff) throw DescriptorError("DTE: GCR3 root " + hex(gcr3_root) + " unaligned");
  if (!kDteGlx.fits(glx) || glx == 3) throw DescriptorError("DTE: GLX " + std::to_string(glx));
  DteWords w{};
  w[0] = bit(valid, kDteV) | bit(translation_valid, kDteTv) | put_checked(kDteHad, had, "DTE.HAD") |
         put_checked(kDteMode, mode, "DTE.Mode") |
         put_address(kDteRoot, page_table_root, "DTE root") | bit(ppr, kDtePpr) |
         bit(gprp, kDteGprp) | bit(giov, kDteGiov) | bit(gv, kDteGv) | kDteGlx.put(glx) |
         kDteGcr3A.put(gcr3_root >> 12) | bit(ir, kDteIr) | bit(iw, kDteIw);
  if (gcr3_root >> 52)
    throw DescriptorError("DTE: GCR3 root " + hex(gcr3_root) + " beyond 52 bits");
  w[1] = kDteDomain.put(domain_id) | kDteGcr3B.put(gcr3_root >> 15) | bit(iotlb, kDteI) |
         bit(se, kDteSe) | bit(sa, kDteSa) | put_checked(kDteSysMgt, sysmgt, "DTE.SysMgt") |
         kDteGcr3C.put(gcr3_root >> 31);
  return w;
}

Dte Dte::decode(const DteWords& w) {
  if ((w[0] & kDteQ0Reserved) || (w[1] & kDteQ1Reserved)) {
    throw DescriptorError("DTE: reserved bits set");
  }
  Dte d;
  d.valid = bit_of(w[0], kDteV);
  d.translation_valid = bit_of(w[0], kDteTv);
  d.had = static_cast<uint8_t>(kDteHad.get(w[0]));
  d.mode = static_cast<uint8_t>(kDteMode.get(w[0]));
  d.page_table_root = w[0] & kDteRoot.mask();
  d.ppr = bit_of(w[0], kDtePpr);
  d.gprp = bit_of(w[0], kDteGprp);
  d.giov = bit_of(w[0], kDteGiov);
  d.gv = bit_of(w[0], kDteGv);
  d.glx = static_cast<uint8_t>(kDteGlx.get(w[0]));
  if (d.glx == 3) throw DescriptorError("DTE: GLX = 3 is reserved");
  d.ir = bit_of(w[0], kDteIr);
  d.iw = bit_of(w[0], kDteIw);
  d.domain_id = static_cast<uint16_t>(kDteDomain.get(w[1]));
  d.gcr3_root =
      (kDteGcr3A.get(w[0]) << 12) | (kDteGcr3B.get(w[1]) << 15) | (kDteGcr3C.get(w[1]) << 31);
  d.iotlb = bit_of(w[1], kDteI);
  d.se = bit_of(w[1], kDteSe);
  d.sa = bit_of(w[1], kDteSa);
  d.sysmgt = static_cast<uint8_t>(kDteSysMgt.get(w[1]));
  return d;
}

bool Dte::operator==(const Dte& o) const {
  return encode() == o.encode();
}

uint64_t Gcr3Entry::encode() const {
  return bit(valid, 0) | put_address(kGcr3Root, root, "GCR3 entry root");
}

Gcr3Entry Gcr3Entry::decode(uint64_t w) {
  return Gcr3Entry{bit_of(w, 0), w & kGcr3Root.mask()};
}

// ---- Commands ----

const char* kind_name(Opcode op) {
  switch (op) {
    case Opcode::kCompletionWait:
      return "completion_wait";
    case Opcode::kInvalidateDevtabEntry:
      return "invalidate_devtab_entry";
    case Opcode::kInvalidateIommuPages:
      return "invalidate_iommu_pages";
    case Opcode::kInvalidateIotlbPages:
      return "invalidate_iotlb_pages";
    case Opcode::kInvalidateInterruptTable:
      return "invalidate_interrupt_table";
    case Opcode::kPrefetchIommuPages:
      return "prefetch_iommu_pages";
    case Opcode::kCompletePprRequest:
      return "complete_ppr_request";
    case Opcode::kInvalidateIommuAll:
      return "invalidate_iommu_all";
  }
  return "unknown";
}

CmdWords CompletionWait::encode() const {
  return {opcode_bits(kOpcode) | put_address(kCwAddr, store_addr, "COMPLETION_WAIT address") |
              bit(store, kCwS) | bit(interrupt, kCwI) | bit(flush, kCwF),
          store_data};
}

CompletionWait CompletionWait::decode(const CmdWords& w) {
  check_reserved(w, kCwQ0, ~0ull, "COMPLETION_WAIT");
  CompletionWait c;
  c.store = bit_of(w[0], kCwS);
  c.interrupt = bit_of(w[0], kCwI);
  c.flush = bit_of(w[0], kCwF);
  c.store_addr = w[0] & kCwAddr.mask();
  c.store_data = w[1];
  return c;
}

bool CompletionWait::operator==(const CompletionWait& o) const {
  return encode() == o.encode();
}

CmdWords InvalidateDevtabEntry::encode() const {
  return {opcode_bits(kOpcode) | kDeviceId.put(device_id), 0};
}

InvalidateDevtabEntry InvalidateDevtabEntry::decode(const CmdWords& w) {
  check_reserved(w, kDevQ0, 0, "INVALIDATE_DEVTAB_ENTRY");
  return InvalidateDevtabEntry{static_cast<uint16_t>(kDeviceId.get(w[0]))};
}

CmdWords InvalidateIommuPages::encode() const {
  return {opcode_bits(kOpcode) | put_checked(kIpPasid, pasid, "INVALIDATE_IOMMU_PAGES.PASID") |
              kIpDomain.put(domain_id),
          put_address(kCmdAddr, address, "INVALIDATE_IOMMU_PAGES address") | bit(s, kCmdS) |
              bit(pde, kCmdPde) | bit(gn, kCmdGn)};
}

InvalidateIommuPages InvalidateIommuPages::decode(const CmdWords& w) {
  check_reserved(w, kIpQ0, kIpQ1, "INVALIDATE_IOMMU_PAGES");
  InvalidateIommuPages c;
  c.pasid = static_cast<uint32_t>(kIpPasid.get(w[0]));
  c.domain_id = static_cast<uint16_t>(kIpDomain.get(w[0]));
  c.s = bit_of(w[1], kCmdS);
  c.pde = bit_of(w[1], kCmdPde);
  c.gn = bit_of(w[1], kCmdGn);
  c.address = w[1] & kCmdAddr.mask();
  return c;
}

bool InvalidateIommuPages::operator==(const InvalidateIommuPages& o) const {
  return encode() == o.encode();
}

CmdWords InvalidateIotlbPages::encode() const {
  if (pasid >> 20) throw DescriptorError("INVALIDATE_IOTLB_PAGES.PASID " + hex(pasid));
  return {opcode_bits(kOpcode) | kDeviceId.put(device_id) | kItPasidMid.put(pasid >> 8) |
              kItMaxPend.put(maxpend) | kItQueueId.put(queue_id) | kItPasidLo.put(pasid) |
              kItPasidHi.put(pasid >> 16),
          put_address(kCmdAddr, address, "INVALIDATE_IOTLB_PAGES address") | bit(s, kCmdS) |
              bit(gn, kCmdGn) | put_checked(kItType, type, "INVALIDATE_IOTLB_PAGES.Type")};
}

InvalidateIotlbPages InvalidateIotlbPages::decode(const CmdWords& w) {
  check_reserved(w, kItQ0, kItQ1, "INVALIDATE_IOTLB_PAGES");
  InvalidateIotlbPages c;
  c.device_id = static_cast<uint16_t>(kDeviceId.get(w[0]));
  c.pasid = static_cast<uint32_t>((kItPasidHi.get(w[0]) << 16) | (kItPasidMid.get(w[0]) << 8) |
                                  kItPasidLo.get(w[0]));
  c.maxpend = static_cast<uint8_t>(kItMaxPend.get(w[0]));
  c.queue_id = static_cast<uint16_t>(kItQueueId.get(w[0]));
  c.s = bit_of(w[1], kCmdS);
  c.gn = bit_of(w[1], kCmdGn);
  c.type = static_cast<uint8_t>(kItType.get(w[1]));
  c.address = w[1] & kCmdAddr.mask();
  return c;
}

bool InvalidateIotlbPages::operator==(const InvalidateIotlbPages& o) const {
  return encode() == o.encode();
}

CmdWords InvalidateInterruptTable::encode() const {
  return {opcode_bits(kOpcode) | kDeviceId.put(device_id), 0};
}

InvalidateInterruptTable InvalidateInterruptTable::decode(const CmdWords& w) {
  check_reserved(w, kDevQ0, 0, "INVALIDATE_INTERRUPT_TABLE");
  return InvalidateInterruptTable{static_cast<uint16_t>(kDeviceId.get(w[0]))};
}

CmdWords CompletePprRequest::encode() const {
  return {opcode_bits(kOpcode) | kDeviceId.put(device_id) |
              put_checked(kPprPasid, pasid, "COMPLETE_PPR_REQUEST.PASID"),
          bit(gn, kCmdGn) | put_checked(kPprTag, tag, "COMPLETE_PPR_REQUEST tag") |
              put_checked(kPprStatus, status, "COMPLETE_PPR_REQUEST.Status")};
}

CompletePprRequest CompletePprRequest::decode(const CmdWords& w) {
  check_reserved(w, kPprQ0, kPprQ1, "COMPLETE_PPR_REQUEST");
  CompletePprRequest c;
  c.device_id = static_cast<uint16_t>(kDeviceId.get(w[0]));
  c.pasid = static_cast<uint32_t>(kPprPasid.get(w[0]));
  c.gn = bit_of(w[1], kCmdGn);
  c.tag = static_cast<uint16_t>(kPprTag.get(w[1]));
  c.status = static_cast<uint8_t>(kPprStatus.get(w[1]));
  return c;
}

bool CompletePprRequest::operator==(const CompletePprRequest& o) const {
  return encode() == o.encode();
}

CmdWords InvalidateIommuAll::encode() const {
  return {opcode_bits(kOpcode), 0};
}

InvalidateIommuAll InvalidateIommuAll::decode(const CmdWords& w) {
  check_reserved(w, kOpMask, 0, "INVALIDATE_IOMMU_ALL");
  return {};
}

Opcode opcode_of(const Command& c) {
  return std::visit([](const auto& cmd) { return std::decay_t<decltype(cmd)>::kOpcode; }, c);
}

CmdWords encode_command(const Command& c) {
  return std::visit([](const auto& cmd) { return cmd.encode(); }, c);
}

Command decode_command(const CmdWords& w) {
  const uint64_t op = kOpcodeField.get(w[0]);
  switch (static_cast<Opcode>(op)) {
    case Opcode::kCompletionWait:
      return CompletionWait::decode(w);
    case Opcode::kInvalidateDevtabEntry:
      return InvalidateDevtabEntry::decode(w);
    case Opcode::kInvalidateIommuPages:
      return InvalidateIommuPages::decode(w);
    case Opcode::kInvalidateIotlbPages:
      return InvalidateIotlbPages::decode(w);
    case Opcode::kInvalidateInterruptTable:
      return InvalidateInterruptTable::decode(w);
    case Opcode::kCompletePprRequest:
      return CompletePprRequest::decode(w);
    case Opcode::kInvalidateIommuAll:
      return InvalidateIommuAll::decode(w);
    case Opcode::kPrefetchIommuPages:
    default:
      throw CommandError("command opcode " + std::to_string(op) + " not implemented");
  }
}

// ---- Invalidation addresses ----

InvAddress inv_address(uint64_t start, uint64_t size) {
  const uint64_t last = size == 0 ? start : start + (size - 1);
  if (last < start) return kInvAllPages;  // wraps past 2^64
  if ((start >> 12) == (last >> 12)) return InvAddress{start & ~0xfffull, false};
  // The most significant bit that differs between the ends: the block is 2^(msb + 1).
  unsigned msb = 63;
  while (!((last ^ start) >> msb & 1)) --msb;
  if (msb > 51) return kInvAllPages;  // bits 63:52 are sign-extended
  return InvAddress{(start | ((1ull << msb) - 1)) & ~0xfffull, true};
}

AtsRange covered_range(uint64_t address, bool s) {
  return decode_s_range(address & ~0xfffull, s);
}

// ---- Event log ----

const char* to_string(EventCode c) {
  switch (c) {
    case EventCode::kIllegalDevTableEntry:
      return "ILLEGAL_DEV_TABLE_ENTRY";
    case EventCode::kIoPageFault:
      return "IO_PAGE_FAULT";
    case EventCode::kDevTabHardwareError:
      return "DEV_TAB_HARDWARE_ERROR";
    case EventCode::kPageTabHardwareError:
      return "PAGE_TAB_HARDWARE_ERROR";
    case EventCode::kIllegalCommandError:
      return "ILLEGAL_COMMAND_ERROR";
    case EventCode::kCommandHardwareError:
      return "COMMAND_HARDWARE_ERROR";
    case EventCode::kIotlbInvTimeout:
      return "IOTLB_INV_TIMEOUT";
    case EventCode::kInvalidDeviceRequest:
      return "INVALID_DEVICE_REQUEST";
    case EventCode::kInvalidPprRequest:
      return "INVALID_PPR_REQUEST";
  }
  return "UNKNOWN";
}

EventWords EventEntry::encode() const {
  if (pasid >> 20) throw DescriptorError("event PASID " + hex(pasid));
  return {kDeviceId.put(device_id) | kEvPasidHi.put(pasid >> 16) | kEvPasidLo.put(pasid) |
              put_checked(kEvFlags, flags, "event flags") |
              kEvCode.put(static_cast<uint64_t>(code)),
          address};
}

EventEntry EventEntry::decode(const EventWords& w) {
  EventEntry e;
  e.code = static_cast<EventCode>(kEvCode.get(w[0]));
  e.device_id = static_cast<uint16_t>(kDeviceId.get(w[0]));
  e.pasid = static_cast<uint32_t>((kEvPasidHi.get(w[0]) << 16) | kEvPasidLo.get(w[0]));
  e.flags = static_cast<uint16_t>(kEvFlags.get(w[0]));
  e.address = w[1];
  return e;
}

bool EventEntry::operator==(const EventEntry& o) const {
  return encode() == o.encode();
}

// ---- PPR log ----

PprWords PprLogEntry::encode() const {
  if (pasid >> 20) throw DescriptorError("PPR PASID " + hex(pasid));
  return {kDeviceId.put(device_id) | kPprPasidLo.put(pasid) |
              put_checked(kPprPrgi, prgi, "PPR tag") | bit(last, kPprLast) |
              kPprPasidHi.put(pasid >> 16) | put_checked(kPprFlags, flags, "PPR flags") |
              put_checked(kPprType, type, "PPR type"),
          put_address(kCmdAddr, address, "PPR address")};
}

PprLogEntry PprLogEntry::decode(const PprWords& w) {
  PprLogEntry e;
  e.type = static_cast<uint8_t>(kPprType.get(w[0]));
  e.device_id = static_cast<uint16_t>(kDeviceId.get(w[0]));
  e.pasid = static_cast<uint32_t>((kPprPasidHi.get(w[0]) << 16) | kPprPasidLo.get(w[0]));
  e.prgi = static_cast<uint16_t>(kPprPrgi.get(w[0]));
  e.last = bit_of(w[0], kPprLast);
  e.flags = static_cast<uint16_t>(kPprFlags.get(w[0]));
  e.address = w[1] & kCmdAddr.mask();
  return e;
}

bool PprLogEntry::operator==(const PprLogEntry& o) const {
  return encode() == o.encode();
}

}  // namespace iosim::amdvi
