// Encoding and decoding of the RISC-V IOMMU in-memory formats (see formats.h).
#include "iommu/riscv/formats.h"

#include <cstdio>
#include <type_traits>

namespace iosim::riscv {

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// A 4 KiB aligned physical address as a PPN field (43:0 in contexts).
uint64_t put_root(Field ppn, uint64_t addr, const char* what) {
  if (addr & 0xfff)
    throw DescriptorError(std::string(what) + ": " + hex(addr) + " not 4 KiB aligned");
  return put_checked(ppn, addr >> 12, what);
}

// Directory entries (2.1.1, 2.2.1).
constexpr uint64_t kDirValid = 1;
constexpr uint64_t kDirMask = kDirValid | kPpnField.mask();

// Device context (2.1.3).
constexpr unsigned kTcV = 0, kTcEnAts = 1, kTcEnPri = 2, kTcT2gpa = 3, kTcDtf = 4, kTcPdtv = 5,
                   kTcPrpr = 6, kTcGade = 7, kTcSade = 8, kTcDpe = 9, kTcSbe = 10, kTcSxl = 11;
constexpr uint64_t kTcMask = (1ull << 12) - 1;
constexpr Field kAtpPpn{43, 0};
constexpr Field kAtpMode{63, 60};
constexpr Field kIohgatpGscid{59, 44};
constexpr Field kDcTaPscid{39, 12};
constexpr uint64_t kAtpMask = kAtpPpn.mask() | kAtpMode.mask();

// Process context (2.2.3).
constexpr unsigned kPcV = 0, kPcEns = 1, kPcSum = 2;
constexpr Field kPcPscid{31, 12};
constexpr uint64_t kPcTaMask = 0b111 | kPcPscid.mask();

// Commands (3.1).
constexpr Field kCmdOpcode{6, 0};
constexpr Field kCmdFunc{9, 7};
constexpr unsigned kCmdAv = 10;
constexpr Field kInvPscid{31, 12};
constexpr unsigned kInvPscv = 32, kInvGv = 33;
constexpr Field kInvGscid{59, 44};
constexpr Field kInvAddr{61, 10};  // word 1: ADDR[63:12]
constexpr unsigned kFenceWsi = 11, kFencePr = 12, kFencePw = 13;
constexpr Field kFenceData{63, 32};
constexpr Field kFenceAddr{61, 0};  // word 1: ADDR[63:2]
constexpr Field kDirPid{31, 12};
constexpr unsigned kDirDv = 33;
constexpr Field kDirDid{63, 40};
constexpr Field kAtsPid{31, 12};
constexpr unsigned kAtsPv = 32, kAtsDsv = 33;
constexpr Field kAtsRid{55, 40};
constexpr Field kAtsDseg{63, 56};
constexpr unsigned kInvalG = 0, kInvalS = 11;
constexpr Field kInvalAddr{63, 12};
constexpr Field kPrgrIndex{40, 32};
constexpr Field kPrgrCode{47, 44};
constexpr Field kPrgrDst{63, 48};

// Fault record (3.2).
constexpr Field kFrCause{11, 0};
constexpr Field kFrPid{31, 12};
constexpr unsigned kFrPv = 32, kFrPriv = 33;
constexpr Field kFrTtyp{39, 34};
constexpr Field kFrDid{63, 40};

// Page request record (3.3).
constexpr Field kPrPid{31, 12};
constexpr unsigned kPrPv = 32, kPrPriv = 33, kPrExec = 34;
constexpr Field kPrDid{63, 40};
constexpr unsigned kPrR = 0, kPrW = 1, kPrL = 2;
constexpr Field kPrPrgi{11, 3};
constexpr Field kPrAddr{63, 12};

[[noreturn]] void bad_dc(const std::string& why) {
  throw TableError(Cause::kDdtMisconfigured, "device context: " + why);
}
[[noreturn]] void bad_pc(const std::string& why) {
  throw TableError(Cause::kPdtMisconfigured, "process context: " + why);
}
[[noreturn]] void illegal(const std::string& why) {
  throw CommandError("illegal command: " + why);
}

uint64_t op_word(uint8_t opcode, uint8_t func) {
  return kCmdOpcode.put(opcode) | kCmdFunc.put(func);
}

uint64_t ats_word(const AtsTarget& t, uint8_t func) {
  return op_word(kOpAts, func) | put_checked(kAtsPid, t.pid, "ATS PID") | bit(t.pv, kAtsPv) |
         bit(t.dsv, kAtsDsv) | kAtsRid.put(t.rid) | kAtsDseg.put(t.dseg);
}

AtsTarget ats_target(uint64_t w0) {
  AtsTarget t;
  t.pid = static_cast<uint32_t>(kAtsPid.get(w0));
  t.pv = bit_of(w0, kAtsPv);
  t.dsv = bit_of(w0, kAtsDsv);
  t.rid = static_cast<uint16_t>(kAtsRid.get(w0));
  t.dseg = static_cast<uint8_t>(kAtsDseg.get(w0));
  return t;
}

// Reserved bits of word 0 outside the opcode, func3 and `used`.
void check_reserved(uint64_t word, uint64_t used, const char* what) {
  if (word & ~used) illegal(std::string(what) + ": reserved bits " + hex(word & ~used));
}

CmdWords encode(const IotinvalVma& c) {
  return {op_word(kOpIotinval, kFuncVma) | bit(c.av, kCmdAv) |
              put_checked(kInvPscid, c.pscid, "PSCID") | bit(c.pscv, kInvPscv) | bit(c.gv, kInvGv) |
              kInvGscid.put(c.gscid),
          c.av ? put_checked(kInvAddr, c.addr >> 12, "IOTINVAL address") : 0};
}
CmdWords encode(const IotinvalGvma& c) {
  return {op_word(kOpIotinval, kFuncGvma) | bit(c.av, kCmdAv) | bit(c.gv, kInvGv) |
              kInvGscid.put(c.gscid),
          c.av ? put_checked(kInvAddr, c.addr >> 12, "IOTINVAL address") : 0};
}
CmdWords encode(const IofenceC& c) {
  if (c.addr & 3) throw DescriptorError("IOFENCE.C address not 4-byte aligned");
  return {op_word(kOpIofence, kFuncIofenceC) | bit(c.av, kCmdAv) | bit(c.wsi, kFenceWsi) |
              bit(c.pr, kFencePr) | bit(c.pw, kFencePw) | kFenceData.put(c.data),
          c.av ? put_checked(kFenceAddr, c.addr >> 2, "IOFENCE.C address") : 0};
}
CmdWords encode(const IodirInvalDdt& c) {
  return {op_word(kOpIodir, kFuncInvalDdt) | bit(c.dv, kDirDv) | put_checked(kDirDid, c.did, "DID"),
          0};
}
CmdWords encode(const IodirInvalPdt& c) {
  return {op_word(kOpIodir, kFuncInvalPdt) | put_checked(kDirPid, c.pid, "PID") |
              bit(true, kDirDv) | put_checked(kDirDid, c.did, "DID"),
          0};
}
CmdWords encode(const AtsInval& c) {
  return {ats_word(c.target, kFuncAtsInval), c.payload.encode()};
}
CmdWords encode(const AtsPrgr& c) {
  return {ats_word(c.target, kFuncAtsPrgr), c.payload.encode()};
}

constexpr uint64_t kInvUsed = kCmdOpcode.mask() | kCmdFunc.mask() | (1ull << kCmdAv) |
                              kInvPscid.mask() | (1ull << kInvPscv) | (1ull << kInvGv) |
                              kInvGscid.mask();
constexpr uint64_t kFenceUsed = kCmdOpcode.mask() | kCmdFunc.mask() | (1ull << kCmdAv) |
                                (1ull << kFenceWsi) | (1ull << kFencePr) | (1ull << kFencePw) |
                                kFenceData.mask();
constexpr uint64_t kDirUsed =
    kCmdOpcode.mask() | kCmdFunc.mask() | kDirPid.mask() | (1ull << kDirDv) | kDirDid.mask();
constexpr uint64_t kAtsUsed = kCmdOpcode.mask() | kCmdFunc.mask() | kAtsPid.mask() |
                              (1ull << kAtsPv) | (1ull << kAtsDsv) | kAtsRid.mask() |
                              kAtsDseg.mask();

Command decode_iotinval(const CmdWords& w, unsigned func) {
  check_reserved(w[0], kInvUsed, "IOTINVAL");
  check_reserved(w[1], kInvAddr.mask(), "IOTINVAL address word");
  const bool av = bit_of(w[0], kCmdAv);
  const uint64_t addr = kInvAddr.get(w[1]) << 12;
  if (func == kFuncVma) {
    IotinvalVma c;
    c.av = av;
    c.addr = av ? addr : 0;
    c.pscid = static_cast<uint32_t>(kInvPscid.get(w[0]));
    c.pscv = bit_of(w[0], kInvPscv);
    c.gv = bit_of(w[0], kInvGv);
    c.gscid = static_cast<uint16_t>(kInvGscid.get(w[0]));
    return c;
  }
  if (func != kFuncGvma) illegal("IOTINVAL function " + std::to_string(func));
  if (bit_of(w[0], kInvPscv)) illegal("IOTINVAL.GVMA with PSCV = 1");
  IotinvalGvma c;
  c.av = av;
  c.addr = av ? addr : 0;
  c.gv = bit_of(w[0], kInvGv);
  c.gscid = static_cast<uint16_t>(kInvGscid.get(w[0]));
  return c;
}

Command decode_iofence(const CmdWords& w, unsigned func) {
  if (func != kFuncIofenceC) illegal("IOFENCE function " + std::to_string(func));
  check_reserved(w[0], kFenceUsed, "IOFENCE.C");
  check_reserved(w[1], kFenceAddr.mask(), "IOFENCE.C address word");
  IofenceC c;
  c.av = bit_of(w[0], kCmdAv);
  c.wsi = bit_of(w[0], kFenceWsi);
  c.pr = bit_of(w[0], kFencePr);
  c.pw = bit_of(w[0], kFencePw);
  c.data = static_cast<uint32_t>(kFenceData.get(w[0]));
  c.addr = c.av ? kFenceAddr.get(w[1]) << 2 : 0;
  return c;
}

Command decode_iodir(const CmdWords& w, unsigned func) {
  check_reserved(w[0], kDirUsed, "IODIR");
  if (w[1] != 0) illegal("IODIR: reserved word 1");
  const bool dv = bit_of(w[0], kDirDv);
  const auto did = static_cast<uint32_t>(kDirDid.get(w[0]));
  const auto pid = static_cast<uint32_t>(kDirPid.get(w[0]));
  if (func == kFuncInvalDdt) {
    if (pid != 0) illegal("IODIR.INVAL_DDT with PID != 0");
    return IodirInvalDdt{dv, dv ? did : 0};
  }
  if (func != kFuncInvalPdt) illegal("IODIR function " + std::to_string(func));
  if (!dv) illegal("IODIR.INVAL_PDT with DV = 0");
  return IodirInvalPdt{did, pid};
}

Command decode_ats(const CmdWords& w, unsigned func) {
  check_reserved(w[0], kAtsUsed, "ATS");
  if (func == kFuncAtsInval) {
    AtsInval c;
    c.target = ats_target(w[0]);
    c.payload = AtsInvalPayload::decode(w[1]);
    return c;
  }
  if (func != kFuncAtsPrgr) illegal("ATS function " + std::to_string(func));
  AtsPrgr c;
  c.target = ats_target(w[0]);
  c.payload = PrgrPayload::decode(w[1]);
  return c;
}

}  // namespace

