/*
 * c_baseline: the loop of PredictBench.predict, in C, against libtorchinfer.
 *
 *   c_baseline MLP.pt [ITERATIONS] [ROUNDS]
 *
 * Each iteration: ti_model_predict, ti_outputs_get(0), ti_tensor_data + memcpy of the 4 floats
 * (what Tensor.toFloatArray does for a CPU tensor), ti_tensor_free, ti_outputs_free. The input
 * tensor is made once. Prints the median and minimum ns/op over ROUNDS rounds.
 */
#include <torchinfer.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(ti_error_t *err, const char *what) {
  if (err == NULL) return;
  fprintf(stderr, "%s: %s: %s\n", what, ti_code_name(ti_error_code(err)), ti_error_message(err));
  exit(1);
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static float sink;

static void one(ti_model_t *model, ti_tensor_t *input) {
  ti_outputs_t *out = NULL;
  ti_tensor_t *y = NULL;
  const void *data = NULL;
  float result[4];
  check(ti_model_predict(model, (const ti_tensor_t *const *)&input, 1, &out), "predict");
  check(ti_outputs_get(out, 0, &y), "get");
  check(ti_tensor_data(y, &data), "data");
  memcpy(result, data, ti_tensor_nbytes(y));
  sink += result[0];
  ti_tensor_free(y);
  ti_outputs_free(out);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MLP.pt [ITERATIONS] [ROUNDS]\n", argv[0]);
    return 2;
  }
  long iters = argc > 2 ? atol(argv[2]) : 20000;
  int rounds = argc > 3 ? atoi(argv[3]) : 10;
  if (iters < 1 || rounds < 1 || rounds > 100) return 2;

  check(ti_set_num_threads(1), "threads");
  ti_model_t *model = NULL;
  check(ti_model_load(argv[1], NULL, &model), "load");
  float values[16];
  for (int i = 0; i < 16; ++i) values[i] = (float)(i - 8) / 8.0f;
  int64_t shape[2] = {1, 16};
  ti_tensor_t *input = NULL;
  check(ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, values, sizeof values, &input), "input");

  for (long i = 0; i < iters / 4 + 1000; ++i) one(model, input); /* warm-up */
  double per_op[100];
  for (int r = 0; r < rounds; ++r) {
    double t0 = now_ns();
    for (long i = 0; i < iters; ++i) one(model, input);
    per_op[r] = (now_ns() - t0) / (double)iters;
  }
  qsort(per_op, (size_t)rounds, sizeof per_op[0], cmp);
  printf("c_baseline predict+get+copy: median %.1f ns/op, min %.1f ns/op (%d rounds x %ld iterations)\n",
         per_op[rounds / 2], per_op[0], rounds, iters);

  ti_tensor_free(input);
  ti_model_free(model);
  if (ti_live_handles() != 0) {
    fprintf(stderr, "leak: %lld live handles\n", (long long)ti_live_handles());
    return 1;
  }
  return sink == 12345.0f; /* keeps the loop from being optimized away */
}
