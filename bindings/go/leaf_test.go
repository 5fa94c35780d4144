package torchinfer_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// Reading result leaves without Tensor handles: CopyLeaf, LeafValues,
// Outputs.DType/Shape, and PredictInto (predict + copy-out of leaf 0 in one
// C call).

// widen converts copied-out values to float64, as asFloat64s does.
func widen[T torchinfer.CopyElement](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		switch x := any(x).(type) {
		case bool:
			if x {
				out[i] = 1
			}
		case float32:
			out[i] = float64(x)
		case float64:
			out[i] = x
		case int8:
			out[i] = float64(x)
		case uint8:
			out[i] = float64(x)
		case int16:
			out[i] = float64(x)
		case uint16:
			out[i] = float64(x)
		case int32:
			out[i] = float64(x)
		case int64:
			out[i] = float64(x)
		}
	}
	return out
}

// typedCopy calls fill with a new []T of n elements and widens it.
func typedCopy[T torchinfer.CopyElement](n int, fill func(dst []T) error) ([]float64, error) {
	dst := make([]T, n)
	if err := fill(dst); err != nil {
		return nil, err
	}
	return widen(dst), nil
}

// byDType runs the copy for the Go type of a reference dtype: fill receives
// a []T of n elements.
func byDType(dtype string, n int, fill func(dst any) error) ([]float64, error) {
	switch dtype {
	case "float32":
		return typedCopy(n, func(d []float32) error { return fill(d) })
	case "float64":
		return typedCopy(n, func(d []float64) error { return fill(d) })
	case "int8":
		return typedCopy(n, func(d []int8) error { return fill(d) })
	case "uint8":
		return typedCopy(n, func(d []uint8) error { return fill(d) })
	case "int16":
		return typedCopy(n, func(d []int16) error { return fill(d) })
	case "int32":
		return typedCopy(n, func(d []int32) error { return fill(d) })
	case "int64":
		return typedCopy(n, func(d []int64) error { return fill(d) })
	case "bool":
		return typedCopy(n, func(d []bool) error { return fill(d) })
	}
	return nil, fmt.Errorf("byDType: %s", dtype)
}

// copyLeaf is CopyLeaf for a dst of any CopyElement slice type.
func copyLeaf(out *torchinfer.Outputs, i int, dst any) error {
	switch d := dst.(type) {
	case []float32:
		return torchinfer.CopyLeaf(out, i, d)
	case []float64:
		return torchinfer.CopyLeaf(out, i, d)
	case []int8:
		return torchinfer.CopyLeaf(out, i, d)
	case []uint8:
		return torchinfer.CopyLeaf(out, i, d)
	case []int16:
		return torchinfer.CopyLeaf(out, i, d)
	case []int32:
		return torchinfer.CopyLeaf(out, i, d)
	case []int64:
		return torchinfer.CopyLeaf(out, i, d)
	case []bool:
		return torchinfer.CopyLeaf(out, i, d)
	}
	return fmt.Errorf("copyLeaf: %T", dst)
}

// predictInto is PredictInto for a dst of any CopyElement slice type.
func predictInto(m *torchinfer.Model, dst any, inputs []*torchinfer.Tensor) error {
	switch d := dst.(type) {
	case []float32:
		return torchinfer.PredictInto(m, d, inputs...)
	case []float64:
		return torchinfer.PredictInto(m, d, inputs...)
	case []int64:
		return torchinfer.PredictInto(m, d, inputs...)
	case []bool:
		return torchinfer.PredictInto(m, d, inputs...)
	}
	return fmt.Errorf("predictInto: %T", dst)
}

func numel(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

func checkValues(t *testing.T, what string, got []float64, err error, want refTensor) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if len(got) != len(want.Data) {
		t.Errorf("%s: %d values, want %d", what, len(got), len(want.Data))
		return
	}
	for i := range got {
		if !close64(got[i], want.Data[i]) {
			t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want.Data[i])
			return
		}
	}
}