// ---- Directory tables ----

uint64_t DirEntry::encode() const {
  if (next & 0xfff) throw DescriptorError("directory entry: table not 4 KiB aligned");
  return bit(valid, 0) | put_checked(kPpnField, next >> 12, "directory entry PPN");
}

DirEntry DirEntry::decode(uint64_t word, Cause misconfigured) {
  DirEntry e;
  e.valid = word & kDirValid;
  if (!e.valid) return e;
  if (word & ~kDirMask) {
    throw TableError(misconfigured, "non-leaf entry: reserved bits " + hex(word & ~kDirMask));
  }
  e.next = ppn_to_addr(word);
  return e;
}

DcWords DeviceContext::encode(bool extended) const {
  DcWords w{};
  w[0] = bit(valid, kTcV) | bit(en_ats, kTcEnAts) | bit(en_pri, kTcEnPri) | bit(t2gpa, kTcT2gpa) |
         bit(dtf, kTcDtf) | bit(pdtv, kTcPdtv) | bit(prpr, kTcPrpr) | bit(gade, kTcGade) |
         bit(sade, kTcSade) | bit(dpe, kTcDpe) | bit(sbe, kTcSbe) | bit(sxl, kTcSxl);
  w[1] = put_checked(kAtpMode, iohgatp_mode, "iohgatp.MODE") | kIohgatpGscid.put(gscid) |
         put_root(kAtpPpn, iohgatp_root, "iohgatp root");
  w[2] = put_checked(kDcTaPscid, pscid, "DC.ta.PSCID");
  w[3] = put_checked(kAtpMode, fsc_mode, "fsc.MODE") | put_root(kAtpPpn, fsc_root, "fsc root");
  (void)extended;  // msiptp, msi_addr_mask, msi_addr_pattern: 0 (no MSI translation)
  return w;
}

