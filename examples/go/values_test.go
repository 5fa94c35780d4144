package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
	"github.com/torchinfer/libtorchinfer/examples/go/inference"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// valuesCase is a case of values_reference.json.
type valuesCase struct {
	Name   string `json:"name"`
	Model  string `json:"model"`
	Method string `json:"method"`
	Ops    bool   `json:"ops"`
	Inputs []struct {
		Path  string    `json:"path"`
		Kind  string    `json:"kind"`
		DType string    `json:"dtype"`
		Shape []int64   `json:"shape"`
		Data  []float64 `json:"data"`
		Value any       `json:"value"`
	} `json:"inputs"`
	Outputs []struct {
		Name  string    `json:"name"`
		Kind  string    `json:"kind"`
		DType string    `json:"dtype"`
		Shape []int64   `json:"shape"`
		Data  []float64 `json:"data"`
		Value string    `json:"value"`
	} `json:"outputs"`
}

// oipRequest writes a case as an OIP request: inputs named by their paths; a
// str as BYTES of shape []; an int, float or bool as a 0-dim tensor; an empty
// list or dict as BYTES of shape [0]; a None left out (the argument's default).
func (c *valuesCase) oipRequest(t *testing.T) map[string]any {
	var inputs []any
	for _, in := range c.Inputs {
		var dt string
		var data any
		shape := []int64{}
		switch in.Kind {
		case "tensor":
			dt, shape, data = oipDatatype(t, in.DType), in.Shape, in.Data
		case "string":
			dt, data = "BYTES", []any{in.Value}
		case "int":
			dt, data = "INT64", []any{in.Value}
		case "float":
			dt, data = "FP64", []any{in.Value}
		case "bool":
			dt, data = "BOOL", []any{in.Value}
		case "empty":
			dt, shape, data = "BYTES", []int64{0}, []any{}
		case "none":
			continue
		default:
			t.Fatalf("%s: input kind %q", c.Name, in.Kind)
		}
		inputs = append(inputs, map[string]any{"name": in.Path, "datatype": dt, "shape": shape, "data": data})
	}
	req := map[string]any{"inputs": inputs}
	if c.Method != "forward" {
		req["parameters"] = map[string]any{"method": c.Method}
	}
	return req
}

