package torchinfer_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// 64 goroutines share one model and one input tensor; every result equals
// the single-goroutine result bit for bit, and the reference values.
func TestConcurrentPredict(t *testing.T) {
	checkLive(t)
	c := findCase(t, "mlp_batch")
	m := mustLoad(t, "mlp.pt")
	x, err := makeTensor(c.Inputs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	predict := func() ([]float32, error) {
		out, err := m.Predict(x)
		if err != nil {
			return nil, err
		}
		defer out.Close()
		y, err := out.Get(0)
		if err != nil {
			return nil, err
		}
		defer y.Close()
		return y.Float32s()
	}
	want, err := predict()
	if err != nil {
		t.Fatal(err)
	}
	ref := closeLater(t, mustTensor(t)(torchinfer.NewTensor(want, c.Outputs[0].Shape...)))
	checkTensor(t, "single goroutine", ref, c.Outputs[0])

	const goroutines, iterations = 64, 50
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			<-start
			for i := 0; i < iterations; i++ {
				got, err := predict()
				if err != nil {
					errs <- err
					return
				}
				for j := range want {
					if got[j] != want[j] {
						errs <- fmt.Errorf("goroutine %d, call %d: value %d is %v, want %v", g, i, j, got[j], want[j])
						return
					}
				}
			}
		}(g)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// rssBytes reads the resident set size from /proc/self/statm.
func rssBytes(t *testing.T) int64 {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Split(bufio.ScanWords)
	sc.Scan()
	sc.Scan() // second field: resident pages
	pages, err := strconv.ParseInt(sc.Text(), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

func settledRSS(t *testing.T) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return rssBytes(t)
}

// leakCycles is 10000, fewer under -short (run-tests.sh uses -short with -race),
// or $TORCHINFER_LEAK_CYCLES.
func leakCycles(t *testing.T) int {
	if s := os.Getenv("TORCHINFER_LEAK_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if testing.Short() {
		return 1000
	}
	return 10000
}

// Load, predict (good and failing), read, close, many times: every handle
// is freed and the resident memory stays flat.
func TestLeak(t *testing.T) {
	start := torchinfer.LiveHandles()
	data, err := os.ReadFile(modelPath(t, "faulty.pt"))
	if err != nil {
		t.Fatal(err)
	}
	path := modelPath(t, "faulty.pt")
	live, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	cycle := func(i int) {
		var m *torchinfer.Model
		var err error
		if i%2 == 0 {
			m, err = torchinfer.Load(path)
		} else {
			m, err = torchinfer.LoadBytes(data)
		}
		if err != nil {
			t.Fatal(err)
		}
		good, _ := torchinfer.NewTensor([]float32{1, 2, 3, 4}, 2, 2)
		bad, _ := torchinfer.NewTensor([]float32{-1, -2, -3, -4}, 2, 2)
		out, err := m.Predict(good)
		if err != nil {
			t.Fatal(err)
		}
		y, err := out.Find("0")
		if err != nil {
			t.Fatal(err)
		}
		if v, err := y.Float32s(); err != nil || v[3] != 8 {
			t.Fatalf("cycle %d: %v %v", i, v, err)
		}
		if _, err := out.Find("missing"); !errors.Is(err, torchinfer.ErrNotFound) {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if _, err := m.Predict(bad); !errors.Is(err, torchinfer.ErrRuntime) {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if _, err := m.Predict(good, bad); !errors.Is(err, torchinfer.ErrInvalidArgument) {
			t.Fatalf("cycle %d: %v", i, err)
		}
		// With run options: one that completes, one the library stops at once.
		if out, err := m.PredictContext(live, good); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		} else {
			out.Close()
		}
		if _, err := m.RunMethodContext(live, "forward", bad); !errors.Is(err, torchinfer.ErrRuntime) {
			t.Fatalf("cycle %d: %v", i, err)
		}
		if _, err := torchinfer.NewTensor([]float32{1}, 2); !errors.Is(err, torchinfer.ErrInvalidArgument) {
			t.Fatalf("cycle %d: %v", i, err)
		}
		y.Close()
		out.Close()
		good.Close()
		bad.Close()
		m.Close()
	}
	n := leakCycles(t)
	warm := n / 10
	for i := 0; i < warm; i++ {
		cycle(i)
	}
	base := settledRSS(t)
	for i := warm; i < n; i++ {
		cycle(i)
	}
	end := settledRSS(t)
	if live := torchinfer.LiveHandles(); live != start {
		t.Errorf("live handles: %d at start, %d after %d cycles", start, live, n)
	}
	// A leaked model or outputs per cycle would grow RSS by far more than this.
	const tolerance = 24 << 20
	growth := end - base
	t.Logf("%d cycles; RSS after warm-up %d MiB, at end %d MiB (growth %d KiB)", n, base>>20, end>>20, growth>>10)
	if growth > tolerance {
		t.Errorf("RSS grew by %d KiB over %d cycles (tolerance %d KiB)", growth>>10, n-warm, tolerance>>10)
	}
}
