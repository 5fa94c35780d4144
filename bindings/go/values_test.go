package torchinfer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// values_reference.json: structured cases (issue 16), see tests/models/make_models.py.

type valueItem struct {
	Path  string          `json:"path"` // inputs
	Name  string          `json:"name"` // outputs
	Kind  string          `json:"kind"` // tensor, int, float, bool, string, none, empty
	DType string          `json:"dtype"`
	Shape []int64         `json:"shape"`
	Data  []float64       `json:"data"`
	Value json.RawMessage `json:"value"`
}

type valueCase struct {
	Name    string      `json:"name"`
	Model   string      `json:"model"`
	Method  string      `json:"method"`
	Ops     bool        `json:"ops"`
	Inputs  []valueItem `json:"inputs"`
	Outputs []valueItem `json:"outputs"`
}

func loadValueCases(t testing.TB) []valueCase {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(modelsDir(t), "values_reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []valueCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("values_reference.json has no cases")
	}
	return ref.Cases
}

// loadOps loads torchvision's operator library (the path in torchvision_ops.txt).
func loadOps(t testing.TB) {
	t.Helper()
	if err := torchinfer.LoadOpLibrary(opsPath(t)); err != nil {
		t.Fatalf("LoadOpLibrary: %v", err)
	}
}

