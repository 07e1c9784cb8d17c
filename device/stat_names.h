// Names of the device statistics that other parts read by path (the run summary,
// platform/report.cpp). The modules register their statistics under these names, so
// a rename changes both sides; tests/platform/report_probes_test.cpp checks that every
// statistic the summary reads exists in a built system.
#pragma once

namespace iosim {

// Device (device/device.h), in its group "<device>".
struct DeviceStats {
  static constexpr const char* kDmaReadLatency = "dma_read_latency";
  static constexpr const char* kDmaWriteLatency = "dma_write_latency";
  static constexpr const char* kAccessErrors = "access_errors";
  static constexpr const char* kBytes = "bytes";
  static constexpr const char* kDmaIssueTime = "dma_issue_time";
  static constexpr const char* kDmaCompletionTime = "dma_completion_time";
  static constexpr const char* kAtcHits = "atc_hits";
  static constexpr const char* kAtcMisses = "atc_misses";
  static constexpr const char* kAtsGroup = "ats";  // AtsClient's group
  static constexpr const char* kPriGroup = "pri";  // PriClient's group
};

// AtsClient (device/ats_client.h), in "<device>.ats".
struct AtsClientStats {
  static constexpr const char* kTranslationLatency = "translation_latency";
};

// PriClient (device/pri_client.h), in "<device>.pri".
struct PriClientStats {
  static constexpr const char* kPageRequests = "page_requests";
  static constexpr const char* kRoundTrip = "pri_round_trip";
};

}  // namespace iosim
