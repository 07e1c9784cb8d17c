// SimContext: the statistics registry one simulated system shares.
#include "sc_models/sim_context.h"

namespace iosim {

// TEMPORARY until os/ takes a SimContext.
SimContext* SimContext::latest_ = nullptr;

SimContext::SimContext() {
  latest_ = this;
}

SimContext::~SimContext() {
  if (latest_ == this) latest_ = nullptr;
}

SimContext& SimContext::latest() {
  if (latest_) return *latest_;
  static SimContext fallback;
  return fallback;
}

}  // namespace iosim
