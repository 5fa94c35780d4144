#include "core/archive/format.h"

#include "core/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ti::core::archive {
namespace {

constexpr const char kAotiDir[] = "/data/aotinductor/";

// "<dir>/data/aotinductor/<model>/<file>" -> "<model>"; "" for anything else.
std::string aoti_model_of(const std::string& name) {
  const size_t slash = name.find('/');
  if (slash == std::string::npos || slash == 0) return {};
  if (name.compare(slash, sizeof kAotiDir - 1, kAotiDir) != 0) return {};
  const size_t begin = slash + sizeof kAotiDir - 1;
  const size_t end = name.find('/', begin);
  if (end == std::string::npos || end == begin) return {};
  return name.substr(begin, end - begin);
}

bool is_torchscript_record(const std::string& name) {
  const size_t slash = name.find('/');
  return slash != std::string::npos && slash > 0 && name.compare(slash, std::string::npos, "/data.pkl") == 0;
}

}  // namespace

ByteSource ByteSource::open_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) fail(ErrorKind::NotFound, "model file '" + path + "' does not exist");
    fail(ErrorKind::ModelFormat, "cannot open model file '" + path + "': " + std::strerror(err));
  }
  ByteSource source;
  source.fd_ = std::shared_ptr<void>(nullptr, [fd](void*) { ::close(fd); });
  struct stat st;
  if (::fstat(fd, &st) != 0) fail(ErrorKind::ModelFormat, "cannot read model file '" + path + "'");
  if (S_ISDIR(st.st_mode)) fail(ErrorKind::ModelFormat, "'" + path + "' is a directory, not a model file");
  source.regular_ = S_ISREG(st.st_mode);
  source.size_ = source.regular_ ? static_cast<uint64_t>(st.st_size) : 0;
  source.read_ = [fd](uint64_t offset, void* buf, size_t n) -> size_t {
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd, static_cast<char*>(buf) + done, n - done,
                                  static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      done += static_cast<size_t>(got);
    }
    return done;
  };
  return source;
}

ByteSource ByteSource::memory(const void* data, size_t size) {
  ByteSource source;
  const auto* bytes = static_cast<const char*>(data);
  source.size_ = size;
  source.memory_ = data;
  source.read_ = [bytes, size](uint64_t offset, void* buf, size_t n) -> size_t {
    if (offset >= size) return 0;
    n = static_cast<size_t>(std::min<uint64_t>(n, size - offset));
    std::memcpy(buf, bytes + offset, n);
    return n;
  };
  return source;
}

Sniffed sniff(const ByteSource& source) {
  Sniffed result;
  if (!source.regular() || !read_zip_directory(source.reader(), source.size(), result.entries)) {
    return result;
  }
  bool torchscript = false;
  for (const auto& e : result.entries) {
    std::string model = aoti_model_of(e.name);
    if (!model.empty()) {
      result.aoti_models.push_back(std::move(model));
    } else if (is_torchscript_record(e.name)) {
      torchscript = true;
    }
  }
  std::sort(result.aoti_models.begin(), result.aoti_models.end());
  result.aoti_models.erase(std::unique(result.aoti_models.begin(), result.aoti_models.end()),
                           result.aoti_models.end());
  if (!result.aoti_models.empty()) {
    result.format = Format::AotInductor;
  } else if (torchscript) {
    result.format = Format::TorchScript;
  }
  return result;
}

std::vector<const ZipEntry*> aoti_model_entries(const Sniffed& sniffed, const std::string& model) {
  std::vector<const ZipEntry*> out;
  for (const auto& e : sniffed.entries) {
    if (aoti_model_of(e.name) == model) out.push_back(&e);
  }
  return out;
}

}  // namespace ti::core::archive
