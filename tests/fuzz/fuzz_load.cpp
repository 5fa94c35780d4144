// libFuzzer target for ti_model_load_buffer, then one prediction with float32 zeros for every
// input (most fail with an argument error; that is fine). Whatever the bytes, the process must
// live and every handle must be freed. Built with the library instrumented (TI_FUZZ=ON, clang).
#include <torchinfer.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

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
