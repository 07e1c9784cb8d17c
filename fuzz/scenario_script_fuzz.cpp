// libFuzzer target: the scenario-script reader (platform/script_parser.h, and the
// scenario builder of platform/scenario.h that checks the statements and unrolls
// repeat blocks) on arbitrary text.
//
// A bad script must end in a ScriptError naming its position; any other exception,
// a crash, a sanitizer report or a hang is a finding. The script language reads no
// files, so every input is safe to run.
#include "platform/scenario.h"
#include "platform/script_ast.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

// A small system, so that core, device and process numbers in the inputs hit both
// sides of each limit; max_ops keeps one input's unrolled program short.
iosim::ScenarioLimits limits() {
  iosim::ScenarioLimits lim;
  lim.cores = 4;
  lim.devices = 2;
  lim.max_ops = 10000;
  lim.workload_processes = 1;
  lim.workload_base_va = 0x10000000;
  lim.workload_window_bytes = 0x100000;
  return lim;
}

}  // namespace

// The scenario types use SystemC's time type, so libsystemc is linked, and it
// refers to sc_main (its own main() would call it). libFuzzer's main() is the one
// that runs; this only satisfies the reference.
int sc_main(int, char**) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)iosim::load_scenario_text(text, "fuzz.scn", limits());
  } catch (const iosim::ScriptError& e) {
    (void)e.what();
  }
  return 0;
}
