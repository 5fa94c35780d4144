package torchinfer

/*
#cgo noescape ti_tensor_create
#cgo nocallback ti_tensor_create
#cgo noescape ti_tensor_copy_to
#cgo nocallback ti_tensor_copy_to
#cgo nocallback ti_tensor_free
#include "torchinfer.h"

_Static_assert(TI_DTYPE_FLOAT32 == 0 && TI_DTYPE_FLOAT64 == 1 && TI_DTYPE_FLOAT16 == 2 &&
               TI_DTYPE_BFLOAT16 == 3 && TI_DTYPE_INT8 == 4 && TI_DTYPE_UINT8 == 5 &&
               TI_DTYPE_INT16 == 6 && TI_DTYPE_INT32 == 7 && TI_DTYPE_INT64 == 8 && TI_DTYPE_BOOL == 9,
               "ti_dtype_t values changed: update dtype.go");
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Tensor is an n-dimensional array held by libtorchinfer: an input made with
// NewTensor, or a leaf of a prediction's Outputs. The library never modifies
// it after creation (except through a model that modifies an input argument
// in place), so it may be shared by goroutines. Close it when done.
type Tensor struct {
	ptr     *C.ti_tensor_t
	ref     ref
	cleanup runtime.Cleanup
	dtype   DType
	shape   []int64
	numel   int64
	dims    [4]int64 // storage for shape up to 4 dimensions: one allocation less per tensor
}

// wrapTensor takes ownership of a C tensor whose dtype and shape are known;
// shape is copied.
func wrapTensor(p *C.ti_tensor_t, dtype DType, shape []int64) *Tensor {
	t := &Tensor{ptr: p, dtype: dtype, numel: 1}
	if len(shape) <= len(t.dims) {
		t.shape = t.dims[:len(shape):len(shape)]
	} else {
		t.shape = make([]int64, len(shape))
	}
	copy(t.shape, shape)
	for _, d := range shape {
		t.numel *= d
	}
	t.cleanup = runtime.AddCleanup(t, freeTensor, p)
	return t
}

func freeTensor(p *C.ti_tensor_t) { C.ti_tensor_free(p) }

// NewTensor makes a CPU tensor holding a copy of data (row-major) with the
// given shape. With no shape the tensor is a 0-dim scalar (data must hold one
// value). len(data) must equal the product of the shape, otherwise the error
// matches ErrInvalidArgument.
func NewTensor[T Element](data []T, shape ...int64) (*Tensor, error) {
	return newTensor(dtypeFor[T](), unsafe.Pointer(unsafe.SliceData(data)), len(data), shape)
}

// Scalar makes a 0-dim tensor holding v (e.g. for a `float` model argument).
func Scalar[T Element](v T) (*Tensor, error) {
	return NewTensor([]T{v})
}

// NewFloat16Tensor makes a float16 tensor from raw IEEE 754 binary16 bit patterns.
func NewFloat16Tensor(bits []uint16, shape ...int64) (*Tensor, error) {
	return newTensor(Float16, unsafe.Pointer(unsafe.SliceData(bits)), len(bits), shape)
}

// NewBFloat16Tensor makes a bfloat16 tensor from raw bit patterns (the top
// 16 bits of the float32 value).
func NewBFloat16Tensor(bits []uint16, shape ...int64) (*Tensor, error) {
	return newTensor(BFloat16, unsafe.Pointer(unsafe.SliceData(bits)), len(bits), shape)
}

// NewTensorBytes makes a tensor of any dtype from its raw row-major bytes
// (native byte order); len(data) must be the product of the shape times dtype.Size().
func NewTensorBytes(dtype DType, data []byte, shape ...int64) (*Tensor, error) {
	if dtype.Size() == 0 {
		return nil, argError("NewTensorBytes: unknown dtype " + dtype.String())
	}
	if len(data)%dtype.Size() != 0 {
		return nil, argError(fmt.Sprintf("NewTensorBytes: %d bytes is not a whole number of %s elements", len(data), dtype))
	}
	return newTensor(dtype, unsafe.Pointer(unsafe.SliceData(data)), len(data)/dtype.Size(), shape)
}

func newTensor(dtype DType, data unsafe.Pointer, n int, shape []int64) (*Tensor, error) {
	var out *C.ti_tensor_t
	nbytes := uintptr(n) * uintptr(dtype.Size())
	if n == 0 {
		data = nil
	}
	e := C.ti_tensor_create(C.ti_dtype_t(dtype), (*C.int64_t)(unsafe.Pointer(unsafe.SliceData(shape))),
		C.size_t(len(shape)), data, C.size_t(nbytes), &out)
	runtime.KeepAlive(data)
	if e != nil {
		return nil, toError(e)
	}
	return wrapTensor(out, dtype, shape), nil
}

// Close frees the tensor. It is idempotent and safe to call while other
// goroutines use the tensor (their calls finish first). It always returns
// nil, also for a nil *Tensor.
func (t *Tensor) Close() error {
	if t == nil {
		return nil
	}
	first, freeNow := t.ref.close()
	if first {
		t.cleanup.Stop()
	}
	if freeNow {
		C.ti_tensor_free(t.ptr)
	}
	return nil
}

func (t *Tensor) acquire() bool { return t != nil && t.ref.acquire() }

func (t *Tensor) release() {
	if t.ref.release() {
		C.ti_tensor_free(t.ptr)
	}
}

// DType, Shape, NumElements and NumBytes answer from what the tensor was made
// with: they keep answering after Close, and return zero values for a nil
// *Tensor.

// DType is the element type.
func (t *Tensor) DType() DType {
	if t == nil {
		return 0
	}
	return t.dtype
}

// Shape is a copy of the sizes of the dimensions (empty for a scalar).
func (t *Tensor) Shape() []int64 {
	if t == nil {
		return nil
	}
	return append([]int64{}, t.shape...)
}

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	if t == nil {
		return 0
	}
	return int(t.numel)
}

// NumBytes is NumElements() * DType().Size().
func (t *Tensor) NumBytes() int {
	if t == nil {
		return 0
	}
	return int(t.numel) * t.dtype.Size()
}

// Device is where the data lives, "cpu" or "cuda:N" ("" for a nil or closed
// tensor: it is read from the C handle).
// Outputs stay on the model's device; the copy-outs work from any device.
func (t *Tensor) Device() string {
	if !t.acquire() {
		return ""
	}
	d := C.GoString(C.ti_tensor_device(t.ptr))
	t.release()
	runtime.KeepAlive(t)
	return d
}

// String describes the tensor, e.g. "Tensor(float32, [1 4])"; "Tensor(nil)"
// and "Tensor(closed)" for a nil or closed tensor.
func (t *Tensor) String() string {
	if t == nil {
		return "Tensor(nil)"
	}
	if t.ref.isClosed() {
		return "Tensor(closed)"
	}
	return fmt.Sprintf("Tensor(%s, %v)", t.dtype, t.shape)
}

// copyOut copies the tensor's bytes into dst, which holds n elements of the
// tensor's dtype (checked by the callers).
func (t *Tensor) copyOut(dst unsafe.Pointer, n int) error {
	if !t.acquire() {
		return closedError("tensor")
	}
	defer t.release()
	if int64(n) != t.numel {
		return argError(fmt.Sprintf("copy out: destination holds %d elements, the tensor %d", n, t.numel))
	}
	if n == 0 {
		return nil
	}
	e := C.ti_tensor_copy_to(t.ptr, dst, C.size_t(uintptr(n)*uintptr(t.dtype.Size())))
	runtime.KeepAlive(t)
	return toError(e)
}

// checkDType checks, before the dtype, that the tensor is open: a closed
// tensor is ErrClosed whatever is asked of it.
func (t *Tensor) checkDType(want DType, what string) error {
	if t == nil || t.ref.isClosed() {
		return closedError("tensor")
	}
	if t.dtype != want {
		return argError(fmt.Sprintf("%s: the tensor is %s, not %s", what, t.dtype, want))
	}
	return nil
}

// CopyTo copies the tensor's elements, row-major, into dst. T must match the
// dtype (uint16 for Float16 and BFloat16 bit patterns) and len(dst) must be
// t.NumElements(); otherwise the error matches ErrInvalidArgument.
func CopyTo[T CopyElement](t *Tensor, dst []T) error {
	want := dtypeFor[T]()
	if want < 0 { // uint16
		if t != nil && (t.dtype == Float16 || t.dtype == BFloat16) {
			want = t.dtype
		} else {
			want = Float16
		}
	}
	if err := t.checkDType(want, "CopyTo"); err != nil {
		return err
	}
	err := t.copyOut(unsafe.Pointer(unsafe.SliceData(dst)), len(dst))
	runtime.KeepAlive(dst)
	return err
}

// Values returns a new slice holding a copy of the tensor's elements (see CopyTo).
func Values[T CopyElement](t *Tensor) ([]T, error) {
	if t == nil || t.ref.isClosed() {
		return nil, closedError("tensor")
	}
	dst := make([]T, t.numel)
	if err := CopyTo(t, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// Float32s copies out a float32 tensor.
func (t *Tensor) Float32s() ([]float32, error) { return Values[float32](t) }

// Float64s copies out a float64 tensor.
func (t *Tensor) Float64s() ([]float64, error) { return Values[float64](t) }

// Int8s copies out an int8 tensor.
func (t *Tensor) Int8s() ([]int8, error) { return Values[int8](t) }

// Uint8s copies out a uint8 tensor.
func (t *Tensor) Uint8s() ([]uint8, error) { return Values[uint8](t) }

// Int16s copies out an int16 tensor.
func (t *Tensor) Int16s() ([]int16, error) { return Values[int16](t) }

// Int32s copies out an int32 tensor.
func (t *Tensor) Int32s() ([]int32, error) { return Values[int32](t) }

// Int64s copies out an int64 tensor.
func (t *Tensor) Int64s() ([]int64, error) { return Values[int64](t) }

// Bools copies out a bool tensor.
func (t *Tensor) Bools() ([]bool, error) { return Values[bool](t) }

// Float16Bits copies out a float16 tensor as raw binary16 bit patterns.
func (t *Tensor) Float16Bits() ([]uint16, error) {
	if err := t.checkDType(Float16, "Float16Bits"); err != nil {
		return nil, err
	}
	return Values[uint16](t)
}

// BFloat16Bits copies out a bfloat16 tensor as raw bit patterns.
func (t *Tensor) BFloat16Bits() ([]uint16, error) {
	if err := t.checkDType(BFloat16, "BFloat16Bits"); err != nil {
		return nil, err
	}
	return Values[uint16](t)
}

// Bytes copies out the raw row-major bytes of a tensor of any dtype.
func (t *Tensor) Bytes() ([]byte, error) {
	if t == nil || t.ref.isClosed() {
		return nil, closedError("tensor")
	}
	dst := make([]byte, t.NumBytes())
	err := t.copyOut(unsafe.Pointer(unsafe.SliceData(dst)), int(t.numel))
	runtime.KeepAlive(dst)
	if err != nil {
		return nil, err
	}
	return dst, nil
}
