// Configuration of the PCIe device model (device/device.h): the Function's
// ATS/PRI/PASID capabilities, its ATC, its timing, and the DMA threads it runs.
//
// A DMA thread is self-contained (DmaThreadConfig) so that a platform can build
// the vector per instance. Scripted programs (ScriptOp) are set from code or a
// scenario loader; they are not parameters.
//
// Simplifications: the Function has one PASID-capable ATC and one set of
// capability bits; per-thread Exe/Priv requests apply to every request the
// thread makes.
#pragma once

#include "device/mirror_sw_interface.h"
#include "sc_models/cache/translation_cache.h"
#include "sc_models/config/choice.h"
#include "sc_models/memory/page_size.h"

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

namespace iosim {

// One step of a scripted DMA program (litmus scenarios).
struct ScriptOp {
  enum class Kind {
    kRead,       // read len bytes at va; the first 8 bytes are recorded
    kWrite,      // write `value` (len bytes, little endian, len <= 8) at va
    kWait,       // wait time_ns
    kAtTime,     // wait until time_ns (from the thread's start event, else from 0)
    kStopPasid,  // stop using the thread's PASID: send a PRI Stop Marker
  };
  Kind kind = Kind::kRead;
  uint64_t va = 0;
  uint32_t len = 8;
  uint64_t value = 0;
  double time_ns = 0;

  static ScriptOp read(uint64_t va, uint32_t len = 8) { return {Kind::kRead, va, len, 0, 0}; }
  static ScriptOp write(uint64_t va, uint64_t value, uint32_t len = 8) {
    return {Kind::kWrite, va, len, value, 0};
  }
  static ScriptOp wait_ns(double t) { return {Kind::kWait, 0, 0, 0, t}; }
  static ScriptOp at_ns(double t) { return {Kind::kAtTime, 0, 0, 0, t}; }
  static ScriptOp stop_pasid() { return {Kind::kStopPasid, 0, 0, 0, 0}; }
};

// What a DMA thread issues. The synthetic patterns come first: a workload
// (platform/system_config.h) accepts those, a device thread also "script".
enum class AccessPattern { kStream, kRandom, kStrided, kHotset, kZipf, kScript };
inline constexpr ChoiceValue<AccessPattern> kAccessPatternValues[] = {
    {"stream", AccessPattern::kStream, "sequential through the window, wrapping"},
    {"random", AccessPattern::kRandom, "uniform over the window"},
    {"strided", AccessPattern::kStrided, "every stride_bytes, wrapping"},
    {"hotset", AccessPattern::kHotset, "hot_access_fraction of requests to a hot_fraction part"},
    {"zipf", AccessPattern::kZipf, "request-sized slots ranked by a Zipf law"},
    {"script", AccessPattern::kScript, "the scenario's program for the thread"}};
inline constexpr Choices<AccessPattern> kAccessPattern{kAccessPatternValues};
inline constexpr Choices<AccessPattern> kSyntheticPattern{kAccessPatternValues,
                                                          std::size(kAccessPatternValues) - 1};

struct DmaThreadConfig {
  bool has_pasid = true;  // requests carry a PASID prefix (needs DeviceConfig::pasid_enabled)
  uint32_t pasid = 1;
  AccessPattern pattern = AccessPattern::kStream;
  uint64_t base_va = 0x10000000;
  uint64_t window_bytes = 1 << 20;
  uint32_t request_bytes = 64;  // power of two, 1..4096: a synthetic request never crosses a page
  double read_fraction = 1.0;   // share of synthetic requests that are reads
  uint64_t stride_bytes = kPageBytes;
  double hot_fraction = 0.1;         // hotset: share of the window that is hot
  double hot_access_fraction = 0.9;  // hotset: share of requests that go to the hot part
  double zipf_exponent = 1.0;        // zipf: P(rank k) ~ 1 / k^s over request-sized slots
  double issue_interval_ns = 0;      // minimum time between two request issues
  uint32_t max_outstanding = 4;      // requests in flight (issue slots)
  uint64_t request_count = 0;        // stop after this many requests (0: no limit)
  double duration_ns = 0;            // stop issuing after this time (0: no limit)
  uint64_t seed = 1;
  bool exe_requested = false;    // PASID prefix Execute Requested
  bool priv_requested = false;   // PASID prefix Privileged Mode Requested
  std::vector<ScriptOp> script;  // for AccessPattern::kScript

