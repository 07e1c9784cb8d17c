#include "sc_models/timing/sim_time.h"

#include <cstdint>

namespace iosim {

namespace {

// Units of `unit` in one second (1 for SC_SEC, 1e15 for SC_FS): exact in a uint64_t.
uint64_t units_per_second(sc_core::sc_time_unit unit) {
  uint64_t n = 1;
  for (int u = unit; u < sc_core::SC_SEC; ++u) n *= 1000;
  return n;
}

}  // namespace

const TickScale& tick_scale(sc_core::sc_time_unit unit) {
  // The resolution is fixed once read, so the scale of each unit is computed once.
  struct Entry {
    bool known = false;
    TickScale scale;
  };
  static Entry entries[sc_core::SC_SEC + 1];
  Entry& e = entries[unit];
  if (!e.known) {
    // Ticks in one second: the time resolution (IEEE 1666 allows a power of ten
    // seconds from 1 fs to 1 s) as an exact integer.
    const uint64_t ticks = sc_core::sc_time(1.0, sc_core::SC_SEC).value();
    const uint64_t units = units_per_second(unit);
    if (ticks >= units) {
      e.scale.div = static_cast<double>(ticks / units);
    } else {
      e.scale.mul = static_cast<double>(units / ticks);
    }
    e.known = true;
  }
  return e.scale;
}

double time_in(const sc_core::sc_time& t, sc_core::sc_time_unit unit) {
  const TickScale& s = tick_scale(unit);
  return static_cast<double>(t.value()) * s.mul / s.div;
}

}  // namespace iosim
