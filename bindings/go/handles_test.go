package torchinfer_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// The rule of the package documentation ("Use after Close"), checked for
// every exported method of Model, Tensor and Outputs on a nil pointer and on
// a closed handle: methods with an error result fail with ErrClosed (before
// looking at their other arguments), Close returns nil, other accessors give
// what was fixed at creation (closed) or the zero value.

// errCall is a method with an error result, called on one handle.
type errCall struct {
	name string
	call func() error
}

// wantClosed asserts that every call fails with ErrClosed (and ErrInvalidArgument).
func wantClosed(t *testing.T, what string, calls []errCall) {
	t.Helper()
	for _, c := range calls {
		err := c.call()
		if !errors.Is(err, torchinfer.ErrClosed) || !errors.Is(err, torchinfer.ErrInvalidArgument) {
			t.Errorf("%s.%s: %v, want ErrClosed", what, c.name, err)
		}
	}
}

// covered asserts that names lists every exported method of typ's pointer type.
func covered(t *testing.T, typ reflect.Type, names []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, n := range names {
		seen[strings.SplitN(n, "(", 2)[0]] = true
	}
	var missing []string
	for i := 0; i < typ.NumMethod(); i++ {
		if name := typ.Method(i).Name; !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s: no nil/closed check for %v", typ, missing)
	}
}

func discard(_ *torchinfer.Outputs, err error) error { return err }
func discardT(_ *torchinfer.Tensor, err error) error { return err }
func discardV[T any](_ T, err error) error           { return err }

func modelErrCalls(m *torchinfer.Model, x *torchinfer.Tensor) []errCall {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	in := map[string]*torchinfer.Tensor{"x": x}
	return []errCall{
		{"Predict", func() error { return discard(m.Predict(x)) }},
		{"Predict()", func() error { return discard(m.Predict()) }},
		{"Predict(nil)", func() error { return discard(m.Predict(nil)) }},
		{"PredictNamed", func() error { return discard(m.PredictNamed(in)) }},
		{"PredictNamed(NUL)", func() error { return discard(m.PredictNamed(map[string]*torchinfer.Tensor{"x\x00": x})) }},
		{"RunMethod", func() error { return discard(m.RunMethod("forward", x)) }},
		{"RunMethod(NUL)", func() error { return discard(m.RunMethod("forward\x00", x)) }},
		{"RunMethodNamed", func() error { return discard(m.RunMethodNamed("forward", in)) }},
		{"RunMethodNamed(NUL)", func() error { return discard(m.RunMethodNamed("a\x00", in)) }},
		{"PredictContext", func() error { return discard(m.PredictContext(ctx, x)) }},
		{"PredictContext(cancelled)", func() error { return discard(m.PredictContext(cancelled, x)) }},
		{"PredictContext(nil ctx)", func() error { return discard(m.PredictContext(nil, x)) }},
		{"PredictNamedContext", func() error { return discard(m.PredictNamedContext(ctx, in)) }},
		{"RunMethodContext", func() error { return discard(m.RunMethodContext(ctx, "forward", x)) }},
		{"RunMethodContext(NUL)", func() error { return discard(m.RunMethodContext(cancelled, "\x00", x)) }},
		{"RunMethodNamedContext", func() error { return discard(m.RunMethodNamedContext(ctx, "forward", in)) }},
		{"PredictInto", func() error { return torchinfer.PredictInto(m, make([]float32, 2), x) }},
		{"PredictInto(wrong dst)", func() error { return torchinfer.PredictInto(m, make([]int64, 1), x) }},
		{"PredictIntoContext", func() error { return torchinfer.PredictIntoContext(ctx, m, make([]float32, 2), x) }},
		{"PredictIntoContext(nil ctx)", func() error { return torchinfer.PredictIntoContext(nil, m, make([]float32, 2), x) }},
		{"RunValues", func() error { return discard(m.RunValues(ctx, "", map[string]any{"x": x})) }},
		{"RunValues(nil ctx, NUL)", func() error { return discard(m.RunValues(nil, "a\x00", map[string]any{"x": "\xff"})) }},
		{"RunInputs", func() error { return discard(m.RunInputs(ctx, nil)) }},
		{"NewInputs", func() error { return discardV(torchinfer.NewInputs(m, "")) }},
		{"NewInputs(NUL)", func() error { return discardV(torchinfer.NewInputs(m, "\x00")) }},
		{"NewBatcher", func() error { return discardV(torchinfer.NewBatcher(m, torchinfer.BatcherOptions{})) }},
		{"NewBatcher(bad options)", func() error {
			return discardV(torchinfer.NewBatcher(m, torchinfer.BatcherOptions{Method: "\x00", MaxBatch: -1}))
		}},
	}
}

