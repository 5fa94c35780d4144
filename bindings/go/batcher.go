package torchinfer

/*
#cgo noescape gti_batcher_run
#include "torchinfer.h"
#include "gti.h"

// ti_batcher_run with the names laid out as for gti_run; it blocks until the request is
// answered.
static gti_run_t gti_batcher_run(uintptr_t b, const char *names_buf, const size_t *offsets,
                                 const uintptr_t *inputs, size_t n, uintptr_t opts) {
  gti_run_t r = {NULL, NULL, 0};
  const char *small[GTI_SMALL_NAMES];
  const char **names = gti_names(names_buf, offsets, n, small);
  if (names_buf != NULL && names == NULL) {
    r.oom = 1;
    return r;
  }
  r.err = ti_batcher_run(GTI_BATCHER(b), names, GTI_INPUTS(inputs), n, GTI_RUN_OPTIONS(opts), &r.out);
  gti_names_free(names, small);
  return r;
}
*/
import "C"

import (
	"context"
	"math"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// BatcherOptions configure NewBatcher. Zero values take the library's
// defaults.
type BatcherOptions struct {
	// Method is the method to run ("" for forward).
	Method string
	// MaxBatch is the most rows in one batched call (default 32). A request
	// with more rows runs alone.
	MaxBatch int
	// MaxDelay is how long a worker waits, from the oldest queued request's
	// arrival, for more rows before it runs a batch that is not full
	// (default 0: no waiting; it batches what queued while the previous
	// batch ran; at most 10 s). Rounded up to whole microseconds.
	MaxDelay time.Duration
	// MaxQueue is the most requests waiting; one more fails at once with an
	// error matching ErrUnavailable (default 1024).
	MaxQueue int
	// Workers is the number of batches run at once, each on a library
	// thread (default 1). On the CPU keep Workers x NumThreads() <= cores.
	Workers int
}

// A Batcher turns many goroutines' small requests (a row or a few each: a
// service's request handlers) into batched calls of one method of a Model:
// requests whose inputs have the same names, dtypes, devices and sizes
// except dimension 0 are concatenated along dimension 0 (the batch
// dimension), run as one call by a library worker thread, and each request
// gets back its own rows. Requests are never padded.
//
// Each request's Outputs are what Model.PredictContext would return for its
// inputs alone: the same leaves and names, its own rows (batched kernels may
// round differently: about 1e-5 relative on float32). A batched call that
// fails, or whose result cannot be split by rows (a scalar leaf, a string),
// is run again request by request, so one bad request fails only itself;
// after a result that cannot be split the Batcher stops batching (the
// library says so once on stderr). Stats tells how many calls were made.
//
// Any number of goroutines may call Predict and PredictNamed at once. A
// Batcher holds its Model: the model's memory is not freed while a Batcher on
// it is open, even after Model.Close (see Model.Close). Close it when done;
// a runtime cleanup frees a forgotten one only as a safety net.
type Batcher struct {
	ptr     *C.ti_batcher_t
	stop    *C.ti_run_options_t // the run options of requests without a context that can be done; Close cancels it
	model   *Model
	cleanup runtime.Cleanup
	method  string

	mu        sync.Mutex
	closed    bool                  // under mu: no new request, Stats answers final
	freed     bool                  // under mu: final holds the last counts
	watchers  map[*watcher]struct{} // under mu: the run options of requests with a context
	final     [2]int64
	inflight  sync.WaitGroup // requests between their start and their end
	closing   atomic.Bool    // closed, readable without mu
	closeOnce sync.Once
}

// batcherHandle is what the cleanup of a Batcher frees.
type batcherHandle struct {
	ptr   *C.ti_batcher_t
	stop  *C.ti_run_options_t
	model *Model
}

func freeBatcher(h batcherHandle) {
	C.ti_batcher_free(h.ptr)
	C.ti_run_options_free(h.stop)
	h.model.release()
}

// NewBatcher starts a Batcher for opts.Method of m. Errors match ErrClosed
// (m is nil or closed), ErrNotFound (no such method) or ErrInvalidArgument
// (an option out of range, a method without tensor arguments, a .pt2 input
// whose batch dimension is static, a method name with a NUL byte).
func NewBatcher(m *Model, opts BatcherOptions) (*Batcher, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	b, err := newBatcher(m, opts)
	if err != nil {
		m.release()
		return nil, err
	}
	return b, nil // b holds m's acquire until it is freed
}

func newBatcher(m *Model, opts BatcherOptions) (*Batcher, error) {
	var cmethod []byte
	if opts.Method != "" {
		var err error
		if cmethod, err = cString(opts.Method, "NewBatcher: method name"); err != nil {
			return nil, err
		}
	}
	if opts.Workers > math.MaxInt32 || opts.Workers < math.MinInt32 {
		return nil, argError("NewBatcher: Workers " + strconv.Itoa(opts.Workers) + " out of range")
	}
	o := C.ti_batcher_options_create()
	if o == nil {
		return nil, &Error{Code: CodeOutOfMemory, Message: "ti_batcher_options_create failed"}
	}
	defer C.ti_batcher_options_free(o)
	var e *C.ti_error_t
	if opts.MaxBatch != 0 {
		e = C.ti_batcher_options_set_max_batch(o, C.int64_t(opts.MaxBatch))
	}
	if e == nil && opts.MaxDelay != 0 {
		us := int64(opts.MaxDelay / time.Microsecond)
		if opts.MaxDelay%time.Microsecond > 0 {
			us++ // rounded up: a positive delay never becomes 0 (no waiting)
		}
		e = C.ti_batcher_options_set_max_delay_us(o, C.int64_t(us))
	}
	if e == nil && opts.MaxQueue != 0 {
		e = C.ti_batcher_options_set_max_queue(o, C.int64_t(opts.MaxQueue))
	}
	if e == nil && opts.Workers != 0 {
		e = C.ti_batcher_options_set_workers(o, C.int(opts.Workers))
	}
	if e != nil {
		return nil, toError(e)
	}
	stop := C.ti_run_options_create()
	if stop == nil {
		return nil, &Error{Code: CodeOutOfMemory, Message: "ti_run_options_create failed"}
	}
	var p *C.ti_batcher_t
	var cm *C.char
	if cmethod != nil {
		cm = (*C.char)(unsafe.Pointer(&cmethod[0]))
	}
	e = C.ti_batcher_create(m.ptr, cm, o, &p)
	runtime.KeepAlive(cmethod)
	runtime.KeepAlive(m)
	if e != nil {
		C.ti_run_options_free(stop)
		return nil, toError(e)
	}
	b := &Batcher{ptr: p, stop: stop, model: m, method: opts.Method, watchers: map[*watcher]struct{}{}}
	b.cleanup = runtime.AddCleanup(b, freeBatcher, batcherHandle{p, stop, m})
	return b, nil
}

// Predict queues one request with positional inputs, whose dimension 0 is
// the batch dimension (1 or more rows, the same in every input), and waits
// for its own outputs. ctx bounds the request as in Model.PredictContext: a
// request whose ctx is done while it is queued leaves the queue and returns
// at once; if its batch is already running it returns at once and its rows
// are dropped (the batch runs on for the other requests). Errors as
// Model.PredictContext, plus ErrUnavailable (the queue is full, or the
// Batcher was closed while the request waited), ErrInvalidArgument (an input
// without a batch dimension, inputs with different numbers of rows) and
// ErrClosed (the Batcher, or an input, is closed or nil).
func (b *Batcher) Predict(ctx context.Context, inputs ...*Tensor) (*Outputs, error) {
	if !b.enter() {
		return nil, closedError("batcher")
	}
	defer b.inflight.Done()
	if ctx == nil {
		return nil, argError("Batcher.Predict: nil context")
	}
	return b.run(ctx, nil, nil, inputs)
}

// PredictNamed is Predict with inputs matched to the method's argument names,
// in any order. Errors as Predict and Model.PredictNamed.
func (b *Batcher) PredictNamed(ctx context.Context, inputs map[string]*Tensor) (*Outputs, error) {
	if !b.enter() {
		return nil, closedError("batcher")
	}
	defer b.inflight.Done()
	if ctx == nil {
		return nil, argError("Batcher.PredictNamed: nil context")
	}
	buf, offsets, tensors, err := namedInputs("Batcher.PredictNamed", inputs)
	if err != nil {
		return nil, err
	}
	return b.run(ctx, buf, offsets, tensors)
}

// enter registers a request; false once the Batcher is closed (or nil).
func (b *Batcher) enter() bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.inflight.Add(1)
	return true
}