// Every leaf of every reference case, read with CopyLeaf and LeafValues, and
// described by Outputs.DType and Shape; leaf 0 of every positional forward
// case through PredictInto.
func TestLeavesWithoutHandles(t *testing.T) {
	checkLive(t)
	models := map[string]*torchinfer.Model{}
	defer func() {
		for _, m := range models {
			m.Close()
		}
	}()
	into := 0
	for _, c := range loadReference(t) {
		t.Run(c.Name, func(t *testing.T) {
			m := models[c.Model]
			if m == nil {
				var err error
				if m, err = torchinfer.Load(modelPath(t, c.Model)); err != nil {
					t.Fatal(err)
				}
				models[c.Model] = m
			}
			out, err := runCase(m, c)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			if out.Len() != len(c.Outputs) {
				t.Fatalf("%d leaves, want %d", out.Len(), len(c.Outputs))
			}
			for i, want := range c.Outputs {
				if got := out.DType(i).String(); got != want.DType {
					t.Errorf("DType(%d) = %s, want %s", i, got, want.DType)
				}
				if got := out.Shape(i); got == nil || fmt.Sprint(got) != fmt.Sprint(want.Shape) {
					t.Errorf("Shape(%d) = %v, want %v", i, got, want.Shape)
				}
				got, err := byDType(want.DType, numel(want.Shape), func(dst any) error { return copyLeaf(out, i, dst) })
				checkValues(t, fmt.Sprintf("CopyLeaf(%d)", i), got, err, want)
			}
			if want := c.Outputs[0]; want.DType == "float32" {
				v, err := torchinfer.LeafValues[float32](out, 0)
				checkValues(t, "LeafValues", widen(v), err, want)
			}
			if c.Method != "forward" || c.Named {
				return
			}
			inputs := make([]*torchinfer.Tensor, len(c.Inputs))
			for i, in := range c.Inputs {
				inputs[i] = closeLater(t, mustTensor(t)(makeTensor(in)))
			}
			want := c.Outputs[0]
			got, err := byDType(want.DType, numel(want.Shape), func(dst any) error { return predictInto(m, dst, inputs) })
			checkValues(t, "PredictInto", got, err, want)
			into++
		})
	}
	if into < 6 {
		t.Errorf("PredictInto ran on %d cases only", into)
	}
}

// float16 and bfloat16 leaves copy into []uint16, as Tensor.CopyTo does.
func TestCopyLeafHalfPrecision(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "identity.pt")
	f16 := []uint16{0x3c00, 0xc000, 0x3800, 0x7c00}
	bf16 := []uint16{0x3f80, 0xc000, 0x3f00, 0x4040}
	for _, x := range []*torchinfer.Tensor{
		closeLater(t, mustTensor(t)(torchinfer.NewFloat16Tensor(f16, 2, 2))),
		closeLater(t, mustTensor(t)(torchinfer.NewBFloat16Tensor(bf16, 4))),
	} {
		want, _ := torchinfer.Values[uint16](x)
		out, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		if out.DType(0) != x.DType() {
			t.Errorf("%s: DType(0) = %s", x, out.DType(0))
		}
		got, err := torchinfer.LeafValues[uint16](out, 0)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: LeafValues = %x, %v; want %x", x, got, err, want)
		}
		wantCode(t, "CopyLeaf(int16 from "+x.DType().String()+")", torchinfer.CopyLeaf(out, 0, make([]int16, 4)),
			torchinfer.ErrInvalidArgument, "not int16")
		out.Close()
		dst := make([]uint16, 4)
		if err := torchinfer.PredictInto(m, dst, x); err != nil || !reflect.DeepEqual(dst, want) {
			t.Errorf("%s: PredictInto = %x, %v; want %x", x, dst, err, want)
		}
	}
	x := tensor(t, []int16{1, 2}, 2)
	wantCode(t, "PredictInto(uint16 from int16)", torchinfer.PredictInto(m, make([]uint16, 2), x),
		torchinfer.ErrInvalidArgument, "not float16 or bfloat16")
}

