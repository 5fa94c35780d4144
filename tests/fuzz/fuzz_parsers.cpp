// libFuzzer target for the parsers that read untrusted bytes before LibTorch does, built with
// their sources (no LibTorch): the ZIP central directory and entry reader, the pickle check,
// and the CLI's .npy parser. The input is tried as a ZIP archive (each pickle in it checked
// against the archive's records, as the loader does) and as a bare pickle and .npy file.
#include "core/archive/zip_directory.h"
#include "core/torchscript/pickle_check.h"
#include "core/torchscript/source_check.h"
#include "core/values/path.h"
#include "npy.h"

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace ti::core;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const archive::ReadAt read = [&](uint64_t offset, void* buf, size_t n) -> size_t {
    if (offset >= size) return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, size - offset));
    std::memcpy(buf, data + offset, n);
    return n;
  };
  std::vector<archive::ZipEntry> entries;
  if (archive::read_zip_directory(read, size, entries, 4096)) {
    std::map<std::string, uint64_t> sizes;
    for (const auto& e : entries) sizes[e.name] = e.uncompressed_size;
    for (const auto& e : entries) {
      std::string bytes;
      if (!archive::read_entry(read, size, e, 1 << 20, bytes)) continue;
      torchscript::check_source(bytes);
      const size_t slash = e.name.find('/');
      const std::string records = slash == std::string::npos ? "" : e.name.substr(0, slash + 1) + "data/";
      torchscript::check_pickle(bytes, [&](const std::string& key) -> std::optional<uint64_t> {
        auto it = sizes.find(records + key);
        if (it == sizes.end()) return std::nullopt;
        return it->second;
      });
    }
  }
  torchscript::check_pickle(std::string_view(reinterpret_cast<const char*>(data), size),
                            [](const std::string&) -> std::optional<uint64_t> { return 64; });
  torchscript::check_source(std::string_view(reinterpret_cast<const char*>(data), size));
  // The path grammar: whatever parses re-escapes to a path that parses to the same segments.
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> segments, again;
  std::string why;
  if (values::parse_path(text, segments, why)) {
    std::string joined;
    for (const auto& s : segments) joined = values::join_path(joined, values::escape_segment(s));
    if (!values::parse_path(joined, again, why) || again != segments) __builtin_trap();
    long long n = 0;
    for (const auto& s : segments) values::parse_decimal(s, n);
  }
  values::valid_utf8(text);
  npy::Array array;
  std::string error;
  npy::parse(data, size, &array, &error);
  return 0;
}
