// Scenario statements -> boot steps and thread programs.
#include "platform/scenario.h"

#include "platform/cpu_operations.h"
#include "platform/script_parser.h"
#include "sc_models/memory/page_size.h"

#include <algorithm>
#include <functional>
#include <set>
#include <utility>

namespace iosim {

namespace {

[[noreturn]] void fail(const ScriptLoc& loc, const std::string& key, const std::string& msg) {
  throw ScriptError(script_error(loc, key, msg));
}

constexpr uint64_t kPage = kPageBytes;

double to_ns(uint64_t ps) {
  return static_cast<double>(ps) / 1000.0;
}

class Builder : public ScriptOperands {
 public:
  explicit Builder(const ScenarioLimits& lim) : lim_(lim) {
    for (uint32_t i = 0; i < lim.workload_processes; ++i) {
      const std::string name = "W" + std::to_string(i);
      sc_.processes.push_back(name);
      const uint32_t id = sc_.process_count();
      process_ids_[name] = id;
      boot_ids_.insert(id);
      for (size_t d = 0; d < lim.devices; ++d) binds_.insert({id, d});
    }
    sc_.workload_processes = lim.workload_processes;
    if (lim.workload_processes > 0) {
      sc_.symbols.push_back({"window", 1, lim.workload_base_va, lim.workload_window_bytes});
    }
  }

  Scenario build(const std::vector<ScriptStatement>& statements) {
    for (const ScriptStatement& s : statements) top_level(s);
    check_dev_thread_binds();
    return std::move(sc_);
  }

 private:
  // ---- names (ScriptOperands: the operation table's arguments resolve here) ---------
  uint32_t new_process(const ScriptValue& v) override { return declare_process(v); }
  uint32_t declare_process(const ScriptValue& v) {
    const std::string name = script_symbol(v, "process");
    if (process_ids_.count(name)) fail(v.loc, "process", "process '" + name + "' already exists");
    sc_.processes.push_back(name);
    const uint32_t id = sc_.process_count();
    process_ids_[name] = id;
    return id;
  }
  // A process that exists at boot.
  uint32_t boot_process(const ScriptValue& v, const std::string& key) override {
    const std::string name = script_symbol(v, key);
    auto it = process_ids_.find(name);
    if (it == process_ids_.end()) {
      fail(v.loc, key, "unknown process '" + name + "' (declare it with 'process " + name + "')");
    }
    if (!boot_ids_.count(it->second)) {
      fail(v.loc, key, "process '" + name + "' is only created by a fork in a thread");
    }
    return it->second;
  }
  size_t device(const ScriptValue& v, const std::string& key) override {
    const std::string name = script_symbol(v, key);
    for (size_t i = 0; i < lim_.devices; ++i) {
      if (name == "device" + std::to_string(i)) return i;
    }
    fail(v.loc, key,
         "unknown device '" + name + "' (expected device0.." + "device" +
             std::to_string(lim_.devices == 0 ? 0 : lim_.devices - 1) + ", see device.count)");
  }
  uint64_t address(const ScriptValue& v, const std::string& key) override {
    if (v.kind == ScriptValue::Kind::kSymbol) {
      for (const ScenarioSymbol& s : sc_.symbols) {
        if (s.name == v.text) return s.va;
      }
      fail(v.loc, key, "unknown symbol '" + v.text + "' (define it with 'map P " + v.text + "')");
    }
    if (v.kind != ScriptValue::Kind::kInteger) {
      fail(v.loc, key,
           "expected a mapped symbol such as addrA or an address, got '" + v.text + "'");
    }
    return v.integer;
  }
  // The statement's main address: positional 0 plus offset=N.
  uint64_t main_address(const ScriptStatement& s) {
    return address(s.at(0, "an address"), "address") + s.integer_or("offset", 0);
  }
  static uint32_t prot(const ScriptStatement& s, uint32_t fallback) {
    const ScriptValue* v = s.find("prot");
    return v ? script_prot(*v, "prot") : fallback;
  }
  static bool flag(const ScriptStatement& s, const std::string& key) {
    const ScriptValue* v = s.find(key);
    return v && script_flag(*v, key);
  }
  static uint64_t page_multiple(const ScriptStatement& s, const std::string& key) {
    return script_page_bytes(s.value(key), key);
  }
  static void no_block(const ScriptStatement& s) {
    if (s.is_block) fail(s.loc, s.keyword, "'" + s.keyword + "' does not take a block (':')");
  }
  static void no_time(const ScriptStatement& s) {
    if (s.time_ps) fail(s.time_loc, s.keyword, "'@time' is only allowed inside a thread");
  }

