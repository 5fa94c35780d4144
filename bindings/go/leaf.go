package torchinfer

/*
#cgo noescape gti_copy_leaf
#cgo nocallback gti_copy_leaf
#cgo noescape gti_run_into
#cgo nocallback gti_run_into
#cgo noescape gti_leaf_info
#cgo nocallback gti_leaf_info
#include "torchinfer.h"
#include "gti.h"

// Reading a result leaf into Go memory without a tensor handle (ti_outputs_copy_to), with
// the dtype and size checks done in the same cgo call.

enum { GTI_OK, GTI_NO_LEAF, GTI_NOT_TENSOR, GTI_WRONG_DTYPE, GTI_WRONG_SIZE };
enum { GTI_ANY_16 = -1 }; // want: float16 or bfloat16 (Go's uint16)
#define GTI_DIMS 8

// What Go needs to explain a failed check: filled when status is not GTI_OK,
// and by gti_leaf_info. dims holds the first GTI_DIMS sizes.
typedef struct {
  int status;
  int kind; // ti_kind_t, set with GTI_NOT_TENSOR
  int dtype;
  size_t count, ndim, nbytes;
  int64_t dims[GTI_DIMS];
} gti_leaf_t;

static void gti_describe(const ti_outputs_t *o, size_t i, gti_leaf_t *info) {
  info->dtype = (int)ti_outputs_dtype(o, i);
  info->nbytes = ti_outputs_nbytes(o, i);
  info->ndim = ti_outputs_ndim(o, i);
  const int64_t *shape = ti_outputs_shape(o, i);
  for (size_t k = 0; k < info->ndim && k < GTI_DIMS; k++) info->dims[k] = shape[k];
}

static ti_error_t *gti_leaf_info(uintptr_t h, size_t i, gti_leaf_t *info) {
  const ti_outputs_t *o = GTI_OUTPUTS(h);
  info->count = ti_outputs_count(o);
  info->status = i < info->count ? GTI_OK : GTI_NO_LEAF;
  if (info->status == GTI_OK) {
    info->kind = (int)ti_outputs_kind(o, i);
    if (info->kind != TI_KIND_TENSOR) info->status = GTI_NOT_TENSOR;
    else gti_describe(o, i, info);
  }
  return NULL;
}

// Copies leaf i into dst when its dtype is `want` and its size dst_nbytes;
// otherwise sets info->status and copies nothing.
static ti_error_t *gti_copy_leaf(uintptr_t h, size_t i, int want, uint8_t *dst,
                                 size_t dst_nbytes, gti_leaf_t *info) {
  const ti_outputs_t *o = GTI_OUTPUTS(h);
  info->count = ti_outputs_count(o);
  if (i >= info->count) {
    info->status = GTI_NO_LEAF;
    return NULL;
  }
  info->kind = (int)ti_outputs_kind(o, i);
  if (info->kind != TI_KIND_TENSOR) {
    info->status = GTI_NOT_TENSOR;
    return NULL;
  }
  int dtype = (int)ti_outputs_dtype(o, i);
  int ok = want == GTI_ANY_16 ? (dtype == TI_DTYPE_FLOAT16 || dtype == TI_DTYPE_BFLOAT16) : dtype == want;
  info->status = !ok ? GTI_WRONG_DTYPE : ti_outputs_nbytes(o, i) != dst_nbytes ? GTI_WRONG_SIZE : GTI_OK;
  if (info->status != GTI_OK) {
    gti_describe(o, i, info);
    return NULL;
  }
  return ti_outputs_copy_to(o, i, dst, dst_nbytes);
}

// forward on positional inputs, then leaf 0 copied into dst as gti_copy_leaf:
// one cgo call per prediction, and no handle outlives it.
static ti_error_t *gti_run_into(uintptr_t m, const uintptr_t *inputs, size_t n, uintptr_t opts,
                                int want, uint8_t *dst, size_t dst_nbytes, gti_leaf_t *info) {
  ti_outputs_t *out = NULL;
  info->status = GTI_OK;
  ti_error_t *e = ti_model_run(GTI_MODEL(m), NULL, NULL, GTI_INPUTS(inputs), n, GTI_RUN_OPTIONS(opts), &out);
  if (e == NULL) {
    e = gti_copy_leaf((uintptr_t)out, 0, want, dst, dst_nbytes, info);
    ti_outputs_free(out);
  }
  return e;
}
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"unsafe"
)

// leafDst is where PredictInto and CopyLeaf copy a leaf: n elements of
// dtype want (-1: float16 or bfloat16) at ptr.
type leafDst struct {
	want DType
	ptr  unsafe.Pointer
	n    int
}

func dstOf[T CopyElement](dst []T) leafDst {
	return leafDst{want: dtypeFor[T](), ptr: unsafe.Pointer(unsafe.SliceData(dst)), n: len(dst)}
}

func (d *leafDst) nbytes() C.size_t {
	size := d.want.Size()
	if d.want < 0 {
		size = 2
	}
	return C.size_t(uintptr(d.n) * uintptr(size))
}

// PredictInto runs forward on positional inputs, as Predict, and copies leaf 0
// of the result (the whole result when it is one tensor) into dst, which is
// then the only thing left of the call: there are no Outputs to close. It is
// the cheapest way to make a prediction whose result fits a buffer the caller
// reuses: one cgo call, no handle and no allocation. T must match the leaf's
// dtype (uint16 for float16 and bfloat16 bits) and len(dst) its number of
// elements, otherwise the error matches ErrInvalidArgument and dst is left
// as it was. Errors otherwise as Predict.
func PredictInto[T CopyElement](m *Model, dst []T, inputs ...*Tensor) error {
	d := dstOf(dst)
	_, err := m.runInto(context.Background(), "PredictInto", &d, inputs)
	runtime.KeepAlive(dst)
	return err
}

// PredictIntoContext is PredictInto bounded by ctx, as PredictContext.
func PredictIntoContext[T CopyElement](ctx context.Context, m *Model, dst []T, inputs ...*Tensor) error {
	d := dstOf(dst)
	_, err := m.runInto(ctx, "PredictIntoContext", &d, inputs)
	runtime.KeepAlive(dst)
	return err
}

func (m *Model) runInto(ctx context.Context, what string, d *leafDst, inputs []*Tensor) (*Outputs, error) {
	if !m.acquire() {
		return nil, closedError("model")
	}
	defer m.release()
	if ctx == nil {
		return nil, argError(what + ": nil context")
	}
	return m.invoke(ctx, nil, nil, nil, inputs, what, d)
}

// callInto is invoke's C call for PredictInto.
func (m *Model) callInto(what string, d *leafDst, ptrs []C.uintptr_t, opts *C.ti_run_options_t) error {
	var info C.gti_leaf_t
	e := C.gti_run_into(handle(unsafe.Pointer(m.ptr)), unsafe.SliceData(ptrs), C.size_t(len(ptrs)), handle(unsafe.Pointer(opts)),
		C.int(d.want), (*C.uint8_t)(d.ptr), d.nbytes(), &info)
	runtime.KeepAlive(m)
	runtime.KeepAlive(ptrs)
	if e != nil {
		return toError(e)
	}
	if info.status == C.GTI_NO_LEAF {
		return argError(what + ": the result has no leaves")
	}
	return leafError(what, 0, d, &info)
}

// CopyLeaf copies leaf i of o into dst without making a Tensor: one cgo call,
// no handle and no allocation. T must match the leaf's dtype (uint16 for
// float16 and bfloat16 bits) and len(dst) its number of elements; otherwise,
// and for an i out of range, the error matches ErrInvalidArgument. See
// Outputs.DType and Outputs.Shape to size dst.
func CopyLeaf[T CopyElement](o *Outputs, i int, dst []T) error {
	d := dstOf(dst)
	err := o.copyLeaf("CopyLeaf", i, &d)
	runtime.KeepAlive(dst)
	return err
}

// LeafValues returns a new slice holding a copy of leaf i of o (see CopyLeaf).
func LeafValues[T CopyElement](o *Outputs, i int) ([]T, error) {
	info, err := o.leafInfo("LeafValues", i)
	if err != nil {
		return nil, err
	}
	dst := make([]T, leafNumel(info))
	d := dstOf(dst)
	if err := o.copyLeaf("LeafValues", i, &d); err != nil {
		return nil, err
	}
	return dst, nil
}

func (o *Outputs) copyLeaf(what string, i int, d *leafDst) error {
	if !o.acquire() {
		return closedError("outputs")
	}
	defer o.release()
	if i < 0 {
		return argError(what + ": negative index " + strconv.Itoa(i))
	}
	var info C.gti_leaf_t
	e := C.gti_copy_leaf(handle(unsafe.Pointer(o.ptr)), C.size_t(i), C.int(d.want), (*C.uint8_t)(d.ptr), d.nbytes(), &info)
	runtime.KeepAlive(o)
	if e != nil {
		return toError(e)
	}
	return leafError(what, i, d, &info)
}

// leafInfo describes leaf i of o.
func (o *Outputs) leafInfo(what string, i int) (*C.gti_leaf_t, error) {
	if !o.acquire() {
		return nil, closedError("outputs")
	}
	defer o.release()
	if i < 0 {
		return nil, argError(what + ": negative index " + strconv.Itoa(i))
	}
	info := new(C.gti_leaf_t)
	C.gti_leaf_info(handle(unsafe.Pointer(o.ptr)), C.size_t(i), info)
	runtime.KeepAlive(o)
	if info.status != C.GTI_OK {
		return nil, leafError(what, i, nil, info)
	}
	return info, nil
}

func leafNumel(info *C.gti_leaf_t) int {
	size := DType(info.dtype).Size()
	if size == 0 {
		return 0
	}
	return int(info.nbytes) / size
}

// shape is the leaf's shape as far as info holds it.
func leafShape(info *C.gti_leaf_t) string {
	if info.ndim > C.GTI_DIMS {
		return fmt.Sprintf("(%d dims, %d elements)", info.ndim, leafNumel(info))
	}
	dims := info.dims // a copy: slicing info.dims would move every caller's info to the heap
	return fmt.Sprint(dims[:info.ndim])
}

// leafError explains a failed check of gti_copy_leaf (nil when none failed).
func leafError(what string, i int, d *leafDst, info *C.gti_leaf_t) error {
	switch info.status {
	case C.GTI_OK:
		return nil
	case C.GTI_NO_LEAF:
		return argError(fmt.Sprintf("%s: index %d out of range (%d leaves)", what, i, info.count))
	case C.GTI_NOT_TENSOR:
		return argError(fmt.Sprintf("%s: leaf %d is %s, not a tensor", what, i, Kind(info.kind).phrase()))
	case C.GTI_WRONG_DTYPE:
		want := d.want.String()
		if d.want < 0 {
			want = "float16 or bfloat16 (uint16)"
		}
		return argError(fmt.Sprintf("%s: leaf %d is %s %s, not %s", what, i, DType(info.dtype), leafShape(info), want))
	default: // C.GTI_WRONG_SIZE
		return argError(fmt.Sprintf("%s: destination holds %d elements, leaf %d (%s %s) %d",
			what, d.n, i, DType(info.dtype), leafShape(info), leafNumel(info)))
	}
}

// DType is the element type of leaf i; 0 (Float32) when i is out of range,
// leaf i is not a tensor, or o is nil or closed.
func (o *Outputs) DType(i int) DType {
	info, err := o.leafInfo("DType", i)
	if err != nil {
		return 0
	}
	return DType(info.dtype)
}

// Shape is the shape of leaf i (empty for a 0-dim leaf); nil when i is out of
// range, leaf i is not a tensor, or o is nil or closed.
func (o *Outputs) Shape(i int) []int64 {
	if i < 0 || !o.acquire() {
		return nil
	}
	defer o.release()
	if i >= int(C.ti_outputs_count(o.ptr)) || C.ti_outputs_kind(o.ptr, C.size_t(i)) != C.TI_KIND_TENSOR {
		return nil
	}
	n := int(C.ti_outputs_ndim(o.ptr, C.size_t(i)))
	shape := make([]int64, n)
	if n > 0 {
		copy(shape, unsafe.Slice((*int64)(unsafe.Pointer(C.ti_outputs_shape(o.ptr, C.size_t(i)))), n))
	}
	runtime.KeepAlive(o)
	return shape
}
