#include "core/torchscript/source_check.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

namespace ti::core::torchscript {
namespace {

enum class Tok { Ident, Keyword, Number, String, Op, Assign, Colon, Comma, Open, Close };

struct Token {
  Tok kind;
  std::string_view text;
};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Keywords of LibTorch's lexer that are expression operators (each a parser recursion or an
// AST level), and the others (statement keywords and constants).
bool is_operator_keyword(std::string_view w) {
  switch (w.empty() ? '\0' : w[0]) {
    case 'n': return w == "not";
    case 'a': return w == "and";
    case 'o': return w == "or";
    case 'i': return w == "in" || w == "is" || w == "if";
    case 'e': return w == "else";
    case 'f': return w == "for";
    default: return false;
  }
}
bool is_keyword(std::string_view w) {
  if (is_operator_keyword(w)) return true;
  switch (w.empty() ? '\0' : w[0]) {
    case 'd': return w == "def" || w == "del";
    case 'e': return w == "elif";
    case 'w': return w == "while" || w == "with";
    case 'r': return w == "return" || w == "raise";
    case 'T': return w == "True";
    case 'F': return w == "False";
    case 'N': return w == "None" || w == "NoneType";
    case 'g': return w == "global";
    case 'a': return w == "assert" || w == "as";
    case 'b': return w == "break";
    case 'c': return w == "continue" || w == "class";
    case 'p': return w == "pass";
    case 'i': return w == "import";
    case 'E': return w == "Ellipsis";
    default: return false;
  }
}
bool is_operator_char(char c) {
  switch (c) {
    case '+': case '-': case '*': case '/': case '%': case '&': case '|': case '^': case '<': case '>': case '@':
    case '~':
      return true;
    default:
      return false;
  }
}

// The length of the punctuation token at code[i] (LibTorch's multi-character ones: ** // << >>
// == != <= >= -> ... <=> and the augmented assignments).
size_t punctuation_length(std::string_view code, size_t i) {
  const char c = code[i];
  const char n1 = i + 1 < code.size() ? code[i + 1] : '\0';
  const char n2 = i + 2 < code.size() ? code[i + 2] : '\0';
  switch (c) {
    case '*':
    case '<':
    case '>':
      if (n1 == c && (c == '*' || c == '<' || c == '>')) return n2 == '=' ? 3 : 2;
      if (n1 == '=') return c == '<' && n2 == '>' ? 3 : 2;
      return 1;
    case '.': return n1 == '.' && n2 == '.' ? 3 : 1;
    case '/': return n1 == '/' || n1 == '=' ? 2 : 1;
    case '-': return n1 == '>' || n1 == '=' ? 2 : 1;
    case '=':
    case '!':
    case '+':
    case '%':
    case '|':
    case '&':
    case '^': return n1 == '=' ? 2 : 1;
    default: return 1;
  }
}

// What a class's base makes of it in LibTorch's importer (SourceImporterImpl::importNamedType).
enum class ClassKind { Plain, Module, NamedTuple, Enum, Interface };

bool is_special_list(std::string_view name) {
  return name == "__parameters__" || name == "__buffers__" || name == "__forward_pre_hooks__" ||
         name == "__forward_hooks__";
}

// One statement directly in a class body (or a class header), classified from its tokens as
// they stream by: only a few leading tokens are kept, the rest is summarised in flags.
struct ClassStatement {
  std::vector<Token> head;  // the first kHead tokens
  static constexpr size_t kHead = 8;
  size_t count = 0;
  size_t colon = 0, assign = 0;  // 1-based index of the first top-level ':' / '=' (0: none)
  bool annotation_ok = true;     // tokens between ':' and '=' (or the end) form a type
  bool extra_assign = false;     // a second top-level '='
  int nesting = 0;
  // `[ "a", "b", ]`: 0 expects '[', 1 a string or ']', 2 ',' or ']', 3 done, -1 not this form
  int string_list = 0;
  size_t value_tokens = 0;  // tokens after '='
  bool keep_strings = false;               // a hook list: its names are kept
  std::vector<std::string_view> strings;  // the string tokens of a hook list's value

