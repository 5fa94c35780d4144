#include "core/tensor.h"

#include "core/error.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <sstream>

namespace ti::core {
namespace {

std::string size_mismatch(c10::ScalarType dtype, c10::ArrayRef<int64_t> shape, size_t expected,
                          size_t got) {
  std::ostringstream msg;
  msg << "nbytes is " << got << " but a " << c10::toString(dtype) << " tensor of shape "
      << shape_string(shape) << " needs " << expected;
  return msg.str();
}

// Runs the caller's release callback at most once, whoever gets there first: the storage's
// deleter or the error path of tensor_from_borrowed.
class ReleaseOnce {
 public:
  explicit ReleaseOnce(std::function<void()> fn) : fn_(std::move(fn)) {}
  void operator()() {
    if (!done_.exchange(true) && fn_) fn_();
  }

 private:
  std::function<void()> fn_;
  std::atomic<bool> done_{false};
};

}  // namespace

c10::IValue scalar_from_tensor(const at::Tensor& t, c10::TypeKind kind, const std::string& what) {
  if (t.numel() != 1) {
    fail(ErrorKind::InvalidArgument, what + ": pass a one-element tensor, got shape " + shape_string(t.sizes()));
  }
  if (kind == c10::TypeKind::IntType && t.is_floating_point()) {
    fail(ErrorKind::InvalidArgument, what + ": pass an integer tensor, got " + std::string(c10::toString(t.scalar_type())));
  }
  switch (kind) {
    case c10::TypeKind::IntType: return t.item<int64_t>();
    case c10::TypeKind::FloatType: return t.item<double>();
    case c10::TypeKind::BoolType: return t.item<bool>();
    default: return c10::IValue(t.item());
  }
}

std::string shape_string(c10::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

size_t checked_nbytes(c10::ScalarType dtype, c10::ArrayRef<int64_t> shape) {
  // LibTorch computes strides as products of max(size, 1) and byte counts in int64, so both
  // must fit whether or not a dimension is 0: the rule does not depend on where a 0 sits.
  int64_t strides_product = 1;
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      fail(ErrorKind::InvalidArgument, "dimension " + std::to_string(i) + " of shape " +
                                           shape_string(shape) + " is negative");
    }
    if (shape[i] == 0) empty = true;
    if (__builtin_mul_overflow(strides_product, std::max<int64_t>(shape[i], 1), &strides_product)) {
      fail(ErrorKind::InvalidArgument, "shape " + shape_string(shape) + " is too large");
    }
  }
  int64_t bytes = 0;
  if (__builtin_mul_overflow(strides_product, static_cast<int64_t>(c10::elementSize(dtype)), &bytes)) {
    fail(ErrorKind::InvalidArgument, "shape " + shape_string(shape) + " is too large");
  }
  return empty ? 0 : static_cast<size_t>(bytes);
}

namespace {

// Bool tensors hold one byte per element that must be 0 or 1 (other bytes make invalid C++,
// Go, Rust and Java bools downstream).
void check_bools(c10::ScalarType dtype, const void* data, size_t nbytes) {
  if (dtype != c10::kBool || data == nullptr) return;
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < nbytes; ++i) {
    if (bytes[i] > 1) {
      fail(ErrorKind::InvalidArgument, "bool element " + std::to_string(i) + " is " +
                                           std::to_string(bytes[i]) + "; bools must be 0 or 1");
    }
  }
}

}  // namespace

at::Tensor tensor_from_copy(c10::ScalarType dtype, c10::ArrayRef<int64_t> shape, const void* data,
                            size_t nbytes) {
  const size_t expected = checked_nbytes(dtype, shape);
  if (nbytes != expected) fail(ErrorKind::InvalidArgument, size_mismatch(dtype, shape, expected, nbytes));
  if (data == nullptr && nbytes != 0) fail(ErrorKind::InvalidArgument, "data is NULL but nbytes is not 0");
  check_bools(dtype, data, nbytes);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype).device(at::kCPU));
  if (nbytes != 0) std::memcpy(t.data_ptr(), data, nbytes);
  return t;
}

at::Tensor tensor_from_borrowed(c10::ScalarType dtype, c10::ArrayRef<int64_t> shape, void* data,
                                size_t nbytes, std::function<void()> release) {
  auto once = std::make_shared<ReleaseOnce>(std::move(release));
  try {
    const size_t expected = checked_nbytes(dtype, shape);
    if (nbytes != expected) fail(ErrorKind::InvalidArgument, size_mismatch(dtype, shape, expected, nbytes));
    if (data == nullptr && nbytes != 0) fail(ErrorKind::InvalidArgument, "data is NULL but nbytes is not 0");
    if (data != nullptr && reinterpret_cast<uintptr_t>(data) % c10::elementSize(dtype) != 0) {
      fail(ErrorKind::InvalidArgument, std::string("data is not aligned for ") + c10::toString(dtype));
    }
    check_bools(dtype, data, nbytes);
    return at::from_blob(data, shape, [once](void*) { (*once)(); },
                         at::TensorOptions().dtype(dtype).device(at::kCPU));
  } catch (...) {
    (*once)();
    throw;
  }
}

void copy_to_host(const at::Tensor& tensor, void* dst, size_t dst_nbytes) {
  const size_t nbytes = tensor_nbytes(tensor);
  if (dst_nbytes != nbytes) {
    fail(ErrorKind::InvalidArgument, "dst_nbytes is " + std::to_string(dst_nbytes) +
                                         " but the tensor holds " + std::to_string(nbytes) + " bytes");
  }
  if (nbytes == 0) return;
  if (dst == nullptr) fail(ErrorKind::InvalidArgument, "dst is NULL");
  if (tensor.is_cpu() && tensor.is_contiguous()) {
    std::memcpy(dst, tensor.data_ptr(), nbytes);
    return;
  }
  c10::InferenceMode guard;
  try {
    at::Tensor host = at::from_blob(dst, tensor.sizes(), tensor.options().device(at::kCPU));
    host.copy_(tensor);
  } catch (...) {
    auto info = describe_current_exception(ErrorKind::Runtime);
    fail(info.kind, "copying the tensor to host memory failed: " + info.message);
  }
}

}  // namespace ti::core
