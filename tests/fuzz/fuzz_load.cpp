// libFuzzer target for ti_model_load_buffer, then one prediction with float32 zeros for every
// input (most fail with an argument error; that is fine). Whatever the bytes, the process must
// live and every handle must be freed. Built with the library instrumented (TI_FUZZ=ON, clang).
//
// Mutations are structure-aware (source_mutator.h): most edit a TorchScript record of the
// archive and repack it, the rest are libFuzzer's byte mutations of the whole file. Before the
// first input the process loads a valid model once: LibTorch 1.13 crashed on some class
// declarations only in a process that had loaded a model before.
#include "source_mutator.h"

#include <torchinfer.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  const char* warm = std::getenv("TI_FUZZ_WARM_MODEL");
  ti_model_t* model = nullptr;
  ti_error_t* e = ti_model_load(warm && *warm ? warm : TI_FUZZ_WARM_MODEL, nullptr, &model);
  if (e) {
    std::fprintf(stderr, "cannot load the warm-up model: %s\n", ti_error_message(e));
    std::abort();
  }
  ti_model_free(model);
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::minstd_rand rng(seed);
  if (rng() % 4 != 0) {
    if (size_t n = ti_fuzz::mutate_archive(data, size, max_size, rng, &LLVMFuzzerMutate)) return n;
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ti_model_t* model = nullptr;
  ti_error_t* e = ti_model_load_buffer(data, size, nullptr, &model);
  if (e) {
    if (model) std::abort();  // a failed load sets *out to NULL
    ti_error_free(e);
  } else {
    const size_t n = ti_model_input_count(model);
    std::vector<ti_tensor_t*> inputs;
    const int64_t shape[] = {1, 16};
    const std::vector<float> zeros(16, 0.0f);
    for (size_t i = 0; i < n && i < 8; ++i) {
      ti_tensor_t* t = nullptr;
      if (ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, zeros.data(), zeros.size() * sizeof(float), &t)) std::abort();
      inputs.push_back(t);
    }
    ti_outputs_t* out = nullptr;
    ti_error_free(ti_model_predict(model, const_cast<const ti_tensor_t* const*>(inputs.data()), inputs.size(), &out));
    ti_outputs_free(out);
    for (auto* t : inputs) ti_tensor_free(t);
    ti_model_free(model);
  }
  if (ti_live_handles() != 0) {
    std::fprintf(stderr, "leaked %lld handles\n", static_cast<long long>(ti_live_handles()));
    std::abort();
  }
  return 0;
}
