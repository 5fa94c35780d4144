/* Loads a model through an installed libtorchinfer; exits 0 when it predicts. */
#include <torchinfer.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  if (strcmp(ti_version(), TI_VERSION_STRING) != 0) {
    fprintf(stderr, "header %s but library %s\n", TI_VERSION_STRING, ti_version());
    return 1;
  }
  ti_model_t *m = NULL;
  ti_error_t *e = ti_model_load(argv[1], NULL, &m);
  if (e) {
    fprintf(stderr, "%s\n", ti_error_message(e));
    ti_error_free(e);
    return 1;
  }
  float x[16] = {0};
  int64_t shape[2] = {1, 16};
  ti_tensor_t *t = NULL;
  ti_outputs_t *o = NULL;
  e = ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, x, sizeof x, &t);
  if (!e) e = ti_model_predict(m, (const ti_tensor_t *const *)&t, 1, &o);
  int ok = !e && ti_outputs_count(o) == 1;
  ti_error_free(e);
  ti_outputs_free(o);
  ti_tensor_free(t);
  ti_model_free(m);
  printf("consumer: %s, live handles %lld\n", ok ? "ok" : "failed", (long long)ti_live_handles());
  return ok && ti_live_handles() == 0 ? 0 : 1;
}
