// Choice parameters: configuration keys whose text is one of a fixed set of names.
//
// Each choice is declared once, as a table of the names it accepts, a line of help
// per name and the value each name stands for (an enum value or a policy factory):
//
//   enum class FrameReuse { kLifo, kFifo };
//   inline constexpr ChoiceValue<FrameReuse> kFrameReuseValues[] = {
//       {"lifo", FrameReuse::kLifo, "most recently freed frame first"},
//       {"fifo", FrameReuse::kFifo, "oldest freed frame first"}};
//   inline constexpr Choices<FrameReuse> kFrameReuse{kFrameReuseValues};
//
// The configuration field holds the value (FrameReuse reuse = FrameReuse::kLifo) and
// visit() lists it with v.choice("reuse", reuse, kFrameReuse, "help"): the text is
// resolved when the configuration is read (a name not in the table is a ParamError
// that lists the accepted names), and --list-params and the README's parameter table
// print the names and their help from the same table. Models compare values, never
// text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace iosim {

template <class T>
struct ChoiceValue {
  const char* name;  // the text in a configuration
  T value;
  const char* help;  // one line: what this value selects
};

template <class T>
class Choices {
 public:
  template <size_t N>
  constexpr Choices(const ChoiceValue<T> (&values)[N]) : values_(values), size_(N) {}
  // The first `size` entries of a table (a choice that accepts part of another's values).
  constexpr Choices(const ChoiceValue<T>* values, size_t size) : values_(values), size_(size) {}

  constexpr const ChoiceValue<T>* begin() const { return values_; }
  constexpr const ChoiceValue<T>* end() const { return values_ + size_; }
  constexpr size_t size() const { return size_; }

  // The entry called `name`; nullptr when there is none.
  const ChoiceValue<T>* find(std::string_view name) const {
    for (const ChoiceValue<T>& c : *this) {
      if (name == c.name) return &c;
    }
    return nullptr;
  }
  // The name of `value`; empty when the table does not hold it.
  std::string name_of(const T& value) const {
    for (const ChoiceValue<T>& c : *this) {
      if (c.value == value) return c.name;
    }
    return {};
  }
  // "a|b|c".
  std::string names() const {
    std::string s;
    for (const ChoiceValue<T>& c : *this) {
      if (!s.empty()) s += "|";
      s += c.name;
    }
    return s;
  }
  // "a: help of a; b: help of b".
  std::string help() const {
    std::string s;
    for (const ChoiceValue<T>& c : *this) {
      if (!s.empty()) s += "; ";
      s += std::string(c.name) + ": " + c.help;
    }
    return s;
  }

 private:
  const ChoiceValue<T>* values_;
  size_t size_;
};

}  // namespace iosim
