// Errors raised by the core, and the classification of anything LibTorch throws.
#pragma once

#include <stdexcept>
#include <string>

namespace ti::core {

// Mirrors the C API's codes (the C layer maps them one to one).
enum class ErrorKind {
  InvalidArgument = 1,
  NotFound,
  ModelFormat,
  Runtime,
  OutOfMemory,
  Device,
  Unsupported,
  Internal,
  Cancelled,
  DeadlineExceeded,
  Unavailable,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

[[noreturn]] void fail(ErrorKind kind, const std::string& message);

struct ErrorInfo {
  ErrorKind kind;
  std::string message;  // without LibTorch's C++ backtrace
};

// Describes the exception being handled. Call only inside a catch block. Our own Error keeps
// its kind; allocation failures (std::bad_alloc, c10::OutOfMemoryError, LibTorch's allocator
// messages) become OutOfMemory; any other exception gets `fallback`. Never throws.
ErrorInfo describe_current_exception(ErrorKind fallback) noexcept;

}  // namespace ti::core
