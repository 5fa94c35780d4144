package torchinfer_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// batch_rows.pt: forward(x) -> {"y": x * 2 + 1, "rows": full([x.size(0)], x.size(0))};
// bad(x) raises on -999, else x * 2; scalar(x) -> x.sum().

func newBatcher(t testing.TB, m *torchinfer.Model, opts torchinfer.BatcherOptions) *torchinfer.Batcher {
	t.Helper()
	b, err := torchinfer.NewBatcher(m, opts)
	if err != nil {
		t.Fatalf("NewBatcher(%+v): %v", opts, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// rowsInput is a [rows, 4] float32 input whose values say who made it.
func rowsInput(t testing.TB, who, rows int) *torchinfer.Tensor {
	data := make([]float32, rows*4)
	for i := range data {
		data[i] = float32(who*100 + i)
	}
	return tensor(t, data, int64(rows), 4)
}

// batchResult is what one request got: y, and the rows of the batch it ran in.
type batchResult struct {
	y    []float32
	rows []int64
}

func readBatchResult(out *torchinfer.Outputs) (batchResult, error) {
	defer out.Close()
	var r batchResult
	y, err := out.Find("y")
	if err != nil {
		return r, err
	}
	defer y.Close()
	rows, err := out.Find("rows")
	if err != nil {
		return r, err
	}
	defer rows.Close()
	if r.y, err = y.Float32s(); err != nil {
		return r, err
	}
	r.rows, err = rows.Int64s()
	return r, err
}

// 32 goroutines with distinct inputs (1 or 2 rows) each get their own rows,
// equal to a direct Predict, and some ran in batches of several requests.
func TestBatcherOwnRows(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "batch_rows.pt")
	b := newBatcher(t, m, torchinfer.BatcherOptions{MaxBatch: 64, MaxDelay: 5 * time.Millisecond})
	if b.Method() != "" {
		t.Errorf("Method() = %q", b.Method())
	}
	const goroutines = 32
	inputs := make([]*torchinfer.Tensor, goroutines)
	want := make([]batchResult, goroutines)
	for g := range inputs {
		inputs[g] = rowsInput(t, g, 1+g%2)
		out, err := m.Predict(inputs[g])
		if err != nil {
			t.Fatal(err)
		}
		if want[g], err = readBatchResult(out); err != nil {
			t.Fatal(err)
		}
	}
	batched, requests := false, int64(0)
	for round := 0; round < 10 && (!batched || round < 3); round++ {
		got := make([]batchResult, goroutines)
		errs := make([]error, goroutines)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				<-start
				out, err := b.Predict(context.Background(), inputs[g])
				if err == nil {
					got[g], err = readBatchResult(out)
				}
				errs[g] = err
			}(g)
		}
		close(start)
		wg.Wait()
		requests += goroutines
		for g := 0; g < goroutines; g++ {
			if errs[g] != nil {
				t.Fatalf("round %d, goroutine %d: %v", round, g, errs[g])
			}
			if !reflect.DeepEqual(got[g].y, want[g].y) {
				t.Fatalf("round %d, goroutine %d: y = %v, want %v (its own rows)", round, g, got[g].y, want[g].y)
			}
			rows := got[g].rows
			if len(rows) != 1+g%2 || rows[0] < int64(len(rows)) || rows[0] > 64 {
				t.Fatalf("round %d, goroutine %d: rows leaf %v", round, g, rows)
			}
			for _, r := range rows {
				if r != rows[0] {
					t.Fatalf("round %d, goroutine %d: rows leaf %v", round, g, rows)
				}
			}
			batched = batched || rows[0] > int64(len(rows))
		}
	}
	if !batched {
		t.Error("no request ran in a batch with another one")
	}
	r, n := b.Stats()
	t.Logf("%d requests in %d calls", r, n)
	if r != requests || n < 1 || n >= r {
		t.Errorf("Stats() = %d requests, %d calls; want %d requests in fewer calls", r, n, requests)
	}
	// PredictNamed, and requests of other shapes (never padded, their own batches).
	x := rowsInput(t, 7, 3)
	out, err := b.PredictNamed(context.Background(), map[string]*torchinfer.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	res, err := readBatchResult(out)
	if err != nil || res.y[11] != float32(7*100+11)*2+1 || !reflect.DeepEqual(res.rows, []int64{3, 3, 3}) {
		t.Errorf("PredictNamed: %v %v", res, err)
	}
	_, err = b.PredictNamed(context.Background(), map[string]*torchinfer.Tensor{"nope": x})
	wantCode(t, "PredictNamed unknown name", err, torchinfer.ErrInvalidArgument, "nope")
	wide := tensor(t, []float32{1, 2, 3, 4, 5, 6}, 1, 6)
	if out, err := b.Predict(context.Background(), wide); err != nil {
		t.Errorf("[1,6]: %v", err)
	} else if res, err := readBatchResult(out); err != nil || res.y[5] != 13 {
		t.Errorf("[1,6]: %v %v", res, err)
	}
	_, err = b.Predict(context.Background(), tensor(t, []float32{1}))
	wantCode(t, "0-dim input", err, torchinfer.ErrInvalidArgument, "")
	_, err = b.Predict(context.Background(), nil)
	wantCode(t, "nil input", err, torchinfer.ErrInvalidArgument, "nil")
}

// One request with the sentinel fails alone; the others of its batch get
// their results.
func TestBatcherBadRequestIsolated(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "batch_rows.pt")
	b := newBatcher(t, m, torchinfer.BatcherOptions{Method: "bad", MaxDelay: 5 * time.Millisecond})
	const goroutines = 8
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		errs := make([]error, goroutines)
		start := make(chan struct{})
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				v := float32(g)
				if g == 3 {
					v = -999
				}
				x, _ := torchinfer.NewTensor([]float32{v, 1}, 1, 2)
				defer x.Close()
				<-start
				out, err := b.Predict(context.Background(), x)
				if err != nil {
					errs[g] = err
					return
				}
				defer out.Close()
				y, err := torchinfer.LeafValues[float32](out, 0)
				if err == nil && !reflect.DeepEqual(y, []float32{2 * v, 2}) {
					err = fmt.Errorf("y = %v, want %v", y, []float32{2 * v, 2})
				}
				errs[g] = err
			}(g)
		}
		close(start)
		wg.Wait()
		for g, err := range errs {
			if g == 3 {
				wantCode(t, "the sentinel request", err, torchinfer.ErrRuntime, "")
			} else if err != nil {
				t.Errorf("round %d, request %d: %v", round, g, err)
			}
		}
	}
}

