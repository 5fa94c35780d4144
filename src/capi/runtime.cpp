#include "capi/handles.h"

#include "core/device.h"
#include "core/op_library.h"
#include "core/runtime.h"

#include <torch/version.h>

#ifndef TORCH_VERSION
#define TORCH_VERSION TI_TORCH_VERSION_STRING
#endif

extern "C" {

const char* ti_version(void) { return TI_VERSION_STRING; }

const char* ti_torch_version(void) { return TORCH_VERSION; }

ti_error_t* ti_set_num_threads(int n) {
  TI_TRY
  ti::core::set_num_threads(n);
  return nullptr;
  TI_CATCH(Internal)
}

int ti_get_num_threads(void) {
  try {
    return ti::core::num_threads();
  } catch (...) {
    return 1;
  }
}

int ti_cuda_device_count(void) { return ti::core::cuda_device_count(); }

int64_t ti_live_handles(void) {
  return ti::capi::LiveHandle::count().load(std::memory_order_relaxed);
}

}  // extern "C"

extern "C" ti_error_t* ti_op_library_load(const char* path) {
  TI_TRY
  TI_CHECK_NOT_NULL(path);
  ti::core::load_op_library(path);
  return nullptr;
  TI_CATCH(Runtime)
}
