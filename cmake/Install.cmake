# Install rules and the CMake package `iommu_sim`:
#   include/iommu_sim/<folder>/*.h   headers, included as "<folder>/<file>.h"
#   lib/libiommu_sim_<name>.a        one static library per folder (sc_models/ has one
#                                    per sub-folder: timing, config, observe, memory,
#                                    page_table, pcie, cache, check, sim; iommu/ one for
#                                    the core and one per front-end: vtd, smmuv3)
#   include/iommu_sim/testing/       the TLM test fixtures of iommu_sim::testing
#   bin/iommu-sim                    the command line
#   lib/cmake/iommu_sim/             iommu_simConfig.cmake, its version file, the
#                                    exported targets iommu_sim::<name>
# An outside project does find_package(iommu_sim) and links iommu_sim::device etc.;
# the package finds SystemC the way this build did (cmake/SystemC.cmake, the same
# SYSTEMC_HOME unless the user sets another) and Boost program_options.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(IOSIM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/iommu_sim CACHE STRING
    "Where the iommu_sim CMake package files are installed (relative to the prefix)")

set(_iosim_folders sc_models iommu os cpu device platform)
foreach(_folder ${_iosim_folders})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${_folder}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/iommu_sim/${_folder}
          FILES_MATCHING PATTERN "*.h")
endforeach()
set(_iosim_targets ${IOSIM_LIBRARIES})

# The test fixtures of iommu_sim::testing (CMakeLists.txt).
foreach(_h common/tlm_bench.h device/stub_iommu.h iommu/iommu_bench.h)
  get_filename_component(_dir ${_h} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/tests/${_h}
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/iommu_sim/testing/${_dir})
endforeach()
list(APPEND _iosim_targets iommu_sim_testing)

install(TARGETS ${_iosim_targets} EXPORT iommu_simTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS iommu-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT iommu_simTargets NAMESPACE iommu_sim::
        DESTINATION ${IOSIM_INSTALL_CMAKEDIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/iommu_simConfig.cmake.in
  ${PROJECT_BINARY_DIR}/iommu_simConfig.cmake
  INSTALL_DESTINATION ${IOSIM_INSTALL_CMAKEDIR})
# 0.x releases: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/iommu_simConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/iommu_simConfig.cmake
              ${PROJECT_BINARY_DIR}/iommu_simConfigVersion.cmake
        DESTINATION ${IOSIM_INSTALL_CMAKEDIR})
install(FILES ${PROJECT_SOURCE_DIR}/cmake/SystemC.cmake
        DESTINATION ${IOSIM_INSTALL_CMAKEDIR} RENAME iommu_simSystemC.cmake)
