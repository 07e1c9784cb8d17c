// iommu-sim: command-line front end. The simulator itself lives in the platform
// library (platform/cli.h, platform/system_simulation.h) so it can be embedded in
// another SystemC platform.
#include "platform/cli.h"
#include "platform/system_simulation.h"

#include <systemc>

#include <cstdlib>
#include <iostream>

int sc_main(int argc, char* argv[]) {
  iosim::SystemSimulation simulation;
  iosim::CliEnvironment env;
  env.simulation = &simulation;
  return iosim::run_cli(argc, argv, env, std::cout, std::cerr);
}

// The program's own entry point: the SystemC kernel prints a copyright banner when it
// starts unless SYSTEMC_DISABLE_COPYRIGHT_MESSAGE is set, and that banner would mix with
// the summary, --list-params tables and sweep CSVs. A user who wants it can set the
// variable to 0.
int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}