  // ---- top level -----------------------------------------------------------------
  void top_level(const ScriptStatement& s) {
    const std::string& k = s.keyword;
    if (k == "cpu thread") return cpu_thread(s);
    if (k == "dev thread") return dev_thread(s);
    no_time(s);
    no_block(s);
    BootStep b;
    b.loc = s.loc;
    if (k == "process") {
      s.check_args({}, 1);
      b.kind = BootStep::Kind::kProcess;
      b.mm_id = declare_process(s.at(0, "a process name"));
      boot_ids_.insert(b.mm_id);
    } else if (k == "map") {
      map(s, b);
    } else if (k == "fork") {
      s.check_args({}, 2);
      b.kind = BootStep::Kind::kFork;
      b.mm_id = boot_process(s.at(0, "the parent process"), "parent");
      b.child_mm = declare_process(s.at(1, "the child process"));
      boot_ids_.insert(b.child_mm);
    } else if (k == "bind") {
      s.check_args({}, 2);
      b.kind = BootStep::Kind::kBind;
      b.mm_id = boot_process(s.at(0, "a process"), "process");
      b.device = device(s.at(1, "a device"), "device");
      if (!binds_.insert({b.mm_id, b.device}).second) {
        fail(s.loc, "bind", "process already bound to this device");
      }
    } else {
      fail(s.loc, k,
           "unknown statement '" + k +
               "' (expected one of: process, map, fork, bind, cpu thread, dev thread)");
    }
    sc_.boot.push_back(b);
  }

  void map(const ScriptStatement& s, BootStep& b) {
    s.check_args({"at", "size", "prot", "shared", "populate", "value", "huge"}, 2);
    b.kind = BootStep::Kind::kMap;
    b.mm_id = boot_process(s.at(0, "a process"), "process");
    const ScriptValue& sym = s.at(1, "a symbol name such as addrA");
    const std::string name = script_symbol(sym, "symbol");
    for (const ScenarioSymbol& x : sc_.symbols) {
      if (x.name == name) fail(sym.loc, "symbol", "symbol '" + name + "' is already defined");
    }
    b.va = s.address("at");
    if (b.va % kPage) fail(s.value("at").loc, "at", "expected a page-aligned (4K) address");
    b.size = page_multiple(s, "size");
    b.prot = prot(s, kProtRead | kProtWrite);
    b.shared = flag(s, "shared");
    b.value = s.integer_or("value", 0);
    if (const ScriptValue* h = s.find("huge")) {
      b.huge = script_page_bytes(*h, "huge");
      if (b.huge != (uint64_t{1} << 21) && b.huge != (uint64_t{1} << 30)) {
        fail(h->loc, "huge", "expected 2M or 1G");
      }
      if (b.huge == (uint64_t{1} << 30) && (b.va % b.huge || b.size % b.huge)) {
        fail(h->loc, "huge", "a 1G mapping needs at= and size= aligned to 1G");
      }
    }
    const std::string pop = s.symbol_or("populate", "none");
    if (const ChoiceValue<Populate>* c = kPopulate.find(pop)) {
      b.populate = c->value;
    } else {
      std::string names;
      for (const ChoiceValue<Populate>& v : kPopulate)
        names += (names.empty() ? "" : ", ") + std::string(v.name);
      fail(s.value("populate").loc, "populate", "expected one of " + names);
    }
    sc_.symbols.push_back({name, b.mm_id, b.va, b.size});
  }

