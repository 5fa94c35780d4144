// A check of the TorchScript source files in an archive (code/**.py), run before LibTorch
// compiles them. Knows nothing about LibTorch, but models two things about it:
//  - its lexer, parser and compiler recurse: once per nesting level of an expression (brackets,
//    unary and binary operators, conditional expressions, attribute, call and subscript chains),
//    once per nested block and per `elif` of a chain, and once per line the lexer skips in a
//    row (blank lines, comments, backslash continuations). Deep enough source overflows the
//    stack (SIGSEGV) at load, and a chain of operators on the first call.
//  - its importer reads a class by its base (`Module`, `NamedTuple`, `Enum`, `Interface`,
//    `ModuleInterface` or none) and a class body by the forms its exporter writes; LibTorch 1.13
//    crashes on some other forms (a module body under `NamedTuple`, `__parameters__` annotated,
//    a class-level assignment without annotation), in a process that already loaded a model.
#pragma once

#include <string>
#include <string_view>

namespace ti::core::torchscript {

// Recursion of the parser and compiler for one statement, in levels: 1 per binary operator
// character, keyword operator (`not`, `and`, `or`, `in`, `is`, `if`, `else`, `for`), attribute
// access and call or subscript, 2 per unary `-`, `~` or `*`, 2 per bracket of the deepest nesting
// and 2 per enclosing block (each `elif` of a chain opens one). Measured at load plus first call
// on a 1 MiB thread, a level costs at most ~1.6 KiB (650 terms of `x + x + ...` overflowed it on
// LibTorch 1.13; 590 nested unary minus on 2.15, 1.7 KiB each, hence 2 levels; `not`, ternaries,
// attribute and subscript chains cost 0.4 to 0.9 KiB per construct, nested calls ~2.3 KiB for 3
// levels, blocks ~2.7 KiB for 2). 512 levels (~820 KiB) keep a first call on a 1 MiB (JVM)
// thread safe. Serialized code stays far below: the deepest statement of torchvision's
// detection models is 35.
constexpr int kMaxSourceDepth = 512;
// Brackets nested in one statement (also bounded by kMaxSourceDepth), and indentation in columns.
constexpr int kMaxSourceBrackets = 256;
constexpr int kMaxSourceIndent = 512;
// Lines LibTorch's lexer skips in a row before the next token: blank and comment-only lines
// and backslash continuations, with a comment counting twice. Each is a recursion of its lexer
// (~0.25 KiB: 31,000 blank lines or 15,600 comment lines overflowed an 8 MiB stack at load on
// LibTorch 1.13, 4,300 blank lines a 1 MiB one on 2.15). Serialized code has none.
constexpr int kMaxSourceSkippedLines = 10000;

// Past these the loader compiles on its large-stack thread rather than on the caller's (which
// may be a 1 MiB JVM thread).
constexpr int kLargeStackDepth = 64;
constexpr int kLargeStackSkippedLines = 256;

// What the deepest statement needs.
struct SourceShape {
  int max_depth = 0;          // levels (see kMaxSourceDepth)
  int max_skipped_lines = 0;  // see kMaxSourceSkippedLines
  bool needs_large_stack() const {
    return max_depth > kLargeStackDepth || max_skipped_lines > kLargeStackSkippedLines;
  }
};

// Empty when `code` passes; otherwise what is wrong, with its line number. `shape`, when given,
// is raised to this file's deepest statement.
std::string check_source(std::string_view code, SourceShape* shape = nullptr);

}  // namespace ti::core::torchscript
