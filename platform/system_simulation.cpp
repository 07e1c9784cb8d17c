#include "platform/system_simulation.h"

#include "platform/scenario.h"
#include "platform/system.h"
#include "sc_models/json_writer.h"
#include "sc_models/stats.h"

#include <tlm>

#include <chrono>
#include <fstream>
#include <stdexcept>

namespace iosim {

namespace {

double ns_of(const sc_core::sc_time& t) {
  return t.to_seconds() * 1e9;
}

bool is_relative(const std::string& p) {
  return !p.empty() && p[0] != '/';
}

std::string dir_of(const std::string& file) {
  const size_t slash = file.rfind('/');
  return slash == std::string::npos ? std::string() : file.substr(0, slash + 1);
}

void write_stats_file(const std::string& path, System& sys, double host_seconds,
                      const System::Outcome& o) {
  std::ofstream f(path);
  JsonWriter w(f, 2);
  w.begin_object();
  w.field("sim_time_ns", ns_of(o.end));
  w.field("host_seconds", host_seconds);
  w.field("boot_ns", ns_of(o.boot_end));
  w.key("checkers").begin_object();
  if (CheckerSuite* c = sys.checkers()) {
    for (const std::string& n : c->names()) w.field(n, c->count(n));
  }
  w.end_object();
  w.key("scenario");
  write_scenario_json(w, sys);
  w.key("stats");
  StatRegistry::global().write_json(w);
  w.end_object();
  f << "\n";
  if (!f) throw std::runtime_error("cannot write the stats file '" + path + "'");
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
}

void write_scenario_json(JsonWriter& w, System& sys) {
  const Scenario& sc = sys.scenario();
  const sc_core::sc_time start =
      sys.core_count() ? sys.core(0).start_time() : sc_core::SC_ZERO_TIME;
  auto rel = [&start](const sc_core::sc_time& t) { return ns_of(t) - ns_of(start); };
  w.begin_object();
  w.key("processes").begin_array();
  for (size_t i = 0; i < sc.processes.size(); ++i) {
    w.begin_object().field("name", sc.processes[i]).field("mm_id", i + 1).end_object();
  }
  w.end_array();
  w.key("binds").begin_array();
  for (const auto& [key, pasid] : sys.pasids()) {
    w.begin_object().field("process", sc.processes.at(key.first - 1));
    w.field("device", "device" + std::to_string(key.second)).field("pasid", pasid).end_object();
  }
  w.end_array();
  w.key("cpu_threads").begin_array();
  for (size_t i = 0; i < sc.cpu_threads.size(); ++i) {
    const CpuThreadSpec& t = sc.cpu_threads[i];
    Core& c = sys.cpu_thread_core(i);
    w.begin_object().field("name", t.program.name).field("core", t.core);
    w.field("killed", c.killed());
    w.key("loads").begin_array();
    for (const LoadRecord& l : c.loads()) {
      w.begin_object().field("va", l.va).field("value", l.value).field("time_ns", rel(l.time));
      w.end_object();
    }
    w.end_array();
    w.key("ops").begin_array();
    for (const OpRecord& r : c.ops()) {
      w.begin_object().field("op", op_kind_name(r.kind)).field("result", r.result);
      w.field("start_ns", rel(r.start)).field("end_ns", rel(r.end)).end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("dev_threads").begin_array();
  for (const System::DevThreadRef& r : sys.scripted_dev_threads()) {
    const DmaThread& t = r.device->thread(r.index);
    w.begin_object().field("name", t.name()).field("device", r.device->basename());
    w.field("pasid", t.config().pasid).field("completed", t.completed());
    w.key("reads").begin_array();
    for (const DmaThread::ReadRecord& x : t.reads()) {
      w.begin_object().field("va", x.va).field("value", x.value).field("time_ns", rel(x.time));
      w.field("ok", x.ok).end_object();
    }
    w.end_array();
    w.key("errors").begin_array();
    for (const DmaThread::ErrorRecord& x : t.errors()) {
      w.begin_object().field("va", x.va).field("write", x.write).field("time_ns", rel(x.time));
      w.field("reason", x.reason).end_object();
    }
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

int SystemSimulation::run_config(const SystemConfig& config, const RunOptions& opts,
                                 std::ostream& out) {
  SystemConfig cfg = config;
  if (opts.seed) cfg.sim.seed = *opts.seed;
  cfg.validate();
  if (cfg.check.ordering_sensitive && cfg.sim.quantum_ns > 0) {
    throw std::runtime_error(
        "this configuration is ordering-sensitive (check.ordering_sensitive = true) and refuses "
        "sim.quantum_ns = " +
        format_value(cfg.sim.quantum_ns) +
        ": temporal decoupling would reorder the accesses it checks; set sim.quantum_ns = 0");
  }
  ScenarioLimits lim;
  lim.cores = cfg.cpu.cores;
  lim.devices = cfg.device.size();
  lim.workload_processes = cfg.workload.processes;
  lim.workload_base_va = cfg.workload.base_va;
  lim.workload_window_bytes = cfg.workload.window_bytes;
  Scenario scenario = cfg.scenario.script.empty() ? build_scenario({}, lim)
                                                  : load_scenario(cfg.scenario.script, lim);
  tlm::tlm_global_quantum::instance().set(sc_core::sc_time(cfg.sim.quantum_ns, sc_core::SC_NS));
  const auto host_start = std::chrono::steady_clock::now();
  System sys(cfg, std::move(scenario));
  const System::Outcome o = sys.run();
  const double host_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();
  if (!o.error.empty()) throw std::runtime_error(o.error);
  CheckerSuite* checkers = sys.checkers();
  if (checkers) checkers->report(out);
  if (!opts.stats_path.empty()) write_stats_file(opts.stats_path, sys, host_seconds, o);
  if (checkers && cfg.check.expect_clean && checkers->total() > 0) return kExitViolations;
  return kExitOk;
}

}  // namespace iosim
