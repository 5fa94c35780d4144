package torchinfer_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

func TestRuntimeInfo(t *testing.T) {
	if v := torchinfer.Version(); v != torchinfer.HeaderVersion() || !strings.HasPrefix(v, "0.") {
		t.Errorf("Version() = %q, HeaderVersion() = %q", v, torchinfer.HeaderVersion())
	}
	if torchinfer.TorchVersion() == "" {
		t.Error("empty TorchVersion()")
	}
	if n := torchinfer.CUDADeviceCount(); n < 0 {
		t.Errorf("CUDADeviceCount() = %d", n)
	}
	old := torchinfer.NumThreads()
	if old < 1 {
		t.Fatalf("NumThreads() = %d", old)
	}
	if err := torchinfer.SetNumThreads(1); err != nil || torchinfer.NumThreads() != 1 {
		t.Errorf("SetNumThreads(1): %v, now %d", err, torchinfer.NumThreads())
	}
	if err := torchinfer.SetNumThreads(old); err != nil {
		t.Error(err)
	}
}

func TestModelMetadata(t *testing.T) {
	checkLive(t)
	named := mustLoad(t, "named.pt")
	if got := named.Inputs(); !reflect.DeepEqual(got, []string{"ids", "mask", "bias", "scale"}) {
		t.Errorf("Inputs() = %v", got)
	}
	if named.Device() != "cpu" {
		t.Errorf("Device() = %q", named.Device())
	}
	s := mustLoad(t, "structured.pt", torchinfer.WithDevice("cpu"))
	if got := s.Methods(); !reflect.DeepEqual(got, []string{"dict_out", "forward", "scalars", "text"}) {
		t.Errorf("Methods() = %v", got)
	}
	// Accessors return copies.
	s.Methods()[0] = "x"
	if s.Methods()[0] != "dict_out" {
		t.Error("Methods() aliases the model's list")
	}
}

func TestStructuredOutputsByName(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "structured.pt")
	x := tensor(t, []float32{1, 2, 3, 4}, 2, 2)

	out, err := m.RunMethod("dict_out", x)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if got := out.Names(); !reflect.DeepEqual(got, []string{"boxes.0", "boxes.1", "boxes.2", "scores.0"}) {
		t.Fatalf("Names() = %v", got)
	}
	if v, _ := find(t, out, "boxes.2").Float32s(); !reflect.DeepEqual(v, []float32{3, 4, 5, 6}) {
		t.Errorf("boxes.2 = %v", v)
	}
	score := find(t, out, "scores.0")
	if v, _ := score.Float32s(); len(score.Shape()) != 0 || !reflect.DeepEqual(v, []float32{10}) {
		t.Errorf("scores.0 = %v %v", score.Shape(), v)
	}
	if out.Name(4) != "" || out.Name(-1) != "" {
		t.Error("Name out of range is not empty")
	}

	nested, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := find(t, nested, "1.0").Float32s(); !reflect.DeepEqual(v, []float32{2, 4, 6, 8}) {
		t.Errorf("1.0 = %v", v)
	}
	// A leaf outlives its Outputs and its Model.
	sum := find(t, nested, "1.1")
	nested.Close()
	if v, err := sum.Float32s(); err != nil || !reflect.DeepEqual(v, []float32{10}) {
		t.Errorf("1.1 after Outputs.Close: %v %v", v, err)
	}

	sc, err := m.RunMethod("scalars", x)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if v, _ := find(t, sc, "0").Int64s(); !reflect.DeepEqual(v, []int64{4}) {
		t.Errorf("numel = %v", v)
	}
	if v, _ := find(t, sc, "1").Float64s(); !reflect.DeepEqual(v, []float64{10}) {
		t.Errorf("sum = %v", v)
	}
	if v, _ := find(t, sc, "2").Bools(); !reflect.DeepEqual(v, []bool{true}) {
		t.Errorf("positive = %v", v)
	}
}

