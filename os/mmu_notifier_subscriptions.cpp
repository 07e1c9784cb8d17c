#include "os/mmu_notifier_subscriptions.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <typeinfo>

#include "os/mm_struct.h"
#include "os/os_context.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

namespace {

constexpr uint32_t kRangeOps =
    MmuNotifier::kInvalidateRangeStart | MmuNotifier::kInvalidateRangeEnd;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string describe(uint64_t start, uint64_t end, MmuNotifierEvent event) {
  return "[" + hex(start) + ", " + hex(end) + ") " + mmu_notifier_event_name(event);
}

unsigned event_index(const MmuNotifierRange& r) {
  return static_cast<unsigned>(r.event);
}

// Per-callback accounting shared by list and interval subscribers.
struct CallbackTimer {
  ExecContext& ctx;
  bool under_ptl;
  uint64_t violations;
  sc_core::sc_time t0;

  explicit CallbackTimer(ExecContext& thread)
      : ctx(thread),
        under_ptl(ctx.page_table_locks_held() > 0),
        violations(ctx.sleep_violations()),
        t0(sc_core::sc_time_stamp()) {}
  sc_core::sc_time elapsed() const { return sc_core::sc_time_stamp() - t0; }
  bool slept_illegally() const { return ctx.sleep_violations() > violations; }
};

}  // namespace

MmuNotifierSubscriptions::MmuNotifierSubscriptions(OsContext& os, MmStruct& mm,
                                                   const MmuNotifierConfig& cfg)
    : os_(os),
      mm_(mm),
      cfg_(cfg),
      srcu_(os, "mm" + std::to_string(mm.id()) + ".mmu_notifier_srcu", cfg.srcu_grace_period_ns,
            cfg.wakeup_latency_ns) {}

template <class F>
auto MmuNotifierSubscriptions::call_op(MmuNotifier& sub, MmuNotifierOp op, F&& fn) {
  CallbackTimer timer(os_.current());
  ExecContext::Frame frame(timer.ctx, sub.name(), mmu_notifier_op_name(op));
  auto result = fn();
  sc_core::sc_time dt = timer.elapsed();
  MmuNotifierStats& st = sub.stats_;
  ++st.calls[static_cast<unsigned>(op)];
  st.callback_time += dt;
  if (timer.under_ptl) st.callback_time_under_ptl += dt;
  if (dt > st.callback_time_max) st.callback_time_max = dt;
  if (timer.slept_illegally()) ++st.sleep_violations;
  return result;
}

// ---------------------------------------------------------------------------
// Range bookkeeping (model-only: which start/end windows are open right now).

MmuNotifierSubscriptions::ActiveRange* MmuNotifierSubscriptions::open_range(MmuNotifierRange& r) {
  r.token = next_token_++;
  active_.push_back({r.token, r.start, r.end, r.event, os_.current().name(), false});
  return &active_.back();
}

MmuNotifierSubscriptions::ActiveRange* MmuNotifierSubscriptions::find_range(uint64_t token) {
  if (token == 0) return nullptr;
  for (auto& a : active_) {
    if (a.token == token) return &a;
  }
  return nullptr;
}

void MmuNotifierSubscriptions::close_range(uint64_t token) {
  active_.erase(std::remove_if(active_.begin(), active_.end(),
                               [token](const ActiveRange& a) { return a.token == token; }),
                active_.end());
}

std::optional<MmuNotifierEvent> MmuNotifierSubscriptions::current_range_event() const {
  const std::string& thread = os_.current().name();
  for (auto it = active_.rbegin(); it != active_.rend(); ++it) {
    if (it->thread == thread) return it->event;
  }
  return std::nullopt;
}

void MmuNotifierSubscriptions::check_range_locks(const char* who) {
  if (!cfg_.check_range_locking) return;
  if (mm_.mmap_lock.held_by_current() || mm_.rmap_lock_held_by_current()) return;
  os_.diagnostics().report(
      DiagKind::kRangeWithoutLock,
      std::string(who) + " on " + mm_.name() + " without mmap_lock or an rmap lock held");
}

