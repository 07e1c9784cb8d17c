// Ending a simulation cleanly: no thread process left suspended with live locals.
//
// A SystemC thread that is still waiting when the simulation ends (a DMA thread that
// ran out of time, a driver waiting for a completion that never came, a server loop
// waiting for work) keeps the locals of every frame on its coroutine stack: a
// descriptor vector, a reservation, a payload. Nothing ever destroys them, so the
// memory they own is never given back. These helpers kill such threads through the
// IEEE 1666 API (sc_process_handle::kill(), IEEE 1666-2011 5.6.6.6): the kernel
// throws sc_unwind_exception in each one, its stack unwinds as on a normal return,
// and the destructors of its locals run. The processes are found by walking the
// object hierarchy from sc_get_top_level_objects() through get_child_objects().
//
// Call them while the objects the threads refer to are still alive (before the
// modules are destroyed). Killing runs the destructors of the threads' locals and
// nothing else; no model code runs after a kill.
//
// AddressSanitizer: libsystemc 2.3.4 announces its coroutine switches to ASan, but
// after a thread ends (returns or is killed) ASan can be left believing that the
// host thread still runs on that thread's coroutine stack. Once the stack is freed,
// LeakSanitizer's exit-time scan reads unmapped memory and crashes ("Tracer caught
// signal 11"). restore_main_stack_for_asan() announces the real stack again; call it
// from sc_main once sc_start() has returned (end_simulation() does).
//
// SystemC 2.3.x cannot kill a thread from sc_main (the kill is carried out by
// preempting the caller, which must be a process), so end_simulation() does it from
// a method process spawned for one delta cycle.
#pragma once

#include <cstddef>

namespace iosim {

// Kills every thread process (SC_THREAD, SC_CTHREAD, spawned threads) that has not
// terminated, except the calling process; returns how many were killed. Call from a
// process (thread or method) while the simulation runs.
size_t kill_live_threads();

// From sc_main, after sc_start() has returned with the simulation paused (time
// limit reached, starvation, sc_pause()): kills the live threads as above from a
// method process run for one delta cycle at the current time (the kernel runs a
// delta's methods before its threads, so no killed thread runs again). The
// simulation stays paused.
// Returns how many threads were killed. Does nothing (returns 0) when the
// simulation has not started or has stopped.
size_t end_simulation();

// From sc_main: tells AddressSanitizer that the caller runs on the host thread's own
// stack (see above). Does nothing in a build without AddressSanitizer.
void restore_main_stack_for_asan();

}  // namespace iosim
