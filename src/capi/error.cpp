#include "capi/handles.h"

#include <new>

namespace ti::capi {
namespace {

// Returned when even an error cannot be allocated. Not counted as a live handle.
ti_error g_out_of_memory_error(Uncounted{}, TI_ERR_OUT_OF_MEMORY, "out of memory");

ti_code_t to_code(core::ErrorKind kind) noexcept {
  switch (kind) {
    case core::ErrorKind::InvalidArgument: return TI_ERR_INVALID_ARGUMENT;
    case core::ErrorKind::NotFound: return TI_ERR_NOT_FOUND;
    case core::ErrorKind::ModelFormat: return TI_ERR_MODEL_FORMAT;
    case core::ErrorKind::Runtime: return TI_ERR_RUNTIME;
    case core::ErrorKind::OutOfMemory: return TI_ERR_OUT_OF_MEMORY;
    case core::ErrorKind::Device: return TI_ERR_DEVICE;
    case core::ErrorKind::Unsupported: return TI_ERR_UNSUPPORTED;
    case core::ErrorKind::Internal: return TI_ERR_INTERNAL;
    case core::ErrorKind::Cancelled: return TI_ERR_CANCELLED;
    case core::ErrorKind::DeadlineExceeded: return TI_ERR_DEADLINE_EXCEEDED;
    case core::ErrorKind::Unavailable: return TI_ERR_UNAVAILABLE;
  }
  return TI_ERR_INTERNAL;
}

}  // namespace

ti_error_t* make_error(ti_code_t code, const std::string& message) noexcept {
  try {
    std::string text;
    try {
      text = message;
    } catch (...) {
      // Keep the code; an empty message is better than losing the error.
    }
    return new ti_error(code, std::move(text));
  } catch (...) {
    return &g_out_of_memory_error;
  }
}

ti_error_t* make_error(const core::ErrorInfo& info) noexcept {
  return make_error(to_code(info.kind), info.message);
}

ti_error_t* error_from_exception(core::ErrorKind fallback) noexcept {
  return make_error(core::describe_current_exception(fallback));
}

ti_error_t* null_argument(const char* what) noexcept {
  try {
    return make_error(TI_ERR_INVALID_ARGUMENT, std::string(what) + " is NULL");
  } catch (...) {
    return &g_out_of_memory_error;
  }
}

}  // namespace ti::capi

extern "C" {

ti_code_t ti_error_code(const ti_error_t* e) { return e ? e->code : TI_OK; }

const char* ti_error_message(const ti_error_t* e) { return e ? e->message.c_str() : ""; }

void ti_error_free(ti_error_t* e) {
  if (e && e != &ti::capi::g_out_of_memory_error) delete e;
}

const char* ti_code_name(ti_code_t code) {
  switch (code) {
    case TI_OK: return "TI_OK";
    case TI_ERR_INVALID_ARGUMENT: return "TI_ERR_INVALID_ARGUMENT";
    case TI_ERR_NOT_FOUND: return "TI_ERR_NOT_FOUND";
    case TI_ERR_MODEL_FORMAT: return "TI_ERR_MODEL_FORMAT";
    case TI_ERR_RUNTIME: return "TI_ERR_RUNTIME";
    case TI_ERR_OUT_OF_MEMORY: return "TI_ERR_OUT_OF_MEMORY";
    case TI_ERR_DEVICE: return "TI_ERR_DEVICE";
    case TI_ERR_UNSUPPORTED: return "TI_ERR_UNSUPPORTED";
    case TI_ERR_INTERNAL: return "TI_ERR_INTERNAL";
    case TI_ERR_CANCELLED: return "TI_ERR_CANCELLED";
    case TI_ERR_DEADLINE_EXCEEDED: return "TI_ERR_DEADLINE_EXCEEDED";
    case TI_ERR_UNAVAILABLE: return "TI_ERR_UNAVAILABLE";
  }
  return "TI_ERR_UNKNOWN";
}

}  // extern "C"
