// Leaf names from the pytree specs (torch.utils._pytree's JSON) that a .pt2 stores for its
// inputs and outputs, so that .pt2 leaves are named exactly as TorchScript ones: tuple and list
// elements by index, dict entries by key, joined by ".", a bare leaf "0".
#pragma once

#include <string>
#include <vector>

namespace ti::core::aotinductor {

// The names of the leaves of an output spec, in flattening order. Throws ModelFormat when the
// text is not a pytree spec.
std::vector<std::string> output_leaf_names(const std::string& spec_json);

// The names of the leaves of an input spec, which describes (args, kwargs): positional
// arguments by position ("0", "1", "0.1" inside a tuple argument), keyword arguments by keyword.
std::vector<std::string> input_leaf_names(const std::string& spec_json);

}  // namespace ti::core::aotinductor
