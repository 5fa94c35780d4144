package torchinfer

/*
#cgo noescape gti_outputs_get
#cgo nocallback gti_outputs_get
#cgo noescape gti_outputs_find
#cgo nocallback gti_outputs_find
#cgo nocallback ti_outputs_free
#cgo nocallback ti_outputs_count
#include "torchinfer.h"

// One cgo call per leaf: the handle plus what Go caches about it.
static ti_error_t *gti_meta(ti_error_t *e, ti_tensor_t *t, int *dtype, size_t *ndim, const int64_t **shape) {
  if (e == NULL) {
    *dtype = (int)ti_tensor_dtype(t);
    *ndim = ti_tensor_ndim(t);
    *shape = ti_tensor_shape(t);
  }
  return e;
}

static ti_error_t *gti_outputs_get(const ti_outputs_t *o, size_t i, ti_tensor_t **out, int *dtype,
                                   size_t *ndim, const int64_t **shape) {
  ti_error_t *e = ti_outputs_get(o, i, out);
  return gti_meta(e, *out, dtype, ndim, shape);
}

// Text's checks and view in one call: count always, kind and name when i is in range, the
// bytes when the leaf is a string.
static ti_error_t *gti_outputs_text(const ti_outputs_t *o, size_t i, size_t *count, int *kind,
                                    const char **name, const char **data, size_t *len) {
  *count = ti_outputs_count(o);
  if (i >= *count) return NULL;
  *kind = (int)ti_outputs_kind(o, i);
  *name = ti_outputs_name(o, i);
  if (*kind != TI_KIND_STRING) return NULL;
  return ti_outputs_string(o, i, data, len);
}

static ti_error_t *gti_outputs_find(const ti_outputs_t *o, const char *name, ti_tensor_t **out,
                                    int *dtype, size_t *ndim, const int64_t **shape) {
  ti_error_t *e = ti_outputs_find(o, name, out);
  return gti_meta(e, *out, dtype, ndim, shape);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"strconv"
	"unsafe"
)

// Outputs are the flattened, named leaves of one prediction's result. Tuple
// and list elements are named by index, dict entries by key, nested names
// joined with "." ("1.0", "boxes.2"); a bare tensor is one leaf named "0".
// Names use the path grammar of structured inputs: a "." or a backslash
// inside a dict key is escaped as by EscapeKey (the key "p.q" in result 1 is
// the leaf `1.p\.q`). int, float and bool results are 0-dim Int64, Float64
// and Bool tensors; a str is a leaf of kind KindString (read it with Text)
// and a None one of kind KindNone; an empty list, tuple or dict gives no
// leaf. Get, Find, CopyLeaf and LeafValues fail on a leaf that is not a
// tensor with an error matching ErrInvalidArgument that names its kind.
// The library never modifies Outputs after creation; Close them when done
// (the tensors taken from them with Get or Find stay valid and are closed
// separately).
type Outputs struct {
	ptr     *C.ti_outputs_t
	ref     ref
	cleanup runtime.Cleanup
}

func freeOutputs(p *C.ti_outputs_t) { C.ti_outputs_free(p) }

// Close frees the outputs. It is idempotent, safe to race with other uses and
// always returns nil, also for nil *Outputs.
func (o *Outputs) Close() error {
	if o == nil {
		return nil
	}
	first, freeNow := o.ref.close()
	if first {
		o.cleanup.Stop()
	}
	if freeNow {
		C.ti_outputs_free(o.ptr)
	}
	return nil
}

func (o *Outputs) acquire() bool { return o != nil && o.ref.acquire() }

func (o *Outputs) release() {
	if o.ref.release() {
		C.ti_outputs_free(o.ptr)
	}
}

// Len is the number of leaves (0 for nil or closed Outputs).
func (o *Outputs) Len() int {
	if !o.acquire() {
		return 0
	}
	n := int(C.ti_outputs_count(o.ptr))
	o.release()
	runtime.KeepAlive(o)
	return n
}

// Name is the name of leaf i; "" if i is out of range or o is nil or closed.
func (o *Outputs) Name(i int) string {
	if i < 0 || !o.acquire() {
		return ""
	}
	s := C.GoString(C.ti_outputs_name(o.ptr, C.size_t(i)))
	o.release()
	runtime.KeepAlive(o)
	return s
}

// Names are the names of all leaves, in order (nil for nil or closed Outputs).
func (o *Outputs) Names() []string {
	if !o.acquire() {
		return nil
	}
	defer o.release()
	n := int(C.ti_outputs_count(o.ptr))
	names := make([]string, n)
	for i := range names {
		names[i] = C.GoString(C.ti_outputs_name(o.ptr, C.size_t(i)))
	}
	runtime.KeepAlive(o)
	return names
}

// Get returns leaf i as a new Tensor that shares the data (no copy) and may
// outlive the Outputs and the Model; Close it when done. An i out of range
// gives an error matching ErrInvalidArgument.
func (o *Outputs) Get(i int) (*Tensor, error) {
	if !o.acquire() {
		return nil, closedError("outputs")
	}
	if i < 0 {
		o.release()
		return nil, argError("Outputs.Get: negative index " + strconv.Itoa(i))
	}
	var (
		t     *C.ti_tensor_t
		dtype C.int
		ndim  C.size_t
		shape *C.int64_t
	)
	e := C.gti_outputs_get(o.ptr, C.size_t(i), &t, &dtype, &ndim, &shape)
	o.release()
	runtime.KeepAlive(o)
	return leaf(e, t, dtype, ndim, shape)
}

// Find returns the leaf called name, as Get. A missing name gives an error
// matching ErrNotFound whose message lists the names; a name with a NUL byte,
// one matching ErrInvalidArgument.
func (o *Outputs) Find(name string) (*Tensor, error) {
	if !o.acquire() {
		return nil, closedError("outputs")
	}
	cname, err := cString(name, "Outputs.Find: name")
	if err != nil {
		o.release()
		return nil, err
	}
	var (
		t     *C.ti_tensor_t
		dtype C.int
		ndim  C.size_t
		shape *C.int64_t
	)
	e := C.gti_outputs_find(o.ptr, (*C.char)(unsafe.Pointer(&cname[0])), &t, &dtype, &ndim, &shape)
	o.release()
	runtime.KeepAlive(o)
	runtime.KeepAlive(cname)
	return leaf(e, t, dtype, ndim, shape)
}

// Kind is the kind of an output leaf (ti_kind_t; the values are part of the ABI).
type Kind int

// The kinds of leaves.
const (
	KindTensor Kind = 0 // a tensor (int, float and bool results are 0-dim tensors)
	KindString Kind = 1 // a str: read it with Outputs.Text
	KindNone   Kind = 2 // a None: an Optional result that was empty
)

// String is "tensor", "string" or "none" ("unknown(n)" otherwise).
func (k Kind) String() string {
	switch k {
	case KindTensor:
		return "tensor"
	case KindString:
		return "string"
	case KindNone:
		return "none"
	}
	return "unknown(" + strconv.Itoa(int(k)) + ")"
}

// phrase is the kind as the library's messages name it: "a tensor", "a string", "None".
func (k Kind) phrase() string {
	if k == KindNone {
		return "None"
	}
	return "a " + k.String()
}

// Kind is the kind of leaf i. It is KindNone, as in the C API, when i is
// out of range or o is nil or closed (the zero value, KindTensor, would
// claim a tensor that is not there).
func (o *Outputs) Kind(i int) Kind {
	if i < 0 || !o.acquire() {
		return KindNone
	}
	k := Kind(C.ti_outputs_kind(o.ptr, C.size_t(i)))
	o.release()
	runtime.KeepAlive(o)
	return k
}

// Text returns string leaf i (a str result) as a Go string holding a copy of
// its UTF-8 bytes; NUL bytes inside are kept. An i out of range, or a leaf
// that is not a string (the message names its kind), gives an error
// matching ErrInvalidArgument.
func (o *Outputs) Text(i int) (string, error) {
	if !o.acquire() {
		return "", closedError("outputs")
	}
	defer o.release()
	if i < 0 {
		return "", argError("Outputs.Text: negative index " + strconv.Itoa(i))
	}
	var (
		count, n   C.size_t
		kind       C.int
		name, data *C.char
	)
	e := C.gti_outputs_text(o.ptr, C.size_t(i), &count, &kind, &name, &data, &n)
	if e != nil {
		return "", toError(e)
	}
	if i >= int(count) {
		return "", argError(fmt.Sprintf("Outputs.Text: index %d out of range (%d leaves)", i, count))
	}
	if Kind(kind) != KindString {
		return "", argError(fmt.Sprintf("Outputs.Text: leaf %d (%q) is %s, not a string", i, C.GoString(name), Kind(kind).phrase()))
	}
	s := string(unsafe.Slice((*byte)(unsafe.Pointer(data)), int(n))) // a copy
	runtime.KeepAlive(o)
	return s, nil
}

func leaf(e *C.ti_error_t, t *C.ti_tensor_t, dtype C.int, ndim C.size_t, shape *C.int64_t) (*Tensor, error) {
	if e != nil {
		return nil, toError(e)
	}
	var dims []int64
	if ndim > 0 {
		dims = unsafe.Slice((*int64)(unsafe.Pointer(shape)), int(ndim)) // a view, copied by wrapTensor
	}
	return wrapTensor(t, DType(dtype), dims), nil
}
