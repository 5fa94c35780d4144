// TorchScript archives (torch.jit.save), loaded with torch::jit::load.
#pragma once

#include "core/archive/format.h"
#include "core/model.h"

namespace ti::core::torchscript {

// Checks what LibTorch's archive reader would trust, before it sees the bytes: a ZIP archive
// (or a flatbuffer module, left to LibTorch), entries whose declared sizes fit the file and
// their compression, and a version record this LibTorch reads. Throws ModelFormat.
void check_archive(const archive::ByteSource& source, const archive::Sniffed& sniffed);

std::unique_ptr<Model> load_file(const std::string& path, const LoadConfig& config);
std::unique_ptr<Model> load_buffer(const void* data, size_t len, const LoadConfig& config);

}  // namespace ti::core::torchscript
