package torchinfer_test

import (
	"errors"
	"math"
	"reflect"
	"testing"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// roundTrip sends x through identity.pt and returns the single output leaf.
func roundTrip(t *testing.T, m *torchinfer.Model, x *torchinfer.Tensor) *torchinfer.Tensor {
	t.Helper()
	out, err := m.Predict(x)
	if err != nil {
		t.Fatalf("Predict(%v): %v", x, err)
	}
	defer out.Close()
	if out.Len() != 1 || out.Name(0) != "0" {
		t.Fatalf("leaves %v, want [0]", out.Names())
	}
	y := get(t, out, 0)
	if y.DType() != x.DType() || !reflect.DeepEqual(y.Shape(), x.Shape()) {
		t.Fatalf("got %v, want %v", y, x)
	}
	return y
}

func roundTripTyped[T torchinfer.Element](t *testing.T, m *torchinfer.Model, want torchinfer.DType, data []T, typed func(*torchinfer.Tensor) ([]T, error)) {
	t.Helper()
	x := tensor(t, data, 2, int64(len(data)/2))
	if x.DType() != want {
		t.Fatalf("NewTensor(%T) has dtype %s, want %s", data, x.DType(), want)
	}
	y := roundTrip(t, m, x)
	got, err := typed(y)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, data) {
		t.Errorf("%s: got %v, want %v", want, got, data)
	}
	// The generic copy-out gives the same values.
	dst := make([]T, len(data))
	if err := torchinfer.CopyTo(y, dst); err != nil || !reflect.DeepEqual(dst, data) {
		t.Errorf("%s: CopyTo = %v, %v; want %v", want, dst, err, data)
	}
	raw, err := y.Bytes()
	if err != nil || len(raw) != len(data)*want.Size() {
		t.Errorf("%s: Bytes() = %d bytes, %v", want, len(raw), err)
	}
}

func TestEveryDType(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "identity.pt")
	roundTripTyped(t, m, torchinfer.Float32, []float32{1.5, -2.25, 3e-8, float32(math.Inf(1)), 0, 7}, (*torchinfer.Tensor).Float32s)
	roundTripTyped(t, m, torchinfer.Float64, []float64{1.5, -2.25, 1e-300, math.MaxFloat64, 0, 7}, (*torchinfer.Tensor).Float64s)
	roundTripTyped(t, m, torchinfer.Int8, []int8{-128, -1, 0, 1, 127, 5}, (*torchinfer.Tensor).Int8s)
	roundTripTyped(t, m, torchinfer.Uint8, []uint8{0, 1, 2, 128, 254, 255}, (*torchinfer.Tensor).Uint8s)
	roundTripTyped(t, m, torchinfer.Int16, []int16{-32768, -1, 0, 1, 32767, 300}, (*torchinfer.Tensor).Int16s)
	roundTripTyped(t, m, torchinfer.Int32, []int32{math.MinInt32, -1, 0, 1, math.MaxInt32, 70000}, (*torchinfer.Tensor).Int32s)
	roundTripTyped(t, m, torchinfer.Int64, []int64{math.MinInt64, -1, 0, 1, math.MaxInt64, 1 << 40}, (*torchinfer.Tensor).Int64s)
	roundTripTyped(t, m, torchinfer.Bool, []bool{true, false, false, true, true, false}, (*torchinfer.Tensor).Bools)

	// float16: 1.0 = 0x3c00, -2.0 = 0xc000, 0.5 = 0x3800, +inf = 0x7c00.
	f16 := []uint16{0x3c00, 0xc000, 0x3800, 0x7c00}
	x16 := closeLater(t, mustTensor(t)(torchinfer.NewFloat16Tensor(f16, 2, 2)))
	if x16.DType() != torchinfer.Float16 {
		t.Fatalf("dtype %s", x16.DType())
	}
	y16 := roundTrip(t, m, x16)
	if got, err := y16.Float16Bits(); err != nil || !reflect.DeepEqual(got, f16) {
		t.Errorf("float16: %v, %v; want %v", got, err, f16)
	}
	// bfloat16: 1.0 = 0x3f80, -2.0 = 0xc000, 0.5 = 0x3f00, 3.0 = 0x4040.
	bf16 := []uint16{0x3f80, 0xc000, 0x3f00, 0x4040}
	xbf := closeLater(t, mustTensor(t)(torchinfer.NewBFloat16Tensor(bf16, 4)))
	ybf := roundTrip(t, m, xbf)
	if got, err := ybf.BFloat16Bits(); err != nil || !reflect.DeepEqual(got, bf16) {
		t.Errorf("bfloat16: %v, %v; want %v", got, err, bf16)
	}
	dst := make([]uint16, 4)
	if err := torchinfer.CopyTo(ybf, dst); err != nil || !reflect.DeepEqual(dst, bf16) {
		t.Errorf("bfloat16 CopyTo: %v, %v", dst, err)
	}
	// The double method computes in the tensor's dtype: bfloat16 2*1.0 = 2.0 = 0x4000.
	out, err := m.RunMethod("double", xbf)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if got, err := get(t, out, 0).BFloat16Bits(); err != nil || !reflect.DeepEqual(got, []uint16{0x4000, 0xc080, 0x3f80, 0x40c0}) {
		t.Errorf("bfloat16 double: %x, %v", got, err)
	}
}

