#include "sc_models/memory/payload_pool.h"

#include "sc_models/pcie/pcie_ext.h"

#include <gtest/gtest.h>

namespace iosim {
namespace {

TEST(PayloadPool, ReusesGivenPayloadsAndMakesNewOnesWhenAllAreTaken) {
  PayloadPool pool;
  tlm::tlm_generic_payload& a = pool.take();
  tlm::tlm_generic_payload& b = pool.take();
  EXPECT_NE(&a, &b);
  EXPECT_EQ(pool.size(), 2u);
  pool.give(a);
  EXPECT_EQ(&pool.take(), &a);  // the last given back first
  EXPECT_EQ(pool.size(), 2u);
}

TEST(PayloadPool, DestructionDetachesAnExtensionLeftSet) {
  PcieExtension ext = PcieExtension::memory(0x100);
  {
    PayloadPool pool;
    pool.take().set_extension(&ext);  // e.g. a request a stopped simulation left in flight
  }                                   // the payload must not free `ext`
  EXPECT_EQ(ext.requester_id, 0x100);
}

TEST(ExtendedPayloadPool, EachPayloadCarriesItsOwnExtensionForItsLife) {
  ExtendedPayloadPool<PcieExtension> pool;
  auto& a = pool.take();
  auto& b = pool.take();
  EXPECT_EQ(PcieExtension::of(a.gp), &a.ext);
  EXPECT_EQ(PcieExtension::of(b.gp), &b.ext);
  a.ext.requester_id = 7;
  pool.give(a);
  auto& again = pool.take();
  EXPECT_EQ(&again, &a);
  EXPECT_EQ(PcieExtension::of(again.gp), &a.ext);
  EXPECT_EQ(again.ext.requester_id, 7);  // kept: the caller sets every field it sends
}

TEST(ExtendedPayloadPool, LeaseGivesTheItemBackAtTheEndOfItsScope) {
  using Pool = ExtendedPayloadPool<PcieExtension>;
  Pool pool;
  PayloadWithExtension<PcieExtension>* first = nullptr;
  {
    const Pool::Lease l(pool);
    first = &*l;
    const Pool::Lease other(pool);
    EXPECT_NE(&*other, first);
  }
  EXPECT_EQ(pool.size(), 2u);
  const Pool::Lease l(pool);
  EXPECT_EQ(&*l, first);  // given back in reverse order: `first` is on top
  EXPECT_EQ(pool.size(), 2u);
}

TEST(ExtendedPayloadPool, DestructionKeepsOwnExtensionsAndDetachesOthers) {
  struct Other : tlm::tlm_extension<Other> {
    tlm::tlm_extension_base* clone() const override { return new Other(*this); }
    void copy_from(const tlm::tlm_extension_base&) override {}
  };
  Other other;
  {
    ExtendedPayloadPool<PcieExtension> pool;
    pool.take().gp.set_extension(&other);  // left set: must not be freed by the payload
  }  // the payload's own extension is detached by its holder, not freed twice
  SUCCEED();
}

}  // namespace
}  // namespace iosim
