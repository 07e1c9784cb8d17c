// Parameter tables: the --list-params text table and the README's Markdown table,
// both rendered from the same ParamInfo list (sc_models/config/params.h).
#pragma once

#include "sc_models/config/params.h"

#include <string>
#include <vector>

namespace iosim {

// Columns NAME, DEFAULT, UNIT, CHOICES, HELP aligned with spaces; one header line.
std::string format_param_table(const std::vector<ParamInfo>& params);

// A GitHub Markdown table: | Parameter | Default | Unit | Choices | Description |.
// Names and defaults are code spans; '|' inside a cell is escaped.
std::string format_param_markdown(const std::vector<ParamInfo>& params);

}  // namespace iosim
