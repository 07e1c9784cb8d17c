// CommandKindStats: a command queue's statistics per command kind, the same for every
// architecture: "<kind>_count" (commands executed) and "<kind>_latency" (fetch start to
// completion) in the queue's group, registered when a kind first runs, so the run
// summary lists the kinds that ran (iommu/stat_names.h). A front-end numbers its kinds
// (below 256) and names them.
#pragma once

#include <systemc>

#include <array>
#include <string>

#include "iommu/stat_names.h"
#include "sc_models/observe/stats.h"

namespace iosim {

class CommandKindStats {
 public:
  explicit CommandKindStats(StatGroup& queue) : group_(queue) {}

  // One command of kind `index`; name() gives the kind's name the first time.
  template <class Name>
  void record(unsigned index, const Name& name, const sc_core::sc_time& latency) {
    Kind& k = kinds_.at(index);
    if (!k.count) {
      const std::string n = name();
      k.count = &group_.counter(n + CommandQueueStats::kKindCountSuffix, "commands",
                                "commands of this kind executed");
      k.latency = &group_.histogram(n + CommandQueueStats::kKindLatencySuffix,
                                    "fetch start to command completion");
    }
    k.count->inc();
    k.latency->sample(latency);
  }

 private:
  struct Kind {
    Counter* count = nullptr;
    Histogram* latency = nullptr;
  };
  StatGroup& group_;
  std::array<Kind, 256> kinds_{};
};

}  // namespace iosim
