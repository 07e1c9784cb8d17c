#include "os/mmu_interval_tree.h"

#include <algorithm>
#include <cassert>

namespace iosim {

MmuIntervalNotifier* MmuIntervalTree::first_hit(Tree::iterator from, const MmuNotifierRange& r) {
  if (r.end <= r.start) return nullptr;
  uint64_t last = r.end - 1;
  for (auto it = from; it != tree_.end() && it->first <= last; ++it) {
    if (it->second->last_ >= r.start) return it->second;
  }
  return nullptr;
}

MmuIntervalNotifier* MmuIntervalTree::inv_start_range(const MmuNotifierRange& r,
                                                      uint64_t* cur_seq) {
  ++active_;
  MmuIntervalNotifier* hit = first_hit(tree_.begin(), r);
  if (hit) invalidate_seq_ |= 1;
  *cur_seq = invalidate_seq_;
  return hit;
}

MmuIntervalNotifier* MmuIntervalTree::inv_next(const MmuIntervalNotifier& cur,
                                               const MmuNotifierRange& r) {
  // The tree cannot change while the seq is odd, so cur's position is still valid.
  assert(cur.state_ == MmuIntervalNotifier::State::kInTree ||
         cur.state_ == MmuIntervalNotifier::State::kDeferredRemove);
  return first_hit(std::next(cur.node_), r);
}

bool MmuIntervalTree::inv_end() {
  if (active_ == 0) return false;
  if (--active_ > 0 || !is_invalidating()) return true;
  ++invalidate_seq_;  // even again
  apply_deferred();
  wq_.notify(sc_core::SC_ZERO_TIME);
  return true;
}

void MmuIntervalTree::apply_deferred() {
  // The kernel pushes deferred items at the head of a list: the latest is applied first.
  for (auto it = deferred_.rbegin(); it != deferred_.rend(); ++it) {
    MmuIntervalNotifier& sub = **it;
    if (sub.state_ == MmuIntervalNotifier::State::kDeferredInsert) {
      tree_insert(sub);
    } else {
      tree_remove(sub);
    }
  }
  deferred_.clear();
}

void MmuIntervalTree::tree_insert(MmuIntervalNotifier& sub) {
  sub.node_ = tree_.emplace(sub.start_, &sub);
  sub.state_ = MmuIntervalNotifier::State::kInTree;
}

void MmuIntervalTree::tree_remove(MmuIntervalNotifier& sub) {
  tree_.erase(sub.node_);
  sub.node_ = tree_.end();
  sub.state_ = MmuIntervalNotifier::State::kIdle;
}

void MmuIntervalTree::insert(MmuIntervalNotifier& sub, uint64_t start, uint64_t last) {
  assert(sub.state_ == MmuIntervalNotifier::State::kIdle);
  sub.start_ = start;
  sub.last_ = last;
  if (active_ > 0) {
    if (is_invalidating()) {
      sub.state_ = MmuIntervalNotifier::State::kDeferredInsert;
      deferred_.push_back(&sub);
    } else {
      invalidate_seq_ |= 1;
      tree_insert(sub);
    }
    sub.invalidate_seq_ = invalidate_seq_;
  } else {
    sub.invalidate_seq_ = invalidate_seq_ - 1;
    tree_insert(sub);
  }
}

uint64_t MmuIntervalTree::remove(MmuIntervalNotifier& sub) {
  using State = MmuIntervalNotifier::State;
  assert(sub.state_ != State::kIdle);
  if (!is_invalidating()) {
    assert(sub.state_ == State::kInTree);  // deferred items exist only while the seq is odd
    tree_remove(sub);
    return 0;
  }
  if (sub.state_ == State::kDeferredInsert) {
    deferred_.erase(std::find(deferred_.begin(), deferred_.end(), &sub));
    sub.state_ = State::kIdle;
    return 0;
  }
  if (sub.state_ == State::kInTree) {
    sub.state_ = State::kDeferredRemove;
    deferred_.push_back(&sub);
  }
  return invalidate_seq_;
}

uint64_t MmuIntervalTree::read_begin_seq(const MmuIntervalNotifier& sub,
                                         bool* is_invalidating) const {
  uint64_t seq = sub.invalidate_seq_;
  *is_invalidating = seq == invalidate_seq_;
  return seq;
}

}  // namespace iosim
