package torchinfer

/*
#cgo noescape ti_model_load
#cgo nocallback ti_model_load
#cgo noescape ti_model_load_buffer
#cgo nocallback ti_model_load_buffer
#cgo noescape gti_run
#cgo nocallback gti_run
#cgo nocallback ti_run_options_create
#cgo nocallback ti_run_options_free
#cgo nocallback ti_run_options_set_timeout_us
#cgo nocallback ti_run_options_cancel
#include <stdlib.h>
#include "torchinfer.h"
#include "gti.h"

// ti_model_run. names_buf, when not NULL, holds n NUL-terminated input names at
// the given offsets (see gti_names). oom is set when the name array cannot be
// allocated (the model is then not called).
static gti_run_t gti_run(uintptr_t m, const char *method, const char *names_buf,
                         const size_t *offsets, const uintptr_t *inputs, size_t n, uintptr_t opts) {
  gti_run_t r = {NULL, NULL, 0};
  const char *small[GTI_SMALL_NAMES];
  const char **names = gti_names(names_buf, offsets, n, small);
  if (names_buf != NULL && names == NULL) {
    r.oom = 1;
    return r;
  }
  r.err = ti_model_run(GTI_MODEL(m), method, names, GTI_INPUTS(inputs), n, GTI_RUN_OPTIONS(opts), &r.out);
  gti_names_free(names, small);
  return r;
}
*/
import "C"

