// TorchScript archives (torch.jit.save), loaded with torch::jit::load.
#pragma once

#include "core/archive/format.h"
#include "core/model.h"

namespace ti::core::torchscript {

// Checks what LibTorch's archive reader would trust, before it sees the bytes: a ZIP archive
// that our own reader accepts, entries whose declared sizes fit the file and
// their compression, and a version record this LibTorch reads. Throws ModelFormat.
// Returns whether its source is deep enough that LibTorch must compile it on a thread with a
// large stack (see load).
bool check_archive(const archive::ByteSource& source, const archive::Sniffed& sniffed);

// Loads the archive in `source` (a file or the caller's buffer; `what` names it in messages),
// after check_archive. LibTorch reads it through a view that hides the code's debug pickles:
// they only map serialized code back to the original Python source for error messages, and
// LibTorch 1.13/2.x read them lazily while formatting an error, crashing on a corrupt one.
// `large_stack` (from check_archive): LibTorch's parser and compiler recurse per nesting level
// and per operator of a chain, so deep source is loaded on a thread with a 256 MiB stack (the
// caller's thread may have 1 MiB, as JVM threads do); other archives load on the caller's thread.
std::unique_ptr<Model> load(const archive::ByteSource& source, const archive::Sniffed& sniffed,
                            const std::string& what, const LoadConfig& config, bool large_stack);

}  // namespace ti::core::torchscript
