package torchinfer_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// modelsDir is $TORCHINFER_TEST_MODELS, or <repo>/build/models.
func modelsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("TORCHINFER_TEST_MODELS")
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "models")
	}
	if _, err := os.Stat(filepath.Join(dir, "reference.json")); err != nil {
		t.Fatalf("fixtures not found in %s (set TORCHINFER_TEST_MODELS): %v", dir, err)
	}
	return dir
}

func modelPath(t testing.TB, name string) string { return filepath.Join(modelsDir(t), name) }

// checkLive asserts, when the test ends, that every handle it made was freed.
func checkLive(t testing.TB) {
	t.Helper()
	before := torchinfer.LiveHandles()
	t.Cleanup(func() {
		if after := torchinfer.LiveHandles(); after != before {
			t.Errorf("live handles: %d at start, %d at end", before, after)
		}
	})
}

func mustLoad(t testing.TB, name string, opts ...torchinfer.Option) *torchinfer.Model {
	t.Helper()
	m, err := torchinfer.Load(modelPath(t, name), opts...)
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// get returns leaf i of out; the test closes it.
func get(t testing.TB, out *torchinfer.Outputs, i int) *torchinfer.Tensor {
	t.Helper()
	x, err := out.Get(i)
	if err != nil {
		t.Fatalf("Get(%d): %v", i, err)
	}
	return closeLater(t, x)
}

// find returns the leaf called name; the test closes it.
func find(t testing.TB, out *torchinfer.Outputs, name string) *torchinfer.Tensor {
	t.Helper()
	x, err := out.Find(name)
	if err != nil {
		t.Fatalf("Find(%q): %v", name, err)
	}
	return closeLater(t, x)
}

// tensor makes an input tensor; the test closes it.
func tensor[T torchinfer.Element](t testing.TB, data []T, shape ...int64) *torchinfer.Tensor {
	t.Helper()
	x, err := torchinfer.NewTensor(data, shape...)
	if err != nil {
		t.Fatalf("NewTensor(%v, %v): %v", data, shape, err)
	}
	return closeLater(t, x)
}

// closeLater closes c when the test ends.
func closeLater[C interface{ Close() error }](t testing.TB, c C) C {
	t.Helper()
	t.Cleanup(func() { c.Close() })
	return c
}

type refTensor struct {
	Name  string    `json:"name"`
	DType string    `json:"dtype"`
	Shape []int64   `json:"shape"`
	Data  []float64 `json:"data"`
}

type refCase struct {
	Name    string      `json:"name"`
	Model   string      `json:"model"`
	Method  string      `json:"method"`
	Named   bool        `json:"named"`
	Inputs  []refTensor `json:"inputs"`
	Outputs []refTensor `json:"outputs"`
}

func loadReference(t testing.TB) []refCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(modelsDir(t), "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []refCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("reference.json has no cases")
	}
	return ref.Cases
}

func findCase(t testing.TB, name string) refCase {
	t.Helper()
	for _, c := range loadReference(t) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %q in reference.json", name)
	return refCase{}
}

func convert[T torchinfer.Element](data []float64, f func(float64) T) []T {
	out := make([]T, len(data))
	for i, v := range data {
		out[i] = f(v)
	}
	return out
}

// makeTensor builds a tensor of a reference dtype from float64 values.
func makeTensor(r refTensor) (*torchinfer.Tensor, error) {
	switch r.DType {
	case "float32":
		return torchinfer.NewTensor(convert(r.Data, func(v float64) float32 { return float32(v) }), r.Shape...)
	case "float64":
		return torchinfer.NewTensor(r.Data, r.Shape...)
	case "int8":
		return torchinfer.NewTensor(convert(r.Data, func(v float64) int8 { return int8(v) }), r.Shape...)
	case "uint8":
		return torchinfer.NewTensor(convert(r.Data, func(v float64) uint8 { return uint8(v) }), r.Shape...)
	case "int16":
		return torchinfer.NewTensor(convert(r.Data, func(v float64) int16 { return int16(v) }), r.Shape...)
	case "int32":
		return torchinfer.NewTensor(convert(r.Data, func(v float64) int32 { return int32(v) }), r.Shape...)
	case "int64":
		return torchinfer.NewTensor(convert(r.Data, func(v float64) int64 { return int64(v) }), r.Shape...)
	case "bool":
		return torchinfer.NewTensor(convert(r.Data, func(v float64) bool { return v != 0 }), r.Shape...)
	}
	return nil, fmt.Errorf("makeTensor: dtype %s not supported by the test helper", r.DType)
}

func toFloat64s[T torchinfer.CopyElement](v []T, f func(T) float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = f(x)
	}
	return out
}

// asFloat64s copies a tensor out with its typed accessor and widens it.
func asFloat64s(t *torchinfer.Tensor) ([]float64, error) {
	switch t.DType() {
	case torchinfer.Float32:
		v, err := t.Float32s()
		return toFloat64s(v, func(x float32) float64 { return float64(x) }), err
	case torchinfer.Float64:
		return t.Float64s()
	case torchinfer.Int8:
		v, err := t.Int8s()
		return toFloat64s(v, func(x int8) float64 { return float64(x) }), err
	case torchinfer.Uint8:
		v, err := t.Uint8s()
		return toFloat64s(v, func(x uint8) float64 { return float64(x) }), err
	case torchinfer.Int16:
		v, err := t.Int16s()
		return toFloat64s(v, func(x int16) float64 { return float64(x) }), err
	case torchinfer.Int32:
		v, err := t.Int32s()
		return toFloat64s(v, func(x int32) float64 { return float64(x) }), err
	case torchinfer.Int64:
		v, err := t.Int64s()
		return toFloat64s(v, func(x int64) float64 { return float64(x) }), err
	case torchinfer.Bool:
		v, err := t.Bools()
		return toFloat64s(v, func(x bool) float64 {
			if x {
				return 1
			}
			return 0
		}), err
	}
	return nil, fmt.Errorf("asFloat64s: %s", t.DType())
}

func close64(got, want float64) bool {
	return math.Abs(got-want) <= 1e-6+1e-5*math.Abs(want)
}

// checkTensor compares a tensor with a reference leaf: dtype, shape, values.
func checkTensor(t testing.TB, what string, got *torchinfer.Tensor, want refTensor) {
	t.Helper()
	if got.DType().String() != want.DType {
		t.Errorf("%s: dtype %s, want %s", what, got.DType(), want.DType)
		return
	}
	if fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape) {
		t.Errorf("%s: shape %v, want %v", what, got.Shape(), want.Shape)
		return
	}
	vals, err := asFloat64s(got)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if len(vals) != len(want.Data) {
		t.Errorf("%s: %d values, want %d", what, len(vals), len(want.Data))
		return
	}
	for i := range vals {
		if !close64(vals[i], want.Data[i]) {
			t.Errorf("%s[%d] = %v, want %v", what, i, vals[i], want.Data[i])
			return
		}
	}
}