import (
	"context"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// Model is a loaded TorchScript module or AOTInductor package (see Format).
// Any number of goroutines may call its methods at the same time. Close it
// when done.
type Model struct {
	ptr        *C.ti_model_t
	ref        ref
	cleanup    runtime.Cleanup
	device     string
	format     string
	inputs     []string
	inputTypes []string
	methods    []string
	schemas    map[string]string // by method name; "" is forward
}

// Option configures Load and LoadBytes.
type Option func(*loadConfig)

type loadConfig struct {
	device      string
	allowNative *bool // nil: the library's default (allowed)
}

// WithDevice loads the model onto "cpu" (the default), "cuda" (the current
// CUDA device) or "cuda:N". A device that is not present fails the load with
// an error matching ErrDevice; there is no fallback to the CPU. A device
// string with a NUL byte fails the load with ErrInvalidArgument.
func WithDevice(device string) Option {
	return func(c *loadConfig) { c.device = device }
}

// WithAllowNativeCode says whether loading may run native code (default
// true). An AOTInductor .pt2 package is a shared library that runs in this
// process when it loads; with false, only interpreted formats (TorchScript)
// load, and a .pt2 fails with an error matching ErrUnsupported before
// anything from it is written to disk or mapped. Use false in a service that
// loads models its users upload.
func WithAllowNativeCode(allow bool) Option {
	return func(c *loadConfig) { c.allowNative = &allow }
}

// Load loads a TorchScript archive (torch.jit.save) or an AOTInductor .pt2
// package from a file; Format says which. The model is in eval mode. Errors
// match ErrNotFound (no such file), ErrModelFormat (not a loadable archive),
// ErrDevice, ErrInvalidArgument (among others: a path with a NUL byte) or
// ErrOutOfMemory.
func Load(path string, opts ...Option) (*Model, error) {
	cpath, err := cString(path, "Load: path")
	if err != nil {
		return nil, err
	}
	return load(opts, func(o *C.ti_load_options_t, out **C.ti_model_t) *C.ti_error_t {
		e := C.ti_model_load((*C.char)(unsafe.Pointer(&cpath[0])), o, out)
		runtime.KeepAlive(cpath)
		return e
	})
}

// LoadBytes loads a TorchScript archive or .pt2 package from memory. data is
// copied by the library and may be reused as soon as LoadBytes returns.
// Errors as Load, without ErrNotFound.
func LoadBytes(data []byte, opts ...Option) (*Model, error) {
	return load(opts, func(o *C.ti_load_options_t, out **C.ti_model_t) *C.ti_error_t {
		e := C.ti_model_load_buffer(unsafe.Pointer(unsafe.SliceData(data)), C.size_t(len(data)), o, out)
		runtime.KeepAlive(data)
		return e
	})
}

func load(opts []Option, do func(*C.ti_load_options_t, **C.ti_model_t) *C.ti_error_t) (*Model, error) {
	var cfg loadConfig
	for _, o := range opts {
		o(&cfg)
	}
	var cdev []byte
	if cfg.device != "" {
		var err error
		if cdev, err = cString(cfg.device, "WithDevice: device"); err != nil {
			return nil, err
		}
	}
	var copts *C.ti_load_options_t
	if cdev != nil || cfg.allowNative != nil {
		copts = C.ti_load_options_create()
		if copts == nil {
			return nil, &Error{Code: CodeOutOfMemory, Message: "ti_load_options_create failed"}
		}
		defer C.ti_load_options_free(copts)
	}
	if cdev != nil {
		err := toError(C.ti_load_options_set_device(copts, (*C.char)(unsafe.Pointer(&cdev[0]))))
		runtime.KeepAlive(cdev)
		if err != nil {
			return nil, err
		}
	}
	if cfg.allowNative != nil {
		allow := C.int(0)
		if *cfg.allowNative {
			allow = 1
		}
		if err := toError(C.ti_load_options_set_allow_native_code(copts, allow)); err != nil {
			return nil, err
		}
	}
	var p *C.ti_model_t
	if err := toError(do(copts, &p)); err != nil {
		return nil, err
	}
	m := &Model{ptr: p, device: C.GoString(C.ti_model_device(p)), format: C.GoString(C.ti_model_format(p))}
	for i, n := 0, int(C.ti_model_input_count(p)); i < n; i++ {
		m.inputs = append(m.inputs, C.GoString(C.ti_model_input_name(p, C.size_t(i))))
		m.inputTypes = append(m.inputTypes, C.GoString(C.ti_model_input_type(p, C.size_t(i))))
	}
	m.schemas = map[string]string{"": C.GoString(C.ti_model_method_schema(p, nil))}
	for i, n := 0, int(C.ti_model_method_count(p)); i < n; i++ {
		name := C.ti_model_method_name(p, C.size_t(i))
		m.methods = append(m.methods, C.GoString(name))
		m.schemas[m.methods[i]] = C.GoString(C.ti_model_method_schema(p, name))
	}
	if m.format == "aotinductor" { // the package's default model also answers to "model"
		if s := C.ti_model_method_schema(p, modelAlias); s != nil {
			m.schemas["model"] = C.GoString(s)
		}
	}
	m.cleanup = runtime.AddCleanup(m, freeModel, p)
	return m, nil
}

var modelAlias = C.CString("model") // never freed: one per process

func freeModel(p *C.ti_model_t) { C.ti_model_free(p) }

// LoadOpLibrary loads a shared library that registers TorchScript operators
// (torchvision's _C extension, torchaudio, torch-scatter, your own), as
// torch.ops.load_library does in Python: load it before the models that use
// its operators. It stays loaded for the life of the process; loading the
// same file again does nothing. Safe to call from any goroutine. A model
// whose operators are not registered fails to load with an error matching
// ErrModelFormat that names the operator. Errors match ErrNotFound (no such
// file), ErrRuntime (the loader refused it; the message is the loader's, e.g.
// a library built against another LibTorch) or ErrInvalidArgument (a path
// with a NUL byte).
func LoadOpLibrary(path string) error {
	cpath, err := cString(path, "LoadOpLibrary: path")
	if err != nil {
		return err
	}
	e := C.ti_op_library_load((*C.char)(unsafe.Pointer(&cpath[0])))
	runtime.KeepAlive(cpath)
	return toError(e)
}

// Close frees the model. It is idempotent and safe to call while other
// goroutines are predicting: those calls finish normally, the memory is freed
// when the last one returns, and later calls fail with ErrClosed. An open
// Batcher or Inputs made from the model counts as such a call for as long as
// it is open: Close returns at once, the Model refuses new calls (RunInputs
// and NewBatcher included), the Batcher goes on serving, and the memory is
// freed when the last of them is closed. Tensors and Outputs obtained from
// the model stay valid. It always returns nil, also for a nil *Model.
func (m *Model) Close() error {
	if m == nil {
		return nil
	}
	first, freeNow := m.ref.close()
	if first {
		m.cleanup.Stop()
	}
	if freeNow {
		C.ti_model_free(m.ptr)
	}
	return nil
}

func (m *Model) acquire() bool { return m != nil && m.ref.acquire() }

func (m *Model) release() {
	if m.ref.release() {
		C.ti_model_free(m.ptr)
	}
}

// The accessors below answer from what Load read: they keep answering after
// Close, and return nil or "" for a nil *Model.

// Inputs are the names of forward's arguments (without self), in order.
func (m *Model) Inputs() []string {
	if m == nil {
		return nil
	}
	return append([]string(nil), m.inputs...)
}

// InputTypes are the declared types of forward's arguments, in the order of
// Inputs, for display: TorchScript annotations ("Tensor", "Optional[Tensor]",
// "int"), or for a .pt2 input its dtype and sizes with dynamic sizes as
// symbols ("Tensor(float32, [s0, 8])").
func (m *Model) InputTypes() []string {
	if m == nil {
		return nil
	}
	return append([]string(nil), m.inputTypes...)
}

// Methods are the names of the methods RunMethod can call, sorted ("forward" included).
func (m *Model) Methods() []string {
	if m == nil {
		return nil
	}
	return append([]string(nil), m.methods...)
}

// Device is where the model lives, "cpu" or "cuda:N".
func (m *Model) Device() string {
	if m == nil {
		return ""
	}
	return m.device
}

// Format is what was loaded: "torchscript" (a torch.jit.save archive) or
// "aotinductor" (an AOTInductor .pt2 package).
func (m *Model) Format() string {
	if m == nil {
		return ""
	}
	return m.format
}

// Schema is the signature of method ("" for forward) as LibTorch prints it,
// without self, e.g. "forward(Tensor[] images, Dict(str, Tensor)[]?
// targets=None) -> ((Dict(str, Tensor), Dict(str, Tensor)[]))"; for a .pt2
// package, one made from the package's input and output specs. It is "" for
// a method the model does not have. It tells which Go values RunValues takes
// for each argument (see "Structured values" in the package documentation).
func (m *Model) Schema(method string) string {
	if m == nil {
		return ""
	}
	return m.schemas[method]
}

// Predict runs forward with positional inputs in the order of Inputs();
// trailing arguments with defaults may be left out. An argument declared
// int, float or bool takes a one-element tensor (see Scalar). The inputs are
// never modified: a method that writes to an argument in place gets a
// private copy of it. Errors
// match ErrInvalidArgument (wrong count or kind of input, a nil input),
// ErrRuntime (raised by the model; it stays usable), ErrOutOfMemory,
// ErrUnsupported (a result leaf that is not a tensor, number, str or None,
// e.g. an object), ErrDevice, ErrClosed
// (the model or an input is closed).
func (m *Model) Predict(inputs ...*Tensor) (*Outputs, error) {
	return m.run(context.Background(), "Predict", nil, inputs)
}

// PredictContext is Predict bounded by ctx: see "Serving" in the package
// documentation. When ctx is cancelled or its deadline passes during the
// call, the call stops early and its error matches ErrCancelled and
// context.Canceled, or ErrDeadlineExceeded and context.DeadlineExceeded; a
// ctx that is already done fails at once. A ctx that can never be done
// (context.Background()) costs nothing over Predict.
func (m *Model) PredictContext(ctx context.Context, inputs ...*Tensor) (*Outputs, error) {
	return m.run(ctx, "PredictContext", nil, inputs)
}

// PredictNamed runs forward with inputs matched to its argument names, in any
// order; arguments with defaults may be omitted. Unknown or missing names give
// an error matching ErrInvalidArgument that lists the valid names, as does a
// name with a NUL byte; otherwise errors as Predict.
func (m *Model) PredictNamed(inputs map[string]*Tensor) (*Outputs, error) {
	return m.runNamed(context.Background(), "PredictNamed", nil, inputs)
}

// PredictNamedContext is PredictNamed bounded by ctx, as PredictContext.
func (m *Model) PredictNamedContext(ctx context.Context, inputs map[string]*Tensor) (*Outputs, error) {
	return m.runNamed(ctx, "PredictNamedContext", nil, inputs)
}

// RunMethod runs another method of the model (one exported with
// @torch.jit.export, or "forward") with positional inputs. Errors as Predict,
// plus ErrNotFound when the model has no such method (ErrInvalidArgument for
// a name with a NUL byte).
func (m *Model) RunMethod(method string, inputs ...*Tensor) (*Outputs, error) {
	return m.run(context.Background(), "RunMethod", &method, inputs)
}

// RunMethodContext is RunMethod bounded by ctx, as PredictContext.
func (m *Model) RunMethodContext(ctx context.Context, method string, inputs ...*Tensor) (*Outputs, error) {
	return m.run(ctx, "RunMethodContext", &method, inputs)
}

// RunMethodNamed runs another method of the model (or "forward") with inputs
// matched to that method's argument names, in any order; arguments with
// defaults may be omitted. Errors as PredictNamed, plus ErrNotFound when the
// model has no such method.
func (m *Model) RunMethodNamed(method string, inputs map[string]*Tensor) (*Outputs, error) {
	return m.runNamed(context.Background(), "RunMethodNamed", &method, inputs)
}

// RunMethodNamedContext is RunMethodNamed bounded by ctx, as PredictContext.
func (m *Model) RunMethodNamedContext(ctx context.Context, method string, inputs map[string]*Tensor) (*Outputs, error) {
	return m.runNamed(ctx, "RunMethodNamedContext", &method, inputs)
}

// run is every positional call: method nil runs forward; what names the
// public method in argument errors. The checks go in the order of the
// package documentation: closed model, arguments, inputs, ctx.
func (m *Model) run(ctx context.Context, what string, method *string, inputs []*Tensor) (*Outputs, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	defer m.release()
	cmethod, err := callArgs(ctx, what, method)
	if err != nil {
		return nil, err
	}
	return m.invoke(ctx, cmethod, nil, nil, inputs, what, nil)
}

// callArgs checks the context and converts the method name (nil: forward), for run and
// runNamed, after the model was acquired.
func callArgs(ctx context.Context, what string, method *string) ([]byte, error) {
	if ctx == nil {
		return nil, argError(what + ": nil context")
	}
	if method == nil {
		return nil, nil
	}
	return cString(*method, what+": method name")
}

// runNamed is every named call, as run.
func (m *Model) runNamed(ctx context.Context, what string, method *string, inputs map[string]*Tensor) (*Outputs, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	defer m.release()
	cmethod, err := callArgs(ctx, what, method)
	if err != nil {
		return nil, err
	}
	buf, offsets, tensors, err := namedInputs(what, inputs)
	if err != nil {
		return nil, err
	}
	return m.invoke(ctx, cmethod, buf, offsets, tensors, what, nil)
}

// namedInputs lays out named inputs for the gti_ helpers: buf holds the
// NUL-terminated names (sorted, so errors do not depend on map order) at
// offsets, tensors the inputs in the same order.
func namedInputs(what string, inputs map[string]*Tensor) (buf []byte, offsets []C.size_t, tensors []*Tensor, err error) {
	names := make([]string, 0, len(inputs))
	size := 0
	for k := range inputs {
		if strings.IndexByte(k, 0) >= 0 {
			return nil, nil, nil, argError(what + ": input name " + strconv.Quote(k) + " contains a NUL byte")
		}
		names = append(names, k)
		size += len(k) + 1
	}
	sort.Strings(names)
	buf = make([]byte, 0, max(size, 1))
	offsets = make([]C.size_t, len(names))
	tensors = make([]*Tensor, len(names))
	for i, k := range names {
		if inputs[k] == nil {
			return nil, nil, nil, argError(what + ": input " + strconv.Quote(k) + " is a nil *Tensor")
		}
		offsets[i] = C.size_t(len(buf))
		buf = append(buf, k...)
		buf = append(buf, 0)
		tensors[i] = inputs[k]
	}
	return buf, offsets, tensors, nil
}

// invoke makes the C call on the acquired model: method is NUL-terminated
// (nil: forward); names, when not nil, holds the NUL-terminated input names
// at offsets. It acquires the inputs for the call, and run options when ctx
// can be done.
//
// With into not nil (PredictInto: forward, positional), leaf 0 of the result
// is copied to into in the same C call and no Outputs are made.
func (m *Model) invoke(ctx context.Context, method, names []byte, offsets []C.size_t, inputs []*Tensor,
	what string, into *leafDst) (*Outputs, error) {
	var small [8]C.uintptr_t
	ptrs := inputPtrs(&small, len(inputs))
	if err := acquireInputs(ptrs, inputs); err != nil {
		return nil, err
	}
	defer releaseInputs(inputs)

	var opts *C.ti_run_options_t
	if ctx.Done() != nil { // otherwise ctx is never done: no options, no watcher
		w, err := watch(ctx)
		if err != nil {
			return nil, err
		}
		defer w.stop()
		opts = w.opts
	}

	if into != nil {
		err := m.callInto(what, into, ptrs, opts)
		if err != nil && opts != nil {
			err = stoppedByContext(ctx, err)
		}
		return nil, err
	}

	var cmethod, cnames *C.char
	if method != nil {
		cmethod = (*C.char)(unsafe.Pointer(&method[0]))
	}
	if names != nil {
		cnames = (*C.char)(unsafe.Pointer(unsafe.SliceData(names)))
	}
	r := C.gti_run(handle(unsafe.Pointer(m.ptr)), cmethod, cnames, unsafe.SliceData(offsets), unsafe.SliceData(ptrs),
		C.size_t(len(ptrs)), handle(unsafe.Pointer(opts)))
	runtime.KeepAlive(m)
	runtime.KeepAlive(method)
	runtime.KeepAlive(names)
	runtime.KeepAlive(offsets)
	runtime.KeepAlive(ptrs)
	if r.oom != 0 {
		return nil, &Error{Code: CodeOutOfMemory, Message: "out of memory for the input names"}
	}
	if r.err != nil {
		err := toError(r.err)
		if opts != nil {
			err = stoppedByContext(ctx, err)
		}
		return nil, err
	}
	return newOutputs(r.out), nil
}

// watcher ties run options to a context for one call: it cancels the options
// when ctx is done, and stop frees them once the callback can no longer run.
type watcher struct {
	opts   *C.ti_run_options_t
	off    func() bool   // context.AfterFunc's stop
	called chan struct{} // closed by the callback after it cancelled opts
}

// watch makes the run options of one call under ctx: its deadline becomes
// the options' timeout, its cancellation their cancel switch. A ctx that is
// already done fails without making anything.
func watch(ctx context.Context) (*watcher, error) {
	if ctx.Err() != nil {
		return nil, contextError(ctx, "before the call started")
	}
	var us int64
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, contextError(ctx, "before the call started")
		}
		us = int64((left + time.Microsecond - 1) / time.Microsecond) // rounded up: 0 would mean no timeout
	}
	o := C.ti_run_options_create()
	if o == nil {
		return nil, &Error{Code: CodeOutOfMemory, Message: "ti_run_options_create failed"}
	}
	if us > 0 {
		if err := toError(C.ti_run_options_set_timeout_us(o, C.int64_t(us))); err != nil {
			C.ti_run_options_free(o)
			return nil, err
		}
	}
	w := &watcher{opts: o, called: make(chan struct{})}
	w.off = context.AfterFunc(ctx, func() {
		// A passed deadline is the options' own timeout, which fires within
		// microseconds (the call started after us was measured) and says so
		// in its message; anything else cancels.
		if us == 0 || ctx.Err() != context.DeadlineExceeded {
			C.ti_run_options_cancel(o)
		}
		close(w.called)
	})
	return w, nil
}