// Structured arguments over the protocol: every case of values_reference.json
// (str and List[str] as BYTES, dicts and lists by path, a None result left
// out, another method by the "method" parameter, torchvision's detection
// model with -ops) gives the reference outputs.
func TestValuesReference(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(modelsDir(t), "values_reference.json"))
	if err != nil {
		t.Skipf("values_reference.json not built: %v", err)
	}
	var ref struct {
		Cases []valuesCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	models := map[string]bool{}
	var ops []string
	for _, c := range ref.Cases {
		models[c.Model] = true
		if c.Ops && ops == nil {
			line, err := os.ReadFile(filepath.Join(modelsDir(t), "torchvision_ops.txt"))
			if err != nil {
				t.Fatal(err)
			}
			ops = []string{strings.TrimSpace(string(line))}
		}
	}
	var names []string
	for m := range models {
		names = append(names, m)
	}
	live := torchinfer.LiveHandles()
	s := startServer(t, config{modelsDir: testRepo(t, names...), ops: ops})
	for _, c := range ref.Cases {
		status, _, b := do(t, "POST", s.rest+"/v2/models/"+strings.TrimSuffix(c.Model, ".pt")+"/infer", c.oipRequest(t))
		var got jsonResponse
		if err := json.Unmarshal(b, &got); err != nil || status != 200 {
			t.Errorf("%s: %d %.2000s", c.Name, status, b)
			continue
		}
		rel, abs := 1e-5, 1e-6
		if c.Ops {
			rel, abs = 1e-4, 1e-3
		}
		var want []string
		for _, w := range c.Outputs {
			if w.Kind != "none" { // a None result is left out of the response
				want = append(want, w.Name)
			}
		}
		var gotNames []string
		for _, o := range got.Outputs {
			gotNames = append(gotNames, o.Name)
		}
		if fmt.Sprint(gotNames) != fmt.Sprint(want) {
			t.Errorf("%s: outputs %q, want %q", c.Name, gotNames, want)
			continue
		}
		i := 0
		for _, w := range c.Outputs {
			if w.Kind == "none" {
				continue
			}
			o := got.Outputs[i]
			i++
			if w.Kind == "string" {
				if o.Datatype != "BYTES" || fmt.Sprint(o.Shape) != "[1]" || len(o.Data) != 1 || o.Data[0] != w.Value {
					t.Errorf("%s: %s = %+v, want BYTES [1] %q", c.Name, w.Name, o, w.Value)
				}
				continue
			}
			if o.Datatype != oipDatatype(t, w.DType) || fmt.Sprint(o.Shape) != fmt.Sprint(w.Shape) || len(o.Data) != len(w.Data) {
				t.Errorf("%s: %s is %s %v with %d values, want %s %v with %d", c.Name, w.Name, o.Datatype, o.Shape, len(o.Data), w.DType, w.Shape, len(w.Data))
				continue
			}
			for j, v := range anyFloats(o.Data) {
				if !near(v, w.Data[j], rel, abs) {
					t.Errorf("%s: %s[%d] = %v, want %v", c.Name, w.Name, j, v, w.Data[j])
					break
				}
			}
		}
	}
	// A str argument given a list, and a BYTES input for a tensor argument: the library's 400.
	for _, body := range []string{
		`{"inputs": [{"name": "s", "datatype": "BYTES", "shape": [2], "data": ["a", "b"]}], "parameters": {"method": "echo"}}`,
		`{"inputs": [{"name": "maybe", "datatype": "BYTES", "shape": [], "data": ["a"]}, {"name": "text", "datatype": "BYTES", "shape": [], "data": ["a"]}]}`,
	} {
		if status, _, b := do(t, "POST", s.rest+"/v2/models/values/infer", body); status != 400 || !strings.Contains(string(b), "TI_ERR_INVALID_ARGUMENT") {
			t.Errorf("%s: %d %s, want 400 TI_ERR_INVALID_ARGUMENT", body, status, b)
		}
	}
	// BYTES as binary data both ways (4-byte little-endian length, then the bytes).
	echo := "nul\x00inside, ünïcode"
	raw4 := binary.LittleEndian.AppendUint32(nil, uint32(len(echo)))
	raw4 = append(raw4, echo...)
	header := `{"inputs": [{"name": "s", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": ` + strconv.Itoa(len(raw4)) +
		`}}], "parameters": {"method": "echo", "binary_data_output": true}}`
	status, h, b := do(t, "POST", s.rest+"/v2/models/values/infer", append([]byte(header), raw4...), headerLengthHeader, strconv.Itoa(len(header)))
	n, _ := strconv.Atoi(h.Get(headerLengthHeader))
	if status != 200 || n == 0 || string(b[n:]) != string(raw4) {
		t.Errorf("binary BYTES echo: %d %q", status, b)
	}
	if err := s.stop(); err != nil {
		t.Error(err)
	}
	if after := torchinfer.LiveHandles(); after != live {
		t.Errorf("live handles %d before, %d after", live, after)
	}
}

