// Encoding and decoding of the SMMUv3 in-memory formats (see formats.h).
#include "iommu/smmuv3/formats.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <type_traits>

namespace iosim::smmuv3 {

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t get_addr(Field f, uint64_t w) {
  return w & f.mask();
}

// Fields shared by several formats.
constexpr Field kOpcodeField{7, 0};
constexpr unsigned kSsvBit = 11;
constexpr Field kSsid{31, 12};
constexpr Field kSid{63, 32};

// Stream table (spec 5.1, 5.2).
constexpr Field kL1StdSpan{4, 0};
constexpr Field kL1StdL2Ptr{51, 6};
constexpr unsigned kSteV = 0;
constexpr Field kSteConfig{3, 1};
constexpr Field kSteS1Fmt{5, 4};
constexpr Field kSteS1CtxPtr{51, 6};
constexpr Field kSteS1CdMax{63, 59};
constexpr Field kSteS1Dss{1, 0};
constexpr unsigned kSteS1Stalld = 27;
constexpr Field kSteEats{29, 28};
constexpr Field kSteStrw{31, 30};

// Context descriptors (spec 5.4).
constexpr unsigned kL1CdV = 0;
constexpr Field kL1CdL2Ptr{51, 12};
constexpr Field kCdT0sz{5, 0};
constexpr Field kCdTg0{7, 6};
constexpr unsigned kCdEpd0 = 14, kCdEndi = 15, kCdEpd1 = 30, kCdV = 31;
constexpr Field kCdIps{34, 32};
constexpr unsigned kCdAffd = 35, kCdAa64 = 41, kCdHd = 42, kCdHa = 43, kCdS = 44, kCdR = 45,
                   kCdA = 46, kCdAset = 47;
constexpr Field kCdAsid{63, 48};
constexpr Field kCdTtb0{51, 4};

// Commands (spec 4.1 - 4.7).
constexpr Field kCmdAddr{63, 12};
constexpr unsigned kCmdLeaf = 0;
constexpr Field kPrefetchSize{4, 0};
constexpr Field kCfgiRange{4, 0};
constexpr Field kTlbiNum{16, 12};
constexpr Field kTlbiScale{24, 20};
constexpr Field kTlbiVmid{47, 32};
constexpr Field kTlbiAsid{63, 48};
constexpr Field kTlbiTtl{9, 8};
constexpr Field kTlbiTg{11, 10};
constexpr unsigned kAtcGlobal = 9;
constexpr Field kAtcSize{5, 0};
constexpr Field kPriPrgi{8, 0};
constexpr Field kPriResp{13, 12};
constexpr Field kResumeAction{13, 12};
constexpr Field kResumeStag{15, 0};
constexpr Field kSyncCs{13, 12};
constexpr Field kSyncMsh{23, 22};
constexpr Field kSyncMsiAttr{27, 24};
constexpr Field kSyncMsiData{63, 32};
constexpr Field kSyncMsiAddr{51, 2};

// Event record (spec 7.3).
constexpr Field kEvtType{7, 0};
constexpr Field kEvtStag{15, 0};
constexpr unsigned kEvtStall = 31, kEvtPnu = 33, kEvtInd = 34, kEvtRnw = 35, kEvtS2 = 39;
constexpr Field kEvtClass{41, 40};
constexpr Field kEvtAddr2{51, 3};

// PRI queue entry (spec 8.1).
constexpr Field kPriqSid{31, 0};
constexpr Field kPriqSsid{51, 32};
constexpr unsigned kPriqPnu = 58, kPriqExec = 59, kPriqRead = 60, kPriqWrite = 61, kPriqLast = 62,
                   kPriqSsv = 63;
constexpr Field kPriqPrgi{8, 0};
constexpr Field kPriqAddr{63, 12};

constexpr uint64_t kGranuleShift4K = 12;

[[noreturn]] void bad_ste(const std::string& why) {
  throw ConfigError(EventType::kCBadSte, "STE: " + why);
}
[[noreturn]] void bad_cd(const std::string& why) {
  throw ConfigError(EventType::kCBadCd, "CD: " + why);
}
[[noreturn]] void illegal(const std::string& why) {
  throw CommandError(CmdqError::kIll, why);
}

uint64_t opcode_word(Opcode op) {
  return kOpcodeField.put(static_cast<uint64_t>(op));
}

// The StreamID / SubstreamID / SSV part of word 0 shared by several commands.
uint64_t stream_word(uint32_t sid, bool ssv, uint32_t ssid, const char* what) {
  return kSid.put(sid) | bit(ssv, kSsvBit) | put_checked(kSsid, ssid, what);
}

}  // namespace

