#include "os/os_context.h"

namespace iosim {

OsContext::OsContext(SimContext& sim) : sim_(sim), diagnostics_(*this), no_process_(*this, "") {}

ExecContext& OsContext::current() {
  sc_core::sc_process_handle h = sc_core::sc_get_current_process_handle();
  if (!h.valid()) return no_process_;
  if (last_context_ && h == last_process_) return *last_context_;
  auto it = threads_.find(h);
  if (it == threads_.end()) {
    it = threads_.emplace(h, std::make_unique<ExecContext>(*this, h.name())).first;
  }
  last_process_ = h;
  last_context_ = it->second.get();
  return *last_context_;
}

}  // namespace iosim
