// Issue 19: a service can refuse native code (.pt2 packages) before anything from the package is
// written or mapped, and a CPU .pt2 compiled for an instruction set this CPU lacks is refused at
// load instead of dying with SIGILL on its first call.
#include "fixture.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

using namespace ti_test;

namespace {

bool exists(const std::string& path) { return std::ifstream(path).good(); }

size_t entries_in(const std::string& dir) {
  size_t n = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
    closedir(d);
  }
  return n;
}

class NativeCode : public CapiTest {};

TEST_F(NativeCode, RefusedByFileAndByBufferWithoutATemporaryFile) {
  // dynamic.pt2 on LibTorch 2.x; fake.pt2 (laid out like a package) on every leg.
  const std::string file = exists(model_path("dynamic.pt2")) ? "dynamic.pt2" : "fake.pt2";
  char tmpl[] = "/tmp/ti-native-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const char* old = getenv("TMPDIR");
  const std::string saved = old ? old : "";
  setenv("TMPDIR", tmpl, 1);
  Options opts(ti_load_options_create());
  ASSERT_TRUE(Ok(ti_load_options_set_allow_native_code(opts.get(), 0)));
  ti_model_t* m = nullptr;
  EXPECT_TRUE(Fails(ti_model_load(model_path(file).c_str(), opts.get(), &m), TI_ERR_UNSUPPORTED,
                    "do not allow native code"));
  const auto bytes = read_file(model_path(file));
  EXPECT_TRUE(Fails(ti_model_load_buffer(bytes.data(), bytes.size(), opts.get(), &m), TI_ERR_UNSUPPORTED,
                    "the buffer is an AOTInductor package"));
  EXPECT_EQ(m, nullptr);
  EXPECT_EQ(entries_in(tmpl), 0u);
  if (old) setenv("TMPDIR", saved.c_str(), 1); else unsetenv("TMPDIR");
  rmdir(tmpl);
  // TorchScript still loads with the option, and packages load again with it set back to 1.
  ASSERT_TRUE(Ok(ti_model_load(model_path("mlp.pt").c_str(), opts.get(), &m)));
  ti_model_free(m);
  if (file == "dynamic.pt2") {
    ASSERT_TRUE(Ok(ti_load_options_set_allow_native_code(opts.get(), 1)));
    ASSERT_TRUE(Ok(ti_model_load(model_path(file).c_str(), opts.get(), &m)));
    ti_model_free(m);
  }
}

TEST_F(NativeCode, PackageForAnotherCpuIsRefusedAtLoad) {
  if (!exists(model_path("foreign_isa.pt2"))) GTEST_SKIP() << "no .pt2 fixtures on this LibTorch";
  ti_model_t* m = nullptr;
  EXPECT_TRUE(Fails(ti_model_load(model_path("foreign_isa.pt2").c_str(), nullptr, &m), TI_ERR_UNSUPPORTED,
                    "compiled for avx512 avx512_vnni amx_tile avx1024, and this CPU lacks"));
  EXPECT_TRUE(Fails(ti_model_load(model_path("foreign_machine.pt2").c_str(), nullptr, &m), TI_ERR_UNSUPPORTED,
                    "compiled for aarch64 and this machine is x86_64"));
  EXPECT_EQ(m, nullptr);
}

}  // namespace
