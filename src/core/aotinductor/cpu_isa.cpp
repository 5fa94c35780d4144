#include "core/aotinductor/cpu_isa.h"

#include <sys/utsname.h>

#include <cctype>
#include <sstream>

namespace ti::core::aotinductor {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

CpuFeatures detect() {
  CpuFeatures f;
  struct utsname u {};
  if (::uname(&u) == 0) f.machine = u.machine;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f.isa.insert("avx2");
  // Inductor's avx512 flags: -mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")) {
    f.isa.insert("avx512");
    if (__builtin_cpu_supports("avx512vnni")) f.isa.insert("avx512_vnni");
  }
  // AMX tiles: CPUID leaf 7, sub-leaf 0, EDX bit 24 (no __builtin_cpu_supports name in GCC 12).
  unsigned a = 7, b = 0, c = 0, d = 0;
  __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  if (d & (1u << 24)) f.isa.insert("amx_tile");
#elif defined(__aarch64__)
  f.isa.insert("asimd");
  f.isa.insert("neon");
#endif
  return f;
}

}  // namespace

const CpuFeatures& this_cpu() {
  static const CpuFeatures features = detect();
  return features;
}

std::string check_cpu_isa(const std::string& machine, const std::string& isa, const CpuFeatures& cpu) {
  if (!machine.empty() && !cpu.machine.empty() && lower(machine) != lower(cpu.machine)) {
    return "the package was compiled for " + machine + " and this machine is " + cpu.machine;
  }
  std::istringstream words(lower(isa));
  std::string word, missing;
  while (words >> word) {
    if (word == "invalid_vec_isa") continue;  // compiled without vector instructions: runs anywhere
    if (!cpu.isa.count(word)) missing += (missing.empty() ? "" : " ") + word;
  }
  if (missing.empty()) return std::string();
  std::string have;
  for (const auto& w : cpu.isa) have += (have.empty() ? "" : " ") + w;
  return "the package was compiled for " + lower(isa) + ", and this CPU lacks " + missing + " (it has " +
         (have.empty() ? std::string("no vector extensions Inductor uses") : have) + ")";
}

}  // namespace ti::core::aotinductor
