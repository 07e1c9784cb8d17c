// Scenario-script lexer and parser.
#include "platform/script_parser.h"

#include "platform/input_file.h"

#include <sstream>

namespace iosim {

namespace {

bool is_symbol_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_word_char(char c) {
  return is_symbol_start(c) || is_digit(c) || c == '.' || c == '-';
}

struct Unit {
  const char* suffix;
  uint64_t scale;
};
constexpr Unit kDurationUnits[] = {
    {"ps", 1}, {"ns", 1000}, {"us", 1000000}, {"ms", 1000000000}, {"s", 1000000000000}};
constexpr Unit kSizeSuffixes[] = {{"", 1}, {"K", 1ull << 10}, {"M", 1ull << 20}, {"G", 1ull << 30}};

// Lexes one line into a statement; throws ScriptError at the first problem.
class LineParser {
 public:
  LineParser(const std::string& line, const std::string& file, int line_no)
      : s_(line), file_(file), line_(line_no) {}

  ScriptStatement parse(size_t start) {
    pos_ = start;
    ScriptStatement st;
    if (s_[pos_] == '@') parse_time(st);
    skip_space();
    if (at_end() || !is_symbol_start(s_[pos_])) fail(pos_, "expected a statement keyword");
    st.loc = loc(pos_);
    st.keyword = read_word();
    while (skip_space(), !at_end()) {
      if (s_[pos_] == ':') {
        size_t colon = pos_++;
        skip_space();
        if (!at_end()) fail(colon, "':' must end the line (it opens a block)");
        st.is_block = true;
        break;
      }
      parse_argument(st);
    }
    return st;
  }

 private:
  bool at_end() const { return pos_ >= s_.size() || s_[pos_] == '#'; }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  ScriptLoc loc(size_t p) const { return {file_, line_, static_cast<int>(p) + 1}; }
  [[noreturn]] void fail(size_t p, const std::string& msg) const {
    throw ScriptError(script_error(loc(p), "", msg));
  }
  std::string read_word() {
    size_t b = pos_;
    while (pos_ < s_.size() && is_word_char(s_[pos_])) ++pos_;
    return s_.substr(b, pos_ - b);
  }

  void parse_time(ScriptStatement& st) {
    st.time_loc = loc(pos_);
    ++pos_;
    if (pos_ >= s_.size() || !is_digit(s_[pos_])) {
      fail(pos_, "expected a duration such as 100ns after '@'");
    }
    ScriptValue v = parse_value();
    if (v.kind != ScriptValue::Kind::kDuration) {
      fail(v.loc.column - 1, "expected a duration such as 100ns after '@'");
    }
    st.time_ps = v.duration_ps;
  }

  void parse_argument(ScriptStatement& st) {
    size_t start = pos_;
    if (s_[pos_] == '@') fail(pos_, "'@time' must start the statement");
    ScriptValue v = parse_value();
    if (pos_ < s_.size() && s_[pos_] == '=') {
      if (v.kind != ScriptValue::Kind::kSymbol) fail(start, "expected an argument name before '='");
      ++pos_;
      if (pos_ >= s_.size() || s_[pos_] == ' ' || s_[pos_] == '#' || s_[pos_] == ':') {
        fail(pos_, "expected a value after '" + v.text + "='");
      }
      st.named.push_back({v.text, parse_value(), v.loc});
    } else {
      st.positional.push_back(std::move(v));
    }
  }

  ScriptValue parse_value() {
    ScriptValue v;
    v.loc = loc(pos_);
    if (pos_ >= s_.size()) fail(pos_, "expected a value");
    char c = s_[pos_];
    if (c == '"') return parse_string(v);
    if (is_symbol_start(c)) {
      v.text = read_word();
      return v;
    }
    if (!is_digit(c)) fail(pos_, std::string("unexpected character '") + c + "'");
    v.text = read_word();
    parse_number(v);
    return v;
  }

  ScriptValue parse_string(ScriptValue& v) {
    size_t close = s_.find('"', pos_ + 1);
    if (close == std::string::npos) fail(pos_, "unterminated string (expected a closing '\"')");
    v.kind = ScriptValue::Kind::kString;
    v.text = s_.substr(pos_ + 1, close - pos_ - 1);
    pos_ = close + 1;
    return v;
  }

  // Integer with optional size suffix, or duration.
  void parse_number(ScriptValue& v) {
    const std::string& t = v.text;
    bool hex = t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
    size_t i = hex ? 2 : 0;
    uint64_t n = 0;
    bool overflow = false;
    for (; i < t.size(); ++i) {
      int d = digit_value(t[i], hex);
      if (d < 0) break;
      uint64_t base = hex ? 16 : 10;
      overflow = overflow || n > (UINT64_MAX - d) / base;
      n = n * base + d;
    }
    std::string suffix = t.substr(i);
    size_t col = v.loc.column - 1;
    if (overflow) fail(col, "number '" + t + "' does not fit in 64 bits");
    for (const Unit& u : kSizeSuffixes) {
      if (suffix == u.suffix) return set_scaled(v, ScriptValue::Kind::kInteger, n, u.scale, col);
    }
    for (const Unit& u : kDurationUnits) {
      if (!hex && suffix == u.suffix) {
        return set_scaled(v, ScriptValue::Kind::kDuration, n, u.scale, col);
      }
    }
    fail(col, "bad number '" + t +
                  "' (expected an integer such as 4, 0x10 or 2M, or a duration such as 100ns)");
  }