const char* to_string(EventType t) {
  switch (t) {
    case EventType::kFUut:
      return "F_UUT";
    case EventType::kCBadStreamid:
      return "C_BAD_STREAMID";
    case EventType::kFSteFetch:
      return "F_STE_FETCH";
    case EventType::kCBadSte:
      return "C_BAD_STE";
    case EventType::kFBadAtsTreq:
      return "F_BAD_ATS_TREQ";
    case EventType::kFStreamDisabled:
      return "F_STREAM_DISABLED";
    case EventType::kFTranslForbidden:
      return "F_TRANSL_FORBIDDEN";
    case EventType::kCBadSubstreamid:
      return "C_BAD_SUBSTREAMID";
    case EventType::kFCdFetch:
      return "F_CD_FETCH";
    case EventType::kCBadCd:
      return "C_BAD_CD";
    case EventType::kFWalkEabt:
      return "F_WALK_EABT";
    case EventType::kFTranslation:
      return "F_TRANSLATION";
    case EventType::kFAddrSize:
      return "F_ADDR_SIZE";
    case EventType::kFAccess:
      return "F_ACCESS";
    case EventType::kFPermission:
      return "F_PERMISSION";
    case EventType::kFTlbConflict:
      return "F_TLB_CONFLICT";
    case EventType::kFCfgConflict:
      return "F_CFG_CONFLICT";
    case EventType::kEPageRequest:
      return "E_PAGE_REQUEST";
  }
  return "?";
}

const char* to_string(Opcode op) {
  switch (op) {
    case Opcode::kPrefetchConfig:
      return "CMD_PREFETCH_CONFIG";
    case Opcode::kPrefetchAddr:
      return "CMD_PREFETCH_ADDR";
    case Opcode::kCfgiSte:
      return "CMD_CFGI_STE";
    case Opcode::kCfgiSteRange:
      return "CMD_CFGI_STE_RANGE";
    case Opcode::kCfgiCd:
      return "CMD_CFGI_CD";
    case Opcode::kCfgiCdAll:
      return "CMD_CFGI_CD_ALL";
    case Opcode::kTlbiNhAll:
      return "CMD_TLBI_NH_ALL";
    case Opcode::kTlbiNhAsid:
      return "CMD_TLBI_NH_ASID";
    case Opcode::kTlbiNhVa:
      return "CMD_TLBI_NH_VA";
    case Opcode::kTlbiNhVaa:
      return "CMD_TLBI_NH_VAA";
    case Opcode::kTlbiNsnhAll:
      return "CMD_TLBI_NSNH_ALL";
    case Opcode::kAtcInv:
      return "CMD_ATC_INV";
    case Opcode::kPriResp:
      return "CMD_PRI_RESP";
    case Opcode::kResume:
      return "CMD_RESUME";
    case Opcode::kSync:
      return "CMD_SYNC";
  }
  return "?";
}