// stop ends the watch after the call: if the callback has started, it waits
// for it, so that the options are not freed under ti_run_options_cancel.
func (w *watcher) stop() {
	if !w.off() {
		<-w.called
	}
	C.ti_run_options_free(w.opts)
}

// contextError is the error of a call that ctx stopped before it started.
func contextError(ctx context.Context, when string) error {
	e := &Error{Code: CodeCancelled, cause: context.Cause(ctx)}
	if ctx.Err() == context.DeadlineExceeded {
		e.Code = CodeDeadlineExceeded
	} else if ctx.Err() == nil { // a deadline passed whose timer has not fired yet
		e.Code, e.cause = CodeDeadlineExceeded, context.DeadlineExceeded
	}
	e.Message = e.cause.Error() + " " + when
	return e
}

// stoppedByContext fixes up the error of a call made with run options: when
// the library stopped the call, its code follows ctx (the options are
// cancelled when ctx is done, which for a deadline may happen before the
// options' own timeout fires) and the error unwraps to ctx's cause.
func stoppedByContext(ctx context.Context, err error) error {
	e, ok := err.(*Error)
	if !ok || (e.Code != CodeCancelled && e.Code != CodeDeadlineExceeded) {
		return err
	}
	switch ctx.Err() {
	case context.Canceled:
		e.Code, e.cause = CodeCancelled, context.Cause(ctx)
	case context.DeadlineExceeded:
		e.Code, e.cause = CodeDeadlineExceeded, context.Cause(ctx)
	default: // the options' timeout fired before ctx's timer
		e.Code, e.cause = CodeDeadlineExceeded, context.DeadlineExceeded
	}
	e.Message = e.cause.Error() + " (" + e.Message + ")"
	return e
}

