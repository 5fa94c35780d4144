# Finds LibTorch for libtorchinfer, with no CUDA toolkit needed, and defines:
#
#   ti_torch            INTERFACE target: include dirs, compile flags and the libraries to link
#                       (torch, torch_cpu, c10, and torch_cuda + c10_cuda when present)
#   TI_TORCH_VERSION    "2.15.0"
#   TI_TORCH_LIB_DIR    the directory holding libtorch_cpu.so (the library's RUNPATH)
#   TI_TORCH_HAS_CUDA   TRUE when this LibTorch ships libtorch_cuda
#   TI_TORCH_SOURCE     how it was found, for the configure summary
#
# Where LibTorch comes from (first that is set wins):
#   -DTI_TORCH_PYTHON=/path/to/python  the `torch` package of that interpreter (a pip wheel);
#                                      torch is located without being imported
#   -DTI_TORCH_ROOT=/path/to/libtorch  an unpacked LibTorch zip, or a torch package directory
#   CMAKE_PREFIX_PATH / Torch_DIR      wherever TorchConfig.cmake is (official zip, Debian's
#                                      libtorch-dev, or a wheel's torch.utils.cmake_prefix_path)
#
# TorchConfig.cmake is used when it can be: a CUDA-flavoured LibTorch (every Linux pip wheel)
# makes it stop with "cannot find the CUDA libraries" unless a CUDA toolkit is installed, and
# we compile no CUDA code. In that case, or when there is no TorchConfig.cmake, the include/ and
# lib/ directories under the same torch root are used directly.

set(TI_TORCH_PYTHON "" CACHE FILEPATH "Python whose `torch` package provides LibTorch (optional)")
set(TI_TORCH_ROOT "" CACHE PATH "Root of a LibTorch install: include/ and lib/ (optional)")

function(_ti_torch_root_from_python python out_var)
  execute_process(
    COMMAND "${python}" -c
      "import importlib.util, os; s = importlib.util.find_spec('torch'); print(os.path.dirname(s.origin) if s and s.origin else '')"
    OUTPUT_VARIABLE root OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR root STREQUAL "")
    message(FATAL_ERROR "TI_TORCH_PYTHON=${python} has no `torch` package (${err})")
  endif()
  set(${out_var} "${root}" PARENT_SCOPE)
endfunction()

# "2.15.0" from LibTorch's own version header (present since 1.10).
function(_ti_torch_version_from_headers include_dirs out_var)
  foreach(dir ${include_dirs})
    foreach(header torch/headeronly/version.h torch/csrc/api/include/torch/version.h torch/version.h)
      if(EXISTS "${dir}/${header}")
        file(STRINGS "${dir}/${header}" lines REGEX "#define TORCH_VERSION_(MAJOR|MINOR|PATCH) ")
        if(lines MATCHES "MAJOR ([0-9]+)")
          set(major ${CMAKE_MATCH_1})
          string(REGEX MATCH "MINOR ([0-9]+)" _ "${lines}")
          set(minor ${CMAKE_MATCH_1})
          string(REGEX MATCH "PATCH ([0-9]+)" _ "${lines}")
          set(${out_var} "${major}.${minor}.${CMAKE_MATCH_1}" PARENT_SCOPE)
          return()
        endif()
      endif()
    endforeach()
  endforeach()
  set(${out_var} "" PARENT_SCOPE)
endfunction()

# --- 1. Where is LibTorch? ------------------------------------------------------------------
set(_ti_root "")
set(_ti_config_dir "")
if(TI_TORCH_PYTHON)
  _ti_torch_root_from_python("${TI_TORCH_PYTHON}" _ti_root)
  set(TI_TORCH_SOURCE "the torch package of ${TI_TORCH_PYTHON}")
elseif(TI_TORCH_ROOT)
  get_filename_component(_ti_root "${TI_TORCH_ROOT}" ABSOLUTE)
  set(TI_TORCH_SOURCE "TI_TORCH_ROOT")
