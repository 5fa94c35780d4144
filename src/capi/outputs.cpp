#include "capi/handles.h"

#include "core/tensor.h"

using ti::capi::null_argument;

extern "C" {

namespace {

// Leaf i's tensor, or nullptr when o is NULL, i out of range or the leaf is not a tensor.
const at::Tensor* leaf(const ti_outputs_t* o, size_t i) {
  return o && i < o->leaves.size() && o->leaves[i].kind == ti::core::LeafKind::Tensor ? &o->leaves[i].tensor
                                                                                       : nullptr;
}

const char* kind_name(ti::core::LeafKind k) {
  switch (k) {
    case ti::core::LeafKind::Tensor: return "a tensor";
    case ti::core::LeafKind::String: return "a string (read it with ti_outputs_string)";
    case ti::core::LeafKind::None: return "None";
  }
  return "unknown";
}

// NULL when leaf i is a tensor; otherwise an error naming what it is.
ti_error_t* not_a_tensor(const ti_outputs_t* o, size_t i) {
  const auto& l = o->leaves[i];
  if (l.kind == ti::core::LeafKind::Tensor) return nullptr;
  return ti::capi::make_error(TI_ERR_INVALID_ARGUMENT,
                              "output '" + l.name + "' is " + kind_name(l.kind) + ", not a tensor");
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
  if (ti_error_t* e = not_a_tensor(o, i)) return e;
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
  for (size_t i = 0; i < o->leaves.size(); ++i) {
    if (o->leaves[i].name == name) {
      if (ti_error_t* e = not_a_tensor(o, i)) return e;
      *out = new ti_tensor(o->leaves[i].tensor);
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
  if (ti_error_t* e = not_a_tensor(o, i)) return e;
  if (dst == nullptr && dst_nbytes != 0) return null_argument("dst");
  ti::core::copy_to_host(o->leaves[i].tensor, dst, dst_nbytes);
  return nullptr;
  TI_CATCH(Runtime)
}

ti_kind_t ti_outputs_kind(const ti_outputs_t* o, size_t i) {
  if (!o || i >= o->leaves.size()) return TI_KIND_NONE;
  switch (o->leaves[i].kind) {
    case ti::core::LeafKind::Tensor: return TI_KIND_TENSOR;
    case ti::core::LeafKind::String: return TI_KIND_STRING;
    case ti::core::LeafKind::None: return TI_KIND_NONE;
  }
  return TI_KIND_NONE;
}

ti_error_t* ti_outputs_string(const ti_outputs_t* o, size_t i, const char** data, size_t* len) {
  TI_TRY
  TI_CHECK_NOT_NULL(data);
  *data = nullptr;
  TI_CHECK_NOT_NULL(len);
  *len = 0;
  TI_CHECK_NOT_NULL(o);
  if (i >= o->leaves.size()) return index_error(o, i);
  const auto& l = o->leaves[i];
  if (l.kind != ti::core::LeafKind::String) {
    return ti::capi::make_error(TI_ERR_INVALID_ARGUMENT, "output '" + l.name + "' is " + kind_name(l.kind) +
                                                             ", not a string");
  }
  *data = l.text.c_str();
  *len = l.text.size();
  return nullptr;
  TI_CATCH(Internal)
}

void ti_outputs_free(ti_outputs_t* o) { delete o; }

}  // extern "C"
