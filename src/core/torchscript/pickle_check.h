// A structural check of the pickles in a TorchScript archive (data.pkl, constants.pkl), run
// before LibTorch's unpickler sees them. LibTorch 1.13's unpickler
// trusts its input: REDUCE/BUILD/TUPLE on an empty stack corrupt the heap, a tensor whose sizes
// exceed its storage record reads past the allocation, and a deeply nested value overflows the
// stack when it is destroyed. This walks every opcode with the stack, marks and memo modelled,
// and checks what LibTorch would trust. Knows nothing about LibTorch (it is fuzzed on its own).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ti::core::torchscript {

// The deepest nesting of containers and objects accepted in a pickle.
constexpr uint32_t kMaxPickleDepth = 1000;

// The byte size of record `key` of the pickle's storages (data/<key> for data.pkl), or nullopt
// when the archive has no such record.
using RecordSize = std::function<std::optional<uint64_t>(const std::string& key)>;

// Returns an empty string when `bytes` is a well-formed pickle whose tensors fit their
// storages and whose storages fit their records; otherwise what is wrong (for a message).
// Checked: every opcode is one LibTorch's unpickler reads, with its operands inside the bytes;
// no stack underflow, MARK consistency, memo reads of written slots only; nesting at most
// kMaxPickleDepth; persistent storage ids ('storage', type, key, location, numel) with a known
// storage type whose numel * itemsize fits its record; _rebuild_tensor_v2 arguments whose
// offset, sizes and strides are non-negative and address only that storage (overflow-checked).
std::string check_pickle(std::string_view bytes, const RecordSize& record_size);

}  // namespace ti::core::torchscript
