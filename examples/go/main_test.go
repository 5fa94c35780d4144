package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
	"github.com/torchinfer/libtorchinfer/examples/go/inference"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

func modelsDir(t *testing.T) string {
	dir := os.Getenv("TORCHINFER_TEST_MODELS")
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "models")
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.pt")); err != nil {
		t.Fatalf("fixtures not found in %s (set TORCHINFER_TEST_MODELS): %v", dir, err)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

type refTensor struct {
	Name  string    `json:"name"`
	DType string    `json:"dtype"`
	Shape []int64   `json:"shape"`
	Data  []float64 `json:"data"`
}

// demoCase is reference.json's "demo" case.
func demoCase(t *testing.T) (inputs, outputs []refTensor) {
	raw, err := os.ReadFile(filepath.Join(modelsDir(t), "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Name    string      `json:"name"`
			Inputs  []refTensor `json:"inputs"`
			Outputs []refTensor `json:"outputs"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	for _, c := range ref.Cases {
		if c.Name == "demo" {
			return c.Inputs, c.Outputs
		}
	}
	t.Fatal(`no "demo" case in reference.json`)
	return nil, nil
}

// oipDatatype is the protocol's name for a reference dtype.
func oipDatatype(t *testing.T, dtype string) string {
	d, ok := torchinfer.ParseDType(dtype)
	if !ok {
		t.Fatalf("unknown dtype %q", dtype)
	}
	return datatypeOf(d)
}

// demoRequest is the OIP JSON request of the demo case.
func demoRequest(t *testing.T) map[string]any {
	inputs, _ := demoCase(t)
	in := inputs[0]
	return map[string]any{"inputs": []any{map[string]any{
		"name": in.Name, "datatype": oipDatatype(t, in.DType), "shape": in.Shape, "data": in.Data,
	}}}
}

// testRepo makes a -models directory of links to fixtures, with the demo
// model's warm-up request beside demo.pt when it is one of them. A fixture
// that is missing skips the test.
func testRepo(t *testing.T, models ...string) string {
	dir := t.TempDir()
	for _, m := range models {
		src := filepath.Join(modelsDir(t), m)
		if _, err := os.Stat(src); err != nil {
			t.Skipf("fixture %s not built: %v", m, err)
		}
		if err := os.Symlink(src, filepath.Join(dir, m)); err != nil {
			t.Fatal(err)
		}
		if m == "demo.pt" {
			b, err := json.Marshal(demoRequest(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "demo"+warmupSuffix), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

type testServer struct {
	rest string // http://host:port
	grpc string // host:port
	stop func() error
}

// startServer runs the server with cfg on loopback ports (REST and gRPC)
// until it is ready; stop shuts it down gracefully and reports run's error.
func startServer(t *testing.T, cfg config) *testServer {
	t.Helper()
	cfg.addr, cfg.grpcAddr = "127.0.0.1:0", "127.0.0.1:0"
	if cfg.device == "" {
		cfg.device = "cpu"
	}
	ctx, cancel := context.WithCancel(context.Background())
	type addrs struct{ rest, grpc net.Addr }
	readyc := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, cfg, func(rest, grpc net.Addr, _ []string) { readyc <- addrs{rest, grpc} })
	}()
	select {
	case a := <-readyc:
		s := &testServer{rest: "http://" + a.rest.String(), grpc: a.grpc.String()}
		var once sync.Once
		var err error
		s.stop = func() error { once.Do(func() { cancel(); err = <-done }); return err }
		t.Cleanup(func() { s.stop() })
		return s
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server not ready in 60s")
	}
	return nil
}

// do sends a request; body is a string, []byte or a value to marshal (nil: none).
func do(t *testing.T, method, url string, body any, header ...string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

type jsonOutput struct {
	Name       string         `json:"name"`
	Datatype   string         `json:"datatype"`
	Shape      []int64        `json:"shape"`
	Parameters map[string]any `json:"parameters"`
	Data       []any          `json:"data"`
}

type jsonResponse struct {
	ModelName    string       `json:"model_name"`
	ModelVersion string       `json:"model_version"`
	ID           string       `json:"id"`
	Outputs      []jsonOutput `json:"outputs"`
}

func near(got, want float64, rel, abs float64) bool {
	return math.Abs(got-want) <= abs+rel*math.Abs(want)
}

// checkFloats compares values with the reference tolerance (rel 1e-5, abs 1e-6).
func checkFloats(name string, got []float64, want []float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if !near(got[i], want[i], 1e-5, 1e-6) {
			return fmt.Errorf("%s[%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
	return nil
}

func anyFloats(data []any) []float64 {
	out := make([]float64, len(data))
	for i, v := range data {
		out[i], _ = v.(float64)
	}
	return out
}

// checkDemo checks a JSON response against the demo reference.
func checkDemo(t *testing.T, status int, body []byte, want []refTensor) error {
	var got jsonResponse
	if err := json.Unmarshal(body, &got); err != nil || status != 200 {
		return fmt.Errorf("infer: %d %s", status, body)
	}
	if got.ModelName != "demo" || got.ModelVersion != "1" || len(got.Outputs) != len(want) {
		return fmt.Errorf("infer: %s", body)
	}
	for i, w := range want {
		g := got.Outputs[i]
		if g.Name != w.Name || g.Datatype != oipDatatype(t, w.DType) || fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) {
			return fmt.Errorf("output %d: %s %s %v, want %s %s %v", i, g.Name, g.Datatype, g.Shape, w.Name, w.DType, w.Shape)
		}
		if err := checkFloats(w.Name, anyFloats(g.Data), w.Data); err != nil {
			return err
		}
	}
	return nil
}

func TestREST(t *testing.T) {
	live := torchinfer.LiveHandles()
	inputs, outputs := demoCase(t)
	s := startServer(t, config{modelsDir: testRepo(t, "demo.pt"), timeout: 10 * time.Second})

	for _, c := range []struct{ path, want string }{
		{"/v2/health/live", `{"live":true}`},
		{"/v2/health/ready", `{"ready":true}`},
		{"/v2/models/demo/ready", `{"name":"demo","ready":true}`},
		{"/v2/models/demo/versions/1/ready", `{"name":"demo","ready":true}`},
		// Metadata: the warm-up request told the input's datatype and rank and the outputs;
		// TorchScript declares no sizes, so every dimension is -1.
		{"/v2/models/demo", `{"name":"demo","versions":["1"],"platform":"pytorch_libtorch",` +
			`"inputs":[{"name":"features","datatype":"FP32","shape":[-1,-1]}],` +
			`"outputs":[{"name":"logits","datatype":"FP32","shape":[-1,-1]},{"name":"probs","datatype":"FP32","shape":[-1,-1]}],` +
			`"parameters":{"schema":"forward(Tensor features) -> Dict(str, Tensor)"}}`},
		{"/v2/models/demo/versions/1", `{"name":"demo","versions":["1"],"platform":"pytorch_libtorch",` +
			`"inputs":[{"name":"features","datatype":"FP32","shape":[-1,-1]}],` +
			`"outputs":[{"name":"logits","datatype":"FP32","shape":[-1,-1]},{"name":"probs","datatype":"FP32","shape":[-1,-1]}],` +
			`"parameters":{"schema":"forward(Tensor features) -> Dict(str, Tensor)"}}`},
		{"/v2", `{"extensions":["binary_tensor_data","parameters"],"name":"torchinfer","version":"` + torchinfer.Version() + `"}`},
	} {
		status, h, b := do(t, "GET", s.rest+c.path, nil)
		if status != 200 || strings.TrimSpace(string(b)) != c.want || h.Get("Content-Type") != "application/json" {
			t.Errorf("GET %s: %d %s %s, want 200 %s", c.path, status, h.Get("Content-Type"), b, c.want)
		}
	}

	// Flat data, from several clients at once.
	var wg sync.WaitGroup
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				status, _, b := do(t, "POST", s.rest+"/v2/models/demo/infer", demoRequest(t))
				if err := checkDemo(t, status, b, outputs); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()

	// Nested data, the versions path, an id, and one requested output.
	nested := []any{}
	for i := int64(0); i < inputs[0].Shape[0]; i++ {
		row := inputs[0].Data[i*inputs[0].Shape[1] : (i+1)*inputs[0].Shape[1]]
		nested = append(nested, row)
	}
	req := map[string]any{"id": "r-1", "inputs": []any{map[string]any{
		"name": "features", "datatype": "FP32", "shape": inputs[0].Shape, "data": nested}},
		"outputs": []any{map[string]any{"name": "probs"}}}
	status, _, b := do(t, "POST", s.rest+"/v2/models/demo/versions/1/infer", req)
	var got jsonResponse
	if err := json.Unmarshal(b, &got); err != nil || status != 200 || got.ID != "r-1" || len(got.Outputs) != 1 || got.Outputs[0].Name != "probs" {
		t.Fatalf("nested infer: %d %s", status, b)
	}
	if err := checkFloats("probs", anyFloats(got.Outputs[0].Data), outputs[1].Data); err != nil {
		t.Error(err)
	}

	if err := s.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	if _, err := http.Get(s.rest + "/v2/health/live"); err == nil {
		t.Error("server still answers after stop")
	}
	if after := torchinfer.LiveHandles(); after != live {
		t.Errorf("live handles %d before, %d after the server stopped", live, after)
	}
}

// float32Bytes is the protocol's raw form of FP32 values.
func float32Bytes(v []float64) []byte {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(x)))
	}
	return b
}

func float32sOf(b []byte) []float64 {
	out := make([]float64, len(b)/4)
	for i := range out {
		out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
	}
	return out
}

// The binary tensor extension, both ways: an input as raw bytes after the
// JSON header, outputs as raw bytes when asked for by the request's
// binary_data_output or an output's binary_data.
func TestRESTBinary(t *testing.T) {
	inputs, outputs := demoCase(t)
	s := startServer(t, config{modelsDir: testRepo(t, "demo.pt")})
	raw := float32Bytes(inputs[0].Data)

	for _, c := range []struct {
		name      string
		params    map[string]any
		outputs   []any
		binary    map[string]bool
		wantNames []string
	}{
		{"all binary", map[string]any{"binary_data_output": true}, nil, map[string]bool{"logits": true, "probs": true}, []string{"logits", "probs"}},
		{"one binary", nil, []any{map[string]any{"name": "probs", "parameters": map[string]any{"binary_data": true}}, map[string]any{"name": "logits"}},
			map[string]bool{"probs": true}, []string{"probs", "logits"}},
		{"none binary", nil, nil, map[string]bool{}, []string{"logits", "probs"}},
	} {
		req := map[string]any{"inputs": []any{map[string]any{"name": "features", "datatype": "FP32", "shape": inputs[0].Shape,
			"parameters": map[string]any{"binary_data_size": len(raw)}}}}
		if c.params != nil {
			req["parameters"] = c.params
		}
		if c.outputs != nil {
			req["outputs"] = c.outputs
		}
		header, _ := json.Marshal(req)
		status, h, body := do(t, "POST", s.rest+"/v2/models/demo/infer", append(header, raw...),
			headerLengthHeader, strconv.Itoa(len(header)), "Content-Type", "application/octet-stream")
		if status != 200 {
			t.Fatalf("%s: %d %s", c.name, status, body)
		}
		jsonLen := len(body)
		if v := h.Get(headerLengthHeader); v != "" {
			jsonLen, _ = strconv.Atoi(v)
		} else if len(c.binary) > 0 {
			t.Fatalf("%s: no %s header", c.name, headerLengthHeader)
		}
		var got jsonResponse
		if err := json.Unmarshal(body[:jsonLen], &got); err != nil {
			t.Fatalf("%s: %v: %q", c.name, err, body)
		}
		tail := body[jsonLen:]
		if len(got.Outputs) != len(c.wantNames) {
			t.Fatalf("%s: outputs %+v", c.name, got.Outputs)
		}
		for i, o := range got.Outputs {
			want := outputs[0]
			if o.Name == "probs" {
				want = outputs[1]
			}
			var values []float64
			if c.binary[o.Name] {
				n, _ := o.Parameters["binary_data_size"].(float64)
				if o.Data != nil || int(n) != 4*len(want.Data) || len(tail) < int(n) {
					t.Fatalf("%s: output %s: %+v with %d bytes left", c.name, o.Name, o, len(tail))
				}
				values, tail = float32sOf(tail[:int(n)]), tail[int(n):]
			} else {
				values = anyFloats(o.Data)
			}
			if o.Name != c.wantNames[i] {
				t.Errorf("%s: output %d is %s, want %s", c.name, i, o.Name, c.wantNames[i])
			}
			if err := checkFloats(c.name+": "+o.Name, values, want.Data); err != nil {
				t.Error(err)
			}
		}
		if len(tail) != 0 {
			t.Errorf("%s: %d bytes after the outputs", c.name, len(tail))
		}
	}
}

func TestRESTErrors(t *testing.T) {
	s := startServer(t, config{modelsDir: testRepo(t, "demo.pt")})
	in := func(fields string) string { return `{"inputs": [{` + fields + `}]}` }
	for _, c := range []struct {
		path, body string
		status     int
		want       string // in the message
	}{
		{"demo/infer", in(`"name": "features", "datatype": "FP42", "shape": [1,4], "data": [1,2,3,4]`), 400, "unknown datatype"},
		{"demo/infer", in(`"name": "features", "datatype": "UINT32", "shape": [1,4], "data": [1,2,3,4]`), 400, "not supported"},
		{"demo/infer", in(`"name": "features", "datatype": "FP32", "shape": [1,3], "data": [1,2,3]`), 400, "TI_ERR_RUNTIME"},
		{"demo/infer", in(`"name": "features", "datatype": "FP32", "shape": [1,4], "data": [1,2,3]`), 400, "3 elements in data, but shape [1 4] takes 4"},
		{"demo/infer", in(`"name": "nope", "datatype": "FP32", "shape": [1,4], "data": [1,2,3,4]`), 400, "nope"},
		{"demo/infer", in(`"name": "features", "datatype": "INT8", "shape": [1], "data": [300]`), 400, "out of range"},
		{"demo/infer", in(`"name": "features", "datatype": "FP32", "shape": [1], "data": ["x"]`), 400, "is a string"},
		{"demo/infer", in(`"name": "features", "datatype": "FP32", "shape": [1], "data": [null]`), 400, "null"},
		{"demo/infer", in(`"name": "features", "datatype": "FP32", "shape": [-1], "data": []`), 400, "negative"},
		{"demo/infer", in(`"name": "features", "datatype": "FP32", "shape": [1]`), 400, "neither data nor binary_data_size"},
		{"demo/infer", `{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1,4], "data": [1,2,3,4]}], "outputs": [{"name": "nope"}]}`, 400, `unknown output "nope"`},
		{"demo/infer", `{"inputs": []}`, 400, "no inputs"},
		// A huge shape with little data: refused without allocating for the shape.
		{"demo/infer", in(`"name": "features", "datatype": "FP64", "shape": [2147483647], "data": [1]`), 400, "takes 2147483647"},
		{"demo/infer", in(`"name": "s", "datatype": "BYTES", "shape": [2147483647], "data": ["a"]`), 400, "takes 2147483647"},
		{"demo/infer", in(`"name": "features", "datatype": "FP32", "shape": [65536, 65536], "data": [1]`), 400, "too many elements"},
		{"demo/infer", `not json`, 400, "request JSON"},
		{"nope/infer", in(`"name": "features", "datatype": "FP32", "shape": [1,4], "data": [1,2,3,4]`), 404, `unknown model "nope"`},
		{"demo/versions/2/infer", in(`"name": "features", "datatype": "FP32", "shape": [1,4], "data": [1,2,3,4]`), 404, "no version"},
	} {
		status, h, b := do(t, "POST", s.rest+"/v2/models/"+c.path, c.body)
		var e map[string]string
		if err := json.Unmarshal(b, &e); err != nil || status != c.status || len(e) != 1 || !strings.Contains(e["error"], c.want) ||
			h.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %s, want %d with %q", c.path, c.body, status, b, c.status, c.want)
		}
	}
	for _, path := range []string{"/v2/models/nope", "/v2/models/nope/ready", "/v2/models/demo/versions/7"} {
		if status, _, b := do(t, "GET", s.rest+path, nil); status != 404 || !strings.Contains(string(b), `"error"`) {
			t.Errorf("GET %s: %d %s, want 404", path, status, b)
		}
	}
	// An empty "outputs" asks for every output.
	status, _, b := do(t, "POST", s.rest+"/v2/models/demo/infer", `{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1,4], "data": [1,2,3,4]}], "outputs": []}`)
	if status != 200 || !strings.Contains(string(b), `"logits"`) || !strings.Contains(string(b), `"probs"`) {
		t.Errorf(`"outputs": []: %d %s`, status, b)
	}
	// Binary extension errors: sizes that do not add up, and a BYTES shape far beyond the data.
	bytesHeader := `{"inputs": [{"name": "s", "datatype": "BYTES", "shape": [2147483647], "parameters": {"binary_data_size": 5}}]}`
	status, _, b = do(t, "POST", s.rest+"/v2/models/demo/infer", append([]byte(bytesHeader), 1, 0, 0, 0, 'a'),
		headerLengthHeader, strconv.Itoa(len(bytesHeader)))
	if status != 400 || !strings.Contains(string(b), "1 BYTES elements, the shape takes 2147483647") {
		t.Errorf("BYTES with a huge shape: %d %s", status, b)
	}
	header := `{"inputs": [{"name": "features", "datatype": "FP32", "shape": [1,4], "parameters": {"binary_data_size": 16}}]}`
	for _, c := range []struct {
		body   []byte
		length string
		want   string
	}{
		{append([]byte(header), make([]byte, 12)...), strconv.Itoa(len(header)), "binary_data_size"},
		{append([]byte(header), make([]byte, 20)...), strconv.Itoa(len(header)), "4 bytes after"},
		{[]byte(header), "99999", "not a length"},
	} {
		status, _, b := do(t, "POST", s.rest+"/v2/models/demo/infer", c.body, headerLengthHeader, c.length)
		if status != 400 || !strings.Contains(string(b), c.want) {
			t.Errorf("binary body of %d bytes: %d %s, want 400 with %q", len(c.body), status, b, c.want)
		}
	}
}

func grpcClient(t *testing.T, addr string) inference.GRPCInferenceServiceClient {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return inference.NewGRPCInferenceServiceClient(conn)
}

func TestGRPC(t *testing.T) {
	inputs, outputs := demoCase(t)
	s := startServer(t, config{modelsDir: testRepo(t, "demo.pt")})
	c := grpcClient(t, s.grpc)
	ctx := context.Background()

	if r, err := c.ServerLive(ctx, &inference.ServerLiveRequest{}); err != nil || !r.Live {
		t.Errorf("ServerLive: %v %v", r, err)
	}
	if r, err := c.ServerReady(ctx, &inference.ServerReadyRequest{}); err != nil || !r.Ready {
		t.Errorf("ServerReady: %v %v", r, err)
	}
	if r, err := c.ModelReady(ctx, &inference.ModelReadyRequest{Name: "demo"}); err != nil || !r.Ready {
		t.Errorf("ModelReady: %v %v", r, err)
	}
	if r, err := c.ServerMetadata(ctx, &inference.ServerMetadataRequest{}); err != nil || r.Name != "torchinfer" || r.Version != torchinfer.Version() {
		t.Errorf("ServerMetadata: %v %v", r, err)
	}
	md, err := c.ModelMetadata(ctx, &inference.ModelMetadataRequest{Name: "demo", Version: "1"})
	if err != nil || md.Platform != "pytorch_libtorch" || len(md.Inputs) != 1 || md.Inputs[0].Name != "features" ||
		md.Inputs[0].Datatype != "FP32" || fmt.Sprint(md.Inputs[0].Shape) != "[-1 -1]" || len(md.Outputs) != 2 || md.Outputs[1].Name != "probs" {
		t.Errorf("ModelMetadata: %v %v", md, err)
	}

	check := func(what string, r *inference.ModelInferResponse, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if r.ModelName != "demo" || r.ModelVersion != "1" || r.Id != "g-1" || len(r.Outputs) != 2 || len(r.RawOutputContents) != 2 {
			t.Fatalf("%s: %v", what, r)
		}
		for i, w := range outputs {
			o := r.Outputs[i]
			if o.Name != w.Name || o.Datatype != "FP32" || fmt.Sprint(o.Shape) != fmt.Sprint(w.Shape) {
				t.Errorf("%s: output %d: %v", what, i, o)
			}
			if err := checkFloats(what+": "+w.Name, float32sOf(r.RawOutputContents[i]), w.Data); err != nil {
				t.Error(err)
			}
		}
	}
	in := &inference.ModelInferRequest_InferInputTensor{Name: "features", Datatype: "FP32", Shape: inputs[0].Shape}
	r, err := c.ModelInfer(ctx, &inference.ModelInferRequest{ModelName: "demo", Id: "g-1",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{in}, RawInputContents: [][]byte{float32Bytes(inputs[0].Data)}})
	check("raw", r, err)
	typed := &inference.ModelInferRequest_InferInputTensor{Name: "features", Datatype: "FP32", Shape: inputs[0].Shape,
		Contents: &inference.InferTensorContents{}}
	for _, v := range inputs[0].Data {
		typed.Contents.Fp32Contents = append(typed.Contents.Fp32Contents, float32(v))
	}
	r, err = c.ModelInfer(ctx, &inference.ModelInferRequest{ModelName: "demo", Id: "g-1",
		Inputs: []*inference.ModelInferRequest_InferInputTensor{typed}})
	check("contents", r, err)

	for _, e := range []struct {
		req  *inference.ModelInferRequest
		code codes.Code
		want string
	}{
		{&inference.ModelInferRequest{ModelName: "nope", Inputs: []*inference.ModelInferRequest_InferInputTensor{typed}}, codes.NotFound, "unknown model"},
		{&inference.ModelInferRequest{ModelName: "demo", Inputs: []*inference.ModelInferRequest_InferInputTensor{
			{Name: "features", Datatype: "FP99", Shape: []int64{1, 4}}}}, codes.InvalidArgument, "unknown datatype"},
		{&inference.ModelInferRequest{ModelName: "demo", Inputs: []*inference.ModelInferRequest_InferInputTensor{
			{Name: "features", Datatype: "FP32", Shape: []int64{1, 3}}}, RawInputContents: [][]byte{make([]byte, 12)}}, codes.InvalidArgument, "TI_ERR_RUNTIME"},
		{&inference.ModelInferRequest{ModelName: "demo", Inputs: []*inference.ModelInferRequest_InferInputTensor{
			{Name: "features", Datatype: "FP32", Shape: []int64{1, 4}}}, RawInputContents: [][]byte{make([]byte, 12)}}, codes.InvalidArgument, "12 bytes"},
		{&inference.ModelInferRequest{ModelName: "demo", Inputs: []*inference.ModelInferRequest_InferInputTensor{
			{Name: "nope", Datatype: "FP32", Shape: []int64{1, 4}}}, RawInputContents: [][]byte{make([]byte, 16)}}, codes.InvalidArgument, "nope"},
	} {
		_, err := c.ModelInfer(ctx, e.req)
		if st, _ := status.FromError(err); st.Code() != e.code || !strings.Contains(st.Message(), e.want) {
			t.Errorf("ModelInfer %v: %v, want %v with %q", e.req, err, e.code, e.want)
		}
	}
	if _, err := c.ModelMetadata(ctx, &inference.ModelMetadataRequest{Name: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("ModelMetadata of an unknown model: %v", err)
	}
	if _, err := c.ModelReady(ctx, &inference.ModelReadyRequest{Name: "demo", Version: "3"}); status.Code(err) != codes.NotFound {
		t.Errorf("ModelReady of an unknown version: %v", err)
	}
}

// Readiness is false, and inference 503 / UNAVAILABLE, until every model is
// loaded and warmed; liveness is true from the start.
func TestReadiness(t *testing.T) {
	release := make(chan struct{})
	listening := make(chan [2]net.Addr, 1)
	cfg := config{modelsDir: testRepo(t, "demo.pt"), addr: "127.0.0.1:0", grpcAddr: "127.0.0.1:0", device: "cpu",
		listening:  func(rest, grpc net.Addr) { listening <- [2]net.Addr{rest, grpc} },
		beforeLoad: func() { <-release },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	readyc := make(chan struct{})
	go func() { done <- run(ctx, cfg, func(net.Addr, net.Addr, []string) { close(readyc) }) }()
	addrs := <-listening
	rest := "http://" + addrs[0].String()
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/v2/health/live", 200}, {"GET", "/v2/health/ready", 503}, {"GET", "/v2/models/demo/ready", 503},
		{"GET", "/v2/models/demo", 503}, {"POST", "/v2/models/demo/infer", 503},
	} {
		if status, _, b := do(t, c.method, rest+c.path, demoRequest(t)); status != c.status {
			t.Errorf("%s %s while loading: %d %s, want %d", c.method, c.path, status, b, c.status)
		}
	}
	g := grpcClient(t, addrs[1].String())
	if r, err := g.ServerReady(context.Background(), &inference.ServerReadyRequest{}); err != nil || r.Ready {
		t.Errorf("ServerReady while loading: %v %v", r, err)
	}
	close(release)
	<-readyc
	if status, _, _ := do(t, "GET", rest+"/v2/health/ready", nil); status != 200 {
		t.Errorf("ready after loading: %d", status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("stop: %v", err)
	}
}

// 64 clients at once, half over REST and half over gRPC, then the library's
// live handles are back where they were while idle, and at zero-change after stop.
func TestConcurrentClients(t *testing.T) {
	before := torchinfer.LiveHandles()
	inputs, outputs := demoCase(t)
	s := startServer(t, config{modelsDir: testRepo(t, "demo.pt")})
	idle := torchinfer.LiveHandles()
	g := grpcClient(t, s.grpc)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for c := 0; c < 64; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if c%2 == 0 {
					status, _, b := do(t, "POST", s.rest+"/v2/models/demo/infer", demoRequest(t))
					if err := checkDemo(t, status, b, outputs); err != nil {
						errs <- err
						return
					}
					continue
				}
				r, err := g.ModelInfer(context.Background(), &inference.ModelInferRequest{ModelName: "demo",
					Inputs:           []*inference.ModelInferRequest_InferInputTensor{{Name: "features", Datatype: "FP32", Shape: inputs[0].Shape}},
					RawInputContents: [][]byte{float32Bytes(inputs[0].Data)}})
				if err == nil {
					err = checkFloats("probs", float32sOf(r.RawOutputContents[1]), outputs[1].Data)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if now := torchinfer.LiveHandles(); now != idle {
		t.Errorf("live handles: %d while idle before the clients, %d after", idle, now)
	}
	_, _, b := do(t, "GET", s.rest+"/metrics", nil)
	for _, want := range []string{
		`torchinfer_requests_total{model="demo",outcome="ok",protocol="grpc"} 160`,
		`torchinfer_requests_total{model="demo",outcome="ok",protocol="rest"} 160`,
		`torchinfer_requests_in_flight{model="demo"} 0`,
		`torchinfer_request_duration_seconds_count{model="demo",outcome="ok",protocol="rest"} 160`,
		fmt.Sprintf("torchinfer_live_handles %d", idle),
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if after := torchinfer.LiveHandles(); after != before {
		t.Errorf("live handles %d before the server, %d after it stopped", before, after)
	}
}
