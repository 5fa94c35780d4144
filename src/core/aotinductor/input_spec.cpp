#include "core/aotinductor/input_spec.h"

#include <cctype>
#include <cstdlib>
#include <map>

namespace ti::core::aotinductor {
namespace {

constexpr size_t kMaxInputs = 1 << 16;
constexpr size_t kMaxRank = 64;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A decimal integer, optionally negative, optionally with C++'s L/LL suffix.
bool parse_int(std::string_view s, int64_t& out) {
  s = trim(s);
  while (!s.empty() && (s.back() == 'L' || s.back() == 'l')) s.remove_suffix(1);
  if (s.empty() || s.size() > 20) return false;
  bool negative = false;
  size_t i = 0;
  if (s[0] == '-') negative = true, i = 1;
  if (i == s.size()) return false;
  uint64_t value = 0;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = negative ? -static_cast<int64_t>(value) : static_cast<int64_t>(value);
  return true;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// A size expression as sympy prints it for C++: a sum of terms, each an integer, a symbol or
// integer*symbol ("s0", "8L", "2L*s0", "s0 + 1L", "1L + 2L*s1"). Anything else is refused.
bool parse_expression(std::string_view text, std::vector<Term>& out) {
  std::string s;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) s += c;
  }
  if (s.empty()) return false;
  size_t pos = 0;
  while (pos < s.size()) {
    int sign = 1;
    if (s[pos] == '+' || s[pos] == '-') {
      sign = s[pos] == '-' ? -1 : 1;
      ++pos;
    } else if (pos != 0) {
      return false;
    }
    size_t end = pos;
    while (end < s.size() && s[end] != '+' && s[end] != '-') ++end;
    std::string_view term(s.data() + pos, end - pos);
    if (term.empty()) return false;
    Term t{1, {}};
    const size_t star = term.find('*');
    std::string_view factor = term;
    if (star != std::string_view::npos) {
      if (!parse_int(term.substr(0, star), t.coefficient)) return false;
      factor = term.substr(star + 1);
      if (!is_identifier(factor)) return false;
      t.symbol = std::string(factor);
    } else if (is_identifier(factor)) {
      t.symbol = std::string(factor);
    } else if (!parse_int(factor, t.coefficient)) {
      return false;
    }
    if (sign < 0) {
      if (t.coefficient == std::numeric_limits<int64_t>::min()) return false;
      t.coefficient = -t.coefficient;
    }
    out.push_back(std::move(t));
    pos = end;
  }
  return !out.empty();
}

// Splits "{a, b, c}" (the braces already removed) at top-level commas.
std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(') ++depth;
    if (s[i] == ')') --depth;
    if (s[i] == ',' && depth == 0) {
      parts.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  std::string_view last = trim(s.substr(start));
  if (!last.empty()) parts.push_back(last);
  return parts;
}

// Matches `text` against `pattern`, where each '#' in the pattern captures an integer
// (optionally negative, optional L suffix) and each '@' an identifier; spaces must match.
bool match(std::string_view text, std::string_view pattern, std::vector<std::string_view>& caps) {
  caps.clear();
  size_t t = 0;
  for (size_t p = 0; p < pattern.size(); ++p) {
    if (pattern[p] == '#' || pattern[p] == '@') {
      const size_t start = t;
      if (pattern[p] == '#' && t < text.size() && text[t] == '-') ++t;
      while (t < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[t])) || text[t] == '_')) {
        ++t;
      }
      if (t == start) return false;
      caps.push_back(text.substr(start, t - start));
    } else {
      if (t >= text.size() || text[t] != pattern[p]) return false;
      ++t;
    }
  }
  return true;
}

struct Builder {
  std::map<std::string, size_t> index_of;  // internal name -> input index
  std::vector<InputSpec> inputs;
  std::vector<bool> has_assert;
  std::vector<size_t> checked_rank;  // 1 + the highest dim a check mentions

  InputSpec* by_name(std::string_view name) {
    auto it = index_of.find(std::string(name));
    return it == index_of.end() ? nullptr : &inputs[it->second];
  }
  DimSpec* dim(InputSpec& in, std::string_view index_text) {
    int64_t d;
    if (!parse_int(index_text, d) || d < 0 || static_cast<size_t>(d) >= kMaxRank) return nullptr;
    if (in.dims.size() <= static_cast<size_t>(d)) in.dims.resize(static_cast<size_t>(d) + 1);
    size_t& rank = checked_rank[index_of[in.internal_name]];
    rank = std::max(rank, static_cast<size_t>(d) + 1);
    return &in.dims[static_cast<size_t>(d)];
  }
};

}  // namespace