func TestNilAndClosedModel(t *testing.T) {
	checkLive(t)
	x := tensor(t, []float32{1, 2}, 2)
	var nilModel *torchinfer.Model
	calls := modelErrCalls(nilModel, x)
	wantClosed(t, "nil Model", calls)
	if nilModel.Close() != nil || nilModel.Inputs() != nil || nilModel.InputTypes() != nil ||
		nilModel.Methods() != nil || nilModel.Device() != "" || nilModel.Format() != "" || nilModel.Schema("") != "" {
		t.Error("nil Model: accessors are not zero values")
	}

	m, err := torchinfer.Load(modelPath(t, "identity.pt"))
	if err != nil {
		t.Fatal(err)
	}
	inputs, types, methods, schema := m.Inputs(), m.InputTypes(), m.Methods(), m.Schema("")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	wantClosed(t, "closed Model", modelErrCalls(m, x))
	if !reflect.DeepEqual(m.Inputs(), inputs) || !reflect.DeepEqual(m.InputTypes(), types) ||
		!reflect.DeepEqual(m.Methods(), methods) || m.Device() != "cpu" || m.Format() != "torchscript" ||
		m.Schema("") != schema || schema == "" {
		t.Errorf("closed Model: %v %v %v %q %q, want what it had before Close", m.Inputs(), m.InputTypes(), m.Methods(), m.Device(), m.Format())
	}
	covered(t, reflect.TypeOf(m), append([]string{"Close", "Inputs", "InputTypes", "Methods", "Device", "Format", "Schema"}, names(calls)...))
}

func tensorErrCalls(x *torchinfer.Tensor) []errCall {
	return []errCall{
		{"Float32s", func() error { return discardV(x.Float32s()) }},
		{"Float64s", func() error { return discardV(x.Float64s()) }},
		{"Int8s", func() error { return discardV(x.Int8s()) }},
		{"Uint8s", func() error { return discardV(x.Uint8s()) }},
		{"Int16s", func() error { return discardV(x.Int16s()) }},
		{"Int32s", func() error { return discardV(x.Int32s()) }},
		{"Int64s", func() error { return discardV(x.Int64s()) }},
		{"Bools", func() error { return discardV(x.Bools()) }},
		{"Float16Bits", func() error { return discardV(x.Float16Bits()) }},
		{"BFloat16Bits", func() error { return discardV(x.BFloat16Bits()) }},
		{"Bytes", func() error { return discardV(x.Bytes()) }},
		{"CopyTo(float32)", func() error { return torchinfer.CopyTo(x, make([]float32, 3)) }},
		{"CopyTo(wrong length)", func() error { return torchinfer.CopyTo(x, make([]float32, 1)) }},
		{"CopyTo(uint16)", func() error { return torchinfer.CopyTo(x, make([]uint16, 3)) }},
		{"Values(float32)", func() error { return discardV(torchinfer.Values[float32](x)) }},
		{"Values(int64)", func() error { return discardV(torchinfer.Values[int64](x)) }},
	}
}

