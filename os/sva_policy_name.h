// SvaPolicyName: the sva.policy choice, the range-to-command invalidation policy of
// the SVA driver of the chosen IOMMU architecture (iommu.arch). Each driver accepts
// its own: VT-d (os/sva_policy.h) intel and amd_legacy, SMMUv3
// (os/smmuv3_sva_driver.h) arm, RISC-V (os/riscv_sva_driver.h) riscv; auto is the
// architecture's Linux driver.
#pragma once

#include <cstdint>

#include "sc_models/config/choice.h"

namespace iosim {

enum class SvaPolicyName : uint8_t { kAuto, kIntel, kAmdLegacy, kArm, kRiscv };

inline constexpr ChoiceValue<SvaPolicyName> kSvaPolicyValues[] = {
    {"auto", SvaPolicyName::kAuto,
     "the architecture's Linux driver: intel on vtd, arm on smmuv3, riscv on riscv"},
    {"intel", SvaPolicyName::kIntel,
     "vtd: Linux 6.12+ VT-d cache-tag flush: aligned PSI blocks, batched"},
    {"amd_legacy", SvaPolicyName::kAmdLegacy,
     "vtd: Linux <= 6.6 AMD iommu_v2's rule: one page, else the whole PASID"},
    {"arm", SvaPolicyName::kArm,
     "smmuv3: Linux arm-smmu-v3-sva: TLBIs by range (or one by ASID), then one ATC_INV per "
     "device"},
    {"riscv", SvaPolicyName::kRiscv,
     "riscv: Linux riscv-iommu: IOTINVAL.VMA per page below 2 MiB, else by PSCID; then "
     "ATS.INVAL per device"}};
inline constexpr Choices<SvaPolicyName> kSvaPolicy{kSvaPolicyValues};

}  // namespace iosim
