// GoogleTest entry point for SystemC test programs: libsystemc provides main() and
// calls sc_main(), which runs the selected tests.
//
// The test benches end their simulations themselves (run_thread() in tlm_bench.h
// kills the threads still waiting while the test's objects are alive). Here, after
// the tests, AddressSanitizer is only told again which stack sc_main runs on, so
// that LeakSanitizer's exit-time scan does not read the freed stack of a thread
// that ended last (sc_models/sim/sim_teardown.h).
#include <gtest/gtest.h>
#include <systemc>

#include "sc_models/sim/sim_teardown.h"

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  const int status = RUN_ALL_TESTS();
  iosim::restore_main_stack_for_asan();
  return status;
}
