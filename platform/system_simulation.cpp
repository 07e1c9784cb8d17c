#include "platform/system_simulation.h"

#include "sc_models/timing/lookahead.h"

#include "os/diagnostics.h"
#include "platform/config_check.h"
#include "platform/cpu_operations.h"
#include "platform/report.h"
#include "platform/scenario.h"
#include "platform/system.h"
#include "platform/timeline_recorder.h"
#include "platform/trace_recorder.h"
#include "sc_models/observe/json.h"
#include "sc_models/observe/stats.h"
#include "sc_models/timing/sim_time.h"

#include <tlm>

#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace iosim {

namespace {

bool is_relative(const std::string& p) {
  return !p.empty() && p[0] != '/';
}

std::string dir_of(const std::string& file) {
  const size_t slash = file.rfind('/');
  return slash == std::string::npos ? std::string() : file.substr(0, slash + 1);
}

std::string us_text(const sc_core::sc_time& t) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(3);
  o << to_ns(t) / 1000.0 << " us";
  return o.str();
}

// The "boot_ns" and "scenario" objects of the stats JSON.
class ScenarioJson : public JsonExtra {
 public:
  ScenarioJson(System& sys, const System::Outcome& o) : sys_(sys), o_(o) {}
  void add_to(Json& doc) const override {
    doc["boot_ns"] = to_ns(o_.boot_end);
    doc["scenario"] = scenario_json(sys_);
  }

 private:
  System& sys_;
  const System::Outcome& o_;
};

}  // namespace

ScenarioLimits scenario_limits(const SystemConfig& cfg) {
  ScenarioLimits lim;
  lim.cores = cfg.cpu.cores;
  lim.devices = cfg.device.size();
  lim.workload_processes = cfg.workload.processes;
  lim.workload_base_va = cfg.workload.base_va;
  lim.workload_window_bytes = cfg.workload.window_bytes;
  return lim;
}

Scenario load_configured_scenario(const SystemConfig& cfg) {
  const ScenarioLimits lim = scenario_limits(cfg);
  return cfg.scenario.script.empty() ? build_scenario({}, lim)
                                     : load_scenario(cfg.scenario.script, lim);
}

namespace {

void check_run_rules(const SystemConfig& cfg, const Scenario& scenario, ConfigCheck& c) {
  c.require_keys(
      !cfg.check.ordering_sensitive || cfg.sim.quantum_ns == 0,
      {"sim.quantum_ns", "check.ordering_sensitive"},
      "this configuration is ordering-sensitive (check.ordering_sensitive = true) and "
      "refuses sim.quantum_ns = " +
          format_value(cfg.sim.quantum_ns) +
          ": temporal decoupling would reorder the accesses it checks; set sim.quantum_ns "
          "= 0");
  for (const DevThreadSpec& t : scenario.dev_threads) {
    c.require(cfg.device.at(t.device).pasid_enabled,
              "device." + std::to_string(t.device) + ".pasid_enabled",
              "is false, but the scenario's dev thread '" + t.name + "' (" + t.loc.file + ":" +
                  std::to_string(t.loc.line) + ") uses a PASID (SVA bind)");
  }
}

}  // namespace

void SystemSimulation::configure(const std::vector<ConfigEntry>& entries,
                                 std::vector<ConfigError>& errors) {
  std::vector<ConfigEntry> resolved = entries;
  for (ConfigEntry& e : resolved) {
    if (e.key == "scenario.script" && e.line > 0 && is_relative(e.value)) {
      e.value = dir_of(e.file) + e.value;
    }
  }
  ConfiguredSimulation<SystemConfig>::configure(resolved, errors);
  if (!errors.empty()) return;
  // Every check of the loaded configuration and the script runs here, before any
  // output file is created; each is reported at the line that gave the value.
  ConfigCheck c;
  config().check_rules(c);
  if (c.ok()) {
    try {
      check_run_rules(config(), load_configured_scenario(config()), c);
    } catch (const ScriptError& e) {
      errors.push_back(e.error());
    }
  }
  const std::vector<ConfigError> located = locate_problems(c.problems(), resolved);
  errors.insert(errors.end(), located.begin(), located.end());
}