  void add(const Token& t) {
    ++count;
    if (head.size() < kHead) head.push_back(t);
    if (count == 1) keep_strings = t.text == "__forward_hooks__" || t.text == "__forward_pre_hooks__";
    if (keep_strings && assign && t.kind == Tok::String) strings.push_back(t.text);
    const bool top = nesting == 0;
    if (t.kind == Tok::Open) ++nesting;
    if (t.kind == Tok::Close && nesting > 0) --nesting;
    if (assign) {
      ++value_tokens;
      switch (string_list) {
        case 0: string_list = t.kind == Tok::Open && t.text == "[" ? 1 : -1; break;
        case 1: string_list = t.kind == Tok::String ? 2 : t.kind == Tok::Close ? 3 : -1; break;
        case 2: string_list = t.kind == Tok::Comma ? 1 : t.kind == Tok::Close ? 3 : -1; break;
        case 3: string_list = -1; break;
        default: break;
      }
      if (top && t.kind == Tok::Assign) extra_assign = true;
      return;
    }
    if (top && t.kind == Tok::Assign) {
      assign = count;
      return;
    }
    if (colon) {
      const bool type_token = t.kind == Tok::Ident || t.kind == Tok::Comma || t.kind == Tok::Open ||
                              t.kind == Tok::Close || (t.kind == Tok::Op && t.text == ".") ||
                              (t.kind == Tok::Keyword && (t.text == "None" || t.text == "NoneType"));
      if (!type_token || (count == colon + 1 && t.kind != Tok::Ident && t.kind != Tok::Keyword)) {
        annotation_ok = false;
      }
      return;
    }
    if (top && t.kind == Tok::Colon) colon = count;
  }
  const Token* at(size_t i) const { return i < head.size() ? &head[i] : nullptr; }
  bool is(size_t i, Tok kind, std::string_view text = {}) const {
    const Token* t = at(i);
    return t && t->kind == kind && (text.empty() || t->text == text);
  }
};

struct ClassScope {
  int indent;
  int body = -1;  // indentation of the body, once seen
  ClassKind kind;
  std::string name;
  std::set<std::string, std::less<>> declared;  // attribute and constant names
  std::set<std::string, std::less<>> lists;     // __parameters__ and the like, once each
  std::set<std::string, std::less<>> methods;
  std::vector<std::pair<std::string, size_t>> hooks;  // names in hook lists, with their line
};

// LibTorch's lexer keeps a stack of indentations; the parser recurses once per block, and once
// per `elif` of a chain (parseIf calls itself for the rest of the chain).
struct Block {
  int indent;
  int levels;     // blocks enclosing statements at this indentation, `elif`s included
  int elifs = 0;  // `elif`s so far in the current if-chain at this indentation
};

class SourceChecker {
 public:
  SourceChecker(std::string_view code, SourceShape* shape) : code_(code), shape_(shape) {}

  std::string run() {
    blocks_.push_back({0, 0});
    bool line_start = true;
    while (error_.empty() && pos_ < code_.size()) {
      if (line_start) {
        line_start = false;
        if (nesting_ == 0 && !continued_) measure_indent();
        continued_ = false;  // a backslash continues only the next line
        continue;
      }
      const char c = code_[pos_];
      if (c == '\n') {
        skip_line();
        ++pos_;
        ++line_;
        line_start = true;
        if (nesting_ == 0 && in_statement_) end_statement();
      } else if (is_blank(c)) {
        ++pos_;
      } else if (c == '#' && code_.compare(pos_, 7, "# type:") != 0) {
        while (pos_ < code_.size() && code_[pos_] != '\n') ++pos_;
        skip_line();
      } else if (c == '\\' && pos_ + 1 < code_.size() && code_[pos_ + 1] == '\n') {
        skip_line();
        pos_ += 2;
        ++line_;
        continued_ = true;
        line_start = true;
      } else {
        lex_token();
      }
    }
    if (error_.empty() && in_statement_) end_statement();
    while (error_.empty() && !classes_.empty()) end_class();
    return error_;
  }

 private:
  void fail(const std::string& what) {
    if (error_.empty()) error_ = "line " + std::to_string(stmt_line_ ? stmt_line_ : line_) + ": " + what;
  }

  // A newline, comment or continuation between two tokens: one more recursion of the lexer.
  void skip_line() {
    ++skipped_;
    if (shape_ && skipped_ > shape_->max_skipped_lines) shape_->max_skipped_lines = skipped_;
    if (skipped_ > kMaxSourceSkippedLines) {
      stmt_line_ = 0;
      fail("more than " + std::to_string(kMaxSourceSkippedLines) +
           " blank, comment or continued lines in a row (LibTorch's lexer recurses once per line it skips)");
    }
  }

