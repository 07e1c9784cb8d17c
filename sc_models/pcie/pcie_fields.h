// Widths and limits of the PCIe protocol fields the models encode or check.
// Section numbers are those of the PCI Express Base Specification, Revision 6.0.
#pragma once

#include <cstdint>

namespace iosim {

// 6.20.2.1 PASID TLP Prefix: the PASID field is 20 bits.
inline constexpr unsigned kPasidBits = 20;
inline constexpr uint32_t kPasidMax = (1u << kPasidBits) - 1;

// 2.2.6.2 Transaction Descriptor, Requester ID: Bus (8), Device (5), Function (3).
inline constexpr uint32_t kRequesterIdMax = 0xffff;

// 10.2.3 / 10.5.1.3: translations and invalidations cover naturally aligned ranges of
// at least 4096 bytes (the Smallest Translation Unit is 2^(STU + 12) bytes; STU 0).
inline constexpr unsigned kAtsPageShift = 12;
// log2 of the size of "the whole address space" (a 64-bit range; not a field).
inline constexpr unsigned kAtsWholeSpaceLog2 = 64;

// 10.3.1 Invalidate Request Message: the ITag field is 5 bits (32 tags; the ITag Vector
// of the Invalidate Completion, 10.3.2, has one bit per tag).
inline constexpr unsigned kItagBits = 5;
inline constexpr unsigned kItagMax = (1u << kItagBits) - 1;

// 10.3.2 Invalidate Completion Message: Completion Count is 3 bits, 000b encodes 8.
inline constexpr unsigned kInvCompletionCountMax = 8;

// 10.5.1.2 ATS Capability Register: Invalidate Queue Depth is 5 bits, 00000b encodes 32.
inline constexpr unsigned kInvalidateQueueDepthMax = 31;

// 10.4.1 Page Request Message: the Page Request Group Index is 9 bits.
inline constexpr unsigned kPrgIndexBits = 9;
inline constexpr unsigned kPrgIndexMax = (1u << kPrgIndexBits) - 1;

// 7.5.3.4 Device Control Register, Max_Payload_Size: 128 to 4096 bytes.
inline constexpr uint64_t kMinPayloadBytes = 128;
inline constexpr uint64_t kMaxPayloadBytes = 4096;

}  // namespace iosim
