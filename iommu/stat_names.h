// Names of the IOMMU statistics that other parts read by path (the run summary,
// platform/report.cpp). The modules register their statistics under these names, so
// a rename changes both sides; tests/platform/report_probes_test.cpp checks that every
// statistic the summary reads exists in a built system.
#pragma once

namespace iosim {

// Iommu (iommu/iommu.h) and the parts that register in its group "<iommu>": the
// IOTLB (iommu/iotlb.h) and the fault recorder (iommu/vtd/fault_recorder.h).
struct IommuStats {
  static constexpr const char* kTranslationRequestLatency = "translation_request_latency";
  static constexpr const char* kIotlbHits = "iotlb_hits";
  static constexpr const char* kIotlbLookups = "iotlb_lookups";
  static constexpr const char* kFaultsRecorded = "faults_recorded";
};

// CommandQueue (iommu/vtd/command_queue.h), in "<iommu>.command_queue". Each command
// kind that ran has "<kind>_count" and "<kind>_latency" (kind: to_string(InvType)).
struct CommandQueueStats {
  static constexpr const char* kItagTimeouts = "itag_timeouts";
  static constexpr const char* kFailedWaits = "failed_waits";
  static constexpr const char* kKindCountSuffix = "_count";
  static constexpr const char* kKindLatencySuffix = "_latency";
};

}  // namespace iosim
