#include "source_mutator.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace ti_fuzz {
namespace {

uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
void put16(std::string& s, uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

size_t pick(std::minstd_rand& rng, size_t n) { return n == 0 ? 0 : rng() % n; }
bool chance(std::minstd_rand& rng, unsigned one_in) { return rng() % one_in == 0; }

template <typename T, size_t N>
const T& one_of(std::minstd_rand& rng, const T (&items)[N]) {
  return items[pick(rng, N)];
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// How many levels: mostly around the library's limits (256 brackets, 512 levels, 10,000
// skipped lines) and LibTorch's breaking points (thousands), sometimes tiny or huge.
size_t levels(std::minstd_rand& rng) {
  static const size_t anchors[] = {1, 2, 16, 64, 100, 170, 250, 256, 500, 510, 512, 520, 1000,
                                   2000, 5000, 10000, 20000, 50000, 100000, 120000};
  const size_t anchor = one_of(rng, anchors);
  const size_t jitter = anchor / 16 + 1;
  return std::max<size_t>(1, anchor - jitter + pick(rng, 2 * jitter + 1));
}

struct Line {
  size_t begin, end;  // [begin, end) without the newline
  int indent;
};

std::vector<Line> split_lines(const std::string& code) {
  std::vector<Line> lines;
  size_t pos = 0;
  while (pos <= code.size()) {
    size_t end = code.find('\n', pos);
    if (end == std::string::npos) end = code.size();
    int indent = 0;
    while (pos + indent < end && code[pos + indent] == ' ') ++indent;
    lines.push_back({pos, end, indent});
    if (end == code.size()) break;
    pos = end + 1;
  }
  return lines;
}

bool balanced(std::string_view s) {
  int depth = 0;
  for (char c : s) {
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') --depth;
  }
  return depth == 0;
}

// An expression in a method: the rest of a line after `return ` or ` = `, when its brackets
// balance. Returns false when the code has none.
bool find_expression(const std::string& code, std::minstd_rand& rng, size_t& begin, size_t& end, int& indent) {
  const auto lines = split_lines(code);
  std::vector<std::pair<size_t, size_t>> found;
  std::vector<int> indents;
  for (const auto& l : lines) {
    const std::string_view text(code.data() + l.begin, l.end - l.begin);
    size_t at = text.find("return ");
    size_t skip = 7;
    if (at == std::string_view::npos) {
      at = text.find(" = ");
      skip = 3;
    }
    if (at == std::string_view::npos || l.indent < 4) continue;
    const size_t b = l.begin + at + skip;
    if (b >= l.end || !balanced(std::string_view(code.data() + b, l.end - b))) continue;
    found.emplace_back(b, l.end);
    indents.push_back(l.indent);
  }
  if (found.empty()) return false;
  const size_t i = pick(rng, found.size());
  begin = found[i].first;
  end = found[i].second;
  indent = indents[i];
  return true;
}

// A deep construct around or before an expression of a method.
void deep_chain(std::string& code, std::minstd_rand& rng, size_t max_growth) {
  size_t begin, end;
  int indent;
  if (!find_expression(code, rng, begin, end, indent)) return;
  const std::string expr = code.substr(begin, end - begin);
  size_t n = levels(rng);
  std::string before, after, lines_before;
  const std::string pad(static_cast<size_t>(indent), ' ');
  switch (pick(rng, 16)) {
    case 0: before = repeat("not ", n); break;
    case 1: before = repeat("- ", n); break;
    case 2: before = repeat("~", n); break;
    case 3: before = repeat(one_of(rng, {"None if True else ", "x if bool(x) else ", "1 if c else "}), n); break;
    case 4: before = repeat("(", n); after = repeat(")", n); break;
    case 5: before = repeat(one_of(rng, {"torch.neg(", "torch.clone(", "[", "f("}), n);
            after = repeat(before[before.size() - 1] == '[' ? "]" : ")", n); break;
    case 6: after = repeat(one_of(rng, {"[0]", ".T", "()", ".clone()", "[0:1]"}), n); break;
    case 7: after = repeat(one_of(rng, {" + x", " ** 1", " and True", " - 1", " if True else None", ", x"}), n); break;
    case 8: before = repeat(one_of(rng, {"-(", "not (", "~("}), n); after = repeat(")", n); break;
    case 9: {  // an if with n elif branches before this statement
      lines_before = pad + "if bool(1):\n" + pad + "  pass\n";
      lines_before += repeat(pad + "elif bool(1):\n" + pad + "  pass\n", n);
      break;
    }
    case 10: {  // n nested blocks, one more space each
      n = std::min<size_t>(n, 700);
      for (size_t i = 0; i < n; ++i) lines_before += pad + std::string(i, ' ') + "if True:\n";
      lines_before += pad + std::string(n, ' ') + "pass\n";
      break;
    }
    case 11: lines_before = repeat(one_of(rng, {"\n", "# c\n", "  \n"}), n); break;
    case 12: before = "\\\n" + repeat("not \\\n", n); break;
    case 13: before = repeat("(", n); after = repeat("\n)", n); break;  // blank lines in brackets
    default: {  // two constructs at once
      const size_t m = levels(rng);
      before = repeat(one_of(rng, {"not ", "- ", "~"}), n) + repeat("torch.neg(", m % 300);
      after = repeat(")", m % 300) + repeat(one_of(rng, {"[0]", ".T", " + x"}), levels(rng) % 600);
      break;
    }
  }
  if (before.size() + after.size() + lines_before.size() > max_growth) return;
  code.replace(begin, end - begin, before + expr + after);
  if (!lines_before.empty()) {
    const size_t line_begin = code.rfind('\n', begin) == std::string::npos ? 0 : code.rfind('\n', begin) + 1;
    code.insert(line_begin, lines_before);
  }
}

// Class headers and class-level declarations.
void class_declaration(std::string& code, std::minstd_rand& rng) {
  const auto lines = split_lines(code);
  std::vector<Line> headers, members;
  for (const auto& l : lines) {
    const std::string_view text(code.data() + l.begin, l.end - l.begin);
    if (text.substr(0, 6) == "class ") headers.push_back(l);
    if (l.indent == 2 && text.size() > 2 && text.find("def ") != 2) members.push_back(l);
  }
  static const char* const bases[] = {"(NamedTuple)", "(Enum)", "(Interface)", "(ModuleInterface)", "",
                                      "(Module, Module)", "(torch.Module)", "(Module())", "(object)", "()",
                                      "(Module)", "(NamedTuple, Module)", "(Module.x)", "(1)"};
  static const char* const types[] = {"Tensor", "int", "Optional[bool]", "List[Tensor]", "[bool]", "NoneType",
                                      "__torch__.Missing", "Final[int]", "Dict[str, Tensor]", "Tuple[()]", "1",
                                      "\"s\"", "Optional[", "List[List[int]]", "Final[Tensor] = 3", "bool = 1"};
  static const char* const statements[] = {
      "__parameters__ : Optional[bool]", "__parameters__ = []", "__buffers__ : List[str] = []",
      "__parameters__ = [\"training\", ]", "__buffers__ = [1, ]", "__annotations__ = []",
      "__annotations__[\"0\"] = Tensor", "__annotations__[0] = Tensor", "__forward_hooks__ = [\"forward\", ]",
      "__forward_pre_hooks__ = [\"missing\", ]", "training : Final[int] = 3", "training : bool", "x = 1",
      "pass", "x : Tensor = None", "__parameters__ = __buffers__", "RED = 1", "def f(self) -> int:\n    return 1"};
  switch (pick(rng, 6)) {
    case 0: {  // another base
      if (headers.empty()) return;
      const Line& h = headers[pick(rng, headers.size())];
      const std::string_view text(code.data() + h.begin, h.end - h.begin);
      const size_t open = text.find('('), colon = text.rfind(':');
      const size_t from = open == std::string_view::npos ? colon : open;
      if (from == std::string_view::npos || colon == std::string_view::npos || colon < from) return;
      code.replace(h.begin + from, colon - from, one_of(rng, bases));
      break;
    }
    case 1: {  // another annotation
      if (members.empty()) return;
      const Line& m = members[pick(rng, members.size())];
      const std::string_view text(code.data() + m.begin, m.end - m.begin);
      const size_t colon = text.find(" : "), assign = text.find(" = ");
      if (colon != std::string_view::npos) {
        const size_t type_end = assign == std::string_view::npos ? text.size() : assign;
        code.replace(m.begin + colon + 3, type_end - colon - 3, one_of(rng, types));
      } else if (assign != std::string_view::npos) {
        code.insert(m.begin + assign, std::string(" : ") + one_of(rng, types));
      }
      break;
    }
    case 2: {  // a member declared twice, or moved
      if (members.empty()) return;
      const Line& m = members[pick(rng, members.size())];
      const std::string line = code.substr(m.begin, m.end - m.begin + 1);
      const Line& to = members[pick(rng, members.size())];
      code.insert(chance(rng, 2) ? to.begin : m.begin, line.back() == '\n' ? line : line + "\n");
      break;
    }
    case 3: {  // `name : T` becomes `name = value`
      if (members.empty()) return;
      const Line& m = members[pick(rng, members.size())];
      const std::string_view text(code.data() + m.begin, m.end - m.begin);
      const size_t colon = text.find(" : ");
      if (colon == std::string_view::npos) return;
      code.replace(m.begin + colon, text.size() - colon, one_of(rng, {" = 1", " = []", " = None", " = \"s\""}));
      break;
    }
    default: {  // a class-level statement from the dictionary
      if (members.empty()) return;
      const Line& m = members[pick(rng, members.size())];
      code.insert(m.begin, std::string("  ") + one_of(rng, statements) + "\n");
      break;
    }
  }
}

// Tokens: identifiers, numbers, strings, single punctuation, runs of blanks.
std::vector<std::pair<size_t, size_t>> tokens(const std::string& code) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t i = 0;
  while (i < code.size()) {
    const size_t b = i;
    const unsigned char c = static_cast<unsigned char>(code[i]);
    if (std::isalnum(c) || c == '_') {
      while (i < code.size() && (std::isalnum(static_cast<unsigned char>(code[i])) || code[i] == '_')) ++i;
    } else if (c == '"' || c == '\'') {
      ++i;
      while (i < code.size() && code[i] != static_cast<char>(c) && code[i] != '\n') i += code[i] == '\\' ? 2 : 1;
      i = std::min(code.size(), i + 1);
    } else if (c == ' ') {
      while (i < code.size() && code[i] == ' ') ++i;
    } else {
      ++i;
    }
    out.emplace_back(b, i - b);
  }
  return out;
}

void token_edit(std::string& code, std::minstd_rand& rng) {
  static const char* const dictionary[] = {
      "not ", " if ", " else ", "elif", " and ", " or ", " in ", " is ", " for ", "def ", "class ", "return ",
      "None", "True", "pass", "lambda", "Module", "NamedTuple", "Enum", "Interface", "Tensor", "Optional",
      "Final", "__parameters__", "__buffers__", "__annotations__", "(", ")", "[", "]", "{", "}", ".", ",", ":",
      " = ", "-", "~", "**", "\n", "\\\n", "# ", "  ", "\"", "'''", "@", "->", "*", "torch.", "self", "0", "1e400"};
  auto toks = tokens(code);
  if (toks.empty()) return;
  const auto a = toks[pick(rng, toks.size())], b = toks[pick(rng, toks.size())];
  const std::string ta = code.substr(a.first, a.second), tb = code.substr(b.first, b.second);
  switch (pick(rng, 4)) {
    case 0:  // swap (later one first, so offsets stay valid)
      if (a.first == b.first) return;
      if (a.first < b.first) {
        code.replace(b.first, b.second, ta);
        code.replace(a.first, a.second, tb);
      } else {
        code.replace(a.first, a.second, tb);
        code.replace(b.first, b.second, ta);
      }
      break;
    case 1: code.insert(a.first, ta); break;
    case 2: code.erase(a.first, a.second); break;
    default: code.replace(a.first, chance(rng, 2) ? a.second : 0, one_of(rng, dictionary)); break;
  }
}

void line_edit(std::string& code, std::minstd_rand& rng) {
  const auto lines = split_lines(code);
  const Line& a = lines[pick(rng, lines.size())];
  const Line& b = lines[pick(rng, lines.size())];
  const std::string la = code.substr(a.begin, a.end - a.begin) + "\n";
  switch (pick(rng, 4)) {
    case 0: code.insert(b.begin, la); break;
    case 1: code.erase(a.begin, std::min(code.size(), a.end + 1) - a.begin); break;
    case 2: code.insert(a.begin, std::string(1 + pick(rng, 4), ' ')); break;
    default: code.erase(a.begin, std::min<size_t>(static_cast<size_t>(a.indent), 1 + pick(rng, 4))); break;
  }
}

// Turns a deflated entry into a stored one (LibTorch writes code records deflated).
bool inflate_entry(ZipEntry& e) {
  if (e.method == 0) return true;
  if (e.method != 8 || e.uncompressed_size > (16u << 20)) return false;
  std::string out(static_cast<size_t>(e.uncompressed_size), '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(&e.data[0]);
  z.avail_in = static_cast<uInt>(e.data.size());
  z.next_out = reinterpret_cast<Bytef*>(&out[0]);
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const bool ok = rc == Z_STREAM_END && z.total_out == out.size();
  inflateEnd(&z);
  if (!ok) return false;
  e.method = 0;
  e.data = std::move(out);
  return true;
}

}  // namespace

bool read_zip(const uint8_t* p, size_t size, std::vector<ZipEntry>& entries) {
  constexpr size_t kEnd = 22, kCentral = 46, kLocal = 30;
  if (size < kEnd) return false;
  size_t eocd = size - kEnd;
  for (size_t back = 0;; ++back) {
    if (u32(p + eocd) == 0x06054b50) break;
    if (eocd == 0 || back > 0xffff) return false;
    --eocd;
  }
  const size_t count = u16(p + eocd + 10);
  const size_t dir = u32(p + eocd + 16);
  size_t pos = dir;
  entries.clear();
  for (size_t i = 0; i < count; ++i) {
    if (pos > size || size - pos < kCentral || u32(p + pos) != 0x02014b50) return false;
    ZipEntry e;
    e.method = u16(p + pos + 10);
    e.crc = u32(p + pos + 16);
    const uint32_t csize = u32(p + pos + 20);
    e.uncompressed_size = u32(p + pos + 24);
    const size_t name_len = u16(p + pos + 28), extra = u16(p + pos + 30), comment = u16(p + pos + 32);
    const size_t local = u32(p + pos + 42);
    if (size - pos - kCentral < name_len) return false;
    e.name.assign(reinterpret_cast<const char*>(p + pos + kCentral), name_len);
    if (local > size || size - local < kLocal || u32(p + local) != 0x04034b50) return false;
    const size_t data = local + kLocal + u16(p + local + 26) + u16(p + local + 28);
    if (data > size || size - data < csize || csize == 0xffffffffu) return false;
    e.data.assign(reinterpret_cast<const char*>(p + data), csize);
    entries.push_back(std::move(e));
    pos += kCentral + name_len + extra + comment;
  }
  return !entries.empty();
}

std::string write_zip(const std::vector<ZipEntry>& entries) {
  std::string out, central;
  for (const auto& e : entries) {
    const bool stored = e.method == 0;
    const uint32_t crc = stored ? static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(e.data.data()),
                                                              static_cast<uInt>(e.data.size())))
                                : e.crc;
    const uint32_t usize = stored ? static_cast<uint32_t>(e.data.size()) : static_cast<uint32_t>(e.uncompressed_size);
    const uint32_t offset = static_cast<uint32_t>(out.size());
    auto header = [&](std::string& s, bool is_central) {
      put32(s, is_central ? 0x02014b50 : 0x04034b50);
      if (is_central) put16(s, 20);  // made by
      put16(s, 20);                   // needed
      put16(s, 0);                    // flags
      put16(s, e.method);
      put16(s, 0);  // time
      put16(s, 0x21);  // date: 1980-01-01
      put32(s, crc);
      put32(s, static_cast<uint32_t>(e.data.size()));
      put32(s, usize);
      put16(s, static_cast<uint32_t>(e.name.size()));
      put16(s, 0);  // extra
      if (is_central) {
        put16(s, 0);  // comment
        put16(s, 0);  // disk
        put16(s, 0);  // internal attributes
        put32(s, 0);  // external attributes
        put32(s, offset);
      }
      s += e.name;
    };
    header(out, false);
    out += e.data;
    header(central, true);
  }
  const uint32_t dir = static_cast<uint32_t>(out.size());
  out += central;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<uint32_t>(entries.size()));
  put16(out, static_cast<uint32_t>(entries.size()));
  put32(out, static_cast<uint32_t>(central.size()));
  put32(out, dir);
  put16(out, 0);
  return out;
}