// With -batch, concurrent one-row requests run as batched calls: batch_rows.pt
// answers each request with the row count of the call that served it.
func TestBatching(t *testing.T) {
	live := torchinfer.LiveHandles()
	s := startServer(t, config{modelsDir: testRepo(t, "batch_rows.pt"), batch: 16, batchDelay: 20 * time.Millisecond})
	var wg sync.WaitGroup
	var mu sync.Mutex
	maxRows := 0.0
	for c := 0; c < 16; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := float64(c)
			status, _, b := do(t, "POST", s.rest+"/v2/models/batch_rows/infer",
				`{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [`+fmt.Sprint(x)+`, 1]}]}`)
			var got jsonResponse
			if err := json.Unmarshal(b, &got); err != nil || status != 200 || len(got.Outputs) != 2 {
				t.Errorf("batched request: %d %s", status, b)
				return
			}
			for _, o := range got.Outputs {
				switch o.Name {
				case "y":
					if v := anyFloats(o.Data); fmt.Sprint(o.Shape) != "[1 2]" || v[0] != 2*x+1 || v[1] != 3 {
						t.Errorf("request %v: y = %v %v", x, o.Shape, v)
					}
				case "rows":
					mu.Lock()
					maxRows = math.Max(maxRows, anyFloats(o.Data)[0])
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if maxRows < 2 {
		t.Errorf("no request was batched with another (largest call: %v rows)", maxRows)
	}
	_, _, m := do(t, "GET", s.rest+"/metrics", nil)
	calls := regexp.MustCompile(`torchinfer_batcher_calls_total\{model="batch_rows"\} (\d+)`).FindSubmatch(m)
	if !strings.Contains(string(m), `torchinfer_batcher_requests_total{model="batch_rows"} 16`) || calls == nil || string(calls[1]) == "16" {
		t.Errorf("/metrics: batcher counts for batch_rows: 16 requests in fewer calls, got %q", regexp.MustCompile(`(?m)^torchinfer_batcher.*$`).FindAll(m, -1))
	}
	// The model raises on the sentinel: only that request fails.
	status, _, b := do(t, "POST", s.rest+"/v2/models/batch_rows/infer",
		`{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [-999, 1]}], "parameters": {"method": "bad"}}`)
	if status != 400 || !strings.Contains(string(b), "TI_ERR_RUNTIME") {
		t.Errorf("bad row: %d %s", status, b)
	}
	if err := s.stop(); err != nil {
		t.Error(err)
	}
	if after := torchinfer.LiveHandles(); after != live {
		t.Errorf("live handles %d before, %d after", live, after)
	}
}

// slowBody is a request for slow.pt (forward(x, n): n rounds of tanh(x @ x))
// on a [size,size] x.
func slowBody(size int, rounds int64) map[string]any {
	x := make([]float64, size*size)
	for i := range x {
		x[i] = float64(i%7-3) / 64
	}
	return map[string]any{"inputs": []any{
		map[string]any{"name": "x", "datatype": "FP32", "shape": []int{size, size}, "data": x},
		map[string]any{"name": "n", "datatype": "INT64", "shape": []int{}, "data": []int64{rounds}},
	}}
}

// longRounds makes a slow.pt call on [64,64] run for many seconds (about 0.1 ms a round).
const longRounds = 200_000

// A call past -timeout is stopped: 504 long before it would have ended, and
// the model keeps serving.
func TestTimeout(t *testing.T) {
	s := startServer(t, config{modelsDir: testRepo(t, "slow.pt"), timeout: 200 * time.Millisecond})
	start := time.Now()
	status, _, b := do(t, "POST", s.rest+"/v2/models/slow/infer", slowBody(64, longRounds))
	took := time.Since(start)
	if status != http.StatusGatewayTimeout || !strings.Contains(string(b), "TI_ERR_DEADLINE_EXCEEDED") {
		t.Errorf("slow request: %d %s, want 504", status, b)
	}
	if took < 200*time.Millisecond || took > 2*time.Second {
		t.Errorf("slow request answered after %v; timeout 200ms", took)
	}
	if status, _, b := do(t, "POST", s.rest+"/v2/models/slow/infer", slowBody(2, 1)); status != 200 || !strings.Contains(string(b), `"shape":[2,2]`) {
		t.Errorf("quick request after a timeout: %d %s", status, b)
	}
}

// A client that goes away stops its call: the handler returns and frees the
// request's handles at once, not when the call would have ended. Over gRPC,
// the client's own deadline does the same.
func TestClientGone(t *testing.T) {
	s := startServer(t, config{modelsDir: testRepo(t, "slow.pt")})
	idle := torchinfer.LiveHandles()
	body, _ := json.Marshal(slowBody(64, longRounds))
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.rest+"/v2/models/slow/infer", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for torchinfer.LiveHandles() == idle {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the model")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client: %v, want context.Canceled", err)
	}
	gone := time.Now()
	for torchinfer.LiveHandles() != idle {
		if time.Since(gone) > 2*time.Second {
			t.Fatalf("2s after the client went away the handler still holds %d handles", torchinfer.LiveHandles()-idle)
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("handler done %v after the client went away", time.Since(gone))

	g := grpcClient(t, s.grpc)
	x := make([]byte, 64*64*4)
	gctx, gcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer gcancel()
	start := time.Now()
	_, err = g.ModelInfer(gctx, &inference.ModelInferRequest{ModelName: "slow",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{
			{Name: "x", Datatype: "FP32", Shape: []int64{64, 64}}, {Name: "n", Datatype: "INT64", Shape: []int64{}}},
		RawInputContents: [][]byte{x, binary.LittleEndian.AppendUint64(nil, longRounds)}})
	if status.Code(err) != codes.DeadlineExceeded || time.Since(start) > 2*time.Second {
		t.Errorf("gRPC call with a 200ms deadline: %v after %v", err, time.Since(start))
	}
	for torchinfer.LiveHandles() != idle {
		if time.Since(start) > 3*time.Second {
			t.Fatalf("the gRPC call still holds %d handles after its deadline", torchinfer.LiveHandles()-idle)
		}
		time.Sleep(time.Millisecond)
	}
}