DeviceContext DeviceContext::decode(const DcWords& w, bool extended) {
  DeviceContext d;
  d.valid = bit_of(w[0], kTcV);
  if (!d.valid) return d;
  if (w[0] & ~kTcMask) bad_dc("tc reserved bits " + hex(w[0] & ~kTcMask));
  d.en_ats = bit_of(w[0], kTcEnAts);
  d.en_pri = bit_of(w[0], kTcEnPri);
  d.t2gpa = bit_of(w[0], kTcT2gpa);
  d.dtf = bit_of(w[0], kTcDtf);
  d.pdtv = bit_of(w[0], kTcPdtv);
  d.prpr = bit_of(w[0], kTcPrpr);
  d.gade = bit_of(w[0], kTcGade);
  d.sade = bit_of(w[0], kTcSade);
  d.dpe = bit_of(w[0], kTcDpe);
  d.sbe = bit_of(w[0], kTcSbe);
  d.sxl = bit_of(w[0], kTcSxl);
  d.iohgatp_mode = static_cast<uint8_t>(kAtpMode.get(w[1]));
  d.gscid = static_cast<uint16_t>(kIohgatpGscid.get(w[1]));
  d.iohgatp_root = kAtpPpn.get(w[1]) << 12;
  if (w[2] & ~kDcTaPscid.mask()) bad_dc("ta reserved bits");
  d.pscid = static_cast<uint32_t>(kDcTaPscid.get(w[2]));
  if (w[3] & ~kAtpMask) bad_dc("fsc reserved bits");
  d.fsc_mode = static_cast<uint8_t>(kAtpMode.get(w[3]));
  d.fsc_root = kAtpPpn.get(w[3]) << 12;
  // 2.1.4: the configuration checks this IOMMU's capabilities make.
  if (d.en_pri && !d.en_ats) bad_dc("EN_PRI without EN_ATS");
  if (d.prpr && !d.en_pri) bad_dc("PRPR without EN_PRI");
  if (d.t2gpa) bad_dc("T2GPA (no second stage)");
  if (d.iohgatp_mode != 0) bad_dc("iohgatp.MODE not Bare (no second stage)");
  if (d.sxl) bad_dc("SXL (32-bit first stage not supported)");
  if (d.dpe && !d.pdtv) bad_dc("DPE without PDTV");
  if (d.pdtv) {
    if (d.fsc_mode > static_cast<uint8_t>(PdtpMode::kPd20)) bad_dc("reserved pdtp.MODE");
  } else if (d.fsc_mode != static_cast<uint8_t>(IosatpMode::kBare) &&
             d.fsc_mode != static_cast<uint8_t>(IosatpMode::kSv48)) {
    bad_dc("iosatp.MODE " + std::to_string(d.fsc_mode) + " (Sv48 and Bare only)");
  }
  if (extended && kAtpMode.get(w[4]) != 0) bad_dc("msiptp.MODE not Off (no MSI translation)");
  return d;
}