  static int digit_value(char c, bool hex) {
    if (is_digit(c)) return c - '0';
    if (hex && c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  void set_scaled(ScriptValue& v, ScriptValue::Kind kind, uint64_t n, uint64_t scale,
                  size_t col) const {
    if (n != 0 && scale > UINT64_MAX / n) fail(col, "number '" + v.text + "' is too large");
    v.kind = kind;
    (kind == ScriptValue::Kind::kInteger ? v.integer : v.duration_ps) = n * scale;
  }

  const std::string& s_;
  const std::string& file_;
  int line_;
  size_t pos_ = 0;
};

// Joins leading symbols into a registered multi-word keyword (longest match).
void apply_multiword(ScriptStatement& st, const std::vector<std::string>& keywords) {
  size_t best_words = 0;
  for (const std::string& k : keywords) {
    std::istringstream in(k);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.size() < 2 || words.size() <= best_words || words[0] != st.keyword) continue;
    bool match = words.size() - 1 <= st.positional.size();
    for (size_t i = 1; match && i < words.size(); ++i) {
      const ScriptValue& v = st.positional[i - 1];
      match = v.kind == ScriptValue::Kind::kSymbol && v.text == words[i];
    }
    if (match) best_words = words.size();
  }
  for (size_t i = 1; i < best_words; ++i) st.keyword += " " + st.positional[i - 1].text;
  if (best_words > 1)
    st.positional.erase(st.positional.begin(), st.positional.begin() + best_words - 1);
}

// Places parsed statements into blocks by indentation.
class BlockBuilder {
 public:
  BlockBuilder(ScriptParseResult& r) : r_(r) { stack_.push_back({0, &r.statements}); }

  void add(ScriptStatement st, int indent) {
    if (pending_) {
      if (indent > pending_indent_) {
        stack_.push_back({indent, &pending_->children});
      } else {
        report_empty_block();
      }
      pending_ = nullptr;
    }
    bool dedented = false;
    while (stack_.size() > 1 && indent < stack_.back().indent) {
      stack_.pop_back();
      dedented = true;
    }
    if (indent != stack_.back().indent) {
      r_.errors.push_back(script_error({st.loc.file, st.loc.line, indent + 1}, "",
                                       indent > stack_.back().indent && !dedented
                                           ? "unexpected indentation (no block is open here)"
                                           : "indentation does not match any enclosing block"));
      return;
    }
    std::vector<ScriptStatement>& list = *stack_.back().list;
    list.push_back(std::move(st));
    if (list.back().is_block) {
      pending_ = &list.back();
      pending_indent_ = indent;
    }
  }
  void finish() {
    if (pending_) report_empty_block();
  }

 private:
  struct Frame {
    int indent;
    std::vector<ScriptStatement>* list;
  };
  void report_empty_block() {
    r_.errors.push_back(script_error(
        pending_->loc, "", "expected an indented block after '" + pending_->keyword + " ...:'"));
  }

  ScriptParseResult& r_;
  std::vector<Frame> stack_;
  ScriptStatement* pending_ = nullptr;
  int pending_indent_ = 0;
};

}  // namespace

ScriptParseResult parse_script(const std::string& text, const std::string& file,
                               const std::vector<std::string>& multiword_keywords) {
  ScriptParseResult r;
  BlockBuilder blocks(r);
  std::istringstream in(text);
  std::string line;
  for (int no = 1; std::getline(in, line); ++no) {
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    size_t tab = line.find('\t');
    if (tab < first) {
      r.errors.push_back(script_error({file, no, static_cast<int>(tab) + 1}, "",
                                      "tab in indentation (indent with spaces)"));
      continue;
    }
    try {
      ScriptStatement st = LineParser(line, file, no).parse(first);
      apply_multiword(st, multiword_keywords);
      blocks.add(std::move(st), static_cast<int>(first));
    } catch (const ScriptError& e) {
      r.errors.push_back(e.error());
    }
  }
  blocks.finish();
  return r;
}

ScriptParseResult parse_script_file(const std::string& path,
                                    const std::vector<std::string>& multiword_keywords) {
  std::string text, error;
  if (!read_input_file(path, kMaxScriptFileBytes, "script file", text, error)) {
    ScriptParseResult r;
    r.errors.push_back({path, 0, std::nullopt, "", error});
    return r;
  }
  return parse_script(text, path, multiword_keywords);
}

}  // namespace iosim
