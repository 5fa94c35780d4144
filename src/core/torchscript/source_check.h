// A check of the TorchScript source files in an archive (code/**.py), run before LibTorch
// compiles them. LibTorch 1.13's importer crashes on a class-level assignment without a type
// annotation (other than its own __parameters__ / __buffers__ / hook lists), and its recursive
// parser and compiler overflow the stack on deeply nested source. Knows nothing about LibTorch.
#pragma once

#include <string>
#include <string_view>

namespace ti::core::torchscript {

// The deepest bracket nesting, the deepest indentation (in columns) and the most operators in
// one statement accepted in source. LibTorch's parser and compiler recurse once per level and
// per operator of a chain like `x + x + ... + x`, and so do graph passes on the first call: a
// 1,000-term chain overflowed a 1 MiB (JVM thread) stack on its first call, 500 did not.
// Serialized TorchScript has a few operators per statement.
constexpr int kMaxSourceBrackets = 256;
constexpr int kMaxSourceIndent = 512;
constexpr int kMaxSourceOperators = 512;

// What the deepest statement needs: the loader runs LibTorch on a thread with a large stack
// when a file goes past what any caller's thread (a JVM thread has 1 MiB) can take.
struct SourceShape {
  int max_brackets = 0;
  int max_operators = 0;  // binary-operator characters in one statement (an upper bound)
};

// Empty when `code` passes; otherwise what is wrong, with its line number. `shape`, when given,
// is raised to this file's deepest statement.
std::string check_source(std::string_view code, SourceShape* shape = nullptr);

}  // namespace ti::core::torchscript
