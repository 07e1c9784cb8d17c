// Translator: the IOMMU's translation pipeline for one request, the same for every
// architecture: the request's IOTLB tag, IOTLB lookup, the front-end's table
// resolution on a miss (ContextSource), page walk, IOTLB fill, permission checks
// (R/W/U/Exe/Priv).
//
// The front-end says how a request is tagged and what its tables hold: VT-d tags a
// request with a PASID by PASID + Requester ID without reading a table, and one
// without by the RID_PASID of its context entry; SMMUv3 reads the stream's
// configuration (STE and CD) first, and that tags it by ASID + StreamID and already
// resolves it. Every architecture walks the same x86-64-style page tables the CPU
// uses from the root its tables name. Permissions: every present page is
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
  // SMMUv3 configuration faults (Arm IHI 0070, 7.3: the event queue's C_BAD_* records)
  kBadStreamId = 16,     // C_BAD_STREAMID: StreamID beyond the stream table
  kBadSte = 17,          // C_BAD_STE: STE not valid or ill-formed
  kBadSubstreamId = 18,  // C_BAD_SUBSTREAMID: SSID beyond S1CDMax, or none allowed
  kBadCd = 19,           // C_BAD_CD: CD not valid or ill-formed
  kStreamAbort = 20,     // the STE aborts the stream's transactions (Config = abort)
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
  uint32_t fault_detail = 0;  // a table fault's front-end detail (RequestTag::fault_detail)
  uint32_t domain = 0;        // the domain field of the request's IOTLB tag (0 if none)
  sc_core::sc_time obtained;  // when the translation was made (walk end)
  bool ok() const { return fault == FaultReason::kNone; }
  uint64_t pa(uint64_t va) const { return page_pa | (va & ((1ull << log2_size) - 1)); }
};

// A failed request as the IOMMU reports it (VT-d fault record, SMMUv3 event).
struct IommuFault {
  uint16_t sid = 0;  // Requester ID (StreamID)
  bool pasid_present = false;
  uint32_t pasid = 0;
  uint64_t addr = 0;
  FaultReason reason = FaultReason::kNone;
  bool read = true;
  bool exe = false, priv = false;
  AddressType at = AddressType::kUntranslated;
  sc_core::sc_time time;
  uint32_t detail = 0;  // the front-end's own account of a table fault (fault_detail)
  uint32_t domain = 0;  // the domain field of the request's IOTLB tag, once known
};

// What a front-end's tables say about one request's translation.
struct RequestContext {
  FaultReason fault = FaultReason::kNone;  // a table fault (kNone: usable)
  uint32_t fault_detail = 0;               // as RequestTag::fault_detail
  uint64_t page_table_root = 0;            // the first-stage PML4
  bool sre = false;                        // privileged requests allowed
  bool ats_allowed = false;                // Translation Requests allowed (VT-d DTE, SMMUv3 EATS)
  bool pass_through = false;               // untranslated address = physical address
};

// How a request is tagged in the IOTLB and walk caches.
struct RequestTag {
  FaultReason fault = FaultReason::kNone;  // the tables needed for the tag faulted
  // The front-end's own account of a table fault (the event or cause its fault report
  // records; 0: none), handed back to it in IommuFault::detail.
  uint32_t fault_detail = 0;
  TranslationTag tag;
  // The request's context when finding the tag already resolved it (SMMUv3).
  std::optional<RequestContext> context;
};

// The front-end's side of a translation: its tables, read through its caches, with
// their cost added to `delay`.
class ContextSource {
 public:
  virtual RequestTag tag_of(uint16_t rid, std::optional<uint32_t> pasid,
                            sc_core::sc_time& delay) = 0;
  // Called on an IOTLB miss when tag_of() left the context unresolved.
  virtual RequestContext resolve(uint16_t rid, std::optional<uint32_t> pasid,
                                 sc_core::sc_time& delay) = 0;

 protected:
  ~ContextSource() = default;
};

class Translator {
 public:
  Translator(Iotlb& iotlb, ContextSource& tables, PageWalker& walker)
      : iotlb_(iotlb), tables_(tables), walker_(walker) {}

  // Translates at sc_time_stamp() + delay; advances delay.
  Translation translate(const TranslateRequest& req, sc_core::sc_time& delay);

 private:
  // Sets t's translation fields from an IOTLB entry (in place: t is the returned object).
  void from_entry(const TranslationEntry& e, Translation& t) const;
  FaultReason check(const TranslateRequest& req, const Translation& t) const;

  Iotlb& iotlb_;
  ContextSource& tables_;
  PageWalker& walker_;
};

}  // namespace iosim
