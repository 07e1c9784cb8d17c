// Tracing: one include for both trace outputs of the simulator.
//
// - ChromeTrace (chrome_trace.h): Chrome trace-event JSON for Perfetto /
//   chrome://tracing, one track per simulated thread or agent, streamed to a file.
// - Timeline (timeline.h): a text table of per-thread events per time step, in the
//   shape of the table in the kernel's mmu_notifier.rst.
//
// The platform's recorders (platform/trace_recorder.h, platform/timeline_recorder.h)
// build one of each per run; a disabled recording call is a branch.
#pragma once

#include "sc_models/observe/chrome_trace.h"
#include "sc_models/observe/timeline.h"
