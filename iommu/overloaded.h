// Overloaded: the lambdas of a std::visit over a command variant as one visitor (each
// front-end's command processor dispatches its decoded commands with it).
#pragma once

namespace iosim {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace iosim