bool DeviceContext::operator==(const DeviceContext& o) const {
  return encode() == o.encode();
}

PcWords ProcessContext::encode() const {
  return {bit(valid, kPcV) | bit(ens, kPcEns) | bit(sum, kPcSum) |
              put_checked(kPcPscid, pscid, "PSCID"),
          kAtpMode.put(static_cast<uint64_t>(mode)) | put_root(kAtpPpn, root, "iosatp root")};
}

ProcessContext ProcessContext::decode(const PcWords& w) {
  ProcessContext p;
  p.valid = bit_of(w[0], kPcV);
  if (!p.valid) return p;
  if (w[0] & ~kPcTaMask) bad_pc("ta reserved bits " + hex(w[0] & ~kPcTaMask));
  if (w[1] & ~kAtpMask) bad_pc("fsc reserved bits");
  p.ens = bit_of(w[0], kPcEns);
  p.sum = bit_of(w[0], kPcSum);
  p.pscid = static_cast<uint32_t>(kPcPscid.get(w[0]));
  const auto mode = static_cast<uint8_t>(kAtpMode.get(w[1]));
  if (mode != static_cast<uint8_t>(IosatpMode::kBare) &&
      mode != static_cast<uint8_t>(IosatpMode::kSv48)) {
    bad_pc("iosatp.MODE " + std::to_string(mode) + " (Sv48 and Bare only)");
  }
  p.mode = static_cast<IosatpMode>(mode);
  p.root = kAtpPpn.get(w[1]) << 12;
  return p;
}

