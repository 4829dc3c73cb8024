# The CUDA kernels' library (kernels/cuda only: one .cu per family with its C
# ABI, runtime.cc), included by the top-level CMakeLists.txt (linked into the
# addon, which adds its N-API binding from native/cuda) and by
# bench/device/CMakeLists.txt (a plain shared library for the Python checks).
# Without nvcc it switches itself off and the addon builds without CUDA.
#
# In:  TESSERA_CUDA                 (option, default ON: OFF skips the CUDA backend)
#      TESSERA_CUDA_ARCHITECTURES  (default "80-real;90-real;90-virtual":
#                                   SASS for A100 and H100/H200, PTX for newer)
#      TESSERA_CUDA_LIBRARY_TYPE    (STATIC for the addon, SHARED for bench/device)
# Out: TESSERA_HAVE_CUDA, target tessera_cuda (the C ABI of kernels/cuda/capi.h).

option(TESSERA_CUDA "Build the CUDA backend when nvcc is found" ON)
set(TESSERA_HAVE_CUDA OFF)
if(NOT TESSERA_CUDA)
  message(STATUS "Tessera: CUDA backend disabled (-DTESSERA_CUDA=OFF)")
  return()
endif()

include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(STATUS "Tessera: nvcc not found, building without the CUDA backend")
  return()
endif()

enable_language(CUDA)
# sm_90 code needs CUDA 11.8 or newer.
if(CMAKE_CUDA_COMPILER_VERSION VERSION_LESS 11.8)
  message(STATUS "Tessera: nvcc ${CMAKE_CUDA_COMPILER_VERSION} is older than 11.8, building without the CUDA backend")
  return()
endif()
set(TESSERA_HAVE_CUDA ON)

# Paths from this file, so that any project including it finds the sources.
get_filename_component(TESSERA_ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

if(NOT DEFINED TESSERA_CUDA_ARCHITECTURES)
  set(TESSERA_CUDA_ARCHITECTURES "80-real;90-real;90-virtual")
endif()
if(NOT DEFINED TESSERA_CUDA_LIBRARY_TYPE)
  set(TESSERA_CUDA_LIBRARY_TYPE STATIC)
endif()

# Each family's .cu holds its kernels and its C ABI entry points; runtime.cc
# (allocator, streams, errors) is host-only C++, built by the host compiler.
file(GLOB TESSERA_CUDA_SOURCES CONFIGURE_DEPENDS "${TESSERA_ROOT}/kernels/cuda/*.cu" "${TESSERA_ROOT}/kernels/cuda/*.cc")

add_library(tessera_cuda ${TESSERA_CUDA_LIBRARY_TYPE} ${TESSERA_CUDA_SOURCES})
target_include_directories(tessera_cuda PUBLIC "${TESSERA_ROOT}")
set_target_properties(tessera_cuda PROPERTIES
  CUDA_ARCHITECTURES "${TESSERA_CUDA_ARCHITECTURES}"
  CUDA_RUNTIME_LIBRARY Static
  CUDA_STANDARD 17
  CUDA_STANDARD_REQUIRED ON
  CXX_STANDARD 17
  CXX_STANDARD_REQUIRED ON
  POSITION_INDEPENDENT_CODE ON)
# -lineinfo costs nothing at run time and lets profilers map SASS to source.
target_compile_options(tessera_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-lineinfo>)

# The addon links with the C++ linker, which does not add CUDA's runtime by
# itself: name the static runtime (it loads the driver with dlopen, so the
# addon still loads on machines without a GPU or driver).
find_package(CUDAToolkit REQUIRED)
target_link_libraries(tessera_cuda PUBLIC CUDA::cudart_static)

message(STATUS "Tessera: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${TESSERA_CUDA_ARCHITECTURES})")
