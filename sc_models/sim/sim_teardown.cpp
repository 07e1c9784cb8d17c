// Ending a simulation cleanly: kill the threads that are still suspended.
#include "sc_models/sim/sim_teardown.h"

#include <systemc>

#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define IOSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IOSIM_ASAN 1
#endif
#endif

#ifdef IOSIM_ASAN
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace iosim {

namespace {

bool is_thread(const sc_core::sc_process_handle& h) {
  return h.valid() && (h.proc_kind() == sc_core::SC_THREAD_PROC_ ||
                       h.proc_kind() == sc_core::SC_CTHREAD_PROC_);
}

// Every live thread process at or below `objects`, parents before their children.
void collect_threads(const std::vector<sc_core::sc_object*>& objects,
                     std::vector<sc_core::sc_process_handle>& out) {
  for (sc_core::sc_object* o : objects) {
    sc_core::sc_process_handle h(o);
    if (is_thread(h) && !h.terminated()) out.push_back(h);
    collect_threads(o->get_child_objects(), out);
  }
}

}  // namespace

size_t kill_live_threads() {
  std::vector<sc_core::sc_process_handle> threads;
  collect_threads(sc_core::sc_get_top_level_objects(), threads);
  const sc_core::sc_process_handle self = sc_core::sc_get_current_process_handle();
  size_t killed = 0;
  for (sc_core::sc_process_handle& h : threads) {
    // A thread killed earlier in this loop may have taken others with it (its
    // unwinding can end a child it owns), so look again before each kill.
    if (h == self || h.terminated()) continue;
    h.kill();
    ++killed;
  }
  return killed;
}

size_t end_simulation() {
  if (sc_core::sc_get_status() != sc_core::SC_PAUSED) return 0;
  size_t killed = 0;
  sc_core::sc_spawn_options opts;
  opts.spawn_method();
  sc_core::sc_spawn([&killed] { killed = kill_live_threads(); },
                    sc_core::sc_gen_unique_name("end_simulation"), &opts);
  sc_core::sc_start(sc_core::SC_ZERO_TIME);
  restore_main_stack_for_asan();
  return killed;
}

void restore_main_stack_for_asan() {
#ifdef IOSIM_ASAN
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* bottom = nullptr;
  size_t size = 0;
  const bool ok = pthread_attr_getstack(&attr, &bottom, &size) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) return;
  // A switch "to" the stack we are on: ASan records it as the current stack.
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, bottom, size);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

}  // namespace iosim
