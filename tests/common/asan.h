// IOSIM_ASAN: 1 when the build uses AddressSanitizer (GCC's and clang's ways of
// saying so). Tests that set a memory limit skip the limit there: ASan reserves
// terabytes of address space for its shadow memory.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define IOSIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IOSIM_ASAN 1
#endif
#endif
#ifndef IOSIM_ASAN
#define IOSIM_ASAN 0
#endif
