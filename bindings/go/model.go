package torchinfer

/*
#cgo noescape ti_model_predict
#cgo nocallback ti_model_predict
#cgo noescape ti_model_run_method
#cgo nocallback ti_model_run_method
#cgo noescape ti_model_load
#cgo nocallback ti_model_load
#cgo noescape ti_model_load_buffer
#cgo nocallback ti_model_load_buffer
#cgo noescape gti_run_named
#cgo nocallback gti_run_named
#include <stdlib.h>
#include "torchinfer.h"

// names_buf holds n NUL-terminated names at the given offsets: the pointer
// array is built on the C side, as Go may not pass memory holding Go pointers.
// method NULL runs forward (ti_model_predict_named), otherwise
// ti_model_run_method_named.
static ti_error_t *gti_run_named(ti_model_t *m, const char *method, const char *names_buf,
                                 const size_t *offsets, const ti_tensor_t *const *inputs, size_t n,
                                 ti_outputs_t **out) {
  const char *small[16];
  const char **names = small;
  if (n > 16) {
    names = (const char **)malloc(n * sizeof(*names));
    if (names == NULL) return ti_model_predict_named(m, NULL, inputs, n, out);
  }
  for (size_t i = 0; i < n; i++) names[i] = names_buf + offsets[i];
  ti_error_t *e = method == NULL ? ti_model_predict_named(m, names, inputs, n, out)
                                 : ti_model_run_method_named(m, method, names, inputs, n, out);
  if (names != small) free(names);
  return e;
}
*/
import "C"

import (
	"runtime"
	"sort"
	"strings"
	"unsafe"
)

// Model is a loaded TorchScript module or AOTInductor package (see Format).
// Any number of goroutines may call its
// methods at the same time. Close it when done.
type Model struct {
	ptr     *C.ti_model_t
	ref     ref
	cleanup runtime.Cleanup
	device  string
	format  string
	inputs  []string
	methods []string
}

// Option configures Load and LoadBytes.
type Option func(*loadConfig)

type loadConfig struct {
	device string
}

// WithDevice loads the model onto "cpu" (the default), "cuda" (the current
// CUDA device) or "cuda:N". A device that is not present fails the load with
// an error matching ErrDevice; there is no fallback to the CPU.
func WithDevice(device string) Option {
	return func(c *loadConfig) { c.device = device }
}

// Load loads a TorchScript archive (torch.jit.save) or an AOTInductor .pt2
// package from a file; Format says which. The model is in eval mode. Errors
// match ErrNotFound (no such file), ErrModelFormat (not a loadable archive),
// ErrDevice, ErrInvalidArgument or ErrOutOfMemory.
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

// LoadBytes loads a TorchScript archive from memory. data is copied by the
// library and may be reused as soon as LoadBytes returns. Errors as Load,
// without ErrNotFound.
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
	var copts *C.ti_load_options_t
	if cfg.device != "" {
		copts = C.ti_load_options_create()
		if copts == nil {
			return nil, &Error{Code: CodeOutOfMemory, Message: "ti_load_options_create failed"}
		}
		defer C.ti_load_options_free(copts)
		cdev, err := cString(cfg.device, "WithDevice")
		if err != nil {
			return nil, err
		}
		err = toError(C.ti_load_options_set_device(copts, (*C.char)(unsafe.Pointer(&cdev[0]))))
		runtime.KeepAlive(cdev)
		if err != nil {
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
	}
	for i, n := 0, int(C.ti_model_method_count(p)); i < n; i++ {
		m.methods = append(m.methods, C.GoString(C.ti_model_method_name(p, C.size_t(i))))
	}
	m.cleanup = runtime.AddCleanup(m, freeModel, p)
	return m, nil
}

func freeModel(p *C.ti_model_t) { C.ti_model_free(p) }

// Close frees the model. It is idempotent and safe to call while other
// goroutines are predicting: those calls finish normally, the memory is freed
// when the last one returns, and later calls fail with ErrClosed. Tensors
// and Outputs obtained from the model stay valid. It always returns nil.
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

// Inputs are the names of forward's arguments (without self), in order.
func (m *Model) Inputs() []string { return append([]string(nil), m.inputs...) }

// Methods are the names of the methods RunMethod can call, sorted ("forward" included).
func (m *Model) Methods() []string { return append([]string(nil), m.methods...) }

// Device is where the model lives, "cpu" or "cuda:N".
func (m *Model) Device() string { return m.device }

// Format is what was loaded: "torchscript" (a torch.jit.save archive) or
// "aotinductor" (an AOTInductor .pt2 package). Like Device, it is read at
// load time and stays available after Close.
func (m *Model) Format() string { return m.format }

// inputPtrs returns room for the C handles of n inputs: the caller's small
// array when it fits (it then stays on the stack), a new slice otherwise.
func inputPtrs(small *[8]*C.ti_tensor_t, n int) []*C.ti_tensor_t {
	if n <= len(small) {
		return small[:n]
	}
	return make([]*C.ti_tensor_t, n)
}

