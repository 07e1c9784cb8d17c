// In-memory formats shared by the IOMMU and its driver: invalidation-queue
// descriptors, page request descriptors, and the root / context / PASID table
// entries. Each has encode() and decode(); reserved bits are written as 0 and
// ignored on decode. Software (os/, test benches) writes them through the memory
// backdoor (write_desc); the IOMMU's queue processors and table walker fetch them.
//
// Invalidation descriptors (128-bit) follow Intel VT-d (Architecture Specification
// rev. 3.x, section 6.5.2 "Queued Invalidation"); the bit layout is at InvType.
// Page request descriptors (256-bit) follow VT-d section 7.5.1.1 "Page Request
// Descriptor"; layout at PageRequestDesc.
//
// Simplifications: the translation tables use a simplified, documented layout in the
// spirit of VT-d scalable mode (all entries 16 bytes; layout at RootEntry; the PASID
// table is flat); the type bits 6:4 of a descriptor (qw0 bits 11:9) are always 0;
// VT-d dev-TLB descriptors also carry PFSID and MIP, which are not modelled; the
// private data of a page request (qw2, qw3) is 0.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "iommu/descriptor_error.h"

namespace iosim {

class PhysicalMemory;

struct Desc128 {
  uint64_t qw0 = 0, qw1 = 0;
  bool operator==(const Desc128& o) const { return qw0 == o.qw0 && qw1 == o.qw1; }
};

// Stores a 128-bit descriptor or table entry at `addr` (qw0 first, little endian)
// through the memory's zero-time backdoor: how software and test benches fill the
// tables and queues the IOMMU then fetches with latency.
void write_desc(PhysicalMemory& mem, uint64_t addr, const Desc128& d);

// Invalidation descriptors: qw0 = bits 63:0, qw1 = bits 127:64; type = qw0 bits 3:0.
//   1 context-cache   qw0: 5:4 G (1 global, 2 domain, 3 device) 31:16 DID 47:32 SID
//   2 IOTLB           qw0: 5:4 G (1 global, 2 domain, 3 page) 31:16 DID
//                     qw1: 63:12 ADDR, 6 IH, 5:0 AM (2^AM pages, ADDR aligned to it)
//   3 dev-TLB         qw0: 20:16 QDEP 47:32 SID;  qw1: 63:12 ADDR, 0 S (S-bit range)
//   5 inv_wait        qw0: 4 IF, 5 SW, 6 FN, 63:32 status data;  qw1: 63:2 status addr
//   6 PASID IOTLB     qw0: 5:4 G (2 all non-global of PASID, 3 page-selective)
//                          31:16 DID 51:32 PASID;  qw1: 63:12 ADDR, 6 IH, 5:0 AM
//   7 PASID-cache     qw0: 5:4 G (0 domain, 1 PASID, 3 global) 31:16 DID 51:32 PASID
//   8 PASID dev-TLB   qw0: 8:4 QDEP 31:16 SID 51:32 PASID;
//                     qw1: 63:12 ADDR, 11 S, 0 G (also drop Global translations)
//   9 page group resp qw0: 4 PASID present, 15:12 response code, 31:16 RID,
//                          51:32 PASID;  qw1: 2 LPIG, 11:3 PRG index
enum class InvType : uint8_t {
  kContextCache = 1,
  kIotlb = 2,
  kDevTlb = 3,
  kInvWait = 5,
  kPasidIotlb = 6,
  kPasidCache = 7,
  kPasidDevTlb = 8,
  kPageGroupResponse = 9,
};
const char* to_string(InvType t);
// Type of a raw descriptor; throws DescriptorError for an unknown type.
InvType descriptor_type(const Desc128& d);

struct ContextCacheInv {
  enum Granularity : uint8_t { kGlobal = 1, kDomain = 2, kDevice = 3 };
  Granularity granularity = kGlobal;
  uint16_t did = 0;
  uint16_t sid = 0;
  Desc128 encode() const;
  static ContextCacheInv decode(const Desc128& d);
  bool operator==(const ContextCacheInv& o) const;
};

struct IotlbInv {
  enum Granularity : uint8_t { kGlobal = 1, kDomain = 2, kPage = 3 };
  Granularity granularity = kGlobal;
  uint16_t did = 0;
  uint64_t addr = 0;  // 4 KiB aligned, aligned to 2^am pages
  uint8_t am = 0;     // address mask: 2^am pages
  bool ih = false;    // invalidation hint: leaf only, keep walk caches
  Desc128 encode() const;
  static IotlbInv decode(const Desc128& d);
  bool operator==(const IotlbInv& o) const;
};

struct PasidIotlbInv {
  enum Granularity : uint8_t { kPasid = 2, kPage = 3 };
  Granularity granularity = kPasid;
  uint16_t did = 0;
  uint32_t pasid = 0;
  uint64_t addr = 0;
  uint8_t am = 0;
  bool ih = false;
  Desc128 encode() const;
  static PasidIotlbInv decode(const Desc128& d);
  bool operator==(const PasidIotlbInv& o) const;
};

struct PasidCacheInv {
  enum Granularity : uint8_t { kDomain = 0, kPasid = 1, kGlobal = 3 };
  Granularity granularity = kGlobal;
  uint16_t did = 0;
  uint32_t pasid = 0;
  Desc128 encode() const;
  static PasidCacheInv decode(const Desc128& d);
  bool operator==(const PasidCacheInv& o) const;
};

// Device-TLB (ATC) invalidation, with or without a PASID (types 3 and 8).
struct DevTlbInv {
  bool pasid_based = false;  // type 8
  uint16_t sid = 0;          // Requester ID of the Function
  uint8_t qdep = 0;          // queue depth hint (informative; the port config rules)
  uint32_t pasid = 0;        // type 8 only
  uint64_t addr = 0;         // S-bit encoded address field (bits 63:12)
  bool s = false;
  bool global = false;  // type 8 only: also drop Global translations
  Desc128 encode() const;
  static DevTlbInv decode(const Desc128& d);
  bool operator==(const DevTlbInv& o) const;
};

struct InvWait {
  bool interrupt = false;     // IF
  bool status_write = false;  // SW
  bool fence = false;         // FN
  uint32_t status_data = 0;
  uint64_t status_addr = 0;  // 4-byte aligned
  Desc128 encode() const;
  static InvWait decode(const Desc128& d);
  bool operator==(const InvWait& o) const;
};

struct PageGroupResponseDesc {
  bool pasid_present = false;
  uint8_t response_code = 0;  // PCIe PRG Response Code (0 success, 1 invalid, 15 failure)
  uint16_t rid = 0;
  uint32_t pasid = 0;
  bool lpig = true;
  uint16_t prg_index = 0;
  Desc128 encode() const;
  static PageGroupResponseDesc decode(const Desc128& d);
  bool operator==(const PageGroupResponseDesc& o) const;
};

// Page request descriptor (256-bit):
//   qw0: 7:0 type (1), 8 PASID present, 31:16 RID, 51:32 PASID, 52 Exe, 53 Priv
//   qw1: 0 R, 1 W, 2 LPIG (last page in group), 11:3 PRG index, 63:12 address
//   qw2, qw3: private data (0). A Stop Marker is written as R=W=0, LPIG=1.
struct PageRequestDesc {
  static constexpr uint32_t kBytes = 32;
  bool pasid_present = false;
  uint16_t rid = 0;
  uint32_t pasid = 0;
  bool exe = false;
  bool priv = false;
  bool read = false;
  bool write = false;
  bool lpig = false;
  uint16_t prg_index = 0;
  uint64_t addr = 0;  // 4 KiB aligned
  bool is_stop_marker() const { return lpig && !read && !write; }
  // qw[0..3]
  void encode(uint64_t out[4]) const;
  static PageRequestDesc decode(const uint64_t in[4]);
  bool operator==(const PageRequestDesc& o) const;
};

// Translation table entries (16 bytes, little-endian qwords):
//   root table   (RTADDR, 256 entries by bus):   qw0: 0 P, 63:12 context table
//   context table (256 entries by devfn):        qw0: 0 P, 1 DTE (ATS allowed),
//        2 PRE (page requests allowed), 3 PASIDE (PASID-tagged requests allowed),
//        63:12 PASID table;  qw1: 4:0 PTS (PASID table holds 2^PTS entries),
//        51:32 RID_PASID (PASID entry used by requests without a PASID)
//   PASID table (flat, indexed by PASID):        qw0: 0 P, 1 SRE (privileged
//        requests allowed), 8:6 PGTT (001b first-stage translation, 100b
//        pass-through: the VT-d 3.x scalable-mode PASID entry's field and values,
//        section 9.6), 63:12 FLPTR (first-level PML4 of the bound mm);
//        qw1: 15:0 DID
struct RootEntry {
  bool present = false;
  uint64_t context_table = 0;
  Desc128 encode() const;
  static RootEntry decode(const Desc128& d);
};

struct ContextEntry {
  bool present = false;
  bool dte = false;  // ATS (device TLB) allowed
  bool pre = false;  // page requests allowed
  bool pasid_enable = false;
  uint64_t pasid_table = 0;
  uint8_t pts = 0;  // PASID table holds 2^pts entries
  uint32_t rid_pasid = 0;
  Desc128 encode() const;
  static ContextEntry decode(const Desc128& d);
  bool operator==(const ContextEntry& o) const;
};

// PASID entry PGTT (PASID Granular Translation Type) values used here.
enum class Pgtt : uint8_t {
  kFirstStage = 0b001,   // translate through the first-level table at FLPTR
  kPassThrough = 0b100,  // the untranslated address is the physical address
};

struct PasidEntry {
  bool present = false;
  bool sre = false;  // privileged requests allowed
  uint64_t flptr = 0;
  uint16_t did = 0;
  Pgtt pgtt = Pgtt::kFirstStage;
  // PGTT holds a value this model does not implement (second-stage, nested, reserved).
  bool pgtt_unsupported = false;
  Desc128 encode() const;
  static PasidEntry decode(const Desc128& d);
  bool operator==(const PasidEntry& o) const;
};

constexpr uint32_t kTableEntryBytes = 16;

}  // namespace iosim
