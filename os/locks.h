// The kernel locking primitives of the OS model in one include: SpinLock (spinlock_t,
// e.g. the page-table lock), RwSemaphore (mmap_lock and the rmap locks), Completion,
// and the per-thread ExecContext that tracks atomic context.
#pragma once

#include "os/completion.h"
#include "os/exec_context.h"
#include "os/rw_semaphore.h"
#include "os/spin_lock.h"
