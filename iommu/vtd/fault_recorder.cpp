// FaultRecorder: VT-d-style fault recording registers.
#include "iommu/vtd/fault_recorder.h"
#include "iommu/stat_names.h"

namespace iosim {

uint64_t FaultRecord::qw1() const {
  return uint64_t{sid} | (uint64_t{priv} << 28) | (uint64_t{exe} << 29) |
         (uint64_t{pasid_present} << 31) | (uint64_t{static_cast<uint8_t>(reason)} << 32) |
         (uint64_t{pasid & 0xfffff} << 40) | (uint64_t{static_cast<uint8_t>(at)} << 60) |
         (uint64_t{read} << 62) | (uint64_t{pending} << 63);
}

FaultRecorder::FaultRecorder(unsigned records, StatGroup& g)
    : records_(records),
      recorded_(
          g.counter(IommuStats::kFaultsRecorded, "faults", "faults written to fault records")),
      dropped_(g.counter("faults_dropped", "faults", "faults dropped: record still pending")) {}

bool FaultRecorder::record(const IommuFault& f) {
  FaultRecord& slot = records_[next_];
  if (slot.pending) {
    overflow_ = true;
    dropped_.inc();
    event_.notify(sc_core::SC_ZERO_TIME);
    return false;
  }
  static_cast<IommuFault&>(slot) = f;
  slot.pending = true;
  next_ = (next_ + 1) % size();
  recorded_.inc();
  event_.notify(sc_core::SC_ZERO_TIME);
  return true;
}

bool FaultRecorder::pending_fault() const {
  for (const auto& r : records_) {
    if (r.pending) return true;
  }
  return false;
}

}  // namespace iosim
