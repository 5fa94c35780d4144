package torchinfer_test

import (
	"context"
	"testing"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// runCase runs one reference.json case on m and returns its outputs.
func runCase(m *torchinfer.Model, c refCase) (*torchinfer.Outputs, error) {
	return runCaseWith(nil, m, c)
}

// runCaseContext runs a case through the Context forms under ctx.
func runCaseContext(ctx context.Context, m *torchinfer.Model, c refCase) (*torchinfer.Outputs, error) {
	return runCaseWith(ctx, m, c)
}

// runCaseWith runs a case through the plain calls (ctx nil) or the Context forms.
func runCaseWith(ctx context.Context, m *torchinfer.Model, c refCase) (*torchinfer.Outputs, error) {
	inputs := make([]*torchinfer.Tensor, 0, len(c.Inputs))
	defer func() {
		for _, x := range inputs {
			x.Close()
		}
	}()
	named := map[string]*torchinfer.Tensor{}
	for _, in := range c.Inputs {
		x, err := makeTensor(in)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, x)
		named[in.Name] = x
	}
	switch {
	case c.Named && c.Method != "forward" && ctx != nil:
		return m.RunMethodNamedContext(ctx, c.Method, named)
	case c.Named && c.Method != "forward":
		return m.RunMethodNamed(c.Method, named)
	case c.Named && ctx != nil:
		return m.PredictNamedContext(ctx, named)
	case c.Named:
		return m.PredictNamed(named)
	case c.Method == "forward" && ctx != nil:
		return m.PredictContext(ctx, inputs...)
	case c.Method == "forward":
		return m.Predict(inputs...)
	case ctx != nil:
		return m.RunMethodContext(ctx, c.Method, inputs...)
	default:
		return m.RunMethod(c.Method, inputs...)
	}
}

// checkOutputs compares every leaf by index (name, order) and by name.
func checkOutputs(t testing.TB, c refCase, out *torchinfer.Outputs) {
	t.Helper()
	if out.Len() != len(c.Outputs) {
		t.Fatalf("%s: %d leaves %v, want %d", c.Name, out.Len(), out.Names(), len(c.Outputs))
	}
	for i, want := range c.Outputs {
		if name := out.Name(i); name != want.Name {
			t.Errorf("%s: leaf %d is %q, want %q", c.Name, i, name, want.Name)
		}
		byIndex, err := out.Get(i)
		if err != nil {
			t.Fatalf("%s: Get(%d): %v", c.Name, i, err)
		}
		checkTensor(t, c.Name+"["+want.Name+"] by index", byIndex, want)
		byIndex.Close()
		byName, err := out.Find(want.Name)
		if err != nil {
			t.Fatalf("%s: Find(%q): %v", c.Name, want.Name, err)
		}
		checkTensor(t, c.Name+"["+want.Name+"] by name", byName, want)
		byName.Close()
	}
}

func TestReferenceCases(t *testing.T) {
	checkLive(t)
	cases := loadReference(t)
	models := map[string]*torchinfer.Model{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			m := models[c.Model]
			if m == nil {
				var err error
				if m, err = torchinfer.Load(modelPath(t, c.Model)); err != nil {
					t.Fatal(err)
				}
				models[c.Model] = m
			}
			out, err := runCase(m, c)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			checkOutputs(t, c, out)
		})
	}
	for _, m := range models {
		m.Close()
	}
	if len(cases) < 12 {
		t.Errorf("only %d reference cases", len(cases))
	}
}
