package torchinfer_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
	"github.com/torchinfer/libtorchinfer/bindings/go/internal/cbench"
)

// The per-call cost of the Go binding on mlp.pt with a [1,16] input, one
// intra-op thread: a prediction with its result copied out into a buffer,
// done in Go and in C against the C API (internal/cbench). BenchmarkGoVsC
// interleaves blocks of 200 calls of each loop below and reports the medians
// of the per-block means (ns/call) and of the paired per-block differences
// against the C loop (over-c-ns/call), so that every loop sees the same
// machine noise. bench.sh runs it and prints the summary line:
//
//	go test -run '^$' -bench GoVsC -benchtime 40000x -count 5 .
//
// The loops:
//
//	c      C: ti_model_predict, ti_outputs_copy_to, ti_outputs_free; the whole
//	       block in one cgo call (the C API's own cost)
//	c1     the same C iteration, one cgo call per prediction
//	into   Go: PredictInto(m, dst, x)
//	leaf   Go: Predict, CopyLeaf(out, 0, dst), out.Close()
//	get    Go: Predict, Get(0), CopyTo(y, dst), y.Close(), out.Close()
//	c-get  C: the get loop in C (ti_outputs_get, ti_tensor_copy_to, two frees)

// goLoops are the Go loops of BenchmarkGoVsC; each does one prediction.
var goLoops = []struct {
	name string
	call func(m *torchinfer.Model, x *torchinfer.Tensor, dst []float32) error
}{
	{"into", func(m *torchinfer.Model, x *torchinfer.Tensor, dst []float32) error {
		return torchinfer.PredictInto(m, dst, x)
	}},
	{"leaf", func(m *torchinfer.Model, x *torchinfer.Tensor, dst []float32) error {
		out, err := m.Predict(x)
		if err != nil {
			return err
		}
		err = torchinfer.CopyLeaf(out, 0, dst)
		out.Close()
		return err
	}},
	{"get", func(m *torchinfer.Model, x *torchinfer.Tensor, dst []float32) error {
		out, err := m.Predict(x)
		if err != nil {
			return err
		}
		defer out.Close()
		y, err := out.Get(0)
		if err != nil {
			return err
		}
		defer y.Close()
		return torchinfer.CopyTo(y, dst)
	}},
}

func benchSetup(b *testing.B) (*torchinfer.Model, *torchinfer.Tensor) {
	m, err := torchinfer.Load(modelPath(b, "mlp.pt"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	x, err := torchinfer.NewTensor(cbench.Input(), 1, 16)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { x.Close() })
	return m, x
}

// oneThread runs the benchmark with one intra-op thread, for the C and the
// Go side alike (the setting is process-wide).
func oneThread(b *testing.B) {
	before := torchinfer.NumThreads()
	if err := torchinfer.SetNumThreads(1); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { torchinfer.SetNumThreads(before) })
}

