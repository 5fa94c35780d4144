package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// A tensor on the wire, whichever protocol carried it: the protocol's
// datatype name, its shape, and its elements either as raw little-endian
// bytes (every datatype but BYTES) or as byte strings (BYTES).
type wireTensor struct {
	name     string
	datatype string
	shape    []int64
	raw      []byte   // row-major elements, little-endian, no padding
	strs     [][]byte // BYTES: one entry per element
}

const bytesType = "BYTES"

// The protocol's datatypes that have a LibTorch dtype. UINT16, UINT32 and
// UINT64 have none (LibTorch 1.13 has no unsigned types but uint8).
var dtypeOf = map[string]torchinfer.DType{
	"BOOL":  torchinfer.Bool,
	"UINT8": torchinfer.Uint8,
	"INT8":  torchinfer.Int8,
	"INT16": torchinfer.Int16,
	"INT32": torchinfer.Int32,
	"INT64": torchinfer.Int64,
	"FP16":  torchinfer.Float16,
	"BF16":  torchinfer.BFloat16,
	"FP32":  torchinfer.Float32,
	"FP64":  torchinfer.Float64,
}

// datatypeOf is the protocol's name for a LibTorch dtype.
func datatypeOf(d torchinfer.DType) string {
	for name, dt := range dtypeOf {
		if dt == d {
			return name
		}
	}
	return "" // every DType of the binding has a name above
}

// checkDatatype says whether the protocol's datatype name is served.
func checkDatatype(datatype string) error {
	if _, ok := dtypeOf[datatype]; ok || datatype == bytesType {
		return nil
	}
	switch datatype {
	case "UINT16", "UINT32", "UINT64":
		return badRequest("datatype %s is not supported: LibTorch has no %s tensors", datatype, strings.ToLower(datatype))
	}
	return badRequest("unknown datatype %q (BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64 or BYTES)", datatype)
}

// numElements is the product of shape, checked for negative dimensions and overflow.
func numElements(shape []int64) (int, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, badRequest("shape %v has a negative dimension", shape)
		}
		if d != 0 && n > math.MaxInt32/d {
			return 0, badRequest("shape %v has too many elements", shape)
		}
		n *= d
	}
	return int(n), nil
}

// checkRaw checks that raw holds exactly the elements of t's shape and datatype
// (for BYTES: a 4-byte little-endian length before each element) and decodes
// BYTES elements into t.strs.
func (t *wireTensor) checkRaw() error {
	n, err := numElements(t.shape)
	if err != nil {
		return badRequest("input %q: %v", t.name, err)
	}
	if t.datatype == bytesType {
		strs, err := decodeBytes(t.raw, n)
		if err != nil {
			return badRequest("input %q: %v", t.name, err)
		}
		t.strs, t.raw = strs, nil
		return nil
	}
	if want := n * dtypeOf[t.datatype].Size(); len(t.raw) != want {
		return badRequest("input %q: %d bytes of data, but %s %v takes %d", t.name, len(t.raw), t.datatype, t.shape, want)
	}
	return nil
}

// decodeBytes splits BYTES raw contents into n elements.
func decodeBytes(raw []byte, n int) ([][]byte, error) {
	strs := make([][]byte, 0, min(n, len(raw)/4)) // each element takes 4 bytes at least
	for len(raw) > 0 {
		if len(raw) < 4 {
			return nil, fmt.Errorf("BYTES data ends inside an element's 4-byte length")
		}
		l := binary.LittleEndian.Uint32(raw)
		raw = raw[4:]
		if uint64(l) > uint64(len(raw)) {
			return nil, fmt.Errorf("BYTES element %d says %d bytes, %d are left", len(strs), l, len(raw))
		}
		strs = append(strs, raw[:l:l])
		raw = raw[l:]
	}
	if len(strs) != n {
		return nil, fmt.Errorf("%d BYTES elements, the shape takes %d", len(strs), n)
	}
	return strs, nil
}

// encodeBytes is the raw form of BYTES elements.
func encodeBytes(strs [][]byte) []byte {
	size := 0
	for _, s := range strs {
		size += 4 + len(s)
	}
	out := make([]byte, 0, size)
	for _, s := range strs {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(s)))
		out = append(out, s...)
	}
	return out
}

// An elementWriter appends one element, given as a JSON token (a number,
// true or false), to raw little-endian data.
type elementWriter func(raw []byte, tok []byte) ([]byte, error)

