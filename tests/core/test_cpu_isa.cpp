// The .pt2 CPU check (issue 19): what a package says it was compiled for against a CPU.
#include "core/aotinductor/cpu_isa.h"

#include <gtest/gtest.h>

using ti::core::aotinductor::check_cpu_isa;
using ti::core::aotinductor::CpuFeatures;

TEST(CpuIsa, RefusesWhatTheCpuLacksAndNamesBoth) {
  const CpuFeatures avx2{"x86_64", {"avx2"}};
  EXPECT_EQ(check_cpu_isa("x86_64", "AVX2", avx2), "");
  EXPECT_EQ(check_cpu_isa("", "", avx2), "");                 // not stated: nothing to check
  EXPECT_EQ(check_cpu_isa("x86_64", "INVALID_VEC_ISA", avx2), "");  // no vector code
  EXPECT_EQ(check_cpu_isa("x86_64", "AVX512 AVX512_VNNI", avx2),
            "the package was compiled for avx512 avx512_vnni, and this CPU lacks avx512 avx512_vnni (it has avx2)");
  EXPECT_EQ(check_cpu_isa("aarch64", "NEON", avx2), "the package was compiled for aarch64 and this machine is x86_64");
  const CpuFeatures amx{"x86_64", {"avx2", "avx512", "avx512_vnni", "amx_tile"}};
  EXPECT_EQ(check_cpu_isa("x86_64", "AVX512 AVX512_VNNI AMX_TILE", amx), "");
}

TEST(CpuIsa, ThisCpuIsDescribed) {
  const auto& cpu = ti::core::aotinductor::this_cpu();
  EXPECT_FALSE(cpu.machine.empty());
  // It runs what it has.
  std::string all;
  for (const auto& w : cpu.isa) all += w + " ";
  EXPECT_EQ(check_cpu_isa(cpu.machine, all, cpu), "");
}