std::string kind_name(Opcode op) {
  std::string n = to_string(op);
  std::transform(n.begin(), n.end(), n.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return n;
}

// ---- Stream table ----

uint64_t L1Std::encode() const {
  return put_checked(kL1StdSpan, span, "L1STD.Span") |
         put_address(kL1StdL2Ptr, l2ptr, "L1STD.L2Ptr");
}

L1Std L1Std::decode(uint64_t word) {
  return L1Std{static_cast<uint8_t>(kL1StdSpan.get(word)), get_addr(kL1StdL2Ptr, word)};
}

SteWords Ste::encode() const {
  SteWords w{};
  w[0] = bit(valid, kSteV) | kSteConfig.put(static_cast<uint64_t>(config)) |
         kSteS1Fmt.put(static_cast<uint64_t>(s1fmt)) |
         put_address(kSteS1CtxPtr, s1_context_ptr, "STE.S1ContextPtr") |
         put_checked(kSteS1CdMax, s1_cdmax, "STE.S1CDMax");
  w[1] = kSteS1Dss.put(static_cast<uint64_t>(s1dss)) | bit(s1stalld, kSteS1Stalld) |
         kSteEats.put(static_cast<uint64_t>(eats)) | put_checked(kSteStrw, strw, "STE.STRW");
  return w;
}

Ste Ste::decode(const SteWords& w) {
  Ste s;
  s.valid = bit_of(w[0], kSteV);
  if (!s.valid) bad_ste("V=0");
  const uint64_t config = kSteConfig.get(w[0]);
  switch (config) {
    case 0b000:
    case 0b100:
    case 0b101:
      s.config = static_cast<SteConfig>(config);
      break;
    case 0b110:
    case 0b111:
      bad_ste("Config " + std::to_string(config) + " needs stage 2 (IDR0.S2P=0)");
    default:
      bad_ste("reserved Config " + std::to_string(config));
  }
  s.s1_cdmax = static_cast<uint8_t>(kSteS1CdMax.get(w[0]));
  s.s1_context_ptr = get_addr(kSteS1CtxPtr, w[0]);
  const uint64_t fmt = kSteS1Fmt.get(w[0]);
  const uint64_t dss = kSteS1Dss.get(w[1]);
  // S1Fmt and S1DSS only matter with a CD table (S1CDMax > 0) of a stage-1 STE.
  const bool s1_table = s.config == SteConfig::kS1Translate && s.s1_cdmax > 0;
  if (s1_table && fmt == 3) bad_ste("reserved S1Fmt 3");
  if (s1_table && dss == 3) bad_ste("reserved S1DSS 3");
  s.s1fmt = static_cast<S1Fmt>(fmt);
  s.s1dss = static_cast<S1Dss>(dss);
  s.s1stalld = bit_of(w[1], kSteS1Stalld);
  const uint64_t eats = kSteEats.get(w[1]);
  if (s.config != SteConfig::kAbort && eats > 1) {
    bad_ste("EATS " + std::to_string(eats) + " (split-stage ATS needs stage 2)");
  }
  s.eats = static_cast<Eats>(eats);
  s.strw = static_cast<uint8_t>(kSteStrw.get(w[1]));
  return s;
}

bool Ste::operator==(const Ste& o) const {
  return valid == o.valid && config == o.config && s1fmt == o.s1fmt &&
         s1_context_ptr == o.s1_context_ptr && s1_cdmax == o.s1_cdmax && s1dss == o.s1dss &&
         s1stalld == o.s1stalld && eats == o.eats && strw == o.strw;
}

// ---- Context descriptors ----

uint64_t L1Cd::encode() const {
  return bit(valid, kL1CdV) | put_address(kL1CdL2Ptr, l2ptr, "L1CD.L2Ptr");
}

L1Cd L1Cd::decode(uint64_t word) {
  return L1Cd{bit_of(word, kL1CdV), get_addr(kL1CdL2Ptr, word)};
}

CdWords Cd::encode() const {
  CdWords w{};
  w[0] = put_checked(kCdT0sz, t0sz, "CD.T0SZ") | put_checked(kCdTg0, tg0, "CD.TG0") |
         bit(epd0, kCdEpd0) | bit(endi, kCdEndi) | bit(epd1, kCdEpd1) | bit(valid, kCdV) |
         put_checked(kCdIps, ips, "CD.IPS") | bit(affd, kCdAffd) | bit(true, kCdAa64) |
         bit(hd, kCdHd) | bit(ha, kCdHa) | bit(stall, kCdS) | bit(record, kCdR) | bit(abort, kCdA) |
         bit(aset, kCdAset) | kCdAsid.put(asid);
  w[1] = put_address(kCdTtb0, ttb0, "CD.TTB0");
  w[3] = mair;
  return w;
}

Cd Cd::decode(const CdWords& w) {
  Cd c;
  c.valid = bit_of(w[0], kCdV);
  if (!c.valid) bad_cd("V=0");
  if (!bit_of(w[0], kCdAa64)) bad_cd("AA64=0 (only the AArch64 table format is walked)");
  c.endi = bit_of(w[0], kCdEndi);
  if (c.endi) bad_cd("ENDI=1 (little-endian tables only)");
  c.t0sz = static_cast<uint8_t>(kCdT0sz.get(w[0]));
  c.tg0 = static_cast<uint8_t>(kCdTg0.get(w[0]));
  if (c.t0sz != kModelT0sz || c.tg0 != kTg0_4K) {
    bad_cd("T0SZ " + std::to_string(c.t0sz) + " TG0 " + std::to_string(c.tg0) +
           " (the model walks only T0SZ=16 with TG0=4K: 4 levels from a PML4)");
  }
  c.epd0 = bit_of(w[0], kCdEpd0);
  c.epd1 = bit_of(w[0], kCdEpd1);
  c.ips = static_cast<uint8_t>(kCdIps.get(w[0]));
  c.affd = bit_of(w[0], kCdAffd);
  c.hd = bit_of(w[0], kCdHd);
  c.ha = bit_of(w[0], kCdHa);
  c.stall = bit_of(w[0], kCdS);
  c.record = bit_of(w[0], kCdR);
  c.abort = bit_of(w[0], kCdA);
  c.aset = bit_of(w[0], kCdAset);
  c.asid = static_cast<uint16_t>(kCdAsid.get(w[0]));
  c.ttb0 = get_addr(kCdTtb0, w[1]);
  c.mair = w[3];
  return c;
}

bool Cd::operator==(const Cd& o) const {
  return valid == o.valid && t0sz == o.t0sz && tg0 == o.tg0 && epd0 == o.epd0 && epd1 == o.epd1 &&
         endi == o.endi && ips == o.ips && affd == o.affd && hd == o.hd && ha == o.ha &&
         stall == o.stall && record == o.record && abort == o.abort && aset == o.aset &&
         asid == o.asid && ttb0 == o.ttb0 && mair == o.mair;
}

// ---- Commands ----

CmdWords PrefetchConfig::encode() const {
  return {opcode_word(kOpcode) | stream_word(sid, ssv, ssid, "PREFETCH_CONFIG.SubstreamID"), 0};
}
PrefetchConfig PrefetchConfig::decode(const CmdWords& w) {
  return PrefetchConfig{static_cast<uint32_t>(kSid.get(w[0])), bit_of(w[0], kSsvBit),
                        static_cast<uint32_t>(kSsid.get(w[0]))};
}
bool PrefetchConfig::operator==(const PrefetchConfig& o) const {
  return sid == o.sid && ssv == o.ssv && ssid == o.ssid;
}

CmdWords PrefetchAddr::encode() const {
  return {opcode_word(kOpcode) | stream_word(sid, ssv, ssid, "PREFETCH_ADDR.SubstreamID"),
          put_checked(kPrefetchSize, size, "PREFETCH_ADDR.Size") |
              put_address(kCmdAddr, addr, "PREFETCH_ADDR.Address")};
}
PrefetchAddr PrefetchAddr::decode(const CmdWords& w) {
  return PrefetchAddr{static_cast<uint32_t>(kSid.get(w[0])), bit_of(w[0], kSsvBit),
                      static_cast<uint32_t>(kSsid.get(w[0])),
                      static_cast<uint8_t>(kPrefetchSize.get(w[1])), get_addr(kCmdAddr, w[1])};
}
bool PrefetchAddr::operator==(const PrefetchAddr& o) const {
  return sid == o.sid && ssv == o.ssv && ssid == o.ssid && size == o.size && addr == o.addr;
}

CmdWords CfgiSte::encode() const {
  return {opcode_word(kOpcode) | kSid.put(sid), bit(leaf, kCmdLeaf)};
}
CfgiSte CfgiSte::decode(const CmdWords& w) {
  return CfgiSte{static_cast<uint32_t>(kSid.get(w[0])), bit_of(w[1], kCmdLeaf)};
}

uint32_t CfgiSteRange::first_sid() const {
  const uint64_t span = 1ull << (range + 1);
  return static_cast<uint32_t>(sid & ~(span - 1));
}
uint32_t CfgiSteRange::last_sid() const {
  const uint64_t span = 1ull << (range + 1);
  return static_cast<uint32_t>(first_sid() + (span - 1));
}
CmdWords CfgiSteRange::encode() const {
  return {opcode_word(kOpcode) | kSid.put(sid),
          put_checked(kCfgiRange, range, "CFGI_STE_RANGE.Range")};
}
CfgiSteRange CfgiSteRange::decode(const CmdWords& w) {
  return CfgiSteRange{static_cast<uint32_t>(kSid.get(w[0])),
                      static_cast<uint8_t>(kCfgiRange.get(w[1]))};
}

CmdWords CfgiCd::encode() const {
  return {opcode_word(kOpcode) | kSid.put(sid) | put_checked(kSsid, ssid, "CFGI_CD.SubstreamID"),
          bit(leaf, kCmdLeaf)};
}
CfgiCd CfgiCd::decode(const CmdWords& w) {
  return CfgiCd{static_cast<uint32_t>(kSid.get(w[0])), static_cast<uint32_t>(kSsid.get(w[0])),
                bit_of(w[1], kCmdLeaf)};
}
bool CfgiCd::operator==(const CfgiCd& o) const {
  return sid == o.sid && ssid == o.ssid && leaf == o.leaf;
}

CmdWords CfgiCdAll::encode() const {
  return {opcode_word(kOpcode) | kSid.put(sid), 0};
}
CfgiCdAll CfgiCdAll::decode(const CmdWords& w) {
  return CfgiCdAll{static_cast<uint32_t>(kSid.get(w[0]))};
}

CmdWords TlbiNhAll::encode() const {
  return {opcode_word(kOpcode) | kTlbiVmid.put(vmid), 0};
}
TlbiNhAll TlbiNhAll::decode(const CmdWords& w) {
  return TlbiNhAll{static_cast<uint16_t>(kTlbiVmid.get(w[0]))};
}

CmdWords TlbiNhAsid::encode() const {
  return {opcode_word(kOpcode) | kTlbiVmid.put(vmid) | kTlbiAsid.put(asid), 0};
}
TlbiNhAsid TlbiNhAsid::decode(const CmdWords& w) {
  return TlbiNhAsid{static_cast<uint16_t>(kTlbiAsid.get(w[0])),
                    static_cast<uint16_t>(kTlbiVmid.get(w[0]))};
}

namespace {

// The range fields of TLBI_NH_VA(A): NUM and SCALE in word 0, the rest in word 1.
CmdWords encode_va_range(const TlbiVaRange& r) {
  return {put_checked(kTlbiNum, r.num, "TLBI.NUM") | put_checked(kTlbiScale, r.scale, "TLBI.SCALE"),
          bit(r.leaf, kCmdLeaf) | put_checked(kTlbiTtl, r.ttl, "TLBI.TTL") |
              put_checked(kTlbiTg, r.tg, "TLBI.TG") |
              put_address(kCmdAddr, r.addr, "TLBI.Address")};
}

TlbiVaRange decode_va_range(const CmdWords& w) {
  TlbiVaRange r;
  r.addr = get_addr(kCmdAddr, w[1]);
  r.leaf = bit_of(w[1], kCmdLeaf);
  r.ttl = static_cast<uint8_t>(kTlbiTtl.get(w[1]));
  r.tg = static_cast<uint8_t>(kTlbiTg.get(w[1]));
  r.num = static_cast<uint8_t>(kTlbiNum.get(w[0]));
  r.scale = static_cast<uint8_t>(kTlbiScale.get(w[0]));
  if (r.tg != kTlbiTgNone && r.ttl == 0 && r.num == 0 && r.scale == 0) {
    illegal("TLBI by VA: TG set with TTL, NUM and SCALE all 0 (reserved)");
  }
  return r;
}

}  // namespace

bool TlbiVaRange::operator==(const TlbiVaRange& o) const {
  return addr == o.addr && leaf == o.leaf && ttl == o.ttl && tg == o.tg && num == o.num &&
         scale == o.scale;
}

CmdWords TlbiNhVa::encode() const {
  CmdWords w = encode_va_range(va);
  w[0] |= opcode_word(kOpcode) | kTlbiVmid.put(vmid) | kTlbiAsid.put(asid);
  return w;
}
TlbiNhVa TlbiNhVa::decode(const CmdWords& w) {
  return TlbiNhVa{static_cast<uint16_t>(kTlbiAsid.get(w[0])),
                  static_cast<uint16_t>(kTlbiVmid.get(w[0])), decode_va_range(w)};
}
bool TlbiNhVa::operator==(const TlbiNhVa& o) const {
  return asid == o.asid && vmid == o.vmid && va == o.va;
}

CmdWords TlbiNhVaa::encode() const {
  CmdWords w = encode_va_range(va);
  w[0] |= opcode_word(kOpcode) | kTlbiVmid.put(vmid);
  return w;
}
TlbiNhVaa TlbiNhVaa::decode(const CmdWords& w) {
  return TlbiNhVaa{static_cast<uint16_t>(kTlbiVmid.get(w[0])), decode_va_range(w)};
}

CmdWords TlbiNsnhAll::encode() const {
  return {opcode_word(kOpcode), 0};
}
TlbiNsnhAll TlbiNsnhAll::decode(const CmdWords&) {
  return TlbiNsnhAll{};
}

CmdWords AtcInv::encode() const {
  return {
      opcode_word(kOpcode) | stream_word(sid, ssv, ssid, "ATC_INV.SubstreamID") |
          bit(global, kAtcGlobal),
      put_checked(kAtcSize, size, "ATC_INV.Size") | put_address(kCmdAddr, addr, "ATC_INV.Address")};
}
AtcInv AtcInv::decode(const CmdWords& w) {
  AtcInv c;
  c.sid = static_cast<uint32_t>(kSid.get(w[0]));
  c.ssid = static_cast<uint32_t>(kSsid.get(w[0]));
  c.ssv = bit_of(w[0], kSsvBit);
  c.global = bit_of(w[0], kAtcGlobal);
  c.addr = get_addr(kCmdAddr, w[1]);
  c.size = static_cast<uint8_t>(kAtcSize.get(w[1]));
  return c;
}
bool AtcInv::operator==(const AtcInv& o) const {
  return sid == o.sid && ssid == o.ssid && ssv == o.ssv && global == o.global && addr == o.addr &&
         size == o.size;
}

CmdWords PriResp::encode() const {
  return {opcode_word(kOpcode) | stream_word(sid, ssv, ssid, "PRI_RESP.SubstreamID"),
          put_checked(kPriPrgi, prgi, "PRI_RESP.PRGI") | kPriResp.put(static_cast<uint64_t>(resp))};
}
PriResp PriResp::decode(const CmdWords& w) {
  const uint64_t resp = kPriResp.get(w[1]);
  if (resp == 3) illegal("PRI_RESP: reserved Resp 3");
  return PriResp{static_cast<uint32_t>(kSid.get(w[0])), static_cast<uint32_t>(kSsid.get(w[0])),
                 bit_of(w[0], kSsvBit), static_cast<uint16_t>(kPriPrgi.get(w[1])),
                 static_cast<PriResponse>(resp)};
}
bool PriResp::operator==(const PriResp& o) const {
  return sid == o.sid && ssid == o.ssid && ssv == o.ssv && prgi == o.prgi && resp == o.resp;
}

CmdWords Resume::encode() const {
  return {opcode_word(kOpcode) | kSid.put(sid) | kResumeAction.put(static_cast<uint64_t>(action)),
          kResumeStag.put(stag)};
}
Resume Resume::decode(const CmdWords& w) {
  const uint64_t action = kResumeAction.get(w[0]);
  if (action == 3) illegal("RESUME: reserved Action 3");
  return Resume{static_cast<uint32_t>(kSid.get(w[0])), static_cast<uint16_t>(kResumeStag.get(w[1])),
                static_cast<ResumeAction>(action)};
}
bool Resume::operator==(const Resume& o) const {
  return sid == o.sid && stag == o.stag && action == o.action;
}

CmdWords Sync::encode() const {
  return {opcode_word(kOpcode) | kSyncCs.put(static_cast<uint64_t>(cs)) |
              put_checked(kSyncMsh, msh, "SYNC.MSH") |
              put_checked(kSyncMsiAttr, msi_attr, "SYNC.MSIAttr") | kSyncMsiData.put(msi_data),
          put_address(kSyncMsiAddr, msi_addr, "SYNC.MSIAddress")};
}
Sync Sync::decode(const CmdWords& w) {
  const uint64_t cs = kSyncCs.get(w[0]);
  if (cs == 3) illegal("CMD_SYNC: reserved CS 3");
  Sync s;
  s.cs = static_cast<SyncCs>(cs);
  s.msh = static_cast<uint8_t>(kSyncMsh.get(w[0]));
  s.msi_attr = static_cast<uint8_t>(kSyncMsiAttr.get(w[0]));
  s.msi_data = static_cast<uint32_t>(kSyncMsiData.get(w[0]));
  s.msi_addr = get_addr(kSyncMsiAddr, w[1]);
  return s;
}
bool Sync::operator==(const Sync& o) const {
  return cs == o.cs && msh == o.msh && msi_attr == o.msi_attr && msi_data == o.msi_data &&
         msi_addr == o.msi_addr;
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
    case Opcode::kPrefetchConfig:
      return PrefetchConfig::decode(w);
    case Opcode::kPrefetchAddr:
      return PrefetchAddr::decode(w);
    case Opcode::kCfgiSte:
      return CfgiSte::decode(w);
    case Opcode::kCfgiSteRange:
      return CfgiSteRange::decode(w);
    case Opcode::kCfgiCd:
      return CfgiCd::decode(w);
    case Opcode::kCfgiCdAll:
      return CfgiCdAll::decode(w);
    case Opcode::kTlbiNhAll:
      return TlbiNhAll::decode(w);
    case Opcode::kTlbiNhAsid:
      return TlbiNhAsid::decode(w);
    case Opcode::kTlbiNhVa:
      return TlbiNhVa::decode(w);
    case Opcode::kTlbiNhVaa:
      return TlbiNhVaa::decode(w);
    case Opcode::kTlbiNsnhAll:
      return TlbiNsnhAll::decode(w);
    case Opcode::kAtcInv:
      return AtcInv::decode(w);
    case Opcode::kPriResp:
      return PriResp::decode(w);
    case Opcode::kResume:
      return Resume::decode(w);
    case Opcode::kSync:
      return Sync::decode(w);
  }
  // Includes the EL2/EL3 and stage-2 TLBIs (no HYP, no S2P), CMD_STALL_TERM (no stall
  // model) and every unallocated value.
  illegal("unsupported command opcode " + hex(op));
}