func TestNilAndClosedTensor(t *testing.T) {
	checkLive(t)
	var nilTensor *torchinfer.Tensor
	calls := tensorErrCalls(nilTensor)
	wantClosed(t, "nil Tensor", calls)
	if nilTensor.Close() != nil || nilTensor.DType() != 0 || nilTensor.Shape() != nil || nilTensor.NumElements() != 0 ||
		nilTensor.NumBytes() != 0 || nilTensor.Device() != "" || nilTensor.String() != "Tensor(nil)" {
		t.Error("nil Tensor: accessors are not zero values")
	}

	x, err := torchinfer.NewTensor([]float32{1, 2, 3}, 3)
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	x.Close()
	wantClosed(t, "closed Tensor", tensorErrCalls(x))
	if x.DType() != torchinfer.Float32 || !reflect.DeepEqual(x.Shape(), []int64{3}) || x.NumElements() != 3 ||
		x.NumBytes() != 12 || x.Device() != "" || x.String() != "Tensor(closed)" {
		t.Errorf("closed Tensor: %v %v %d %d %q %q", x.DType(), x.Shape(), x.NumElements(), x.NumBytes(), x.Device(), x.String())
	}
	// As an input: a closed tensor is ErrClosed, a nil one ErrInvalidArgument.
	m := mustLoad(t, "identity.pt")
	for _, c := range []errCall{
		{"Predict", func() error { return discard(m.Predict(x)) }},
		{"PredictNamed", func() error { return discard(m.PredictNamed(map[string]*torchinfer.Tensor{"x": x})) }},
		{"PredictContext", func() error { return discard(m.PredictContext(context.Background(), x)) }},
		{"PredictInto", func() error { return torchinfer.PredictInto(m, make([]float32, 3), x) }},
	} {
		if err := c.call(); !errors.Is(err, torchinfer.ErrClosed) {
			t.Errorf("%s with a closed input: %v", c.name, err)
		}
	}
	if _, err := m.Predict(nilTensor); !errors.Is(err, torchinfer.ErrInvalidArgument) || errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("Predict with a nil input: %v", err)
	}
	_, err = m.PredictNamedContext(context.Background(), map[string]*torchinfer.Tensor{"x": nilTensor})
	if !errors.Is(err, torchinfer.ErrInvalidArgument) || errors.Is(err, torchinfer.ErrClosed) || !strings.Contains(err.Error(), `input "x" is a nil`) {
		t.Errorf("PredictNamedContext with a nil input: %v", err)
	}
	covered(t, reflect.TypeOf(x), append([]string{"Close", "DType", "Shape", "NumElements", "NumBytes", "Device", "String"}, names(calls)...))
}

func outputsErrCalls(o *torchinfer.Outputs) []errCall {
	return []errCall{
		{"Get", func() error { return discardT(o.Get(0)) }},
		{"Get(-1)", func() error { return discardT(o.Get(-1)) }},
		{"Find", func() error { return discardT(o.Find("0")) }},
		{"Find(NUL)", func() error { return discardT(o.Find("0\x00x")) }},
		{"CopyLeaf", func() error { return torchinfer.CopyLeaf(o, 0, make([]float32, 2)) }},
		{"CopyLeaf(-1, wrong dst)", func() error { return torchinfer.CopyLeaf(o, -1, make([]bool, 9)) }},
		{"LeafValues", func() error { return discardV(torchinfer.LeafValues[float32](o, 0)) }},
		{"LeafValues(-1)", func() error { return discardV(torchinfer.LeafValues[uint16](o, -1)) }},
		{"Text", func() error { return discardV(o.Text(0)) }},
		{"Text(-1)", func() error { return discardV(o.Text(-1)) }},
	}
}

