// The MMU-notifier layer of one mm (struct mmu_notifier_subscriptions and the
// functions of mm/mmu_notifier.c), in simulated time. Called by the memory manager
// (range start/end, arch_invalidate_secondary_tlbs, young, release) and by secondary
// MMUs (register, get/put, interval insert/remove).
//
// Models: the subscription list (new subscriptions at the head, so callbacks run in
// reverse registration order) traversed under SRCU, so a traversal skips entries
// removed since it began and freeing waits for a grace period; invalidate_range_start
// (may sleep) and _nonblock (a failing start returns -EAGAIN, the others are still
// called and those with an end op get it from the layer at once);
// arch_invalidate_secondary_tlbs at the PTE clear/flush point under a page-table lock;
// the young callbacks (clear_*young OR all results, test_young stops at the first
// non-zero); release at exit_mmap (interval subscribers get a RELEASE invalidation,
// list subscribers release() and are unhashed); get/put with SRCU-deferred freeing;
// registration under mmap_lock (write) plus mm_take_all_locks(), which waits out every
// active range_start..range_end section (register_take_all_locks = false shows the
// race of Arcangeli's "Core of mmu notifiers" review, 2008); interval notifiers
// (MmuIntervalTree); unregister calls release unless done and waits for callbacks.
//
// Checks, reported as Diagnostics: refused registrations (arch_invalidate together
// with start/end; a start that may fail together with end), a failing start in a
// blockable range or with an end op, an end without start, a secondary mapping made
// inside an active window (check_secondary_mapping), range calls without mmap_lock or
// an rmap lock, arch_invalidate without a page-table lock, sleeping where forbidden.
//
// Timing: the layer costs no simulated time besides locks and wake-ups; callbacks
// charge their own. Simplifications and deviations: the subscriptions object lives as
// long as the mm; one SRCU domain per mm; a failing non-blocking start also ends the
// interval-tree section it entered (the kernel leaves it counted active); an end that
// matches no start leaves the interval-tree count alone (the kernel would corrupt it);
// non-blockable interval invalidate() calls run in a non-block section.
#pragma once

#include <systemc>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "os/exec_context.h"
#include "os/mmu_interval_notifier.h"
#include "os/mmu_interval_tree.h"
#include "os/mmu_notifier.h"
#include "os/mmu_notifier_range.h"
#include "os/srcu.h"

namespace iosim {

class MmStruct;
class OsContext;

struct MmuNotifierConfig {
  // Registration takes all rmap locks (mm_take_all_locks) and so excludes in-flight
  // range_start..range_end sections. false reproduces the race of the 2008 "Core of mmu notifiers"
  // review.
  bool register_take_all_locks = true;
  // Report range start/end called without mmap_lock or an rmap lock held.
  bool check_range_locking = true;
  // Minimum SRCU grace period. 0: a grace period ends exactly when the last reader
  // that predates it leaves (the model has no per-CPU counter flips to charge).
  double srcu_grace_period_ns = 0.0;
  // Wake-up latency of threads sleeping in read_begin, interval remove and synchronize.
  double wakeup_latency_ns = kDefaultWakeupLatencyNs;

  template <class V>
  void visit(V& v) {
    v("register_take_all_locks", register_take_all_locks, "",
      "registration takes all rmap locks, excluding in-flight invalidations");
    v("check_range_locking", check_range_locking, "",
      "report range start/end without mmap_lock or an rmap lock held");
    v("srcu_grace_period_ns", srcu_grace_period_ns, "ns", "minimum SRCU grace period");
    v("wakeup_latency_ns", wakeup_latency_ns, "ns",
      "wake-up latency of threads sleeping on the notifier wait queue or SRCU");
  }
};

class MmuNotifierSubscriptions {
 public:
  // `os`: the kernel of `mm` (its threads' state, its diagnostics).
  MmuNotifierSubscriptions(OsContext& os, MmStruct& mm, const MmuNotifierConfig& cfg);
  MmuNotifierSubscriptions(const MmuNotifierSubscriptions&) = delete;
  MmuNotifierSubscriptions& operator=(const MmuNotifierSubscriptions&) = delete;

  // mm_has_notifiers()
  bool has_notifiers() const { return has_itree_ || !list_.empty(); }
  bool has_itree() const { return has_itree_; }

  // --- called by the memory manager ---
  void invalidate_range_start(MmuNotifierRange& r);
  int invalidate_range_start_nonblock(MmuNotifierRange& r);
  void invalidate_range_end(MmuNotifierRange& r);
  void arch_invalidate_secondary_tlbs(uint64_t start, uint64_t end);
  int clear_flush_young(uint64_t start, uint64_t end);
  int clear_young(uint64_t start, uint64_t end);
  int test_young(uint64_t address);
  // mmu_notifier_release(), from exit_mmap.
  void release();

  // --- list subscribers ---
  // mmu_notifier_register(): takes mmap_lock for write. nullptr registers the interval
  // tree only. 0 or -EINVAL (refused; see Diagnostics for the reason).
  int register_notifier(MmuNotifier* sub);
  // __mmu_notifier_register(): the caller holds mmap_lock for write.
  int register_notifier_locked(MmuNotifier* sub);
  void unregister(MmuNotifier& sub);
  // mmu_notifier_get(): the subscription of the same type as `ops`, or a new one from
  // ops.alloc_notifier(). nullptr on error (*err = -EINVAL/-ENOMEM/-EOVERFLOW).
  MmuNotifier* get(const MmuNotifier& ops, int* err = nullptr);
  MmuNotifier* get_locked(const MmuNotifier& ops, int* err = nullptr);
  void put(MmuNotifier& sub);
  // mmu_notifier_synchronize(): waits until every put() has been freed.
  void synchronize();