// ---- Range invalidation helpers ----

std::vector<TlbiNhVa> tlbi_range_commands(uint16_t asid, uint64_t start, uint64_t end, bool ril,
                                          bool leaf) {
  std::vector<TlbiNhVa> out;
  const uint64_t page = 1ull << kGranuleShift4K;
  uint64_t addr = start & ~(page - 1);
  if (end <= addr) return out;
  uint64_t pages = (end - addr + page - 1) >> kGranuleShift4K;
  if (!ril) {
    for (uint64_t i = 0; i < pages; ++i, addr += page) {
      TlbiNhVa c{asid, 0, {}};
      c.va.addr = addr;
      c.va.leaf = leaf;
      out.push_back(c);
    }
    return out;
  }
  const uint64_t kNumMask = kTlbiNum.max();  // NUM+1 takes at most 5 bits of the count
  // TTL=3: the level of 4 KiB leaves; without a known level, widen a count whose low 5
  // bits are 1 so that the first command does not have NUM=SCALE=TTL=0.
  const uint8_t ttl = leaf ? 3 : 0;
  if (!leaf && (pages & kNumMask) == 1) ++pages;
  while (pages != 0) {
    const unsigned scale = static_cast<unsigned>(__builtin_ctzll(pages));
    const uint64_t num = (pages >> scale) & kNumMask;
    TlbiNhVa c{asid, 0, {}};
    c.va = TlbiVaRange{
        addr, leaf, ttl, kTlbiTg4K, static_cast<uint8_t>(num - 1), static_cast<uint8_t>(scale)};
    out.push_back(c);
    addr += num << (scale + kGranuleShift4K);
    pages -= num << scale;
  }
  return out;
}

