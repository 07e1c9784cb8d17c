// ThreadNames: the names the recorders (timeline, trace) show for the threads that
// produce events: a core's thread by cpu id ("CPU-thread-0"; default "CPU-<cpu>", and
// "kernel" for work no core runs), a kernel thread that runs on no core (the I/O
// page-fault handler) by its SystemC process name ("iopf.run") unless named otherwise,
// and a device DMA thread by the name its events carry.
// Named threads are remembered in naming order, so outputs list them first, in that order.
// os_step() names the thread of an OS step from the context that runs it, which the
// step's event carries (os/os_observer.h), so a kernel thread without a core
// (the I/O page-fault handler, whose faults carry the core it is configured on) gets its
// own name and never shares a core thread's row or track.
#pragma once

#include "os/exec_context.h"
#include "os/os_observer.h"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace iosim {

class ThreadNames {
 public:
  void set_cpu(int cpu, const std::string& name) {
    cpu_[cpu] = name;
    order_.push_back(name);
  }
  void set_device(const std::string& event_thread, const std::string& name) {
    device_[event_thread] = name;
    order_.push_back(name);
  }
  void set_kernel_thread(const std::string& process, const std::string& name) {
    kernel_[process] = name;
    order_.push_back(name);
  }
  std::string cpu(int cpu) const {
    auto it = cpu_.find(cpu);
    if (it != cpu_.end()) return it->second;
    return cpu < 0 ? "kernel" : "CPU-" + std::to_string(cpu);
  }
  std::string device(std::string_view event_thread) const {
    auto it = device_.find(event_thread);
    return it == device_.end() ? std::string(event_thread) : it->second;
  }
  std::string kernel_thread(const std::string& process) const {
    auto it = kernel_.find(process);
    return it == kernel_.end() ? process : it->second;
  }
  // The thread of OS step `e`: a kernel thread without a core by its process, else the
  // core's thread (outside any process, e.g. a unit test calling the memory manager, or
  // when the event names no thread, the event's cpu decides).
  std::string os_step(const OsEvent& e) const {
    const ExecContext* ctx = e.thread;
    if (ctx && ctx->cpu() < 0 && !ctx->name().empty()) return kernel_thread(ctx->name());
    return this->cpu(e.cpu >= 0 || !ctx ? e.cpu : ctx->cpu());
  }
  // Every name given, in naming order.
  const std::vector<std::string>& named() const { return order_; }

 private:
  std::map<int, std::string> cpu_;
  std::map<std::string, std::string, std::less<>> device_;
  std::map<std::string, std::string> kernel_;
  std::vector<std::string> order_;
};

}  // namespace iosim
