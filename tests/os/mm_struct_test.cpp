// Tests of MmStruct: reference counts and exit_mmap ordering, mm_take_all_locks
// waiting for rmap-lock holders, configuration checks and parameter listing.
#include "os/mm_struct.h"

#include <gtest/gtest.h>

#include "sc_models/config/params.h"
#include "tests/os/lock_bench.h"

namespace iosim {
namespace {

using namespace test;  // tests/os/lock_bench.h

TEST(MmStruct, LastMmputRunsExitMmapAndLastMmdropFrees) {
  TestOs os;
  MmStruct mm(os, 7, lock_test_mm_config(1));
  std::vector<std::string> events;
  mm.exit_mmap_hook = [&](MmStruct& m) {
    events.push_back("exit_mmap users=" + std::to_string(m.users()));
  };
  bool got_after_exit = true;
  test::run_thread([&] {
    mm.mmget();  // e.g. an IOMMU driver pins the address space
    mm.mmgrab();
    mm.mmput();
    events.push_back("users=" + std::to_string(mm.users()));
    mm.mmput();  // last user
    events.push_back("exited count=" + std::to_string(mm.count()));
    got_after_exit = mm.mmget_not_zero();
    mm.mmdrop();
    events.push_back(mm.freed() ? "freed" : "alive");
    mm.mmput();  // no users left
  });
  EXPECT_EQ(mm.name(), "mm7");
  EXPECT_EQ(events,
            (std::vector<std::string>{"users=1", "exit_mmap users=0", "exited count=1", "freed"}));
  EXPECT_FALSE(got_after_exit);
  EXPECT_TRUE(mm.exited());
  EXPECT_EQ(os.diagnostics().count(DiagKind::kMmRefcount), 1u);
}

TEST(MmStruct, TakeAllLocksWaitsForEveryRmapHolder) {
  TestOs os;
  MmStruct mm(os, 1, lock_test_mm_config(3));
  sc_time taken;
  bool all_write_locked = false;
  run_threads({[&] {
                 mm.rmap_lock(1).down_read();  // e.g. reclaim on a file mapping
                 until(500);
                 mm.rmap_lock(1).up_read();
               },
               [&] {
                 mm.rmap_lock(2).down_read();  // and on an anon_vma
                 until(800);
                 mm.rmap_lock(2).up_read();
               },
               [&] {
                 until(100);
                 mm.mmap_lock.down_write();  // 100..110
                 mm.mm_take_all_locks();     // lock 0 at 110..120, then 1 and 2
                 taken = sc_time_stamp();
                 all_write_locked = mm.rmap_lock(0).write_held_by_current() &&
                                    mm.rmap_lock(1).write_held_by_current() &&
                                    mm.rmap_lock(2).write_held_by_current();
                 mm.mm_drop_all_locks();
                 mm.mmap_lock.up_write();
               }});
  // Lock 1 is granted at 500 (+wake, +acquire = 610); lock 2 was released at 800.
  EXPECT_EQ(taken, ns(800 + kWakeNs + kLockNs));
  EXPECT_TRUE(all_write_locked);
  for (unsigned i = 0; i < 3; ++i) EXPECT_FALSE(mm.rmap_lock(i).is_locked());
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmStruct, TakeAllLocksWithoutMmapWriteLockIsReported) {
  TestOs os;
  MmStruct mm(os, 1, lock_test_mm_config(1));
  test::run_thread([&] {
    mm.mmap_lock.down_read();
    mm.mm_take_all_locks();
    mm.mm_drop_all_locks();
    mm.mmap_lock.up_read();
  });
  auto d = os.diagnostics().of_kind(DiagKind::kLockNotHeld);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].message.find("mm_take_all_locks"), std::string::npos);
}

TEST(MmStruct, ConfigurationIsCheckedAndListed) {
  TestOs os;
  MmStructConfig c;
  c.rmap_locks = MmStruct::kMaxRmapLocks + 1;
  EXPECT_THROW(MmStruct(os, 1, c), ParamError);
  c = MmStructConfig{};
  c.notifier.srcu_grace_period_ns = -1;
  EXPECT_THROW(MmStruct(os, 1, c), ParamError);
  c = MmStructConfig{};
  c.page_table_lock.acquire_ns = -1;
  EXPECT_THROW(MmStruct(os, 1, c), ParamError);

  MmStructConfig d;
  std::vector<std::string> names;
  for (const auto& p : list_params(d, "mm.")) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "mm.rmap_locks", "mm.mmap_lock.acquire_ns", "mm.mmap_lock.wakeup_latency_ns",
                       "mm.rmap_lock.acquire_ns", "mm.rmap_lock.wakeup_latency_ns",
                       "mm.page_table_lock.acquire_ns", "mm.notifier.register_take_all_locks",
                       "mm.notifier.check_range_locking", "mm.notifier.srcu_grace_period_ns",
                       "mm.notifier.wakeup_latency_ns"}));
  EXPECT_TRUE(assign_param(d, "notifier.register_take_all_locks", "false"));
  EXPECT_FALSE(d.notifier.register_take_all_locks);
  EXPECT_TRUE(assign_param(d, "rmap_locks", "8"));
  EXPECT_EQ(d.rmap_locks, 8u);
  EXPECT_FALSE(assign_param(d, "notifier.no_such_knob", "1"));
}

}  // namespace
}  // namespace iosim