namespace {

// [base, base + 2^log2_bytes - 1], saturated at the top of the address space.
AddrRange block(uint64_t base, unsigned log2_bytes) {
  if (log2_bytes >= 64) return AddrRange{0, ~0ull};
  const uint64_t size = 1ull << log2_bytes;
  base &= ~(size - 1);
  return AddrRange{base, base + (size - 1)};
}

}  // namespace

AddrRange covered_range(const TlbiVaRange& va) {
  if (va.tg == kTlbiTgNone) return block(va.addr, kGranuleShift4K);
  const unsigned granule_shift = 10 + 2 * va.tg;
  const uint64_t granule = 1ull << granule_shift;
  const uint64_t first = va.addr & ~(granule - 1);
  // (NUM+1) << SCALE granules; NUM < 32 and SCALE < 32 keep the count below 2^37.
  const uint64_t granules = (uint64_t{va.num} + 1) << va.scale;
  const unsigned count_bits = 64 - static_cast<unsigned>(__builtin_clzll(granules));
  if (count_bits + granule_shift > 64) return AddrRange{first, ~0ull};
  const uint64_t bytes = granules << granule_shift;
  const uint64_t last = first + (bytes - 1);
  return AddrRange{first, last < first ? ~0ull : last};
}

AtcSpan atc_inv_span(uint64_t start, uint64_t end) {
  if (end <= start) return AtcSpan{0, AtcInv::kSizeAll};
  const uint64_t first_page = start >> kGranuleShift4K;
  const uint64_t last_page = (end - 1) >> kGranuleShift4K;
  const uint64_t diff = first_page ^ last_page;
  // fls(diff): the number of low page-number bits the span has to cover.
  const uint8_t log2_span =
      diff == 0 ? 0 : static_cast<uint8_t>(64 - static_cast<unsigned>(__builtin_clzll(diff)));
  const uint64_t span_mask = (1ull << log2_span) - 1;
  return AtcSpan{(first_page & ~span_mask) << kGranuleShift4K, log2_span};
}

