// The JSON document type (sc_models/observe/json.h) for headers that only name it: includes
// nlohmann's forward declarations, not the whole library.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace iosim {

using Json = nlohmann::ordered_json;

}  // namespace iosim