  // --- interval subscribers ---
  int interval_insert(MmuIntervalNotifier& sub, uint64_t start, uint64_t length);
  int interval_insert_locked(MmuIntervalNotifier& sub, uint64_t start, uint64_t length);
  void interval_remove(MmuIntervalNotifier& sub);
  uint64_t interval_read_begin(MmuIntervalNotifier& sub);

  // --- checker ---
  // A secondary MMU (`who`) reports that it established a mapping of `address`. Returns
  // false, and reports kSpteInsideRange, if an invalidation of it is in progress.
  bool check_secondary_mapping(const std::string& who, uint64_t address);
  // The same for list subscriber `sub`, judging only the active ranges that began
  // before its registration: their start never reached it, so nothing of its own keeps
  // the mapping out (the 2008 review's registration race). A range it has been or will
  // be called for is its own protocol's business (a driver that counts ranges in
  // progress from its start callback).
  bool check_secondary_mapping(const MmuNotifier& sub, uint64_t address);

  // --- introspection ---
  std::vector<MmuNotifier*> subscribers() const { return list_; }  // call order
  size_t active_ranges() const { return active_.size(); }
  // The event of the innermost invalidate_range_start..end window the calling thread
  // has open (the range an arch_invalidate_secondary_tlbs call runs inside); nullopt
  // when it has none.
  std::optional<MmuNotifierEvent> current_range_event() const;
  const MmuIntervalTree& itree() const { return itree_; }
  Srcu& srcu() { return srcu_; }
  const MmuNotifierConfig& config() const { return cfg_; }

 private:
  struct ActiveRange {
    uint64_t token;
    uint64_t start;
    uint64_t end;
    MmuNotifierEvent event;
    std::string thread;
    bool itree_started;
  };

  ActiveRange* open_range(MmuNotifierRange& r);
  ActiveRange* find_range(uint64_t token);
  void close_range(uint64_t token);
  void check_range_locks(const char* who);
  int start_common(MmuNotifierRange& r);
  int itree_invalidate(const MmuNotifierRange& r);
  bool call_interval(MmuIntervalNotifier& sub, const MmuNotifierRange& r, uint64_t cur_seq);
  int hlist_start(MmuNotifierRange& r);
  void note_start_failure(MmuNotifier& sub, const MmuNotifierRange& r, int ret);
  void hlist_end(const MmuNotifierRange& r, bool cleanup);
  void deliver_end(MmuNotifier& sub, const MmuNotifierRange& r);
  void itree_release();
  void hlist_release();
  int check_registration(const MmuNotifier& sub);
  int interval_insert_common(MmuIntervalNotifier& sub, uint64_t start, uint64_t length);
  void destroy_owned(MmuNotifier* sub);
  void unhash(MmuNotifier& sub);
  void free_subscription(MmuNotifier* sub);
  template <class F>
  auto call_op(MmuNotifier& sub, MmuNotifierOp op, F&& fn);
  void sleep_on_seq(uint64_t seq, const char* what);

  OsContext& os_;
  MmStruct& mm_;
  MmuNotifierConfig cfg_;
  std::vector<MmuNotifier*> list_;                   // head first
  std::vector<std::unique_ptr<MmuNotifier>> owned_;  // allocated by get()
  bool has_itree_ = false;
  MmuIntervalTree itree_;
  Srcu srcu_;
  std::vector<ActiveRange> active_;
  uint64_t next_token_ = 1;
};

// --- kernel-named entry points (include/linux/mmu_notifier.h) ---
void mmu_notifier_invalidate_range_start(MmuNotifierRange& r);
int mmu_notifier_invalidate_range_start_nonblock(MmuNotifierRange& r);
void mmu_notifier_invalidate_range_end(MmuNotifierRange& r);
void mmu_notifier_arch_invalidate_secondary_tlbs(MmStruct& mm, uint64_t start, uint64_t end);
int mmu_notifier_clear_flush_young(MmStruct& mm, uint64_t start, uint64_t end);
int mmu_notifier_clear_young(MmStruct& mm, uint64_t start, uint64_t end);
int mmu_notifier_test_young(MmStruct& mm, uint64_t address);
void mmu_notifier_release(MmStruct& mm);
int mmu_notifier_register(MmuNotifier* sub, MmStruct& mm);
void mmu_notifier_unregister(MmuNotifier& sub, MmStruct& mm);
MmuNotifier* mmu_notifier_get(const MmuNotifier& ops, MmStruct& mm, int* err = nullptr);
void mmu_notifier_put(MmuNotifier& sub);
int mmu_interval_notifier_insert(MmuIntervalNotifier& sub, MmStruct& mm, uint64_t start,
                                 uint64_t length);
void mmu_interval_notifier_remove(MmuIntervalNotifier& sub);
uint64_t mmu_interval_read_begin(MmuIntervalNotifier& sub);

}  // namespace iosim
