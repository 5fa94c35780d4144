#include "core/archive/zip_directory.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace ti::core::archive {
namespace {

constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kEnd64LocatorSignature = 0x07064b50;
constexpr uint32_t kEnd64Signature = 0x06064b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr size_t kEndSize = 22;
constexpr size_t kCentralSize = 46;
constexpr size_t kMaxComment = 0xffff;

uint16_t u16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t u64(const unsigned char* p) { return u32(p) | (static_cast<uint64_t>(u32(p + 4)) << 32); }

bool read_exact(const ReadAt& read, uint64_t offset, void* buf, size_t n) {
  return read(offset, buf, n) == n;
}

// Replaces 0xffffffff sizes by the ZIP64 extra field's values (in the order the format fixes).
bool apply_zip64_extra(const unsigned char* extra, size_t len, ZipEntry& e, uint32_t csize,
                       uint32_t usize, uint32_t offset) {
  size_t pos = 0;
  while (pos + 4 <= len) {
    const uint16_t id = u16(extra + pos);
    const uint16_t n = u16(extra + pos + 2);
    if (n > len - pos - 4) return false;
    if (id == 0x0001) {
      const unsigned char* p = extra + pos + 4;
      size_t left = n;
      if (usize == 0xffffffffu) {
        if (left < 8) return false;
        e.uncompressed_size = u64(p), p += 8, left -= 8;
      }
      if (csize == 0xffffffffu) {
        if (left < 8) return false;
        e.compressed_size = u64(p), p += 8, left -= 8;
      }
      if (offset == 0xffffffffu) {
        if (left < 8) return false;
        e.local_offset = u64(p);
      }
      return true;
    }
    pos += 4 + n;
  }
  return csize != 0xffffffffu && usize != 0xffffffffu && offset != 0xffffffffu;
}

}  // namespace

bool read_zip_directory(const ReadAt& read, uint64_t size, std::vector<ZipEntry>& out,
                        size_t max_entries) {
  out.clear();
  if (size < kEndSize) return false;
  // The end record is in the last 22 + 65535 bytes; search it backwards.
  const uint64_t tail_size = std::min<uint64_t>(size, kEndSize + kMaxComment);
  std::vector<unsigned char> tail(tail_size);
  if (!read_exact(read, size - tail_size, tail.data(), tail.size())) return false;
  size_t end = tail.size();
  for (size_t i = tail.size() - kEndSize + 1; i-- > 0;) {
    if (u32(&tail[i]) == kEndSignature && i + kEndSize + u16(&tail[i + 20]) <= tail.size()) {
      end = i;
      break;
    }
  }
  if (end == tail.size()) return false;
  const unsigned char* eocd = &tail[end];
  const uint64_t eocd_offset = size - tail_size + end;
  uint64_t count = u16(eocd + 10);
  uint64_t dir_size = u32(eocd + 12);
  uint64_t dir_offset = u32(eocd + 16);
  if (count == 0xffff || dir_size == 0xffffffffu || dir_offset == 0xffffffffu) {
    // ZIP64: a locator sits just before the end record and points at the ZIP64 end record.
    if (eocd_offset < 20) return false;
    unsigned char loc[20];
    if (!read_exact(read, eocd_offset - 20, loc, sizeof loc) || u32(loc) != kEnd64LocatorSignature) {
      return false;
    }
    const uint64_t rec_offset = u64(loc + 8);
    unsigned char rec[56];
    if (rec_offset > size || size - rec_offset < sizeof rec) return false;
    if (!read_exact(read, rec_offset, rec, sizeof rec) || u32(rec) != kEnd64Signature) return false;
    count = u64(rec + 32);
    dir_size = u64(rec + 40);
    dir_offset = u64(rec + 48);
  }
  if (count > max_entries || dir_offset > size || dir_size > size - dir_offset) return false;
  if (count > dir_size / kCentralSize) return false;

  std::vector<unsigned char> dir(static_cast<size_t>(dir_size));
  if (!read_exact(read, dir_offset, dir.data(), dir.size())) return false;
  std::vector<ZipEntry> entries;
  entries.reserve(static_cast<size_t>(count));
  size_t pos = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (dir.size() - pos < kCentralSize) return false;
    const unsigned char* h = &dir[pos];
    if (u32(h) != kCentralSignature) return false;
    const size_t name_len = u16(h + 28), extra_len = u16(h + 30), comment_len = u16(h + 32);
    const size_t record = kCentralSize + name_len + extra_len + comment_len;
    if (dir.size() - pos < record) return false;
    ZipEntry e;
    e.method = u16(h + 10);
    const uint32_t csize = u32(h + 20), usize = u32(h + 24), offset = u32(h + 42);
    e.compressed_size = csize;
    e.uncompressed_size = usize;
    e.local_offset = offset;
    e.name.assign(reinterpret_cast<const char*>(h + kCentralSize), name_len);
    e.name_offset = dir_offset + pos + kCentralSize;
    if (e.name.find('\0') != std::string::npos) return false;
    if ((csize == 0xffffffffu || usize == 0xffffffffu || offset == 0xffffffffu) &&
        !apply_zip64_extra(h + kCentralSize + name_len, extra_len, e, csize, usize, offset)) {
      return false;
    }
    entries.push_back(std::move(e));
    pos += record;
  }
  out = std::move(entries);
  return true;
}

namespace {

// Where the entry's data starts (after its local header), or 0 when the header does not fit.
uint64_t data_offset(const ReadAt& read, uint64_t size, const ZipEntry& entry) {
  constexpr size_t kLocalSize = 30;
  if (entry.local_offset > size || size - entry.local_offset < kLocalSize) return 0;
  unsigned char h[kLocalSize];
  if (!read_exact(read, entry.local_offset, h, sizeof h) || u32(h) != 0x04034b50) return 0;
  const uint64_t data = entry.local_offset + kLocalSize + u16(h + 26) + u16(h + 28);
  if (data > size || size - data < entry.compressed_size) return 0;
  return data;
}

}  // namespace

bool read_stored_entry(const ReadAt& read, uint64_t size, const ZipEntry& entry, size_t max_bytes,
                       std::string& out) {
  if (entry.method != 0 || entry.compressed_size != entry.uncompressed_size) return false;
  if (entry.uncompressed_size > max_bytes) return false;
  const uint64_t data = data_offset(read, size, entry);
  if (data == 0) return false;
  out.resize(static_cast<size_t>(entry.uncompressed_size));
  return read_exact(read, data, out.data(), out.size());
}

bool read_entry(const ReadAt& read, uint64_t size, const ZipEntry& entry, size_t max_bytes, std::string& out) {
  if (entry.method == 0) return read_stored_entry(read, size, entry, max_bytes, out);
  if (entry.method != 8 || entry.uncompressed_size > max_bytes || entry.compressed_size > max_bytes) return false;
  const uint64_t data = data_offset(read, size, entry);
  if (data == 0) return false;
  std::string packed(static_cast<size_t>(entry.compressed_size), '\0');
  if (!read_exact(read, data, packed.data(), packed.size())) return false;
  out.assign(static_cast<size_t>(entry.uncompressed_size), '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return false;  // raw deflate, as in ZIP
  z.next_in = reinterpret_cast<Bytef*>(packed.data());
  z.avail_in = static_cast<uInt>(packed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const bool ok = rc == Z_STREAM_END && z.total_out == out.size();
  inflateEnd(&z);
  return ok;
}

}  // namespace ti::core::archive