AddrRange covered_range(const AtcInv& c) {
  if (c.size >= AtcInv::kSizeAll) return AddrRange{0, ~0ull};
  return block(c.addr, c.size + kGranuleShift4K);
}

// ---- Event queue ----

EventWords EventRecord::encode() const {
  EventWords w{};
  w[0] = kEvtType.put(static_cast<uint64_t>(type)) | stream_word(sid, ssv, ssid, "EVT.SSID");
  w[1] = kEvtStag.put(stag) | bit(stall, kEvtStall) | bit(pnu, kEvtPnu) | bit(ind, kEvtInd) |
         bit(rnw, kEvtRnw) | bit(s2, kEvtS2) | kEvtClass.put(static_cast<uint64_t>(cls));
  w[2] = input_addr;
  w[3] = put_address(kEvtAddr2, addr2, "EVT.addr2");
  return w;
}

EventRecord EventRecord::decode(const EventWords& w) {
  EventRecord e;
  e.type = static_cast<EventType>(kEvtType.get(w[0]));
  e.sid = static_cast<uint32_t>(kSid.get(w[0]));
  e.ssv = bit_of(w[0], kSsvBit);
  e.ssid = static_cast<uint32_t>(kSsid.get(w[0]));
  e.stag = static_cast<uint16_t>(kEvtStag.get(w[1]));
  e.stall = bit_of(w[1], kEvtStall);
  e.pnu = bit_of(w[1], kEvtPnu);
  e.ind = bit_of(w[1], kEvtInd);
  e.rnw = bit_of(w[1], kEvtRnw);
  e.s2 = bit_of(w[1], kEvtS2);
  e.cls = static_cast<EventClass>(kEvtClass.get(w[1]));
  e.input_addr = w[2];
  e.addr2 = get_addr(kEvtAddr2, w[3]);
  return e;
}