func opsPath(t testing.TB) string {
	t.Helper()
	raw, err := os.ReadFile(modelPath(t, "torchvision_ops.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

// splitPath splits a path into its segments, unescaping `\.` and `\\` (a
// test's own reading of the grammar, to turn reference paths back into Go values).
func splitPath(path string) []string {
	var segs []string
	var cur []byte
	for i := 0; i < len(path); i++ {
		switch {
		case path[i] == '\\' && i+1 < len(path):
			i++
			cur = append(cur, path[i])
		case path[i] == '.':
			segs = append(segs, string(cur))
			cur = nil
		default:
			cur = append(cur, path[i])
		}
	}
	return append(segs, string(cur))
}

// node is a value of a case's inputs, rebuilt from their paths.
type node struct {
	leaf any
	set  bool
	keys []string
	kids map[string]*node
}

func (n *node) child(k string) *node {
	if n.kids == nil {
		n.kids = map[string]*node{}
	}
	c := n.kids[k]
	if c == nil {
		c = &node{}
		n.kids[k] = c
		n.keys = append(n.keys, k)
	}
	return c
}

// leafValue is an input item as a Go value; tensors are closed by the test.
func leafValue(t testing.TB, it valueItem) any {
	t.Helper()
	switch it.Kind {
	case "tensor":
		x, err := makeTensor(refTensor{Name: it.Path, DType: it.DType, Shape: it.Shape, Data: it.Data})
		if err != nil {
			t.Fatal(err)
		}
		return closeLater(t, x)
	case "int":
		var v int64
		mustJSON(t, it.Value, &v)
		return v
	case "float":
		var v float64
		mustJSON(t, it.Value, &v)
		return v
	case "bool":
		var v bool
		mustJSON(t, it.Value, &v)
		return v
	case "string":
		var v string
		mustJSON(t, it.Value, &v)
		return v
	case "none":
		return nil
	case "empty":
		return []any{}
	}
	t.Fatalf("input %s: unknown kind %q", it.Path, it.Kind)
	return nil
}

func mustJSON(t testing.TB, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

// nativeArgs turns a case's inputs into RunValues' arguments. plain: []any,
// map[string]any and map[int64]any only; otherwise the most specific Go
// types that fit ([]*Tensor, []string, map[string]*Tensor, map[int]any,
// [][]*Tensor, ...), so the reference cases go through both.
func nativeArgs(t testing.TB, c valueCase, plain bool) map[string]any {
	t.Helper()
	root := &node{}
	for _, it := range c.Inputs {
		n := root
		for _, seg := range splitPath(it.Path) {
			n = n.child(seg)
		}
		n.leaf, n.set = leafValue(t, it), true
	}
	args := map[string]any{}
	for _, k := range root.keys {
		args[k] = root.kids[k].value(plain)
	}
	return args
}

func (n *node) value(plain bool) any {
	if n.set {
		return n.leaf
	}
	ints := make([]int64, len(n.keys))
	dense := true
	for i, k := range n.keys {
		v, err := strconv.ParseInt(k, 10, 64)
		if err != nil || strconv.FormatInt(v, 10) != k {
			return n.stringMap(plain)
		}
		ints[i] = v
		dense = dense && v == int64(i)
	}
	if !dense {
		if plain {
			m := map[int64]any{}
			for i, k := range n.keys {
				m[ints[i]] = n.kids[k].value(plain)
			}
			return m
		}
		m := map[int]any{}
		for i, k := range n.keys {
			m[int(ints[i])] = n.kids[k].value(plain)
		}
		return m
	}
	elems := make([]any, len(n.keys))
	for i, k := range n.keys {
		elems[i] = n.kids[k].value(plain)
	}
	if plain {
		return elems
	}
	return specific(elems)
}

func (n *node) stringMap(plain bool) any {
	m := map[string]any{}
	tensors := map[string]*torchinfer.Tensor{}
	for _, k := range n.keys {
		m[k] = n.kids[k].value(plain)
		if x, ok := m[k].(*torchinfer.Tensor); ok {
			tensors[k] = x
		}
	}
	if !plain && len(tensors) == len(m) {
		return tensors
	}
	return m
}

// specific is elems as a typed slice when all elements have one of the types below.
func specific(elems []any) any {
	if s, ok := typedSlice[*torchinfer.Tensor](elems); ok {
		return s
	}
	if s, ok := typedSlice[string](elems); ok {
		return s
	}
	if s, ok := typedSlice[[]*torchinfer.Tensor](elems); ok {
		return s
	}
	return elems
}

func typedSlice[T any](elems []any) ([]T, bool) {
	s := make([]T, len(elems))
	for i, e := range elems {
		v, ok := e.(T)
		if !ok {
			return nil, false
		}
		s[i] = v
	}
	return s, true
}

// checkValueOutputs compares every leaf with the reference: names in order,
// kinds, tensors by index and by name, strings, Nones.
func checkValueOutputs(t testing.TB, c valueCase, out *torchinfer.Outputs) {
	t.Helper()
	var want []string
	for _, o := range c.Outputs {
		want = append(want, o.Name)
	}
	if got := out.Names(); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("%s: leaves %q, want %q", c.Name, got, want)
	}
	rel, abs := 1e-5, 1e-6
	if c.Model == "detection.pt" {
		rel, abs = 1e-4, 1e-3
	}
	for i, o := range c.Outputs {
		what := c.Name + "[" + o.Name + "]"
		switch o.Kind {
		case "tensor":
			if k := out.Kind(i); k != torchinfer.KindTensor {
				t.Errorf("%s: kind %v, want tensor", what, k)
				continue
			}
			for _, by := range []string{"index", "name"} {
				var x *torchinfer.Tensor
				var err error
				if by == "index" {
					x, err = out.Get(i)
				} else {
					x, err = out.Find(o.Name)
				}
				if err != nil {
					t.Errorf("%s by %s: %v", what, by, err)
					continue
				}
				checkTensorTol(t, what+" by "+by, x, o, rel, abs)
				x.Close()
			}
		case "string":
			var s string
			mustJSON(t, o.Value, &s)
			if k := out.Kind(i); k != torchinfer.KindString {
				t.Errorf("%s: kind %v, want string", what, k)
			} else if got, err := out.Text(i); err != nil || got != s {
				t.Errorf("%s: Text = %q, %v; want %q", what, got, err, s)
			}
		case "none":
			if k := out.Kind(i); k != torchinfer.KindNone {
				t.Errorf("%s: kind %v, want none", what, k)
			}
		default:
			t.Errorf("%s: unknown kind %q in the reference", what, o.Kind)
		}
	}
}

func checkTensorTol(t testing.TB, what string, got *torchinfer.Tensor, want valueItem, rel, abs float64) {
	t.Helper()
	if got.DType().String() != want.DType || fmt.Sprint(got.Shape()) != fmt.Sprint(want.Shape) {
		t.Errorf("%s: %s %v, want %s %v", what, got.DType(), got.Shape(), want.DType, want.Shape)
		return
	}
	vals, err := asFloat64s(got)
	if err != nil || len(vals) != len(want.Data) {
		t.Errorf("%s: %d values (%v), want %d", what, len(vals), err, len(want.Data))
		return
	}
	for i := range vals {
		if math.Abs(vals[i]-want.Data[i]) > abs+rel*math.Abs(want.Data[i]) {
			t.Errorf("%s[%d] = %v, want %v", what, i, vals[i], want.Data[i])
			return
		}
	}
}

// Every values_reference.json case through RunValues, with plain and with
// specific Go containers, and through Inputs set path by path.
func TestValuesReferenceCases(t *testing.T) {
	checkLive(t)
	cases := loadValueCases(t)
	models := map[string]*torchinfer.Model{}
	defer func() {
		for _, m := range models {
			m.Close()
		}
	}()
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.Model] = true
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Ops {
				loadOps(t)
			}
			m := models[c.Model]
			if m == nil {
				var err error
				if m, err = torchinfer.Load(modelPath(t, c.Model)); err != nil {
					t.Fatal(err)
				}
				models[c.Model] = m
			}
			method := c.Method
			if method == "forward" {
				method = "" // forward by default
			}
			variants := []bool{true, false}
			if c.Model == "detection.pt" {
				variants = variants[1:] // one run: a call takes seconds on a loaded 2-core machine
			}
			for _, plain := range variants {
				start := time.Now()
				out, err := m.RunValues(context.Background(), method, nativeArgs(t, c, plain))
				if err != nil {
					t.Fatalf("RunValues (plain %v): %v", plain, err)
				}
				if took := time.Since(start); took > time.Second {
					t.Logf("RunValues took %v (machine load, or a first call)", took)
				}
				checkValueOutputs(t, c, out)
				out.Close()
			}
			if c.Model == "detection.pt" {
				return
			}
			// The same through Inputs, one path at a time.
			in, err := torchinfer.NewInputs(m, c.Method)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			for _, it := range c.Inputs {
				if err := in.Set(it.Path, leafValue(t, it)); err != nil {
					t.Fatalf("Set(%q): %v", it.Path, err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background()) // with run options
			defer cancel()
			out, err := m.RunInputs(ctx, in)
			if err != nil {
				t.Fatalf("RunInputs: %v", err)
			}
			checkValueOutputs(t, c, out)
			out.Close()
		})
	}
	for _, name := range []string{"values.pt", "dict_input.pt", "detection.pt"} {
		if !seen[name] {
			t.Errorf("no values_reference.json case uses %s", name)
		}
	}
}

// valuesArgs are arguments of values.pt's forward written by hand with the
// Go types a user would pick.
func valuesArgs(t testing.TB) (map[string]any, []*torchinfer.Tensor) {
	a := tensor(t, []float32{1, 2}, 2)
	b := tensor(t, []float32{3, 4}, 2)
	c := tensor(t, []float32{10, 20}, 2)
	return map[string]any{
		"pairs": [][]*torchinfer.Tensor{{a, b}, {b, a}},
		"by_id": map[int64]*torchinfer.Tensor{-1: c, 5: a},
		"text":  "héllo",
		"words": []string{"a.b", "ç", ""},
		"k":     3,
		"scale": float32(0.5),
	}, []*torchinfer.Tensor{a, b, c}
}

// mustRun(t)(m.RunValues(...)): the outputs, closed when the test ends.
func mustRun(t testing.TB) func(*torchinfer.Outputs, error) *torchinfer.Outputs {
	return func(out *torchinfer.Outputs, err error) *torchinfer.Outputs {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return closeLater(t, out)
	}
}

func leafIndex(t testing.TB, out *torchinfer.Outputs, name string) int {
	t.Helper()
	for i, n := range out.Names() {
		if n == name {
			return i
		}
	}
	t.Fatalf("no leaf %q in %q", name, out.Names())
	return -1
}

func float32Leaf(t testing.TB, out *torchinfer.Outputs, name string) []float32 {
	t.Helper()
	v, err := torchinfer.LeafValues[float32](out, leafIndex(t, out, name))
	if err != nil {
		t.Fatalf("leaf %q: %v", name, err)
	}
	return v
}

// values.pt with hand-written Go values, checked against the fixture's formulas.
func TestRunValuesKinds(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "values.pt")
	args, _ := valuesArgs(t)
	out := mustRun(t)(m.RunValues(context.Background(), "", args))
	want := []string{"0", `1.p\.q`, "1.n", "2", "3.0", "3.1", "3.2", "4"}
	if !reflect.DeepEqual(out.Names(), want) {
		t.Fatalf("leaves %q, want %q", out.Names(), want)
	}
	// out 0: sum over pairs of (a*b).sum() * scale + k = (11 + 11) * 0.5 + 3.
	if v := float32Leaf(t, out, "0"); len(v) != 1 || v[0] != 14 {
		t.Errorf("leaf 0 = %v, want [14]", v)
	}
	if n, err := torchinfer.LeafValues[int64](out, 2); err != nil || !reflect.DeepEqual(n, []int64{2}) {
		t.Errorf(`leaf "1.n" = %v, %v; want [2]`, n, err)
	}
	// The dict key "p.q" is escaped in the leaf's name as EscapeKey escapes it.
	if name := "1." + torchinfer.EscapeKey("p.q"); out.Name(1) != name {
		t.Errorf("leaf 1 is %q, want %q", out.Name(1), name)
	}
	// TorchScript's str.upper() changes ASCII letters only.
	for i, w := range map[int]string{3: "HéLLO!!!", 4: "", 5: "ç", 6: "a.b"} {
		if got, err := out.Text(i); err != nil || got != w {
			t.Errorf("Text(%d) = %q, %v; want %q", i, got, err, w)
		}
		if out.Kind(i) != torchinfer.KindString {
			t.Errorf("Kind(%d) = %v", i, out.Kind(i))
		}
	}
	// None out: maybe was not given.
	if k := out.Kind(7); k != torchinfer.KindNone || k.String() != "none" {
		t.Errorf("Kind(7) = %v, want none", k)
	}
	for _, c := range []struct {
		what string
		err  error
		kind string
	}{
		{"Get(none)", discardT(out.Get(7)), "None"},
		{"Find(none)", discardT(out.Find("4")), "None"},
		{"Get(string)", discardT(out.Get(3)), "string"},
		{"Text(none)", discardV(out.Text(7)), "is None, not a string"},
		{"Text(tensor)", discardV(out.Text(0)), "is a tensor, not a string"},
		{"Text(out of range)", discardV(out.Text(8)), "out of range"},
		{"CopyLeaf(string)", torchinfer.CopyLeaf(out, 3, make([]float32, 1)), "is a string, not a tensor"},
		{"LeafValues(none)", discardV(torchinfer.LeafValues[float32](out, 7)), "is None, not a tensor"},
	} {
		wantCode(t, c.what, c.err, torchinfer.ErrInvalidArgument, c.kind)
	}
	if out.Kind(8) != torchinfer.KindNone || out.Kind(-1) != torchinfer.KindNone || out.Shape(3) != nil || out.DType(7) != 0 {
		t.Errorf("out of range / non-tensor accessors: %v %v %v %v", out.Kind(8), out.Kind(-1), out.Shape(3), out.DType(7))
	}

	// None in: an explicit nil is the default; a tensor comes back doubled.
	args["maybe"] = nil
	if o := mustRun(t)(m.RunValues(context.Background(), "", args)); o.Kind(7) != torchinfer.KindNone {
		t.Errorf("maybe=nil: leaf 7 is %v", o.Kind(7))
	}
	args["maybe"] = tensor(t, []float32{1.5, -2}, 2)
	o := mustRun(t)(m.RunValues(context.Background(), "", args))
	if v := float32Leaf(t, o, "4"); !reflect.DeepEqual(v, []float32{3, -4}) {
		t.Errorf("maybe*2 = %v", v)
	}

	// Empty containers: no pairs (out 0 is k), no words (no leaf 3.x), no by_id; the
	// defaults of k and scale.
	for _, empty := range []map[string]any{
		{"pairs": []any{}, "by_id": map[int64]any{}, "text": "", "words": []string{}},
		{"pairs": [][]*torchinfer.Tensor(nil), "by_id": map[int]*torchinfer.Tensor{}, "text": "", "words": []any{}},
	} {
		o := mustRun(t)(m.RunValues(context.Background(), "", empty))
		if !reflect.DeepEqual(o.Names(), []string{"0", `1.p\.q`, "1.n", "2", "4"}) {
			t.Errorf("empty: leaves %q", o.Names())
			continue
		}
		if v := float32Leaf(t, o, "0"); len(v) != 1 || v[0] != 2 {
			t.Errorf("empty: leaf 0 = %v, want [2] (k's default)", v)
		}
		if s, err := o.Text(3); err != nil || s != "!!" {
			t.Errorf("empty: text %q %v", s, err)
		}
	}

	// Positions instead of names, and other integer and float types.
	pos := map[string]any{"0": args["pairs"], "1": args["by_id"], "2": "x", "3": []string{"y"}, "5": int8(1), "6": 2.0}
	o = mustRun(t)(m.RunValues(context.Background(), "forward", pos))
	if v := float32Leaf(t, o, "0"); len(v) != 1 || v[0] != 45 { // 22 * 2 + 1
		t.Errorf("positional: leaf 0 = %v, want [45]", v)
	}
}

