// Package cbench is the C side of the binding's benchmark: the same
// predict + copy-out loop as BenchmarkPredict, written in C against
// the C API, so that the difference between the two is the cost of the Go
// binding (cgo transitions, handle bookkeeping, allocations).
//
// cgo may not be used in _test.go files, hence this internal package.
package cbench

/*
#cgo nocallback bench_once
#include <stdlib.h>
#include "torchinfer.h"

typedef struct {
  ti_model_t *model;
  ti_tensor_t *input;
  float out[64];
} bench_t;

static ti_error_t *bench_open(const char *path, bench_t **out) {
  *out = NULL;
  bench_t *b = (bench_t *)calloc(1, sizeof(bench_t));
  if (b == NULL) return NULL;
  ti_error_t *e = ti_model_load(path, NULL, &b->model);
  if (e != NULL) { free(b); return e; }
  float x[16];
  for (int i = 0; i < 16; i++) x[i] = (float)i / 16.0f - 0.5f;
  int64_t shape[2] = {1, 16};
  e = ti_tensor_create(TI_DTYPE_FLOAT32, shape, 2, x, sizeof x, &b->input);
  if (e != NULL) { ti_model_free(b->model); free(b); return e; }
  *out = b;
  return NULL;
}

// One iteration: predict, copy leaf 0 out without a tensor handle, free the outputs.
static ti_error_t *bench_once(bench_t *b) {
  ti_outputs_t *outs = NULL;
  ti_error_t *e = ti_model_predict(b->model, (const ti_tensor_t *const *)&b->input, 1, &outs);
  if (e == NULL) e = ti_outputs_copy_to(outs, 0, b->out, ti_outputs_nbytes(outs, 0));
  ti_outputs_free(outs);
  return e;
}

// One iteration the older way: predict, take leaf 0 as a tensor handle, copy it out, free both.
static ti_error_t *bench_once_get(bench_t *b) {
  ti_outputs_t *outs = NULL;
  ti_tensor_t *t = NULL;
  ti_error_t *e = ti_model_predict(b->model, (const ti_tensor_t *const *)&b->input, 1, &outs);
  if (e == NULL) e = ti_outputs_get(outs, 0, &t);
  if (e == NULL) e = ti_tensor_copy_to(t, b->out, ti_tensor_nbytes(t));
  ti_tensor_free(t);
  ti_outputs_free(outs);
  return e;
}

static ti_error_t *bench_run(bench_t *b, long n, int get) {
  for (long i = 0; i < n; i++) {
    ti_error_t *e = get ? bench_once_get(b) : bench_once(b);
    if (e != NULL) return e;
  }
  return NULL;
}

static void bench_close(bench_t *b) {
  if (b == NULL) return;
  ti_tensor_free(b->input);
  ti_model_free(b->model);
  free(b);
}

static float bench_out(bench_t *b, int i) { return b->out[i]; }
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Bench holds a model and its [1,16] float32 input, both made in C.
type Bench struct{ b *C.bench_t }

func cerr(e *C.ti_error_t) error {
	if e == nil {
		return nil
	}
	msg := C.GoString(C.ti_code_name(C.ti_error_code(e))) + ": " + C.GoString(C.ti_error_message(e))
	C.ti_error_free(e)
	return errors.New(msg)
}

// Input is the benchmark's input row, as bench_open makes it.
func Input() []float32 {
	x := make([]float32, 16)
	for i := range x {
		x[i] = float32(i)/16 - 0.5
	}
	return x
}

// Open loads the model (e.g. mlp.pt) and makes the input.
func Open(path string) (*Bench, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var b *C.bench_t
	if err := cerr(C.bench_open(cpath, &b)); err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.New("cbench: out of memory")
	}
	return &Bench{b}, nil
}

// Run does n iterations (predict, ti_outputs_copy_to, free) in a single C call.
func (b *Bench) Run(n int) error { return cerr(C.bench_run(b.b, C.long(n), 0)) }

// RunGet does n iterations the way the binding's Get + CopyTo does them
// (predict, ti_outputs_get, ti_tensor_copy_to, two frees) in a single C call.
func (b *Bench) RunGet(n int) error { return cerr(C.bench_run(b.b, C.long(n), 1)) }

// Once does one iteration of Run in its own C call: the C loop plus one cgo
// transition per prediction.
func (b *Bench) Once() error { return cerr(C.bench_once(b.b)) }

// Output is the last copied-out output row (4 values).
func (b *Bench) Output() []float32 {
	out := make([]float32, 4)
	for i := range out {
		out[i] = float32(C.bench_out(b.b, C.int(i)))
	}
	return out
}

// Close frees the model and the input.
func (b *Bench) Close() {
	C.bench_close(b.b)
	b.b = nil
}