// run is one request on an entered Batcher.
func (b *Batcher) run(ctx context.Context, names []byte, offsets []C.size_t, inputs []*Tensor) (*Outputs, error) {
	var small [8]C.uintptr_t
	ptrs := inputPtrs(&small, len(inputs))
	if err := acquireInputs(ptrs, inputs); err != nil {
		return nil, err
	}
	defer releaseInputs(inputs)

	opts := b.stop
	if ctx.Done() != nil {
		w, err := watch(ctx)
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		if b.closed { // Close has cancelled the watchers it saw: this one fails at once
			C.ti_run_options_cancel(w.opts)
		} else {
			b.watchers[w] = struct{}{}
		}
		b.mu.Unlock()
		defer func() {
			b.mu.Lock()
			delete(b.watchers, w) // before stop frees the options Close may cancel
			b.mu.Unlock()
			w.stop()
		}()
		opts = w.opts
	}

	var cnames *C.char
	if names != nil {
		cnames = (*C.char)(unsafe.Pointer(unsafe.SliceData(names)))
	}
	r := C.gti_batcher_run(handle(unsafe.Pointer(b.ptr)), cnames, unsafe.SliceData(offsets), unsafe.SliceData(ptrs),
		C.size_t(len(ptrs)), handle(unsafe.Pointer(opts)))
	runtime.KeepAlive(b)
	runtime.KeepAlive(names)
	runtime.KeepAlive(offsets)
	runtime.KeepAlive(ptrs)
	if r.oom != 0 {
		return nil, &Error{Code: CodeOutOfMemory, Message: "out of memory for the input names"}
	}
	if r.err == nil {
		return newOutputs(r.out), nil
	}
	err := toError(r.err)
	if e := err.(*Error); e.Code == CodeCancelled && ctx.Err() == nil && b.closing.Load() {
		return nil, &Error{Code: CodeUnavailable, Message: "the Batcher was closed before the request was answered (" + e.Message + ")"}
	}
	if opts != b.stop {
		err = stoppedByContext(ctx, err)
	}
	return nil, err
}