bool EventRecord::operator==(const EventRecord& o) const {
  return type == o.type && sid == o.sid && ssv == o.ssv && ssid == o.ssid && stag == o.stag &&
         stall == o.stall && pnu == o.pnu && ind == o.ind && rnw == o.rnw && s2 == o.s2 &&
         cls == o.cls && input_addr == o.input_addr && addr2 == o.addr2;
}

// ---- PRI queue ----

PriqWords PriqEntry::encode() const {
  return {
      kPriqSid.put(sid) | put_checked(kPriqSsid, ssid, "PRIQ.SubstreamID") | bit(pnu, kPriqPnu) |
          bit(exec, kPriqExec) | bit(read, kPriqRead) | bit(write, kPriqWrite) |
          bit(last, kPriqLast) | bit(ssv, kPriqSsv),
      put_checked(kPriqPrgi, prgi, "PRIQ.PRGIndex") | put_address(kPriqAddr, addr, "PRIQ.Address")};
}

PriqEntry PriqEntry::decode(const PriqWords& w) {
  PriqEntry e;
  e.sid = static_cast<uint32_t>(kPriqSid.get(w[0]));
  e.ssid = static_cast<uint32_t>(kPriqSsid.get(w[0]));
  e.ssv = bit_of(w[0], kPriqSsv);
  e.pnu = bit_of(w[0], kPriqPnu);
  e.exec = bit_of(w[0], kPriqExec);
  e.read = bit_of(w[0], kPriqRead);
  e.write = bit_of(w[0], kPriqWrite);
  e.last = bit_of(w[0], kPriqLast);
  e.prgi = static_cast<uint16_t>(kPriqPrgi.get(w[1]));
  e.addr = get_addr(kPriqAddr, w[1]);
  return e;
}

bool PriqEntry::operator==(const PriqEntry& o) const {
  return sid == o.sid && ssv == o.ssv && ssid == o.ssid && pnu == o.pnu && exec == o.exec &&
         read == o.read && write == o.write && last == o.last && prgi == o.prgi && addr == o.addr;
}

}  // namespace iosim::smmuv3
