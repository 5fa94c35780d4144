/*
 * predict: load a TorchScript model and print its named outputs for one input row.
 *
 *   predict MODEL.pt [VALUE...]
 *
 * The values (default: 0.5 -1 2 0.1) form a float32 tensor of shape [1, N] passed as the
 * model's first input. Every output leaf is printed with its name, shape and values.
 */
#include <torchinfer.h>

#include <stdio.h>
#include <stdlib.h>

/* Prints the error, frees it and returns 1; returns 0 for NULL (success). */
static int report(ti_error_t *err, const char *what) {
  if (err == NULL) return 0;
  fprintf(stderr, "%s: %s: %s\n", what, ti_code_name(ti_error_code(err)), ti_error_message(err));
  ti_error_free(err);
  return 1;
}

static void print_tensor(const char *name, const ti_tensor_t *t) {
  size_t ndim = ti_tensor_ndim(t);
  const int64_t *shape = ti_tensor_shape(t);
  printf("%s: %s [", name, ti_dtype_name(ti_tensor_dtype(t)));
  for (size_t d = 0; d < ndim; ++d) printf("%s%lld", d ? ", " : "", (long long)shape[d]);
  printf("] =");

  /* Copy out through ti_tensor_copy_to: it works for tensors on any device. */
  size_t nbytes = ti_tensor_nbytes(t);
  int64_t n = ti_tensor_numel(t);
  void *buf = malloc(nbytes ? nbytes : 1);
  if (buf == NULL || report(ti_tensor_copy_to(t, buf, nbytes), "copy")) {
    free(buf);
    return;
  }
  for (int64_t i = 0; i < n && i < 16; ++i) {
    switch (ti_tensor_dtype(t)) {
      case TI_DTYPE_FLOAT32: printf(" %.6f", ((const float *)buf)[i]); break;
      case TI_DTYPE_FLOAT64: printf(" %.6f", ((const double *)buf)[i]); break;
      case TI_DTYPE_INT64: printf(" %lld", (long long)((const int64_t *)buf)[i]); break;
      case TI_DTYPE_INT32: printf(" %d", ((const int32_t *)buf)[i]); break;
      case TI_DTYPE_BOOL: printf(" %s", ((const uint8_t *)buf)[i] ? "true" : "false"); break;
      default: printf(" (%s)", ti_dtype_name(ti_tensor_dtype(t))); i = n; break;
    }
  }
  printf("%s\n", n > 16 ? " ..." : "");
  free(buf);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL.pt [VALUE...]\n", argv[0]);
    return 2;
  }
  float defaults[] = {0.5f, -1.0f, 2.0f, 0.1f};
  size_t n = argc > 2 ? (size_t)(argc - 2) : 4;
  float *values = malloc(n * sizeof(float));
  if (values == NULL) return 1;
  for (size_t i = 0; i < n; ++i) values[i] = argc > 2 ? strtof(argv[i + 2], NULL) : defaults[i];

  printf("libtorchinfer %s (LibTorch %s)\n", ti_version(), ti_torch_version());

  int rc = 1;
  ti_model_t *model = NULL;
  ti_tensor_t *input = NULL;
  ti_outputs_t *outputs = NULL;

  if (report(ti_model_load(argv[1], NULL, &model), "load")) goto done;
  printf("model %s on %s, inputs:", argv[1], ti_model_device(model));
  for (size_t i = 0; i < ti_model_input_count(model); ++i) printf(" %s", ti_model_input_name(model, i));
  printf("\n");

  int64_t shape[2] = {1, (int64_t)n};
  if (report(ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, values, n * sizeof(float), &input), "input"))
    goto done;
  if (report(ti_model_predict(model, (const ti_tensor_t *const *)&input, 1, &outputs), "predict"))
    goto done;

  for (size_t i = 0; i < ti_outputs_count(outputs); ++i) {
    ti_tensor_t *t = NULL;
    if (report(ti_outputs_get(outputs, i, &t), "output")) goto done;
    print_tensor(ti_outputs_name(outputs, i), t);
    ti_tensor_free(t);
  }
  rc = 0;

done:
  ti_outputs_free(outputs);
  ti_tensor_free(input);
  ti_model_free(model);
  free(values);
  return rc;
}
