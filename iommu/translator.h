// Translator: the IOMMU's translation pipeline for one request: IOTLB lookup,
// context / PASID table resolution on a miss, page walk, IOTLB fill, permission
// checks (R/W/U/Exe/Priv).
//
// Requests with a PASID look the IOTLB up first (tag = PASID + Requester ID);
// requests without one first read the context (cache) for its RID_PASID, which
// then tags them, as VT-d scalable mode does. Permissions: every present page is
// readable; a write needs RW along the walk; a non-privileged request needs U/S=1
// along the walk; a privileged request needs SRE in the PASID entry and may access
// user and supervisor pages; an execute request needs NX=0.
//
// Called by the Iommu for untranslated requests and Translation Requests, in the
// requester's b_transport. Timing: the sum of its stages' annotated delays (IOTLB,
// context/PASID caches and their fetches, walk; see their headers).
//
// Simplifications: no SMEP/SMAP-style restrictions on privileged requests; a hit
// for a write (or an ATS request that may write) through an entry whose Dirty bit
// is not yet set walks again to set it; IOTLB entries are global when the leaf has
// G=1 and the request had a PASID.
#pragma once

#include <cstdint>
#include <optional>

#include "iommu/context_tables.h"
#include "iommu/iotlb.h"
#include "iommu/page_walker.h"
#include "sc_models/pcie/pcie_ext.h"

namespace iosim {

// Why a translation failed (recorded in fault records; see FaultRecorder).
enum class FaultReason : uint8_t {
  kNone = 0,
  kRootNotPresent = 1,
  kContextNotPresent = 2,
  kPasidDisabled = 3,
  kPasidOutOfRange = 4,
  kPasidNotPresent = 5,
  kTableReadError = 6,
  kNonCanonical = 7,
  kPageNotPresent = 8,
  kReservedBit = 9,
  kBadTableAddress = 10,
  kWriteDenied = 11,
  kUserDenied = 12,  // non-privileged request to a supervisor page
  kExecDenied = 13,
  kPrivDenied = 14,   // privileged request but SRE = 0
  kAtsDisabled = 15,  // translated request from a Function without ATS
};
const char* to_string(FaultReason r);

struct TranslateRequest {
  uint16_t rid = 0;
  PasidPrefix pasid;
  uint64_t va = 0;
  bool write = false;  // write access, or an ATS request that may write (NW = 0)
  bool check = true;   // false: report permissions without failing on them (ATS)
};

struct Translation {
  FaultReason fault = FaultReason::kNone;
  uint64_t page_base = 0;  // VA page base
  uint64_t page_pa = 0;
  unsigned log2_size = 12;
  bool writable = false, user = false, no_execute = false, global = false;
  bool sre = false, ats_allowed = false;
  bool iotlb_hit = false;
  bool pass_through = false;  // the address is the physical address (PGTT = pass-through)
  uint32_t pasid_used = 0;
  sc_core::sc_time obtained;  // when the translation was made (walk end)
  bool ok() const { return fault == FaultReason::kNone; }
  uint64_t pa(uint64_t va) const { return page_pa | (va & ((1ull << log2_size) - 1)); }
};

class Translator {
 public:
  Translator(Iotlb& iotlb, ContextTables& tables, PageWalker& walker)
      : iotlb_(iotlb), tables_(tables), walker_(walker) {}

  // Translates at sc_time_stamp() + delay; advances delay.
  Translation translate(const TranslateRequest& req, sc_core::sc_time& delay);

 private:
  // Sets t's translation fields from an IOTLB entry (in place: t is the returned object).
  void from_entry(const TranslationEntry& e, Translation& t) const;
  FaultReason check(const TranslateRequest& req, const Translation& t) const;

  Iotlb& iotlb_;
  ContextTables& tables_;
  PageWalker& walker_;
};

}  // namespace iosim
