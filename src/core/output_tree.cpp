#include "core/output_tree.h"

#include "core/error.h"
#include "core/values/path.h"

#include <ATen/ATen.h>

namespace ti::core {
namespace {

bool is_supported_dtype(c10::ScalarType t) {
  switch (t) {
    case at::kFloat: case at::kDouble: case at::kHalf: case at::kBFloat16: case at::kChar:
    case at::kByte: case at::kShort: case at::kInt: case at::kLong: case at::kBool:
      return true;
    default:
      return false;
  }
}

using values::join_path;

std::string dict_key_name(const c10::IValue& key, const std::string& parent) {
  if (key.isString()) return values::escape_segment(key.toStringRef());
  if (key.isInt()) return std::to_string(key.toInt());
  if (key.isBool()) return key.toBool() ? "True" : "False";
  fail(ErrorKind::Unsupported, "output '" + (parent.empty() ? std::string("0") : parent) + "' is a dict with " +
                                   key.type()->annotation_str() +
                                   " keys; only str, int and bool keys are supported");
}

void flatten(const c10::IValue& v, const std::string& name, Leaves& out) {
  std::string leaf_name = name.empty() ? std::string("0") : name;
  if (v.isTensor()) {
    append_leaf(std::move(leaf_name), v.toTensor(), out);
  } else if (v.isInt()) {
    append_leaf(std::move(leaf_name), at::scalar_tensor(v.toInt(), at::kLong), out);
  } else if (v.isDouble()) {
    append_leaf(std::move(leaf_name), at::scalar_tensor(v.toDouble(), at::kDouble), out);
  } else if (v.isBool()) {
    append_leaf(std::move(leaf_name), at::scalar_tensor(v.toBool(), at::kBool), out);
  } else if (v.isTuple()) {
    const auto& elements = v.toTupleRef().elements();
    for (size_t i = 0; i < elements.size(); ++i) {
      flatten(elements[i], join_path(name, std::to_string(i)), out);
    }
  } else if (v.isList()) {
    const auto list = v.toListRef();
    for (size_t i = 0; i < list.size(); ++i) {
      flatten(list[i], join_path(name, std::to_string(i)), out);
    }
  } else if (v.isString()) {
    Leaf leaf{std::move(leaf_name), at::Tensor(), LeafKind::String, v.toStringRef()};
    out.push_back(std::move(leaf));
  } else if (v.isNone()) {
    out.push_back(Leaf{std::move(leaf_name), at::Tensor(), LeafKind::None, std::string()});
  } else if (v.isGenericDict()) {
    for (const auto& entry : v.toGenericDict()) {
      flatten(entry.value(), join_path(name, dict_key_name(entry.key(), name)), out);
    }
  } else {
    fail(ErrorKind::Unsupported, "output '" + leaf_name + "' is " + v.type()->annotation_str() +
                                     ", which the C API cannot represent (only tensors, int, "
                                     "float, bool, str and None, in tuples, lists and dicts)");
  }
}

}  // namespace

void flatten_result(const c10::IValue& result, Leaves& out) { flatten(result, std::string(), out); }

void append_leaf(std::string name, const at::Tensor& t, Leaves& out) {
  if (!t.defined()) fail(ErrorKind::Unsupported, "output '" + name + "' is an undefined tensor");
  if (!is_supported_dtype(t.scalar_type())) {
    fail(ErrorKind::Unsupported, "output '" + name + "' has dtype " + c10::toString(t.scalar_type()) +
                                     ", which the C API cannot represent");
  }
  out.push_back(Leaf{std::move(name), t.is_contiguous() ? t : t.contiguous(), LeafKind::Tensor, std::string()});
}

}  // namespace ti::core