  template <class V>
  void visit(V& v) {
    v("has_pasid", has_pasid, "", "requests carry a PASID prefix");
    v("pasid", pasid, "", "PASID of the thread (20 bits)");
    v.choice("pattern", pattern, kAccessPattern, "address pattern, or a scripted program");
    v("base_va", base_va, "bytes", "first virtual address of the window");
    v("window_bytes", window_bytes, "bytes", "size of the address window");
    v("request_bytes", request_bytes, "bytes", "bytes per request (power of two, <= 4096)");
    v("read_fraction", read_fraction, "", "share of requests that are reads (0..1)");
    v("stride_bytes", stride_bytes, "bytes", "strided pattern: distance between requests");
    v("hot_fraction", hot_fraction, "", "hotset pattern: share of the window that is hot");
    v("hot_access_fraction", hot_access_fraction, "",
      "hotset pattern: share of requests to the hot part");
    v("zipf_exponent", zipf_exponent, "", "zipf pattern: exponent s");
    v("issue_interval_ns", issue_interval_ns, "ns", "minimum time between two issues");
    v("max_outstanding", max_outstanding, "requests", "requests in flight at once");
    v("request_count", request_count, "requests", "requests to issue (0: no limit)");
    v("duration_ns", duration_ns, "ns", "stop issuing after this time (0: no limit)");
    v("seed", seed, "", "random seed of the pattern");
    v("exe_requested", exe_requested, "", "ask for execute permission");
    v("priv_requested", priv_requested, "", "ask for privileged-mode permission");
  }
  // Throws ParamError naming `prefix` + the parameter.
  void validate(const std::string& prefix) const;
};

// How the device translates the addresses its DMA threads use.
enum class DeviceKind { kAts, kMirror };
inline constexpr ChoiceValue<DeviceKind> kDeviceKindValues[] = {
    {"ats", DeviceKind::kAts, "ATC filled through ATS and PRI (shared virtual addressing)"},
    {"mirror", DeviceKind::kMirror,
     "own page table and TLB filled by its driver on device faults; physical addresses "
     "through the IOMMU in pass-through"}};
inline constexpr Choices<DeviceKind> kDeviceKind{kDeviceKindValues};

// Fault injection of one device (device.<i>.fault.*). Every fault is off by default;
// with all of them off the device behaves, and counts, as without this section.
//
// Invalidation (PCIe Base 5.0, section 10.3, ATS Invalidation): the Function answers
// each Invalidate Request with Invalidate Completions carrying its ITag.
//  - completion_delay_ns (late): every Invalidate Completion is sent this long after
//    the request was handled (ATC entries dropped, in-flight users drained). The
//    handler stays busy meanwhile, so later requests queue behind it.
//  - drop_completions (dropped): the Invalidate Completions of the first N requests
//    are never sent. Recovery: the IOMMU's ITag time-out (FSTS.ITE, failed inv_wait)
//    and the driver policy's answer (docs/atc-invalidation-timeouts.md).
//  - duplicate_completions (duplicated): the Invalidate Completions of the first N
//    requests are sent twice, back to back. The IOMMU allocates ITags round robin, so
//    the copy arrives while its ITag is free: it completes nothing (harmless) and the
//    command queue counts it as a stale completion when it next takes the arrived
//    completions. (A copy could only complete another request if 31 more ITags were
//    allocated before it arrived.)
//  - early_completion_ns (early): the Invalidate Completion is sent when the request
//    has been processed but before the matching ATC entries are dropped, which
//    happens this long later, and without waiting for in-flight accesses that used
//    them (a Function that breaks the rule of section 10.3, ATS Invalidation, that
//    its Invalidate Completion is sent only once no request will use the invalidated
//    translations any more). Not recovered: caught by the checkers
//    (write_after_protect, completion_contract; configs/seeds/fault_early_*.cfg).
// Translation (section 10.2.3, Translation Completion):
//  - translation_ur: the first N Translation Requests of the Function are answered
//    with Completion Status Unsupported Request. UR is the translation agent's
//    answer, so it is injected where a UR is generated, in the IOMMU at the root
//    port of the Function's Requester ID (RootPortConfig::fault_translation_ur;
//    answered after the translation agent's lookup): the device receives a real UR
//    completion and handles it as any other (the access fails: an access error of
//    the DMA thread, counted in ats.translation_errors and fault.ur_completions).
// Page requests (section 10.4, Page Request Services):
//  - lose_prg_responses: the first N PRG Responses addressed to the Function are lost
//    on their way (the host sent them; the Function never sees them).
//  - pri_response_timeout_ns: how long the Function waits for a group's PRG Response
//    (0: for ever). PCIe leaves the recovery from a missing response to the
//    Function; here it gives up on the group, takes back its allocation credits and
//    PRG index, and does pri_timeout_action: `error` reports an access error, `retry`
//    translates the pages again (a new Page Request Group for pages still missing),
//    within max_translation_attempts.
// Device failure:
//  - unresponsive_from_ns: from this time after the start (the device's start event;
//    simulated time 0 without one) the Function stops answering: Invalidate Requests
//    get no completion, PRG Responses are ignored, PRI stops (a group waiting for
//    its response is given up), and each DMA thread ends at its next access, which
//    fails without a TLP (accesses already sent complete). Configuration reads
//    would fail too (the platform tells the SVA driver the device is gone, as
//    pci_device_is_present() would find). Recovery: ITag time-outs in the IOMMU and
//    the driver giving up on a device that is gone.
enum class PriTimeoutAction { kError, kRetry };
inline constexpr ChoiceValue<PriTimeoutAction> kPriTimeoutActionValues[] = {
    {"error", PriTimeoutAction::kError, "the faulting access fails (an access error)"},
    {"retry", PriTimeoutAction::kRetry,
     "translate again and send a new Page Request Group for pages still missing"}};
inline constexpr Choices<PriTimeoutAction> kPriTimeoutAction{kPriTimeoutActionValues};

struct DeviceFaultConfig {
  double completion_delay_ns = 0;
  uint64_t drop_completions = 0;
  uint64_t duplicate_completions = 0;
  double early_completion_ns = 0;
  uint64_t translation_ur = 0;
  uint64_t lose_prg_responses = 0;
  double pri_response_timeout_ns = 0;
  PriTimeoutAction pri_timeout_action = PriTimeoutAction::kError;
  double unresponsive_from_ns = 0;

