// Processes of a module, created in its constructor with sc_spawn (IEEE 1666-2011
// 5.5), the form every IEEE 1666 kernel accepts for a module whose constructor takes
// more than a name: SC_THREAD and SC_METHOD there need SC_HAS_PROCESS, which IEEE
// 1666-2023 deprecates. A process spawned during elaboration is a static process,
// named and scheduled as SC_THREAD or SC_METHOD would make it.
//
// A thread is sc_core::sc_spawn([this] { run(); }, "run"). A method that runs each
// time an event is notified (and not at initialisation) is spawn_method_on below.
#pragma once

#include <systemc>

#include <utility>

namespace iosim {

// Runs `body` as a method process named `name`, statically sensitive to `trigger`,
// not run at initialisation (SC_METHOD + sensitive << trigger + dont_initialize()).
// `trigger` is an event, or an event finder of a port (IEEE 1666-2011 5.7: the event
// is found when the port is bound, as with `sensitive << port.finder`).
template <class Trigger, class F>
sc_core::sc_process_handle spawn_method_on(Trigger& trigger, const char* name, F body) {
  sc_core::sc_spawn_options opts;
  opts.spawn_method();
  opts.set_sensitivity(&trigger);
  opts.dont_initialize();
  return sc_core::sc_spawn(std::move(body), name, &opts);
}

}  // namespace iosim
