#include "capi/handles.h"

#include "core/tensor.h"

using ti::capi::null_argument;

extern "C" {

namespace {

// Leaf i's tensor, or nullptr when o is NULL or i out of range.
const at::Tensor* leaf(const ti_outputs_t* o, size_t i) {
  return o && i < o->leaves.size() ? &o->leaves[i].tensor : nullptr;
}

ti_error_t* index_error(const ti_outputs_t* o, size_t i) {
  return ti::capi::make_error(TI_ERR_INVALID_ARGUMENT, "output index " + std::to_string(i) +
                                                           " is out of range: there are " +
                                                           std::to_string(o->leaves.size()));
}

}  // namespace

size_t ti_outputs_count(const ti_outputs_t* o) { return o ? o->leaves.size() : 0; }

const char* ti_outputs_name(const ti_outputs_t* o, size_t i) {
  if (!o || i >= o->leaves.size()) return nullptr;
  return o->leaves[i].name.c_str();
}

ti_error_t* ti_outputs_get(const ti_outputs_t* o, size_t i, ti_tensor_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  TI_CHECK_NOT_NULL(o);
  if (i >= o->leaves.size()) return index_error(o, i);
  *out = new ti_tensor(o->leaves[i].tensor);
  return nullptr;
  TI_CATCH(Internal)
}

ti_error_t* ti_outputs_find(const ti_outputs_t* o, const char* name, ti_tensor_t** out) {
  TI_TRY
  TI_CHECK_NOT_NULL(out);
  *out = nullptr;
  TI_CHECK_NOT_NULL(o);
  TI_CHECK_NOT_NULL(name);
  for (const auto& leaf : o->leaves) {
    if (leaf.name == name) {
      *out = new ti_tensor(leaf.tensor);
      return nullptr;
    }
  }
  std::string names;
  for (const auto& leaf : o->leaves) names += (names.empty() ? "" : ", ") + leaf.name;
  return ti::capi::make_error(TI_ERR_NOT_FOUND, "no output named '" + std::string(name) +
                                                    "'; the outputs are: " + names);
  TI_CATCH(Internal)
}

ti_dtype_t ti_outputs_dtype(const ti_outputs_t* o, size_t i) {
  const at::Tensor* t = leaf(o, i);
  return t ? ti::capi::to_dtype(t->scalar_type()) : TI_DTYPE_FLOAT32;
}

size_t ti_outputs_ndim(const ti_outputs_t* o, size_t i) {
  const at::Tensor* t = leaf(o, i);
  return t ? static_cast<size_t>(t->dim()) : 0;
}

const int64_t* ti_outputs_shape(const ti_outputs_t* o, size_t i) {
  const at::Tensor* t = leaf(o, i);
  return t && t->dim() > 0 ? t->sizes().data() : nullptr;
}

size_t ti_outputs_nbytes(const ti_outputs_t* o, size_t i) {
  const at::Tensor* t = leaf(o, i);
  return t ? ti::core::tensor_nbytes(*t) : 0;
}

ti_error_t* ti_outputs_copy_to(const ti_outputs_t* o, size_t i, void* dst, size_t dst_nbytes) {
  TI_TRY
  TI_CHECK_NOT_NULL(o);
  if (i >= o->leaves.size()) return index_error(o, i);
  if (dst == nullptr && dst_nbytes != 0) return null_argument("dst");
  ti::core::copy_to_host(o->leaves[i].tensor, dst, dst_nbytes);
  return nullptr;
  TI_CATCH(Runtime)
}

void ti_outputs_free(ti_outputs_t* o) { delete o; }

}  // extern "C"
