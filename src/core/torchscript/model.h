// TorchScript archives (torch.jit.save), loaded with torch::jit::load.
#pragma once

#include "core/archive/format.h"
#include "core/model.h"

namespace ti::core::torchscript {

// Checks what LibTorch's archive reader would trust, before it sees the bytes: a ZIP archive
// that our own reader accepts, entries whose declared sizes fit the file and
// their compression, and a version record this LibTorch reads. Throws ModelFormat.
void check_archive(const archive::ByteSource& source, const archive::Sniffed& sniffed);

// Loads the archive in `source` (a file or the caller's buffer; `what` names it in messages),
// after check_archive. LibTorch reads it through a view that hides the code's debug pickles:
// they only map serialized code back to the original Python source for error messages, and
// LibTorch 1.13/2.x read them lazily while formatting an error, crashing on a corrupt one.
std::unique_ptr<Model> load(const archive::ByteSource& source, const archive::Sniffed& sniffed,
                            const std::string& what, const LoadConfig& config);

}  // namespace ti::core::torchscript
