#include "core/error.h"

#include <c10/util/Exception.h>

#include <new>

namespace ti::core {
namespace {

// LibTorch reports some allocation failures as plain c10::Error (the CPU allocator), and the
// TorchScript interpreter re-wraps errors raised inside a model, losing their type.
bool mentions_out_of_memory(const std::string& message) {
  return message.find("can't allocate memory") != std::string::npos ||
         message.find("out of memory") != std::string::npos ||
         message.find("OutOfMemoryError") != std::string::npos;
}

// Drops what LibTorch appends after the message proper: a C++ backtrace introduced by
// "Exception raised from" (older releases put it into what_without_backtrace too).
std::string without_backtrace(std::string message) {
  auto pos = message.find("\nException raised from ");
  if (pos == std::string::npos && message.rfind("Exception raised from ", 0) == 0) pos = 0;
  if (pos != std::string::npos) message.erase(pos);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

ErrorInfo classify(std::string message, ErrorKind fallback) {
  message = without_backtrace(std::move(message));
  ErrorKind kind = mentions_out_of_memory(message) ? ErrorKind::OutOfMemory : fallback;
  return {kind, std::move(message)};
}

}  // namespace

void fail(ErrorKind kind, const std::string& message) { throw Error(kind, message); }

ErrorInfo describe_current_exception(ErrorKind fallback) noexcept {
  try {
    try {
      throw;
    } catch (const Error& e) {
      return {e.kind(), e.what()};
    } catch (const c10::OutOfMemoryError& e) {
      return {ErrorKind::OutOfMemory, without_backtrace(e.what_without_backtrace())};
    } catch (const c10::Error& e) {
      return classify(e.what_without_backtrace(), fallback);
    } catch (const std::bad_alloc&) {
      return {ErrorKind::OutOfMemory, "out of memory"};
    } catch (const std::exception& e) {
      return classify(e.what(), fallback);
    } catch (...) {
      return {ErrorKind::Internal, "unknown exception"};
    }
  } catch (...) {
    // Building the message itself failed (out of memory while copying it).
    return {ErrorKind::OutOfMemory, std::string()};
  }
}

}  // namespace ti::core