// acquireInputs registers a call on every input and stores its C handle in
// ptrs; on failure nothing stays acquired.
func acquireInputs(ptrs []*C.ti_tensor_t, inputs []*Tensor) error {
	for i, t := range inputs {
		if !t.acquire() {
			releaseInputs(inputs[:i])
			if t == nil {
				return argError("input is a nil *Tensor")
			}
			return closedError("input tensor")
		}
		ptrs[i] = t.ptr
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

// Predict runs forward with positional inputs in the order of Inputs();
// trailing arguments with defaults may be left out. An argument declared
// int, float or bool takes a one-element tensor (see Scalar). The library
// does not modify the inputs, but a model that modifies an argument in place
// does (no defensive copy is made; see the package documentation). Errors match ErrInvalidArgument (wrong count or kind of input),
// ErrRuntime (raised by the model; it stays usable), ErrOutOfMemory,
// ErrUnsupported (a result that is not tensors/numbers), ErrDevice, ErrClosed.
func (m *Model) Predict(inputs ...*Tensor) (*Outputs, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	defer m.release()
	var small [8]*C.ti_tensor_t
	ptrs := inputPtrs(&small, len(inputs))
	if err := acquireInputs(ptrs, inputs); err != nil {
		return nil, err
	}
	var out *C.ti_outputs_t
	e := C.ti_model_predict(m.ptr, unsafe.SliceData(ptrs), C.size_t(len(inputs)), &out)
	releaseInputs(inputs)
	runtime.KeepAlive(m)
	if e != nil {
		return nil, toError(e)
	}
	return newOutputs(out), nil
}

// PredictNamed runs forward with inputs matched to its argument names, in any
// order; arguments with defaults may be omitted. Unknown or missing names give
// an error matching ErrInvalidArgument that lists the valid names; otherwise
// errors as Predict.
func (m *Model) PredictNamed(inputs map[string]*Tensor) (*Outputs, error) {
	return m.runNamed("PredictNamed", nil, inputs)
}

// runNamed runs method (a NUL-terminated name; nil for forward) with named
// inputs. what names the public method in argument errors.
func (m *Model) runNamed(what string, method []byte, inputs map[string]*Tensor) (*Outputs, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	defer m.release()
	names := make([]string, 0, len(inputs))
	size := 0
	for k := range inputs {
		if strings.IndexByte(k, 0) >= 0 {
			return nil, argError(what + ": input name contains a NUL byte")
		}
		names = append(names, k)
		size += len(k) + 1
	}
	sort.Strings(names)
	buf := make([]byte, 0, size)
	offsets := make([]C.size_t, len(names))
	tensors := make([]*Tensor, len(names))
	for i, k := range names {
		offsets[i] = C.size_t(len(buf))
		buf = append(buf, k...)
		buf = append(buf, 0)
		tensors[i] = inputs[k]
	}
	var small [8]*C.ti_tensor_t
	ptrs := inputPtrs(&small, len(tensors))
	if err := acquireInputs(ptrs, tensors); err != nil {
		return nil, err
	}
	var cmethod *C.char
	if method != nil {
		cmethod = (*C.char)(unsafe.Pointer(&method[0]))
	}
	var out *C.ti_outputs_t
	e := C.gti_run_named(m.ptr, cmethod, (*C.char)(unsafe.Pointer(unsafe.SliceData(buf))),
		unsafe.SliceData(offsets), unsafe.SliceData(ptrs), C.size_t(len(names)), &out)
	releaseInputs(tensors)
	runtime.KeepAlive(m)
	runtime.KeepAlive(method)
	runtime.KeepAlive(buf)
	runtime.KeepAlive(offsets)
	if e != nil {
		return nil, toError(e)
	}
	return newOutputs(out), nil
}

// RunMethod runs another method of the model (one exported with
// @torch.jit.export, or "forward") with positional inputs. Errors as Predict,
// plus ErrNotFound when the model has no such method.
func (m *Model) RunMethod(method string, inputs ...*Tensor) (*Outputs, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	defer m.release()
	cname, err := cString(method, "RunMethod: method name")
	if err != nil {
		return nil, err
	}
	var small [8]*C.ti_tensor_t
	ptrs := inputPtrs(&small, len(inputs))
	if err := acquireInputs(ptrs, inputs); err != nil {
		return nil, err
	}
	var out *C.ti_outputs_t
	e := C.ti_model_run_method(m.ptr, (*C.char)(unsafe.Pointer(&cname[0])), unsafe.SliceData(ptrs), C.size_t(len(inputs)), &out)
	releaseInputs(inputs)
	runtime.KeepAlive(m)
	runtime.KeepAlive(cname)
	if e != nil {
		return nil, toError(e)
	}
	return newOutputs(out), nil
}

// RunMethodNamed runs another method of the model (or "forward") with inputs
// matched to that method's argument names, in any order; arguments with
// defaults may be omitted. Errors as PredictNamed, plus ErrNotFound when the
// model has no such method.
func (m *Model) RunMethodNamed(method string, inputs map[string]*Tensor) (*Outputs, error) {
	cname, err := cString(method, "RunMethodNamed: method name")
	if err != nil {
		return nil, err
	}
	return m.runNamed("RunMethodNamed", cname, inputs)
}

// cString is s as a NUL-terminated byte slice, for C calls that only read it.
func cString(s, what string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, argError(what + " contains a NUL byte")
	}
	return append([]byte(s), 0), nil
}