// Stats are the counts since the Batcher started: requests answered (with
// outputs or an error) and model calls made for them (batched or single);
// requests / batches is the mean batch size in requests. After Close they
// are the final counts; zeros for a nil *Batcher.
func (b *Batcher) Stats() (requests, batches int64) {
	if b == nil {
		return 0, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.freed {
		return b.final[0], b.final[1]
	}
	var r, n C.int64_t
	C.ti_batcher_stats(b.ptr, &r, &n)
	runtime.KeepAlive(b)
	return int64(r), int64(n)
}

// Method is the method the Batcher runs ("" for forward); it keeps
// answering after Close.
func (b *Batcher) Method() string {
	if b == nil {
		return ""
	}
	return b.method
}

// Close stops the Batcher, in this order: new requests fail with ErrClosed;
// every request not yet answered, queued or in a running batch, returns at
// once with an error matching ErrUnavailable (a running batch stops once
// all its requests have); Close waits for those requests to return and for
// the library's workers to end, then frees the Batcher and lets go of its
// Model. It is idempotent (a concurrent Close waits for the first) and
// always returns nil, also for a nil *Batcher.
func (b *Batcher) Close() error {
	if b == nil {
		return nil
	}
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.closing.Store(true)
		C.ti_run_options_cancel(b.stop)
		for w := range b.watchers {
			C.ti_run_options_cancel(w.opts)
		}
		b.mu.Unlock()
		b.cleanup.Stop()
		// Every request that entered has its options cancelled, so it
		// returns promptly; none calls ti_batcher_run after this, so the
		// free below cannot race with one (the C API's rule).
		b.inflight.Wait()
		b.mu.Lock()
		var r, n C.int64_t
		C.ti_batcher_stats(b.ptr, &r, &n)
		b.final = [2]int64{int64(r), int64(n)}
		b.freed = true
		b.mu.Unlock()
		freeBatcher(batcherHandle{b.ptr, b.stop, b.model})
	})
	return nil
}