func mustTensor(t *testing.T) func(*torchinfer.Tensor, error) *torchinfer.Tensor {
	return func(x *torchinfer.Tensor, err error) *torchinfer.Tensor {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
}

func TestTensorBasics(t *testing.T) {
	checkLive(t)
	x := tensor(t, []int32{1, 2, 3, 4, 5, 6}, 2, 3)
	if x.DType() != torchinfer.Int32 || x.DType().String() != "int32" || x.DType().Size() != 4 {
		t.Errorf("dtype %v", x.DType())
	}
	if !reflect.DeepEqual(x.Shape(), []int64{2, 3}) || x.NumElements() != 6 || x.NumBytes() != 24 {
		t.Errorf("shape %v numel %d nbytes %d", x.Shape(), x.NumElements(), x.NumBytes())
	}
	if x.Device() != "cpu" {
		t.Errorf("device %q", x.Device())
	}
	if x.String() != "Tensor(int32, [2 3])" {
		t.Errorf("String() = %q", x.String())
	}
	// Shape returns a copy.
	x.Shape()[0] = 99
	if x.Shape()[0] != 2 {
		t.Error("Shape() aliases the tensor's shape")
	}
	// The input slice is copied at creation.
	data := []float32{1, 2}
	y := tensor(t, data, 2)
	data[0] = 42
	if got, _ := y.Float32s(); got[0] != 1 {
		t.Errorf("tensor aliases Go memory: %v", got)
	}
	// A scalar, and an empty tensor.
	s := closeLater(t, mustTensor(t)(torchinfer.Scalar(2.5)))
	if len(s.Shape()) != 0 || s.NumElements() != 1 || s.DType() != torchinfer.Float64 {
		t.Errorf("scalar: %v", s)
	}
	if v, err := s.Float64s(); err != nil || !reflect.DeepEqual(v, []float64{2.5}) {
		t.Errorf("scalar values %v, %v", v, err)
	}
	e := tensor(t, []float32{}, 0, 3)
	if v, err := e.Float32s(); err != nil || len(v) != 0 || e.NumElements() != 0 {
		t.Errorf("empty: %v, %v", v, err)
	}
	// Raw bytes.
	b := closeLater(t, mustTensor(t)(torchinfer.NewTensorBytes(torchinfer.Int16, []byte{1, 0, 0, 1}, 2)))
	if v, err := b.Int16s(); err != nil || !reflect.DeepEqual(v, []int16{1, 256}) {
		t.Errorf("bytes: %v, %v", v, err)
	}
	// Wrong copy-outs are errors, not conversions.
	if _, err := x.Float32s(); !errors.Is(err, torchinfer.ErrInvalidArgument) {
		t.Errorf("Float32s on int32: %v", err)
	}
	if _, err := x.Float16Bits(); !errors.Is(err, torchinfer.ErrInvalidArgument) {
		t.Errorf("Float16Bits on int32: %v", err)
	}
	if err := torchinfer.CopyTo(x, make([]int32, 5)); !errors.Is(err, torchinfer.ErrInvalidArgument) {
		t.Errorf("CopyTo short slice: %v", err)
	}
	if err := torchinfer.CopyTo(x, make([]uint16, 6)); !errors.Is(err, torchinfer.ErrInvalidArgument) {
		t.Errorf("CopyTo uint16 from int32: %v", err)
	}
	for d := torchinfer.Float32; d <= torchinfer.Bool; d++ {
		if p, ok := torchinfer.ParseDType(d.String()); !ok || p != d {
			t.Errorf("ParseDType(%q) = %v, %v", d.String(), p, ok)
		}
	}
}

func TestTensorUseAfterClose(t *testing.T) {
	checkLive(t)
	x, err := torchinfer.NewTensor([]float32{1, 2, 3}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil { // idempotent
		t.Fatal(err)
	}
	if _, err := x.Float32s(); !errors.Is(err, torchinfer.ErrClosed) || !errors.Is(err, torchinfer.ErrInvalidArgument) {
		t.Errorf("Float32s after Close: %v", err)
	}
	if x.Device() != "" || x.String() != "Tensor(closed)" {
		t.Errorf("closed tensor: %q %q", x.Device(), x.String())
	}
	m := mustLoad(t, "identity.pt")
	if _, err := m.Predict(x); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("Predict with a closed input: %v", err)
	}
	if _, err := m.Predict(nil); !errors.Is(err, torchinfer.ErrInvalidArgument) {
		t.Errorf("Predict(nil): %v", err)
	}
	var nilTensor *torchinfer.Tensor
	if err := nilTensor.Close(); err != nil {
		t.Error(err)
	}
}