  // ---- threads -------------------------------------------------------------------
  void thread_header(const ScriptStatement& s) {
    if (!s.is_block) {
      fail(s.loc, s.keyword, "expected ':' and the thread's program indented below it");
    }
    no_time(s);
  }
  std::string thread_name(const ScriptStatement& s) {
    const ScriptValue& v = s.at(0, "a thread name");
    const std::string name = script_symbol(v, "name");
    if (!thread_names_.insert(name).second) {
      fail(v.loc, "name", "thread '" + name + "' already exists");
    }
    return name;
  }
  // The count of a `repeat N:` statement, after checking its form.
  static uint64_t repeat_count(const ScriptStatement& c) {
    if (c.time_ps) fail(c.time_loc, "repeat", "'@time' is not allowed on repeat");
    c.check_args({}, 1);
    if (!c.is_block) fail(c.loc, "repeat", "expected ':' and the repeated operations below it");
    return c.integer_at(0, "a repeat count");
  }
  // Operations one pass over `body` unrolls to, where a pass of a repeat whose body
  // unrolls to nothing counts as one; saturates at UINT64_MAX.
  static uint64_t pass_cost(const std::vector<ScriptStatement>& body) {
    uint64_t total = 0;
    for (const ScriptStatement& c : body) {
      uint64_t cost = 1;
      if (c.keyword == "repeat") {
        const uint64_t n = repeat_count(c);
        const uint64_t each = std::max<uint64_t>(1, pass_cost(c.children));
        cost = n > UINT64_MAX / each ? UINT64_MAX : n * each;
      }
      total = cost > UINT64_MAX - total ? UINT64_MAX : total + cost;
    }
    return total;
  }
  // Calls `op` for every operation of a thread block in program order, unrolling
  // `repeat N:` blocks (nested ones too) and counting operations against the limit.
  // A repeat whose body unrolls to nothing counts one operation per pass and is
  // not iterated, so the work done here is bounded by the limit.
  void for_each_op(const std::vector<ScriptStatement>& body,
                   const std::function<void(const ScriptStatement&)>& op) {
    for (const ScriptStatement& c : body) {
      if (c.keyword == "repeat") {
        const uint64_t n = repeat_count(c);
        if (n > 0 && pass_cost(c.children) == 0) {
          count_ops(c, n);
          continue;
        }
        for (uint64_t i = 0; i < n; ++i) for_each_op(c.children, op);
        continue;
      }
      no_block(c);
      count_ops(c, 1);
      op(c);
    }
  }
  void count_ops(const ScriptStatement& s, uint64_t n) {
    total_ops_ = n > UINT64_MAX - total_ops_ ? UINT64_MAX : total_ops_ + n;
    if (total_ops_ > lim_.max_ops) {
      fail(s.loc, s.keyword,
           "too many operations after unrolling repeat blocks (at most " +
               std::to_string(lim_.max_ops) + "; a pass of an empty repeat counts as one)");
    }
  }

  void cpu_thread(const ScriptStatement& s) {
    thread_header(s);
    s.check_args({"core", "process", "hold"}, 1);
    CpuThreadSpec t;
    t.loc = s.loc;
    t.program.name = thread_name(s);
    const uint64_t core = s.integer("core");
    const ScriptLoc core_loc = s.value("core").loc;
    if (core >= lim_.cores) {
      fail(core_loc, "core",
           "core " + std::to_string(core) +
               " does not exist (cpu.cores = " + std::to_string(lim_.cores) + ")");
    }
    for (const CpuThreadSpec& o : sc_.cpu_threads) {
      if (o.core == static_cast<int>(core)) {
        fail(core_loc, "core",
             "core " + std::to_string(core) + " already runs '" + o.program.name + "' (line " +
                 std::to_string(o.loc.line) + "); one thread per core");
      }
    }
    t.core = static_cast<int>(core);
    t.program.mm_id = boot_process(s.value("process"), "process");
    if (s.has("hold")) t.program.preempt_hold_ns = to_ns(s.duration_ps("hold"));
    for_each_op(s.children, [&](const ScriptStatement& c) {
      ThreadOp op = decode_cpu_operation(c, *this);
      if (c.time_ps) op.at_ns = to_ns(*c.time_ps);
      if (op.op == find_cpu_operation("bind")) runtime_binds_.insert({t.program.mm_id, op.device});
      t.program.ops.push_back(op);
    });
    sc_.cpu_threads.push_back(std::move(t));
  }

