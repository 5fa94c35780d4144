// AOTInductor packages (.pt2, from torch.export + torch._inductor.aoti_compile_and_package),
// run with torch::inductor::AOTIModelPackageLoader on LibTorch 2.6 and later. Built against an
// older LibTorch, loading one fails with Unsupported.
#pragma once

#include "core/archive/format.h"
#include "core/model.h"

namespace ti::core::aotinductor {

// `path` is the file the source reads (nullptr: a buffer, written to a private temporary file
// for LibTorch's loader and removed again before this returns).
std::unique_ptr<Model> load(const archive::ByteSource& source, const archive::Sniffed& sniffed,
                            const std::string* path, const LoadConfig& config);

}  // namespace ti::core::aotinductor