// str in and out through echo: NUL bytes, UTF-8 of every length, long strings.
func TestStringRoundTrip(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "values.pt")
	in, err := torchinfer.NewInputs(m, "echo")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	for _, s := range []string{"", "a", "a\x00b", "\x00", "héllo wörld ✓ 日本語 🎉", "p.q\\r", strings.Repeat("ü\x00", 100000)} {
		out, err := m.RunValues(context.Background(), "echo", map[string]any{"s": s})
		if err != nil {
			t.Fatalf("echo %q: %v", s, err)
		}
		if got, err := out.Text(0); err != nil || got != s || out.Kind(0) != torchinfer.KindString || out.Len() != 1 {
			t.Errorf("echo %.20q: %.20q %v (%d leaves)", s, got, err, out.Len())
		}
		out.Close()
		if err := in.SetString("s", s); err != nil {
			t.Fatal(err)
		}
		out, err = m.RunInputs(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := out.Text(0); err != nil || got != s {
			t.Errorf("Inputs echo %.20q: %.20q %v", s, got, err)
		}
		out.Close()
	}
	type label string // a named string type walks as a string
	out := mustRun(t)(m.RunValues(context.Background(), "echo", map[string]any{"0": label("named")}))
	if got, _ := out.Text(0); got != "named" {
		t.Errorf("named string type: %q", got)
	}
}

