package torchinfer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// wantCode asserts that err is an *Error with the given code, that the
// matching sentinel (and no other) matches it, and that its message mentions want.
func wantCode(t *testing.T, what string, err error, sentinel *torchinfer.Error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v", what, sentinel)
		return
	}
	var e *torchinfer.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: %T %v is not a *torchinfer.Error", what, err, err)
		return
	}
	if e.Code != sentinel.Code || !errors.Is(err, sentinel) {
		t.Errorf("%s: %v, want code %v", what, err, sentinel.Code)
	}
	for _, other := range allSentinels {
		if other != sentinel && errors.Is(err, other) {
			t.Errorf("%s: %v also matches %v", what, err, other)
		}
	}
	if !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "torchinfer: "+sentinel.Code.String()) {
		t.Errorf("%s: message %q does not say %q", what, err.Error(), want)
	}
}

var allSentinels = []*torchinfer.Error{
	torchinfer.ErrInvalidArgument, torchinfer.ErrNotFound, torchinfer.ErrModelFormat,
	torchinfer.ErrRuntime, torchinfer.ErrOutOfMemory, torchinfer.ErrDevice,
	torchinfer.ErrUnsupported, torchinfer.ErrInternal, torchinfer.ErrCancelled, torchinfer.ErrDeadlineExceeded,
	torchinfer.ErrUnavailable,
}

func predictErr(m *torchinfer.Model, method string, inputs ...*torchinfer.Tensor) error {
	var out *torchinfer.Outputs
	var err error
	if method == "forward" {
		out, err = m.Predict(inputs...)
	} else {
		out, err = m.RunMethod(method, inputs...)
	}
	if out != nil {
		out.Close()
	}
	if err == nil && out == nil {
		return errors.New("nil outputs without an error")
	}
	return err
}