Json scenario_json(System& sys) {
  const Scenario& sc = sys.scenario();
  // Times count from the start of core0's thread (time 0 when core0 runs none).
  sc_core::sc_time start = sc_core::SC_ZERO_TIME;
  for (size_t i = 0; i < sc.cpu_threads.size(); ++i) {
    if (sc.cpu_threads[i].core == 0) start = sys.cpu_thread(i).start_time();
  }
  // Converted from the tick difference, so a whole number of picoseconds stays exact.
  auto rel = [&start](const sc_core::sc_time& t) {
    return t >= start ? to_ns(t - start) : -to_ns(start - t);
  };
  Json o = Json::object();
  Json& processes = o["processes"] = Json::array();
  for (size_t i = 0; i < sc.processes.size(); ++i) {
    processes.push_back({{"name", sc.processes[i]}, {"mm_id", i + 1}});
  }
  Json& binds = o["binds"] = Json::array();
  for (const auto& [key, pasid] : sys.pasids()) {
    binds.push_back({{"process", sc.processes.at(key.first - 1)},
                     {"device", "device" + std::to_string(key.second)},
                     {"pasid", pasid}});
  }
  Json& cpu_threads = o["cpu_threads"] = Json::array();
  for (size_t i = 0; i < sc.cpu_threads.size(); ++i) {
    const CpuThreadSpec& t = sc.cpu_threads[i];
    const CpuThread& c = sys.cpu_thread(i);
    Json thread = {{"name", t.program.name}, {"core", t.core}, {"killed", c.killed()}};
    Json& loads = thread["loads"] = Json::array();
    for (const LoadRecord& l : c.loads()) {
      loads.push_back({{"va", l.va}, {"value", l.value}, {"time_ns", rel(l.time)}});
    }
    Json& ops = thread["ops"] = Json::array();
    for (const OpRecord& r : c.ops()) {
      ops.push_back({{"op", r.op->recorded_as},
                     {"result", r.result},
                     {"start_ns", rel(r.start)},
                     {"end_ns", rel(r.end)}});
    }
    cpu_threads.push_back(std::move(thread));
  }
  Json& dev_threads = o["dev_threads"] = Json::array();
  for (const System::DevThreadRef& r : sys.scripted_dev_threads()) {
    const DmaThread& t = r.device->thread(r.index);
    Json thread = {{"name", t.name()},
                   {"device", r.device->basename()},
                   {"pasid", t.config().pasid},
                   {"completed", t.completed()}};
    Json& reads = thread["reads"] = Json::array();
    for (const DmaThread::ReadRecord& x : t.reads()) {
      reads.push_back({{"va", x.va}, {"value", x.value}, {"time_ns", rel(x.time)}, {"ok", x.ok}});
    }
    Json& errors = thread["errors"] = Json::array();
    for (const DmaThread::ErrorRecord& x : t.errors()) {
      errors.push_back(
          {{"va", x.va}, {"write", x.write}, {"time_ns", rel(x.time)}, {"reason", x.reason}});
    }
    dev_threads.push_back(std::move(thread));
  }
  return o;
}

