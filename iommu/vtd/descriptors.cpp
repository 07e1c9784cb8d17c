// Encoding and decoding of the IOMMU's in-memory formats (see descriptors.h).
#include "iommu/vtd/descriptors.h"

#include "sc_models/memory/page_size.h"
#include "sc_models/memory/physical_memory.h"

namespace iosim {

void write_desc(PhysicalMemory& mem, uint64_t addr, const Desc128& d) {
  mem.write_u64(addr, d.qw0);
  mem.write_u64(addr + 8, d.qw1);
}

namespace {

constexpr uint64_t bits(uint64_t v, unsigned hi, unsigned lo) {
  return (v >> lo) & ((hi - lo == 63) ? ~0ull : ((1ull << (hi - lo + 1)) - 1));
}
constexpr uint64_t field(uint64_t v, unsigned hi, unsigned lo) {
  return (v & ((hi - lo == 63) ? ~0ull : ((1ull << (hi - lo + 1)) - 1))) << lo;
}
constexpr uint64_t bit(bool b, unsigned pos) {
  return uint64_t{b} << pos;
}

uint64_t type_field(InvType t) {
  return static_cast<uint64_t>(t);
}

}  // namespace

const char* to_string(InvType t) {
  switch (t) {
    case InvType::kContextCache:
      return "context_cache";
    case InvType::kIotlb:
      return "iotlb";
    case InvType::kDevTlb:
      return "dev_tlb";
    case InvType::kInvWait:
      return "inv_wait";
    case InvType::kPasidIotlb:
      return "pasid_iotlb";
    case InvType::kPasidCache:
      return "pasid_cache";
    case InvType::kPasidDevTlb:
      return "pasid_dev_tlb";
    case InvType::kPageGroupResponse:
      return "page_group_response";
  }
  return "?";
}

InvType descriptor_type(const Desc128& d) {
  const uint64_t t = bits(d.qw0, 3, 0) | (bits(d.qw0, 11, 9) << 4);
  switch (t) {
    case 1:
    case 2:
    case 3:
    case 5:
    case 6:
    case 7:
    case 8:
    case 9:
      return static_cast<InvType>(t);
    default:
      throw DescriptorError("invalidation descriptor: unsupported type " + std::to_string(t));
  }
}

Desc128 ContextCacheInv::encode() const {
  return {type_field(InvType::kContextCache) | field(granularity, 5, 4) | field(did, 31, 16) |
              field(sid, 47, 32),
          0};
}
ContextCacheInv ContextCacheInv::decode(const Desc128& d) {
  ContextCacheInv c;
  const auto g = bits(d.qw0, 5, 4);
  if (g == 0) throw DescriptorError("context-cache invalidation: reserved granularity 0");
  c.granularity = static_cast<Granularity>(g);
  c.did = static_cast<uint16_t>(bits(d.qw0, 31, 16));
  c.sid = static_cast<uint16_t>(bits(d.qw0, 47, 32));
  return c;
}
bool ContextCacheInv::operator==(const ContextCacheInv& o) const {
  return granularity == o.granularity && did == o.did && sid == o.sid;
}

Desc128 IotlbInv::encode() const {
  return {type_field(InvType::kIotlb) | field(granularity, 5, 4) | field(did, 31, 16),
          (addr & kPageMask) | bit(ih, 6) | field(am, 5, 0)};
}
IotlbInv IotlbInv::decode(const Desc128& d) {
  IotlbInv c;
  const auto g = bits(d.qw0, 5, 4);
  if (g == 0) throw DescriptorError("IOTLB invalidation: reserved granularity 0");
  c.granularity = static_cast<Granularity>(g);
  c.did = static_cast<uint16_t>(bits(d.qw0, 31, 16));
  c.addr = d.qw1 & kPageMask;
  c.ih = bits(d.qw1, 6, 6);
  c.am = static_cast<uint8_t>(bits(d.qw1, 5, 0));
  return c;
}
bool IotlbInv::operator==(const IotlbInv& o) const {
  return granularity == o.granularity && did == o.did && addr == o.addr && am == o.am && ih == o.ih;
}

Desc128 PasidIotlbInv::encode() const {
  return {type_field(InvType::kPasidIotlb) | field(granularity, 5, 4) | field(did, 31, 16) |
              field(pasid, 51, 32),
          (addr & kPageMask) | bit(ih, 6) | field(am, 5, 0)};
}
PasidIotlbInv PasidIotlbInv::decode(const Desc128& d) {
  PasidIotlbInv c;
  const auto g = bits(d.qw0, 5, 4);
  if (g != kPasid && g != kPage) {
    throw DescriptorError("PASID-based IOTLB invalidation: reserved granularity " +
                          std::to_string(g));
  }
  c.granularity = static_cast<Granularity>(g);
  c.did = static_cast<uint16_t>(bits(d.qw0, 31, 16));
  c.pasid = static_cast<uint32_t>(bits(d.qw0, 51, 32));
  c.addr = d.qw1 & kPageMask;
  c.ih = bits(d.qw1, 6, 6);
  c.am = static_cast<uint8_t>(bits(d.qw1, 5, 0));
  return c;
}
bool PasidIotlbInv::operator==(const PasidIotlbInv& o) const {
  return granularity == o.granularity && did == o.did && pasid == o.pasid && addr == o.addr &&
         am == o.am && ih == o.ih;
}

Desc128 PasidCacheInv::encode() const {
  return {type_field(InvType::kPasidCache) | field(granularity, 5, 4) | field(did, 31, 16) |
              field(pasid, 51, 32),
          0};
}
PasidCacheInv PasidCacheInv::decode(const Desc128& d) {
  PasidCacheInv c;
  const auto g = bits(d.qw0, 5, 4);
  if (g == 2) throw DescriptorError("PASID-cache invalidation: reserved granularity 2");
  c.granularity = static_cast<Granularity>(g);
  c.did = static_cast<uint16_t>(bits(d.qw0, 31, 16));
  c.pasid = static_cast<uint32_t>(bits(d.qw0, 51, 32));
  return c;
}
bool PasidCacheInv::operator==(const PasidCacheInv& o) const {
  return granularity == o.granularity && did == o.did && pasid == o.pasid;
}

Desc128 DevTlbInv::encode() const {
  if (pasid_based) {
    return {type_field(InvType::kPasidDevTlb) | field(qdep, 8, 4) | field(sid, 31, 16) |
                field(pasid, 51, 32),
            (addr & kPageMask) | bit(s, 11) | bit(global, 0)};
  }
  return {type_field(InvType::kDevTlb) | field(qdep, 20, 16) | field(sid, 47, 32),
          (addr & kPageMask) | bit(s, 0)};
}
DevTlbInv DevTlbInv::decode(const Desc128& d) {
  DevTlbInv c;
  c.pasid_based = descriptor_type(d) == InvType::kPasidDevTlb;
  c.addr = d.qw1 & kPageMask;
  if (c.pasid_based) {
    c.qdep = static_cast<uint8_t>(bits(d.qw0, 8, 4));
    c.sid = static_cast<uint16_t>(bits(d.qw0, 31, 16));
    c.pasid = static_cast<uint32_t>(bits(d.qw0, 51, 32));
    c.s = bits(d.qw1, 11, 11);
    c.global = bits(d.qw1, 0, 0);
  } else {
    c.qdep = static_cast<uint8_t>(bits(d.qw0, 20, 16));
    c.sid = static_cast<uint16_t>(bits(d.qw0, 47, 32));
    c.s = bits(d.qw1, 0, 0);
  }
  return c;
}
bool DevTlbInv::operator==(const DevTlbInv& o) const {
  return pasid_based == o.pasid_based && sid == o.sid && qdep == o.qdep && pasid == o.pasid &&
         addr == o.addr && s == o.s && global == o.global;
}

Desc128 InvWait::encode() const {
  return {type_field(InvType::kInvWait) | bit(interrupt, 4) | bit(status_write, 5) | bit(fence, 6) |
              field(status_data, 63, 32),
          status_addr & ~3ull};
}
InvWait InvWait::decode(const Desc128& d) {
  InvWait c;
  c.interrupt = bits(d.qw0, 4, 4);
  c.status_write = bits(d.qw0, 5, 5);
  c.fence = bits(d.qw0, 6, 6);
  c.status_data = static_cast<uint32_t>(bits(d.qw0, 63, 32));
  c.status_addr = d.qw1 & ~3ull;
  return c;
}
bool InvWait::operator==(const InvWait& o) const {
  return interrupt == o.interrupt && status_write == o.status_write && fence == o.fence &&
         status_data == o.status_data && status_addr == o.status_addr;
}

Desc128 PageGroupResponseDesc::encode() const {
  return {type_field(InvType::kPageGroupResponse) | bit(pasid_present, 4) |
              field(response_code, 15, 12) | field(rid, 31, 16) | field(pasid, 51, 32),
          bit(lpig, 2) | field(prg_index, 11, 3)};
}
PageGroupResponseDesc PageGroupResponseDesc::decode(const Desc128& d) {
  PageGroupResponseDesc c;
  c.pasid_present = bits(d.qw0, 4, 4);
  c.response_code = static_cast<uint8_t>(bits(d.qw0, 15, 12));
  c.rid = static_cast<uint16_t>(bits(d.qw0, 31, 16));
  c.pasid = static_cast<uint32_t>(bits(d.qw0, 51, 32));
  c.lpig = bits(d.qw1, 2, 2);
  c.prg_index = static_cast<uint16_t>(bits(d.qw1, 11, 3));
  return c;
}
bool PageGroupResponseDesc::operator==(const PageGroupResponseDesc& o) const {
  return pasid_present == o.pasid_present && response_code == o.response_code && rid == o.rid &&
         pasid == o.pasid && lpig == o.lpig && prg_index == o.prg_index;
}

void PageRequestDesc::encode(uint64_t out[4]) const {
  out[0] = 1 | bit(pasid_present, 8) | field(rid, 31, 16) | field(pasid, 51, 32) | bit(exe, 52) |
           bit(priv, 53);
  out[1] =
      bit(read, 0) | bit(write, 1) | bit(lpig, 2) | field(prg_index, 11, 3) | (addr & kPageMask);
  out[2] = 0;
  out[3] = 0;
}
PageRequestDesc PageRequestDesc::decode(const uint64_t in[4]) {
  PageRequestDesc c;
  c.pasid_present = bits(in[0], 8, 8);
  c.rid = static_cast<uint16_t>(bits(in[0], 31, 16));
  c.pasid = static_cast<uint32_t>(bits(in[0], 51, 32));
  c.exe = bits(in[0], 52, 52);
  c.priv = bits(in[0], 53, 53);
  c.read = bits(in[1], 0, 0);
  c.write = bits(in[1], 1, 1);
  c.lpig = bits(in[1], 2, 2);
  c.prg_index = static_cast<uint16_t>(bits(in[1], 11, 3));
  c.addr = in[1] & kPageMask;
  return c;
}
bool PageRequestDesc::operator==(const PageRequestDesc& o) const {
  return pasid_present == o.pasid_present && rid == o.rid && pasid == o.pasid && exe == o.exe &&
         priv == o.priv && read == o.read && write == o.write && lpig == o.lpig &&
         prg_index == o.prg_index && addr == o.addr;
}

Desc128 RootEntry::encode() const {
  return {bit(present, 0) | (context_table & kPageMask), 0};
}
RootEntry RootEntry::decode(const Desc128& d) {
  return {static_cast<bool>(bits(d.qw0, 0, 0)), d.qw0 & kPageMask};
}

Desc128 ContextEntry::encode() const {
  return {bit(present, 0) | bit(dte, 1) | bit(pre, 2) | bit(pasid_enable, 3) |
              (pasid_table & kPageMask),
          field(pts, 4, 0) | field(rid_pasid, 51, 32)};
}
ContextEntry ContextEntry::decode(const Desc128& d) {
  ContextEntry c;
  c.present = bits(d.qw0, 0, 0);
  c.dte = bits(d.qw0, 1, 1);
  c.pre = bits(d.qw0, 2, 2);
  c.pasid_enable = bits(d.qw0, 3, 3);
  c.pasid_table = d.qw0 & kPageMask;
  c.pts = static_cast<uint8_t>(bits(d.qw1, 4, 0));
  c.rid_pasid = static_cast<uint32_t>(bits(d.qw1, 51, 32));
  return c;
}
bool ContextEntry::operator==(const ContextEntry& o) const {
  return present == o.present && dte == o.dte && pre == o.pre && pasid_enable == o.pasid_enable &&
         pasid_table == o.pasid_table && pts == o.pts && rid_pasid == o.rid_pasid;
}

Desc128 PasidEntry::encode() const {
  return {
      bit(present, 0) | bit(sre, 1) | field(static_cast<uint8_t>(pgtt), 8, 6) | (flptr & kPageMask),
      field(did, 15, 0)};
}
PasidEntry PasidEntry::decode(const Desc128& d) {
  PasidEntry c;
  c.present = bits(d.qw0, 0, 0);
  c.sre = bits(d.qw0, 1, 1);
  c.flptr = d.qw0 & 0x000ffffffffff000ull;
  c.did = static_cast<uint16_t>(bits(d.qw1, 15, 0));
  const uint64_t pgtt = bits(d.qw0, 8, 6);
  c.pgtt =
      pgtt == static_cast<uint8_t>(Pgtt::kPassThrough) ? Pgtt::kPassThrough : Pgtt::kFirstStage;
  c.pgtt_unsupported = pgtt != static_cast<uint8_t>(Pgtt::kPassThrough) &&
                       pgtt != static_cast<uint8_t>(Pgtt::kFirstStage);
  return c;
}
bool PasidEntry::operator==(const PasidEntry& o) const {
  return present == o.present && sre == o.sre && flptr == o.flptr && did == o.did &&
         pgtt == o.pgtt && pgtt_unsupported == o.pgtt_unsupported;
}

}  // namespace iosim