bool ProcessContext::operator==(const ProcessContext& o) const {
  return encode() == o.encode();
}

uint32_t ddi(uint32_t device_id, unsigned level, bool extended) {
  static constexpr Field kBase[] = {{6, 0}, {15, 7}, {23, 16}};
  static constexpr Field kExt[] = {{5, 0}, {14, 6}, {23, 15}};
  return static_cast<uint32_t>((extended ? kExt : kBase)[level].get(device_id));
}

uint32_t pdi(uint32_t pid, unsigned level) {
  static constexpr Field kPdi[] = {{7, 0}, {16, 8}, {19, 17}};
  return static_cast<uint32_t>(kPdi[level].get(pid));
}

// ---- Commands ----

bool IotinvalVma::operator==(const IotinvalVma& o) const {
  return av == o.av && pscv == o.pscv && gv == o.gv && pscid == o.pscid && gscid == o.gscid &&
         addr == o.addr;
}
bool IotinvalGvma::operator==(const IotinvalGvma& o) const {
  return av == o.av && gv == o.gv && gscid == o.gscid && addr == o.addr;
}
bool IofenceC::operator==(const IofenceC& o) const {
  return av == o.av && wsi == o.wsi && pr == o.pr && pw == o.pw && data == o.data && addr == o.addr;
}
bool AtsTarget::operator==(const AtsTarget& o) const {
  return dsv == o.dsv && dseg == o.dseg && rid == o.rid && pv == o.pv && pid == o.pid;
}

uint64_t AtsInvalPayload::encode() const {
  if (address & 0xfff) throw DescriptorError("ATS.INVAL address: bits 11:0 must be 0");
  return address | bit(s, kInvalS) | bit(global, kInvalG);
}
AtsInvalPayload AtsInvalPayload::decode(uint64_t word) {
  if (word & ~(kInvalAddr.mask() | (1ull << kInvalS) | (1ull << kInvalG))) {
    illegal("ATS.INVAL payload: reserved bits");
  }
  return AtsInvalPayload{word & kInvalAddr.mask(), bit_of(word, kInvalS), bit_of(word, kInvalG)};
}
bool AtsInvalPayload::operator==(const AtsInvalPayload& o) const {
  return address == o.address && s == o.s && global == o.global;
}
bool AtsInval::operator==(const AtsInval& o) const {
  return target == o.target && payload == o.payload;
}

