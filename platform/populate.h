// How a mapping made at boot is faulted in before the simulation starts: the
// workload's windows (workload.populate) and a scenario's map steps (populate=).
#pragma once

#include "sc_models/config/choice.h"

namespace iosim {

enum class Populate { kNone, kRead, kWrite };
inline constexpr ChoiceValue<Populate> kPopulateValues[] = {
    {"none", Populate::kNone, "no pages: the first access (a device through PRI) faults them in"},
    {"read", Populate::kRead, "read fault on every page (the zero page, read-only)"},
    {"write", Populate::kWrite, "write fault on every page (a private frame each)"}};
inline constexpr Choices<Populate> kPopulate{kPopulateValues};

}  // namespace iosim