// A result that cannot be split by rows (a scalar): every request still gets
// its own result, from calls made one by one.
func TestBatcherScalarFallsBack(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "batch_rows.pt")
	b := newBatcher(t, m, torchinfer.BatcherOptions{Method: "scalar", MaxDelay: 5 * time.Millisecond})
	const goroutines = 8
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		errs := make([]error, goroutines)
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				x, _ := torchinfer.NewTensor([]float32{float32(g), 10, float32(round)}, 1, 3)
				defer x.Close()
				out, err := b.Predict(context.Background(), x)
				if err != nil {
					errs[g] = err
					return
				}
				defer out.Close()
				s, err := torchinfer.LeafValues[float32](out, 0)
				if want := float32(g + 10 + round); err == nil && (len(s) != 1 || s[0] != want) {
					err = fmt.Errorf("sum = %v, want %v", s, want)
				}
				errs[g] = err
			}(g)
		}
		wg.Wait()
		for g, err := range errs {
			if err != nil {
				t.Errorf("round %d, request %d: %v", round, g, err)
			}
		}
	}
	if r, _ := b.Stats(); r != 3*goroutines {
		t.Errorf("Stats: %d requests, want %d", r, 3*goroutines)
	}
}

// A request whose context is done while it waits in the queue returns at
// once with the context's error; the Batcher goes on.
func TestBatcherContextWhileQueued(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "batch_rows.pt")
	// A worker waits up to 10 s for a batch of 32 rows: a lone request stays queued.
	b := newBatcher(t, m, torchinfer.BatcherOptions{MaxBatch: 32, MaxDelay: 10 * time.Second})
	x := rowsInput(t, 1, 1)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := b.Predict(ctx, x)
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, torchinfer.ErrCancelled) {
		t.Errorf("cancelled while queued: %v", err)
	}
	if took > 2*time.Second {
		t.Errorf("cancelled while queued: returned after %v", took)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = b.Predict(ctx, x)
	took = time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, torchinfer.ErrDeadlineExceeded) {
		t.Errorf("deadline while queued: %v", err)
	}
	if took > 2*time.Second {
		t.Errorf("deadline while queued: returned after %v", took)
	}
	t.Logf("cancel and deadline while queued returned after %v", took)

	// A context that is already done fails before queuing.
	_, err = b.Predict(ctx, x)
	wantCode(t, "expired context", err, torchinfer.ErrDeadlineExceeded, "before the call started")
	_, err = b.Predict(nil, x)
	wantCode(t, "nil context", err, torchinfer.ErrInvalidArgument, "nil context")

	// The Batcher still serves: a full batch runs without waiting.
	big := rowsInput(t, 2, 32)
	out, err := b.Predict(context.Background(), big)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := readBatchResult(out); err != nil || res.rows[0] != 32 {
		t.Errorf("full batch: %v %v", res.rows, err)
	}
}

