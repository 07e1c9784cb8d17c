#include "device/device_config.h"

#include "sc_models/config/params.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/pcie/pcie_fields.h"

namespace iosim {
namespace {

void check(bool ok, const std::string& name, const std::string& why) {
  if (!ok) throw ParamError(name + ": " + why);
}

bool is_pow2(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

void DmaThreadConfig::validate(const std::string& p) const {
  check(pasid <= kPasidMax, p + "pasid", "must fit in 20 bits");
  check(is_pow2(request_bytes) && request_bytes <= kPageBytes, p + "request_bytes",
        "must be a power of two <= 4096");
  check(read_fraction >= 0 && read_fraction <= 1, p + "read_fraction", "must be in 0..1");
  check(hot_fraction > 0 && hot_fraction <= 1, p + "hot_fraction", "must be in (0, 1]");
  check(hot_access_fraction >= 0 && hot_access_fraction <= 1, p + "hot_access_fraction",
        "must be in 0..1");
  check(zipf_exponent >= 0, p + "zipf_exponent", "must be >= 0");
  check(issue_interval_ns >= 0, p + "issue_interval_ns", "must be >= 0");
  check(duration_ns >= 0, p + "duration_ns", "must be >= 0");
  check(max_outstanding >= 1, p + "max_outstanding", "must be >= 1");
  if (pattern == AccessPattern::kScript) return;
  check(window_bytes >= request_bytes, p + "window_bytes", "must hold at least one request");
  check(base_va % request_bytes == 0, p + "base_va", "must be aligned to request_bytes");
  check(request_count > 0 || duration_ns > 0, p + "request_count",
        "a synthetic pattern needs request_count or duration_ns");
  if (pattern == AccessPattern::kStrided) {
    check(stride_bytes > 0 && stride_bytes % request_bytes == 0, p + "stride_bytes",
          "must be a non-zero multiple of request_bytes");
  }
}

void DeviceFaultConfig::validate(bool ats_enabled, bool pri_enabled) const {
  check(completion_delay_ns >= 0, "fault.completion_delay_ns", "must be >= 0");
  check(early_completion_ns >= 0, "fault.early_completion_ns", "must be >= 0");
  check(pri_response_timeout_ns >= 0, "fault.pri_response_timeout_ns", "must be >= 0");
  check(unresponsive_from_ns >= 0, "fault.unresponsive_from_ns", "must be >= 0");
  check(!(early_completion_ns > 0 && completion_delay_ns > 0), "fault.early_completion_ns",
        "cannot be combined with a completion delay (a completion is early or late)");
  check(!(duplicate_completions > 0 && drop_completions > 0), "fault.duplicate_completions",
        "cannot be combined with dropped completions");
  check(translation_ur == 0 || ats_enabled, "fault.translation_ur",
        "needs ats_enabled (no Translation Requests without ATS)");
  check(pri_response_timeout_ns == 0 || pri_enabled, "fault.pri_response_timeout_ns",
        "needs pri_enabled");
  check(lose_prg_responses == 0 || pri_enabled, "fault.lose_prg_responses", "needs pri_enabled");
  check(lose_prg_responses == 0 || pri_response_timeout_ns > 0, "fault.lose_prg_responses",
        "needs a PRI response time-out (pri_response_timeout_ns > 0): the device would wait "
        "for ever");
}

void DeviceConfig::validate() const {
  mirror.validate("mirror.");
  check(kind != DeviceKind::kMirror || requester_id < 0x8000, "requester_id",
        "a mirror device's requester ID must be below 0x8000 (its checker tags)");
  check(invalidate_queue_depth <= kInvalidateQueueDepthMax, "invalidate_queue_depth",
        "is a 5-bit field (0..31)");
  check(atc_lookup_latency_ns >= 0, "atc_lookup_latency_ns", "must be >= 0");
  check(request_issue_latency_ns >= 0, "request_issue_latency_ns", "must be >= 0");
  check(invalidation_processing_latency_ns >= 0, "invalidation_processing_latency_ns",
        "must be >= 0");
  check(invalidate_completion_count >= 1 && invalidate_completion_count <= 8,
        "invalidate_completion_count",
        "must be 1..8 (the Invalidate Completion's 3-bit Completion Count field)");
  check(!pri_enabled || outstanding_page_request_allocation >= 1,
        "outstanding_page_request_allocation", "must be >= 1 when PRI is enabled");
  check(!pri_enabled || ats_enabled, "pri_enabled", "PRI needs ATS");
  check(max_translation_attempts >= 1, "max_translation_attempts", "must be >= 1");
  fault.validate(ats_enabled, pri_enabled);
  for (size_t i = 0; i < threads.size(); ++i) {
    const std::string p = "thread" + std::to_string(i) + ".";
    threads[i].validate(p);
    check(!threads[i].has_pasid || pasid_enabled, p + "has_pasid",
          "needs pasid_enabled on the device");
  }
}

}  // namespace iosim
