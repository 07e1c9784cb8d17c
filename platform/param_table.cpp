// Parameter tables for --list-params and the README.
#include "platform/param_table.h"

#include <algorithm>
#include <array>

namespace iosim {

namespace {

using Row = std::array<std::string, 5>;

Row row_of(const ParamInfo& p) {
  return {p.name, p.default_value, p.unit, p.choices, p.help};
}

std::string pad(const std::string& s, size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

std::string md_cell(const std::string& s, bool code) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  if (code && !out.empty()) return "`" + out + "`";
  return out;
}

}  // namespace

std::string format_param_table(const std::vector<ParamInfo>& params) {
  std::vector<Row> rows{{"NAME", "DEFAULT", "UNIT", "CHOICES", "HELP"}};
  for (const ParamInfo& p : params) rows.push_back(row_of(p));
  std::array<size_t, 5> width{};
  for (const Row& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const Row& r : rows) {
    std::string line;
    for (size_t i = 0; i + 1 < r.size(); ++i) line += pad(r[i], width[i]) + "  ";
    line += r.back();
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string format_param_markdown(const std::vector<ParamInfo>& params) {
  std::string out =
      "| Parameter | Default | Unit | Choices | Description |\n"
      "|---|---|---|---|---|\n";
  for (const ParamInfo& p : params) {
    out += "| " + md_cell(p.name, true) + " | " + md_cell(p.default_value, true) + " | " +
           md_cell(p.unit, false) + " | " + md_cell(p.choices, false) + " | " +
           md_cell(p.help, false) + " |\n";
  }
  return out;
}

}  // namespace iosim