func TestErrorCodes(t *testing.T) {
	checkLive(t)
	mlp := mustLoad(t, "mlp.pt")
	x16 := tensor(t, make([]float32, 16), 1, 16)

	// INVALID_ARGUMENT: wrong input count, unknown input name, nbytes mismatch.
	wantCode(t, "two inputs", predictErr(mlp, "forward", x16, x16), torchinfer.ErrInvalidArgument, "")
	named := mustLoad(t, "named.pt")
	_, err := named.PredictNamed(map[string]*torchinfer.Tensor{"ids": x16, "nope": x16})
	wantCode(t, "unknown name", err, torchinfer.ErrInvalidArgument, "nope")
	_, err = torchinfer.NewTensor([]float32{1, 2, 3}, 2, 2)
	wantCode(t, "nbytes mismatch", err, torchinfer.ErrInvalidArgument, "")
	_, err = torchinfer.NewTensor([]float32{}, -1)
	wantCode(t, "negative dimension", err, torchinfer.ErrInvalidArgument, "")
	wantCode(t, "SetNumThreads(0)", torchinfer.SetNumThreads(0), torchinfer.ErrInvalidArgument, "")

	// NOT_FOUND: missing file, missing method, missing output name.
	_, err = torchinfer.Load(filepath.Join(t.TempDir(), "missing.pt"))
	wantCode(t, "missing file", err, torchinfer.ErrNotFound, "missing.pt")
	wantCode(t, "missing method", predictErr(mlp, "nosuchmethod", x16), torchinfer.ErrNotFound, "nosuchmethod")
	out, err := mlp.Predict(x16)
	if err != nil {
		t.Fatal(err)
	}
	_, err = out.Find("logits")
	wantCode(t, "missing output", err, torchinfer.ErrNotFound, "logits")
	_, err = out.Get(1)
	wantCode(t, "output index out of range", err, torchinfer.ErrInvalidArgument, "")
	out.Close()

	// MODEL_FORMAT: garbage, truncated, newer.pt; from files and from bytes.
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pt")
	if err := os.WriteFile(garbage, []byte("this is not a zip archive at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, err := os.ReadFile(modelPath(t, "mlp.pt"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.pt")
	if err := os.WriteFile(truncated, whole[:len(whole)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{garbage, truncated, modelPath(t, "newer.pt")} {
		_, err = torchinfer.Load(p)
		wantCode(t, "Load "+filepath.Base(p), err, torchinfer.ErrModelFormat, "")
	}
	_, err = torchinfer.LoadBytes(whole[:len(whole)/2])
	wantCode(t, "LoadBytes truncated", err, torchinfer.ErrModelFormat, "")
	_, err = torchinfer.LoadBytes(nil)
	wantCode(t, "LoadBytes(nil)", err, torchinfer.ErrModelFormat, "empty")

	// RUNTIME: the model raises; a shape mismatch. The model stays usable.
	faulty := mustLoad(t, "faulty.pt")
	neg := tensor(t, []float32{-1, -2}, 2)
	wantCode(t, "faulty negative", predictErr(faulty, "forward", neg), torchinfer.ErrRuntime, "non-negative")
	x7 := tensor(t, make([]float32, 7), 1, 7)
	wantCode(t, "mlp [1,7]", predictErr(mlp, "forward", x7), torchinfer.ErrRuntime, "")
	if err := predictErr(faulty, "forward", tensor(t, []float32{1, 2}, 2)); err != nil {
		t.Errorf("faulty after an error: %v", err)
	}

	// OUT_OF_MEMORY: faulty.allocate(1e15).
	huge := closeLater(t, mustTensor(t)(torchinfer.Scalar(int64(1_000_000_000_000_000))))
	wantCode(t, "allocate", predictErr(faulty, "allocate", huge), torchinfer.ErrOutOfMemory, "")

	// DEVICE: a CUDA device that is not there.
	if torchinfer.CUDADeviceCount() == 0 {
		_, err = torchinfer.Load(modelPath(t, "mlp.pt"), torchinfer.WithDevice("cuda"))
		wantCode(t, "cuda without CUDA", err, torchinfer.ErrDevice, "")
	} else {
		_, err = torchinfer.Load(modelPath(t, "mlp.pt"), torchinfer.WithDevice("cuda:999"))
		wantCode(t, "cuda:999", err, torchinfer.ErrDevice, "")
	}

	// UNSUPPORTED: a .pt2 (native code) when native code is not allowed; a device type
	// other than cpu/cuda. (A str result is a string leaf now, no longer UNSUPPORTED.)
	structured := mustLoad(t, "structured.pt")
	text, err := structured.RunMethod("text", x16)
	if err != nil {
		t.Errorf("text(): %v", err)
	} else if s, err := text.Text(0); err != nil || s != "not a tensor" || text.Kind(0) != torchinfer.KindString {
		t.Errorf("text(): %q %v", s, err)
	}
	text.Close()
	_, err = torchinfer.Load(modelPath(t, "fake.pt2"), torchinfer.WithAllowNativeCode(false))
	wantCode(t, "native code refused", err, torchinfer.ErrUnsupported, "")
	_, err = torchinfer.Load(modelPath(t, "mlp.pt"), torchinfer.WithDevice("mps"))
	wantCode(t, "mps", err, torchinfer.ErrUnsupported, "")
	_, err = torchinfer.Load(modelPath(t, "mlp.pt"), torchinfer.WithDevice("not a device"))
	wantCode(t, "bad device string", err, torchinfer.ErrInvalidArgument, "")

	// UNAVAILABLE: see TestBatcherQueueFull and TestBatcherCloseWithQueued.
	if !errors.Is(&torchinfer.Error{Code: torchinfer.CodeUnavailable}, torchinfer.ErrUnavailable) ||
		torchinfer.CodeUnavailable.String() != "TI_ERR_UNAVAILABLE" {
		t.Error("ErrUnavailable does not match CodeUnavailable")
	}

	// INTERNAL is not reachable; its sentinel still matches by code.
	if !errors.Is(&torchinfer.Error{Code: torchinfer.CodeInternal, Message: "x"}, torchinfer.ErrInternal) {
		t.Error("ErrInternal does not match CodeInternal")
	}
}

func TestErrorType(t *testing.T) {
	e := &torchinfer.Error{Code: torchinfer.CodeNotFound, Message: "no such file: a.pt"}
	if e.Error() != "torchinfer: TI_ERR_NOT_FOUND: no such file: a.pt" {
		t.Errorf("Error() = %q", e.Error())
	}
	if torchinfer.ErrRuntime.Error() != "torchinfer: TI_ERR_RUNTIME" {
		t.Errorf("sentinel Error() = %q", torchinfer.ErrRuntime.Error())
	}
	if torchinfer.Code(100).String() != "TI_ERR_UNKNOWN(100)" {
		t.Errorf("unknown code: %q", torchinfer.Code(100).String())
	}
	// Two errors with the same code but different messages are not "the same error".
	if errors.Is(e, &torchinfer.Error{Code: torchinfer.CodeNotFound, Message: "other"}) {
		t.Error("errors with different messages match")
	}
	if errors.Is(e, torchinfer.ErrClosed) || errors.Is(torchinfer.ErrInvalidArgument, torchinfer.ErrClosed) {
		t.Error("ErrClosed matches an error that is not about a closed handle")
	}
	wrapped := errors.Join(errors.New("context"), e)
	if !errors.Is(wrapped, torchinfer.ErrNotFound) {
		t.Error("wrapped error does not match its sentinel")
	}
}

// The two stop codes: their C names, and their match with the context package's errors.
func TestStopCodes(t *testing.T) {
	for _, c := range []struct {
		code     torchinfer.Code
		name     string
		sentinel *torchinfer.Error
		ctxErr   error
		other    error
	}{
		{torchinfer.CodeCancelled, "TI_ERR_CANCELLED", torchinfer.ErrCancelled, context.Canceled, context.DeadlineExceeded},
		{torchinfer.CodeDeadlineExceeded, "TI_ERR_DEADLINE_EXCEEDED", torchinfer.ErrDeadlineExceeded, context.DeadlineExceeded, context.Canceled},
	} {
		if c.code.String() != c.name {
			t.Errorf("Code(%d).String() = %q, want %q", int(c.code), c.code.String(), c.name)
		}
		e := &torchinfer.Error{Code: c.code, Message: "stopped after 1 ms"}
		if !errors.Is(e, c.sentinel) || !errors.Is(e, c.ctxErr) || errors.Is(e, c.other) || errors.Unwrap(e) != nil {
			t.Errorf("%s: matches %v %v %v, unwraps to %v", c.name, errors.Is(e, c.sentinel), errors.Is(e, c.ctxErr), errors.Is(e, c.other), errors.Unwrap(e))
		}
	}
	for _, other := range []*torchinfer.Error{torchinfer.ErrRuntime, torchinfer.ErrInternal, torchinfer.ErrClosed} {
		if errors.Is(other, context.Canceled) || errors.Is(other, context.DeadlineExceeded) {
			t.Errorf("%v matches a context error", other)
		}
	}
}
