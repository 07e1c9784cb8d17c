// iommu-sim: command-line front end. The simulator itself lives in the platform
// library so it can be embedded in another SystemC platform.
#include <systemc>

#include <cstring>
#include <iostream>

int sc_main(int argc, char* argv[]) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::cout << "iommu-sim 0.1.0 (SystemC " << sc_core::sc_version() << ")\n";
      return 0;
    }
  }
  std::cerr << "iommu-sim: the platform (configs, scenarios) is not built yet; only --version "
               "works in this version\n";
  return 2;
}