// inputPtrs returns room for the C handles of n inputs: the caller's small
// array when it fits (it then stays on the stack), a new slice otherwise.
func inputPtrs(small *[8]C.uintptr_t, n int) []C.uintptr_t {
	if n <= len(small) {
		return small[:n]
	}
	return make([]C.uintptr_t, n)
}

// handle is a C handle as the gti_ helpers take it (see gti.h): an integer,
// so that cgo has no pointer to check.
func handle(p unsafe.Pointer) C.uintptr_t { return C.uintptr_t(uintptr(p)) }

// acquireInputs registers a call on every input and stores its C handle in
// ptrs; on failure nothing stays acquired.
func acquireInputs(ptrs []C.uintptr_t, inputs []*Tensor) error {
	for i, t := range inputs {
		if !t.acquire() {
			releaseInputs(inputs[:i])
			if t == nil {
				return argError("input " + strconv.Itoa(i) + " is a nil *Tensor")
			}
			return closedError("input tensor " + strconv.Itoa(i))
		}
		ptrs[i] = handle(unsafe.Pointer(t.ptr))
	}
	return nil
}

func releaseInputs(inputs []*Tensor) {
	for _, t := range inputs {
		t.release()
	}
}

func newOutputs(p *C.ti_outputs_t) *Outputs {
	o := &Outputs{ptr: p}
	o.cleanup = runtime.AddCleanup(o, freeOutputs, p)
	return o
}

// cString is s as a NUL-terminated byte slice, for C calls that only read it.
// A NUL byte inside s would cut the string short in C: it is an error
// matching ErrInvalidArgument.
func cString(s, what string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, argError(what + " " + strconv.Quote(s) + " contains a NUL byte")
	}
	return append([]byte(s), 0), nil
}
