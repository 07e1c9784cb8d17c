#include "platform/system_config.h"

#include "sc_models/params.h"

#include <cmath>
#include <set>

namespace iosim {

namespace {

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) throw ParamError(key + ": " + what);
}

}  // namespace

uint16_t SystemConfig::requester_id(size_t i) const {
  const uint16_t rid = device.at(i).requester_id;
  if (rid != DeviceConfig{}.requester_id) return rid;
  return static_cast<uint16_t>(rid + (i << 3));
}

void SystemConfig::validate() const {
  require(sim.duration_ns >= 0 && std::isfinite(sim.duration_ns), "sim.duration_ns",
          "must be >= 0");
  require(sim.max_time_ns > 0 && std::isfinite(sim.max_time_ns), "sim.max_time_ns", "must be > 0");
  require(sim.quantum_ns >= 0 && std::isfinite(sim.quantum_ns), "sim.quantum_ns", "must be >= 0");
  require(cpu.cores >= 1 && cpu.cores <= 256, "cpu.cores", "must be 1..256");
  require(!device.empty() || workload.processes == 0, "device.count",
          "the workload needs at least one device");
  memory.dram.validate();
  memory.bus.validate();
  os.validate();
  iommu.validate();
  link.validate();
  sva.validate();
  sva.validate_wait_timeout(iommu.command_queue.itag_timeout_ns);
  check.checker.validate();
  std::set<uint16_t> rids;
  for (size_t i = 0; i < device.size(); ++i) {
    const std::string key = "device." + std::to_string(i) + ".requester_id";
    require(rids.insert(requester_id(i)).second, key,
            "requester ID " + std::to_string(requester_id(i)) + " is used by another device");
    device[i].validate();
  }
  const WorkloadConfig& w = workload;
  require(w.request_bytes >= 1 && w.request_bytes <= 4096 &&
              (w.request_bytes & (w.request_bytes - 1)) == 0,
          "workload.request_bytes", "must be a power of two <= 4096");
  require(w.read_fraction >= 0 && w.read_fraction <= 1, "workload.read_fraction",
          "must be in 0..1");
  require(w.max_outstanding >= 1, "workload.max_outstanding", "must be >= 1");
  require(w.issue_interval_ns >= 0, "workload.issue_interval_ns", "must be >= 0");
  require(w.window_bytes >= 4096 && w.window_bytes % 4096 == 0, "workload.window_bytes",
          "must be a non-zero multiple of 4096");
  require(w.base_va % 4096 == 0 && w.base_va + w.window_bytes <= (uint64_t{1} << 47),
          "workload.base_va", "must be page aligned, window below 2^47");
  require(w.processes == 0 || w.threads_per_device >= 1, "workload.threads_per_device",
          "must be >= 1");
  require(w.processes == 0 || w.requests > 0 || sim.duration_ns > 0, "workload.requests",
          "0 (unlimited) needs sim.duration_ns > 0");
}

}  // namespace iosim
