// A structure-aware mutator for TorchScript archives (libFuzzer's LLVMFuzzerCustomMutator in
// fuzz_load.cpp): it unpacks a ZIP archive, edits one code/*.py record the way an attacker who
// knows LibTorch's front end would, and packs the archive again with consistent sizes and
// CRCs, so the edit reaches LibTorch's parser instead of dying in the ZIP checks. The edits:
//  - deep chains at an expression of a method: prefix (`not`, `-`, `~`, ternaries), wrapping
//    (brackets, calls), postfix (subscripts, attributes, calls) and binary (`+`, `**`, `and`)
//    chains, blocks (`elif` chains, nested `if`s) and runs of blank, comment or continued lines,
//    each from 1 to 120,000 levels, often near the library's limits;
//  - class declarations: bases (NamedTuple, Enum, Interface, dotted, several), annotations of
//    __parameters__ / __buffers__, attributes declared twice or assigned, odd types;
//  - token and line edits: swap, duplicate, delete, replace from a TorchScript dictionary,
//    re-indent; and libFuzzer's own byte mutations inside the record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ti_fuzz {

// One ZIP entry. `data` is the stored bytes (compressed ones are kept as they are).
struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t uncompressed_size = 0;
  std::string data;
};

// False when `bytes` is not a ZIP archive this reader understands (no ZIP64, sizes in range).
bool read_zip(const uint8_t* bytes, size_t size, std::vector<ZipEntry>& entries);
// A ZIP archive of `entries`, stored entries with their CRC recomputed.
std::string write_zip(const std::vector<ZipEntry>& entries);

// Edits TorchScript source text in place. `byte_mutate`, when given, mutates a byte buffer in
// place (data, size, max_size) -> new size, as LLVMFuzzerMutate does.
using ByteMutator = size_t (*)(uint8_t*, size_t, size_t);
void mutate_source(std::string& code, std::minstd_rand& rng, ByteMutator byte_mutate = nullptr,
                   size_t max_growth = 1 << 20);

// Mutates the archive in data[0, size) (room for max_size bytes) through one of its code
// records; returns the new size, or 0 when it is not an archive with code or the result does
// not fit (the caller then falls back to byte mutation).
size_t mutate_archive(uint8_t* data, size_t size, size_t max_size, std::minstd_rand& rng,
                      ByteMutator byte_mutate = nullptr);

}  // namespace ti_fuzz