bool parse_input_specs(std::string_view source, std::vector<InputSpec>& out, std::string& error) {
  out.clear();
  Builder b;
  std::vector<std::string_view> caps;
  size_t pos = 0;
  while (pos < source.size()) {
    size_t eol = source.find('\n', pos);
    if (eol == std::string_view::npos) eol = source.size();
    std::string_view line = trim(source.substr(pos, eol - pos));
    pos = eol + 1;
    if (line.empty()) continue;

    if (match(line, "ConstantHandle @ = ConstantHandle(input_handles[#]);", caps)) {
      int64_t idx;
      if (!parse_int(caps[1], idx) || idx < 0 || static_cast<size_t>(idx) >= kMaxInputs) {
        error = "input index out of range";
        return false;
      }
      if (b.inputs.size() <= static_cast<size_t>(idx)) {
        b.inputs.resize(static_cast<size_t>(idx) + 1);
        b.has_assert.resize(b.inputs.size());
        b.checked_rank.resize(b.inputs.size());
      }
      b.inputs[static_cast<size_t>(idx)].internal_name = std::string(caps[0]);
      b.index_of[std::string(caps[0])] = static_cast<size_t>(idx);
      continue;
    }
    // The remaining patterns all start with a name that must be a known input.
    if (match(line, "int32_t @ = aoti_torch_dtype_@();", caps)) {
      static constexpr std::string_view suffix = "_expected_dtype";
      std::string_view var = caps[0];
      if (var.size() > suffix.size() && var.substr(var.size() - suffix.size()) == suffix) {
        if (InputSpec* in = b.by_name(var.substr(0, var.size() - suffix.size()))) in->dtype = std::string(caps[1]);
      }
      continue;
    }
    if (match(line, "int32_t @ = #;", caps)) {
      static constexpr std::string_view suffix = "_expected_device_type";
      std::string_view var = caps[0];
      int64_t v;
      if (var.size() > suffix.size() && var.substr(var.size() - suffix.size()) == suffix && parse_int(caps[1], v)) {
        if (InputSpec* in = b.by_name(var.substr(0, var.size() - suffix.size()))) in->device_type = static_cast<int>(v);
      }
      continue;
    }
    // if (8 != arg2_1_size[1]) {   /   if (1 != arg2_1_stride[0]) {
    if (match(line, "if (# != @[#]) {", caps)) {
      int64_t value;
      if (!parse_int(caps[0], value)) continue;
      std::string_view var = caps[1];
      const bool is_size = var.size() > 5 && var.substr(var.size() - 5) == "_size";
      const bool is_stride = var.size() > 7 && var.substr(var.size() - 7) == "_stride";
      if (!is_size && !is_stride) continue;
      InputSpec* in = b.by_name(var.substr(0, var.size() - (is_size ? 5 : 7)));
      if (!in) continue;
      if (is_size) {
        DimSpec* d = b.dim(*in, caps[2]);
        if (!d) { error = "dim index out of range"; return false; }
        d->fixed = value;
      } else {
        int64_t s;
        if (!parse_int(caps[2], s) || s < 0 || static_cast<size_t>(s) >= kMaxRank) {
          error = "stride index out of range";
          return false;
        }
        if (in->strides.size() <= static_cast<size_t>(s)) in->strides.resize(static_cast<size_t>(s) + 1);
        in->strides[static_cast<size_t>(s)] = value;
      }
      continue;
    }
    // if (arg2_1_size[0] < 2) {   /   if (arg2_1_size[0] > 64) {
    const bool lower = match(line, "if (@[#] < #) {", caps);
    if (lower || match(line, "if (@[#] > #) {", caps)) {
      std::string_view var = caps[0];
      int64_t bound;
      if (!(var.size() > 5 && var.substr(var.size() - 5) == "_size") || !parse_int(caps[2], bound)) continue;
      InputSpec* in = b.by_name(var.substr(0, var.size() - 5));
      if (!in) continue;
      DimSpec* d = b.dim(*in, caps[1]);
      if (!d) { error = "dim index out of range"; return false; }
      (lower ? d->min : d->max) = bound;
      continue;
    }
    // [if (...) { ]assert_size_stride(arg2_1, {s17, 8L}, {8L, 1L}, "input");
    const size_t at = line.find("assert_size_stride(");
    if (at != std::string_view::npos) {
      std::string_view rest = line.substr(at + 19);
      const size_t comma = rest.find(',');
      const size_t open = rest.find('{');
      const size_t close = open == std::string_view::npos ? open : rest.find('}', open);
      if (comma == std::string_view::npos || close == std::string_view::npos) continue;
      InputSpec* in = b.by_name(trim(rest.substr(0, comma)));
      if (!in || rest.find("\"input\"") == std::string_view::npos) continue;
      const auto parts = split_list(rest.substr(open + 1, close - open - 1));
      if (parts.size() > kMaxRank) { error = "rank out of range"; return false; }
      const size_t idx = b.index_of[in->internal_name];
      if (in->dims.size() < parts.size()) in->dims.resize(parts.size());
      b.checked_rank[idx] = std::max(b.checked_rank[idx], parts.size());
      for (size_t d = 0; d < parts.size(); ++d) {
        DimSpec& dim = in->dims[d];
        dim.text = std::string(parts[d]);
        int64_t value;
        if (parse_int(parts[d], value)) {
          dim.fixed = value;
          dim.text = std::to_string(value);
        } else if (!parse_expression(parts[d], dim.expression)) {
          error = "input " + in->internal_name + " has a size expression this library cannot check: " + dim.text;
          return false;
        }
      }
      b.has_assert[idx] = true;
      continue;
    }
  }
  if (b.inputs.empty()) {
    error = "the wrapper source has no input checks";
    return false;
  }
  for (size_t i = 0; i < b.inputs.size(); ++i) {
    InputSpec& in = b.inputs[i];
    if (in.internal_name.empty() || in.dtype.empty()) {
      error = "input " + std::to_string(i) + " has no dtype check";
      return false;
    }
    in.dims.resize(b.checked_rank[i]);
    in.strides.resize(in.dims.size());
    for (size_t d = 0; d < in.dims.size(); ++d) {
      DimSpec& dim = in.dims[d];
      if (dim.text.empty()) dim.text = dim.fixed ? std::to_string(*dim.fixed) : "?";
    }
  }
  out = std::move(b.inputs);
  return true;
}

