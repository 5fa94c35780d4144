package torchinfer_test

import (
	"context"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// slow.pt: forward(x: Tensor, n: int) runs n rounds of x = tanh(x @ x).

// stopBound is the most a stopped call may take, start to return: generous
// for a busy 2-core machine and -race, and far below the full call (> 10 s).
const stopBound = 2 * time.Second

// slowInputs are x [size,size] with values in [-3/64, 3/64] and n = rounds.
func slowInputs(t *testing.T, size int, rounds int64) (x, n *torchinfer.Tensor) {
	t.Helper()
	data := make([]float32, size*size)
	for i := range data {
		data[i] = float32(i%7-3) / 64
	}
	return tensor(t, data, int64(size), int64(size)), closeLater(t, mustTensor(t)(torchinfer.Scalar(rounds)))
}

// longCall returns slow.pt inputs for a call of about 15 s (estimated from a
// timed call of 2,000 rounds on [64,64]; never under 10 s): long enough that
// a stop is unmistakable, short enough that a call that does not stop fails
// the test in seconds rather than minutes.
func longCall(t *testing.T, m *torchinfer.Model) (x, n *torchinfer.Tensor, full time.Duration) {
	t.Helper()
	const probe = 2000
	x, n = slowInputs(t, 64, probe)
	start := time.Now()
	out, err := m.Predict(x, n)
	if err != nil {
		t.Fatal(err)
	}
	out.Close()
	perRound := time.Since(start) / probe
	rounds := int64(15*time.Second/max(perRound, 1)) + 1
	n = closeLater(t, mustTensor(t)(torchinfer.Scalar(rounds)))
	full = time.Duration(rounds) * perRound
	if full < 10*time.Second {
		t.Fatalf("slow.pt: %d rounds estimated at %v", rounds, full)
	}
	t.Logf("slow.pt: %v per round; %d rounds, about %v", perRound, rounds, full)
	return x, n, full
}

// slowReference is slow.pt's result computed in Go (float64).
func slowReference(x []float32, size, rounds int) []float64 {
	cur := make([]float64, len(x))
	for i, v := range x {
		cur[i] = float64(v)
	}
	for r := 0; r < rounds; r++ {
		next := make([]float64, len(cur))
		for i := 0; i < size; i++ {
			for j := 0; j < size; j++ {
				var s float64
				for k := 0; k < size; k++ {
					s += cur[i*size+k] * cur[k*size+j]
				}
				next[i*size+j] = math.Tanh(s)
			}
		}
		cur = next
	}
	return cur
}

// ctxCall is one of the five Context forms, run on slow.pt's forward; it
// returns the result's leaf 0 (the whole result) copied out.
type ctxCall struct {
	name string
	call func(ctx context.Context, m *torchinfer.Model, x, n *torchinfer.Tensor) ([]float32, error)
}

// leaf0 copies leaf 0 out of a call's outputs (through Get) and closes them.
func leaf0(out *torchinfer.Outputs, err error) ([]float32, error) {
	if err != nil {
		out.Close() // nil when the call failed; closed in case it is not
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

var ctxCalls = []ctxCall{
	{"PredictContext", func(ctx context.Context, m *torchinfer.Model, x, n *torchinfer.Tensor) ([]float32, error) {
		return leaf0(m.PredictContext(ctx, x, n))
	}},
	{"PredictNamedContext", func(ctx context.Context, m *torchinfer.Model, x, n *torchinfer.Tensor) ([]float32, error) {
		return leaf0(m.PredictNamedContext(ctx, map[string]*torchinfer.Tensor{"n": n, "x": x}))
	}},
	{"RunMethodContext", func(ctx context.Context, m *torchinfer.Model, x, n *torchinfer.Tensor) ([]float32, error) {
		return leaf0(m.RunMethodContext(ctx, "forward", x, n))
	}},
	{"RunMethodNamedContext", func(ctx context.Context, m *torchinfer.Model, x, n *torchinfer.Tensor) ([]float32, error) {
		return leaf0(m.RunMethodNamedContext(ctx, "forward", map[string]*torchinfer.Tensor{"x": x, "n": n}))
	}},
	{"PredictIntoContext", func(ctx context.Context, m *torchinfer.Model, x, n *torchinfer.Tensor) ([]float32, error) {
		dst := make([]float32, x.NumElements())
		if err := torchinfer.PredictIntoContext(ctx, m, dst, x, n); err != nil {
			return nil, err
		}
		return dst, nil
	}},
}

// wantStopped asserts that err is a stop by ctx: the library's sentinel and
// the context package's error both match, the other pair does not.
func wantStopped(t *testing.T, what string, out *torchinfer.Outputs, err error, deadline bool) {
	t.Helper()
	if out != nil {
		out.Close()
	}
	if err == nil { // fatal: the next calls would not stop either, each running for seconds
		t.Fatalf("%s: the call was not stopped", what)
	}
	lib, ctxErr, otherLib, otherCtx := torchinfer.ErrCancelled, context.Canceled, torchinfer.ErrDeadlineExceeded, context.DeadlineExceeded
	if deadline {
		lib, ctxErr, otherLib, otherCtx = otherLib, otherCtx, lib, ctxErr
	}
	if !errors.Is(err, lib) || !errors.Is(err, ctxErr) {
		t.Errorf("%s: %v, want %v and %v", what, err, lib, ctxErr)
	}
	if errors.Is(err, otherLib) || errors.Is(err, otherCtx) || errors.Is(err, torchinfer.ErrRuntime) {
		t.Errorf("%s: %v also matches another stop", what, err)
	}
	var e *torchinfer.Error
	if !errors.As(err, &e) || e.Code != lib.Code {
		t.Errorf("%s: %v is not a *torchinfer.Error with code %v", what, err, lib.Code)
	}
}

// checkSlowSmall runs slow.pt on a small input through Predict (and the
// Context forms with ctx) and compares with the Go reference: the model
// works, with and without run options, after whatever happened before.
func checkSlowSmall(t *testing.T, m *torchinfer.Model, ctx context.Context) {
	t.Helper()
	x, n := slowInputs(t, 4, 3)
	xv, _ := x.Float32s()
	want := slowReference(xv, 4, 3)
	var first []float32
	for _, c := range append([]ctxCall{{"Predict", func(_ context.Context, m *torchinfer.Model, x, n *torchinfer.Tensor) ([]float32, error) {
		return leaf0(m.Predict(x, n))
	}}, {"PredictInto", func(_ context.Context, m *torchinfer.Model, x, n *torchinfer.Tensor) ([]float32, error) {
		dst := make([]float32, x.NumElements())
		return dst, torchinfer.PredictInto(m, dst, x, n)
	}}}, ctxCalls...) {
		got, err := c.call(ctx, m, x, n)
		if err != nil {
			t.Fatalf("%s after: %v", c.name, err)
		}
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > 1e-5 {
				t.Fatalf("%s: [%d] = %v, want %v", c.name, i, got[i], want[i])
			}
		}
		if first == nil {
			first = got
		} else if !reflect.DeepEqual(got, first) {
			t.Errorf("%s: %v, not bit-identical to Predict's %v", c.name, got, first)
		}
	}
	if v, _ := x.Float32s(); !reflect.DeepEqual(v, xv) {
		t.Error("the input changed")
	}
}

// A call cancelled from another goroutine stops early, for every form.
func TestContextCancelDuringCall(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "slow.pt")
	x, n, full := longCall(t, m)
	xv, _ := x.Float32s()
	for _, c := range ctxCalls {
		ctx, cancel := context.WithCancel(context.Background())
		const after = 100 * time.Millisecond
		timer := time.AfterFunc(after, cancel)
		start := time.Now()
		_, err := c.call(ctx, m, x, n)
		took := time.Since(start)
		timer.Stop()
		cancel()
		wantStopped(t, c.name, nil, err, false)
		t.Logf("%s: cancelled after %v, returned after %v: %v", c.name, after, took, err)
		if took < after || took > stopBound {
			t.Errorf("%s: returned after %v; cancelled after %v, bound %v, full call about %v", c.name, took, after, stopBound, full)
		}
		if !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("%s: message %q does not say why", c.name, err)
		}
	}
	if v, _ := x.Float32s(); !reflect.DeepEqual(v, xv) {
		t.Error("a cancelled call changed its input")
	}
	checkSlowSmall(t, m, context.Background())
}

