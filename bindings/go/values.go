package torchinfer

/*
#cgo noescape ti_inputs_set_tensor
#cgo nocallback ti_inputs_set_tensor
#cgo noescape ti_inputs_set_int
#cgo nocallback ti_inputs_set_int
#cgo noescape ti_inputs_set_float
#cgo nocallback ti_inputs_set_float
#cgo noescape ti_inputs_set_bool
#cgo nocallback ti_inputs_set_bool
#cgo noescape ti_inputs_set_string
#cgo nocallback ti_inputs_set_string
#cgo noescape ti_inputs_set_none
#cgo nocallback ti_inputs_set_none
#cgo noescape ti_inputs_set_empty
#cgo nocallback ti_inputs_set_empty
#cgo nocallback ti_inputs_free
#include "torchinfer.h"
*/
import "C"

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// EscapeKey is key as one segment of a path: a dict key (or an argument
// name) inside which "." would otherwise start a new segment. It replaces
// each backslash with two and each "." with `\.`, so the key "p.q" is the
// segment `p\.q`. RunValues and Inputs.Set escape the keys of the Go maps
// they walk with it; use it to build paths for the Inputs setters by hand,
// and to find a result leaf whose dict key holds a "." (Outputs names use
// the same grammar). This is the binding's only copy of the grammar's
// escaping rule.
func EscapeKey(key string) string {
	if !strings.ContainsAny(key, `.\`) {
		return key
	}
	return string(appendKey(nil, key))
}

// appendKey appends key, escaped as EscapeKey says, to a path.
func appendKey(path []byte, key string) []byte {
	for i := 0; i < len(key); i++ {
		if key[i] == '\\' || key[i] == '.' {
			path = append(path, '\\')
		}
		path = append(path, key[i])
	}
	return path
}

// maxDepth bounds how deep walk descends into nested Go values: far beyond
// any real model's argument types, and a guard against a []any that holds
// itself.
const maxDepth = 256

// walker sets Go values into a C inputs object by path, depth first.
type walker struct {
	in    *C.ti_inputs_t
	what  string // the public function, for the errors this package makes
	path  []byte // the path of the value being set, without a NUL
	depth int
}

// set sets v (any of the values RunValues takes) at w.path.
func (w *walker) set(v any) error {
	switch x := v.(type) { // the common types, without reflection
	case nil:
		return w.call(func(p *C.char) *C.ti_error_t { return C.ti_inputs_set_none(w.in, p) })
	case *Tensor:
		return w.setTensor(x)
	case string:
		return w.setString(x)
	case bool:
		return w.setBool(x)
	case int:
		return w.setInt(int64(x))
	case int64:
		return w.setInt(x)
	case int32:
		return w.setInt(int64(x))
	case float64:
		return w.setFloat(x)
	case float32:
		return w.setFloat(float64(x))
	case []*Tensor:
		return w.list(len(x), func(i int) any { return x[i] })
	case []any:
		return w.list(len(x), func(i int) any { return x[i] })
	case []string:
		return w.list(len(x), func(i int) any { return x[i] })
	case map[string]*Tensor:
		return w.stringMap(len(x), func(yield func(string, any)) {
			for k, v := range x {
				yield(k, v)
			}
		})
	case map[string]any:
		return w.stringMap(len(x), func(yield func(string, any)) {
			for k, v := range x {
				yield(k, v)
			}
		})
	}
	return w.reflect(reflect.ValueOf(v))
}

// reflect sets the values the type switch of set does not list: other
// slices, arrays and maps (int, uint and bool keys included), and named
// types over strings, numbers and bools.
func (w *walker) reflect(v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		return w.setString(v.String())
	case reflect.Bool:
		return w.setBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return w.setInt(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if v.Uint() > math.MaxInt64 {
			return w.errorf("%d does not fit an int (int64)", v.Uint())
		}
		return w.setInt(int64(v.Uint()))
	case reflect.Float32, reflect.Float64:
		return w.setFloat(v.Float())
	case reflect.Slice, reflect.Array:
		return w.list(v.Len(), func(i int) any { return v.Index(i).Interface() })
	case reflect.Map:
		return w.reflectMap(v)
	}
	return w.errorf("a %s is not a value RunValues takes (see the package documentation)", v.Type())
}

// list sets the n elements of a list or tuple at path.0, path.1, ...; no
// element sets an empty container.
func (w *walker) list(n int, elem func(int) any) error {
	if n == 0 {
		return w.empty()
	}
	return w.nested(n, func(i int) ([]byte, any, error) {
		return strconv.AppendInt(w.path, int64(i), 10), elem(i), nil
	})
}

// stringMap sets the entries of a map with string keys, in key order (so
// that the first error does not depend on map order).
func (w *walker) stringMap(n int, all func(yield func(string, any))) error {
	if n == 0 {
		return w.empty()
	}
	type entry struct {
		k string
		v any
	}
	entries := make([]entry, 0, n)
	all(func(k string, v any) { entries = append(entries, entry{k, v}) })
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.k, b.k) })
	return w.nested(n, func(i int) ([]byte, any, error) {
		if strings.IndexByte(entries[i].k, 0) >= 0 {
			return nil, nil, w.errorf("key %s contains a NUL byte", strconv.Quote(entries[i].k))
		}
		return appendKey(w.path, entries[i].k), entries[i].v, nil
	})
}

// reflectMap sets the entries of any map whose keys are strings (as
// stringMap), integers (in decimal) or bools ("True", "False"), in key order.
func (w *walker) reflectMap(v reflect.Value) error {
	keys := v.MapKeys()
	if len(keys) == 0 {
		return w.empty()
	}
	var segment func(path []byte, k reflect.Value) []byte
	var compare func(a, b reflect.Value) int
	switch v.Type().Key().Kind() {
	case reflect.String:
		return w.stringMap(len(keys), func(yield func(string, any)) {
			for _, k := range keys {
				yield(k.String(), v.MapIndex(k).Interface())
			}
		})
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		segment = func(path []byte, k reflect.Value) []byte { return strconv.AppendInt(path, k.Int(), 10) }
		compare = func(a, b reflect.Value) int { return cmp.Compare(a.Int(), b.Int()) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		segment = func(path []byte, k reflect.Value) []byte { return strconv.AppendUint(path, k.Uint(), 10) }
		compare = func(a, b reflect.Value) int { return cmp.Compare(a.Uint(), b.Uint()) }
	case reflect.Bool:
		segment = func(path []byte, k reflect.Value) []byte {
			if k.Bool() {
				return append(path, "True"...)
			}
			return append(path, "False"...)
		}
		compare = func(a, b reflect.Value) int {
			if a.Bool() == b.Bool() {
				return 0
			} else if a.Bool() {
				return 1
			}
			return -1
		}
	default:
		return w.errorf("a map with %s keys is not a value RunValues takes (keys: string, integer or bool)", v.Type().Key())
	}
	slices.SortFunc(keys, compare)
	return w.nested(len(keys), func(i int) ([]byte, any, error) {
		return segment(w.path, keys[i]), v.MapIndex(keys[i]).Interface(), nil
	})
}

// nested sets n children of the value at w.path: child(i) returns the
// child's path (w.path plus its segment, appended after a "." that nested
// adds) and its value.
func (w *walker) nested(n int, child func(int) ([]byte, any, error)) error {
	if w.depth >= maxDepth {
		return w.errorf("values nested deeper than %d levels (does a value hold itself?)", maxDepth)
	}
	w.depth++
	parent := len(w.path)
	for i := 0; i < n; i++ {
		w.path = append(w.path[:parent], '.')
		path, v, err := child(i)
		if err != nil {
			w.path = w.path[:parent]
			return err
		}
		w.path = path
		if err := w.set(v); err != nil {
			w.path = w.path[:parent]
			return err
		}
	}
	w.path = w.path[:parent]
	w.depth--
	return nil
}

// call makes one C setter call with w.path as a NUL-terminated string.
func (w *walker) call(set func(path *C.char) *C.ti_error_t) error {
	n := len(w.path)
	w.path = append(w.path, 0)
	e := set((*C.char)(unsafe.Pointer(&w.path[0])))
	runtime.KeepAlive(w.path)
	w.path = w.path[:n]
	return toError(e)
}

func (w *walker) setTensor(t *Tensor) error {
	if t == nil {
		return w.errorf("a nil *Tensor (use nil for None)")
	}
	if !t.acquire() {
		return closedError("the tensor at " + strconv.Quote(string(w.path)))
	}
	defer t.release() // the inputs keep their own reference
	return w.call(func(p *C.char) *C.ti_error_t {
		e := C.ti_inputs_set_tensor(w.in, p, t.ptr)
		runtime.KeepAlive(t)
		return e
	})
}

func (w *walker) setString(s string) error {
	return w.call(func(p *C.char) *C.ti_error_t {
		e := C.ti_inputs_set_string(w.in, p, (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s)))
		runtime.KeepAlive(s)
		return e
	})
}

func (w *walker) setInt(v int64) error {
	return w.call(func(p *C.char) *C.ti_error_t { return C.ti_inputs_set_int(w.in, p, C.int64_t(v)) })
}

func (w *walker) setFloat(v float64) error {
	return w.call(func(p *C.char) *C.ti_error_t { return C.ti_inputs_set_float(w.in, p, C.double(v)) })
}

func (w *walker) setBool(v bool) error {
	b := C.int(0)
	if v {
		b = 1
	}
	return w.call(func(p *C.char) *C.ti_error_t { return C.ti_inputs_set_bool(w.in, p, b) })
}

func (w *walker) empty() error {
	return w.call(func(p *C.char) *C.ti_error_t { return C.ti_inputs_set_empty(w.in, p) })
}

// errorf is an error of this package about the value at w.path.
func (w *walker) errorf(format string, args ...any) error {
	return argError(w.what + ": " + strconv.Quote(string(w.path)) + ": " + fmt.Sprintf(format, args...))
}

// setArgs sets the arguments of RunValues, in key order.
func (w *walker) setArgs(args map[string]any) error {
	keys := make([]string, 0, len(args))
	for k := range args {
		if strings.IndexByte(k, 0) >= 0 {
			return argError(w.what + ": argument " + strconv.Quote(k) + " contains a NUL byte")
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.path = appendKey(w.path[:0], k)
		if err := w.set(args[k]); err != nil {
			return err
		}
	}
	return nil
}

// RunValues calls method ("" for forward) with arguments of any TorchScript
// type, given as Go values: args maps each argument's name (or its position
// in decimal, "0") to its value, and arguments left out take their defaults.
// Every value is built from the method's declared types (see Schema), never
// guessed from the Go value, and is walked into paths as the package
// documentation describes ("Structured values"): *Tensor; string; bool;
// int, int64 and the other integer types; float64 and float32; nil for None;
// slices and arrays ([]*Tensor, []any, []string, ...) for lists and tuples;
// maps with string keys (map[string]*Tensor, map[string]any, ...), integer
// keys (map[int64]any, map[int]any) or bool keys for dicts; nested to any
// depth. An empty slice or map is an empty list or dict.
//
// A value that does not fit its declared type fails with an error matching
// ErrInvalidArgument that names its path and the type, before the model
// runs: an unknown argument (the message lists the valid ones), an index past
// a tuple's arity, a string for a Tensor, nil where the type is not Optional,
// a string that is not valid UTF-8, a Go type not listed above. Missing
// required arguments, and list indices with a gap (a map[int]any{0: a, 2: b}
// given for a List), fail the same way when the call starts. ctx bounds the
// call as in PredictContext. Otherwise errors as RunMethod.
//
// Tensors are referenced, not copied; the caller keeps and closes them.
// RunValues makes and frees one ti_inputs_t per call: for many calls with
// the same arguments, set them once into Inputs and call RunInputs.
func (m *Model) RunValues(ctx context.Context, method string, args map[string]any) (*Outputs, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	defer m.release()
	in, err := m.newCInputs(ctx, "RunValues", method)
	if err != nil {
		return nil, err
	}
	defer C.ti_inputs_free(in)
	w := walker{in: in, what: "RunValues"}
	if err := w.setArgs(args); err != nil {
		return nil, err
	}
	return m.runInputs(ctx, in)
}

// newCInputs makes a C inputs object for method ("": forward) of the
// acquired model; ctx is only checked for nil (for RunValues).
func (m *Model) newCInputs(ctx context.Context, what, method string) (*C.ti_inputs_t, error) {
	var cmethod *C.char
	if method != "" {
		b, err := callArgs(ctx, what, &method)
		if err != nil {
			return nil, err
		}
		cmethod = (*C.char)(unsafe.Pointer(&b[0]))
		defer runtime.KeepAlive(b)
	} else if _, err := callArgs(ctx, what, nil); err != nil {
		return nil, err
	}
	var in *C.ti_inputs_t
	e := C.ti_inputs_create(m.ptr, cmethod, &in)
	runtime.KeepAlive(m)
	return in, toError(e)
}

// runInputs runs the acquired model on in under ctx, as invoke does.
func (m *Model) runInputs(ctx context.Context, in *C.ti_inputs_t) (*Outputs, error) {
	var opts *C.ti_run_options_t
	if ctx.Done() != nil {
		w, err := watch(ctx)
		if err != nil {
			return nil, err
		}
		defer w.stop()
		opts = w.opts
	}
	var out *C.ti_outputs_t
	e := C.ti_model_run_inputs(m.ptr, in, opts, &out)
	runtime.KeepAlive(m)
	if e != nil {
		err := toError(e)
		if opts != nil {
			err = stoppedByContext(ctx, err)
		}
		return nil, err
	}
	return newOutputs(out), nil
}

// Inputs are the arguments of one method of one model, set by path and kept
// between calls: set them once, run them any number of times with
// Model.RunInputs (from any number of goroutines at once). A path names a
// value inside an argument: segments joined by ".", the first the
// argument's name or position, then list or tuple indices in decimal and
// dict keys (escaped with EscapeKey): "images.0", "batch.input_ids",
// "pairs.1.0", "by_id.-1" (see "Structured values" in the package
// documentation). Setting a path again replaces its value and everything
// below it; a failed set leaves the Inputs unchanged.
//
// The setters and Close may be called from any goroutine: setters wait for
// runs in flight on the same Inputs (and runs for setters), so a set never
// changes the arguments of a call that has started. Close when done; an
// Inputs keeps its Model's memory alive (see Model.Close).
type Inputs struct {
	ptr     *C.ti_inputs_t
	ref     ref
	mu      sync.RWMutex // the C setters are not synchronised: they lock it, runs read-lock it
	cleanup runtime.Cleanup
	model   *Model
	method  string
}

// inputsHandle is what the cleanup of an Inputs frees.
type inputsHandle struct {
	ptr   *C.ti_inputs_t
	model *Model
}

func freeInputs(h inputsHandle) {
	C.ti_inputs_free(h.ptr)
	h.model.release()
}

// NewInputs makes empty arguments for method ("" for forward) of m. Errors
// match ErrNotFound (no such method), ErrClosed (m is closed or nil) or
// ErrInvalidArgument (a method name with a NUL byte).
func NewInputs(m *Model, method string) (*Inputs, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	p, err := m.newCInputs(context.Background(), "NewInputs", method)
	if err != nil {
		m.release()
		return nil, err
	}
	in := &Inputs{ptr: p, model: m, method: method} // holds m's acquire until freed
	in.cleanup = runtime.AddCleanup(in, freeInputs, inputsHandle{p, m})
	return in, nil
}

// Close frees the inputs. It is idempotent, safe to race with other uses
// (runs in flight finish first) and always returns nil, also for nil *Inputs.
// Tensors set into them are released.
func (in *Inputs) Close() error {
	if in == nil {
		return nil
	}
	first, freeNow := in.ref.close()
	if first {
		in.cleanup.Stop()
	}
	if freeNow {
		freeInputs(inputsHandle{in.ptr, in.model})
	}
	return nil
}

func (in *Inputs) acquire() bool { return in != nil && in.ref.acquire() }

func (in *Inputs) release() {
	if in.ref.release() {
		freeInputs(inputsHandle{in.ptr, in.model})
	}
}

// Method is the method the inputs were made for ("" for forward); it keeps
// answering after Close.
func (in *Inputs) Method() string {
	if in == nil {
		return ""
	}
	return in.method
}

// set runs one walk from path under the write lock.
func (in *Inputs) set(what, path string, do func(w *walker) error) error {
	if !in.acquire() {
		return closedError("inputs")
	}
	defer in.release()
	if strings.IndexByte(path, 0) >= 0 {
		return argError(what + ": path " + strconv.Quote(path) + " contains a NUL byte")
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	w := walker{in: in.ptr, what: what, path: []byte(path)}
	err := do(&w)
	runtime.KeepAlive(in)
	return err
}

// Set sets v at path, walked into paths below it as RunValues does: for
// example in.Set("images", []*Tensor{a, b}) sets "images.0" and "images.1".
// Errors as the checks RunValues makes before the call.
func (in *Inputs) Set(path string, v any) error {
	return in.set("Inputs.Set", path, func(w *walker) error { return w.set(v) })
}

// SetTensor sets the tensor at path. The inputs keep their own reference to
// the data: t may be closed at once.
func (in *Inputs) SetTensor(path string, t *Tensor) error {
	return in.set("Inputs.SetTensor", path, func(w *walker) error { return w.setTensor(t) })
}

// SetInt sets an int where the declared type is int, float or Scalar.
func (in *Inputs) SetInt(path string, v int64) error {
	return in.set("Inputs.SetInt", path, func(w *walker) error { return w.setInt(v) })
}

// SetFloat sets a float where the declared type is float or Scalar.
func (in *Inputs) SetFloat(path string, v float64) error {
	return in.set("Inputs.SetFloat", path, func(w *walker) error { return w.setFloat(v) })
}

// SetBool sets a bool.
func (in *Inputs) SetBool(path string, v bool) error {
	return in.set("Inputs.SetBool", path, func(w *walker) error { return w.setBool(v) })
}

// SetString sets a str: s must be valid UTF-8 (NUL bytes are kept).
func (in *Inputs) SetString(path string, s string) error {
	return in.set("Inputs.SetString", path, func(w *walker) error { return w.setString(s) })
}

// SetNone sets None where the declared type is Optional.
func (in *Inputs) SetNone(path string) error {
	return in.set("Inputs.SetNone", path, func(w *walker) error {
		return w.call(func(p *C.char) *C.ti_error_t { return C.ti_inputs_set_none(w.in, p) })
	})
}

// SetEmpty sets an empty list or dict where the declared type is one.
func (in *Inputs) SetEmpty(path string) error {
	return in.set("Inputs.SetEmpty", path, func(w *walker) error { return w.empty() })
}

// RunInputs runs the method in was made for with its arguments, bounded by
// ctx as in PredictContext. in must come from m. Missing required arguments
// and list indices with a gap fail with an error matching ErrInvalidArgument
// that names the path; otherwise errors as RunValues. A nil in is
// ErrInvalidArgument, a closed one ErrClosed.
func (m *Model) RunInputs(ctx context.Context, in *Inputs) (*Outputs, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	defer m.release()
	if ctx == nil {
		return nil, argError("RunInputs: nil context")
	}
	if in == nil {
		return nil, argError("RunInputs: nil *Inputs")
	}
	if !in.acquire() {
		return nil, closedError("inputs")
	}
	defer in.release()
	in.mu.RLock()
	defer in.mu.RUnlock()
	out, err := m.runInputs(ctx, in.ptr)
	runtime.KeepAlive(in)
	return out, err
}