else()
  # Located here rather than by find_package, which cannot recover from TorchConfig's errors.
  find_path(_ti_config_dir_found TorchConfig.cmake
    PATHS "${Torch_DIR}" ${CMAKE_PREFIX_PATH} $ENV{CMAKE_PREFIX_PATH} ${CMAKE_SYSTEM_PREFIX_PATH}
    PATH_SUFFIXES . Torch share/cmake/Torch lib/cmake/Torch lib/${CMAKE_LIBRARY_ARCHITECTURE}/cmake/Torch
    NO_DEFAULT_PATH NO_CACHE)
  if(NOT _ti_config_dir_found)
    message(FATAL_ERROR
      "LibTorch not found. Install Debian's libtorch-dev, or point CMake at a LibTorch:\n"
      "  -DCMAKE_PREFIX_PATH=/path/to/libtorch                      (official zip)\n"
      "  -DTI_TORCH_PYTHON=/path/to/python                          (a pip-installed torch)\n"
      "  -DCMAKE_PREFIX_PATH=$(python -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')")
  endif()
  set(_ti_config_dir "${_ti_config_dir_found}")
  set(TI_TORCH_SOURCE "TorchConfig.cmake in ${_ti_config_dir}")
  # <root>/share/cmake/Torch for the zip and wheels; Debian keeps it under the multiarch libdir.
  get_filename_component(_ti_guess "${_ti_config_dir}/../../.." ABSOLUTE)
  if(EXISTS "${_ti_guess}/include/torch" AND EXISTS "${_ti_guess}/lib")
    set(_ti_root "${_ti_guess}")
  endif()
endif()
if(_ti_root AND NOT _ti_config_dir AND EXISTS "${_ti_root}/share/cmake/Torch/TorchConfig.cmake")
  set(_ti_config_dir "${_ti_root}/share/cmake/Torch")
endif()
if(_ti_root AND NOT EXISTS "${_ti_root}/include/torch")
  message(FATAL_ERROR "${_ti_root} is not a LibTorch root: it has no include/torch")
endif()

# --- 2. Can TorchConfig.cmake be used? ------------------------------------------------------
set(_ti_has_cuda FALSE)
if(_ti_root AND EXISTS "${_ti_root}/lib/libtorch_cuda.so")
  set(_ti_has_cuda TRUE)
endif()
set(_ti_use_config FALSE)
if(_ti_config_dir)
  set(_ti_use_config TRUE)
  if(_ti_has_cuda)
    find_package(CUDAToolkit QUIET)
    if(NOT CUDAToolkit_FOUND)
      set(_ti_use_config FALSE)
      message(STATUS "torchinfer: CUDA-flavoured LibTorch and no CUDA toolkit: "
                     "using ${_ti_root}/include and lib directly (TorchConfig.cmake would stop)")
    endif()
  endif()
endif()

add_library(ti_torch INTERFACE)

if(_ti_use_config)
  # --- 3a. TorchConfig.cmake --------------------------------------------------------------
  find_package(Torch REQUIRED CONFIG HINTS "${_ti_config_dir}" NO_DEFAULT_PATH)
  target_link_libraries(ti_torch INTERFACE ${TORCH_LIBRARIES})
  set(_ti_include_dirs ${TORCH_INCLUDE_DIRS})
  set(_ti_lib_dir "")
  foreach(candidate torch_cpu torch)
    if(TARGET ${candidate} AND NOT _ti_lib_dir)
      foreach(prop IMPORTED_LOCATION IMPORTED_LOCATION_RELEASE IMPORTED_LOCATION_RELWITHDEBINFO)
        get_target_property(location ${candidate} ${prop})
        if(location AND NOT _ti_lib_dir)
          get_filename_component(_ti_lib_dir "${location}" DIRECTORY)
        endif()
      endforeach()
    endif()
  endforeach()
  if(NOT _ti_lib_dir)
    find_library(_ti_torch_cpu torch_cpu PATHS "${TORCH_INSTALL_PREFIX}/lib" REQUIRED NO_CACHE)
    get_filename_component(_ti_lib_dir "${_ti_torch_cpu}" DIRECTORY)
  endif()
  if(TARGET torch_cuda OR "${TORCH_LIBRARIES}" MATCHES "torch_cuda")
    set(_ti_has_cuda TRUE)
  endif()