  void dev_thread(const ScriptStatement& s) {
    thread_header(s);
    s.check_args({"device", "process"}, 1);
    DevThreadSpec t;
    t.loc = s.loc;
    t.name = thread_name(s);
    t.device = device(s.value("device"), "device");
    t.mm_id = boot_process(s.value("process"), "process");
    for_each_op(s.children, [&](const ScriptStatement& c) {
      if (c.time_ps) t.ops.push_back(ScriptOp::at_ns(to_ns(*c.time_ps)));
      t.ops.push_back(dev_op(c));
    });
    dev_threads_loc_.push_back(s.value("process").loc);
    sc_.dev_threads.push_back(std::move(t));
  }

  ScriptOp dev_op(const ScriptStatement& c) {
    const std::string& k = c.keyword;
    auto len = [&c]() {
      const uint64_t n = c.integer_or("len", 8);
      if (n == 0 || n > kPageBytes) fail(c.value("len").loc, "len", "expected 1..4096 bytes");
      if (n > 8 && c.keyword == "write") fail(c.value("len").loc, "len", "a write is 1..8 bytes");
      return static_cast<uint32_t>(n);
    };
    if (k == "read") {
      c.check_args({"offset", "len"}, 1);
      return ScriptOp::read(main_address(c), len());
    }
    if (k == "write") {
      c.check_args({"offset", "len", "value"}, 1);
      const uint64_t va = main_address(c);
      return ScriptOp::write(va, c.integer("value"), len());
    }
    if (k == "wait") {
      c.check_args({}, 1);
      return ScriptOp::wait_ns(to_ns(c.duration_ps_at(0, "a duration such as 100ns")));
    }
    if (k == "stop") {
      c.check_args({}, 0);
      return ScriptOp::stop_pasid();
    }
    fail(c.loc, k,
         "unknown device operation '" + k + "' (expected one of: read, write, wait, stop, repeat)");
  }

  void check_dev_thread_binds() {
    for (size_t i = 0; i < sc_.dev_threads.size(); ++i) {
      const DevThreadSpec& t = sc_.dev_threads[i];
      // Bound at boot, or by a bind operation of a CPU thread of the process (the
      // thread's accesses before that bind fail: its PASID is not programmed yet).
      if (!binds_.count({t.mm_id, t.device}) && !runtime_binds_.count({t.mm_id, t.device})) {
        const std::string p = sc_.processes[t.mm_id - 1];
        const std::string d = "device" + std::to_string(t.device);
        fail(dev_threads_loc_[i], "process",
             "process '" + p + "' is not bound to " + d + " (add 'bind " + p + " " + d +
                 "', or a 'bind " + d + "' operation in a cpu thread of " + p + ")");
      }
    }
  }

  ScenarioLimits lim_;
  Scenario sc_;
  std::map<std::string, uint32_t> process_ids_;
  std::set<uint32_t> boot_ids_;
  std::set<std::pair<uint32_t, size_t>> binds_;          // at boot
  std::set<std::pair<uint32_t, size_t>> runtime_binds_;  // by a CPU thread's bind
  std::set<std::string> thread_names_;
  std::vector<ScriptLoc> dev_threads_loc_;
  uint64_t total_ops_ = 0;
};

Scenario from_parse(const ScriptParseResult& r, const ScenarioLimits& lim) {
  if (!r.errors.empty()) {
    ConfigError first = r.errors.front();
    for (size_t i = 1; i < r.errors.size(); ++i) first.message += "\n" + r.errors[i].to_string();
    throw ScriptError(first);
  }
  return build_scenario(r.statements, lim);
}

}  // namespace

std::vector<std::string> scenario_keywords() {
  return {"cpu thread", "dev thread"};
}

Scenario build_scenario(const std::vector<ScriptStatement>& statements, const ScenarioLimits& lim) {
  return Builder(lim).build(statements);
}

Scenario load_scenario(const std::string& path, const ScenarioLimits& lim) {
  return from_parse(parse_script_file(path, scenario_keywords()), lim);
}

Scenario load_scenario_text(const std::string& text, const std::string& file,
                            const ScenarioLimits& lim) {
  return from_parse(parse_script(text, file, scenario_keywords()), lim);
}

}  // namespace iosim
