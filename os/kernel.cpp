#include "os/kernel.h"

#include <stdexcept>

namespace iosim {

namespace {

const OsConfig& validated(const OsConfig& cfg) {
  cfg.validate();
  return cfg;
}

}  // namespace

Kernel::Kernel(SimContext& sim, const OsConfig& cfg, PhysicalMemory& mem, GroundTruth* gt)
    : os_(sim),
      env_{validated(cfg), &mem, nullptr, nullptr, gt, {}, nullptr, &os_},
      alloc_(mem, cfg.allocator, gt),
      faults_(env_),
      ops_(env_),
      pages_(env_) {
  env_.alloc = &alloc_;
}

Mm& Kernel::create_mm(uint32_t id) {
  if (mms_.count(id)) throw std::invalid_argument("mm " + std::to_string(id) + " already exists");
  auto mm = std::make_unique<Mm>(id, env_);
  mm->exit_mmap_hook = [this](MmStruct& s) {
    auto it = exit_cpu_.find(&s);
    ops_.exit_mmap(static_cast<Mm&>(s), it == exit_cpu_.end() ? -1 : it->second);
  };
  Mm& ref = *mm;
  mms_[id] = std::move(mm);
  return ref;
}

Mm* Kernel::find_mm(uint32_t id) {
  auto it = mms_.find(id);
  return it == mms_.end() ? nullptr : it->second.get();
}

Mm& Kernel::mm(uint32_t id) {
  Mm* m = find_mm(id);
  if (!m) throw std::out_of_range("no mm with id " + std::to_string(id));
  return *m;
}

int Kernel::fork(Mm& parent, int cpu, uint32_t child_id) {
  if (mms_.count(child_id)) return err::kEexist;
  Mm& child = create_mm(child_id);
  return ops_.fork(parent, child, cpu);
}

void Kernel::exit(Mm& mm, int cpu) {
  mm.run_for_ns(env_.cfg.syscall_entry_ns);
  mm.cpu_leave(cpu);
  exit_cpu_[&mm] = cpu;
  mm.mmput();
  exit_cpu_.erase(&mm);
}

}  // namespace iosim
