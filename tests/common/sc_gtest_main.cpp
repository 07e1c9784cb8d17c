// GoogleTest entry point for SystemC test programs: libsystemc provides main() and
// calls sc_main(), which runs the selected tests.
#include <gtest/gtest.h>
#include <systemc>

int sc_main(int argc, char* argv[]) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
