// An MMU-notifier subscriber (struct mmu_notifier + struct mmu_notifier_ops).
//
// A subsystem that mirrors the CPU page tables of an mm (an IOMMU doing SVA, KVM, a
// GPU driver) derives from MmuNotifier and overrides the callbacks it implements.
// Because the kernel distinguishes a NULL op from an op that does nothing (a NULL
// invalidate_range_end is not called, an arch_invalidate_secondary_tlbs together with
// start/end is refused, ...), the constructor also takes the set of implemented ops
// as a bit mask; only those are called. The C++ dynamic type plays the role of the
// ops pointer: mmu_notifier_get() finds an existing subscription of the same type.
//
// Callback contracts (include/linux/mmu_notifier.h): release() tears down every secondary mapping;
// invalidate_range_start() may return -EAGAIN only when the range is not blockable,
// and a subscriber whose start can fail (kStartMayFail) may not implement
// invalidate_range_end(); arch_invalidate_secondary_tlbs() runs under the page-table
// lock and must not sleep (spinning is fine); free_notifier() runs from an SRCU
// callback and must not sleep.
//
// The layer (MmuNotifierSubscriptions) owns the fields below the callbacks: the mm,
// the users count of get/put, whether the subscription is on the mm's list, the
// ranges it has seen start for (to detect unbalanced ends) and per-subscriber
// statistics (calls per op and per event, simulated time in callbacks, and the part
// of it spent with a page-table lock held).
#pragma once

#include <systemc>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "os/mmu_notifier_range.h"

namespace iosim {

class MmStruct;

enum class MmuNotifierOp : unsigned {
  kRelease,
  kClearFlushYoung,
  kClearYoung,
  kTestYoung,
  kInvalidateRangeStart,
  kInvalidateRangeEnd,
  kArchInvalidateSecondaryTlbs,
  kAllocNotifier,
  kFreeNotifier,
};
constexpr unsigned kMmuNotifierOpCount = 9;
const char* mmu_notifier_op_name(MmuNotifierOp op);
// Bit of `op` in an implemented-ops mask.
constexpr uint32_t mmu_notifier_op_bit(MmuNotifierOp op) {
  return 1u << static_cast<unsigned>(op);
}

struct MmuNotifierStats {
  std::array<uint64_t, kMmuNotifierOpCount> calls{};            // per op
  std::array<uint64_t, kMmuNotifierEventCount> start_events{};  // invalidate_range_start per event
  std::array<uint64_t, kMmuNotifierEventCount> end_events{};    // invalidate_range_end per event
  uint64_t start_failures = 0;    // invalidate_range_start returned non-zero
  uint64_t unbalanced_ends = 0;   // ends received without the matching start
  uint64_t sleep_violations = 0;  // callbacks that slept where sleeping is not allowed
  sc_core::sc_time callback_time = sc_core::SC_ZERO_TIME;
  sc_core::sc_time callback_time_under_ptl = sc_core::SC_ZERO_TIME;
  sc_core::sc_time callback_time_max = sc_core::SC_ZERO_TIME;

  uint64_t call_count(MmuNotifierOp op) const { return calls[static_cast<unsigned>(op)]; }
};

class MmuNotifier {
 public:
  // Bits of the implemented-ops mask.
  static constexpr uint32_t kRelease = mmu_notifier_op_bit(MmuNotifierOp::kRelease);
  static constexpr uint32_t kClearFlushYoung = mmu_notifier_op_bit(MmuNotifierOp::kClearFlushYoung);
  static constexpr uint32_t kClearYoung = mmu_notifier_op_bit(MmuNotifierOp::kClearYoung);
  static constexpr uint32_t kTestYoung = mmu_notifier_op_bit(MmuNotifierOp::kTestYoung);
  static constexpr uint32_t kInvalidateRangeStart =
      mmu_notifier_op_bit(MmuNotifierOp::kInvalidateRangeStart);
  static constexpr uint32_t kInvalidateRangeEnd =
      mmu_notifier_op_bit(MmuNotifierOp::kInvalidateRangeEnd);
  static constexpr uint32_t kArchInvalidateSecondaryTlbs =
      mmu_notifier_op_bit(MmuNotifierOp::kArchInvalidateSecondaryTlbs);
  static constexpr uint32_t kAllocNotifier = mmu_notifier_op_bit(MmuNotifierOp::kAllocNotifier);
  static constexpr uint32_t kFreeNotifier = mmu_notifier_op_bit(MmuNotifierOp::kFreeNotifier);
  // Not an op: declares that invalidate_range_start() may return -EAGAIN.
  static constexpr uint32_t kStartMayFail = 1u << 16;

  MmuNotifier(std::string name, uint32_t ops) : name_(std::move(name)), ops_(ops) {}
  virtual ~MmuNotifier() = default;
  MmuNotifier(const MmuNotifier&) = delete;
  MmuNotifier& operator=(const MmuNotifier&) = delete;

  const std::string& name() const { return name_; }
  uint32_t ops() const { return ops_; }
  bool implements(uint32_t op_bits) const { return (ops_ & op_bits) == op_bits; }
  bool implements(MmuNotifierOp op) const { return implements(mmu_notifier_op_bit(op)); }

  // --- callbacks (called only when the matching bit is set) ---
  virtual void release(MmStruct& /*mm*/) {}
  virtual int clear_flush_young(MmStruct& /*mm*/, uint64_t /*start*/, uint64_t /*end*/) {
    return 0;
  }
  virtual int clear_young(MmStruct& /*mm*/, uint64_t /*start*/, uint64_t /*end*/) { return 0; }
  virtual int test_young(MmStruct& /*mm*/, uint64_t /*address*/) { return 0; }
  // 0, or -EAGAIN when the range is not blockable and sleeping would be needed.
  virtual int invalidate_range_start(const MmuNotifierRange& /*range*/) { return 0; }
  virtual void invalidate_range_end(const MmuNotifierRange& /*range*/) {}
  virtual void arch_invalidate_secondary_tlbs(MmStruct& /*mm*/, uint64_t /*start*/,
                                              uint64_t /*end*/) {}
  // mmu_notifier_get(): a new subscription for `mm` (nullptr = -ENOMEM).
  virtual std::unique_ptr<MmuNotifier> alloc_notifier(MmStruct& /*mm*/) const { return nullptr; }
  // Last mmu_notifier_put(), after the SRCU grace period. Must not sleep.
  virtual void free_notifier() {}

  // --- state kept by the notifier layer ---
  MmStruct* mm() const { return mm_; }
  unsigned users() const { return users_; }
  bool registered() const { return hashed_; }  // on the mm's subscription list
  const MmuNotifierStats& stats() const { return stats_; }

 private:
  friend class MmuNotifierSubscriptions;

  std::string name_;
  uint32_t ops_;
  MmStruct* mm_ = nullptr;
  unsigned users_ = 0;
  bool hashed_ = false;
  uint64_t first_token_ = 0;           // ranges opened from this token on reach it
  std::vector<uint64_t> open_ranges_;  // tokens of ranges started and not yet ended
  MmuNotifierStats stats_;
};

}  // namespace iosim
