/*
 * ti_soak: a soak program over the public C API only (not a timed test).
 *
 * N threads each run a fixed number of rounds; round r of thread t runs step (t + r) % STEPS,
 * so every step runs concurrently with every other:
 *   load      load mlp.pt (from the file or from memory), predict, check, free; every fourth
 *             round also starts a private batcher on the shared batch_rows.pt, runs one
 *             request through it and frees it (the shutdown path)
 *   predict   mlp.pt (shared): the result must equal the reference computed at start;
 *             named.pt (shared) by name: (ids * mask) * scale + bias, exact
 *   cancel    slow.pt (shared) with an endless loop, cancelled from another thread after 1-3 ms:
 *             TI_ERR_CANCELLED, and the cancelled options fail the next call at once
 *   timeout   slow.pt with a 2 ms timeout: TI_ERR_DEADLINE_EXCEEDED; a short call under a
 *             generous timeout succeeds
 *   inputs    values.pt (shared) through ti_inputs_*: nested tensors, dict, str, list of str,
 *             None; every output leaf checked; a bad path is refused and leaves it usable
 *   batcher   batch_rows.pt through the shared batcher, 1-3 rows: y == x * 2 + 1 and the
 *             "rows" leaf has this request's rows; every third request also carries run
 *             options that another thread cancels or a 1 us timeout (either outcome is fine,
 *             but no other)
 *   errors    faulty.pt raising (TI_ERR_RUNTIME), a wrong input count (TI_ERR_INVALID_ARGUMENT),
 *             a missing file (TI_ERR_NOT_FOUND)
 *
 * The main thread samples the resident set size (/proc/self/statm) while the workers run and
 * prints it every --report-ms. Exit status: 0 when every step gave what it must, the live-handle
 * count is 0 at the end, and RSS did not grow more than --rss-bound percent between the
 * warmed-up second quarter of the rounds and the last quarter; 1 otherwise; 2 for bad usage.
 * The growth check uses the anonymous part of RSS (resident minus file-backed pages): how much
 * of LibTorch's 400 MB of code the kernel happens to keep mapped in varies between runs by
 * more than any leak a short run could show, and a leak is anonymous memory.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */

#include <torchinfer.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { STEP_LOAD, STEP_PREDICT, STEP_CANCEL, STEP_TIMEOUT, STEP_INPUTS, STEP_BATCHER, STEP_ERRORS, STEPS };
static const char *const step_names[STEPS] = {"load", "predict", "cancel", "timeout", "inputs", "batcher", "errors"};

#define MLP_IN 16
#define MLP_OUT 4
#define BATCH_COLS 4
#define FOREVER 100000000LL /* slow.pt rounds: many minutes, so only a cancel or timeout ends it */
#define MAX_SAMPLES 100000

/* ---------------------------------------------------------------------------------------- */
/* Shared state                                                                              */
/* ---------------------------------------------------------------------------------------- */

static struct {
  const char *models;
  int threads;
  int rounds;
  double rss_bound_pct;
  int report_ms;
  int steps[STEPS]; /* the steps to run (--steps), in order */
  int n_steps;
} cfg = {NULL, 4, 200, 10.0, 5000, {0}, 0};

static int enabled(int step) {
  for (int i = 0; i < cfg.n_steps; ++i) {
    if (cfg.steps[i] == step) return 1;
  }
  return 0;
}

static struct {
  ti_model_t *mlp, *named, *slow, *values, *batch_rows, *faulty;
  ti_batcher_t *batcher;
  char *mlp_bytes;
  size_t mlp_len;
  float mlp_x[MLP_IN];
  float mlp_ref[MLP_OUT];
} shared;

static atomic_long rounds_done;
static atomic_long step_count[STEPS];
static atomic_long failures;
/* The batcher's racing requests: [RACE_CANCEL or RACE_TIMEOUT][answered, stopped]. */
enum { RACE_NONE, RACE_CANCEL, RACE_TIMEOUT };
static atomic_long race_outcomes[3][2];

static void fail(const char *step, const char *fmt, ...) {
  long n = atomic_fetch_add(&failures, 1);
  if (n >= 20) return; /* the count says the rest */
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "soak: FAIL [%s] ", step);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* Takes `e`: true when it is NULL; otherwise records a failure naming it and frees it. */
static int ok(ti_error_t *e, const char *step, const char *what) {
  if (!e) return 1;
  fail(step, "%s: %s: %s", what, ti_code_name(ti_error_code(e)), ti_error_message(e));
  ti_error_free(e);
  return 0;
}