// A dst of the wrong type or length, or an index out of range, is
// ErrInvalidArgument saying what the leaf is; dst is left as it was, and the
// model's errors come through PredictInto unchanged. Nothing leaks.
func TestLeafErrors(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "mlp.pt")
	c := findCase(t, "mlp")
	x := closeLater(t, mustTensor(t)(makeTensor(c.Inputs[0])))
	out, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	untouched := func(what string, dst []float32) {
		t.Helper()
		for i, v := range dst {
			if v != -7 {
				t.Errorf("%s: dst[%d] = %v, want it untouched", what, i, v)
				return
			}
		}
	}
	fill := func(n int) []float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = -7
		}
		return d
	}
	short := fill(3)
	wantCode(t, "CopyLeaf(short)", torchinfer.CopyLeaf(out, 0, short), torchinfer.ErrInvalidArgument,
		"CopyLeaf: destination holds 3 elements, leaf 0 (float32 [1 4]) 4")
	untouched("CopyLeaf(short)", short)
	wantCode(t, "PredictInto(short)", torchinfer.PredictInto(m, short, x), torchinfer.ErrInvalidArgument,
		"PredictInto: destination holds 3 elements, leaf 0 (float32 [1 4]) 4")
	untouched("PredictInto(short)", short)
	wantCode(t, "CopyLeaf(int64)", torchinfer.CopyLeaf(out, 0, make([]int64, 4)), torchinfer.ErrInvalidArgument,
		"CopyLeaf: leaf 0 is float32 [1 4], not int64")
	wantCode(t, "PredictInto(float64)", torchinfer.PredictInto(m, make([]float64, 4), x), torchinfer.ErrInvalidArgument,
		"PredictInto: leaf 0 is float32 [1 4], not float64")
	wantCode(t, "CopyLeaf(1)", torchinfer.CopyLeaf(out, 1, make([]float32, 4)), torchinfer.ErrInvalidArgument,
		"index 1 out of range (1 leaves)")
	wantCode(t, "CopyLeaf(-1)", torchinfer.CopyLeaf(out, -1, make([]float32, 4)), torchinfer.ErrInvalidArgument,
		"negative index")
	wantCode(t, "LeafValues(1)", discardV(torchinfer.LeafValues[float32](out, 1)), torchinfer.ErrInvalidArgument,
		"index 1 out of range")
	wantCode(t, "LeafValues(int32)", discardV(torchinfer.LeafValues[int32](out, 0)), torchinfer.ErrInvalidArgument,
		"not int32")
	if out.DType(1) != 0 || out.Shape(1) != nil || out.Shape(-1) != nil || out.DType(-1) != 0 {
		t.Errorf("out of range: DType %v, Shape %v", out.DType(1), out.Shape(1))
	}
	// The model's own errors, as Predict gives them.
	wantCode(t, "PredictInto(no input)", torchinfer.PredictInto(m, make([]float32, 4)), torchinfer.ErrInvalidArgument, "")
	wantCode(t, "PredictInto(nil input)", torchinfer.PredictInto(m, make([]float32, 4), nil), torchinfer.ErrInvalidArgument, "nil *Tensor")
	faulty := mustLoad(t, "faulty.pt")
	bad := tensor(t, []float32{-1, -2, -3, -4}, 2, 2)
	wantCode(t, "PredictInto(faulty)", torchinfer.PredictInto(faulty, make([]float32, 4), bad), torchinfer.ErrRuntime, "")
	// An empty dst fits an empty leaf.
	id := mustLoad(t, "identity.pt")
	empty := tensor(t, []float32{}, 0, 3)
	if err := torchinfer.PredictInto(id, []float32{}, empty); err != nil {
		t.Errorf("PredictInto(empty): %v", err)
	}
	if err := torchinfer.PredictInto(id, []float32(nil), empty); err != nil {
		t.Errorf("PredictInto(nil dst, empty leaf): %v", err)
	}
	var e *torchinfer.Error
	if err := torchinfer.PredictInto(id, []float32(nil), x); !errors.As(err, &e) || !strings.Contains(e.Message, "holds 0 elements") {
		t.Errorf("PredictInto(nil dst): %v", err)
	}
}

// PredictInto from 64 goroutines on one model and one input gives the
// values of a single call, bit for bit, and matches the reference.
func TestConcurrentPredictInto(t *testing.T) {
	checkLive(t)
	c := findCase(t, "mlp_batch")
	m := mustLoad(t, "mlp.pt")
	x := closeLater(t, mustTensor(t)(makeTensor(c.Inputs[0])))
	want := make([]float32, numel(c.Outputs[0].Shape))
	if err := torchinfer.PredictInto(m, want, x); err != nil {
		t.Fatal(err)
	}
	checkValues(t, "single goroutine", widen(want), nil, c.Outputs[0])
	const goroutines, iterations = 64, 50
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		go func() {
			dst := make([]float32, len(want))
			for i := 0; i < iterations; i++ {
				if err := torchinfer.PredictInto(m, dst, x); err != nil {
					errs <- err
					return
				}
				if !reflect.DeepEqual(dst, want) {
					errs <- fmt.Errorf("goroutine %d, call %d: %v, want %v", g, i, dst, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < goroutines; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// Many PredictInto calls, half of them failing in the model and some with
// a dst that does not fit: the outputs made inside each call are freed.
func TestPredictIntoLeak(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "faulty.pt")
	good := tensor(t, []float32{1, 2, 3, 4}, 2, 2)
	bad := tensor(t, []float32{-1, -2, -3, -4}, 2, 2)
	start := torchinfer.LiveHandles()
	dst := make([]float32, 4)
	n := leakCycles(t)
	for i := 0; i < n; i++ {
		if err := torchinfer.PredictInto(m, dst, good); err != nil || dst[3] != 8 {
			t.Fatalf("cycle %d: %v %v", i, dst, err)
		}
		if err := torchinfer.PredictInto(m, dst, bad); !errors.Is(err, torchinfer.ErrRuntime) {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if err := torchinfer.PredictInto(m, dst[:3], good); !errors.Is(err, torchinfer.ErrInvalidArgument) {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if live := torchinfer.LiveHandles(); live != start {
			t.Fatalf("cycle %d: live handles %d, want %d", i, live, start)
		}
	}
}
