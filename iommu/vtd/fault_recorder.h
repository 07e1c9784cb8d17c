// FaultRecorder: primary fault logging of requests the IOMMU could not translate
// (untranslated DMA that faults, rejected translated requests), modelled on VT-d's
// fault recording registers (VT-d spec section 7.2 "Primary fault logging" and
// 11.4.14 FRCD_REG).
//
// `records` fault recording registers used round-robin. A fault is written into the
// next register; if that register still holds an unserviced fault (F = 1), the new
// fault is dropped and FSTS.PFO (primary fault overflow) is set. Software reads a
// record and writes 1 to its F bit to free it. Each recorded fault notifies the
// fault event (the fault interrupt).
//
// Register image of record i (two 64-bit registers at FRCD base + 16 i):
//   qw0: 63:12 faulting address (page)
//   qw1: 15:0 SID (Requester ID), 28 Priv, 29 Exe, 31 PP (PASID present),
//        39:32 FR (FaultReason), 59:40 PASID, 61:60 AT, 62 T (1 read, 0 write),
//        63 F (fault pending; write 1 to clear)
//
// Called by the Iommu when a request faults; the registers are read and cleared
// through its register interface. Simplification: recording takes no simulated time.
#pragma once

#include <systemc>

#include <cstdint>
#include <vector>

#include "iommu/translator.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/observe/stats.h"

namespace iosim {

// The register image of a reported fault (IommuFault) with its F bit.
struct FaultRecord : IommuFault {
  bool pending = false;  // F

  uint64_t qw0() const { return addr & kPageMask; }
  uint64_t qw1() const;
};

class FaultRecorder {
 public:
  FaultRecorder(unsigned records, StatGroup& stats);

  // Records a fault; returns false when it was dropped (overflow).
  bool record(const IommuFault& f);

  const FaultRecord& at(unsigned i) const { return records_.at(i); }
  unsigned size() const { return static_cast<unsigned>(records_.size()); }
  // W1C of the F bit.
  void clear(unsigned i) { records_.at(i).pending = false; }
  bool pending_fault() const;  // FSTS.PPF
  bool overflow() const { return overflow_; }
  void clear_overflow() { overflow_ = false; }
  sc_core::sc_event& event() { return event_; }
  const sc_core::sc_event& event() const { return event_; }
  uint64_t recorded() const { return recorded_.value(); }

 private:
  std::vector<FaultRecord> records_;
  unsigned next_ = 0;
  bool overflow_ = false;
  sc_core::sc_event event_;
  Counter& recorded_;
  Counter& dropped_;
};

}  // namespace iosim