// jsonElement returns the elementWriter of a (non-BYTES) datatype.
func jsonElement(datatype string) elementWriter {
	switch datatype {
	case "BOOL":
		return func(raw, tok []byte) ([]byte, error) {
			switch string(tok) {
			case "true", "1":
				return append(raw, 1), nil
			case "false", "0":
				return append(raw, 0), nil
			}
			return nil, fmt.Errorf("%s is not a BOOL (true or false)", tok)
		}
	case "UINT8":
		return intElement(0, math.MaxUint8, func(raw []byte, v int64) []byte { return append(raw, byte(v)) })
	case "INT8":
		return intElement(math.MinInt8, math.MaxInt8, func(raw []byte, v int64) []byte { return append(raw, byte(v)) })
	case "INT16":
		return intElement(math.MinInt16, math.MaxInt16, func(raw []byte, v int64) []byte {
			return binary.LittleEndian.AppendUint16(raw, uint16(v))
		})
	case "INT32":
		return intElement(math.MinInt32, math.MaxInt32, func(raw []byte, v int64) []byte {
			return binary.LittleEndian.AppendUint32(raw, uint32(v))
		})
	case "INT64":
		return intElement(math.MinInt64, math.MaxInt64, func(raw []byte, v int64) []byte {
			return binary.LittleEndian.AppendUint64(raw, uint64(v))
		})
	case "FP16":
		return floatElement(func(raw []byte, v float64) []byte {
			return binary.LittleEndian.AppendUint16(raw, float32ToHalf(float32(v)))
		})
	case "BF16":
		return floatElement(func(raw []byte, v float64) []byte {
			return binary.LittleEndian.AppendUint16(raw, float32ToBFloat16(float32(v)))
		})
	case "FP32":
		return floatElement(func(raw []byte, v float64) []byte {
			return binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v)))
		})
	case "FP64":
		return floatElement(func(raw []byte, v float64) []byte {
			return binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
		})
	}
	return nil
}

func intElement(lo, hi int64, put func([]byte, int64) []byte) elementWriter {
	return func(raw, tok []byte) ([]byte, error) {
		v, err := strconv.ParseInt(string(tok), 10, 64)
		if err != nil {
			// 3.0 or 1e3 are integers too; 2.5 and out-of-range values are not.
			f, ferr := strconv.ParseFloat(string(tok), 64)
			if ferr != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
				return nil, fmt.Errorf("%s is not an integer", tok)
			}
			v = int64(f)
		}
		if v < lo || v > hi {
			return nil, fmt.Errorf("%s is out of range [%d, %d]", tok, lo, hi)
		}
		return put(raw, v), nil
	}
}

func floatElement(put func([]byte, float64) []byte) elementWriter {
	return func(raw, tok []byte) ([]byte, error) {
		v, err := strconv.ParseFloat(string(tok), 64)
		if err != nil {
			// ParseFloat accepts "NaN" and "Inf", which the scanner never passes as a number,
			// and reports an out-of-range literal with ±Inf and a range error.
			return nil, fmt.Errorf("%s is not a number", tok)
		}
		return put(raw, v), nil
	}
}

// appendJSONElements appends the elements of raw data of a (non-BYTES)
// datatype to a JSON array's body, comma-separated. NaN and ±Inf, which JSON
// lacks, are written as NaN, Infinity and -Infinity, as Python's json module
// writes and reads them.
func appendJSONElements(dst []byte, datatype string, raw []byte) []byte {
	size := dtypeOf[datatype].Size()
	for i := 0; i+size <= len(raw); i += size {
		if i > 0 {
			dst = append(dst, ',')
		}
		e := raw[i : i+size]
		switch datatype {
		case "BOOL":
			dst = strconv.AppendBool(dst, e[0] != 0)
		case "UINT8":
			dst = strconv.AppendUint(dst, uint64(e[0]), 10)
		case "INT8":
			dst = strconv.AppendInt(dst, int64(int8(e[0])), 10)
		case "INT16":
			dst = strconv.AppendInt(dst, int64(int16(binary.LittleEndian.Uint16(e))), 10)
		case "INT32":
			dst = strconv.AppendInt(dst, int64(int32(binary.LittleEndian.Uint32(e))), 10)
		case "INT64":
			dst = strconv.AppendInt(dst, int64(binary.LittleEndian.Uint64(e)), 10)
		case "FP16":
			dst = appendFloat(dst, float64(halfToFloat32(binary.LittleEndian.Uint16(e))), 32)
		case "BF16":
			dst = appendFloat(dst, float64(bfloat16ToFloat32(binary.LittleEndian.Uint16(e))), 32)
		case "FP32":
			dst = appendFloat(dst, float64(math.Float32frombits(binary.LittleEndian.Uint32(e))), 32)
		case "FP64":
			dst = appendFloat(dst, math.Float64frombits(binary.LittleEndian.Uint64(e)), 64)
		}
	}
	return dst
}

func appendFloat(dst []byte, v float64, bits int) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(v, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, bits)
}

// float32ToHalf rounds v to the nearest IEEE 754 binary16 (ties to even).
func float32ToHalf(v float32) uint16 {
	b := math.Float32bits(v)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7fffffff > 0x7f800000: // NaN: keep it quiet
		return sign | 0x7e00
	case exp >= 0x1f: // overflow, or Inf
		return sign | 0x7c00
	case exp <= 0: // subnormal or zero in binary16
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - exp)
		half := mant >> shift
		rem := mant & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || rem == mid && half&1 == 1 {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || rem == 0x1000 && half&1 == 1 {
		half++ // may carry into the exponent, up to Inf: correct
	}
	return sign | uint16(half)
}

// halfToFloat32 is the exact float32 value of a binary16.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h >> 10 & 0x1f)
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		v := float32(mant) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// float32ToBFloat16 rounds v to the nearest bfloat16 (ties to even), as LibTorch does.
func float32ToBFloat16(v float32) uint16 {
	b := math.Float32bits(v)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b >> 16 & 1)) >> 16)
}

func bfloat16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }
