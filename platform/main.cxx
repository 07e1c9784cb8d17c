// iommu-sim: command-line front end. The simulator itself lives in the platform
// library (platform/cli.h) so it can be embedded in another SystemC platform.
#include "platform/cli.h"

#include <systemc>

#include <iostream>

int sc_main(int argc, char* argv[]) {
  // No system builder exists yet: run_cli reports that for anything but
  // --help and --version.
  iosim::CliEnvironment env;
  return iosim::run_cli(argc, argv, env, std::cout, std::cerr);
}
