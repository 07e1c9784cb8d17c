# Sanitizer and fuzzing options.
#
#   -DIOSIM_SANITIZE=address,undefined   every target built and linked with these
#                                        sanitizers; the first error ends the program
#                                        (-fno-sanitize-recover=all)
#   -DIOSIM_FUZZ=ON                      also build the libFuzzer targets in fuzz/
#                                        (needs clang and its compiler-rt runtime)
#
# LeakSanitizer is part of AddressSanitizer on Linux. scripts/sanitizer-env has the
# run-time options the suite runs with.
set(IOSIM_SANITIZE "" CACHE STRING
    "Comma-separated sanitizers (e.g. address,undefined); empty for none")
option(IOSIM_FUZZ "Build the libFuzzer targets in fuzz/ (clang only)" OFF)

if(IOSIM_SANITIZE)
  # -O1 (after the build type's -O2, so it wins): the optimisation level the
  # sanitizers are designed for, and a faster build. -g1: line tables, so that
  # reports name file:line without a full debug build.
  add_compile_options(-fsanitize=${IOSIM_SANITIZE} -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -O1 -g1)
  add_link_options(-fsanitize=${IOSIM_SANITIZE} -fno-sanitize-recover=all)
  message(STATUS "Sanitizers: ${IOSIM_SANITIZE}")
endif()

if(IOSIM_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "IOSIM_FUZZ needs clang (libFuzzer): configure with "
                      "-DCMAKE_CXX_COMPILER=clang++")
endif()
