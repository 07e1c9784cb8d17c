// Names of the OS statistics that other parts read by path (the run summary,
// platform/report.cpp). The modules register their statistics under these names, so
// a rename changes both sides; tests/platform/report_probes_test.cpp checks that every
// statistic the summary reads exists in a built system.
#pragma once

namespace iosim {

// SvaDriver (os/sva_driver.h), in its group "<sva>"; its latency breakdowns are
// named in os/sva_invalidation_stats.h.
struct SvaDriverStats {
  static constexpr const char* kInvalidationLatency = "invalidation_latency";
  static constexpr const char* kWaitTimeouts = "wait_timeouts";
  static constexpr const char* kRetries = "retries";
  static constexpr const char* kFailedWaits = "failed_waits";
};

// Mm (os/mm.h), in "os.<mm name>".
struct MmStats {
  static constexpr const char* kPtlHold = "ptl_hold";
};

}  // namespace iosim