// Close with requests queued: each returns at once with ErrUnavailable, Close
// returns, and later calls fail with ErrClosed.
func TestBatcherCloseWithQueued(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "batch_rows.pt")
	b, err := torchinfer.NewBatcher(m, torchinfer.BatcherOptions{MaxBatch: 32, MaxDelay: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	x := rowsInput(t, 1, 1)
	const queued = 4
	errs := make(chan error, queued)
	live, cancel := context.WithCancel(context.Background()) // with run options of its own
	defer cancel()
	for i := 0; i < queued; i++ {
		ctx := context.Background()
		if i%2 == 1 {
			ctx = live
		}
		go func() {
			out, err := b.Predict(ctx, x)
			if err == nil {
				out.Close()
			}
			errs <- err
		}()
	}
	time.Sleep(200 * time.Millisecond) // they are queued: the worker waits for 32 rows
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	for i := 0; i < queued; i++ {
		wantCode(t, "queued at Close", <-errs, torchinfer.ErrUnavailable, "closed")
	}
	if took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	t.Logf("Close with %d queued requests took %v", queued, took)
	if err := b.Close(); err != nil {
		t.Error(err)
	}
	if _, err := b.Predict(context.Background(), x); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("Predict after Close: %v", err)
	}
	if r, n := b.Stats(); r < 0 || n < 0 {
		t.Errorf("Stats after Close: %d %d", r, n)
	}
}

// A full queue answers ErrUnavailable at once.
func TestBatcherQueueFull(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "batch_rows.pt")
	b := newBatcher(t, m, torchinfer.BatcherOptions{MaxBatch: 32, MaxDelay: 10 * time.Second, MaxQueue: 1})
	x := rowsInput(t, 1, 1)
	first := make(chan error, 1)
	go func() {
		out, err := b.Predict(context.Background(), x)
		if err == nil {
			out.Close()
		}
		first <- err
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	_, err := b.Predict(context.Background(), x)
	wantCode(t, "second request, queue of 1", err, torchinfer.ErrUnavailable, "")
	if took := time.Since(start); took > time.Second {
		t.Errorf("a full queue answered after %v", took)
	}
	b.Close()
	wantCode(t, "first request at Close", <-first, torchinfer.ErrUnavailable, "")
}

