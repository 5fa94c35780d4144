// What a .pt2 model accepts, read from the package itself: AOTInductor writes the checks of
// every input (dtype, static sizes, the ranges of dynamic sizes, static strides, device) into
// the wrapper source it packages, and the symbols that tie dynamic sizes together
// (`assert_size_stride(arg0_1, {s0, 8L}, ...)`). The compiled code runs those checks only when
// AOTI_RUNTIME_CHECK_INPUTS is set in the environment; without them a wrong shape makes the
// kernels read out of bounds. So the library parses them and checks every input itself before
// the compiled code runs. No LibTorch here: this parses untrusted text.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ti::core::aotinductor {

// One term of a size expression: coefficient * symbol (symbol empty: a constant).
struct Term {
  int64_t coefficient;
  std::string symbol;
};

struct DimSpec {
  std::optional<int64_t> fixed;             // a static size
  std::vector<Term> expression;             // a dynamic size: the sum of the terms
  int64_t min = 0;                          // inclusive range of a dynamic size
  int64_t max = std::numeric_limits<int64_t>::max();
  std::string text;                         // for messages: "s0", "2*s0 + 1", "8"
};

struct InputSpec {
  std::string internal_name;                // "arg2_1"
  std::string dtype;                        // "float32", as in aoti_torch_dtype_<name>()
  std::vector<DimSpec> dims;
  std::vector<std::optional<int64_t>> strides;  // static strides (nullopt: dynamic / unknown)
  int device_type = -1;                     // 0 cpu, 1 cuda, -1 not stated
};

// Parses the input checks of one model's wrapper source. Returns false with a reason when the
// source has none that can be relied on (so that the package is refused rather than run blind).
bool parse_input_specs(std::string_view source, std::vector<InputSpec>& out, std::string& error);

// Records the size of every dim that is a single symbol ("s0") in `bindings`, first binding
// wins. Called for all the inputs of one call before any is checked, so that a symbol bound by
// one input is checked against the others. An input of the wrong rank binds nothing.
void bind_symbols(const InputSpec& spec, const int64_t* sizes, size_t ndim,
                  std::map<std::string, int64_t>& bindings);

// Checks every dim: rank, static sizes, ranges, and expressions over the bound symbols. Returns
// an empty string when the sizes fit, otherwise what is wrong ("dim 0 is 70, outside ...").
std::string check_sizes(const InputSpec& spec, const int64_t* sizes, size_t ndim,
                        const std::map<std::string, int64_t>& bindings);

}  // namespace ti::core::aotinductor
