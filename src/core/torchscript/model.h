// TorchScript archives (torch.jit.save), loaded with torch::jit::load.
#pragma once

#include "core/model.h"

namespace ti::core::torchscript {

std::unique_ptr<Model> load_file(const std::string& path, const LoadConfig& config);
std::unique_ptr<Model> load_buffer(const void* data, size_t len, const LoadConfig& config);

}  // namespace ti::core::torchscript
