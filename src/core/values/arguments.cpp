#include "core/values/arguments.h"

#include "core/error.h"
#include "core/tensor.h"
#include "core/values/path.h"

#include <ATen/core/Dict.h>
#include <ATen/core/List.h>
#include <ATen/core/jit_type.h>

#include <algorithm>

namespace ti::core::values {

struct Arguments::Node {
  c10::TypePtr type;  // the declared type here (Optional kept)
  bool has_value = false;
  bool empty = false;  // an empty list or dict, built fresh (and typed) for every call
  c10::IValue value;   // a tensor, scalar, str or None
  struct Child {
    std::string segment;  // escaped, for messages: "0", "input_ids", "-7", "p\.q"
    int64_t index = 0;    // list and tuple children
    c10::IValue key;      // dict children
    std::unique_ptr<Node> node;
  };
  std::vector<Child> children;  // in the order they were first set (a dict keeps that order)
};

namespace {

using Node = Arguments::Node;

const c10::TypePtr& unwrap_optional(const c10::TypePtr& t) {
  if (t->kind() == c10::TypeKind::OptionalType) return t->expectRef<c10::OptionalType>().getElementType();
  return t;
}

std::string type_name(const c10::TypePtr& t) { return t->annotation_str(); }

[[noreturn]] void bad(const std::string& path, const c10::TypePtr& type, const std::string& what) {
  fail(ErrorKind::InvalidArgument, "input '" + path + "' (" + type_name(type) + "): " + what);
}

// One segment below the first, resolved against the declared type.
struct Step {
  std::string segment;  // escaped
  int64_t index = 0;
  c10::IValue key;
  c10::TypePtr type;  // the child's declared type
};

Step resolve(const std::string& parent_path, const c10::TypePtr& parent_type, const std::string& segment) {
  Step step;
  step.segment = escape_segment(segment);
  const c10::TypePtr& t = unwrap_optional(parent_type);
  long long n = 0;
  switch (t->kind()) {
    case c10::TypeKind::ListType:
      if (!parse_decimal(segment, n) || n < 0) {
        bad(parent_path, parent_type, "'" + step.segment + "' is not a list index (a decimal number >= 0)");
      }
      step.index = n;
      step.type = t->expectRef<c10::ListType>().getElementType();
      return step;
    case c10::TypeKind::TupleType: {
      const auto& elements = t->expectRef<c10::TupleType>().elements();
      if (!parse_decimal(segment, n) || n < 0 || static_cast<size_t>(n) >= elements.size()) {
        bad(parent_path, parent_type, "'" + step.segment + "' is not a tuple index (" +
                                          (elements.empty() ? std::string("the tuple is empty")
                                                            : "0 to " + std::to_string(elements.size() - 1)) + ")");
      }
      step.index = n;
      step.type = elements[static_cast<size_t>(n)];
      return step;
    }
    case c10::TypeKind::DictType: {
      const auto& dict = t->expectRef<c10::DictType>();
      const auto key_kind = dict.getKeyType()->kind();
      if (key_kind == c10::TypeKind::StringType) {
        step.key = segment;
      } else if (key_kind == c10::TypeKind::IntType) {
        if (!parse_decimal(segment, n)) bad(parent_path, parent_type, "'" + step.segment + "' is not an int key");
        step.key = static_cast<int64_t>(n);
      } else if (key_kind == c10::TypeKind::BoolType) {
        if (segment != "True" && segment != "False") {
          bad(parent_path, parent_type, "'" + step.segment + "' is not a bool key (True or False)");
        }
        step.key = segment == "True";
      } else {
        bad(parent_path, parent_type, "dicts with " + type_name(dict.getKeyType()) + " keys are not supported");
      }
      step.type = dict.getValueType();
      return step;
    }
    default:
      bad(parent_path, parent_type, "there is nothing below a " + type_name(t) + " (no '" + step.segment + "')");
  }
}

bool is_number(c10::TypeKind k) {
  return k == c10::TypeKind::NumberType || k == c10::TypeKind::AnyType;
}

// The value `v` fitted to the declared type `declared`, at set time.
Node fit(Value v, const std::string& path, const c10::TypePtr& declared) {
  Node node;
  node.type = declared;
  node.has_value = true;
  const bool optional = declared->kind() == c10::TypeKind::OptionalType || declared->kind() == c10::TypeKind::NoneType ||
                        declared->kind() == c10::TypeKind::AnyType;
  const c10::TypePtr& t = unwrap_optional(declared);
  const auto k = t->kind();
  switch (v.kind) {
    case Value::Kind::None:
      if (!optional) bad(path, declared, "None where the type is not Optional");
      node.value = c10::IValue();
      return node;
    case Value::Kind::Empty:
      if (k != c10::TypeKind::ListType && k != c10::TypeKind::DictType) {
        bad(path, declared, "an empty list or dict where the type is neither");
      }
      node.empty = true;
      return node;
    case Value::Kind::Tensor: {
      if (!v.tensor.defined()) bad(path, declared, "an undefined tensor");
      if (k == c10::TypeKind::TensorType || k == c10::TypeKind::AnyType) {
        node.value = std::move(v.tensor);
        return node;
      }
      const bool scalar = k == c10::TypeKind::IntType || k == c10::TypeKind::FloatType ||
                          k == c10::TypeKind::BoolType || k == c10::TypeKind::NumberType;
      if (!scalar) bad(path, declared, "a tensor where the type is not a Tensor");
      // A one-element tensor for an int, float or bool argument, as ti_model_run takes it.
      node.value = scalar_from_tensor(v.tensor, k, "input '" + path + "' (" + type_name(declared) + ")");
      return node;
    }
    case Value::Kind::Int:
      if (k == c10::TypeKind::IntType || is_number(k)) {
        node.value = v.i;
      } else if (k == c10::TypeKind::FloatType) {
        node.value = static_cast<double>(v.i);
      } else {
        bad(path, declared, "an int where the type is not int, float or Scalar");
      }
      return node;
    case Value::Kind::Float:
      if (k != c10::TypeKind::FloatType && !is_number(k)) bad(path, declared, "a float where the type is not float or Scalar");
      node.value = v.f;
      return node;
    case Value::Kind::Bool:
      if (k != c10::TypeKind::BoolType && k != c10::TypeKind::AnyType) bad(path, declared, "a bool where the type is not bool");
      node.value = v.b;
      return node;
    case Value::Kind::String:
      if (k != c10::TypeKind::StringType && k != c10::TypeKind::AnyType) bad(path, declared, "a string where the type is not str");
      if (!valid_utf8(v.s)) bad(path, declared, "the string is not valid UTF-8");
      node.value = std::move(v.s);
      return node;
  }
  bad(path, declared, "unknown value kind");
}

bool same_key(const Node::Child& c, const Step& s, bool keyed) {
  if (!keyed) return c.index == s.index;
  if (s.key.isString()) return c.key.isString() && c.key.toStringRef() == s.key.toStringRef();
  if (s.key.isInt()) return c.key.isInt() && c.key.toInt() == s.key.toInt();
  return c.key.isBool() && c.key.toBool() == s.key.toBool();
}

c10::IValue build_node(const Node& n, const std::string& path, bool copy, const c10::Device& device) {
  const c10::TypePtr& t = unwrap_optional(n.type);
  if (n.children.empty()) {
    if (n.empty) {
      if (t->kind() == c10::TypeKind::ListType) {
        return c10::impl::GenericList(t->expectRef<c10::ListType>().getElementType());
      }
      const auto& d = t->expectRef<c10::DictType>();
      return c10::impl::GenericDict(d.getKeyType(), d.getValueType());
    }
    if (n.value.isTensor()) {
      const at::Tensor& tensor = n.value.toTensor();
      if (tensor.device() != device) return tensor.to(device);  // a copy already
      return copy ? tensor.clone() : tensor;
    }
    return n.value;
  }
  auto child_path = [&](const Node::Child& c) { return join_path(path, c.segment); };
  switch (t->kind()) {
    case c10::TypeKind::ListType: {
      std::vector<const Node::Child*> order;
      order.reserve(n.children.size());
      for (const auto& c : n.children) order.push_back(&c);
      std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->index < b->index; });
      c10::impl::GenericList list(t->expectRef<c10::ListType>().getElementType());
      list.reserve(order.size());
      for (size_t i = 0; i < order.size(); ++i) {
        if (order[i]->index != static_cast<int64_t>(i)) {
          bad(path, n.type, "the list has element " + std::to_string(order[i]->index) + " but not " + std::to_string(i));
        }
        list.push_back(build_node(*order[i]->node, child_path(*order[i]), copy, device));
      }
      return list;
    }
    case c10::TypeKind::TupleType: {
      const auto tuple_type = t->cast<c10::TupleType>();
      const size_t arity = tuple_type->elements().size();
      std::vector<c10::IValue> elements(arity);
      std::vector<bool> seen(arity, false);
      for (const auto& c : n.children) {
        elements[static_cast<size_t>(c.index)] = build_node(*c.node, child_path(c), copy, device);
        seen[static_cast<size_t>(c.index)] = true;
      }
      for (size_t i = 0; i < arity; ++i) {
        if (!seen[i]) bad(path, n.type, "the tuple has no element " + std::to_string(i));
      }
      if (tuple_type->schema()) return c10::ivalue::Tuple::createNamed(std::move(elements), tuple_type);
      return c10::ivalue::Tuple::create(std::move(elements));
    }
    case c10::TypeKind::DictType: {
      const auto& d = t->expectRef<c10::DictType>();
      c10::impl::GenericDict dict(d.getKeyType(), d.getValueType());
      dict.reserve(n.children.size());
      for (const auto& c : n.children) dict.insert_or_assign(c.key, build_node(*c.node, child_path(c), copy, device));
      return dict;
    }
    default:
      bad(path, n.type, "internal: children below a leaf type");
  }
}

