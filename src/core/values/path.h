// The path grammar shared by structured inputs ("images.0", "batch.input_ids") and output leaf
// names: segments joined by "."; inside a segment "\." is a literal dot and "\\" a backslash.
// One place parses and escapes it; no LibTorch here (fuzzed by ti_fuzz_parsers).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ti::core::values {

// Splits `path` into its unescaped segments. Returns false with a reason for an empty path,
// an empty segment ("a..b", a trailing "."), or a backslash not followed by "." or "\".
bool parse_path(std::string_view path, std::vector<std::string>& segments, std::string& error);

// The segment for `text` (a dict key): "\" becomes "\\", then "." becomes "\.".
std::string escape_segment(std::string_view text);

// Appends `segment` (already escaped) to `parent` with a "." between them when parent is not empty.
std::string join_path(const std::string& parent, const std::string& segment);

// Parses a decimal int64 (optional leading "-", no "+", no leading zeros except "0", no
// spaces). False when `text` is not one or overflows.
bool parse_decimal(std::string_view text, long long& value);

// Whether `bytes` is well-formed UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view bytes);

}  // namespace ti::core::values
