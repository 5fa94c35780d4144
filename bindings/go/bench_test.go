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

// The per-call cost of the Go binding: BenchmarkPredictGo and BenchmarkPredictC
// run the same loop (Predict, take leaf 0, copy it out into a Go/C buffer,
// free the handles) on mlp.pt with a [1,16] input. Compare their ns/op:
//
//	go test -run '^$' -bench Predict -benchtime 3s -count 5 .
//
// On a busy machine the two runs see different noise; BenchmarkGoVsC
// interleaves them in blocks of 200 calls and reports the medians of the
// per-block means (go-ns/call, c-ns/call) and of their differences
// (overhead-ns/call), which is the figure quoted in README.md:
//
//	go test -run '^$' -bench GoVsC -benchtime 20000x -count 5 .

// goCall is one iteration of the Go loop.
func goCall(b *testing.B, m *torchinfer.Model, x *torchinfer.Tensor, dst []float32) {
	out, err := m.Predict(x)
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

func BenchmarkPredictGo(b *testing.B) {
	m, x := benchSetup(b)
	dst := make([]float32, 4)
	b.ReportAllocs()
	for b.Loop() {
		goCall(b, m, x, dst)
	}
}

func BenchmarkGoVsC(b *testing.B) {
	m, x := benchSetup(b)
	c, err := cbench.Open(modelPath(b, "mlp.pt"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	dst := make([]float32, 4)
	const block = 200
	var goNs, cNs, diff []float64
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		start := time.Now()
		for i := 0; i < block; i++ {
			goCall(b, m, x, dst)
		}
		mid := time.Now()
		if err := c.Run(block); err != nil {
			b.Fatal(err)
		}
		end := time.Now()
		g := float64(mid.Sub(start).Nanoseconds()) / block
		cc := float64(end.Sub(mid).Nanoseconds()) / block
		goNs, cNs, diff = append(goNs, g), append(cNs, cc), append(diff, g-cc)
	}
	b.ReportMetric(median(goNs), "go-ns/call")
	b.ReportMetric(median(cNs), "c-ns/call")
	b.ReportMetric(median(diff), "overhead-ns/call")
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

// The C loop and the Go loop compute the same thing.
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
	m := mustLoad(t, "mlp.pt")
	x := tensor(t, cbench.Input(), 1, 16)
	out, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	got, err := get(t, out, 0).Float32s()
	if err != nil || !reflect.DeepEqual(got, c.Output()) {
		t.Errorf("Go %v (%v), C %v", got, err, c.Output())
	}
}