// Every bad input: the exact code, and the path in the message.
func TestRunValuesErrors(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "values.pt")
	a := tensor(t, []float32{1, 2}, 2)
	closed, _ := torchinfer.NewTensor([]float32{1, 2}, 2)
	closed.Close()
	good := func() map[string]any {
		return map[string]any{"pairs": []any{[]any{a, a}}, "by_id": map[int64]any{1: a}, "text": "t", "words": []string{"w"}}
	}
	with := func(k string, v any) map[string]any {
		args := good()
		if v == nil {
			args[k] = nil
		} else {
			args[k] = v
		}
		return args
	}
	without := func(k string) map[string]any {
		args := good()
		delete(args, k)
		return args
	}
	ctx := context.Background()
	mustRun(t)(m.RunValues(ctx, "", good()))
	for _, c := range []struct {
		what     string
		args     map[string]any
		sentinel *torchinfer.Error
		path     string // in the message; "a|b": a and b (the library names the parent path and the segment)
	}{
		{"unknown argument", with("nope", 1), torchinfer.ErrInvalidArgument, "nope"},
		{"unknown position", with("9", 1), torchinfer.ErrInvalidArgument, "9"},
		{"index past a tuple", with("pairs", []any{[]any{a, a, a}}), torchinfer.ErrInvalidArgument, "'pairs.0'|'2'"},
		{"string for a Tensor", with("pairs", []any{[]any{a, "oops"}}), torchinfer.ErrInvalidArgument, "pairs.0.1"},
		{"int for a Tensor", with("pairs", []any{[]any{7, a}}), torchinfer.ErrInvalidArgument, "pairs.0.0"},
		{"tensor for a list", with("words", a), torchinfer.ErrInvalidArgument, "words"},
		{"nil for a str", with("text", nil), torchinfer.ErrInvalidArgument, "text"},
		{"nil in a list", with("words", []any{"a", nil}), torchinfer.ErrInvalidArgument, "words.1"},
		{"invalid UTF-8", with("text", "ok\xff\xfe"), torchinfer.ErrInvalidArgument, "text"},
		{"invalid UTF-8 in a list", with("words", []string{"ok", "\xc3"}), torchinfer.ErrInvalidArgument, "words.1"},
		{"str key for Dict[int, Tensor]", with("by_id", map[string]any{"x": a}), torchinfer.ErrInvalidArgument, "'by_id'|'x'"},
		{"path below a str", with("text", []string{"a"}), torchinfer.ErrInvalidArgument, "'text'|'0'"},
		{"empty for a str", with("text", []any{}), torchinfer.ErrInvalidArgument, "text"},
		{"missing required argument", without("words"), torchinfer.ErrInvalidArgument, "words"},
		{"gap in a list", with("pairs", map[int]any{0: []any{a, a}, 2: []any{a, a}}), torchinfer.ErrInvalidArgument, "pairs"},
		{"missing tuple element", with("pairs", []any{map[int]any{0: a}}), torchinfer.ErrInvalidArgument, "pairs.0"},
		// Checked by the binding itself.
		{"nil *Tensor", with("pairs", []any{[]*torchinfer.Tensor{a, nil}}), torchinfer.ErrInvalidArgument, "pairs.0.1"},
		{"unsupported Go type", with("k", struct{}{}), torchinfer.ErrInvalidArgument, `"k"`},
		{"unsupported map key", with("by_id", map[float64]any{1: a}), torchinfer.ErrInvalidArgument, `"by_id"`},
		{"uint64 too large", with("k", uint64(math.MaxUint64)), torchinfer.ErrInvalidArgument, `"k"`},
		{"NUL in an argument name", with("te\x00xt", "t"), torchinfer.ErrInvalidArgument, "NUL byte"},
		{"NUL in a key", with("by_id", map[string]any{"a\x00": a}), torchinfer.ErrInvalidArgument, "NUL byte"},
	} {
		out, err := m.RunValues(ctx, "", c.args)
		if err == nil {
			out.Close()
		}
		wantPath(t, c.what, err, c.sentinel, c.path)
	}
	self := []any{nil}
	self[0] = self
	_, err := m.RunValues(ctx, "", with("words", self))
	wantCode(t, "a list holding itself", err, torchinfer.ErrInvalidArgument, "nested deeper")
	_, err = m.RunValues(ctx, "", with("pairs", []any{[]any{closed, a}}))
	if !errors.Is(err, torchinfer.ErrClosed) || !strings.Contains(err.Error(), "pairs.0.0") {
		t.Errorf("closed tensor: %v", err)
	}
	_, err = m.RunValues(ctx, "nosuch", good())
	wantCode(t, "unknown method", err, torchinfer.ErrNotFound, "nosuch")
	_, err = m.RunValues(ctx, "echo\x00", good())
	wantCode(t, "NUL in the method", err, torchinfer.ErrInvalidArgument, "NUL byte")
	_, err = m.RunValues(nil, "", good())
	wantCode(t, "nil context", err, torchinfer.ErrInvalidArgument, "nil context")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = m.RunValues(cancelled, "", good())
	if !errors.Is(err, context.Canceled) || !errors.Is(err, torchinfer.ErrCancelled) {
		t.Errorf("cancelled context: %v", err)
	}
	// The model is still fine.
	mustRun(t)(m.RunValues(ctx, "", good()))
}