/* Takes `e`: true when it carries `code`; otherwise records a failure and frees it. */
static int fails_with(ti_error_t *e, ti_code_t code, const char *step, const char *what) {
  if (!e) {
    fail(step, "%s: succeeded, expected %s", what, ti_code_name(code));
    return 0;
  }
  int good = ti_error_code(e) == code;
  if (!good) {
    fail(step, "%s: %s (%s), expected %s", what, ti_code_name(ti_error_code(e)), ti_error_message(e),
         ti_code_name(code));
  }
  ti_error_free(e);
  return good;
}

static char *path_of(const char *file) {
  size_t n = strlen(cfg.models) + strlen(file) + 2;
  char *p = malloc(n);
  if (!p) abort();
  snprintf(p, n, "%s/%s", cfg.models, file);
  return p;
}

static ti_model_t *load_or_die(const char *file) {
  char *p = path_of(file);
  ti_model_t *m = NULL;
  ti_error_t *e = ti_model_load(p, NULL, &m);
  if (e) {
    fprintf(stderr, "soak: cannot load %s: %s: %s\n", p, ti_code_name(ti_error_code(e)), ti_error_message(e));
    exit(1);
  }
  free(p);
  return m;
}

static char *read_whole(const char *file, size_t *len) {
  char *p = path_of(file);
  FILE *f = fopen(p, "rb");
  if (!f) {
    fprintf(stderr, "soak: cannot open %s: %s\n", p, strerror(errno));
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *data = malloc((size_t)n);
  if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "soak: cannot read %s\n", p);
    exit(1);
  }
  fclose(f);
  free(p);
  *len = (size_t)n;
  return data;
}

static ti_tensor_t *f32(const float *v, const int64_t *shape, size_t ndim) {
  int64_t n = 1;
  for (size_t i = 0; i < ndim; ++i) n *= shape[i];
  ti_tensor_t *t = NULL;
  if (!ok(ti_tensor_create(TI_DTYPE_FLOAT32, shape, ndim, v, (size_t)n * sizeof(float), &t), "setup",
          "ti_tensor_create")) {
    return NULL;
  }
  return t;
}

static ti_tensor_t *i64_scalar(int64_t v) {
  ti_tensor_t *t = NULL;
  if (!ok(ti_tensor_create(TI_DTYPE_INT64, NULL, 0, &v, sizeof v, &t), "setup", "ti_tensor_create")) return NULL;
  return t;
}

/* The index of the leaf called `name`, or -1. */
static long leaf(const ti_outputs_t *o, const char *name) {
  for (size_t i = 0; i < ti_outputs_count(o); ++i) {
    const char *n = ti_outputs_name(o, i);
    if (n && strcmp(n, name) == 0) return (long)i;
  }
  return -1;
}

/* Copies float leaf `name` into `dst` (`n` floats); false (and a recorded failure) otherwise. */
static int leaf_f32(const ti_outputs_t *o, const char *name, float *dst, size_t n, const char *step) {
  long i = leaf(o, name);
  if (i < 0) {
    fail(step, "no leaf \"%s\"", name);
    return 0;
  }
  if (ti_outputs_kind(o, (size_t)i) != TI_KIND_TENSOR || ti_outputs_dtype(o, (size_t)i) != TI_DTYPE_FLOAT32 ||
      ti_outputs_nbytes(o, (size_t)i) != n * sizeof(float)) {
    fail(step, "leaf \"%s\": not %zu float32 values", name, n);
    return 0;
  }
  return ok(ti_outputs_copy_to(o, (size_t)i, dst, n * sizeof(float)), step, name);
}

static int leaf_string_is(const ti_outputs_t *o, const char *name, const char *want, const char *step) {
  long i = leaf(o, name);
  const char *data = NULL;
  size_t len = 0;
  if (i < 0) {
    fail(step, "no leaf \"%s\"", name);
    return 0;
  }
  if (!ok(ti_outputs_string(o, (size_t)i, &data, &len), step, name)) return 0;
  if (len != strlen(want) || memcmp(data, want, len) != 0) {
    fail(step, "leaf \"%s\" is \"%.*s\", expected \"%s\"", name, (int)len, data, want);
    return 0;
  }
  return 1;
}

static int near(float got, float want) { return fabsf(got - want) <= 1e-6f + 1e-5f * fabsf(want); }