void bind_symbols(const InputSpec& spec, const int64_t* sizes, size_t ndim,
                  std::map<std::string, int64_t>& bindings) {
  if (ndim != spec.dims.size()) return;  // check_sizes reports the rank
  for (size_t d = 0; d < ndim; ++d) {
    const auto& e = spec.dims[d].expression;
    if (e.size() == 1 && e[0].coefficient == 1 && !e[0].symbol.empty()) bindings.emplace(e[0].symbol, sizes[d]);
  }
}

std::string check_sizes(const InputSpec& spec, const int64_t* sizes, size_t ndim,
                        const std::map<std::string, int64_t>& bindings) {
  if (ndim != spec.dims.size()) {
    return "has " + std::to_string(ndim) + " dimension(s), expected " + std::to_string(spec.dims.size());
  }
  for (size_t d = 0; d < ndim; ++d) {
    const DimSpec& dim = spec.dims[d];
    const int64_t got = sizes[d];
    const std::string at = "dim " + std::to_string(d) + " is " + std::to_string(got);
    if (dim.fixed && got != *dim.fixed) return at + ", expected " + std::to_string(*dim.fixed);
    if (!dim.fixed && (got < dim.min || got > dim.max)) {
      std::string range = "[" + std::to_string(dim.min) + ", " +
                          (dim.max == std::numeric_limits<int64_t>::max() ? std::string("inf")
                                                                           : std::to_string(dim.max)) + "]";
      return at + ", outside the range " + range + " the model was exported for";
    }
    if (!dim.expression.empty()) {
      // Sum with overflow checks; every symbol must be bound by some input.
      int64_t total = 0;
      bool known = true;
      for (const Term& t : dim.expression) {
        int64_t value = 1;
        if (!t.symbol.empty()) {
          auto it = bindings.find(t.symbol);
          if (it == bindings.end()) { known = false; break; }
          value = it->second;
        }
        int64_t product;
        if (__builtin_mul_overflow(t.coefficient, value, &product) || __builtin_add_overflow(total, product, &total)) {
          return at + ", which does not fit " + dim.text;
        }
      }
      if (!known) return at + ", and its size " + dim.text + " is not bound by any input";
      if (got != total) return at + ", expected " + dim.text + " = " + std::to_string(total);
    }
  }
  return {};
}

}  // namespace ti::core::aotinductor
