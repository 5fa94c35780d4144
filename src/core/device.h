// Device strings and availability. Asking for a device that is not there is an error,
// never a silent CPU fallback.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace ti::core {

// Parses "cpu", "cuda" or "cuda:N". Throws InvalidArgument for text that is not a device and
// Unsupported for device types other than cpu and cuda.
c10::Device parse_device(const std::string& text);

// Checks that `device` exists on this machine and returns it with its index made explicit
// ("cuda" becomes "cuda:<current>"). Throws ErrorKind::Device otherwise.
c10::Device resolve_device(const c10::Device& device);

// "cpu", "cuda:0", ...
std::string device_name(const c10::Device& device);

int cuda_device_count() noexcept;

}  // namespace ti::core