uint64_t PrgrPayload::encode() const {
  return put_checked(kPrgrIndex, prgi, "PRGI") | put_checked(kPrgrCode, code, "response code") |
         kPrgrDst.put(dst_id);
}
PrgrPayload PrgrPayload::decode(uint64_t word) {
  if (word & ~(kPrgrIndex.mask() | kPrgrCode.mask() | kPrgrDst.mask())) {
    illegal("ATS.PRGR payload: reserved bits");
  }
  return PrgrPayload{static_cast<uint16_t>(kPrgrIndex.get(word)),
                     static_cast<uint8_t>(kPrgrCode.get(word)),
                     static_cast<uint16_t>(kPrgrDst.get(word))};
}
bool PrgrPayload::operator==(const PrgrPayload& o) const {
  return prgi == o.prgi && code == o.code && dst_id == o.dst_id;
}
bool AtsPrgr::operator==(const AtsPrgr& o) const {
  return target == o.target && payload == o.payload;
}

const char* kind_name(const Command& c) {
  return kCommandKinds[c.index()];
}

CmdWords encode_command(const Command& c) {
  return std::visit([](const auto& x) { return encode(x); }, c);
}

Command decode_command(const CmdWords& w) {
  const auto op = static_cast<uint8_t>(kCmdOpcode.get(w[0]));
  const auto func = static_cast<unsigned>(kCmdFunc.get(w[0]));
  switch (op) {
    case kOpIotinval:
      return decode_iotinval(w, func);
    case kOpIofence:
      return decode_iofence(w, func);
    case kOpIodir:
      return decode_iodir(w, func);
    case kOpAts:
      return decode_ats(w, func);
    default:
      illegal("opcode " + std::to_string(op));
  }
}

// ---- Fault and page request records ----

FaultWords FaultRecord::encode() const {
  return {put_checked(kFrCause, cause, "CAUSE") | put_checked(kFrPid, pid, "PID") | bit(pv, kFrPv) |
              bit(priv, kFrPriv) | kFrTtyp.put(static_cast<uint64_t>(ttyp)) |
              put_checked(kFrDid, did, "DID"),
          0, iotval, iotval2};
}
FaultRecord FaultRecord::decode(const FaultWords& w) {
  FaultRecord r;
  r.cause = static_cast<uint16_t>(kFrCause.get(w[0]));
  r.pid = static_cast<uint32_t>(kFrPid.get(w[0]));
  r.pv = bit_of(w[0], kFrPv);
  r.priv = bit_of(w[0], kFrPriv);
  r.ttyp = static_cast<Ttyp>(kFrTtyp.get(w[0]));
  r.did = static_cast<uint32_t>(kFrDid.get(w[0]));
  r.iotval = w[2];
  r.iotval2 = w[3];
  return r;
}
bool FaultRecord::operator==(const FaultRecord& o) const {
  return encode() == o.encode();
}

PageRequestWords PageRequestRecord::encode() const {
  if (addr & 0xfff) throw DescriptorError("page request address not 4 KiB aligned");
  return {put_checked(kPrPid, pid, "PID") | bit(pv, kPrPv) | bit(priv, kPrPriv) |
              bit(exec, kPrExec) | put_checked(kPrDid, did, "DID"),
          bit(read, kPrR) | bit(write, kPrW) | bit(last, kPrL) |
              put_checked(kPrPrgi, prgi, "PRGI") | addr};
}
PageRequestRecord PageRequestRecord::decode(const PageRequestWords& w) {
  PageRequestRecord r;
  r.pid = static_cast<uint32_t>(kPrPid.get(w[0]));
  r.pv = bit_of(w[0], kPrPv);
  r.priv = bit_of(w[0], kPrPriv);
  r.exec = bit_of(w[0], kPrExec);
  r.did = static_cast<uint32_t>(kPrDid.get(w[0]));
  r.read = bit_of(w[1], kPrR);
  r.write = bit_of(w[1], kPrW);
  r.last = bit_of(w[1], kPrL);
  r.prgi = static_cast<uint16_t>(kPrPrgi.get(w[1]));
  r.addr = w[1] & kPrAddr.mask();
  return r;
}
bool PageRequestRecord::operator==(const PageRequestRecord& o) const {
  return encode() == o.encode();
}

}  // namespace iosim::riscv