func TestNilAndClosedOutputs(t *testing.T) {
	checkLive(t)
	var nilOutputs *torchinfer.Outputs
	calls := outputsErrCalls(nilOutputs)
	wantClosed(t, "nil Outputs", calls)
	if nilOutputs.Close() != nil || nilOutputs.Len() != 0 || nilOutputs.Name(0) != "" || nilOutputs.Names() != nil ||
		nilOutputs.DType(0) != 0 || nilOutputs.Shape(0) != nil || nilOutputs.Kind(0) != torchinfer.KindNone {
		t.Error("nil Outputs: accessors are not zero values")
	}

	m := mustLoad(t, "identity.pt")
	out, err := m.Predict(tensor(t, []float32{1, 2}, 2))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 1 || out.DType(0) != torchinfer.Float32 || !reflect.DeepEqual(out.Shape(0), []int64{2}) ||
		out.Kind(0) != torchinfer.KindTensor {
		t.Fatalf("Len() = %d, DType(0) = %v, Shape(0) = %v, Kind(0) = %v", out.Len(), out.DType(0), out.Shape(0), out.Kind(0))
	}
	out.Close()
	out.Close()
	wantClosed(t, "closed Outputs", outputsErrCalls(out))
	if out.Len() != 0 || out.Name(0) != "" || out.Names() != nil || out.DType(0) != 0 || out.Shape(0) != nil ||
		out.Kind(0) != torchinfer.KindNone {
		t.Errorf("closed Outputs: %d %q %v %v %v %v", out.Len(), out.Name(0), out.Names(), out.DType(0), out.Shape(0), out.Kind(0))
	}
	covered(t, reflect.TypeOf(out), append([]string{"Close", "Len", "Name", "Names", "DType", "Shape", "Kind"}, names(calls)...))
}

func inputsErrCalls(in *torchinfer.Inputs, x *torchinfer.Tensor) []errCall {
	return []errCall{
		{"Set", func() error { return in.Set("x", x) }},
		{"Set(NUL)", func() error { return in.Set("x\x00", nil) }},
		{"SetTensor", func() error { return in.SetTensor("x", x) }},
		{"SetTensor(nil)", func() error { return in.SetTensor("x", nil) }},
		{"SetInt", func() error { return in.SetInt("x", 1) }},
		{"SetFloat", func() error { return in.SetFloat("x", 1) }},
		{"SetBool", func() error { return in.SetBool("x", true) }},
		{"SetString", func() error { return in.SetString("x", "\xff") }},
		{"SetNone", func() error { return in.SetNone("x") }},
		{"SetEmpty", func() error { return in.SetEmpty("x") }},
	}
}

func TestNilAndClosedInputs(t *testing.T) {
	checkLive(t)
	x := tensor(t, []float32{1, 2}, 2)
	var nilInputs *torchinfer.Inputs
	calls := inputsErrCalls(nilInputs, x)
	wantClosed(t, "nil Inputs", calls)
	if nilInputs.Close() != nil || nilInputs.Method() != "" {
		t.Error("nil Inputs: accessors are not zero values")
	}
	m := mustLoad(t, "identity.pt")
	in, err := torchinfer.NewInputs(m, "double")
	if err != nil {
		t.Fatal(err)
	}
	in.Close()
	in.Close()
	wantClosed(t, "closed Inputs", inputsErrCalls(in, x))
	if _, err := m.RunInputs(context.Background(), in); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("RunInputs(closed Inputs): %v", err)
	}
	if in.Method() != "double" {
		t.Errorf("closed Inputs: Method() = %q", in.Method())
	}
	covered(t, reflect.TypeOf(in), append([]string{"Close", "Method"}, names(calls)...))
}

func batcherErrCalls(b *torchinfer.Batcher, x *torchinfer.Tensor) []errCall {
	ctx := context.Background()
	return []errCall{
		{"Predict", func() error { return discard(b.Predict(ctx, x)) }},
		{"Predict(nil ctx, nil)", func() error { return discard(b.Predict(nil, nil)) }},
		{"PredictNamed", func() error { return discard(b.PredictNamed(ctx, map[string]*torchinfer.Tensor{"x": x})) }},
		{"PredictNamed(NUL)", func() error { return discard(b.PredictNamed(ctx, map[string]*torchinfer.Tensor{"\x00": x})) }},
	}
}

