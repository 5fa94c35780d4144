// Shared libraries that register TorchScript operators (torch.ops.load_library in Python).
#pragma once

#include <string>

namespace ti::core {

// Loads `path` once per process (RTLD_NOW | RTLD_GLOBAL; never unloaded). A second call for
// the same file (by its real path) does nothing. Throws NotFound for a missing file and
// Runtime with the loader's message when it cannot be loaded.
void load_op_library(const std::string& path);

}  // namespace ti::core
