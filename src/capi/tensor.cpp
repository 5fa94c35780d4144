#include "capi/handles.h"

#include "core/device.h"
#include "core/tensor.h"

#include <functional>

namespace ti::capi {
namespace {

struct DtypeInfo {
  ti_dtype_t dtype;
  c10::ScalarType scalar_type;
  const char* name;
};

constexpr DtypeInfo kDtypes[] = {
    {TI_DTYPE_FLOAT32, c10::ScalarType::Float, "float32"},
    {TI_DTYPE_FLOAT64, c10::ScalarType::Double, "float64"},
    {TI_DTYPE_FLOAT16, c10::ScalarType::Half, "float16"},
    {TI_DTYPE_BFLOAT16, c10::ScalarType::BFloat16, "bfloat16"},
    {TI_DTYPE_INT8, c10::ScalarType::Char, "int8"},
    {TI_DTYPE_UINT8, c10::ScalarType::Byte, "uint8"},
    {TI_DTYPE_INT16, c10::ScalarType::Short, "int16"},
    {TI_DTYPE_INT32, c10::ScalarType::Int, "int32"},
    {TI_DTYPE_INT64, c10::ScalarType::Long, "int64"},
    {TI_DTYPE_BOOL, c10::ScalarType::Bool, "bool"},
};
constexpr size_t kNumDtypes = sizeof(kDtypes) / sizeof(kDtypes[0]);

const DtypeInfo* find_dtype(ti_dtype_t dtype) noexcept {
  const auto i = static_cast<size_t>(dtype);
  return i < kNumDtypes ? &kDtypes[i] : nullptr;
}

}  // namespace

ti_dtype_t to_dtype(c10::ScalarType st) noexcept {
  for (const auto& info : kDtypes) {
    if (info.scalar_type == st) return info.dtype;
  }
  return TI_DTYPE_FLOAT32;  // unreachable: outputs of other dtypes are rejected by predict
}

c10::ScalarType to_scalar_type(ti_dtype_t dtype) {
  const DtypeInfo* info = find_dtype(dtype);
  if (!info) core::fail(core::ErrorKind::InvalidArgument, "unknown dtype " + std::to_string(static_cast<int>(dtype)));
  return info->scalar_type;
}

}  // namespace ti::capi

ti_tensor::ti_tensor(at::Tensor t) : tensor(std::move(t)) {
  if (!tensor.is_cpu()) device_name = ti::core::device_name(tensor.device());
}

using ti::capi::null_argument;

extern "C" {

size_t ti_dtype_size(ti_dtype_t dtype) {
  const auto* info = ti::capi::find_dtype(dtype);
  return info ? c10::elementSize(info->scalar_type) : 0;
}

const char* ti_dtype_name(ti_dtype_t dtype) {
  const auto* info = ti::capi::find_dtype(dtype);
  return info ? info->name : "unknown";
}

ti_error_t* ti_tensor_create(ti_dtype_t dtype, const int64_t* shape, size_t ndim, const void* data,
                             size_t nbytes, ti_tensor_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  if (ndim != 0 && shape == nullptr) return null_argument("shape");
  at::Tensor t = ti::core::tensor_from_copy(ti::capi::to_scalar_type(dtype),
                                            c10::IntArrayRef(shape, ndim), data, nbytes);
  *out = new ti_tensor(std::move(t));
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_tensor_wrap(ti_dtype_t dtype, const int64_t* shape, size_t ndim, void* data,
                           size_t nbytes, void (*release)(void* ctx), void* ctx, ti_tensor_t** out) {
  // Two pointers fit std::function's inline storage: making it cannot fail.
  std::function<void()> release_fn;
  if (release) release_fn = [release, ctx] { release(ctx); };
  TI_TRY
  if (out != nullptr) *out = nullptr;
  if (out == nullptr || (ndim != 0 && shape == nullptr)) {
    if (release_fn) release_fn();
    return null_argument(out == nullptr ? "out" : "shape");
  }
  c10::ScalarType scalar_type;
  try {
    scalar_type = ti::capi::to_scalar_type(dtype);
  } catch (...) {
    if (release_fn) release_fn();
    throw;
  }
  // From here the core owns release_fn: it runs it on error, or when the storage dies.
  at::Tensor t = ti::core::tensor_from_borrowed(scalar_type, c10::IntArrayRef(shape, ndim), data,
                                                nbytes, std::move(release_fn));
  *out = new ti_tensor(std::move(t));
  return nullptr;
  TI_CATCH(Internal)
}

void ti_tensor_free(ti_tensor_t* t) { delete t; }

ti_dtype_t ti_tensor_dtype(const ti_tensor_t* t) {
  return t ? ti::capi::to_dtype(t->tensor.scalar_type()) : TI_DTYPE_FLOAT32;
}

size_t ti_tensor_ndim(const ti_tensor_t* t) { return t ? static_cast<size_t>(t->tensor.dim()) : 0; }

const int64_t* ti_tensor_shape(const ti_tensor_t* t) {
  if (!t || t->tensor.dim() == 0) return nullptr;
  return t->tensor.sizes().data();
}

int64_t ti_tensor_numel(const ti_tensor_t* t) { return t ? t->tensor.numel() : 0; }

size_t ti_tensor_nbytes(const ti_tensor_t* t) { return t ? ti::core::tensor_nbytes(t->tensor) : 0; }

const char* ti_tensor_device(const ti_tensor_t* t) {
  if (!t) return "";
  return t->device_name.empty() ? "cpu" : t->device_name.c_str();
}

ti_error_t* ti_tensor_data(const ti_tensor_t* t, const void** data) {
  TI_TRY
  TI_CHECK_NOT_NULL(data);
  *data = nullptr;
  TI_CHECK_NOT_NULL(t);
  if (!t->tensor.is_cpu()) {
    return ti::capi::make_error(TI_ERR_DEVICE, "the tensor is on " + t->device_name +
                                                   "; use ti_tensor_copy_to to read it");
  }
  *data = t->tensor.data_ptr();
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_tensor_copy_to(const ti_tensor_t* t, void* dst, size_t dst_nbytes) {
  TI_TRY
  TI_CHECK_NOT_NULL(t);
  if (dst == nullptr && dst_nbytes != 0) return null_argument("dst");
  ti::core::copy_to_host(t->tensor, dst, dst_nbytes);
  return nullptr;
  TI_CATCH(Runtime)
}

}  // extern "C"
