// Names of the CPU core statistics that other parts read by path (the run summary,
// platform/report.cpp). Core registers its statistics under these names, so a rename
// changes both sides; tests/platform/report_probes_test.cpp checks that every
// statistic the summary reads exists in a built system.
#pragma once

namespace iosim {

// Core (cpu/core.h), in its group "<core>".
struct CoreStats {
  static constexpr const char* kLoads = "loads";
  static constexpr const char* kStores = "stores";
  static constexpr const char* kPageFaults = "page_faults";
};

}  // namespace iosim
