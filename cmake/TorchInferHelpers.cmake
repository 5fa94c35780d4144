# Helpers for locating pieces of the LibTorch found by find_package(Torch).

# The directory holding libtorch_cpu / libtorch, used as the library's RUNPATH so that
# programs load the same LibTorch the library was built with.
function(ti_find_torch_lib_dir out_var)
  foreach(candidate torch_cpu torch)
    if(TARGET ${candidate})
      get_target_property(location ${candidate} IMPORTED_LOCATION)
      if(NOT location)
        get_target_property(location ${candidate} IMPORTED_LOCATION_RELEASE)
      endif()
      if(location)
        get_filename_component(dir "${location}" DIRECTORY)
        set(${out_var} "${dir}" PARENT_SCOPE)
        return()
      endif()
    endif()
  endforeach()
  find_library(TI_TORCH_CPU_LIBRARY torch_cpu PATHS "${TORCH_INSTALL_PREFIX}/lib" REQUIRED)
  get_filename_component(dir "${TI_TORCH_CPU_LIBRARY}" DIRECTORY)
  set(${out_var} "${dir}" PARENT_SCOPE)
endfunction()

# TRUE when this LibTorch ships CUDA kernels (libtorch_cuda).
function(ti_torch_has_cuda out_var)
  if(TARGET torch_cuda OR "${TORCH_LIBRARIES}" MATCHES "torch_cuda")
    set(${out_var} TRUE PARENT_SCOPE)
  else()
    set(${out_var} FALSE PARENT_SCOPE)
  endif()
endfunction()
