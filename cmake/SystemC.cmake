# Provides the imported target SystemC::systemc.
# Default: pkg-config module 'systemc' (Debian's libsystemc-dev, 2.3.4 with TLM-2.0).
# With -DSYSTEMC_HOME=<prefix>: headers from <prefix>/include and the library from
# <prefix>/lib, <prefix>/lib64 or <prefix>/lib-linux64 (Accellera install layouts).
# A parent project (or a second find_package) that already defines SystemC::systemc
# keeps its own. Installed with the package as iommu_simSystemC.cmake.
if(TARGET SystemC::systemc)
  return()
endif()
if(SYSTEMC_HOME)
  find_path(SYSTEMC_INCLUDE_DIR systemc.h PATHS ${SYSTEMC_HOME}/include NO_DEFAULT_PATH)
  find_library(SYSTEMC_LIBRARY systemc
               PATHS ${SYSTEMC_HOME}/lib ${SYSTEMC_HOME}/lib64 ${SYSTEMC_HOME}/lib-linux64
               NO_DEFAULT_PATH)
  if(NOT SYSTEMC_INCLUDE_DIR OR NOT SYSTEMC_LIBRARY)
    message(FATAL_ERROR "SYSTEMC_HOME=${SYSTEMC_HOME}: no systemc.h under include/ "
                        "or no libsystemc under lib/, lib64/ or lib-linux64/")
  endif()
  add_library(SystemC::systemc UNKNOWN IMPORTED)
  set_target_properties(SystemC::systemc PROPERTIES
    IMPORTED_LOCATION ${SYSTEMC_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${SYSTEMC_INCLUDE_DIR})
  find_package(Threads REQUIRED)
  set_property(TARGET SystemC::systemc APPEND PROPERTY INTERFACE_LINK_LIBRARIES Threads::Threads)
  message(STATUS "SystemC from SYSTEMC_HOME: ${SYSTEMC_LIBRARY}")
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SYSTEMC_PC REQUIRED IMPORTED_TARGET systemc>=2.3.3)
  add_library(SystemC::systemc INTERFACE IMPORTED)
  set_property(TARGET SystemC::systemc PROPERTY INTERFACE_LINK_LIBRARIES PkgConfig::SYSTEMC_PC)
  message(STATUS "SystemC from pkg-config: ${SYSTEMC_PC_VERSION}")
endif()

# IOSIM_SYSTEMC_PLAIN_INCLUDES: the SystemC headers come in with -I instead of
# -isystem, so warnings and deprecations they raise in this project's code (IEEE
# 1666-2023 deprecates SC_HAS_PROCESS, for one) are errors under IOSIM_WERROR. The
# compiler still treats its default include directories (/usr/include) as system ones:
# use it with SYSTEMC_HOME.
if(IOSIM_SYSTEMC_PLAIN_INCLUDES)
  if(CMAKE_VERSION VERSION_LESS 3.23)
    message(FATAL_ERROR "IOSIM_SYSTEMC_PLAIN_INCLUDES needs CMake 3.23 (IMPORTED_NO_SYSTEM)")
  endif()
  if(SYSTEMC_HOME)
    set_target_properties(SystemC::systemc PROPERTIES IMPORTED_NO_SYSTEM ON)
  else()
    set_target_properties(PkgConfig::SYSTEMC_PC PROPERTIES IMPORTED_NO_SYSTEM ON)
  endif()
endif()

# sc_spawn() (dynamic processes) is used by the models and test benches.
set_property(TARGET SystemC::systemc APPEND PROPERTY
             INTERFACE_COMPILE_DEFINITIONS SC_INCLUDE_DYNAMIC_PROCESSES)
