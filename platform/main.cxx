// iommu-sim: command-line front end. The simulator itself lives in the platform
// library (platform/cli.h, platform/system_simulation.h) so it can be embedded in
// another SystemC platform.
#include "platform/cli.h"
#include "platform/system_simulation.h"

#include <systemc>

#include <iostream>

int sc_main(int argc, char* argv[]) {
  iosim::SystemSimulation simulation;
  iosim::CliEnvironment env;
  env.simulation = &simulation;
  return iosim::run_cli(argc, argv, env, std::cout, std::cerr);
}