// A deadline stops the call: ErrDeadlineExceeded and context.DeadlineExceeded.
func TestContextDeadlineDuringCall(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "slow.pt")
	x, n, full := longCall(t, m)
	for _, c := range ctxCalls {
		const timeout = 150 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		_, err := c.call(ctx, m, x, n)
		took := time.Since(start)
		cancel()
		wantStopped(t, c.name, nil, err, true)
		t.Logf("%s: timeout %v, returned after %v: %v", c.name, timeout, took, err)
		// The C timeout is set from the time left, measured just before the call.
		if took < timeout-5*time.Millisecond || took > stopBound {
			t.Errorf("%s: returned after %v; timeout %v, bound %v, full call about %v", c.name, took, timeout, stopBound, full)
		}
	}
	checkSlowSmall(t, m, context.Background())
}

// A context that is done before the call fails at once, without calling the
// library; the cause given to WithCancelCause is in the error chain.
func TestContextDoneBeforeCall(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "slow.pt")
	x, n := slowInputs(t, 64, 1_000_000_000) // never runs: the context is done

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	gone := errors.New("client went away")
	withCause, cancel3 := context.WithCancelCause(context.Background())
	cancel3(gone)
	for _, c := range ctxCalls {
		for _, tc := range []struct {
			ctx      context.Context
			deadline bool
			cause    error
		}{{cancelled, false, context.Canceled}, {expired, true, context.DeadlineExceeded}, {withCause, false, gone}} {
			live := torchinfer.LiveHandles()
			start := time.Now()
			_, err := c.call(tc.ctx, m, x, n)
			took := time.Since(start)
			wantStopped(t, c.name, nil, err, tc.deadline)
			if !errors.Is(err, tc.cause) || !strings.Contains(err.Error(), tc.cause.Error()+" before the call started") {
				t.Errorf("%s: %v, want cause %v, before the call", c.name, err, tc.cause)
			}
			if took > 100*time.Millisecond {
				t.Errorf("%s: a done context took %v", c.name, took)
			}
			if after := torchinfer.LiveHandles(); after != live {
				t.Errorf("%s: live handles %d -> %d", c.name, live, after)
			}
		}
	}
	// The cause of a cancellation during the call is in the chain too.
	ctx, cancel4 := context.WithCancelCause(context.Background())
	timer := time.AfterFunc(50*time.Millisecond, func() { cancel4(gone) })
	defer timer.Stop()
	out, err := m.PredictContext(ctx, x, n)
	wantStopped(t, "cancel with cause", out, err, false)
	if !errors.Is(err, gone) || !strings.Contains(err.Error(), gone.Error()) {
		t.Errorf("cancel with cause: %v, want %v in the chain", err, gone)
	}
	checkSlowSmall(t, m, context.Background())
}

