// Simulated time as numbers: sc_time converted to nanoseconds, seconds or any unit.
//
// Every conversion starts from the integer tick count (sc_time::value()) and the
// time resolution, and does one rounding: ticks / div or ticks * mul, where div or
// mul is the exact number of ticks in the unit (or units in a tick). Round values
// therefore stay exact (100 ns -> 100.0, 1500 ps -> 1.5 ns), and the result depends
// only on the tick count, never on how a kernel implements sc_time::to_seconds(), so
// stats are byte-identical on every IEEE 1666 kernel (Accellera 2.3 and 3.0 compute
// to_seconds() differently, and to_seconds() * 1e9 rounds twice). Exact while the
// tick count fits a double's 53-bit mantissa: 2.5 simulated hours at 1 ps.
#pragma once

#include <systemc>

namespace iosim {

// How a tick count converts to a unit: ticks * mul / div, where one of the two is 1
// (x * 1 and x / 1 are exact). Fixed once computed: reading it fixes the time
// resolution.
struct TickScale {
  double mul = 1, div = 1;
};
const TickScale& tick_scale(sc_core::sc_time_unit unit);

// `t` in units of `unit` (SC_NS, SC_US, ...).
double time_in(const sc_core::sc_time& t, sc_core::sc_time_unit unit);

// time_in(t, SC_NS), inline for the hot paths (every histogram sample).
inline double time_in_ns(const sc_core::sc_time& t) {
  static const TickScale& s = tick_scale(sc_core::SC_NS);
  return static_cast<double>(t.value()) * s.mul / s.div;
}

// `t` in nanoseconds.
inline double to_ns(const sc_core::sc_time& t) {
  return time_in_ns(t);
}

// `t` in seconds.
inline double to_sec(const sc_core::sc_time& t) {
  return time_in(t, sc_core::SC_SEC);
}

}  // namespace iosim
