// An address space (struct mm_struct), reduced to what the MMU-notifier layer and
// its locking need: an id, mmap_lock, the rmap locks that mm_take_all_locks() takes,
// the page-table lock, the mm_users/mm_count reference counts and the notifier
// subscriptions. The memory manager adds its own state (VMAs, page-table root, ...)
// to this class.
//
// Lifetime: mm_users counts the tasks (and mmget() users) of the address space; when
// the last one goes (mmput), exit_mmap() runs: the notifiers are released
// (mmu_notifier_release) and then exit_mmap_hook tears down the mappings. mm_count
// pins the structure itself (mmgrab/mmdrop); each registered subscription and each
// inserted interval holds one. mmput() must be called from a SystemC thread, since
// release callbacks may sleep.
//
// Simplifications: the rmap locks are a configurable number of rw semaphores standing
// for the i_mmap_rwsem/anon_vma locks of all VMAs; one page-table lock per mm (split
// PTE locks can be added as further SpinLocks of kind kPageTable); the C++ object is
// not freed when mm_count reaches zero, it is only marked freed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "os/mmu_notifier_subscriptions.h"
#include "os/rw_semaphore.h"
#include "os/spin_lock.h"

namespace iosim {

class OsContext;

struct MmStructConfig {
  // Rmap locks taken by mm_take_all_locks() (one per file mapping / anon_vma).
  unsigned rmap_locks = 1;
  RwSemaphoreConfig mmap_lock;
  RwSemaphoreConfig rmap_lock;
  SpinLockConfig page_table_lock;
  MmuNotifierConfig notifier;

  template <class V>
  void visit(V& v) {
    v("rmap_locks", rmap_locks, "locks", "rmap locks (i_mmap_rwsem/anon_vma) of the mm");
    v.section("mmap_lock", mmap_lock);
    v.section("rmap_lock", rmap_lock);
    v.section("page_table_lock", page_table_lock);
    v.section("notifier", notifier);
  }
};

class MmStruct {
 public:
  static constexpr unsigned kMaxRmapLocks = 4096;

  // `os`: the kernel the address space belongs to (its threads take the locks, its
  // diagnostics log receives the reports). Throws ParamError for an invalid configuration.
  MmStruct(OsContext& os, uint32_t id, const MmStructConfig& cfg = {});
  MmStruct(const MmStruct&) = delete;
  MmStruct& operator=(const MmStruct&) = delete;

  OsContext& context() const { return os_; }
  uint32_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const MmStructConfig& config() const { return cfg_; }

  RwSemaphore mmap_lock;
  SpinLock page_table_lock;

  unsigned rmap_lock_count() const { return static_cast<unsigned>(rmap_locks_.size()); }
  RwSemaphore& rmap_lock(unsigned i) { return *rmap_locks_.at(i); }
  // Whether the calling thread holds any rmap lock (read or write).
  bool rmap_lock_held_by_current() const;
  // mm_take_all_locks(): the caller holds mmap_lock for write; takes every rmap lock
  // for write, waiting for the holders (e.g. reclaim inside a start/end section).
  int mm_take_all_locks();
  void mm_drop_all_locks();

  MmuNotifierSubscriptions& notifier_subscriptions() { return subscriptions_; }
  const MmuNotifierSubscriptions& notifier_subscriptions() const { return subscriptions_; }

  // --- reference counts ---
  int users() const { return users_; }  // mm_users
  int count() const { return count_; }  // mm_count
  void mmget();
  bool mmget_not_zero();
  void mmput();  // the last one runs exit_mmap()
  void mmgrab();
  void mmdrop();
  bool exited() const { return exited_; }
  bool freed() const { return freed_; }

  // Runs in exit_mmap() after the notifiers are released (unmapping, freeing pages).
  std::function<void(MmStruct&)> exit_mmap_hook;

 private:
  void exit_mmap();

  OsContext& os_;
  uint32_t id_;
  std::string name_;
  MmStructConfig cfg_;
  std::vector<std::unique_ptr<RwSemaphore>> rmap_locks_;
  int users_ = 1;
  int count_ = 1;  // one for all users
  bool exited_ = false;
  bool freed_ = false;
  MmuNotifierSubscriptions subscriptions_;
};

}  // namespace iosim
