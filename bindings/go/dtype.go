package torchinfer

import "strconv"

// DType is a tensor element type (ti_dtype_t; the values are part of the ABI).
type DType int

// The element types.
const (
	Float32  DType = 0
	Float64  DType = 1
	Float16  DType = 2 // IEEE 754 binary16, passed as raw uint16 bit patterns
	BFloat16 DType = 3 // bfloat16, passed as raw uint16 bit patterns
	Int8     DType = 4
	Uint8    DType = 5
	Int16    DType = 6
	Int32    DType = 7
	Int64    DType = 8
	Bool     DType = 9 // one byte per element, 0 or 1
)

var dtypeNames = [...]string{"float32", "float64", "float16", "bfloat16", "int8", "uint8", "int16", "int32", "int64", "bool"}
var dtypeSizes = [...]int{4, 8, 2, 2, 1, 1, 2, 4, 8, 1}

// String is the lowercase name, as ti_dtype_name ("float32", "bfloat16", ...).
func (d DType) String() string {
	if d < 0 || int(d) >= len(dtypeNames) {
		return "unknown(" + strconv.Itoa(int(d)) + ")"
	}
	return dtypeNames[d]
}

// Size is the number of bytes per element; 0 for an unknown type.
func (d DType) Size() int {
	if d < 0 || int(d) >= len(dtypeSizes) {
		return 0
	}
	return dtypeSizes[d]
}

// ParseDType returns the DType named s ("float32", "int64", ...).
func ParseDType(s string) (DType, bool) {
	for i, n := range dtypeNames {
		if n == s {
			return DType(i), true
		}
	}
	return 0, false
}

// Element is the set of Go types that map one to one onto a DType.
// float16 and bfloat16 tensors hold raw uint16 bit patterns instead: make
// them with NewFloat16Tensor or NewBFloat16Tensor, and read them with
// Float16Bits, BFloat16Bits, or CopyTo and Values with T = uint16 (see
// CopyElement).
type Element interface {
	float32 | float64 | int8 | uint8 | int16 | int32 | int64 | bool
}

// CopyElement is the set of Go types a tensor can be copied out into:
// the Element types plus uint16 for the raw bits of float16 and bfloat16.
type CopyElement interface {
	Element | uint16
}

// dtypeFor is the DType of T; for uint16 it returns -1 (Float16 or BFloat16).
func dtypeFor[T CopyElement]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float32
	case float64:
		return Float64
	case int8:
		return Int8
	case uint8:
		return Uint8
	case int16:
		return Int16
	case int32:
		return Int32
	case int64:
		return Int64
	case bool:
		return Bool
	}
	return -1 // uint16
}