  template <class V>
  void visit(V& v) {
    v("completion_delay_ns", completion_delay_ns, "ns",
      "late: send every Invalidate Completion this much later (0: on time)");
    v("drop_completions", drop_completions, "requests",
      "dropped: send no Invalidate Completion for the first N Invalidate Requests");
    v("duplicate_completions", duplicate_completions, "requests",
      "duplicated: send the Invalidate Completions of the first N Invalidate Requests twice");
    v("early_completion_ns", early_completion_ns, "ns",
      "early: send each Invalidate Completion this long before dropping the ATC entries, "
      "without waiting for in-flight users (0: off)");
    v("translation_ur", translation_ur, "requests",
      "the translation agent answers the first N Translation Requests with Unsupported "
      "Request");
    v("lose_prg_responses", lose_prg_responses, "responses",
      "the first N PRG Responses to the device are lost (needs pri_response_timeout_ns)");
    v("pri_response_timeout_ns", pri_response_timeout_ns, "ns",
      "wait for a PRG Response at most this long, then pri_timeout_action (0: for ever)");
    v.choice("pri_timeout_action", pri_timeout_action, kPriTimeoutAction,
             "what the device does when a PRG Response timed out");
    v("unresponsive_from_ns", unresponsive_from_ns, "ns",
      "the device stops answering this long after the start (0: never)");
  }

