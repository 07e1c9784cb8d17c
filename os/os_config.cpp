#include "os/os_config.h"

#include "sc_models/config/params.h"

namespace iosim {

void OsConfig::validate() const {
  const std::pair<const char*, double> non_negative[] = {
      {"os.preempt_hold_ns", preempt_hold_ns}, {"os.syscall_entry_ns", syscall_entry_ns},
      {"os.fault_entry_ns", fault_entry_ns},   {"os.pte_update_ns", pte_update_ns},
      {"os.per_page_ns", per_page_ns},         {"os.vma_update_ns", vma_update_ns}};
  for (const auto& [name, v] : non_negative) {
    if (v < 0) throw ParamError(std::string(name) + " must be >= 0");
  }
  if (!(page_copy_gb_per_s > 0)) throw ParamError("os.page_copy_gb_per_s must be > 0");
}

}  // namespace iosim