func TestNamedInputs(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "named.pt")
	ids := tensor(t, []float32{1, 2, 3}, 1, 3)
	mask := tensor(t, []float32{1, 0, 1}, 1, 3)
	bias := tensor(t, []float32{0.5, 0.5, 0.5}, 1, 3)
	scale := closeLater(t, mustTensor(t)(torchinfer.Scalar(2.0)))
	cases := []struct {
		in   map[string]*torchinfer.Tensor
		want []float32
	}{
		{map[string]*torchinfer.Tensor{"mask": mask, "ids": ids}, []float32{1, 0, 3}},
		{map[string]*torchinfer.Tensor{"bias": bias, "mask": mask, "ids": ids}, []float32{1.5, 0.5, 3.5}},
		{map[string]*torchinfer.Tensor{"scale": scale, "ids": ids, "mask": mask, "bias": bias}, []float32{2.5, 0.5, 6.5}},
	}
	for _, c := range cases {
		out, err := m.PredictNamed(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := get(t, out, 0).Float32s(); !reflect.DeepEqual(v, c.want) {
			t.Errorf("%v: %v, want %v", reflect.ValueOf(c.in).MapKeys(), v, c.want)
		}
		out.Close()
	}
	_, err := m.PredictNamed(map[string]*torchinfer.Tensor{"ids": ids})
	if !errors.Is(err, torchinfer.ErrInvalidArgument) || !strings.Contains(err.Error(), "mask") {
		t.Errorf("missing mask: %v", err)
	}
	_, err = m.PredictNamed(map[string]*torchinfer.Tensor{"ids\x00": ids})
	if !errors.Is(err, torchinfer.ErrInvalidArgument) {
		t.Errorf("NUL in name: %v", err)
	}
}

func TestRunMethodNamed(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "identity.pt")
	x := tensor(t, []float32{2, 3}, 2)
	out, err := m.RunMethodNamed("double", map[string]*torchinfer.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 1 || out.Name(0) != "0" {
		t.Errorf("leaves %v", out.Names())
	}
	if v, err := find(t, out, "0").Float32s(); err != nil || !reflect.DeepEqual(v, []float32{4, 6}) {
		t.Errorf("double(x=[2 3]) = %v, %v; want [4 6]", v, err)
	}
	out.Close()
	_, err = m.RunMethodNamed("double", map[string]*torchinfer.Tensor{"y": x})
	if !errors.Is(err, torchinfer.ErrInvalidArgument) || !strings.Contains(err.Error(), "'y'") {
		t.Errorf("unknown name y: %v", err)
	}
	_, err = m.RunMethodNamed("no_such_method", map[string]*torchinfer.Tensor{"x": x})
	if !errors.Is(err, torchinfer.ErrNotFound) {
		t.Errorf("unknown method: %v", err)
	}
	_, err = m.RunMethodNamed("double\x00", map[string]*torchinfer.Tensor{"x": x})
	if !errors.Is(err, torchinfer.ErrInvalidArgument) {
		t.Errorf("NUL in method name: %v", err)
	}
}

func TestLoadBytes(t *testing.T) {
	checkLive(t)
	data, err := os.ReadFile(modelPath(t, "identity.pt"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := torchinfer.LoadBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range data { // the library copied what it needs
		data[i] = 0
	}
	x := tensor(t, []int64{3, -4}, 2)
	out, err := m.RunMethod("double", x)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if v, _ := get(t, out, 0).Int64s(); !reflect.DeepEqual(v, []int64{6, -8}) {
		t.Errorf("double = %v", v)
	}
	if !reflect.DeepEqual(m.Methods(), []string{"double", "forward"}) || m.Device() != "cpu" {
		t.Errorf("methods %v device %q", m.Methods(), m.Device())
	}
}

func TestModelUseAfterClose(t *testing.T) {
	checkLive(t)
	m, err := torchinfer.Load(modelPath(t, "mlp.pt"))
	if err != nil {
		t.Fatal(err)
	}
	x := tensor(t, make([]float32, 16), 1, 16)
	out, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	m.Close()
	if _, err := m.Predict(x); !errors.Is(err, torchinfer.ErrClosed) || !errors.Is(err, torchinfer.ErrInvalidArgument) {
		t.Errorf("Predict after Close: %v", err)
	}
	if _, err := m.PredictNamed(map[string]*torchinfer.Tensor{"x": x}); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("PredictNamed after Close: %v", err)
	}
	if _, err := m.RunMethod("forward", x); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("RunMethod after Close: %v", err)
	}
	if _, err := m.RunMethodNamed("forward", map[string]*torchinfer.Tensor{"x": x}); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("RunMethodNamed after Close: %v", err)
	}
	// Outputs outlive the model.
	if v, err := get(t, out, 0).Float32s(); err != nil || len(v) != 4 {
		t.Errorf("outputs after Model.Close: %v %v", v, err)
	}
	out.Close()
	out.Close()
	if out.Len() != 0 || out.Name(0) != "" || out.Names() != nil {
		t.Error("closed outputs still report leaves")
	}
	if _, err := out.Get(0); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	if _, err := out.Find("0"); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("Find after Close: %v", err)
	}
	var nilModel *torchinfer.Model
	if _, err := nilModel.Predict(x); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("nil model: %v", err)
	}
}

