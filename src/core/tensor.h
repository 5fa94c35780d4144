// Tensors made from, and copied to, caller memory.
#pragma once

#include <ATen/core/ivalue.h>

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstddef>
#include <functional>

namespace ti::core {

// Bytes a tensor of `shape` and `dtype` needs. Throws InvalidArgument for negative
// dimensions or a size that overflows.
size_t checked_nbytes(c10::ScalarType dtype, c10::ArrayRef<int64_t> shape);

// A contiguous CPU tensor holding a copy of `data`; `nbytes` must match shape x dtype.
at::Tensor tensor_from_copy(c10::ScalarType dtype, c10::ArrayRef<int64_t> shape, const void* data,
                            size_t nbytes);

// A CPU tensor over `data` without copying. `release` runs once, when the last tensor sharing
// the storage is gone; if this function throws it has already run.
at::Tensor tensor_from_borrowed(c10::ScalarType dtype, c10::ArrayRef<int64_t> shape, void* data,
                                size_t nbytes, std::function<void()> release);

// Copies the tensor, from any device, into host memory of exactly its size.
void copy_to_host(const at::Tensor& tensor, void* dst, size_t dst_nbytes);

inline size_t tensor_nbytes(const at::Tensor& t) {
  return static_cast<size_t>(t.numel()) * t.element_size();
}

// "[2, 3]"
std::string shape_string(c10::ArrayRef<int64_t> shape);

// A one-element tensor passed to an int, float, bool or Scalar (NumberType) argument, as that
// scalar. `what` names the argument in messages ("input 'k' (int)"). Throws InvalidArgument for
// another number of elements, or a floating-point tensor for an int.
c10::IValue scalar_from_tensor(const at::Tensor& t, c10::TypeKind kind, const std::string& what);

}  // namespace ti::core