// Contexts that are never done, or not done in time, give the results of
// Predict bit for bit; a nil context is an argument error.
func TestContextResults(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "slow.pt")
	type key struct{}
	long, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	cancellable, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	for _, ctx := range []context.Context{
		context.Background(), context.TODO(), context.WithValue(context.Background(), key{}, 1), long, cancellable,
	} {
		checkSlowSmall(t, m, ctx)
	}
	x, n := slowInputs(t, 4, 3)
	for _, c := range ctxCalls {
		_, err := c.call(nil, m, x, n)
		wantCode(t, c.name+"(nil)", err, torchinfer.ErrInvalidArgument, "nil context")
	}
}

// Every reference case gives the same outputs through the Context forms,
// with run options (a live deadline): TorchScript and .pt2 alike.
func TestContextReferenceCases(t *testing.T) {
	checkLive(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	models := map[string]*torchinfer.Model{}
	defer func() {
		for _, m := range models {
			m.Close()
		}
	}()
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
			out, err := runCaseContext(ctx, m, c)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			checkOutputs(t, c, out)
		})
	}
}

// One context shared by concurrent calls stops them all; calls on the same
// model without it are unaffected; the model is usable afterwards.
func TestContextConcurrentCancel(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "slow.pt")
	x, n, _ := longCall(t, m)
	small, three := slowInputs(t, 4, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const stopped = 4
	var wg sync.WaitGroup
	errs := make(chan error, stopped)
	took := make(chan time.Duration, stopped)
	start := time.Now()
	for g := 0; g < stopped; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := m.PredictContext(ctx, x, n)
			if out != nil {
				out.Close()
			}
			took <- time.Since(start)
			errs <- err
		}()
	}
	done := make(chan struct{})
	var plainCalls int // written by the one plain goroutine, read after wg.Wait
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			out, err := m.Predict(small, three)
			if err != nil {
				t.Errorf("plain call beside cancelled ones: %v", err)
				return
			}
			out.Close()
			plainCalls++
		}
	}()
	time.Sleep(150 * time.Millisecond)
	cancel()
	for g := 0; g < stopped; g++ {
		err := <-errs
		d := <-took
		if !errors.Is(err, torchinfer.ErrCancelled) || !errors.Is(err, context.Canceled) {
			t.Errorf("shared context: %v", err)
		}
		if d > 150*time.Millisecond+stopBound {
			t.Errorf("shared context: a call returned %v after the start", d)
		}
	}
	close(done)
	wg.Wait()
	if plainCalls == 0 {
		t.Error("no plain call completed while the others ran")
	}
	checkSlowSmall(t, m, context.Background())
}