func TestEscapeKey(t *testing.T) {
	for k, want := range map[string]string{
		"": "", "abc": "abc", "p.q": `p\.q`, `a\b`: `a\\b`, `a\.b`: `a\\\.b`, "..": `\.\.`, `\`: `\\`,
	} {
		if got := torchinfer.EscapeKey(k); got != want {
			t.Errorf("EscapeKey(%q) = %q, want %q", k, got, want)
		}
		if segs := splitPath(torchinfer.EscapeKey(k)); len(segs) != 1 || segs[0] != k {
			t.Errorf("EscapeKey(%q) does not read back as one segment: %q", k, segs)
		}
	}
}

// Dict keys with "." and "\" reach the model intact: dict_input.pt reads two
// keys and ignores others; an escaped key that did not round-trip would be a
// path below a Tensor, or a missing key.
func TestDictKeysEscaped(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "dict_input.pt")
	ids := tensor(t, []int64{1, 2, 3, 4}, 2, 2)
	mask := tensor(t, []int64{1, 0, 1, 1}, 2, 2)
	out := mustRun(t)(m.RunValues(context.Background(), "", map[string]any{
		"batch": map[string]*torchinfer.Tensor{"input_ids": ids, "attention_mask": mask, `a.b\c`: ids, ".": mask},
	}))
	if v := float32Leaf(t, out, "0"); !reflect.DeepEqual(v, []float32{1, 7}) {
		t.Errorf("dict_input = %v, want [1 7]", v)
	}
	_, err := m.RunValues(context.Background(), "", map[string]any{"batch": map[string]any{"input_ids": "x"}})
	wantCode(t, "string in Dict[str, Tensor]", err, torchinfer.ErrInvalidArgument, "batch.input_ids")
	in, err := torchinfer.NewInputs(m, "")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	wantPath(t, "path below a Tensor", in.SetTensor(`batch.a\.b.c`, ids), torchinfer.ErrInvalidArgument, `'batch.a\.b'|'c'`)
}

func TestSchema(t *testing.T) {
	checkLive(t)
	m, err := torchinfer.Load(modelPath(t, "values.pt"))
	if err != nil {
		t.Fatal(err)
	}
	fwd := m.Schema("")
	if !strings.HasPrefix(fwd, "forward(") || !strings.Contains(fwd, "pairs") || !strings.Contains(fwd, "Dict(int, Tensor)") ||
		m.Schema("forward") != fwd {
		t.Errorf("Schema(\"\") = %q, Schema(\"forward\") = %q", fwd, m.Schema("forward"))
	}
	if s := m.Schema("echo"); !strings.HasPrefix(s, "echo(str s)") {
		t.Errorf("Schema(echo) = %q", s)
	}
	if s := m.Schema("nosuch"); s != "" {
		t.Errorf("Schema(nosuch) = %q", s)
	}
	if s := m.Schema("echo\x00"); s != "" {
		t.Errorf("Schema(NUL) = %q", s)
	}
	m.Close()
	if m.Schema("") != fwd {
		t.Errorf("Schema after Close = %q", m.Schema(""))
	}
	if d := mustLoad(t, "mlp.pt").Schema(""); !strings.Contains(d, "Tensor x") {
		t.Errorf("mlp Schema = %q", d)
	}
}

// Inputs: set once, run many times; replace; a failed set changes nothing;
// a gap is found when the call starts; inputs of another model.
func TestInputs(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "values.pt")
	a := tensor(t, []float32{1, 2}, 2)
	in, err := torchinfer.NewInputs(m, "")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if in.Method() != "" {
		t.Errorf("Method() = %q", in.Method())
	}
	for _, err := range []error{
		in.SetTensor("pairs.0.0", a), in.SetTensor("pairs.0.1", a), in.SetEmpty("by_id"),
		in.SetString("text", "abc"), in.Set("words", []string{"x", "y"}), in.SetInt("k", 1), in.SetFloat("scale", 2),
		in.SetNone("maybe"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	run := func() *torchinfer.Outputs {
		t.Helper()
		return mustRun(t)(m.RunInputs(context.Background(), in))
	}
	o := run()
	if v := float32Leaf(t, o, "0"); v[0] != 11 { // 5 * 2 + 1
		t.Errorf("leaf 0 = %v, want 11", v)
	}
	if s, _ := o.Text(leafIndex(t, o, "2")); s != "ABC!" {
		t.Errorf("text = %q", s)
	}
	// Replace a value; a failed set leaves the old one.
	if err := in.SetInt("k", 3); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "SetString invalid UTF-8", in.SetString("text", "\xff"), torchinfer.ErrInvalidArgument, "text")
	wantCode(t, "SetBool on a str", in.SetBool("text", true), torchinfer.ErrInvalidArgument, "text")
	wantCode(t, "SetNone on a str", in.SetNone("text"), torchinfer.ErrInvalidArgument, "text")
	wantPath(t, "non-decimal index", in.SetTensor("pairs.x.0", a), torchinfer.ErrInvalidArgument, "'pairs'|'x'")
	wantCode(t, "NUL in a path", in.SetInt("k\x00", 1), torchinfer.ErrInvalidArgument, "NUL byte")
	o = run()
	if v := float32Leaf(t, o, "0"); v[0] != 13 {
		t.Errorf("after replacing k: leaf 0 = %v, want 13", v)
	}
	if s, _ := o.Text(leafIndex(t, o, "2")); s != "ABC!!!" {
		t.Errorf("after a failed set: text = %q", s)
	}
	// Setting "pairs" again replaces everything below it.
	if err := in.Set("pairs", []any{}); err != nil {
		t.Fatal(err)
	}
	if v := float32Leaf(t, run(), "0"); v[0] != 3 {
		t.Errorf("after emptying pairs: leaf 0 = %v, want 3", v)
	}
	// A gap: pairs.0 and pairs.2.
	gap, err := torchinfer.NewInputs(m, "forward")
	if err != nil {
		t.Fatal(err)
	}
	defer gap.Close()
	for _, p := range []string{"pairs.0.0", "pairs.0.1", "pairs.2.0", "pairs.2.1"} {
		if err := gap.SetTensor(p, a); err != nil {
			t.Fatal(err)
		}
	}
	gap.SetEmpty("by_id")
	gap.SetString("text", "")
	gap.SetEmpty("words")
	_, err = m.RunInputs(context.Background(), gap)
	wantCode(t, "gap", err, torchinfer.ErrInvalidArgument, "pairs")
	// Inputs of another model.
	other := mustLoad(t, "values.pt")
	_, err = other.RunInputs(context.Background(), in)
	wantCode(t, "inputs of another model", err, torchinfer.ErrInvalidArgument, "")
	_, err = m.RunInputs(context.Background(), nil)
	wantCode(t, "nil inputs", err, torchinfer.ErrInvalidArgument, "nil *Inputs")
	_, err = torchinfer.NewInputs(m, "nosuch")
	wantCode(t, "NewInputs unknown method", err, torchinfer.ErrNotFound, "nosuch")
	// A tensor set into inputs may be closed at once.
	b, _ := torchinfer.NewTensor([]float32{5, 6}, 2)
	if err := in.Set("pairs", [][]*torchinfer.Tensor{{b, b}}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if v := float32Leaf(t, run(), "0"); v[0] != 61*2+3 {
		t.Errorf("after closing a set tensor: leaf 0 = %v", v)
	}
}

// An open Inputs keeps the closed Model's memory; RunInputs then fails with
// ErrClosed; closing the Inputs frees it.
func TestInputsOutliveModelClose(t *testing.T) {
	checkLive(t)
	m, err := torchinfer.Load(modelPath(t, "values.pt"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := torchinfer.NewInputs(m, "echo")
	if err != nil {
		t.Fatal(err)
	}
	before := torchinfer.LiveHandles()
	m.Close()
	if after := torchinfer.LiveHandles(); after != before {
		t.Errorf("Model.Close with Inputs open freed something: %d -> %d live handles", before, after)
	}
	if err := in.SetString("s", "x"); err != nil {
		t.Errorf("SetString after Model.Close: %v", err)
	}
	if _, err := m.RunInputs(context.Background(), in); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("RunInputs on a closed model: %v", err)
	}
	if _, err := torchinfer.NewInputs(m, ""); !errors.Is(err, torchinfer.ErrClosed) {
		t.Errorf("NewInputs on a closed model: %v", err)
	}
	in.Close()
	if after := torchinfer.LiveHandles(); after != before-2 {
		t.Errorf("Inputs.Close: %d -> %d live handles, want the inputs and the model freed", before, after)
	}
}

// Many goroutines: RunValues with their own strings, and RunInputs on one
// shared Inputs while another goroutine replaces a value.
func TestRunValuesConcurrent(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "values.pt")
	a := tensor(t, []float32{1, 2}, 2)
	shared, err := torchinfer.NewInputs(m, "")
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	if err := shared.Set("pairs", [][]*torchinfer.Tensor{{a, a}}); err != nil {
		t.Fatal(err)
	}
	shared.SetEmpty("by_id")
	shared.SetString("text", "s")
	shared.SetEmpty("words")
	const goroutines, rounds = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, goroutines+1)
	ctx := context.Background()
	stop, setterDone := make(chan struct{}), make(chan struct{})
	go func() { // replaces k between runs: every run sees k = 1 or k = 2
		defer close(setterDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := shared.SetInt("k", int64(1+i%2)); err != nil {
				errs <- err
				return
			}
		}
	}()
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				text := fmt.Sprintf("g%d-%d-ü", g, i)
				out, err := m.RunValues(ctx, "", map[string]any{
					"pairs": []any{[]*torchinfer.Tensor{a, a}}, "by_id": map[int64]any{int64(g): a},
					"text": text, "words": []string{text}, "k": g,
				})
				if err != nil {
					errs <- err
					return
				}
				got, err := out.Text(3)
				word, err2 := out.Text(4)
				v, err3 := torchinfer.LeafValues[float32](out, 0)
				out.Close()
				if err != nil || err2 != nil || err3 != nil || got != asciiUpper(text)+strings.Repeat("!", g) ||
					word != text || v[0] != float32(5+g) {
					errs <- fmt.Errorf("goroutine %d: %q %q %v (%v %v %v)", g, got, word, v, err, err2, err3)
					return
				}
				out, err = m.RunInputs(ctx, shared)
				if err != nil {
					errs <- err
					return
				}
				v, err = torchinfer.LeafValues[float32](out, 0)
				out.Close()
				if err != nil || (v[0] != 6 && v[0] != 7) {
					errs <- fmt.Errorf("shared inputs: %v %v", v, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(stop)
	<-setterDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestLoadOpLibrary(t *testing.T) {
	checkLive(t)
	path := opsPath(t)
	for i := 0; i < 2; i++ { // the second load does nothing
		if err := torchinfer.LoadOpLibrary(path); err != nil {
			t.Fatalf("LoadOpLibrary #%d: %v", i+1, err)
		}
	}
	m := mustLoad(t, "detection.pt")
	if s := m.Schema(""); !strings.Contains(s, "Tensor[] images") {
		t.Errorf("detection schema %q", s)
	}
	err := torchinfer.LoadOpLibrary(filepath.Join(t.TempDir(), "missing.so"))
	wantCode(t, "missing library", err, torchinfer.ErrNotFound, "missing.so")
	err = torchinfer.LoadOpLibrary(modelPath(t, "reference.json"))
	wantCode(t, "not a library", err, torchinfer.ErrRuntime, "")
	err = torchinfer.LoadOpLibrary(path + "\x00")
	wantCode(t, "NUL", err, torchinfer.ErrInvalidArgument, "NUL byte")
}

// In a fresh process (the library is loaded process-wide, and other tests
// load it), detection.pt fails to load without torchvision's operators with
// a short message naming one, and loads once they are there.
func TestDetectionNeedsOps(t *testing.T) {
	if os.Getenv("TORCHINFER_TEST_FRESH_OPS") == "1" {
		_, err := torchinfer.Load(modelPath(t, "detection.pt"))
		wantCode(t, "detection.pt without ops", err, torchinfer.ErrModelFormat, "torchvision::")
		if err != nil && len(err.Error()) > 1000 {
			t.Errorf("message of %d bytes: %.200s...", len(err.Error()), err.Error())
		}
		loadOps(t)
		m, err := torchinfer.Load(modelPath(t, "detection.pt"))
		if err != nil {
			t.Fatalf("with ops: %v", err)
		}
		m.Close()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDetectionNeedsOps$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TORCHINFER_TEST_FRESH_OPS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("fresh process: %v\n%s", err, out)
	}
}

func TestAllowNativeCode(t *testing.T) {
	checkLive(t)
	m := mustLoad(t, "mlp.pt", torchinfer.WithAllowNativeCode(false))
	if m.Format() != "torchscript" {
		t.Errorf("format %q", m.Format())
	}
	mustLoad(t, "mlp.pt", torchinfer.WithAllowNativeCode(true), torchinfer.WithDevice("cpu"))
	pt2 := modelPath(t, "fake.pt2")
	if hasFixture(t, "dynamic.pt2") {
		pt2 = modelPath(t, "dynamic.pt2")
	}
	_, err := torchinfer.Load(pt2, torchinfer.WithAllowNativeCode(false))
	wantCode(t, "Load .pt2 refused", err, torchinfer.ErrUnsupported, "native")
	data, err := os.ReadFile(pt2)
	if err != nil {
		t.Fatal(err)
	}
	_, err = torchinfer.LoadBytes(data, torchinfer.WithAllowNativeCode(false))
	wantCode(t, "LoadBytes .pt2 refused", err, torchinfer.ErrUnsupported, "native")
}

// asciiUpper is TorchScript's str.upper(): ASCII letters only.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// wantPath is wantCode for a path in the message, given as "a|b|...": each
// part must be in it (the library names the path that exists and the
// segment that does not fit: "input 'pairs.0' (Tuple[Tensor, Tensor]): '2'
// is not a tuple index").
func wantPath(t *testing.T, what string, err error, sentinel *torchinfer.Error, parts string) {
	t.Helper()
	for _, p := range strings.Split(parts, "|") {
		wantCode(t, what, err, sentinel, p)
	}
}