// A Batcher keeps its Model's memory after Model.Close and goes on serving;
// the model is freed with the Batcher.
func TestBatcherOutlivesModelClose(t *testing.T) {
	checkLive(t)
	m, err := torchinfer.Load(modelPath(t, "batch_rows.pt"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := torchinfer.NewBatcher(m, torchinfer.BatcherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := rowsInput(t, 1, 2)
	before := torchinfer.LiveHandles()
	m.Close()
	if after := torchinfer.LiveHandles(); after != before {
		t.Errorf("Model.Close with a Batcher open: %d -> %d live handles", before, after)
	}
	if _, err := m.Predict(x); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("Model.Predict after Close: %v", err)
	}
	if _, err := torchinfer.NewBatcher(m, torchinfer.BatcherOptions{}); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("NewBatcher on a closed model: %v", err)
	}
	out, err := b.Predict(context.Background(), x)
	if err != nil {
		t.Fatalf("Batcher after Model.Close: %v", err)
	}
	if res, err := readBatchResult(out); err != nil || res.y[0] != 201 {
		t.Errorf("Batcher after Model.Close: %v %v", res, err)
	}
	b.Close()
	// Freed: the batcher, its run options (which Close uses to stop waiting requests) and the model.
	if after := torchinfer.LiveHandles(); after != before-3 {
		t.Errorf("Batcher.Close: %d -> %d live handles, want the batcher, its options and the model freed", before, after)
	}
}

func TestBatcherOptionErrors(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "batch_rows.pt")
	for _, c := range []struct {
		what     string
		opts     torchinfer.BatcherOptions
		sentinel *torchinfer.Error
		want     string
	}{
		{"MaxBatch -1", torchinfer.BatcherOptions{MaxBatch: -1}, torchinfer.ErrInvalidArgument, ""},
		{"MaxDelay -1", torchinfer.BatcherOptions{MaxDelay: -time.Microsecond}, torchinfer.ErrInvalidArgument, ""},
		{"MaxDelay 11 s", torchinfer.BatcherOptions{MaxDelay: 11 * time.Second}, torchinfer.ErrInvalidArgument, ""},
		{"MaxQueue -5", torchinfer.BatcherOptions{MaxQueue: -5}, torchinfer.ErrInvalidArgument, ""},
		{"Workers 1000", torchinfer.BatcherOptions{Workers: 1000}, torchinfer.ErrInvalidArgument, ""},
		{"Workers 1<<40", torchinfer.BatcherOptions{Workers: 1 << 40}, torchinfer.ErrInvalidArgument, "Workers"},
		{"unknown method", torchinfer.BatcherOptions{Method: "nosuch"}, torchinfer.ErrNotFound, "nosuch"},
		{"NUL in the method", torchinfer.BatcherOptions{Method: "bad\x00"}, torchinfer.ErrInvalidArgument, "NUL byte"},
	} {
		b, err := torchinfer.NewBatcher(m, c.opts)
		if err == nil {
			b.Close()
		}
		wantCode(t, c.what, err, c.sentinel, c.want)
	}
	if _, err := torchinfer.NewBatcher(nil, torchinfer.BatcherOptions{}); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("NewBatcher(nil): %v", err)
	}
	// A sub-microsecond delay rounds up (0 would mean no waiting); 2 workers.
	b := newBatcher(t, m, torchinfer.BatcherOptions{MaxDelay: time.Nanosecond, Workers: 2, MaxQueue: 8, MaxBatch: 4})
	if out, err := b.Predict(context.Background(), rowsInput(t, 0, 1)); err != nil {
		t.Error(err)
	} else {
		out.Close()
	}
}

