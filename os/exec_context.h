// Per-thread execution context of the OS model: what a kernel thread running on a
// core is allowed to do right now.
//
// Every SystemC thread that executes OS code (an SC_THREAD or an sc_spawn'ed
// process standing for a kernel thread on a core) has one ExecContext, kept by the
// kernel's OsContext (OsContext::current(), os/os_context.h). It tracks
// the "atomic context" state the kernel tracks in preempt_count and
// current->non_block_count:
//   - preempt_count: spin locks held (and explicit preempt_disable()); the page-table
//     locks among them are counted separately so "is a PTL held here" can be asked;
//   - non_block_count: non_block_start()/end() sections, used around non-blockable
//     MMU-notifier callbacks.
// might_sleep() reports a kSleepInAtomic diagnostic when sleeping is not allowed.
//
// Waiting comes in three flavours, all in simulated time:
//   - sleep_on()/sleep_for(): the thread blocks (waits on an sc_event); checks might_sleep;
//   - spin_until()/spin_for(): busy-waiting, allowed in atomic context, accounted as spin;
//   - run_for(): executing instructions for a given time.
//
// Frames (RAII labels such as "sva.arch_invalidate_secondary_tlbs") say what the
// thread is executing, so a diagnostic names the callback that broke a rule.
//
// Simplifications: no scheduler (a sleeping thread does not free its core for other
// work), no interrupts or softirq contexts, no lockdep dependency graph.
#pragma once

#include <systemc>

#include <cstdint>
#include <string>
#include <vector>

namespace iosim {

class OsContext;

// Scheduler wake-up latency used as the default for sleeping locks and wait queues:
// a thread-to-thread switch through a pipe ping-pong costs ~1.07 us on Linux 6.6 on an
// 11th-gen Core i7 (ddumbying.vercel.app/experiments/ctx-switch-overhead).
constexpr double kDefaultWakeupLatencyNs = 1000.0;

class ExecContext {
 public:
  // A context of the kernel `os`, whose diagnostics log receives its reports.
  ExecContext(OsContext& os, std::string name) : os_(os), name_(std::move(name)) {}
  ExecContext(const ExecContext&) = delete;
  ExecContext& operator=(const ExecContext&) = delete;

  const std::string& name() const { return name_; }

  // The core this thread runs on (smp_processor_id()); -1 until a core sets it.
  int cpu() const { return cpu_; }
  void set_cpu(int cpu) { cpu_ = cpu; }

  // --- atomic-context state ---
  void preempt_disable() { ++preempt_count_; }
  void preempt_enable();
  unsigned preempt_count() const { return preempt_count_; }
  void page_table_lock_acquired() { ++ptl_held_; }
  void page_table_lock_released();
  unsigned page_table_locks_held() const { return ptl_held_; }
  void non_block_start() { ++non_block_count_; }
  void non_block_end();
  unsigned non_block_count() const { return non_block_count_; }
  bool in_atomic() const { return preempt_count_ > 0; }
  bool may_sleep() const { return preempt_count_ == 0 && non_block_count_ == 0; }

  // Reports a kSleepInAtomic diagnostic naming `what` when sleeping is not allowed
  // here. Returns may_sleep().
  bool might_sleep(const char* what);

  // --- waiting in simulated time ---
  // Sleeps until `ev` fires (might_sleep is checked first).
  void sleep_on(const sc_core::sc_event& ev, const char* what);
  // Sleeps until done() is true, re-checking each time `ev` fires (wait_event()).
  // might_sleep is checked once, whether or not the thread actually blocks.
  template <class Done>
  void sleep_until(const Done& done, const sc_core::sc_event& ev, const char* what) {
    might_sleep(what);
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    while (!done()) sc_core::wait(ev);
    sleep_time_ += sc_core::sc_time_stamp() - t0;
  }
  // Sleeps for a fixed time (msleep, usleep_range).
  void sleep_for(const sc_core::sc_time& t, const char* what);
  // Busy-waits until done() is true, re-checking each time `ev` fires. Allowed in
  // atomic context; the time is accounted as spin time.
  template <class Done>
  void spin_until(const Done& done, const sc_core::sc_event& ev) {
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    while (!done()) sc_core::wait(ev);
    spin_time_ += sc_core::sc_time_stamp() - t0;
  }
  // Busy-waits for a fixed time (udelay, a polling loop).
  void spin_for(const sc_core::sc_time& t);
  // Executes instructions for `t`.
  void run_for(const sc_core::sc_time& t);
  // Executes the time accumulated in `pending` (work done since the last action other
  // processes can observe) and resets it.
  void charge(sc_core::sc_time& pending) {
    run_for(pending);
    pending = sc_core::SC_ZERO_TIME;
  }
  // Before reading state other processes change: executes `pending` unless no other
  // process can run before it ends (the state read now is then the state at its end,
  // and `pending` stays for a later charge).
  void keep_up(sc_core::sc_time& pending);

  // --- frames ---
  // A label naming what the thread executes while the frame lives: `label`, or
  // `owner` + "." + `label`. Nothing is copied: both must outlive the frame (string
  // literals, names of the objects called); where() builds the text when asked.
  class Frame {
   public:
    Frame(ExecContext& ctx, const char* label);
    Frame(ExecContext& ctx, const std::string& owner, const char* label);
    ~Frame();
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;

   private:
    ExecContext& ctx_;
  };
  // Innermost frame label, "" when none.
  const std::string& where() const;

  // --- accounting ---
  sc_core::sc_time spin_time() const { return spin_time_; }
  sc_core::sc_time sleep_time() const { return sleep_time_; }
  uint64_t sleep_violations() const { return sleep_violations_; }

 private:
  OsContext& os_;
  std::string name_;
  int cpu_ = -1;
  unsigned preempt_count_ = 0;
  unsigned ptl_held_ = 0;
  unsigned non_block_count_ = 0;
  struct FrameLabel {
    const std::string* owner;  // nullptr: the label alone
    const char* label;
  };
  std::vector<FrameLabel> frames_;
  mutable std::string where_;  // where()'s text
  sc_core::sc_time spin_time_ = sc_core::SC_ZERO_TIME;
  sc_core::sc_time sleep_time_ = sc_core::SC_ZERO_TIME;
  uint64_t sleep_violations_ = 0;
};

}  // namespace iosim
