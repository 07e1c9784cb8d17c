// ThreadNames: the names the recorders (timeline, trace) show for the threads that
// produce events: a core's thread by cpu id ("CPU-thread-0"; default "CPU-<cpu>", and
// "kernel" for work no core runs) and a device DMA thread by the name its events carry.
// Named threads are remembered in naming order, so outputs list them first, in that order.
#pragma once

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
  std::string cpu(int cpu) const {
    auto it = cpu_.find(cpu);
    if (it != cpu_.end()) return it->second;
    return cpu < 0 ? "kernel" : "CPU-" + std::to_string(cpu);
  }
  std::string device(std::string_view event_thread) const {
    auto it = device_.find(event_thread);
    return it == device_.end() ? std::string(event_thread) : it->second;
  }
  // Every name given, in naming order.
  const std::vector<std::string>& named() const { return order_; }

 private:
  std::map<int, std::string> cpu_;
  std::map<std::string, std::string, std::less<>> device_;
  std::vector<std::string> order_;
};

}  // namespace iosim
