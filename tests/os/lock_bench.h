// Shared setup of the tests of the kernel synchronisation models (spin lock, rw
// semaphore, SRCU, completion) and of mm_struct and the MMU-notifier layer: the
// kernel context each test builds its objects on (TestOs, os_bench.h), the SystemC
// time names and thread helpers they use, the lock costs their expected times are
// computed from, and an MmStructConfig built from those costs.
//
// A test pulls the names in with `using namespace test;` inside its anonymous
// namespace; a constant it declares there itself (e.g. its own kWakeNs) hides the
// one below.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "os/diagnostics.h"
#include "os/mm_struct.h"
#include "sc_models/timing/server_pool.h"
#include "tests/os/os_bench.h"

namespace iosim::test {

using sc_core::sc_time;
using sc_core::sc_time_stamp;

constexpr double kLockNs = 10;   // mmap_lock / rmap lock acquisition
constexpr double kWakeNs = 100;  // wake-up latency of a sleeping thread

// mm_struct with `rmap_locks` rmap locks; the mmap_lock and every rmap lock cost
// kLockNs to take and kWakeNs to wake a sleeper. Other knobs keep their defaults.
inline MmStructConfig lock_test_mm_config(unsigned rmap_locks) {
  MmStructConfig c;
  c.rmap_locks = rmap_locks;
  c.mmap_lock.acquire_ns = kLockNs;
  c.mmap_lock.wakeup_latency_ns = kWakeNs;
  c.rmap_lock = c.mmap_lock;
  return c;
}

}  // namespace iosim::test