  void measure_indent() {
    int chars = 0, columns = 0;
    size_t i = pos_;
    while (i < code_.size() && is_blank(code_[i])) {
      columns += code_[i] == '\t' ? 8 - columns % 8 : 1;
      ++chars;
      ++i;
    }
    line_indent_ = chars;
    line_columns_ = columns;
    pos_ = i;
  }

  // The end of a decimal number: digits, a fraction, an exponent. LibTorch's strtod may take
  // more (hex digits, a `j`); what it takes beyond this is then counted here as tokens, which
  // only overestimates. Taking less than LibTorch never happens, so nothing hides in a number.
  size_t number_end(size_t i) const {
    auto digits = [&](size_t j) {
      while (j < code_.size() && std::isdigit(static_cast<unsigned char>(code_[j]))) ++j;
      return j;
    };
    i = digits(i);
    if (i < code_.size() && code_[i] == '.') i = digits(i + 1);
    if (i < code_.size() && (code_[i] == 'e' || code_[i] == 'E')) {
      size_t j = i + 1;
      if (j < code_.size() && (code_[j] == '+' || code_[j] == '-')) ++j;
      if (j < code_.size() && std::isdigit(static_cast<unsigned char>(code_[j]))) i = digits(j);
    }
    return i;
  }

  void lex_token() {
    const char c = code_[pos_];
    const size_t start = pos_;
    if (c == '"' || c == '\'') {
      const bool triple = pos_ + 2 < code_.size() && code_[pos_ + 1] == c && code_[pos_ + 2] == c;
      const std::string_view close = code_.substr(pos_, triple ? 3 : 1);
      pos_ += close.size();
      while (pos_ < code_.size() && code_.compare(pos_, close.size(), close) != 0) {
        if (code_[pos_] == '\n') {
          if (!triple) break;  // not a string to LibTorch: its lexer fails here
          ++line_;
        }
        if (code_[pos_] == '\\' && pos_ + 1 < code_.size()) {
          if (code_[pos_ + 1] == '\n') ++line_;
          ++pos_;
        }
        ++pos_;
      }
      if (pos_ < code_.size() && code_[pos_] != '\n') pos_ += close.size();
      pos_ = std::min(pos_, code_.size());
      token({Tok::String, code_.substr(start, pos_ - start)});
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && pos_ + 1 < code_.size() && std::isdigit(static_cast<unsigned char>(code_[pos_ + 1])))) {
      pos_ = number_end(pos_);
      token({Tok::Number, code_.substr(start, pos_ - start)});
    } else if (is_ident_start(c)) {
      while (pos_ < code_.size() && is_ident_char(code_[pos_])) ++pos_;
      const std::string_view word = code_.substr(start, pos_ - start);
      token({is_keyword(word) ? Tok::Keyword : Tok::Ident, word});
    } else if (c == '(' || c == '[' || c == '{') {
      ++pos_;
      token({Tok::Open, code_.substr(start, 1)});
    } else if (c == ')' || c == ']' || c == '}') {
      ++pos_;
      token({Tok::Close, code_.substr(start, 1)});
    } else if (c == '#' && code_.compare(pos_, 7, "# type:") == 0) {
      pos_ += 7;
      token({Tok::Op, code_.substr(start, 7)});
    } else {
      const size_t n = punctuation_length(code_, pos_);
      pos_ += n;
      const std::string_view text = code_.substr(start, n);
      const Tok kind = text == "=" ? Tok::Assign : text == ":" ? Tok::Colon : text == "," ? Tok::Comma : Tok::Op;
      token({kind, text});
    }
  }

