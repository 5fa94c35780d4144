// Telling model formats apart by content, never by file name.
#pragma once

#include "core/archive/zip_directory.h"

#include <memory>
#include <string>
#include <vector>

namespace ti::core::archive {

// The bytes of a model: a regular file (read with pread, never mapped) or the caller's buffer.
class ByteSource {
 public:
  // Throws ti::core::Error: NotFound (no such file), ModelFormat (a directory, unreadable).
  // A path that is not a regular file (a FIFO, a device) gives a source with regular() false.
  static ByteSource open_file(const std::string& path);
  static ByteSource memory(const void* data, size_t size);

  bool regular() const { return regular_; }
  uint64_t size() const { return size_; }
  const ReadAt& reader() const { return read_; }
  // The caller's buffer (nullptr for a file).
  const void* memory_data() const { return memory_; }

 private:
  std::shared_ptr<void> fd_;  // closes the file
  const void* memory_ = nullptr;
  ReadAt read_;
  uint64_t size_ = 0;
  bool regular_ = true;
};

enum class Format {
  TorchScript,   // torch.jit.save: <dir>/data.pkl, <dir>/code/...
  AotInductor,   // torch._inductor.aoti_compile_and_package: <dir>/data/aotinductor/<model>/...
  Unknown,       // not a ZIP archive, or neither of the above (left to the TorchScript loader,
                 // whose errors say what is wrong with the file)
};

struct Sniffed {
  Format format = Format::Unknown;
  std::vector<ZipEntry> entries;         // the central directory (empty when not a ZIP)
  std::vector<std::string> aoti_models;  // the package's model names, sorted (AotInductor only)
};

Sniffed sniff(const ByteSource& source);

// The package's entries under <dir>/data/aotinductor/<model>/.
std::vector<const ZipEntry*> aoti_model_entries(const Sniffed& sniffed, const std::string& model);

}  // namespace ti::core::archive
