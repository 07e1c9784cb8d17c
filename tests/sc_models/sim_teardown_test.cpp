// sim_teardown tests: threads still suspended when a simulation ends are killed and
// unwind (their locals' destructors run), from sc_main and from a process; the
// caller and threads that never ran are handled; nothing happens before the
// simulation starts or after it stopped.
#include <gtest/gtest.h>

#include "sc_models/sim/sim_teardown.h"

#include <systemc>

#include <memory>
#include <vector>

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

// Counts its own destruction: a stand-in for a thread's locals.
struct Local {
  int* destroyed;
  std::vector<int> owned = std::vector<int>(64, 1);  // heap memory a leak check would see
  ~Local() { ++*destroyed; }
};

struct Waiters : sc_core::sc_module {
  sc_core::sc_event never;
  int destroyed = 0;
  bool late_ran = false;

  SC_CTOR(Waiters) {
    SC_THREAD(waits_for_event);
    SC_THREAD(waits_for_time);
    SC_THREAD(never_started);
    dont_initialize();
    sensitive << never;
  }
  void waits_for_event() {
    Local l{&destroyed};
    sc_core::wait(never);
  }
  void waits_for_time() {
    Local l{&destroyed};
    sc_core::wait(sc_time(1, sc_core::SC_SEC));
  }
  void never_started() { late_ran = true; }
};

std::vector<sc_core::sc_process_handle> threads_of(const sc_core::sc_object& o) {
  std::vector<sc_core::sc_process_handle> out;
  for (sc_core::sc_object* c : o.get_child_objects()) {
    sc_core::sc_process_handle h(c);
    if (h.valid()) out.push_back(h);
  }
  return out;
}

TEST(SimTeardown, EndSimulationUnwindsEverySuspendedThread) {
  Waiters w("w");
  int spawned_destroyed = 0;
  // A spawned thread that spawns a child, both left waiting.
  sc_core::sc_process_handle parent = sc_core::sc_spawn(
      [&] {
        sc_core::sc_spawn(
            [&] {
              Local l{&spawned_destroyed};
              sc_core::wait(sc_time(1, sc_core::SC_SEC));
            },
            "child");
        Local l{&spawned_destroyed};
        sc_core::wait(sc_time(1, sc_core::SC_SEC));
      },
      "parent");
  sc_core::sc_start(sc_time(10, SC_NS));
  ASSERT_EQ(w.destroyed, 0);
  ASSERT_EQ(spawned_destroyed, 0);

  EXPECT_EQ(end_simulation(), 5u);  // three of w, parent, child
  EXPECT_EQ(w.destroyed, 2);
  EXPECT_EQ(spawned_destroyed, 2);
  EXPECT_FALSE(w.late_ran);  // killed without ever running
  for (const sc_core::sc_process_handle& h : threads_of(w)) EXPECT_TRUE(h.terminated()) << h.name();
  EXPECT_TRUE(parent.terminated());
  for (const sc_core::sc_process_handle& h : threads_of(*parent.get_process_object())) {
    EXPECT_TRUE(h.terminated()) << h.name();
  }
  // Simulated time did not move, and a second call finds nothing left.
  EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(10, SC_NS));
  EXPECT_EQ(end_simulation(), 0u);
}

TEST(SimTeardown, KillLiveThreadsFromAThreadSparesTheCaller) {
  Waiters w("w");
  size_t killed = 0;
  bool caller_went_on = false;
  sc_core::sc_spawn(
      [&] {
        sc_core::wait(sc_time(5, SC_NS));
        killed = kill_live_threads();
        caller_went_on = true;
        sc_core::sc_stop();
      },
      "stopper");
  sc_core::sc_start(sc_time(10, SC_NS));
  EXPECT_EQ(killed, 3u);
  EXPECT_TRUE(caller_went_on);
  EXPECT_EQ(w.destroyed, 2);
  EXPECT_FALSE(w.late_ran);
  EXPECT_EQ(sc_core::sc_get_status(), sc_core::SC_STOPPED);
  EXPECT_EQ(end_simulation(), 0u);  // stopped: nothing to do
}

TEST(SimTeardown, EndSimulationBeforeTheStartDoesNothing) {
  Waiters w("w");
  EXPECT_EQ(end_simulation(), 0u);
  EXPECT_EQ(w.destroyed, 0);
  EXPECT_EQ(sc_core::sc_get_status(), sc_core::SC_ELABORATION);
}

}  // namespace
}  // namespace iosim