  // ------------------------------------------------------------------ statements
  void begin_statement(const Token& first) {
    in_statement_ = true;
    stmt_line_ = line_;
    if (line_columns_ > kMaxSourceIndent) {
      return fail("indented deeper than " + std::to_string(kMaxSourceIndent) + " columns");
    }
    const int indent = line_indent_;
    while (blocks_.size() > 1 && indent < blocks_.back().indent) blocks_.pop_back();
    if (indent > blocks_.back().indent) {
      const Block& parent = blocks_.back();
      blocks_.push_back({indent, parent.levels + 1 + parent.elifs});
    }
    Block& block = blocks_.back();
    if (first.kind == Tok::Keyword && first.text == "elif") {
      ++block.elifs;
    } else if (!(first.kind == Tok::Keyword && first.text == "else")) {
      block.elifs = 0;
    }
    stmt_blocks_ = block.levels + block.elifs;

    while (!classes_.empty() && classes_.back().body >= 0 && indent < classes_.back().body) end_class();
    if (!classes_.empty() && classes_.back().body < 0) {
      if (indent > classes_.back().indent) {
        classes_.back().body = indent;
      } else {
        end_class();
      }
    }
    if (!error_.empty()) return;
    class_header_ = first.kind == Tok::Keyword && first.text == "class";
    class_level_ = !classes_.empty() && classes_.back().body == indent;
    if (class_header_ || class_level_) {
      class_stmt_ = ClassStatement{};
      class_indent_ = indent;
    }
  }

  void token(const Token& t) {
    skipped_ = 0;
    const bool first = !in_statement_;
    if (first) {
      begin_statement(t);
      if (!error_.empty()) return;
    }
    if (class_header_ || class_level_) class_stmt_.add(t);

    // Recursion levels. An operand before an operator makes it binary, before a bracket a call
    // or subscript.
    const bool after_operand = !first && (prev_ == Tok::Ident || prev_ == Tok::Number || prev_ == Tok::String ||
                                          prev_ == Tok::Close || prev_keyword_constant_);
    switch (t.kind) {
      case Tok::Keyword:
        if (!first && is_operator_keyword(t.text)) {
          ++chain_;
          if (t.text == "not" && !after_operand) ++unary_not_;
          else if (t.text == "if" || t.text == "else") ++conditional_;
          else ++binary_;
        }
        break;
      case Tok::Op:
        if (t.text.size() == 1 && t.text[0] == '.') {
          ++chain_;
          ++attribute_;
        } else {
          for (char c : t.text) {
            if (!is_operator_char(c)) continue;
            if (!after_operand && (c == '-' || c == '~' || c == '*')) {
              chain_ += 2;  // LibTorch 2.x: ~1.7 KiB per nested unary minus
              ++unary_;
            } else {
              ++chain_;
              ++binary_;
            }
          }
        }
        break;
      case Tok::Open:
        if (after_operand) {
          ++chain_;
          ++postfix_;
        }
        if (++nesting_ > kMaxSourceBrackets) {
          return fail("brackets nested deeper than " + std::to_string(kMaxSourceBrackets));
        }
        stmt_nesting_ = std::max(stmt_nesting_, nesting_);
        break;
      case Tok::Close:
        if (nesting_ > 0) --nesting_;
        break;
      default:
        break;
    }
    prev_ = t.kind;
    prev_keyword_constant_ = t.kind == Tok::Keyword && (t.text == "True" || t.text == "False" || t.text == "None" ||
                                                        t.text == "NoneType" || t.text == "Ellipsis");
    const int depth = 2 * stmt_blocks_ + 2 * stmt_nesting_ + chain_;
    if (shape_ && depth > shape_->max_depth) shape_->max_depth = depth;
    if (depth > kMaxSourceDepth) fail_depth(depth);
  }

  // Names what made the statement deep: the largest contributor.
  void fail_depth(int depth) {
    struct Part { int count, weight; const char* what; };
    const Part parts[] = {
        {unary_, 2, "unary operators (-, ~, * count 2 each)"},
        {unary_not_, 1, "unary not"},
        {binary_, 1, "binary operators"},
        {conditional_, 1, "keywords of conditional expressions (a if c else b)"},
        {attribute_, 1, "attribute accesses (x.a.b)"},
        {postfix_, 1, "calls and subscripts (f(x), x[0])"},
        {stmt_nesting_, 2, "levels of nested brackets (2 each)"},
        {stmt_blocks_, 2, "levels of nested blocks and elif chains (2 each)"},
    };
    const Part* top = std::max_element(std::begin(parts), std::end(parts), [](const Part& a, const Part& b) {
      return a.count * a.weight < b.count * b.weight;
    });
    fail("a statement nested deeper than " + std::to_string(kMaxSourceDepth) +
         " levels, which LibTorch's parser and compiler reach by recursion (" + std::to_string(depth) +
         " levels, mostly " + std::to_string(top->count) + " " + top->what + ")");
  }

