// PayloadPool: generic payloads an initiator reuses, since constructing one
// allocates its extension array. take() hands out a free payload (a new one when
// every payload is in use, e.g. held by a process waiting in b_transport); give()
// returns it. The pool owns the payloads; on destruction it detaches whatever
// extension is still set (a request's extension lives on the stack of a process
// that a stopped simulation left suspended), so the payloads do not free it.
#pragma once

#include <tlm>

#include <memory>
#include <vector>

namespace iosim {

class PayloadPool {
 public:
  PayloadPool() = default;
  PayloadPool(const PayloadPool&) = delete;
  PayloadPool& operator=(const PayloadPool&) = delete;
  ~PayloadPool() {
    for (auto& gp : all_) {
      for (unsigned i = 0; i < tlm::max_num_extensions(); ++i) gp->set_extension(i, nullptr);
    }
  }

  tlm::tlm_generic_payload& take() {
    if (free_.empty()) {
      all_.push_back(std::make_unique<tlm::tlm_generic_payload>());
      return *all_.back();
    }
    tlm::tlm_generic_payload* gp = free_.back();
    free_.pop_back();
    return *gp;
  }
  void give(tlm::tlm_generic_payload& gp) { free_.push_back(&gp); }

 private:
  std::vector<std::unique_ptr<tlm::tlm_generic_payload>> all_;
  std::vector<tlm::tlm_generic_payload*> free_;
};

}  // namespace iosim