func BenchmarkPredictGo(b *testing.B) {
	m, x := benchSetup(b)
	oneThread(b)
	dst := make([]float32, 4)
	for _, l := range goLoops {
		b.Run(l.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := l.call(m, x, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGoVsC(b *testing.B) {
	m, x := benchSetup(b)
	oneThread(b)
	c, err := cbench.Open(modelPath(b, "mlp.pt"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	dst := make([]float32, 4)
	const block = 200
	type loop struct {
		name string
		run  func() error
	}
	loops := []loop{
		{"c", func() error { return c.Run(block) }},
		{"c1", func() error {
			for i := 0; i < block; i++ {
				if err := c.Once(); err != nil {
					return err
				}
			}
			return nil
		}},
		{"c-get", func() error { return c.RunGet(block) }},
	}
	for _, l := range goLoops {
		loops = append(loops, loop{l.name, func() error {
			for i := 0; i < block; i++ {
				if err := l.call(m, x, dst); err != nil {
					return err
				}
			}
			return nil
		}})
	}
	ns := make([][]float64, len(loops))   // per-block mean, per loop
	over := make([][]float64, len(loops)) // per-block difference against loop 0 ("c")
	mean := make([]float64, len(loops))
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		// Every other block runs the loops in reverse order, so that none is
		// always first after a pause.
		for k := range loops {
			if (done/block)%2 == 1 {
				k = len(loops) - 1 - k
			}
			start := time.Now()
			if err := loops[k].run(); err != nil {
				b.Fatal(err)
			}
			mean[k] = float64(time.Since(start).Nanoseconds()) / block
		}
		for k := range loops {
			ns[k] = append(ns[k], mean[k])
			over[k] = append(over[k], mean[k]-mean[0])
		}
	}
	for k, l := range loops {
		b.ReportMetric(median(ns[k]), l.name+"-ns/call")
		if k > 0 {
			b.ReportMetric(median(over[k]), l.name+"-over-c-ns/call")
		}
	}
}

// The Go loops allocate nothing on the way to the copied-out values except
// the handles: PredictInto and CopyLeaf make no allocation at all. Counted
// with testing.AllocsPerRun (not under -race, which allocates on its own).
func TestAllocsPerCall(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	checkLive(t)
	m := mustLoad(t, "mlp.pt")
	x := tensor(t, cbench.Input(), 1, 16)
	dst := make([]float32, 4)
	want := map[string]float64{"into": 0, "leaf": 3, "get": 6}
	for _, l := range goLoops {
		got := testing.AllocsPerRun(200, func() {
			if err := l.call(m, x, dst); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %v allocations per call", l.name, got)
		if got > want[l.name] {
			t.Errorf("%s: %v allocations per call, want at most %v", l.name, got, want[l.name])
		}
	}
}

// BenchmarkContext measures what a context costs per call on mlp.pt, in
// interleaved blocks as BenchmarkGoVsC: Predict, PredictContext with
// context.Background() (the plain path) and PredictContext with a live
// deadline (run options, their timeout, a context.AfterFunc, and the
// library's per-operator check):
//
//	go test -run '^$' -bench Context -benchtime 20000x -count 5 .
func BenchmarkContext(b *testing.B) {
	m, x := benchSetup(b)
	dst := make([]float32, 4)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	calls := []func() (*torchinfer.Outputs, error){
		func() (*torchinfer.Outputs, error) { return m.Predict(x) },
		func() (*torchinfer.Outputs, error) { return m.PredictContext(context.Background(), x) },
		func() (*torchinfer.Outputs, error) { return m.PredictContext(ctx, x) },
	}
	const block = 200
	ns := make([][]float64, len(calls))
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		for k, call := range calls {
			start := time.Now()
			for i := 0; i < block; i++ {
				out, err := call()
				if err != nil {
					b.Fatal(err)
				}
				y, err := out.Get(0)
				if err != nil {
					b.Fatal(err)
				}
				if err := torchinfer.CopyTo(y, dst); err != nil {
					b.Fatal(err)
				}
				y.Close()
				out.Close()
			}
			ns[k] = append(ns[k], float64(time.Since(start).Nanoseconds())/block)
		}
	}
	b.ReportMetric(median(ns[0]), "predict-ns/call")
	b.ReportMetric(median(ns[1]), "background-ns/call")
	b.ReportMetric(median(ns[2]), "deadline-ns/call")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func BenchmarkPredictC(b *testing.B) {
	c, err := cbench.Open(modelPath(b, "mlp.pt"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	if err := c.Run(b.N); err != nil {
		b.Fatal(err)
	}
}

// The C loops and every Go loop compute the same values.
func TestBenchLoopsAgree(t *testing.T) {
	checkLive(t)
	c, err := cbench.Open(modelPath(t, "mlp.pt"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Run(3); err != nil {
		t.Fatal(err)
	}
	want := c.Output()
	if err := c.RunGet(1); err != nil || !reflect.DeepEqual(c.Output(), want) {
		t.Errorf("C get loop %v (%v), C loop %v", c.Output(), err, want)
	}
	m := mustLoad(t, "mlp.pt")
	x := tensor(t, cbench.Input(), 1, 16)
	out, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	got, err := get(t, out, 0).Float32s()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Go %v (%v), C %v", got, err, want)
	}
	if want[0] == 0 && want[1] == 0 {
		t.Errorf("C loop output %v looks unset", want)
	}
	for _, l := range goLoops {
		dst := make([]float32, 4)
		if err := l.call(m, x, dst); err != nil || !reflect.DeepEqual(dst, want) {
			t.Errorf("%s: %v (%v), C %v", l.name, dst, err, want)
		}
	}
}
