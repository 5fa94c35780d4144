// Flattening a method's result (tensors, scalars, tuples, lists, dicts) into named leaves.
#pragma once

#include <ATen/core/Tensor.h>
#include <ATen/core/ivalue.h>
#include <c10/util/SmallVector.h>

#include <string>
#include <vector>

namespace ti::core {

enum class LeafKind { Tensor, String, None };

struct Leaf {
  std::string name;   // "0", "1.0", "boxes.2", "4.p\\.q" (the path grammar of core/values/path.h)
  at::Tensor tensor;  // Tensor leaves: contiguous, on the device the model produced it on
  LeafKind kind = LeafKind::Tensor;
  std::string text;   // String leaves: the UTF-8 bytes
};

// Most results are one tensor: keep that leaf inline, without a heap allocation.
using Leaves = c10::SmallVector<Leaf, 1>;

// Depth first; tuple and list elements are named by index, dict entries by key (escaped as a
// path segment), nested names joined by "."; a bare tensor or scalar is one leaf named "0". int,
// float and bool become 0-dim int64, float64 and bool tensors; a str is a String leaf and a None
// a None leaf; an empty container gives no leaf. Throws Unsupported for anything else
// (objects, futures, ...), naming the offending leaf. Appends to `out` (filled in place: the
// caller's handle owns it, so the common one-leaf result is never moved or reallocated).
void flatten_result(const c10::IValue& result, Leaves& out);

// Appends one tensor leaf, with the same checks as flatten_result (defined, a dtype the C API
// represents) and made contiguous.
void append_leaf(std::string name, const at::Tensor& t, Leaves& out);

}  // namespace ti::core
