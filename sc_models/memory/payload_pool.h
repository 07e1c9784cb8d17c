// PayloadPool: generic payloads an initiator reuses, since constructing one
// allocates its extension array. take() hands out a free payload (a new one when
// every payload is in use, e.g. held by a process waiting in b_transport); give()
// returns it. The pool owns the payloads; on destruction it detaches whatever
// extension is still set (a request's extension lives on the stack of a process
// that a stopped simulation left suspended), so the payloads do not free it.
//
// ExtendedPayloadPool<Ext>: the same for payloads that each carry their own
// extension of type Ext, attached once for the payload's life, so a request costs
// no extension construction, validation, attach or detach. The caller sets the
// extension's fields for each request (a reused extension keeps the previous
// request's values until then).
#pragma once

#include <tlm>

#include <memory>
#include <vector>

namespace iosim {

// A generic payload with its own extension attached (see ExtendedPayloadPool).
template <class Ext>
struct PayloadWithExtension {
  tlm::tlm_generic_payload gp;
  Ext ext;

  PayloadWithExtension() { gp.set_extension(&ext); }
  // Detached before the members go: the payload would otherwise delete `ext`.
  ~PayloadWithExtension() { gp.clear_extension(&ext); }
  PayloadWithExtension(const PayloadWithExtension&) = delete;
  PayloadWithExtension& operator=(const PayloadWithExtension&) = delete;
};

// Free-list pool of `Item`s (a payload, or a payload with its extension).
template <class Item>
class BasicPayloadPool {
 public:
  BasicPayloadPool() = default;
  BasicPayloadPool(const BasicPayloadPool&) = delete;
  BasicPayloadPool& operator=(const BasicPayloadPool&) = delete;
  ~BasicPayloadPool() {
    for (auto& item : all_) {
      tlm::tlm_generic_payload& gp = payload_of(*item);
      for (unsigned i = 0; i < tlm::max_num_extensions(); ++i) {
        if (!owns(*item, gp.get_extension(i))) gp.set_extension(i, nullptr);
      }
    }
  }

  Item& take() {
    if (free_.empty()) {
      all_.push_back(std::make_unique<Item>());
      return *all_.back();
    }
    Item* item = free_.back();
    free_.pop_back();
    return *item;
  }
  void give(Item& item) { free_.push_back(&item); }

  // An item taken for a scope and given back when the scope ends.
  class Lease {
   public:
    explicit Lease(BasicPayloadPool& pool) : pool_(pool), item_(pool.take()) {}
    ~Lease() { pool_.give(item_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Item& operator*() const { return item_; }
    Item* operator->() const { return &item_; }

   private:
    BasicPayloadPool& pool_;
    Item& item_;
  };
  // Items created so far (in use or free).
  size_t size() const { return all_.size(); }

 private:
  static tlm::tlm_generic_payload& payload_of(tlm::tlm_generic_payload& gp) { return gp; }
  template <class Ext>
  static tlm::tlm_generic_payload& payload_of(PayloadWithExtension<Ext>& p) {
    return p.gp;
  }
  // The item's own extension stays: its destructor detaches it.
  static bool owns(const tlm::tlm_generic_payload&, const tlm::tlm_extension_base*) {
    return false;
  }
  template <class Ext>
  static bool owns(const PayloadWithExtension<Ext>& p, const tlm::tlm_extension_base* e) {
    return e == &p.ext;
  }

  std::vector<std::unique_ptr<Item>> all_;
  std::vector<Item*> free_;
};

using PayloadPool = BasicPayloadPool<tlm::tlm_generic_payload>;
template <class Ext>
using ExtendedPayloadPool = BasicPayloadPool<PayloadWithExtension<Ext>>;

}  // namespace iosim
