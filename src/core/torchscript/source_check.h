// A check of the TorchScript source files in an archive (code/**.py), run before LibTorch
// compiles them. LibTorch 1.13's importer crashes on a class-level assignment without a type
// annotation (other than its own __parameters__ / __buffers__ / hook lists), and its recursive
// parser and compiler overflow the stack on deeply nested source. Knows nothing about LibTorch.
#pragma once

#include <string>
#include <string_view>

namespace ti::core::torchscript {

// The deepest bracket nesting, and the deepest indentation (in columns), accepted in source.
constexpr int kMaxSourceBrackets = 256;
constexpr int kMaxSourceIndent = 512;

// Empty when `code` passes; otherwise what is wrong, with its line number.
std::string check_source(std::string_view code);

}  // namespace ti::core::torchscript