namespace {

// Names the scenario's threads and pages in the recorders and attaches them when boot
// is over, so they show the scenario and not the boot steps.
void attach_recorders(System& sys, const SystemConfig& cfg, TimelineRecorder* timeline,
                      TraceRecorder* trace, OsObserverList& observers) {
  for (const CpuThreadSpec& t : sys.scenario().cpu_threads) {
    if (timeline) timeline->set_cpu_thread(t.core, t.program.name);
    if (trace) trace->set_cpu_thread(t.core, t.program.name);
  }
  if (timeline) {
    for (const DevThreadSpec& t : sys.scenario().dev_threads)
      timeline->set_device_thread(t.name, t.name);
    for (const ScenarioSymbol& s : sys.scenario().symbols) {
      const uint64_t pages = std::min<uint64_t>((s.size + Mm::kPageBytes - 1) / Mm::kPageBytes,
                                                cfg.timeline.max_symbol_pages);
      for (uint64_t k = 0; k < pages; ++k) {
        std::ostringstream name;
        name << s.name;
        if (k > 0) name << "+0x" << std::hex << k * Mm::kPageBytes;
        timeline->set_symbol(s.mm_id, s.va + k * Mm::kPageBytes, name.str());
      }
    }
  }
  // The trace shows the boot too; the timeline only the scenario, but it follows the
  // page tables from the beginning so that it knows which frame is the old page.
  if (timeline) {
    timeline->set_record_from(sc_core::sc_max_time());
    sys.ground_truth().subscribe(timeline);
  }
  if (trace) sys.ground_truth().subscribe(trace);
  sys.kernel().set_observer(&observers);
  sys.on_start([&sys, timeline] {
    if (!timeline) return;
    for (const auto& [key, pasid] : sys.pasids()) timeline->bind_pasid(pasid, key.first);
    timeline->set_record_from(sc_core::sc_time_stamp());
  });
}

}  // namespace

int SystemSimulation::run_config(const SystemConfig& config, const RunOptions& opts,
                                 std::ostream& out) {
  SystemConfig cfg = config;
  if (opts.seed) cfg.sim.seed = *opts.seed;
  cfg.validate();
  Scenario scenario = load_configured_scenario(cfg);
  ConfigCheck rules;
  check_run_rules(cfg, scenario, rules);
  if (!rules.ok()) {
    const ConfigProblem& p = rules.problems().front();
    throw std::runtime_error(p.keys.front() + ": " + p.message);
  }
  tlm::tlm_global_quantum::instance().set(sc_core::sc_time(cfg.sim.quantum_ns, sc_core::SC_NS));
  const auto host_start = std::chrono::steady_clock::now();
  // The recorders outlive the system that publishes to them.
  std::unique_ptr<TimelineRecorder> timeline;
  std::unique_ptr<TraceRecorder> trace;
  OsObserverList observers;
  if (opts.timeline) {
    timeline = std::make_unique<TimelineRecorder>(cfg.timeline);
    timeline->set_named_only(cfg.timeline.named_only);
    observers.add(timeline.get());
  }
  if (!opts.trace_path.empty()) {
    trace = std::make_unique<TraceRecorder>();
    observers.add(trace.get());
  }
  System sys(cfg, std::move(scenario));
  if (!observers.empty()) attach_recorders(sys, cfg, timeline.get(), trace.get(), observers);
  const System::Outcome o = sys.run();
  const double host_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();
  if (!o.error.empty()) throw std::runtime_error(o.error);
  if (timeline) timeline->print(out);
  if (trace) trace->finish(opts.trace_path);
  CheckerSuite* checkers = sys.checkers();
  if (checkers && checkers->total() > 0) checkers->report(out);
  const Diagnostics& diagnostics = sys.kernel().context().diagnostics();
  for (const Diagnostic& d : diagnostics.records()) {
    out << "kernel: [" << to_ns(d.time) << " ns] " << diag_kind_name(d.kind) << " in "
        << (d.thread.empty() ? std::string("-") : d.thread) << " (" << d.where << "): " << d.message
        << '\n';
  }
  const RunSummary summary = collect_summary(sys.context().stats(), sys.stats_layout());
  RunInfo info;
  info.sim_time_ns = to_ns(o.end);
  info.host_seconds = host_seconds;
  info.lookahead_skips = sys.context().lookahead().skips();
  info.checkers = checkers;
  info.diagnostics = &diagnostics;
  info.extra.push_back({"boot time", us_text(o.boot_end)});
  print_summary(out, summary, info);
  if (!opts.stats_path.empty()) {
    ScenarioJson extra(sys, o);
    write_stats_json(opts.stats_path, sys.context().stats(), summary, info, &extra);
  }
  if (checkers && cfg.check.expect_clean && checkers->total() > 0) return kExitViolations;
  return kExitOk;
}

}  // namespace iosim