void mutate_source(std::string& code, std::minstd_rand& rng, ByteMutator byte_mutate, size_t max_growth) {
  switch (pick(rng, 8)) {
    case 0:
    case 1:
    case 2: deep_chain(code, rng, max_growth); break;
    case 3:
    case 4: class_declaration(code, rng); break;
    case 5: token_edit(code, rng); break;
    case 6: line_edit(code, rng); break;
    default:
      if (byte_mutate) {
        const size_t room = code.size() + 64;
        std::string buf = code;
        buf.resize(room);
        buf.resize(byte_mutate(reinterpret_cast<uint8_t*>(&buf[0]), code.size(), room));
        code = std::move(buf);
      } else {
        token_edit(code, rng);
      }
      break;
  }
}

size_t mutate_archive(uint8_t* data, size_t size, size_t max_size, std::minstd_rand& rng, ByteMutator byte_mutate) {
  std::vector<ZipEntry> entries;
  if (!read_zip(data, size, entries)) return 0;
  std::vector<size_t> code;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& n = entries[i].name;
    if (n.find("/code/") != std::string::npos && n.size() > 3 && n.compare(n.size() - 3, 3, ".py") == 0 &&
        inflate_entry(entries[i])) {
      code.push_back(i);
    }
  }
  if (code.empty()) return 0;
  std::string& text = entries[code[pick(rng, code.size())]].data;
  const size_t edits = 1 + pick(rng, 3);
  for (size_t i = 0; i < edits; ++i) {
    const size_t growth = max_size > size ? max_size - size : 0;
    mutate_source(text, rng, byte_mutate, growth);
  }
  const std::string out = write_zip(entries);
  if (out.size() > max_size) return 0;
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

}  // namespace ti_fuzz
