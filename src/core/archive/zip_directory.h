// The names in a ZIP archive's central directory, read with every length and offset checked
// against the bytes that are really there. Knows nothing about LibTorch: it runs before any
// LibTorch parser sees a file, to tell model formats apart by content.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ti::core::archive {

// Reads up to `n` bytes at `offset`; returns how many were read (short only at the end).
using ReadAt = std::function<size_t(uint64_t offset, void* buf, size_t n)>;

struct ZipEntry {
  std::string name;
  uint64_t compressed_size;
  uint64_t uncompressed_size;
  uint64_t local_offset;  // of the entry's local header
  uint16_t method;        // 0 stored, 8 deflate
  uint64_t name_offset;   // where the name's bytes are in the file (in the central directory)
};

// The central directory of an archive of `size` bytes. Returns false (and leaves `out` empty)
// when the bytes are not a well-formed ZIP archive: no end record, a directory that does not
// fit the file, truncated entries, or more than `max_entries` entries.
bool read_zip_directory(const ReadAt& read, uint64_t size, std::vector<ZipEntry>& out,
                        size_t max_entries = 1u << 20);

// The bytes of a stored (uncompressed) entry, at most `max_bytes` of them. Returns false for
// compressed entries, entries larger than `max_bytes`, or a local header that does not match.
bool read_stored_entry(const ReadAt& read, uint64_t size, const ZipEntry& entry, size_t max_bytes,
                       std::string& out);

// As read_stored_entry, also for deflated entries (inflated up to the declared size, which
// must be at most `max_bytes`, and must come out exactly).
bool read_entry(const ReadAt& read, uint64_t size, const ZipEntry& entry, size_t max_bytes, std::string& out);

}  // namespace ti::core::archive
