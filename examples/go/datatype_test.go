package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"
)

// float16 and bfloat16 conversions against values worked out by hand.
func TestHalfConversions(t *testing.T) {
	for _, c := range []struct {
		f    float32
		half uint16
	}{
		{0, 0x0000}, {1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800}, {65504, 0x7bff}, {1e6, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00}, {5.960464477539063e-08, 0x0001}, {6.103515625e-05, 0x0400},
		{1.0009765625, 0x3c01},  // exactly representable
		{1.00048828125, 0x3c00}, // halfway between 0x3c00 and 0x3c01: to even
		{1.00146484375, 0x3c02}, // halfway between 0x3c01 and 0x3c02: to even
		{2.9802322e-08, 0x0000}, // half the smallest subnormal: to even (zero)
		{65520, 0x7c00},         // halfway to the next binade: rounds to Inf
	} {
		if got := float32ToHalf(c.f); got != c.half {
			t.Errorf("float32ToHalf(%v) = %#04x, want %#04x", c.f, got, c.half)
		}
		if c.half&0x7c00 != 0x7c00 && float32ToHalf(halfToFloat32(c.half)) != c.half {
			t.Errorf("halfToFloat32(%#04x) = %v does not round-trip", c.half, halfToFloat32(c.half))
		}
	}
	if h := float32ToHalf(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN -> %#04x", h)
	}
	for _, c := range []struct {
		f  float32
		bf uint16
	}{{1, 0x3f80}, {-2, 0xc000}, {1.00390625, 0x3f80} /* halfway: to even */, {1.01171875, 0x3f82}} {
		if got := float32ToBFloat16(c.f); got != c.bf {
			t.Errorf("float32ToBFloat16(%v) = %#04x, want %#04x", c.f, got, c.bf)
		}
	}
}

// JSON elements become the datatype's little-endian bytes, with range checks.
func TestJSONData(t *testing.T) {
	for _, c := range []struct {
		datatype string
		shape    []int64
		data     string
		want     []byte
		err      string
	}{
		{"INT16", []int64{2, 2}, `[[1, -2], [3e2, 4.0]]`, le16(1, -2, 300, 4), ""},
		{"UINT8", []int64{3}, `[0, 255, 7]`, []byte{0, 255, 7}, ""},
		{"UINT8", []int64{1}, `[256]`, nil, "out of range"},
		{"INT8", []int64{1}, `[1.5]`, nil, "not an integer"},
		{"INT64", []int64{1}, `[9007199254740993]`, binary.LittleEndian.AppendUint64(nil, 9007199254740993), ""},
		{"BOOL", []int64{3}, `[true, false, 1]`, []byte{1, 0, 1}, ""},
		{"BOOL", []int64{1}, `[2]`, nil, "not a BOOL"},
		{"FP16", []int64{2}, `[1, -2]`, le16(0x3c00, -0x4000), ""},
		{"FP64", []int64{}, `0.25`, binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.25)), ""},
		{"FP32", []int64{2}, `[[[1]], [2]]`, append(binary.LittleEndian.AppendUint32(nil, math.Float32bits(1)), binary.LittleEndian.AppendUint32(nil, math.Float32bits(2))...), ""},
		{"FP32", []int64{2}, `[1, 2, 3]`, nil, "3 elements"},
		{"FP32", []int64{1}, `[{"a": 1}]`, nil, "object"},
	} {
		w := &wireTensor{name: "x", datatype: c.datatype, shape: c.shape}
		err := decodeJSONData(w, []byte(c.data))
		switch {
		case c.err != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(c.err))):
			t.Errorf("%s %s: %v, want an error with %q", c.datatype, c.data, err, c.err)
		case c.err == "" && (err != nil || !bytes.Equal(w.raw, c.want)):
			t.Errorf("%s %s: %x %v, want %x", c.datatype, c.data, w.raw, err, c.want)
		}
	}
	// And back: NaN and infinities as Python's json writes them.
	raw := binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))
	raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(math.Inf(-1))))
	raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(0.1))
	if got := string(appendJSONElements(nil, "FP32", raw)); got != "NaN,-Infinity,0.1" {
		t.Errorf("FP32 to JSON: %s", got)
	}
}

func le16(v ...int) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, uint16(int16(x)))
	}
	return b
}

func TestBytesCodec(t *testing.T) {
	strs := [][]byte{[]byte("a"), {}, []byte("n\x00l")}
	raw := encodeBytes(strs)
	if !bytes.Equal(raw, []byte("\x01\x00\x00\x00a\x00\x00\x00\x00\x03\x00\x00\x00n\x00l")) {
		t.Fatalf("encodeBytes: %q", raw)
	}
	got, err := decodeBytes(raw, 3)
	if err != nil || len(got) != 3 || string(got[2]) != "n\x00l" {
		t.Errorf("decodeBytes: %q %v", got, err)
	}
	for _, bad := range [][]byte{raw[:len(raw)-1], raw[:2], append(raw, 0)} {
		if _, err := decodeBytes(bad, 3); err == nil {
			t.Errorf("decodeBytes(%q) accepted", bad)
		}
	}
	if _, err := decodeBytes(raw, 2); err == nil {
		t.Error("decodeBytes accepted 3 elements for 2")
	}
}
