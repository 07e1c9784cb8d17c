// SvaPolicyName: the sva.policy choice, the range-to-command invalidation policy of
// the SVA driver of the chosen IOMMU architecture (iommu.arch). Each driver accepts
// its own: VT-d (os/sva_policy.h) intel, SMMUv3 (os/smmuv3_sva_driver.h) arm, RISC-V
// (os/riscv_sva_driver.h) riscv, AMD-Vi (os/amdvi_sva_driver.h) amd and amd_legacy;
// auto is the architecture's Linux driver.
#pragma once

#include <cstdint>

#include "sc_models/config/choice.h"

namespace iosim {

enum class SvaPolicyName : uint8_t { kAuto, kIntel, kArm, kRiscv, kAmd, kAmdLegacy };

inline constexpr ChoiceValue<SvaPolicyName> kSvaPolicyValues[] = {
    {"auto", SvaPolicyName::kAuto,
     "the architecture's Linux driver: intel on vtd, arm on smmuv3, riscv on riscv, amd on "
     "amdvi"},
    {"intel", SvaPolicyName::kIntel,
     "vtd: Linux 6.12+ VT-d cache-tag flush: aligned PSI blocks, batched"},
    {"arm", SvaPolicyName::kArm,
     "smmuv3: Linux arm-smmu-v3-sva: TLBIs by range (or one by ASID), then one ATC_INV per "
     "device"},
    {"riscv", SvaPolicyName::kRiscv,
     "riscv: Linux riscv-iommu: IOTINVAL.VMA per page below 2 MiB, else by PSCID; then "
     "ATS.INVAL per device"},
    {"amd", SvaPolicyName::kAmd,
     "amdvi: Linux 6.10 amd_iommu: one aligned S-bit range per device (IOMMU pages and IOTLB "
     "pages), one completion wait"},
    {"amd_legacy", SvaPolicyName::kAmdLegacy,
     "amdvi: Linux <= 6.6 amd_iommu_v2: one page, else the whole PASID, a wait after each "
     "command"}};
inline constexpr Choices<SvaPolicyName> kSvaPolicy{kSvaPolicyValues};

}  // namespace iosim
