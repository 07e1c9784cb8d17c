// IommuInterrupts: the IOMMU's interrupt lines as software is wired to them, the same
// three lines for every architecture (each front-end's sw_interface.h says which of
// its registers tell software why a line fired). The IOMMU exports them as `irq`; the
// platform binds the drivers' ports to it (a test bench may bind them to a stub). The
// events carry no data.
#pragma once

#include <systemc>

namespace iosim {

class IommuInterrupts : public virtual sc_core::sc_interface {
 public:
  // A command-queue completion that asked for an interrupt: VT-d's inv_wait with IF=1,
  // SMMUv3's CMD_SYNC with CS=SIG_IRQ.
  virtual const sc_core::sc_event& completion_event() const = 0;
  // A fault or event was reported, or the command queue stopped on an error.
  virtual const sc_core::sc_event& fault_event() const = 0;
  // Page requests were written to the page request queue.
  virtual const sc_core::sc_event& page_request_event() const = 0;
};

}  // namespace iosim
