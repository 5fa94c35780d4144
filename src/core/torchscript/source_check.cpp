#include "core/torchscript/source_check.h"

#include <cctype>
#include <vector>

namespace ti::core::torchscript {
namespace {

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Names the importer reads from a class body without an annotation.
bool special_class_name(std::string_view name) {
  return name == "__parameters__" || name == "__buffers__" || name == "__forward_pre_hooks__" ||
         name == "__forward_hooks__";
}

std::string at_line(size_t line, const std::string& what) { return "line " + std::to_string(line) + ": " + what; }

}  // namespace

std::string check_source(std::string_view code, SourceShape* shape) {
  int depth = 0;              // bracket nesting, carried across lines
  int operators = 0;          // in the current statement
  size_t line_no = 0;
  // Indentation of open `class` statements and of their bodies (-1: body not seen yet).
  struct ClassScope { int indent; int body; };
  std::vector<ClassScope> classes;
  size_t pos = 0;
  while (pos < code.size()) {
    size_t end = code.find('\n', pos);
    if (end == std::string_view::npos) end = code.size();
    const std::string_view line = code.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const bool continuation = depth > 0;

    // Indentation, when the line starts a statement.
    int indent = 0;
    size_t i = 0;
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      indent += line[i] == '\t' ? 8 - indent % 8 : 1;
      ++i;
    }
    const bool blank = i == line.size() || line[i] == '#' || line[i] == '\r';
    if (!continuation) operators = 0;
    if (!continuation && !blank) {
      if (indent > kMaxSourceIndent) return at_line(line_no, "indented deeper than " + std::to_string(kMaxSourceIndent) + " columns");
      while (!classes.empty() && classes.back().body >= 0 && indent < classes.back().body) classes.pop_back();
      if (!classes.empty() && classes.back().body < 0) {
        if (indent > classes.back().indent) {
          classes.back().body = indent;
        } else {
          classes.pop_back();
        }
      }
    }

    // Brackets, strings and, for a statement directly in a class body, `name = value`.
    const bool class_statement = !continuation && !blank && !classes.empty() && classes.back().body == indent;
    size_t assign = std::string_view::npos, colon = std::string_view::npos;
    char quote = 0;
    for (size_t k = i; k < line.size(); ++k) {
      const char c = line[k];
      if (quote) {
        if (c == '\\') ++k;
        else if (c == quote) quote = 0;
        continue;
      }
      if (c == '#') break;
      if (c == '"' || c == '\'') { quote = c; continue; }
      if (c == '(' || c == '[' || c == '{') {
        if (++depth > kMaxSourceBrackets) return at_line(line_no, "brackets nested deeper than " + std::to_string(kMaxSourceBrackets));
        if (shape && depth > shape->max_brackets) shape->max_brackets = depth;
      } else if (std::string_view("+-*/%&|^<>@").find(c) != std::string_view::npos) {
        if (++operators > kMaxSourceOperators) {
          return at_line(line_no, "a statement with more than " + std::to_string(kMaxSourceOperators) + " operators");
        }
        if (shape && operators > shape->max_operators) shape->max_operators = operators;
      } else if (c == ')' || c == ']' || c == '}') {
        if (depth > 0) --depth;
      } else if (depth == 0 && !continuation) {
        if (c == ':' && colon == std::string_view::npos) colon = k;
        const bool comparison = (k + 1 < line.size() && line[k + 1] == '=') ||
                                (k > 0 && std::string_view("=!<>+-*/%&|^@").find(line[k - 1]) != std::string_view::npos);
        if (c == '=' && !comparison && assign == std::string_view::npos) assign = k;
      }
    }

    if (!continuation && !blank) {
      const std::string_view stmt = line.substr(i);
      if (stmt.substr(0, 6) == "class " || stmt == "class") classes.push_back({indent, -1});
      if (class_statement && assign != std::string_view::npos && (colon == std::string_view::npos || colon > assign)) {
        size_t e = i;
        while (e < line.size() && is_ident_char(line[e])) ++e;
        std::string_view name = line.substr(i, e - i);
        size_t after = e;
        while (after < line.size() && (line[after] == ' ' || line[after] == '\t')) ++after;
        if (!name.empty() && after == assign && !special_class_name(name)) {
          return at_line(line_no, "class attribute '" + std::string(name) + "' is assigned without a type annotation");
        }
      }
    }
  }
  return {};
}

}  // namespace ti::core::torchscript
