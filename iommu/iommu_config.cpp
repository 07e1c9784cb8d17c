// IommuConfig / RootPortConfig validation.
#include "iommu/iommu_config.h"

#include <cmath>
#include <string>

#include "sc_models/config/params.h"
#include "sc_models/pcie/pcie_fields.h"

namespace iosim {

namespace {

void check_ns(const char* name, double v) {
  if (!std::isfinite(v) || v < 0) {
    throw ParamError(std::string("iommu: ") + name + " must be a finite number >= 0 (got " +
                     format_value(v) + ")");
  }
}

}  // namespace

TranslationCacheConfig IotlbConfig::cache_config() const {
  TranslationCacheConfig c;
  c.sets = sets;
  c.ways = ways;
  c.replacement = replacement;
  return c;
}

void IommuConfig::validate() const {
  check_ns("iotlb.lookup_latency_ns", iotlb.lookup_latency_ns);
  check_ns("walker.walk_overhead_ns", walker.walk_overhead_ns);
  check_ns("tables.lookup_latency_ns", tables.lookup_latency_ns);
  check_ns("command_queue.fetch_latency_ns", command_queue.fetch_latency_ns);
  check_ns("command_queue.process_latency_ns", command_queue.process_latency_ns);
  check_ns("command_queue.itag_timeout_ns", command_queue.itag_timeout_ns);
  check_ns("page_request_queue.write_latency_ns", page_request_queue.write_latency_ns);
  check_ns("register_latency_ns", register_latency_ns);
  if (iotlb.lookup_ports == 0) throw ParamError("iommu: iotlb.lookup_ports must be >= 1");
  if (walker.walkers == 0) throw ParamError("iommu: walker.walkers must be >= 1");
  if (fault_records == 0) throw ParamError("iommu: fault_records must be >= 1");
  if (command_queue.itag_timeout_ns <= 0) {
    throw ParamError("iommu: command_queue.itag_timeout_ns must be > 0");
  }
}

void RootPortConfig::validate() const {
  if (requester_id > kRequesterIdMax)
    throw ParamError("root port: requester_id must fit in 16 bits");
  if (invalidate_queue_depth > kInvalidateQueueDepthMax) {
    throw ParamError("root port: invalidate_queue_depth must be 0..31 (0 encodes 32)");
  }
}

}  // namespace iosim
