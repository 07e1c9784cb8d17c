// SystemConfig checks: every rule a loaded configuration must satisfy before a
// system is built, each at the full key of the value concerned. The upper bounds on
// counts keep the host memory of a run in check; each says what the count costs.
#include "platform/system_config.h"

#include "platform/config_check.h"
#include "sc_models/config/params.h"
#include "sc_models/memory/page_size.h"

#include <cmath>
#include <set>

namespace iosim {

namespace {

// The sva.policy values the driver of each architecture implements (auto: its own).
bool policy_fits(IommuArch arch, SvaPolicyName p) {
  if (p == SvaPolicyName::kAuto) return true;
  switch (arch) {
    case IommuArch::kVtd:
      return p == SvaPolicyName::kIntel;
    case IommuArch::kSmmuv3:
      return p == SvaPolicyName::kArm;
    case IommuArch::kRiscv:
      return p == SvaPolicyName::kRiscv;
    case IommuArch::kAmdvi:
      return p == SvaPolicyName::kAmd || p == SvaPolicyName::kAmdLegacy;
  }
  return false;
}

std::string policies_of(IommuArch arch) {
  std::string out = "auto";
  for (const ChoiceValue<SvaPolicyName>& v : kSvaPolicy) {
    if (v.value != SvaPolicyName::kAuto && policy_fits(arch, v.value))
      out += std::string(", ") + v.name;
  }
  return out;
}

// One SystemC thread per DMA issue slot; each has its own stack.
constexpr uint64_t kMaxIssueSlotsPerThread = 1024;
// The contention benchmark (16 devices x 64 PASIDs x 16 outstanding) needs 16384; stacks
// are reserved address space, committed only as far as a slot's thread touches them.
constexpr uint64_t kMaxIssueSlots = 32768;
constexpr uint64_t kMaxCacheEntries = uint64_t{1} << 20;
constexpr uint64_t kMaxCacheWays = 65536;
constexpr uint64_t kMaxWalkCacheEntries = 4096;

bool is_pow2(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

std::vector<std::string> names_of(std::vector<ParamInfo> params) {
  std::vector<std::string> out;
  for (const ParamInfo& p : params) out.push_back(p.name);
  return out;
}

// A set-associative translation cache (CPU TLB, IOTLB, ATC): allocated up front.
void check_cache(ConfigCheck& c, const std::string& prefix, uint64_t sets, uint64_t ways) {
  c.require(is_pow2(sets), prefix + "sets",
            "must be a power of two >= 1, got " + std::to_string(sets));
  c.require(ways >= 1, prefix + "ways", "must be at least 1");
  c.at_most(prefix + "ways", ways, kMaxCacheWays, "a lookup searches every way of a set");
  c.require_keys(sets * ways <= kMaxCacheEntries, {prefix + "ways", prefix + "sets"},
                 "sets x ways = " + std::to_string(sets * ways) +
                     " entries, more than the limit of " + std::to_string(kMaxCacheEntries) +
                     ": every entry is allocated when the model is built");
}

void check_walk_cache(ConfigCheck& c, const std::string& key, uint64_t entries) {
  c.at_most(key, entries, kMaxWalkCacheEntries,
            "a fully associative cache, allocated up front and searched on every walk");
}

void check_counts(const SystemConfig& s, ConfigCheck& c) {
  c.require(s.cpu.cores >= 1, "cpu.cores", "must be at least 1");
  c.at_most("cpu.cores", s.cpu.cores, 256,
            "each core is a SystemC module with its own TLB, walker and thread");
  c.at_most("device.count", s.device.size(), 256,
            "each device is a SystemC module with its own link, root port and ATC");
  check_cache(c, "cpu.tlb.", s.cpu.core.tlb.sets, s.cpu.core.tlb.ways);
  check_walk_cache(c, "cpu.walker.pml4_cache_entries", s.cpu.core.walker.pml4_cache_entries);
  check_walk_cache(c, "cpu.walker.pdpt_cache_entries", s.cpu.core.walker.pdpt_cache_entries);
  check_walk_cache(c, "cpu.walker.pd_cache_entries", s.cpu.core.walker.pd_cache_entries);
  const IommuConfig& io = s.iommu;
  check_cache(c, "iommu.iotlb.", io.iotlb.sets, io.iotlb.ways);
  check_walk_cache(c, "iommu.walker.pml4e_cache_entries", io.walker.pml4e_cache_entries);
  check_walk_cache(c, "iommu.walker.pdpte_cache_entries", io.walker.pdpte_cache_entries);
  check_walk_cache(c, "iommu.walker.pde_cache_entries", io.walker.pde_cache_entries);
  c.at_most("iommu.tables.context_cache_entries", io.tables.context_cache_entries, 65536,
            "cached context entries are kept in host memory");
  c.at_most("iommu.tables.pasid_cache_entries", io.tables.pasid_cache_entries, 65536,
            "cached PASID entries are kept in host memory");
  c.at_most("iommu.iotlb.lookup_ports", io.iotlb.lookup_ports, 64,
            "each port is a server of the lookup pool");
  c.at_most("iommu.walker.walkers", io.walker.walkers, 1024,
            "each walker is a server of the walker pool");
  c.at_most("iommu.fault_records", io.fault_records, 65536,
            "fault records are kept in host memory");
  c.at_most("memory.channels", s.memory.dram.channels, 64,
            "each channel is a server pool with its own counters");
  c.at_most("memory.size_bytes", s.memory.dram.size_bytes, uint64_t{1} << 52,
            "physical addresses have 52 bits");
  c.at_most("check.pte_versions_per_page", s.check.checker.pte_versions_per_page, 1024,
            "kept per page in host memory");
  c.at_most("check.invalidations_per_pasid", s.check.checker.invalidations_per_pasid, 65536,
            "kept per PASID in host memory");
  c.at_most("check.max_records", s.check.checker.max_records, 1000000,
            "violation records are kept in host memory");
  c.at_most("timeline.line_width", s.timeline.line_width, 1000,
            "every timeline row is laid out at this width in host memory");
  c.at_most("timeline.max_events", s.timeline.max_events, 10000000,
            "timeline events are kept in host memory until the end of the run");
  c.at_most("timeline.max_symbol_pages", s.timeline.max_symbol_pages, 65536,
            "every named page is an entry in the timeline's name table");
  for (size_t i = 0; i < s.device.size(); ++i) {
    const TranslationCacheConfig& atc = s.device[i].atc;
    check_cache(c, "device." + std::to_string(i) + ".atc.", atc.sets, atc.ways);
  }
}

void check_workload(const SystemConfig& s, ConfigCheck& c) {
  const WorkloadConfig& w = s.workload;
  c.require(w.request_bytes >= 1 && w.request_bytes <= kPageBytes && is_pow2(w.request_bytes),
            "workload.request_bytes", "must be a power of two <= 4096");
  c.require(w.read_fraction >= 0 && w.read_fraction <= 1, "workload.read_fraction",
            "must be in 0..1");
  c.require(w.max_outstanding >= 1, "workload.max_outstanding", "must be >= 1");
  c.at_most("workload.max_outstanding", w.max_outstanding, kMaxIssueSlotsPerThread,
            "every request in flight is a SystemC thread with its own stack");
  c.require(w.window_bytes >= kPageBytes && w.window_bytes % kPageBytes == 0,
            "workload.window_bytes", "must be a non-zero multiple of 4096");
  c.require_keys(w.base_va % kPageBytes == 0 && w.window_bytes <= (uint64_t{1} << 47) &&
                     w.base_va + w.window_bytes <= (uint64_t{1} << 47),
                 {"workload.base_va", "workload.window_bytes"},
                 "must be page aligned, window below 2^47");
  c.at_most("workload.processes", w.processes, 1024,
            "each process has its own address space, page tables and a PASID per device");
  c.require(w.processes == 0 || w.threads_per_device >= 1, "workload.threads_per_device",
            "must be >= 1");
  c.at_most("workload.threads_per_device", w.threads_per_device, 256,
            "each DMA thread has its own issue slots, each a SystemC thread with a stack");
  c.require(w.processes == 0 || w.requests > 0 || s.sim.duration_ns > 0, "workload.requests",
            "0 (unlimited) needs sim.duration_ns > 0");
  c.require_keys(!s.device.empty() || w.processes == 0, {"device.count", "workload.processes"},
                 "the workload needs at least one device");
  if (w.processes == 0 || !c.ok()) return;
  const uint64_t slots =
      uint64_t{w.processes} * w.threads_per_device * w.max_outstanding * s.device.size();
  c.require_keys(slots <= kMaxIssueSlots,
                 {"workload.max_outstanding", "workload.threads_per_device", "workload.processes",
                  "device.count"},
                 "device.count x workload.processes x threads_per_device x max_outstanding = " +
                     std::to_string(slots) + " issue slots, more than the limit of " +
                     std::to_string(kMaxIssueSlots) +
                     ": each is a SystemC thread with its own stack (256 KiB)");
  for (size_t i = 0; i < s.device.size(); ++i) {
    c.require(s.device[i].pasid_enabled, "device." + std::to_string(i) + ".pasid_enabled",
              "is false, but the workload's DMA threads use a PASID (SVA bind of each "
              "workload process)");
  }
  if (w.populate != Populate::kNone) {
    // Each process's window, plus its page tables (one table page per 512 pages,
    // and the upper levels), must fit in the allocator with the zero page.
    const uint64_t pages = w.window_bytes / kPageBytes;
    const uint64_t per_process = pages + pages / 512 + 4;
    const uint64_t frames = s.os.allocator.frames;
    c.require_keys(frames >= 1 && (frames - 1) / w.processes >= per_process,
                   {"workload.window_bytes", "workload.processes", "os.allocator.frames"},
                   "workload.processes x window_bytes needs " +
                       std::to_string(per_process * w.processes) +
                       " frames with page tables to populate, more than os.allocator.frames = " +
                       std::to_string(frames));
  }
}

}  // namespace

uint16_t SystemConfig::requester_id(size_t i) const {
  const uint16_t rid = device.at(i).requester_id;
  if (rid != DeviceConfig{}.requester_id) return rid;
  return static_cast<uint16_t>(rid + (i << 3));
}

void SystemConfig::check_rules(ConfigCheck& c) const {
  SystemConfig copy = *this;  // the visitors need a mutable object
  // Every time parameter: SystemC time must be able to hold it.
  for (const ParamInfo& p : list_params(copy, "", true)) {
    if (p.unit != "ns") continue;
    double v = 0;
    try {
      parse_value(p.default_value, v);
    } catch (const ParamError&) {
      v = -1;
    }
    c.time_ns(p.name, v);
  }
  c.require(sim.max_time_ns > 0, "sim.max_time_ns", "must be > 0");
  check_counts(*this, c);
  check_workload(*this, c);
  c.run_validate("memory.", names_of(list_params(copy.memory, "memory.")),
                 [&] { memory.dram.validate(); });
  c.run_validate("memory.bus.", names_of(list_params(copy.memory.bus, "memory.bus.")),
                 [&] { memory.bus.validate(); });
  c.run_validate("os.", names_of(list_params(copy.os, "os.")), [&] { os.validate(); });
  c.run_validate("iommu.", names_of(list_params(copy.iommu, "iommu.")), [&] { iommu.validate(); });
  c.run_validate("link.", names_of(list_params(copy.link, "link.")), [&] { link.validate(); });
  c.require(policy_fits(iommu.arch, sva.policy), "sva.policy",
            kSvaPolicy.name_of(sva.policy) + " is not a policy of the " +
                kIommuArch.name_of(iommu.arch) + " driver (iommu.arch = " +
                kIommuArch.name_of(iommu.arch) + " takes " + policies_of(iommu.arch) + ")");
  c.run_validate("sva.", names_of(list_params(copy.sva, "sva.")), [&] {
    sva.validate();
    sva.validate_wait_timeout(iommu.command_queue.itag_timeout_ns);
  });
  c.run_validate("check.", names_of(list_params(copy.check, "check.")),
                 [&] { check.checker.validate(); });
  std::set<uint16_t> rids;
  for (size_t i = 0; i < device.size(); ++i) {
    const std::string prefix = "device." + std::to_string(i) + ".";
    c.require(rids.insert(requester_id(i)).second, prefix + "requester_id",
              "requester ID " + std::to_string(requester_id(i)) + " is used by another device");
    c.run_validate(prefix, names_of(list_params(copy.device[i], prefix)),
                   [&] { device[i].validate(); });
  }
}

void SystemConfig::validate() const {
  ConfigCheck c;
  check_rules(c);
  if (c.ok()) return;
  const ConfigProblem& p = c.problems().front();
  throw ParamError(p.keys.front() + ": " + p.message);
}

}  // namespace iosim
