// A PCIe device (ATS off) streaming 100 64-byte DMA reads into physical memory.
#include "device/device.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/sim/sim_context.h"
#include <iostream>
#include <tlm_utils/simple_initiator_socket.h>

struct RootPort : sc_core::sc_module {  // sends the device no messages
  tlm_utils::simple_initiator_socket<RootPort> down{"down"};
  explicit RootPort(sc_core::sc_module_name n) : sc_module(n) {}
};

int sc_main(int, char*[]) {
  iosim::SimContext ctx;  // the statistics of the modules built with it
  iosim::PhysicalMemory memory("memory", {});
  iosim::DeviceConfig cfg;
  cfg.ats_enabled = cfg.pri_enabled = cfg.pasid_enabled = false;
  cfg.threads.resize(1);
  cfg.threads[0].has_pasid = false;
  cfg.threads[0].request_count = 100;
  iosim::Device device("device", ctx, cfg);
  RootPort root("root");
  device.upstream.bind(memory.socket);
  root.down.bind(device.downstream);
  sc_core::sc_start();
  std::cout << "memory reads " << memory.reads() << " in "
            << iosim::to_ns(sc_core::sc_time_stamp()) << " ns\n";
  return 0;
}