// Cancellation racing with the end of short calls: every call succeeds with
// the right values or fails with ErrCancelled, and nothing leaks (the run
// options are freed only after the cancel callback is done with them).
func TestContextCancelRacesWithReturn(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "slow.pt")
	x, n := slowInputs(t, 4, 3)
	xv, _ := x.Float32s()
	want := slowReference(xv, 4, 3)
	rounds := 400
	if testing.Short() {
		rounds = 100
	}
	var ok, cancelled int
	for i := 0; i < rounds; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		if i%2 == 0 {
			go cancel()
		} else {
			time.AfterFunc(time.Duration(i%50)*time.Microsecond, cancel)
		}
		got, err := ctxCalls[i%len(ctxCalls)].call(ctx, m, x, n)
		switch {
		case err == nil:
			if math.Abs(float64(got[5])-want[5]) > 1e-5 {
				t.Fatalf("call %d: %v", i, got)
			}
			ok++
		case errors.Is(err, torchinfer.ErrCancelled) && errors.Is(err, context.Canceled):
			cancelled++
		default:
			t.Fatalf("call %d: %v", i, err)
		}
		cancel()
	}
	t.Logf("%d calls: %d completed, %d cancelled", rounds, ok, cancelled)
}

func TestInputTypes(t *testing.T) {
	checkLive(t)
	for _, c := range []struct {
		model string
		types []string
	}{
		{"slow.pt", []string{"Tensor", "int"}},
		{"named.pt", []string{"Tensor", "Tensor", "Optional[Tensor]", "float"}},
		{"identity.pt", []string{"Tensor"}},
	} {
		m := mustLoad(t, c.model)
		if got := m.InputTypes(); !reflect.DeepEqual(got, c.types) || len(got) != len(m.Inputs()) {
			t.Errorf("%s: InputTypes() = %q, want %q (inputs %v)", c.model, got, c.types, m.Inputs())
		}
		m.InputTypes()[0] = "x" // a copy
		if m.InputTypes()[0] != c.types[0] {
			t.Errorf("%s: InputTypes() aliases the model's list", c.model)
		}
	}
	if !hasFixture(t, "dynamic.pt2") {
		return
	}
	// x [B,8] and y [B,4] float32, B dynamic: one symbol shared by both.
	types := mustLoad(t, "dynamic.pt2").InputTypes()
	if len(types) != 2 || !strings.HasPrefix(types[0], "Tensor(float32, [") || !strings.HasSuffix(types[0], ", 8])") ||
		!strings.HasSuffix(types[1], ", 4])") || strings.TrimSuffix(types[0], ", 8])") != strings.TrimSuffix(types[1], ", 4])") {
		t.Errorf("dynamic.pt2: InputTypes() = %q", types)
	}
}

// hasFixture reports whether a .pt2 fixture was built (not on LibTorch 1.13).
func hasFixture(t *testing.T, name string) bool {
	t.Helper()
	ok := fileExists(modelPath(t, name))
	if !ok {
		t.Logf("%s not in the fixtures (built only on LibTorch 2.6+): skipping its part", name)
	}
	return ok
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// A .pt2 call cannot be interrupted: stopped during the call, it runs to its
// end, then fails as a stopped call (its outputs are discarded).
func TestContextPT2RunsToEnd(t *testing.T) {
	checkLive(t)
	if !hasFixture(t, "resnet18.pt2") {
		return
	}
	m := mustLoad(t, "resnet18.pt2")
	x := tensor(t, make([]float32, 3*224*224), 1, 3, 224, 224)
	full := time.Duration(math.MaxInt64)
	for i := 0; i < 3; i++ { // the first call warms up; keep the fastest
		start := time.Now()
		out, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		out.Close()
		full = min(full, time.Since(start))
	}
	for _, deadline := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		if deadline {
			ctx, cancel = context.WithTimeout(context.Background(), full/5)
		} else {
			time.AfterFunc(full/5, cancel)
		}
		start := time.Now()
		out, err := m.PredictContext(ctx, x)
		took := time.Since(start)
		cancel()
		wantStopped(t, "resnet18.pt2", out, err, deadline)
		t.Logf("resnet18.pt2: a call takes %v; stopped at %v (deadline %v), returned after %v: %v", full, full/5, deadline, took, err)
		if took < full/2 {
			t.Errorf("resnet18.pt2: a stopped call returned after %v, a full one takes %v: compiled code was interrupted?", took, full)
		}
	}
}