bool MmuNotifierSubscriptions::check_secondary_mapping(const std::string& who, uint64_t address) {
  for (const auto& a : active_) {
    if (address >= a.start && address < a.end) {
      os_.diagnostics().report_at(DiagKind::kSpteInsideRange, who,
                                  who + " established a secondary mapping of " + hex(address) +
                                      " inside the active " + "invalidate_range_start/end window " +
                                      describe(a.start, a.end, a.event) + " of " + a.thread);
      return false;
    }
  }
  return true;
}

bool MmuNotifierSubscriptions::check_secondary_mapping(const MmuNotifier& sub, uint64_t address) {
  for (const auto& a : active_) {
    if (a.token < sub.first_token_ && address >= a.start && address < a.end) {
      os_.diagnostics().report_at(DiagKind::kSpteInsideRange, sub.name(),
                                  sub.name() + " established a secondary mapping of " +
                                      hex(address) + " inside the invalidate_range_start/end " +
                                      "window " + describe(a.start, a.end, a.event) + " of " +
                                      a.thread + ", which began before its registration");
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// invalidate_range_start / end

void MmuNotifierSubscriptions::invalidate_range_start(MmuNotifierRange& r) {
  os_.current().might_sleep("mmu_notifier_invalidate_range_start");
  if (has_notifiers()) r.flags |= kMmuNotifierRangeBlockable;
  start_common(r);
}

int MmuNotifierSubscriptions::invalidate_range_start_nonblock(MmuNotifierRange& r) {
  if (has_notifiers()) r.flags &= ~kMmuNotifierRangeBlockable;
  return start_common(r);
}

int MmuNotifierSubscriptions::start_common(MmuNotifierRange& r) {
  uint64_t token = open_range(r)->token;
  check_range_locks("mmu_notifier_invalidate_range_start");
  if (!has_notifiers()) return 0;
  int ret = 0;
  if (has_itree_) {
    ret = itree_invalidate(r);
    if (ret) {
      close_range(token);
      return ret;
    }
    if (ActiveRange* a = find_range(token)) a->itree_started = true;
  }
  if (!list_.empty()) ret = hlist_start(r);
  if (ret && !mmu_notifier_range_blockable(r)) {
    // The caller will not call end: close the interval-tree section too (see header).
    ActiveRange* a = find_range(token);
    if (a && a->itree_started) itree_.inv_end();
    close_range(token);
  }
  return ret;
}

int MmuNotifierSubscriptions::hlist_start(MmuNotifierRange& r) {
  ExecContext& ctx = os_.current();
  bool blockable = mmu_notifier_range_blockable(r);
  uint64_t ticket = srcu_.read_lock();
  int ret = 0;
  std::vector<MmuNotifier*> snapshot = list_;
  for (MmuNotifier* sub : snapshot) {
    if (!sub->hashed_) continue;
    int one = 0;
    if (sub->implements(MmuNotifier::kInvalidateRangeStart)) {
      ++sub->stats_.start_events[event_index(r)];
      if (!blockable) ctx.non_block_start();
      one = call_op(*sub, MmuNotifierOp::kInvalidateRangeStart,
                    [&] { return sub->invalidate_range_start(r); });
      if (!blockable) ctx.non_block_end();
    }
    if (one != 0) {
      note_start_failure(*sub, r, one);
      ret = one;
    } else if (sub->implements(MmuNotifier::kInvalidateRangeEnd)) {
      sub->open_ranges_.push_back(r.token);
    }
  }
  // Any EAGAIN: the subscribers that succeeded expect their end; the layer calls it
  // now because the caller will not.
  if (ret) hlist_end(r, /*cleanup=*/true);
  srcu_.read_unlock(ticket);
  return ret;
}

void MmuNotifierSubscriptions::note_start_failure(MmuNotifier& sub, const MmuNotifierRange& r,
                                                  int ret) {
  ++sub.stats_.start_failures;
  Diagnostics& log = os_.diagnostics();
  std::string what = "invalidate_range_start of '" + sub.name() + "' failed with " +
                     std::to_string(ret) + " on " + describe(r.start, r.end, r.event);
  if (mmu_notifier_range_blockable(r)) {
    log.report_at(DiagKind::kStartFailedBlockable, sub.name(), what + " in a blockable range");
  }
  if (ret != -EAGAIN) {
    log.report_at(DiagKind::kStartBadReturn, sub.name(), what + ": only -EAGAIN is allowed");
  }
  if (sub.implements(MmuNotifier::kInvalidateRangeEnd)) {
    log.report_at(DiagKind::kStartFailedWithEnd, sub.name(),
                  what + ", but it implements invalidate_range_end");
  }
  if (!sub.implements(MmuNotifier::kStartMayFail)) {
    log.report_at(DiagKind::kUndeclaredStartFailure, sub.name(),
                  what + ", but it did not declare kStartMayFail");
  }
}

void MmuNotifierSubscriptions::invalidate_range_end(MmuNotifierRange& r) {
  if (mmu_notifier_range_blockable(r)) {
    os_.current().might_sleep("mmu_notifier_invalidate_range_end");
  }
  ActiveRange* a = find_range(r.token);
  bool itree_started = a && a->itree_started;
  if (!a) {
    os_.diagnostics().report(
        DiagKind::kEndWithoutStart,
        "mmu_notifier_invalidate_range_end " + describe(r.start, r.end, r.event) + " on " +
            mm_.name() + " without an active invalidate_range_start (never started, already " +
            "ended, or a failed non-blocking start)");
  }
  check_range_locks("mmu_notifier_invalidate_range_end");
  if (has_notifiers()) {
    if (itree_started) itree_.inv_end();
    if (!list_.empty()) hlist_end(r, /*cleanup=*/false);
  }
  close_range(r.token);
  r.token = 0;
}

void MmuNotifierSubscriptions::hlist_end(const MmuNotifierRange& r, bool cleanup) {
  ExecContext& ctx = os_.current();
  bool non_block = !cleanup && !mmu_notifier_range_blockable(r);
  uint64_t ticket = srcu_.read_lock();
  std::vector<MmuNotifier*> snapshot = list_;
  for (MmuNotifier* sub : snapshot) {
    if (!sub->hashed_ || !sub->implements(MmuNotifier::kInvalidateRangeEnd)) continue;
    if (non_block) ctx.non_block_start();
    deliver_end(*sub, r);
    if (non_block) ctx.non_block_end();
  }
  srcu_.read_unlock(ticket);
}

void MmuNotifierSubscriptions::deliver_end(MmuNotifier& sub, const MmuNotifierRange& r) {
  auto& open = sub.open_ranges_;
  auto it = std::find(open.begin(), open.end(), r.token);
  if (it == open.end() || r.token == 0) {
    ++sub.stats_.unbalanced_ends;
    os_.diagnostics().report_at(DiagKind::kUnbalancedEnd, sub.name(),
                                "'" + sub.name() + "' received invalidate_range_end " +
                                    describe(r.start, r.end, r.event) +
                                    " without the matching invalidate_range_start");
  } else {
    open.erase(it);
  }
  ++sub.stats_.end_events[event_index(r)];
  call_op(sub, MmuNotifierOp::kInvalidateRangeEnd, [&] {
    sub.invalidate_range_end(r);
    return 0;
  });
}

// ---------------------------------------------------------------------------
// Interval tree invalidation

int MmuNotifierSubscriptions::itree_invalidate(const MmuNotifierRange& r) {
  bool blockable = mmu_notifier_range_blockable(r);
  uint64_t cur_seq = 0;
  for (MmuIntervalNotifier* sub = itree_.inv_start_range(r, &cur_seq); sub;
       sub = itree_.inv_next(*sub, r)) {
    if (call_interval(*sub, r, cur_seq)) continue;
    if (blockable) {
      os_.diagnostics().report_at(DiagKind::kIntervalInvalidateFailed, sub->name(),
                                  "interval invalidate() of '" + sub->name() +
                                      "' returned false in a blockable range " +
                                      describe(r.start, r.end, r.event));
      continue;
    }
    itree_.inv_end();  // the non-blocking caller will not call end
    return -EAGAIN;
  }
  return 0;
}

bool MmuNotifierSubscriptions::call_interval(MmuIntervalNotifier& sub, const MmuNotifierRange& r,
                                             uint64_t cur_seq) {
  CallbackTimer timer(os_.current());
  ExecContext::Frame frame(timer.ctx, sub.name(), "invalidate");
  bool non_block = !mmu_notifier_range_blockable(r);
  if (non_block) timer.ctx.non_block_start();
  bool ok = sub.invalidate(r, cur_seq);
  if (non_block) timer.ctx.non_block_end();
  sc_core::sc_time dt = timer.elapsed();
  MmuIntervalNotifierStats& st = sub.stats_;
  ++st.invalidates;
  ++st.invalidate_events[event_index(r)];
  if (!ok) ++st.would_block;
  if (timer.slept_illegally()) ++st.sleep_violations;
  st.callback_time += dt;
  if (timer.under_ptl) st.callback_time_under_ptl += dt;
  return ok;
}

// ---------------------------------------------------------------------------
// arch_invalidate_secondary_tlbs and the young callbacks

void MmuNotifierSubscriptions::arch_invalidate_secondary_tlbs(uint64_t start, uint64_t end) {
  ExecContext& ctx = os_.current();
  if (ctx.page_table_locks_held() == 0) {
    os_.diagnostics().report(DiagKind::kPtlNotHeld,
                             "mmu_notifier_arch_invalidate_secondary_tlbs [" + hex(start) + ", " +
                                 hex(end) + ") on " + mm_.name() +
                                 " without a page-table lock held");
  }
  if (list_.empty()) return;
  uint64_t ticket = srcu_.read_lock();
  std::vector<MmuNotifier*> snapshot = list_;
  for (MmuNotifier* sub : snapshot) {
    if (!sub->hashed_ || !sub->implements(MmuNotifier::kArchInvalidateSecondaryTlbs)) continue;
    ctx.non_block_start();
    call_op(*sub, MmuNotifierOp::kArchInvalidateSecondaryTlbs, [&] {
      sub->arch_invalidate_secondary_tlbs(mm_, start, end);
      return 0;
    });
    ctx.non_block_end();
  }
  srcu_.read_unlock(ticket);
}

int MmuNotifierSubscriptions::clear_flush_young(uint64_t start, uint64_t end) {
  int young = 0;
  uint64_t ticket = srcu_.read_lock();
  std::vector<MmuNotifier*> snapshot = list_;
  for (MmuNotifier* sub : snapshot) {
    if (!sub->hashed_ || !sub->implements(MmuNotifier::kClearFlushYoung)) continue;
    young |= call_op(*sub, MmuNotifierOp::kClearFlushYoung,
                     [&] { return sub->clear_flush_young(mm_, start, end); });
  }
  srcu_.read_unlock(ticket);
  return young;
}

int MmuNotifierSubscriptions::clear_young(uint64_t start, uint64_t end) {
  int young = 0;
  uint64_t ticket = srcu_.read_lock();
  std::vector<MmuNotifier*> snapshot = list_;
  for (MmuNotifier* sub : snapshot) {
    if (!sub->hashed_ || !sub->implements(MmuNotifier::kClearYoung)) continue;
    young |= call_op(*sub, MmuNotifierOp::kClearYoung,
                     [&] { return sub->clear_young(mm_, start, end); });
  }
  srcu_.read_unlock(ticket);
  return young;
}

int MmuNotifierSubscriptions::test_young(uint64_t address) {
  int young = 0;
  uint64_t ticket = srcu_.read_lock();
  std::vector<MmuNotifier*> snapshot = list_;
  for (MmuNotifier* sub : snapshot) {
    if (!sub->hashed_ || !sub->implements(MmuNotifier::kTestYoung)) continue;
    young = call_op(*sub, MmuNotifierOp::kTestYoung, [&] { return sub->test_young(mm_, address); });
    if (young) break;
  }
  srcu_.read_unlock(ticket);
  return young;
}

// ---------------------------------------------------------------------------
// Release (exit_mmap)

void MmuNotifierSubscriptions::release() {
  if (has_itree_) itree_release();
  if (!list_.empty()) hlist_release();
}

void MmuNotifierSubscriptions::itree_release() {
  MmuNotifierRange r;
  mmu_notifier_range_init(r, MmuNotifierEvent::kRelease, kMmuNotifierRangeBlockable, mm_, 0,
                          std::numeric_limits<uint64_t>::max());
  uint64_t cur_seq = 0;
  for (MmuIntervalNotifier* sub = itree_.inv_start_range(r, &cur_seq); sub;
       sub = itree_.inv_next(*sub, r)) {
    if (!call_interval(*sub, r, cur_seq)) {
      os_.diagnostics().report_at(DiagKind::kIntervalInvalidateFailed, sub->name(),
                                  "interval invalidate() of '" + sub->name() +
                                      "' returned false for the RELEASE invalidation");
    }
  }
  itree_.inv_end();
}

void MmuNotifierSubscriptions::hlist_release() {
  uint64_t ticket = srcu_.read_lock();
  std::vector<MmuNotifier*> snapshot = list_;
  for (MmuNotifier* sub : snapshot) {
    if (!sub->hashed_ || !sub->implements(MmuNotifier::kRelease)) continue;
    call_op(*sub, MmuNotifierOp::kRelease, [&] {
      sub->release(mm_);
      return 0;
    });
  }
  for (MmuNotifier* sub : list_) {
    sub->hashed_ = false;
    sub->open_ranges_.clear();
  }
  list_.clear();
  srcu_.read_unlock(ticket);
  // Unregisters that ran release() concurrently must finish before pages are freed.
  srcu_.synchronize();
}

// ---------------------------------------------------------------------------
// Registration, get/put

int MmuNotifierSubscriptions::register_notifier(MmuNotifier* sub) {
  mm_.mmap_lock.down_write();
  int ret = register_notifier_locked(sub);
  mm_.mmap_lock.up_write();
  return ret;
}

int MmuNotifierSubscriptions::check_registration(const MmuNotifier& sub) {
  Diagnostics& log = os_.diagnostics();
  if (sub.hashed_) {
    log.report_at(DiagKind::kNotifierMisuse, sub.name(),
                  "mmu_notifier_register: '" + sub.name() + "' is already registered");
    return -EINVAL;
  }
  if (sub.implements(MmuNotifier::kArchInvalidateSecondaryTlbs) && (sub.ops() & kRangeOps)) {
    log.report_at(DiagKind::kRegisterRefused, sub.name(),
                  "mmu_notifier_register refused for '" + sub.name() + "' on " + mm_.name() +
                      " (-EINVAL): it implements arch_invalidate_secondary_tlbs together with "
                      "invalidate_range_start/end; a subsystem registers for one or the other");
    return -EINVAL;
  }
  if (sub.implements(MmuNotifier::kStartMayFail) &&
      sub.implements(MmuNotifier::kInvalidateRangeEnd)) {
    log.report_at(DiagKind::kRegisterRefused, sub.name(),
                  "mmu_notifier_register refused for '" + sub.name() + "' on " + mm_.name() +
                      " (-EINVAL): its invalidate_range_start may fail with -EAGAIN but it "
                      "implements invalidate_range_end, and a failed start cannot be told to end");
    return -EINVAL;
  }
  return 0;
}

int MmuNotifierSubscriptions::register_notifier_locked(MmuNotifier* sub) {
  mm_.mmap_lock.assert_write_held("__mmu_notifier_register");
  if (mm_.users() <= 0) {
    os_.diagnostics().report(DiagKind::kMmRefcount,
                             "mmu_notifier_register on " + mm_.name() + " with no users");
    return -EINVAL;
  }
  if (sub) {
    int ret = check_registration(*sub);
    if (ret) return ret;
  }
  bool take_all = cfg_.register_take_all_locks;
  if (take_all) mm_.mm_take_all_locks();
  if (sub) {
    mm_.mmgrab();
    sub->mm_ = &mm_;
    sub->users_ = 1;
    sub->hashed_ = true;
    sub->first_token_ = next_token_;
    sub->open_ranges_.clear();
    list_.insert(list_.begin(), sub);
  } else {
    has_itree_ = true;
  }
  if (take_all) mm_.mm_drop_all_locks();
  return 0;
}

void MmuNotifierSubscriptions::unhash(MmuNotifier& sub) {
  list_.erase(std::find(list_.begin(), list_.end(), &sub));
  sub.hashed_ = false;
  sub.open_ranges_.clear();
}

void MmuNotifierSubscriptions::unregister(MmuNotifier& sub) {
  if (sub.mm_ != &mm_) {
    os_.diagnostics().report_at(
        DiagKind::kNotifierMisuse, sub.name(),
        "mmu_notifier_unregister: '" + sub.name() + "' is not registered on " + mm_.name());
    return;
  }
  if (sub.hashed_) {
    uint64_t ticket = srcu_.read_lock();
    if (sub.implements(MmuNotifier::kRelease)) {
      call_op(sub, MmuNotifierOp::kRelease, [&] {
        sub.release(mm_);
        return 0;
      });
    }
    srcu_.read_unlock(ticket);
    if (sub.hashed_) unhash(sub);  // exit_mmap may have unhashed it meanwhile
  }
  // Waits for every running callback, including a release() run by exit_mmap.
  srcu_.synchronize();
  sub.users_ = 0;
  sub.mm_ = nullptr;
  mm_.mmdrop();
}

MmuNotifier* MmuNotifierSubscriptions::get(const MmuNotifier& ops, int* err) {
  mm_.mmap_lock.down_write();
  MmuNotifier* sub = get_locked(ops, err);
  mm_.mmap_lock.up_write();
  return sub;
}

MmuNotifier* MmuNotifierSubscriptions::get_locked(const MmuNotifier& ops, int* err) {
  int dummy = 0;
  int& e = err ? *err : dummy;
  e = 0;
  mm_.mmap_lock.assert_write_held("mmu_notifier_get_locked");
  for (MmuNotifier* sub : list_) {
    if (typeid(*sub) != typeid(ops)) continue;
    if (sub->users_ == UINT_MAX) {
      e = -EOVERFLOW;
      return nullptr;
    }
    ++sub->users_;
    return sub;
  }
  if (!ops.implements(MmuNotifier::kAllocNotifier)) {
    os_.diagnostics().report_at(
        DiagKind::kNotifierMisuse, ops.name(),
        "mmu_notifier_get: '" + ops.name() + "' does not implement alloc_notifier");
    e = -EINVAL;
    return nullptr;
  }
  std::unique_ptr<MmuNotifier> fresh = ops.alloc_notifier(mm_);
  if (!fresh) {
    e = -ENOMEM;
    return nullptr;
  }
  MmuNotifier* raw = fresh.get();
  owned_.push_back(std::move(fresh));
  int ret = register_notifier_locked(raw);
  if (ret) {
    if (raw->implements(MmuNotifier::kFreeNotifier)) raw->free_notifier();
    destroy_owned(raw);
    e = ret;
    return nullptr;
  }
  return raw;
}

void MmuNotifierSubscriptions::put(MmuNotifier& sub) {
  if (sub.users_ == 0 || sub.mm_ != &mm_) {
    os_.diagnostics().report_at(
        DiagKind::kNotifierMisuse, sub.name(),
        "mmu_notifier_put of '" + sub.name() + "' without a matching mmu_notifier_get");
    return;
  }
  if (--sub.users_ > 0) return;
  if (sub.hashed_) unhash(sub);
  MmuNotifier* p = &sub;
  srcu_.call([this, p] { free_subscription(p); });
}

void MmuNotifierSubscriptions::free_subscription(MmuNotifier* sub) {
  if (sub->implements(MmuNotifier::kFreeNotifier)) {
    call_op(*sub, MmuNotifierOp::kFreeNotifier, [&] {
      sub->free_notifier();
      return 0;
    });
  }
  sub->mm_ = nullptr;
  mm_.mmdrop();
  destroy_owned(sub);
}

void MmuNotifierSubscriptions::destroy_owned(MmuNotifier* sub) {
  auto it = std::find_if(owned_.begin(), owned_.end(),
                         [sub](const std::unique_ptr<MmuNotifier>& p) { return p.get() == sub; });
  if (it != owned_.end()) owned_.erase(it);
}

void MmuNotifierSubscriptions::synchronize() {
  srcu_.synchronize();
  srcu_.barrier();
}

// ---------------------------------------------------------------------------
// Interval subscribers

int MmuNotifierSubscriptions::interval_insert(MmuIntervalNotifier& sub, uint64_t start,
                                              uint64_t length) {
  os_.current().might_sleep("mmu_interval_notifier_insert");
  if (!has_itree_) {
    int ret = register_notifier(nullptr);
    if (ret) return ret;
  }
  return interval_insert_common(sub, start, length);
}

int MmuNotifierSubscriptions::interval_insert_locked(MmuIntervalNotifier& sub, uint64_t start,
                                                     uint64_t length) {
  mm_.mmap_lock.assert_write_held("mmu_interval_notifier_insert_locked");
  if (!has_itree_) {
    int ret = register_notifier_locked(nullptr);
    if (ret) return ret;
  }
  return interval_insert_common(sub, start, length);
}

int MmuNotifierSubscriptions::interval_insert_common(MmuIntervalNotifier& sub, uint64_t start,
                                                     uint64_t length) {
  if (length == 0 || start > std::numeric_limits<uint64_t>::max() - (length - 1)) {
    return -EOVERFLOW;
  }
  if (mm_.users() <= 0) {
    os_.diagnostics().report(DiagKind::kMmRefcount,
                             "mmu_interval_notifier_insert on " + mm_.name() + " with no users");
    return -EINVAL;
  }
  if (sub.state_ != MmuIntervalNotifier::State::kIdle) {
    os_.diagnostics().report_at(
        DiagKind::kIntervalMisuse, sub.name(),
        "mmu_interval_notifier_insert: '" + sub.name() + "' is already inserted");
    return -EINVAL;
  }
  mm_.mmgrab();
  sub.mm_ = &mm_;
  itree_.insert(sub, start, start + (length - 1));
  return 0;
}

void MmuNotifierSubscriptions::interval_remove(MmuIntervalNotifier& sub) {
  os_.current().might_sleep("mmu_interval_notifier_remove");
  using State = MmuIntervalNotifier::State;
  if (sub.mm_ != &mm_ || sub.state_ == State::kIdle || sub.state_ == State::kDeferredRemove) {
    os_.diagnostics().report_at(
        DiagKind::kIntervalMisuse, sub.name(),
        "mmu_interval_notifier_remove: '" + sub.name() + "' is not inserted on " + mm_.name());
    return;
  }
  uint64_t seq = itree_.remove(sub);
  if (seq) sleep_on_seq(seq, "mmu_interval_notifier_remove");
  mm_.mmdrop();
}

uint64_t MmuNotifierSubscriptions::interval_read_begin(MmuIntervalNotifier& sub) {
  bool invalidating = false;
  uint64_t seq = itree_.read_begin_seq(sub, &invalidating);
  if (invalidating) sleep_on_seq(seq, "mmu_interval_read_begin");
  return seq;
}

void MmuNotifierSubscriptions::sleep_on_seq(uint64_t seq, const char* what) {
  if (itree_.invalidate_seq() != seq) return;
  os_.current().sleep_until([this, seq] { return itree_.invalidate_seq() != seq; }, itree_.wq(),
                            what);
  if (cfg_.wakeup_latency_ns > 0) sc_core::wait(ns(cfg_.wakeup_latency_ns));
}

// ---------------------------------------------------------------------------
// Kernel-named entry points

namespace {
MmStruct& range_mm(const MmuNotifierRange& r) {
  if (!r.mm) throw std::invalid_argument("mmu_notifier_range has no mm");
  return *r.mm;
}
MmStruct& interval_mm(const MmuIntervalNotifier& sub) {
  if (!sub.mm()) {
    throw std::invalid_argument("interval subscription '" + sub.name() + "' is not inserted");
  }
  return *sub.mm();
}
MmStruct& notifier_mm(const MmuNotifier& sub) {
  if (!sub.mm()) {
    throw std::invalid_argument("mmu_notifier '" + sub.name() + "' is not registered");
  }
  return *sub.mm();
}
}  // namespace

void mmu_notifier_invalidate_range_start(MmuNotifierRange& r) {
  range_mm(r).notifier_subscriptions().invalidate_range_start(r);
}
int mmu_notifier_invalidate_range_start_nonblock(MmuNotifierRange& r) {
  return range_mm(r).notifier_subscriptions().invalidate_range_start_nonblock(r);
}
void mmu_notifier_invalidate_range_end(MmuNotifierRange& r) {
  range_mm(r).notifier_subscriptions().invalidate_range_end(r);
}
void mmu_notifier_arch_invalidate_secondary_tlbs(MmStruct& mm, uint64_t start, uint64_t end) {
  mm.notifier_subscriptions().arch_invalidate_secondary_tlbs(start, end);
}
int mmu_notifier_clear_flush_young(MmStruct& mm, uint64_t start, uint64_t end) {
  return mm.notifier_subscriptions().clear_flush_young(start, end);
}
int mmu_notifier_clear_young(MmStruct& mm, uint64_t start, uint64_t end) {
  return mm.notifier_subscriptions().clear_young(start, end);
}
int mmu_notifier_test_young(MmStruct& mm, uint64_t address) {
  return mm.notifier_subscriptions().test_young(address);
}
void mmu_notifier_release(MmStruct& mm) {
  mm.notifier_subscriptions().release();
}
int mmu_notifier_register(MmuNotifier* sub, MmStruct& mm) {
  return mm.notifier_subscriptions().register_notifier(sub);
}
void mmu_notifier_unregister(MmuNotifier& sub, MmStruct& mm) {
  mm.notifier_subscriptions().unregister(sub);
}
MmuNotifier* mmu_notifier_get(const MmuNotifier& ops, MmStruct& mm, int* err) {
  return mm.notifier_subscriptions().get(ops, err);
}
void mmu_notifier_put(MmuNotifier& sub) {
  notifier_mm(sub).notifier_subscriptions().put(sub);
}
int mmu_interval_notifier_insert(MmuIntervalNotifier& sub, MmStruct& mm, uint64_t start,
                                 uint64_t length) {
  return mm.notifier_subscriptions().interval_insert(sub, start, length);
}
void mmu_interval_notifier_remove(MmuIntervalNotifier& sub) {
  interval_mm(sub).notifier_subscriptions().interval_remove(sub);
}
uint64_t mmu_interval_read_begin(MmuIntervalNotifier& sub) {
  return interval_mm(sub).notifier_subscriptions().interval_read_begin(sub);
}

}  // namespace iosim
