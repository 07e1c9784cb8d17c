#include "sc_models/sim_context.h"

namespace iosim {

namespace {

// TEMPORARY until every module takes a SimContext
SimContext* latest_context = nullptr;

}  // namespace

SimContext::SimContext() {
  latest_context = this;
}

SimContext::~SimContext() {
  if (latest_context == this) latest_context = nullptr;
}

SimContext* SimContext::latest() {
  return latest_context;
}

}  // namespace iosim