// Many goroutines, many rounds, several shapes, two workers, some requests
// cancelled, Close at the end: every answer is right, nothing leaks.
func TestBatcherConcurrent(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "batch_rows.pt")
	rounds := 30
	if testing.Short() {
		rounds = 10
	}
	for cycle := 0; cycle < 3; cycle++ {
		b, err := torchinfer.NewBatcher(m, torchinfer.BatcherOptions{MaxBatch: 16, MaxDelay: time.Millisecond, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		const goroutines = 24
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < rounds; i++ {
					rows, cols := 1+(g+i)%3, 4+(g%2)*2
					data := make([]float32, rows*cols)
					for j := range data {
						data[j] = float32(g*1000 + i*10 + j)
					}
					x, _ := torchinfer.NewTensor(data, int64(rows), int64(cols))
					ctx := context.Background()
					var cancel context.CancelFunc = func() {}
					if i%7 == 3 {
						ctx, cancel = context.WithCancel(ctx)
						if g%2 == 0 {
							cancel() // done before the call
						}
					}
					out, err := b.Predict(ctx, x)
					cancel()
					x.Close()
					if i%7 == 3 && g%2 == 0 {
						if !errors.Is(err, context.Canceled) {
							errs <- fmt.Errorf("cancelled request: %v", err)
							return
						}
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					res, err := readBatchResult(out)
					if err != nil {
						errs <- err
						return
					}
					for j := range data {
						if res.y[j] != data[j]*2+1 {
							errs <- fmt.Errorf("goroutine %d round %d: y[%d] = %v, want %v", g, i, j, res.y[j], data[j]*2+1)
							return
						}
					}
					if len(res.rows) != rows {
						errs <- fmt.Errorf("goroutine %d round %d: rows %v", g, i, res.rows)
						return
					}
				}
			}(g)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		r, n := b.Stats()
		t.Logf("cycle %d: %d requests in %d calls", cycle, r, n)
		b.Close()
		if r2, n2 := b.Stats(); r2 != r || n2 != n {
			t.Errorf("Stats after Close: %d %d, before %d %d", r2, n2, r, n)
		}
	}
}

// Close racing with requests from many goroutines: each request succeeds,
// fails with ErrUnavailable (closed while it waited) or with ErrClosed
// (started after Close); Close returns; nothing leaks.
func TestBatcherCloseRacesWithRequests(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "batch_rows.pt")
	for round := 0; round < 10; round++ {
		b, err := torchinfer.NewBatcher(m, torchinfer.BatcherOptions{MaxDelay: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		x := rowsInput(t, round, 1)
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[string]int{}
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					out, err := b.Predict(context.Background(), x)
					kind := "ok"
					switch {
					case err == nil:
						out.Close()
					case errors.Is(err, torchinfer.ErrClosed):
						kind = "closed"
					case errors.Is(err, torchinfer.ErrUnavailable):
						kind = "unavailable"
					default:
						kind = err.Error()
					}
					mu.Lock()
					counts[kind]++
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(round) * time.Millisecond)
		b.Close()
		wg.Wait()
		for k := range counts {
			if k != "ok" && k != "closed" && k != "unavailable" {
				t.Errorf("round %d: unexpected error %s", round, k)
			}
		}
	}
}

// Structured calls and batchers, many times, good and failing: every handle
// is freed and the resident memory stays flat.
func TestStructuredLeak(t *testing.T) {
	start := torchinfer.LiveHandles()
	values, err := torchinfer.Load(modelPath(t, "values.pt"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := torchinfer.Load(modelPath(t, "batch_rows.pt"))
	if err != nil {
		t.Fatal(err)
	}
	live, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	cycle := func(i int) {
		a, _ := torchinfer.NewTensor([]float32{1, 2}, 2)
		defer a.Close()
		args := map[string]any{"pairs": []any{[]any{a, a}}, "by_id": map[int64]any{int64(i): a}, "text": "ü\x00", "words": []string{"w"}}
		out, err := values.RunValues(live, "", args)
		if err != nil {
			t.Fatal(err)
		}
		if s, err := out.Text(3); err != nil || s != "ü\x00!!" {
			t.Fatalf("cycle %d: %q %v", i, s, err)
		}
		out.Close()
		args["text"] = nil // fails at set time
		if _, err := values.RunValues(context.Background(), "", args); !errors.Is(err, torchinfer.ErrInvalidArgument) {
			t.Fatalf("cycle %d: %v", i, err)
		}
		delete(args, "text") // fails at run time
		if _, err := values.RunValues(context.Background(), "", args); !errors.Is(err, torchinfer.ErrInvalidArgument) {
			t.Fatalf("cycle %d: %v", i, err)
		}
		in, err := torchinfer.NewInputs(values, "echo")
		if err != nil {
			t.Fatal(err)
		}
		in.SetString("s", "x")
		if out, err := values.RunInputs(context.Background(), in); err != nil {
			t.Fatal(err)
		} else {
			out.Close()
		}
		in.Close()
		if i%20 == 0 {
			b, err := torchinfer.NewBatcher(rows, torchinfer.BatcherOptions{})
			if err != nil {
				t.Fatal(err)
			}
			x, _ := torchinfer.NewTensor([]float32{1, 2}, 1, 2)
			if out, err := b.Predict(live, x); err != nil {
				t.Fatal(err)
			} else {
				out.Close()
			}
			x.Close()
			b.Close()
		}
	}
	n := leakCycles(t) / 4
	warm := n / 10
	for i := 0; i < warm; i++ {
		cycle(i)
	}
	base := settledRSS(t)
	for i := warm; i < n; i++ {
		cycle(i)
	}
	end := settledRSS(t)
	values.Close()
	rows.Close()
	if live := torchinfer.LiveHandles(); live != start {
		t.Errorf("live handles: %d at start, %d after %d cycles", start, live, n)
	}
	const tolerance = 24 << 20
	growth := end - base
	t.Logf("%d cycles; RSS after warm-up %d MiB, at end %d MiB (growth %d KiB)", n, base>>20, end>>20, growth>>10)
	if growth > tolerance {
		t.Errorf("RSS grew by %d KiB over %d cycles (tolerance %d KiB)", growth>>10, n-warm, tolerance>>10)
	}
}
