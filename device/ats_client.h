// ATS client of the device: sends Translation Requests (AT=01) upstream and
// fills the ATC with the completions.
//
// - One request per page that missed (8 bytes of completion space); several may
//   be outstanding at once, one per DMA issue slot that is waiting.
// - NW=1 is set when the caller only needs read access and the device is
//   configured to ask for it; Exe/Priv travel in the PASID prefix.
// - A completion with status Unsupported Request or Completer Abort (PCIe Base 5.0,
//   section 10.2.3) ends the translation with kError: the access fails.
// - Stale completions: every Invalidate Request the device processes while a
//   request is outstanding is remembered by that request; a completion whose
//   range overlaps one of them (same PASID, or an invalidation of every PASID)
//   is dropped and the translation is requested again.
//
// Simplifications: two slots missing on the same page each send a request (no
// merging of outstanding requests); a completion is used for the page that was
// asked for plus whatever range its S bit covers.
#pragma once

#include "device/atc.h"
#include "device/upstream.h"
#include "sc_models/memory/payload_pool.h"
#include "sc_models/observe/stats.h"

#include <systemc>

#include <cstdint>
#include <list>
#include <optional>

namespace iosim {

class LocalTime;

class AtsClient {
 public:
  enum class Outcome {
    kFilled,            // an entry with R or W was inserted into the ATC
    kNoTranslation,     // R=W=0: not present or no access (PRI may help)
    kUntranslatedOnly,  // U=1: the device must use untranslated requests
    kError,             // Unsupported Request / Completer Abort / transport error
    kStaleGaveUp,       // every attempt was made stale by invalidations
  };
  struct Result {
    Outcome outcome = Outcome::kError;
    AtsCompletionEntry entry;  // the entry for the page asked for (when any)
  };
  struct Request {
    uint32_t pasid = kNoPasid;  // kNoPasid: no PASID prefix
    uint64_t va = 0;
    bool no_write = false;
    bool exe = false;
    bool priv = false;
  };

  // `fault_stats`: where Unsupported Request completions are counted when a fault
  // is configured (DeviceFaultConfig::translation_ur), else null.
  AtsClient(DeviceUpstream& up, Atc& atc, StatGroup& stats, uint32_t max_attempts,
            StatGroup* fault_stats = nullptr);

  // Translates the page of r.va (SystemC thread context; takes the time of the
  // request round trip). The request leaves at time.now(), after
  // time.sync_to_send(); the answer is in step with the kernel unless no other
  // process could run meanwhile, and then no invalidation can have overlapped it.
  Result translate(const Request& r, LocalTime& time);
  // Called by the invalidation handler when it processes an Invalidate Request.
  void on_invalidate(std::optional<uint32_t> pasid, const AtsRange& range);

  uint64_t requests_sent() const { return sent_.value(); }
  uint64_t stale_dropped() const { return stale_.value(); }
  size_t outstanding() const { return pending_.size(); }

 private:
  struct Invalidation {
    std::optional<uint32_t> pasid;
    AtsRange range;
  };
  struct Pending {
    uint32_t pasid = kNoPasid;
    std::vector<Invalidation> seen;
  };
  bool is_stale(const Pending& p, uint64_t va, const std::vector<AtsCompletionEntry>& cs) const;

  DeviceUpstream& up_;
  Atc& atc_;
  uint32_t max_attempts_;
  std::list<Pending> pending_;
  std::list<Pending> spare_;  // nodes for later requests
  using Payloads = ExtendedPayloadPool<PcieExtension>;
  Payloads payloads_;  // Translation Request payloads
  Counter& sent_;
  Counter& stale_;
  Counter& errors_;
  Histogram& latency_;
  Counter* ur_ = nullptr;
};

}  // namespace iosim
