package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// The baseline of bench.sh: the same models and inputs as its gRPC client
// sends, called through the Go binding directly (tensor in, PredictNamed,
// copy out), with the same concurrency. BENCH_MODELS names the directory of
// demo.pt and resnet18.pt (bench.sh sets it); BENCH_CONCURRENCY the number of
// goroutines (default 1). Reports requests/s and p50/p99 latency.
func BenchmarkDirectDemo(b *testing.B) { benchDirect(b, "demo.pt", "features", []int64{1, 4}, "probs") }
func BenchmarkDirectResNet18(b *testing.B) {
	benchDirect(b, "resnet18.pt", "x", []int64{1, 3, 224, 224}, "0")
}

func benchDirect(b *testing.B, file, input string, shape []int64, output string) {
	dir := os.Getenv("BENCH_MODELS")
	if dir == "" {
		b.Skip("BENCH_MODELS not set (run bench.sh)")
	}
	path := filepath.Join(dir, file)
	if _, err := os.Stat(path); err != nil {
		b.Skip(err)
	}
	conc := 1
	if c := os.Getenv("BENCH_CONCURRENCY"); c != "" {
		var err error
		if conc, err = strconv.Atoi(c); err != nil || conc < 1 {
			b.Fatalf("BENCH_CONCURRENCY=%q", c)
		}
	}
	m, err := torchinfer.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	data := make([]float32, n)
	r := rand.New(rand.NewPCG(0, 0))
	for i := range data {
		data[i] = r.Float32()
	}
	call := func() {
		x, err := torchinfer.NewTensor(data, shape...)
		if err != nil {
			b.Fatal(err)
		}
		out, err := m.PredictNamedContext(context.Background(), map[string]*torchinfer.Tensor{input: x})
		x.Close()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := torchinfer.LeafValues[float32](out, slices.Index(out.Names(), output)); err != nil {
			b.Fatal(err)
		}
		out.Close()
	}
	for range 10 {
		call()
	}
	latencies := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := g; i < b.N; i += conc {
				t := time.Now()
				call()
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[(len(latencies)*99)/100].Microseconds())/1000, "p99-ms")
}
