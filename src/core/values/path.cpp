#include "core/values/path.h"

#include <cstdint>
#include <limits>

namespace ti::core::values {

bool parse_path(std::string_view path, std::vector<std::string>& segments, std::string& error) {
  segments.clear();
  if (path.empty()) {
    error = "the path is empty";
    return false;
  }
  std::string current;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if (c == '\\') {
      if (i + 1 == path.size() || (path[i + 1] != '.' && path[i + 1] != '\\')) {
        error = "a backslash at offset " + std::to_string(i) + " must be followed by '.' or '\\'";
        return false;
      }
      current += path[++i];
    } else if (c == '.') {
      if (current.empty()) {
        error = "empty segment at offset " + std::to_string(i);
        return false;
      }
      segments.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (current.empty()) {
    error = "the path ends with '.'";
    return false;
  }
  segments.push_back(std::move(current));
  return true;
}

std::string escape_segment(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || c == '.') out += '\\';
    out += c;
  }
  return out;
}

std::string join_path(const std::string& parent, const std::string& segment) {
  return parent.empty() ? segment : parent + "." + segment;
}

bool parse_decimal(std::string_view text, long long& value) {
  size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) i = 1;
  if (i == text.size()) return false;
  if (text[i] == '0' && text.size() > i + 1) return false;  // leading zeros: "07" is not 7
  uint64_t magnitude = 0;
  const uint64_t limit = negative ? uint64_t{1} << 63 : static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (magnitude > (limit - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  if (negative && magnitude == 0 && text.size() > 1) return false;  // "-0"
  value = negative ? static_cast<long long>(0 - magnitude) : static_cast<long long>(magnitude);
  return true;
}

bool valid_utf8(std::string_view bytes) {
  size_t i = 0;
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  while (i < n) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace ti::core::values