else()
  # --- 3b. include/ and lib/ under the torch root ------------------------------------------
  set(_ti_lib_dir "${_ti_root}/lib")
  set(_ti_include_dirs "${_ti_root}/include" "${_ti_root}/include/torch/csrc/api/include")
  set(_ti_libs torch torch_cpu c10)
  if(_ti_has_cuda)
    list(APPEND _ti_libs torch_cuda c10_cuda)
  endif()
  foreach(lib ${_ti_libs})
    if(NOT EXISTS "${_ti_lib_dir}/lib${lib}.so")
      message(FATAL_ERROR "${_ti_lib_dir}/lib${lib}.so is missing: not a complete LibTorch")
    endif()
    target_link_libraries(ti_torch INTERFACE "${_ti_lib_dir}/lib${lib}.so")
  endforeach()
  target_include_directories(ti_torch SYSTEM INTERFACE ${_ti_include_dirs})
  # Older LibTorch builds state the libstdc++ ABI they were built with.
  if(_ti_config_dir AND EXISTS "${_ti_config_dir}/TorchConfig.cmake")
    file(READ "${_ti_config_dir}/TorchConfig.cmake" _ti_config_text)
    if(_ti_config_text MATCHES "_GLIBCXX_USE_CXX11_ABI=([01])")
      target_compile_definitions(ti_torch INTERFACE _GLIBCXX_USE_CXX11_ABI=${CMAKE_MATCH_1})
    endif()
  endif()
  # The libraries' transitive dependencies (CUDA runtime wheels) are found through their own
  # RPATHs ($ORIGIN/../../nvidia/...) at run time; the linker needs to be told where they are.
  file(GLOB _ti_nvidia_dirs LIST_DIRECTORIES true "${_ti_root}/../nvidia/*/lib")
  foreach(dir ${_ti_nvidia_dirs})
    target_link_options(ti_torch INTERFACE "LINKER:-rpath-link,${dir}")
  endforeach()
endif()

_ti_torch_version_from_headers("${_ti_include_dirs}" TI_TORCH_VERSION)
if(NOT TI_TORCH_VERSION)
  set(TI_TORCH_VERSION "${Torch_VERSION}")
endif()
set(TI_TORCH_LIB_DIR "${_ti_lib_dir}")
set(TI_TORCH_HAS_CUDA ${_ti_has_cuda})
set(TI_TORCH_INCLUDE_DIRS ${_ti_include_dirs})

# 17, or 20 when this LibTorch's headers demand it (ATen/ATen.h stops with an #error otherwise).
set(TI_CXX_STANDARD 17)
foreach(dir ${_ti_include_dirs})
  if(EXISTS "${dir}/ATen/ATen.h")
    file(READ "${dir}/ATen/ATen.h" _ti_aten_header LIMIT 4096)
    if(_ti_aten_header MATCHES "C\\+\\+20 or later")
      set(TI_CXX_STANDARD 20)
    endif()
    break()
  endif()
endforeach()

# AOTInductor packages (.pt2) need AOTIModelPackageLoader (LibTorch 2.6 and later).
set(TI_TORCH_HAS_AOTI FALSE)
foreach(dir ${_ti_include_dirs})
  if(EXISTS "${dir}/torch/csrc/inductor/aoti_package/model_package_loader.h")
    set(TI_TORCH_HAS_AOTI TRUE)
  endif()
endforeach()
