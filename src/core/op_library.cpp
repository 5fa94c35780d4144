#include "core/op_library.h"

#include "core/error.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <set>

namespace ti::core {

void load_op_library(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(ErrorKind::NotFound, "no operator library at '" + path + "'");
  if (!S_ISREG(st.st_mode)) fail(ErrorKind::Runtime, "'" + path + "' is not a regular file");
  char resolved[PATH_MAX];
  const std::string key = ::realpath(path.c_str(), resolved) ? std::string(resolved) : path;
  static std::mutex mutex;
  static std::set<std::string> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (loaded.count(key)) return;
  // Operators register from the library's static initialisers, which dlopen runs.
  void* handle = ::dlopen(key.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!handle) {
    const char* why = ::dlerror();
    fail(ErrorKind::Runtime, "cannot load operator library '" + path + "': " + (why ? why : "unknown error"));
  }
  loaded.insert(key);
}

}  // namespace ti::core