  void end_statement() {
    if (class_header_) {
      header();
    } else if (class_level_) {
      class_body_statement();
    }
    in_statement_ = false;
    class_header_ = class_level_ = false;
    stmt_line_ = 0;
    chain_ = stmt_nesting_ = stmt_blocks_ = 0;
    unary_ = unary_not_ = binary_ = conditional_ = attribute_ = postfix_ = 0;
    prev_keyword_constant_ = false;
  }

  // ------------------------------------------------------------------ classes
  // `class Name:` or `class Name(Base):` with one of the bases LibTorch's importer reads.
  void header() {
    const ClassStatement& s = class_stmt_;
    if (class_level_) return fail("a class declared inside a class body");
    if (!s.is(1, Tok::Ident)) return fail("a class header without a name");
    ClassScope scope{class_indent_, -1, ClassKind::Plain, std::string(s.at(1)->text), {}, {}, {}, {}};
    if (s.count == 3 && s.is(2, Tok::Colon)) {
      classes_.push_back(std::move(scope));
      return;
    }
    const bool one_base = s.count == 6 && s.is(2, Tok::Open, "(") && s.is(3, Tok::Ident) && s.is(4, Tok::Close, ")") &&
                          s.is(5, Tok::Colon);
    const std::string_view base = one_base ? s.at(3)->text : std::string_view();
    if (base == "Module") {
      scope.kind = ClassKind::Module;
    } else if (base == "NamedTuple") {
      scope.kind = ClassKind::NamedTuple;
    } else if (base == "Enum") {
      scope.kind = ClassKind::Enum;
    } else if (base == "Interface" || base == "ModuleInterface") {
      scope.kind = ClassKind::Interface;
    } else {
      return fail("class '" + scope.name +
                  "' is not declared as LibTorch's exporter writes classes: `class Name:` or `class Name(Base):` "
                  "with Base one of Module, NamedTuple, Enum, Interface, ModuleInterface");
    }
    classes_.push_back(std::move(scope));
  }