static uint32_t next_random(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ---------------------------------------------------------------------------------------- */
/* Cancelling from another thread                                                            */
/* ---------------------------------------------------------------------------------------- */

struct canceller {
  pthread_t thread;
  ti_run_options_t *opts;
  long delay_us;
};

static void *cancel_after(void *arg) {
  struct canceller *c = arg;
  sleep_us(c->delay_us);
  ti_run_options_cancel(c->opts);
  return NULL;
}

static void start_canceller(struct canceller *c, ti_run_options_t *opts, long delay_us) {
  c->opts = opts;
  c->delay_us = delay_us;
  if (pthread_create(&c->thread, NULL, cancel_after, c) != 0) {
    fprintf(stderr, "soak: pthread_create failed\n");
    exit(1);
  }
}

/* ---------------------------------------------------------------------------------------- */
/* Steps                                                                                     */
/* ---------------------------------------------------------------------------------------- */

/* mlp.pt on the reference input; the result must match the reference. */
static void predict_mlp(ti_model_t *m, const char *step) {
  const int64_t shape[] = {1, MLP_IN};
  ti_tensor_t *x = f32(shared.mlp_x, shape, 2);
  const ti_tensor_t *in[] = {x};
  ti_outputs_t *out = NULL;
  if (x && ok(ti_model_predict(m, in, 1, &out), step, "mlp predict")) {
    float y[MLP_OUT];
    if (leaf_f32(out, "0", y, MLP_OUT, step)) {
      for (int i = 0; i < MLP_OUT; ++i) {
        if (!near(y[i], shared.mlp_ref[i])) {
          fail(step, "mlp output %d is %g, reference %g", i, y[i], shared.mlp_ref[i]);
          break;
        }
      }
    }
  }
  ti_outputs_free(out);
  ti_tensor_free(x);
}

static void batcher_request(ti_batcher_t *b, uint32_t *rng, const ti_run_options_t *opts, int race,
                            const char *step);

static void step_load(int round, uint32_t *rng) {
  const char *step = "load";
  ti_model_t *m = NULL;
  ti_error_t *e;
  if (round % 2) {
    e = ti_model_load_buffer(shared.mlp_bytes, shared.mlp_len, NULL, &m);
  } else {
    char *p = path_of("mlp.pt");
    ti_load_options_t *o = ti_load_options_create();
    ok(ti_load_options_set_optimize(o, round % 4 == 0), step, "set_optimize");
    e = ti_model_load(p, o, &m);
    ti_load_options_free(o);
    free(p);
  }
  if (ok(e, step, "load mlp.pt")) {
    if (ti_model_input_count(m) != 1 || strcmp(ti_model_format(m), "torchscript") != 0) {
      fail(step, "mlp.pt: %zu inputs, format %s", ti_model_input_count(m), ti_model_format(m));
    }
    predict_mlp(m, step);
  }
  ti_model_free(m);

  if (round % 4 == 1 && enabled(STEP_BATCHER)) {
    ti_batcher_options_t *o = ti_batcher_options_create();
    ok(ti_batcher_options_set_max_batch(o, 4), step, "set_max_batch");
    ti_batcher_t *b = NULL;
    if (ok(ti_batcher_create(shared.batch_rows, NULL, o, &b), step, "ti_batcher_create")) {
      batcher_request(b, rng, NULL, RACE_NONE, step);
    }
    ti_batcher_free(b);
    ti_batcher_options_free(o);
  }
}

static void step_predict(uint32_t *rng) {
  const char *step = "predict";
  predict_mlp(shared.mlp, step);

  /* named.pt by name, in reverse order, with a bias: (ids * mask) * 1 + bias. */
  float ids[6], mask[6], bias[6];
  for (int i = 0; i < 6; ++i) {
    ids[i] = (float)(next_random(rng) % 100);
    mask[i] = (float)(next_random(rng) % 2);
    bias[i] = (float)i;
  }
  const int64_t shape[] = {2, 3};
  ti_tensor_t *t_ids = f32(ids, shape, 2), *t_mask = f32(mask, shape, 2), *t_bias = f32(bias, shape, 2);
  const char *names[] = {"bias", "mask", "ids"};
  const ti_tensor_t *in[] = {t_bias, t_mask, t_ids};
  ti_outputs_t *out = NULL;
  if (t_ids && t_mask && t_bias && ok(ti_model_predict_named(shared.named, names, in, 3, &out), step, "named")) {
    float y[6];
    if (leaf_f32(out, "0", y, 6, step)) {
      for (int i = 0; i < 6; ++i) {
        if (y[i] != ids[i] * mask[i] + bias[i]) {
          fail(step, "named output %d is %g, expected %g", i, y[i], ids[i] * mask[i] + bias[i]);
          break;
        }
      }
    }
  }
  ti_outputs_free(out);
  ti_tensor_free(t_ids);
  ti_tensor_free(t_mask);
  ti_tensor_free(t_bias);
}

/* slow.pt with `rounds` rounds under `opts`. */
static ti_error_t *run_slow(const ti_run_options_t *opts, int64_t rounds, ti_outputs_t **out) {
  float x[8 * 8];
  for (int i = 0; i < 64; ++i) x[i] = 0.01f * (float)(i % 17) - 0.08f;
  const int64_t shape[] = {8, 8};
  ti_tensor_t *t = f32(x, shape, 2), *n = i64_scalar(rounds);
  const ti_tensor_t *in[] = {t, n};
  ti_error_t *e = ti_model_run(shared.slow, NULL, NULL, in, 2, opts, out);
  ti_tensor_free(t);
  ti_tensor_free(n);
  return e;
}

static void step_cancel(int round) {
  const char *step = "cancel";
  ti_run_options_t *opts = ti_run_options_create();
  struct canceller c;
  start_canceller(&c, opts, 1000 + 1000 * (round % 3));
  ti_outputs_t *out = NULL;
  fails_with(run_slow(opts, FOREVER, &out), TI_ERR_CANCELLED, step, "slow.pt cancelled");
  pthread_join(c.thread, NULL);
  if (out) fail(step, "a cancelled call returned outputs");
  ti_outputs_free(out);
  out = NULL;
  /* Cancellation is sticky: the next call with these options fails at once. */
  fails_with(run_slow(opts, 1, &out), TI_ERR_CANCELLED, step, "slow.pt with cancelled options");
  ti_outputs_free(out);
  ti_run_options_free(opts);
}

static void step_timeout(void) {
  const char *step = "timeout";
  ti_run_options_t *opts = ti_run_options_create();
  ti_outputs_t *out = NULL;
  if (ok(ti_run_options_set_timeout_us(opts, 2000), step, "set_timeout_us")) {
    fails_with(run_slow(opts, FOREVER, &out), TI_ERR_DEADLINE_EXCEEDED, step, "slow.pt past 2 ms");
    ti_outputs_free(out);
    out = NULL;
  }
  if (ok(ti_run_options_set_timeout_us(opts, 60 * 1000000LL), step, "set_timeout_us")) {
    if (ok(run_slow(opts, 3, &out), step, "slow.pt, 3 rounds within 60 s") && ti_outputs_count(out) != 1) {
      fail(step, "slow.pt gave %zu leaves", ti_outputs_count(out));
    }
    ti_outputs_free(out);
  }
  ti_run_options_free(opts);
}

/*
 * values.pt: forward(pairs, by_id, text, words, maybe=None, k=2, scale=1.0) ->
 * (sum of (a*b).sum() * scale + k, {"p.q": sum(by_id[k] + k), "n": len(by_id)}, text.upper() + "!"*k,
 *  reversed(words), maybe * 2 or None)
 */
static void step_inputs(int round, uint32_t *rng) {
  const char *step = "inputs";
  ti_inputs_t *in = NULL;
  if (!ok(ti_inputs_create(shared.values, NULL, &in), step, "ti_inputs_create")) return;
  float a[3], b[3], c[3], d[3], v[2] = {1.5f, -2.0f}, maybe[2] = {3.0f, 4.0f};
  float want0 = 0.0f;
  for (int i = 0; i < 3; ++i) {
    a[i] = (float)(next_random(rng) % 7);
    b[i] = (float)(next_random(rng) % 5);
    c[i] = (float)(next_random(rng) % 3);
    d[i] = 2.0f;
    want0 += a[i] * b[i] + c[i] * d[i];
  }
  const int64_t s3[] = {3}, s2[] = {2};
  ti_tensor_t *ta = f32(a, s3, 1), *tb = f32(b, s3, 1), *tc = f32(c, s3, 1), *td = f32(d, s3, 1);
  ti_tensor_t *tv = f32(v, s2, 1), *tm = f32(maybe, s2, 1);
  int with_maybe = round % 2;
  int good = ta && tb && tc && td && tv && tm &&
             ok(ti_inputs_set_tensor(in, "pairs.0.0", ta), step, "pairs.0.0") &&
             ok(ti_inputs_set_tensor(in, "pairs.0.1", tb), step, "pairs.0.1") &&
             ok(ti_inputs_set_tensor(in, "pairs.1.0", tc), step, "pairs.1.0") &&
             ok(ti_inputs_set_tensor(in, "pairs.1.1", td), step, "pairs.1.1") &&
             ok(ti_inputs_set_tensor(in, "by_id.-3", tv), step, "by_id.-3") &&
             ok(ti_inputs_set_string(in, "text", "ab", 2), step, "text") &&
             ok(ti_inputs_set_string(in, "words.0", "x\xc3\xa9", 3), step, "words.0") &&
             ok(ti_inputs_set_string(in, "words.1", "y.z", 3), step, "words.1") &&
             ok(with_maybe ? ti_inputs_set_tensor(in, "maybe", tm) : ti_inputs_set_none(in, "maybe"), step,
                "maybe") &&
             ok(ti_inputs_set_int(in, "k", 3), step, "k");
  /* The inputs keep their own references: the tensors may go now. */
  ti_tensor_free(ta);
  ti_tensor_free(tb);
  ti_tensor_free(tc);
  ti_tensor_free(td);
  ti_tensor_free(tv);
  ti_tensor_free(tm);
  /* A bad path is refused and leaves the object usable. */
  good = good && fails_with(ti_inputs_set_int(in, "no_such_argument", 1), TI_ERR_INVALID_ARGUMENT, step,
                            "unknown argument");
  ti_outputs_t *out = NULL;
  if (good && ok(ti_model_run_inputs(shared.values, in, NULL, &out), step, "ti_model_run_inputs")) {
    float got0, pq, m2[2];
    if (leaf_f32(out, "0", &got0, 1, step) && !near(got0, want0 + 3.0f)) {
      fail(step, "leaf 0 is %g, expected %g", got0, want0 + 3.0f);
    }
    if (leaf_f32(out, "1.p\\.q", &pq, 1, step) && !near(pq, 1.5f - 2.0f - 3.0f)) {
      fail(step, "leaf 1.p\\.q is %g, expected %g", pq, 1.5f - 2.0f - 3.0f);
    }
    long ni = leaf(out, "1.n");
    int64_t count = -1;
    if (ni < 0 || !ok(ti_outputs_copy_to(out, (size_t)ni, &count, sizeof count), step, "1.n") || count != 1) {
      fail(step, "leaf 1.n: expected 1 (int64), got %lld", (long long)count);
    }
    leaf_string_is(out, "2", "AB!!!", step);
    leaf_string_is(out, "3.0", "y.z", step);
    leaf_string_is(out, "3.1", "x\xc3\xa9", step);
    if (with_maybe) {
      if (leaf_f32(out, "4", m2, 2, step) && (m2[0] != 6.0f || m2[1] != 8.0f)) {
        fail(step, "leaf 4 is [%g, %g], expected [6, 8]", m2[0], m2[1]);
      }
    } else {
      long i4 = leaf(out, "4");
      if (i4 < 0 || ti_outputs_kind(out, (size_t)i4) != TI_KIND_NONE) fail(step, "leaf 4 is not None");
    }
  }
  ti_outputs_free(out);
  ti_inputs_free(in);
}

/*
 * One request of 1-3 rows through `b`: y must be x * 2 + 1 and "rows" hold this request's rows,
 * each the batch's row count (>= this request's rows). With a race (RACE_CANCEL: another thread
 * cancels `opts`; RACE_TIMEOUT: `opts` has a 1 us timeout) the request may be stopped instead:
 * TI_ERR_CANCELLED or TI_ERR_DEADLINE_EXCEEDED respectively is then as good as outputs.
 */
static void batcher_request(ti_batcher_t *b, uint32_t *rng, const ti_run_options_t *opts, int race,
                            const char *step) {
  int64_t rows = 1 + (int64_t)(next_random(rng) % 3);
  float x[3 * BATCH_COLS], y[3 * BATCH_COLS];
  for (int i = 0; i < rows * BATCH_COLS; ++i) x[i] = (float)(next_random(rng) % 1000) - 500.0f;
  const int64_t shape[] = {rows, BATCH_COLS};
  ti_tensor_t *t = f32(x, shape, 2);
  const ti_tensor_t *in[] = {t};
  ti_outputs_t *out = NULL;
  ti_error_t *e = t ? ti_batcher_run(b, NULL, in, 1, opts, &out) : NULL;
  ti_tensor_free(t);
  if (!t) return;
  if (e && race != RACE_NONE &&
      ti_error_code(e) == (race == RACE_CANCEL ? TI_ERR_CANCELLED : TI_ERR_DEADLINE_EXCEEDED)) {
    atomic_fetch_add(&race_outcomes[race][1], 1);
    if (out) fail(step, "a stopped batcher request returned outputs");
    ti_error_free(e);
    return;
  }
  if (!ok(e, step, "ti_batcher_run")) return;
  atomic_fetch_add(&race_outcomes[race][0], 1);
  if (leaf_f32(out, "y", y, (size_t)(rows * BATCH_COLS), step)) {
    for (int i = 0; i < rows * BATCH_COLS; ++i) {
      if (y[i] != x[i] * 2 + 1) {
        fail(step, "y[%d] is %g, expected %g", i, y[i], x[i] * 2 + 1);
        break;
      }
    }
  }
  long ri = leaf(out, "rows");
  int64_t r[3] = {0, 0, 0};
  if (ri < 0 || ti_outputs_dtype(out, (size_t)ri) != TI_DTYPE_INT64 || ti_outputs_ndim(out, (size_t)ri) != 1 ||
      ti_outputs_shape(out, (size_t)ri)[0] != rows ||
      !ok(ti_outputs_copy_to(out, (size_t)ri, r, (size_t)rows * sizeof(int64_t)), step, "rows")) {
    fail(step, "leaf rows: not int64 [%lld]", (long long)rows);
  } else {
    for (int i = 0; i < rows; ++i) {
      if (r[i] < rows || r[i] != r[0]) {
        fail(step, "rows[%d] is %lld for a request of %lld rows", i, (long long)r[i], (long long)rows);
        break;
      }
    }
  }
  ti_outputs_free(out);
}

static void step_batcher(int round, uint32_t *rng) {
  const char *step = "batcher";
  if (round % 3) {
    batcher_request(shared.batcher, rng, NULL, RACE_NONE, step);
    return;
  }
  ti_run_options_t *opts = ti_run_options_create();
  if (round % 2) {
    struct canceller c;
    start_canceller(&c, opts, (long)(next_random(rng) % 300));
    batcher_request(shared.batcher, rng, opts, RACE_CANCEL, step);
    pthread_join(c.thread, NULL);
  } else {
    ok(ti_run_options_set_timeout_us(opts, 1), step, "set_timeout_us");
    batcher_request(shared.batcher, rng, opts, RACE_TIMEOUT, step);
  }
  ti_run_options_free(opts);
}

static void step_errors(void) {
  const char *step = "errors";
  float neg[2] = {-1.0f, -2.0f};
  const int64_t shape[] = {2};
  ti_tensor_t *t = f32(neg, shape, 1);
  const ti_tensor_t *in[] = {t, t};
  ti_outputs_t *out = NULL;
  if (t) {
    fails_with(ti_model_predict(shared.faulty, in, 1, &out), TI_ERR_RUNTIME, step, "faulty.pt raising");
    fails_with(ti_model_predict(shared.faulty, in, 2, &out), TI_ERR_INVALID_ARGUMENT, step, "two inputs for one");
    if (out) fail(step, "a failed call left outputs");
  }
  ti_tensor_free(t);
  ti_model_t *m = NULL;
  char *p = path_of("no-such-model.pt");
  fails_with(ti_model_load(p, NULL, &m), TI_ERR_NOT_FOUND, step, "loading a missing file");
  free(p);
  if (m) fail(step, "a failed load left a model");
}

/* ---------------------------------------------------------------------------------------- */
/* Workers and the main thread                                                               */
/* ---------------------------------------------------------------------------------------- */

static void *worker(void *arg) {
  int id = (int)(intptr_t)arg;
  uint32_t rng = 2463534242u + 7919u * (uint32_t)id;
  for (int r = 0; r < cfg.rounds; ++r) {
    int s = cfg.steps[(id + r) % cfg.n_steps];
    switch (s) {
      case STEP_LOAD: step_load(r, &rng); break;
      case STEP_PREDICT: step_predict(&rng); break;
      case STEP_CANCEL: step_cancel(r); break;
      case STEP_TIMEOUT: step_timeout(); break;
      case STEP_INPUTS: step_inputs(r, &rng); break;
      case STEP_BATCHER: step_batcher(r, &rng); break;
      case STEP_ERRORS: step_errors(); break;
    }
    atomic_fetch_add(&step_count[s], 1);
    atomic_fetch_add(&rounds_done, 1);
  }
  return NULL;
}

/* The resident set size in bytes, and in `*anon` its anonymous part (resident - shared). */
static long rss_bytes(long *anon) {
  long size = 0, resident = 0, shared = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  *anon = -1;
  if (!f) return -1;
  int n = fscanf(f, "%ld %ld %ld", &size, &resident, &shared);
  fclose(f);
  if (n != 3) return -1;
  *anon = (resident - shared) * sysconf(_SC_PAGESIZE);
  return resident * sysconf(_SC_PAGESIZE);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mib(long bytes) { return (double)bytes / (1024.0 * 1024.0); }

static void setup(void) {
  ok(ti_set_num_threads(1), "setup", "ti_set_num_threads");
  shared.mlp = load_or_die("mlp.pt");
  shared.named = load_or_die("named.pt");
  shared.slow = load_or_die("slow.pt");
  if (enabled(STEP_INPUTS)) shared.values = load_or_die("values.pt");
  if (enabled(STEP_BATCHER)) shared.batch_rows = load_or_die("batch_rows.pt");
  shared.faulty = load_or_die("faulty.pt");
  shared.mlp_bytes = read_whole("mlp.pt", &shared.mlp_len);
  for (int i = 0; i < MLP_IN; ++i) shared.mlp_x[i] = 0.1f * (float)i - 0.7f;

  const int64_t shape[] = {1, MLP_IN};
  ti_tensor_t *x = f32(shared.mlp_x, shape, 2);
  const ti_tensor_t *in[] = {x};
  ti_outputs_t *out = NULL;
  if (!x || !ok(ti_model_predict(shared.mlp, in, 1, &out), "setup", "mlp reference") ||
      !leaf_f32(out, "0", shared.mlp_ref, MLP_OUT, "setup")) {
    exit(1);
  }
  ti_outputs_free(out);
  ti_tensor_free(x);

  if (!enabled(STEP_BATCHER)) return;
  ti_batcher_options_t *o = ti_batcher_options_create();
  if (!ok(ti_batcher_options_set_max_batch(o, 8), "setup", "set_max_batch") ||
      !ok(ti_batcher_options_set_max_delay_us(o, 500), "setup", "set_max_delay_us") ||
      !ok(ti_batcher_options_set_workers(o, 2), "setup", "set_workers") ||
      !ok(ti_batcher_create(shared.batch_rows, NULL, o, &shared.batcher), "setup", "ti_batcher_create")) {
    exit(1);
  }
  ti_batcher_options_free(o);
}

static void teardown(void) {
  ti_batcher_free(shared.batcher);
  ti_model_free(shared.mlp);
  ti_model_free(shared.named);
  ti_model_free(shared.slow);
  ti_model_free(shared.values);
  ti_model_free(shared.batch_rows);
  ti_model_free(shared.faulty);
  free(shared.mlp_bytes);
}

static void usage(void) {
  fprintf(stderr,
          "usage: ti_soak --models DIR [--threads N (4)] [--rounds R per thread (200)]\n"
          "               [--rss-bound PERCENT (10)] [--report-ms MS (5000)] [--steps S,S,... (all)]\n"
          "steps: load predict cancel timeout inputs batcher errors\n"
          "DIR holds mlp.pt, named.pt, slow.pt, values.pt, batch_rows.pt and faulty.pt\n"
          "(tests/models/make_models.py; BUILD/models).\n");
  exit(2);
}

static void parse_steps(const char *list) {
  const char *p = list;
  while (*p) {
    size_t n = strcspn(p, ",");
    int found = -1;
    for (int s = 0; s < STEPS; ++s) {
      if (strlen(step_names[s]) == n && strncmp(p, step_names[s], n) == 0) found = s;
    }
    if (found < 0 || enabled(found) || cfg.n_steps == STEPS) usage();
    cfg.steps[cfg.n_steps++] = found;
    p += n;
    if (*p == ',') ++p;
  }
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) usage();
    if (strcmp(a, "--models") == 0) cfg.models = v;
    else if (strcmp(a, "--threads") == 0) cfg.threads = atoi(v);
    else if (strcmp(a, "--rounds") == 0) cfg.rounds = atoi(v);
    else if (strcmp(a, "--rss-bound") == 0) cfg.rss_bound_pct = atof(v);
    else if (strcmp(a, "--report-ms") == 0) cfg.report_ms = atoi(v);
    else if (strcmp(a, "--steps") == 0) parse_steps(v);
    else usage();
    ++i;
  }
  if (cfg.n_steps == 0) {
    for (int s = 0; s < STEPS; ++s) cfg.steps[cfg.n_steps++] = s;
  }
  if (!cfg.models || cfg.threads < 1 || cfg.threads > 256 || cfg.rounds < cfg.n_steps || cfg.report_ms < 1) usage();

  printf("soak: libtorchinfer %s, LibTorch %s; %d threads x %d rounds; RSS bound %.1f%%\n", ti_version(),
         ti_torch_version(), cfg.threads, cfg.rounds, cfg.rss_bound_pct);
  printf("soak: steps:");
  for (int i = 0; i < cfg.n_steps; ++i) printf(" %s", step_names[cfg.steps[i]]);
  printf("\n");
  fflush(stdout);
  double t0 = now_s();
  setup();
  long anon_setup;
  long rss_setup = rss_bytes(&anon_setup);

  pthread_t *threads = calloc((size_t)cfg.threads, sizeof *threads);
  for (int i = 0; i < cfg.threads; ++i) {
    if (pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i) != 0) {
      fprintf(stderr, "soak: pthread_create failed\n");
      return 1;
    }
  }

  /* Anonymous RSS samples with the share of the rounds done when each was taken. */
  static long sample_rss[MAX_SAMPLES];
  static double sample_done[MAX_SAMPLES];
  size_t samples = 0;
  long total = (long)cfg.threads * cfg.rounds;
  double next_report = now_s();
  for (;;) {
    long done = atomic_load(&rounds_done);
    long anon;
    long rss = rss_bytes(&anon);
    if (samples < MAX_SAMPLES) {
      sample_rss[samples] = anon;
      sample_done[samples] = (double)done / (double)total;
      ++samples;
    }
    if (now_s() >= next_report || done == total) {
      printf("soak: %6.1f s  rounds %ld/%ld  RSS %.1f MiB (anonymous %.1f MiB)  live handles %lld  failures %ld\n",
             now_s() - t0, done, total, mib(rss), mib(anon), (long long)ti_live_handles(), atomic_load(&failures));
      fflush(stdout);
      next_report += cfg.report_ms / 1000.0;
    }
    if (done == total) break;
    sleep_us(50000);
  }
  for (int i = 0; i < cfg.threads; ++i) pthread_join(threads[i], NULL);
  free(threads);

  /* Warm-up is the first quarter of the rounds; flat means the last quarter's peak is within
   * the bound of the second quarter's peak. */
  long warm = 0, end = 0;
  double warm_done = 0.0;
  for (size_t i = 0; i < samples; ++i) {
    if (sample_done[i] >= 0.25 && sample_done[i] < 0.5 && sample_rss[i] > warm) {
      warm = sample_rss[i];
      warm_done = sample_done[i];
    }
    if (sample_done[i] >= 0.75 && sample_rss[i] > end) end = sample_rss[i];
  }
  int rss_failed = 0;
  double growth = 0.0;
  if (warm <= 0 || end <= 0) {
    printf("soak: too few RSS samples for the growth check (a run this short measures nothing: raise --rounds)\n");
    rss_failed = 1;
  } else {
    growth = 100.0 * (double)(end - warm) / (double)warm;
    rss_failed = growth > cfg.rss_bound_pct;
  }

  long anon_before_free;
  long rss_before_free = rss_bytes(&anon_before_free);
  teardown();
  int64_t live = ti_live_handles();
  double elapsed = now_s() - t0;

  printf("soak: steps:");
  for (int s = 0; s < STEPS; ++s) printf(" %s %ld", step_names[s], atomic_load(&step_count[s]));
  printf("\nsoak: batcher requests: %ld plain; cancelled after 0-300 us: %ld answered, %ld cancelled; "
         "1 us timeout: %ld answered, %ld past their deadline\n",
         atomic_load(&race_outcomes[RACE_NONE][0]), atomic_load(&race_outcomes[RACE_CANCEL][0]),
         atomic_load(&race_outcomes[RACE_CANCEL][1]), atomic_load(&race_outcomes[RACE_TIMEOUT][0]),
         atomic_load(&race_outcomes[RACE_TIMEOUT][1]));
  printf("soak: RSS after setup %.1f MiB (anonymous %.1f MiB), before teardown %.1f MiB (anonymous %.1f MiB)\n",
         mib(rss_setup), mib(anon_setup), mib(rss_before_free), mib(anon_before_free));
  printf("soak: anonymous RSS: peak of 2nd quarter %.1f MiB, peak of last quarter %.1f MiB (%+.1f%%, bound %.1f%%); "
         "%zu samples\n",
         mib(warm), mib(end), growth, cfg.rss_bound_pct, samples);
  if (warm > 0 && end > 0) {
    /* The same growth per 1000 rounds, for comparing runs of different lengths. */
    printf("soak: anonymous RSS growth after warm-up: %+.1f KiB per 1000 rounds\n",
           (double)(end - warm) / 1024.0 / ((1.0 - warm_done) * (double)total / 1000.0));
  }
  printf("soak: live handles at the end: %lld\n", (long long)live);
  printf("soak: %ld failures, %.1f s\n", atomic_load(&failures), elapsed);

  int status = 0;
  if (atomic_load(&failures) != 0) status = 1;
  if (live != 0) {
    printf("soak: FAIL: %lld handles still live\n", (long long)live);
    status = 1;
  }
  if (rss_failed) {
    printf("soak: FAIL: RSS grew %.1f%% after warm-up (bound %.1f%%)\n", growth, cfg.rss_bound_pct);
    status = 1;
  }
  printf("soak: %s\n", status ? "FAILED" : "passed");
  return status;
}
