#include "core/device.h"

#include "core/error.h"

#include <torch/cuda.h>

#include <limits>
#include <optional>

namespace ti::core {

c10::Device parse_device(const std::string& text) {
  // LibTorch keeps a device index in 8 bits and would wrap "cuda:256" to 0 (or "cuda:128" to a
  // negative index): the index is checked here, before it reaches c10::Device.
  if (const auto colon = text.find(':'); colon != std::string::npos) {
    const std::string index = text.substr(colon + 1);
    const bool digits = !index.empty() && index.size() <= 4 &&
                        index.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || std::stoi(index) > std::numeric_limits<c10::DeviceIndex>::max()) {
      fail(ErrorKind::InvalidArgument, "'" + text + "': the device index must be a number from 0 to " +
                                           std::to_string(std::numeric_limits<c10::DeviceIndex>::max()));
    }
  }
  std::optional<c10::Device> device;
  try {
    device.emplace(text);
  } catch (const std::exception&) {
    fail(ErrorKind::InvalidArgument,
         "'" + text + "' is not a device; use \"cpu\", \"cuda\" or \"cuda:N\"");
  }
  if (!device->is_cpu() && !device->is_cuda()) {
    fail(ErrorKind::Unsupported,
         "device '" + text + "' is not supported; use \"cpu\", \"cuda\" or \"cuda:N\"");
  }
  if (device->is_cpu() && device->has_index() && device->index() != 0) {
    fail(ErrorKind::InvalidArgument, "device '" + text + "': the CPU has no index other than 0");
  }
  return *device;
}

int cuda_device_count() noexcept {
  try {
    return static_cast<int>(torch::cuda::device_count());
  } catch (...) {
    return 0;
  }
}

c10::Device resolve_device(const c10::Device& device) {
  if (device.is_cpu()) return c10::Device(c10::kCPU);
  const int count = cuda_device_count();
  if (count == 0) {
    fail(ErrorKind::Device, "CUDA was requested (" + device.str() +
                                ") but no CUDA device is available: this LibTorch has no CUDA "
                                "support or the machine has no usable GPU");
  }
  // "cuda" means device 0: the current device is per thread, and callers' threads vary.
  if (!device.has_index()) return c10::Device(c10::kCUDA, 0);
  if (device.index() >= count) {
    fail(ErrorKind::Device, "CUDA device " + std::to_string(device.index()) +
                                " was requested but only " + std::to_string(count) +
                                " CUDA device(s) are available");
  }
  return device;
}

std::string device_name(const c10::Device& device) {
  if (device.is_cpu()) return "cpu";
  return device.str();
}

}  // namespace ti::core