  bool invalidation_faults() const {
    return completion_delay_ns > 0 || drop_completions > 0 || duplicate_completions > 0 ||
           early_completion_ns > 0 || unresponsive_from_ns > 0;
  }
  bool any() const {
    return invalidation_faults() || translation_ur > 0 || lose_prg_responses > 0 ||
           pri_response_timeout_ns > 0;
  }
  // Throws ParamError naming "fault." + the parameter.
  void validate(bool ats_enabled, bool pri_enabled) const;
};

struct DeviceConfig {
  DeviceKind kind = DeviceKind::kAts;
  uint16_t requester_id = 0x0100;  // bus 1, device 0, function 0
  // Device ID of the translation agent (root port / IOMMU) that Invalidate
  // Completions are addressed to.
  uint16_t translation_agent_id = 0;
  bool ats_enabled = true;
  bool pri_enabled = true;
  bool pasid_enabled = true;
  // ATC geometry (kind mirror: the device TLB's). 64 entries fully associative: an
  // assumed mid-size endpoint ATC (no public figures for commercial ATCs); sweep it.
  TranslationCacheConfig atc;
  // ATC tag compare and data read. Assumed: 2 cycles at a 500 MHz device clock
  // (not calibrated).
  double atc_lookup_latency_ns = 4.0;
  // Internal time from a DMA engine's decision to the TLP reaching the link
  // (assumed: 2 cycles at 500 MHz; not calibrated).
  double request_issue_latency_ns = 4.0;
  // ATS Capability "Invalidate Queue Depth" (5 bits): 0 means 32 requests.
  uint32_t invalidate_queue_depth = 0;
  // Time the device takes to process one Invalidate Request (look up and drop
  // ATC entries) before it waits for in-flight users. Assumed ~0.5 us, a
  // mid-range device figure (not calibrated; the ATS spec allows up to 1 min).
  double invalidation_processing_latency_ns = 500.0;
  // Invalidate Completions the Function sends per Invalidate Request, the value of
  // their Completion Count field (PCIe ATS, Invalidate Completion: CC, 1..8; a
  // Function may split its answer, e.g. one per internal ATC or sub-function).
  // 1: one completion, what most Functions send (assumed; no published figures).
  uint32_t invalidate_completion_count = 1;
  // PRI "Outstanding Page Request Allocation" written by software.
  uint32_t outstanding_page_request_allocation = 32;
  // Ask for no-write (NW=1) translations when a read misses.
  bool no_write_for_reads = false;
  // Translation attempts per access (stale completions, lost entries, PRI
  // rounds) before the access is reported as an error.
  uint32_t max_translation_attempts = 8;
  // kind mirror: its MMU and its driver.
  MirrorConfig mirror;

  DeviceFaultConfig fault;
  std::vector<DmaThreadConfig> threads;

  template <class V>
  void visit(V& v) {
    v.choice("kind", kind, kDeviceKind, "how the device translates DMA addresses");
    v("requester_id", requester_id, "", "Requester ID (bus<<8 | dev<<3 | fn)");
    v("translation_agent_id", translation_agent_id, "",
      "Device ID of the translation agent (Invalidate Completion destination)");
    v("ats_enabled", ats_enabled, "", "ATS enabled (else untranslated requests)");
    v("pri_enabled", pri_enabled, "", "PRI enabled");
    v("pasid_enabled", pasid_enabled, "", "PASID enabled");
    v.section("atc", atc);
    v("atc_lookup_latency_ns", atc_lookup_latency_ns, "ns", "ATC lookup latency");
    v("request_issue_latency_ns", request_issue_latency_ns, "ns",
      "DMA engine issue latency per request");
    v("invalidate_queue_depth", invalidate_queue_depth, "requests",
      "ATS Invalidate Queue Depth field (0 = 32)");
    v("invalidation_processing_latency_ns", invalidation_processing_latency_ns, "ns",
      "processing time of one Invalidate Request");
    v("invalidate_completion_count", invalidate_completion_count, "messages",
      "Invalidate Completions sent per Invalidate Request (the CC field, 1..8)");
    v("outstanding_page_request_allocation", outstanding_page_request_allocation, "requests",
      "PRI Outstanding Page Request Allocation");
    v("no_write_for_reads", no_write_for_reads, "", "request NW translations for reads");
    v("max_translation_attempts", max_translation_attempts, "",
      "translation attempts per access before an error");
    v.section("mirror", mirror);

    v.section("fault", fault);
    for (size_t i = 0; i < threads.size(); ++i) {
      const std::string name = "thread" + std::to_string(i);
      v.section(name.c_str(), threads[i]);
    }
  }

  // The effective Invalidate Queue Depth (the field value, 0 meaning 32).
  uint32_t effective_invalidate_queue_depth() const {
    return invalidate_queue_depth == 0 ? 32 : invalidate_queue_depth;
  }
  // Throws ParamError naming the parameter when a value is out of range.
  void validate() const;
};

}  // namespace iosim
