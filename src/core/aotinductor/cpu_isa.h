// Whether this CPU can run the code of a .pt2 compiled for the CPU, from what the package says
// it was compiled for (its metadata: AOTI_MACHINE "x86_64", AOTI_CPU_ISA "AVX512 AVX512_VNNI").
// A package built for an instruction set the CPU lacks dies with SIGILL on its first call; this
// check turns that into an error at load. No LibTorch here.
#pragma once

#include <set>
#include <string>

namespace ti::core::aotinductor {

struct CpuFeatures {
  std::string machine;          // uname's machine: "x86_64", "aarch64"
  std::set<std::string> isa;    // in AOTI_CPU_ISA's words, lowercase: "avx2", "avx512", "avx512_vnni", "amx_tile"
};

// This machine's features (read once).
const CpuFeatures& this_cpu();

// Empty when `cpu` runs code compiled for `machine` / `isa` (either may be empty: not stated);
// otherwise why not: "compiled for avx512 avx512_vnni, this CPU has avx2".
std::string check_cpu_isa(const std::string& machine, const std::string& isa, const CpuFeatures& cpu);

}  // namespace ti::core::aotinductor