  void class_body_statement() {
    ClassScope& scope = classes_.back();
    const ClassStatement& s = class_stmt_;
    const std::string where = "class '" + scope.name + "': ";
    const bool is_def = s.is(0, Tok::Keyword, "def");
    if (scope.kind == ClassKind::Interface) {
      if (!is_def) fail(where + "an interface body holds only method declarations");
      return;
    }
    if (is_def) {
      if (scope.kind == ClassKind::NamedTuple || scope.kind == ClassKind::Enum) {
        return fail(where + "a NamedTuple or Enum body holds no methods");
      }
      if (s.is(1, Tok::Ident)) scope.methods.emplace(s.at(1)->text);
      return;
    }
    if (s.extra_assign) return fail(where + "a chained assignment in a class body");
    // __annotations__["name"] = Type: an attribute whose name is not an identifier.
    if (s.is(0, Tok::Ident, "__annotations__") && s.is(1, Tok::Open, "[")) {
      const bool form = s.is(2, Tok::String) && s.is(3, Tok::Close, "]") && s.assign == 5 && s.value_tokens > 0;
      if (!form || (scope.kind != ClassKind::Module && scope.kind != ClassKind::Plain)) {
        return fail(where + "__annotations__[...] is not of the form `__annotations__[\"name\"] = Type`");
      }
      if (!s.is(5, Tok::Ident) && !s.is(5, Tok::Keyword, "NoneType")) {
        return fail(where + "the type given in __annotations__[...] is not a type name");
      }
      return declare(scope, s.at(2)->text, where);
    }
    if (!s.is(0, Tok::Ident)) return fail(where + "a statement other than an attribute, constant or method");
    const std::string_view name = s.at(0)->text;
    const bool annotated = s.colon == 2;
    const bool assigned = s.assign != 0;
    if (s.colon != 0 && s.colon != 2) return fail(where + "'" + std::string(name) + "' is not declared as `name : Type`");
    if (assigned && s.assign != 2 && !(annotated && s.assign > 3)) {
      return fail(where + "the assignment to '" + std::string(name) + "' has a target other than a name");
    }
    if (!annotated && !assigned) return fail(where + "a statement other than an attribute, constant or method");

    if (scope.kind == ClassKind::Enum) {
      // NAME = 1 / NAME = -1.5 / NAME = "text"
      const size_t v = s.assign;  // the value's first token
      const bool literal = s.value_tokens == 1 ? (s.is(v, Tok::Number) || s.is(v, Tok::String))
                           : s.value_tokens == 2 ? (s.is(v, Tok::Op, "-") && s.is(v + 1, Tok::Number))
                                                 : false;
      if (annotated || !assigned || !literal) {
        return fail(where + "an Enum body holds only `NAME = literal` (a number or a string)");
      }
      return declare(scope, name, where);
    }
    if (is_special_list(name) || name == "__annotations__") {
      if (scope.kind != ClassKind::Module && !(scope.kind == ClassKind::Plain && name == "__annotations__")) {
        return fail(where + std::string(name) + " is declared in a class that is not a Module");
      }
      if (annotated || !assigned) {
        return fail(where + std::string(name) + " is annotated; LibTorch's exporter writes `" + std::string(name) +
                    " = [\"name\", ]` (a list of strings) and its importer misreads anything else");
      }
      if (s.string_list != 3 || (name == "__annotations__" && s.value_tokens != 2)) {
        return fail(where + std::string(name) + " is not assigned a list of strings");
      }
      auto& seen = name == "__annotations__" ? scope.declared : scope.lists;
      if (!seen.insert(std::string(name)).second) return fail(where + std::string(name) + " is declared twice");
      for (std::string_view quoted : s.strings) {
        // LibTorch's importer looks each hook up among the class's methods without checking.
        const std::string_view hook = quoted.size() >= 2 ? quoted.substr(1, quoted.size() - 2) : std::string_view();
        const bool plain = !hook.empty() && is_ident_start(hook[0]) &&
                           std::all_of(hook.begin(), hook.end(), is_ident_char) && quoted.front() == quoted.back();
        if (!plain) return fail(where + std::string(name) + " lists " + std::string(quoted) + ", not a method name");
        scope.hooks.emplace_back(std::string(hook), stmt_line_);
      }
      return;
    }
    if (!annotated) return fail("class attribute '" + std::string(name) + "' is assigned without a type annotation");
    if (!s.annotation_ok || (assigned ? s.assign == 3 : s.count == 2)) {
      return fail(where + "the annotation of '" + std::string(name) + "' is not a type");
    }
    if (assigned && scope.kind != ClassKind::NamedTuple && !(s.is(2, Tok::Ident, "Final") && s.is(3, Tok::Open, "["))) {
      return fail(where + "constant '" + std::string(name) + "' is not annotated Final[...]");
    }
    declare(scope, name, where);
  }

  // Checks what needs the whole class body, then forgets the class.
  void end_class() {
    const ClassScope& scope = classes_.back();
    for (const auto& [hook, line] : scope.hooks) {
      if (!scope.methods.count(hook)) {
        stmt_line_ = line;
        fail("class '" + scope.name + "': hook '" + hook + "' names no method of the class");
        break;
      }
    }
    classes_.pop_back();
  }

  void declare(ClassScope& scope, std::string_view name, const std::string& where) {
    if (!scope.declared.emplace(name).second) {
      fail(where + "'" + std::string(name) + "' is declared twice");
    }
  }

  std::string_view code_;
  SourceShape* shape_;
  std::string error_;
  size_t pos_ = 0, line_ = 1, stmt_line_ = 0;
  int line_indent_ = 0, line_columns_ = 0;
  int nesting_ = 0;       // brackets open, across lines
  bool continued_ = false;  // the previous line ended with a backslash
  int skipped_ = 0;       // lines skipped since the last token

  bool in_statement_ = false;
  int chain_ = 0, stmt_nesting_ = 0, stmt_blocks_ = 0;
  int unary_ = 0, unary_not_ = 0, binary_ = 0, conditional_ = 0, attribute_ = 0, postfix_ = 0;
  Tok prev_ = Tok::Op;
  bool prev_keyword_constant_ = false;
  std::vector<Block> blocks_;

  std::vector<ClassScope> classes_;
  bool class_header_ = false, class_level_ = false;
  int class_indent_ = 0;
  ClassStatement class_stmt_;
};

}  // namespace

std::string check_source(std::string_view code, SourceShape* shape) {
  return SourceChecker(code, shape).run();
}

}  // namespace ti::core::torchscript