func TestNilAndClosedBatcher(t *testing.T) {
	checkLive(t)
	x := tensor(t, []float32{1, 2}, 1, 2)
	var nilBatcher *torchinfer.Batcher
	calls := batcherErrCalls(nilBatcher, x)
	wantClosed(t, "nil Batcher", calls)
	if r, n := nilBatcher.Stats(); nilBatcher.Close() != nil || nilBatcher.Method() != "" || r != 0 || n != 0 {
		t.Error("nil Batcher: accessors are not zero values")
	}
	m := mustLoad(t, "identity.pt")
	b, err := torchinfer.NewBatcher(m, torchinfer.BatcherOptions{Method: "double"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := b.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	out.Close()
	b.Close()
	b.Close()
	wantClosed(t, "closed Batcher", batcherErrCalls(b, x))
	if r, n := b.Stats(); b.Method() != "double" || r != 1 || n != 1 {
		t.Errorf("closed Batcher: Method() = %q, Stats() = %d, %d", b.Method(), r, n)
	}
	covered(t, reflect.TypeOf(b), append([]string{"Close", "Method", "Stats"}, names(calls)...))
}

func names(calls []errCall) []string {
	var n []string
	for _, c := range calls {
		n = append(n, c.name)
	}
	return n
}

// A string with a NUL byte would be cut short at the NUL by C, turning
// "forward\x00junk" into "forward": every function that passes a string to
// C rejects it instead, although the cut string would have worked.
func TestNULInNames(t *testing.T) {
	checkLive(t)
	path := modelPath(t, "identity.pt")
	m := mustLoad(t, "identity.pt")
	x := tensor(t, []float32{2, 3}, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := map[string]*torchinfer.Tensor{"x\x00junk": x}
	out, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for _, c := range []errCall{
		{"Load(path)", func() error { return discardV(torchinfer.Load(path + "\x00junk")) }},
		{"WithDevice", func() error { return discardV(torchinfer.Load(path, torchinfer.WithDevice("cpu\x00junk"))) }},
		{"LoadBytes+WithDevice", func() error {
			return discardV(torchinfer.LoadBytes([]byte("not read"), torchinfer.WithDevice("cpu\x00")))
		}},
		{"PredictNamed", func() error { return discard(m.PredictNamed(in)) }},
		{"PredictNamedContext", func() error { return discard(m.PredictNamedContext(ctx, in)) }},
		{"RunMethod", func() error { return discard(m.RunMethod("double\x00junk", x)) }},
		{"RunMethodContext", func() error { return discard(m.RunMethodContext(ctx, "double\x00junk", x)) }},
		{"RunMethodNamed(method)", func() error {
			return discard(m.RunMethodNamed("double\x00junk", map[string]*torchinfer.Tensor{"x": x}))
		}},
		{"RunMethodNamed(input)", func() error { return discard(m.RunMethodNamed("double", in)) }},
		{"RunMethodNamedContext(method)", func() error {
			return discard(m.RunMethodNamedContext(ctx, "double\x00junk", map[string]*torchinfer.Tensor{"x": x}))
		}},
		{"RunMethodNamedContext(input)", func() error { return discard(m.RunMethodNamedContext(ctx, "double", in)) }},
		{"Outputs.Find", func() error { return discardT(out.Find("0\x00junk")) }},
		{"LoadOpLibrary", func() error { return torchinfer.LoadOpLibrary(path + "\x00junk") }},
		{"RunValues(method)", func() error { return discard(m.RunValues(ctx, "double\x00junk", map[string]any{"x": x})) }},
		{"RunValues(argument)", func() error { return discard(m.RunValues(ctx, "double", map[string]any{"x\x00junk": x})) }},
		{"RunValues(key)", func() error {
			return discard(m.RunValues(ctx, "double", map[string]any{"x": map[string]any{"k\x00junk": x}}))
		}},
		{"NewInputs", func() error { return discardV(torchinfer.NewInputs(m, "double\x00junk")) }},
		{"NewBatcher", func() error {
			return discardV(torchinfer.NewBatcher(m, torchinfer.BatcherOptions{Method: "double\x00junk"}))
		}},
	} {
		wantCode(t, c.name, c.call(), torchinfer.ErrInvalidArgument, "NUL byte")
	}
	// The same calls without the NUL part work.
	if y, err := out.Find("0"); err != nil {
		t.Errorf("Find(\"0\"): %v", err)
	} else {
		y.Close()
	}
	if o, err := m.RunMethodNamedContext(ctx, "double", map[string]*torchinfer.Tensor{"x": x}); err != nil {
		t.Errorf("RunMethodNamedContext: %v", err)
	} else {
		o.Close()
	}
}