std::string argument_list(const MethodSpec& m) {
  std::string list;
  for (const auto& a : m.args) list += (list.empty() ? "" : ", ") + a.name + ": " + a.type;
  return list;
}

}  // namespace

Arguments::Arguments(const Model& model, const MethodSpec& method)
    : model_(model), method_(method), roots_(method.args.size()) {}

Arguments::~Arguments() = default;

void Arguments::set(std::string_view path, Value value) {
  std::vector<std::string> segments;
  std::string error;
  if (!parse_path(path, segments, error)) {
    fail(ErrorKind::InvalidArgument, "input path '" + std::string(path) + "' is malformed: " + error);
  }
  // The argument: by name or position, or for a .pt2 by its whole flattened path.
  size_t arg = method_.args.size();
  size_t first_below = 1;
  if (model_.flat_inputs()) {
    std::string canonical;
    for (const auto& s : segments) canonical = join_path(canonical, escape_segment(s));
    for (size_t i = 0; i < method_.args.size(); ++i) {
      if (method_.args[i].name == canonical) arg = i;
    }
    first_below = segments.size();
    if (arg == method_.args.size()) {
      fail(ErrorKind::InvalidArgument, "method '" + method_.name + "' has no input '" + canonical +
                                           "'; its inputs are: " + argument_list(method_) +
                                           " (values fixed when the package was exported, such as ints "
                                           "and strings, are not inputs)");
    }
  } else {
    for (size_t i = 0; i < method_.args.size(); ++i) {
      if (method_.args[i].name == segments[0]) arg = i;
    }
    long long position = 0;
    if (arg == method_.args.size() && parse_decimal(segments[0], position) && position >= 0 &&
        static_cast<size_t>(position) < method_.args.size()) {
      arg = static_cast<size_t>(position);
    }
    if (arg == method_.args.size()) {
      fail(ErrorKind::InvalidArgument, "method '" + method_.name + "' has no argument '" + escape_segment(segments[0]) +
                                           "'; its arguments are: " + argument_list(method_));
    }
  }
  const ArgSpec& spec = method_.args[arg];
  // Resolve every segment and fit the value before anything changes.
  std::string where = spec.name;
  c10::TypePtr type = spec.declared;
  std::vector<Step> steps;
  for (size_t i = first_below; i < segments.size(); ++i) {
    steps.push_back(resolve(where, type, segments[i]));
    where = join_path(where, steps.back().segment);
    type = steps.back().type;
  }
  Node fitted = fit(std::move(value), where, type);

  std::unique_ptr<Node>& root = roots_[arg];
  if (!root) {
    root = std::make_unique<Node>();
    root->type = spec.declared;
  }
  Node* node = root.get();
  for (const Step& s : steps) {
    const c10::TypePtr& t = unwrap_optional(node->type);
    const bool keyed = t->kind() == c10::TypeKind::DictType;
    // A child makes this a container: a None or empty set here before is replaced.
    node->has_value = false;
    node->empty = false;
    node->value = c10::IValue();
    auto it = std::find_if(node->children.begin(), node->children.end(),
                           [&](const Node::Child& c) { return same_key(c, s, keyed); });
    if (it == node->children.end()) {
      auto child = std::make_unique<Node>();
      child->type = s.type;
      node->children.push_back(Node::Child{s.segment, s.index, s.key, std::move(child)});
      it = node->children.end() - 1;
    }
    node = it->node.get();
  }
  *node = std::move(fitted);
}

std::optional<c10::IValue> Arguments::build(size_t index, bool copy_tensors, const c10::Device& device) const {
  const ArgSpec& spec = method_.args[index];
  const Node* root = roots_[index].get();
  if (!root || (!root->has_value && root->children.empty())) {
    if (!spec.has_default) {
      fail(ErrorKind::InvalidArgument, "required argument '" + spec.name + "' (" + spec.type + ") of method '" +
                                           method_.name + "' is not set");
    }
    return std::nullopt;
  }
  return build_node(*root, spec.name, copy_tensors, device);
}

}  // namespace ti::core::values
