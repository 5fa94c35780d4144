#include "core/aotinductor/tree_spec.h"

#include "core/values/path.h"

#include "core/error.h"

#include <nlohmann/json.hpp>

namespace ti::core::aotinductor {
namespace {

using nlohmann::json;
constexpr int kMaxDepth = 128;

[[noreturn]] void bad_spec(const std::string& why) {
  fail(ErrorKind::ModelFormat, "the package's input/output spec is malformed: " + why);
}

std::string join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// A dict's keys, from its node context (a JSON list; defaultdict nests it in "dict_context").
std::vector<std::string> dict_keys(const json& node, size_t children) {
  std::vector<std::string> keys;
  const auto it = node.find("context");
  if (it == node.end() || !it->is_string()) return keys;
  const json context = json::parse(it->get<std::string>(), nullptr, false);
  const json* list = &context;
  if (context.is_object() && context.contains("dict_context")) list = &context["dict_context"];
  if (!list->is_array() || list->size() != children) return keys;
  for (const auto& k : *list) {
    if (k.is_string()) {
      keys.push_back(values::escape_segment(k.get<std::string>()));  // the path grammar, as TorchScript leaves
    } else if (k.is_number_integer()) {
      keys.push_back(std::to_string(k.get<int64_t>()));
    } else if (k.is_boolean()) {
      keys.push_back(k.get<bool>() ? "True" : "False");
    } else {
      keys.push_back(k.dump());
    }
  }
  return keys;
}

void walk(const json& node, const std::string& prefix, int depth, std::vector<std::string>& out) {
  if (depth > kMaxDepth) bad_spec("nested deeper than " + std::to_string(kMaxDepth));
  if (!node.is_object()) bad_spec("a node is not an object");
  const auto type = node.find("type");
  const auto children = node.find("children_spec");
  if (type == node.end() || type->is_null()) {
    out.push_back(prefix.empty() ? "0" : prefix);
    return;
  }
  if (!type->is_string() || children == node.end() || !children->is_array()) bad_spec("a node lacks its type or children");
  const std::string& t = type->get_ref<const std::string&>();
  std::vector<std::string> keys;
  if (t.find("dict") != std::string::npos || t.find("Dict") != std::string::npos) keys = dict_keys(node, children->size());
  for (size_t i = 0; i < children->size(); ++i) {
    walk((*children)[i], join(prefix, keys.empty() ? std::to_string(i) : keys[i]), depth + 1, out);
  }
}

json parse_spec(const std::string& text) {
  json spec = json::parse(text, nullptr, false);
  if (spec.is_discarded()) bad_spec("not JSON");
  if (!spec.is_array() || spec.size() != 2 || !spec[0].is_number_integer()) bad_spec("not [version, tree]");
  return spec[1];
}

}  // namespace

std::vector<std::string> output_leaf_names(const std::string& spec_json) {
  std::vector<std::string> names;
  walk(parse_spec(spec_json), "", 0, names);
  return names;
}

std::vector<std::string> input_leaf_names(const std::string& spec_json) {
  const json root = parse_spec(spec_json);
  std::vector<std::string> names;
  const auto children = root.is_object() ? root.find("children_spec") : root.end();
  if (children != root.end() && children->is_array() && children->size() == 2) {
    walk((*children)[0], "", 1, names);  // args: by position (an empty tuple has no leaves)
    walk((*children)[1], "", 1, names);  // kwargs: by keyword
    return names;
  }
  walk(root, "", 0, names);
  return names;
}

}  // namespace ti::core::aotinductor