// Close racing with predictions on the same model and input: every call
// either succeeds with the right values or fails with ErrClosed.
func TestCloseRacesWithUse(t *testing.T) {
	checkLive(t)
	c := findCase(t, "mlp")
	totalClosed := 0
	for round := 0; round < 20; round++ {
		m, err := torchinfer.Load(modelPath(t, "mlp.pt"))
		if err != nil {
			t.Fatal(err)
		}
		x, err := makeTensor(c.Inputs[0])
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var ok, closed, closedInput int
		var mu sync.Mutex
		start := make(chan struct{})
		firstOK := make(chan struct{})
		var once sync.Once
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				<-start
				for i := 0; i < 20; i++ {
					var out *torchinfer.Outputs
					var err error
					dst := make([]float32, 4)
					if into := (g+i)%2 == 1; into {
						err = torchinfer.PredictInto(m, dst, x)
					} else {
						out, err = m.Predict(x)
					}
					mu.Lock()
					switch {
					case err == nil && out == nil: // PredictInto
						checkValues(t, "racing PredictInto", widen(dst), nil, c.Outputs[0])
						ok++
						once.Do(func() { close(firstOK) })
					case err == nil:
						y, err := out.Get(0)
						if err != nil {
							t.Error(err)
						} else {
							checkTensor(t, "racing predict", y, c.Outputs[0])
							y.Close()
						}
						out.Close()
						ok++
						once.Do(func() { close(firstOK) })
					case errors.Is(err, torchinfer.ErrClosed) && strings.Contains(err.Error(), "model"):
						closed++
					case errors.Is(err, torchinfer.ErrClosed):
						closedInput++
					default:
						t.Errorf("racing predict: %v", err)
					}
					mu.Unlock()
				}
			}(g)
		}
		close(start)
		<-firstOK // close while other predictions are in flight
		m.Close()
		if round%2 == 0 {
			x.Close()
		}
		wg.Wait()
		x.Close()
		if ok+closed+closedInput != 160 || ok == 0 {
			t.Fatalf("%d+%d+%d calls", ok, closed, closedInput)
		}
		totalClosed += closed
	}
	if totalClosed == 0 {
		t.Error("no call saw the closed model")
	}
}

func TestModelFormat(t *testing.T) {
	checkLive(t)
	if f := mustLoad(t, "mlp.pt").Format(); f != "torchscript" {
		t.Errorf("mlp.pt: Format() = %q, want torchscript", f)
	}
	if _, err := os.Stat(modelPath(t, "dynamic.pt2")); errors.Is(err, os.ErrNotExist) {
		t.Skip("dynamic.pt2 not in the fixtures (LibTorch without AOTInductor packages, e.g. 1.13)")
	}
	m := mustLoad(t, "dynamic.pt2")
	if f := m.Format(); f != "aotinductor" {
		t.Errorf("dynamic.pt2: Format() = %q, want aotinductor", f)
	}
	if got := m.Inputs(); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Errorf("dynamic.pt2: Inputs() = %v, want [x y]", got)
	}
	x := tensor(t, make([]float32, 3*8), 3, 8)
	y := tensor(t, make([]float32, 5*4), 5, 4)
	out, err := m.Predict(x, y)
	if err == nil {
		out.Close()
		t.Fatal("Predict with mismatched batch sizes succeeded")
	}
	if !errors.Is(err, torchinfer.ErrInvalidArgument) || !strings.Contains(err.Error(), "input 'y'") {
		t.Errorf("Predict with mismatched batch sizes: %v, want ErrInvalidArgument mentioning input 'y'", err)
	}
}

// inplace.pt writes to its argument (x.add_(1); return x * 2): the library
// gives it a private copy, through every call form, so the caller's tensor
// never changes and every call gives the same result.
func TestInPlaceLeavesInputs(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "inplace.pt")
	x := tensor(t, []float32{1, 2}, 2)
	in, err := torchinfer.NewInputs(m, "")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := in.SetTensor("x", x); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		for _, call := range []func() (*torchinfer.Outputs, error){
			func() (*torchinfer.Outputs, error) { return m.Predict(x) },
			func() (*torchinfer.Outputs, error) {
				return m.RunValues(context.Background(), "", map[string]any{"x": x})
			},
			func() (*torchinfer.Outputs, error) { return m.RunInputs(context.Background(), in) },
		} {
			out, err := call()
			if err != nil {
				t.Fatal(err)
			}
			y, err := torchinfer.LeafValues[float32](out, 0)
			out.Close()
			if xv, _ := x.Float32s(); err != nil || !reflect.DeepEqual(y, []float32{4, 6}) || !reflect.DeepEqual(xv, []float32{1, 2}) {
				t.Fatalf("call %d: y = %v (%v), x = %v; want [4 6], x unchanged", i, y, err, xv)
			}
		}
	}
}
