# ctest driver (cmake -P): installs this build into <work>/prefix, configures and
# builds tests/embed against the installed iommu_sim package alone, runs it, and
# checks that its 100 DMA reads reached memory and took simulated time; then runs
# embed_testing (built on the installed iommu_sim::testing fixtures) and checks that
# the stub device read the mapped value and that the IOTLB hit was faster than the miss.
# Variables: BUILD_DIR (the project's build tree), SOURCE_DIR (tests/embed), WORK_DIR,
# CXX_COMPILER, CXX_LAUNCHER (may be empty), SYSTEMC_HOME (may be empty), README.
foreach(_v BUILD_DIR SOURCE_DIR WORK_DIR CXX_COMPILER)
  if(NOT ${_v})
    message(FATAL_ERROR "run_embed_test.cmake: ${_v} is not set")
  endif()
endforeach()

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${_rc}):\n${_out}\n${_err}")
  endif()
  set(step_output "${_out}" PARENT_SCOPE)
endfunction()

# The README's "Embed it" example is this project's embed_main.cpp, verbatim.
if(README)
  file(READ ${README} _readme)
  file(READ ${SOURCE_DIR}/embed_main.cpp _example)
  string(FIND "${_readme}" "```cpp\n${_example}```" _at)
  if(_at EQUAL -1)
    message(FATAL_ERROR "${README}: the \"Embed it\" example differs from "
                        "${SOURCE_DIR}/embed_main.cpp")
  endif()
endif()

file(REMOVE_RECURSE ${WORK_DIR})
set(_prefix ${WORK_DIR}/prefix)
run_step("install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${_prefix})
foreach(_f include/iommu_sim/device/device.h include/iommu_sim/sc_models/memory/physical_memory.h
           include/iommu_sim/testing/iommu/iommu_bench.h
           lib/cmake/iommu_sim/iommu_simConfig.cmake
           lib/cmake/iommu_sim/iommu_simConfigVersion.cmake bin/iommu-sim)
  if(NOT EXISTS ${_prefix}/${_f})
    message(FATAL_ERROR "install did not put ${_f} in the prefix")
  endif()
endforeach()

run_step("configure tests/embed" ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build
         -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${_prefix}
         -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER}
         -DSYSTEMC_HOME=${SYSTEMC_HOME})
run_step("build tests/embed" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
set(ENV{SYSTEMC_DISABLE_COPYRIGHT_MESSAGE} 1)
run_step("run embed_main" ${WORK_DIR}/build/embed_main)
message(STATUS "embed_main: ${step_output}")

# 100 reads of 64 bytes, each at least the 90 ns idle DRAM latency after issue with
# at most 4 in flight: at least 25 x 90 ns of simulated time.
if(NOT step_output MATCHES "memory reads ([0-9]+) in ([0-9]+)[.0-9]* ns")
  message(FATAL_ERROR "unexpected output of embed_main: ${step_output}")
endif()
if(NOT CMAKE_MATCH_1 EQUAL 100)
  message(FATAL_ERROR "embed_main: expected 100 memory reads, got ${CMAKE_MATCH_1}")
endif()
if(CMAKE_MATCH_2 LESS 2250)
  message(FATAL_ERROR "embed_main: 100 reads took ${CMAKE_MATCH_2} ns, less than 2250 ns")
endif()

run_step("run embed_testing" ${WORK_DIR}/build/embed_testing)
message(STATUS "embed_testing: ${step_output}")
if(NOT step_output MATCHES "value ([0-9]+) miss ([0-9]+)[.0-9]* ns hit ([0-9]+)[.0-9]* ns")
  message(FATAL_ERROR "unexpected output of embed_testing: ${step_output}")
endif()
if(NOT CMAKE_MATCH_1 EQUAL 42)
  message(FATAL_ERROR "embed_testing: the DMA read ${CMAKE_MATCH_1}, not the mapped 42")
endif()
if(NOT CMAKE_MATCH_3 LESS CMAKE_MATCH_2)
  message(FATAL_ERROR "embed_testing: IOTLB hit ${CMAKE_MATCH_3} ns not faster than miss "
                      "${CMAKE_MATCH_2} ns")
endif()
