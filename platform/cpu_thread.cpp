// CpuThread: the thread-program interpreter.
#include "platform/cpu_thread.h"

#include "os/os_context.h"
#include "platform/cpu_operations.h"

namespace iosim {

CpuThread::CpuThread(const ThreadProgram& program, Core& core, Kernel& kernel,
                     const sc_core::sc_event* start, SvaControl* sva)
    : program_(program), core_(core), kernel_(kernel), start_(start), sva_(sva) {
  core_.set_thread(program_.name, [this] { run(); });
}

void CpuThread::run() {
  kernel_.context().current().set_cpu(core_.id());  // OS code run by this thread runs on this core
  if (start_) sc_core::wait(*start_);
  start_time_ = sc_core::sc_time_stamp();
  // The program's preemption hold applies to its own OS work only, from its start (not
  // to work the platform runs on this core before, such as a boot-time fork).
  if (program_.preempt_hold_ns >= 0) kernel_.set_preempt_hold_ns(cpu(), program_.preempt_hold_ns);
  for (size_t i = 0; i < program_.ops.size() && !killed_; ++i) {
    const ThreadOp& op = program_.ops[i];
    if (op.at_ns >= 0) {
      const sc_core::sc_time at = start_time_ + ns(op.at_ns);
      if (at > sc_core::sc_time_stamp()) sc_core::wait(at - sc_core::sc_time_stamp());
    }
    execute(i, op);
  }
}

void CpuThread::execute(size_t index, const ThreadOp& op) {
  OpRecord rec{index, op.op, 0, sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME};
  index_ = index;
  if (op.op->in_process) {
    mm_ = &kernel_.mm(program_.mm_id);
    mm_->cpu_enter(cpu());
  }
  rec.result = op.op->run(*this, op);
  rec.end = sc_core::sc_time_stamp();
  records_.push_back(rec);
}

int64_t CpuThread::load(uint64_t va) {
  const std::optional<Core::Access> a = core_.load(address_space(), va);
  if (!a) {
    end();
    return kKilled;
  }
  loads_.push_back(LoadRecord{index_, va, a->pa, a->value, a->time});
  return 0;
}

int64_t CpuThread::store(uint64_t va, uint64_t value) {
  if (core_.store(address_space(), va, value)) return 0;
  end();
  return kKilled;
}

}  // namespace iosim
