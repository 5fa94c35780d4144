/*
 * c_loop: the C side of PairedBench, built as a small shared library and called once per
 * round through JNA, so that the C loop and the Java loop alternate inside one process.
 *
 * Two loops:
 *  - ti_bench_c_run_copy: ti_model_predict, ti_outputs_copy_to(0) into a caller-side array,
 *    ti_outputs_free: the cheapest way to get a result out of the C API ("predict with
 *    copy-out"), the baseline of Outputs.copyTo.
 *  - ti_bench_c_run: as c_baseline.c and PredictBench.predict: ti_model_predict,
 *    ti_outputs_get(0), ti_tensor_data + memcpy, ti_tensor_free, ti_outputs_free (the baseline of
 *    out.get(0).toFloatArray()).
 */
#include <torchinfer.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  ti_model_t *model;
  ti_tensor_t *input;
  float sink;
} bench_t;

/* Loads the model and makes the input; NULL on error. Free with ti_bench_c_close. */
void *ti_bench_c_open(const char *path) {
  bench_t *b = calloc(1, sizeof *b);
  if (b == NULL) return NULL;
  ti_error_t *err = ti_model_load(path, NULL, &b->model);
  float values[16];
  for (int i = 0; i < 16; ++i) values[i] = (float)(i - 8) / 8.0f;
  int64_t shape[2] = {1, 16};
  if (err == NULL) err = ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, values, sizeof values, &b->input);
  if (err != NULL) {
    ti_error_free(err);
    ti_model_free(b->model);
    free(b);
    return NULL;
  }
  return b;
}

/* Runs `iters` iterations; returns the elapsed nanoseconds, or -1 on error. */
int64_t ti_bench_c_run(void *ctx, int64_t iters) {
  bench_t *b = ctx;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int64_t i = 0; i < iters; ++i) {
    ti_outputs_t *out = NULL;
    ti_tensor_t *y = NULL;
    const void *data = NULL;
    float result[4];
    ti_error_t *err = ti_model_predict(b->model, (const ti_tensor_t *const *)&b->input, 1, &out);
    if (err == NULL) err = ti_outputs_get(out, 0, &y);
    if (err == NULL) err = ti_tensor_data(y, &data);
    if (err != NULL) {
      ti_error_free(err);
      ti_tensor_free(y);
      ti_outputs_free(out);
      return -1;
    }
    memcpy(result, data, ti_tensor_nbytes(y));
    b->sink += result[0];
    ti_tensor_free(y);
    ti_outputs_free(out);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
}

/* As ti_bench_c_run, with ti_outputs_copy_to instead of a tensor handle. */
int64_t ti_bench_c_run_copy(void *ctx, int64_t iters) {
  bench_t *b = ctx;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int64_t i = 0; i < iters; ++i) {
    ti_outputs_t *out = NULL;
    float result[4];
    ti_error_t *err = ti_model_predict(b->model, (const ti_tensor_t *const *)&b->input, 1, &out);
    if (err == NULL) err = ti_outputs_copy_to(out, 0, result, sizeof result);
    if (err != NULL) {
      ti_error_free(err);
      ti_outputs_free(out);
      return -1;
    }
    b->sink += result[0];
    ti_outputs_free(out);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
}

void ti_bench_c_close(void *ctx) {
  bench_t *b = ctx;
  if (b == NULL) return;
  ti_tensor_free(b->input);
  ti_model_free(b->model);
  free(b);
}
