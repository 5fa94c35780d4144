package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

func modelsDir(t *testing.T) string {
	dir := os.Getenv("TORCHINFER_TEST_MODELS")
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "models")
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.pt")); err != nil {
		t.Fatalf("fixtures not found in %s (set TORCHINFER_TEST_MODELS): %v", dir, err)
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

// startServer runs the service for demo.pt on a loopback port; the returned
// function stops it gracefully and reports run's error.
func startServer(t *testing.T) (string, func() error) {
	return startServerFor(t, "demo.pt", 0)
}

// startServerFor serves model with a per-prediction timeout (0: none).
func startServerFor(t *testing.T, model string, timeout time.Duration) (string, func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, "127.0.0.1:0", filepath.Join(modelsDir(t), model), "cpu", timeout, func(a net.Addr) { addrc <- a })
	}()
	select {
	case a := <-addrc:
		return "http://" + a.String(), func() error { cancel(); return <-done }
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start in 30s")
	}
	return "", nil
}

func post(t *testing.T, url, body string) (int, []byte) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestService(t *testing.T) {
	live := torchinfer.LiveHandles()
	inputs, outputs := demoCase(t)
	base, stop := startServer(t)

	// GET /healthz
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status string   `json:"status"`
		Inputs []string `json:"inputs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if health.Status != "ok" || len(health.Inputs) != 1 || health.Inputs[0] != "features" {
		t.Errorf("healthz: %+v", health)
	}

	// POST /predict with the reference input, from several clients at once.
	body, err := json.Marshal(map[string]any{"inputs": map[string]any{
		inputs[0].Name: map[string]any{"shape": inputs[0].Shape, "data": inputs[0].Data},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if err := checkPredict(base, body, outputs); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()

	// Errors come back as JSON with the library's code.
	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"inputs": {"features": {"shape": [1,3], "data": [1,2,3]}}}`, 400, "TI_ERR_RUNTIME"},
		{`{"inputs": {"features": {"shape": [1,4], "data": [1,2,3]}}}`, 400, "TI_ERR_INVALID_ARGUMENT"},
		{`{"inputs": {"nope": {"shape": [1,4], "data": [1,2,3,4]}}}`, 400, "TI_ERR_INVALID_ARGUMENT"},
		{`{"inputs": {"features": {"dtype": "complex", "shape": [1], "data": [1]}}}`, 400, "TI_ERR_INVALID_ARGUMENT"},
		{`not json`, 400, ""},
		{`{}`, 400, ""},
	} {
		status, b := post(t, base+"/predict", c.body)
		var e struct {
			Error string `json:"error"`
			Code  string `json:"code"`
		}
		if err := json.Unmarshal(b, &e); err != nil || status != c.status || e.Code != c.code || e.Error == "" {
			t.Errorf("%s: %d %s, want %d %s", c.body, status, b, c.status, c.code)
		}
	}
	if resp, err := http.Get(base + "/predict"); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /predict: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}

	if err := stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after stop")
	}
	if after := torchinfer.LiveHandles(); after != live {
		t.Errorf("live handles %d before, %d after the service stopped", live, after)
	}
}

func checkPredict(base string, body []byte, want []refTensor) error {
	resp, err := http.Post(base+"/predict", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var got struct {
		Outputs map[string]struct {
			DType string    `json:"dtype"`
			Shape []int64   `json:"shape"`
			Data  []float64 `json:"data"`
		} `json:"outputs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("predict: %d %v", resp.StatusCode, err)
	}
	if len(got.Outputs) != len(want) {
		return fmt.Errorf("outputs %v, want %d", got.Outputs, len(want))
	}
	for _, w := range want {
		g, ok := got.Outputs[w.Name]
		if !ok {
			return fmt.Errorf("no output %q", w.Name)
		}
		if g.DType != w.DType || fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) || len(g.Data) != len(w.Data) {
			return fmt.Errorf("%s: %s %v %v, want %s %v %v", w.Name, g.DType, g.Shape, g.Data, w.DType, w.Shape, w.Data)
		}
		for i := range w.Data {
			if math.Abs(g.Data[i]-w.Data[i]) > 1e-6+1e-5*math.Abs(w.Data[i]) {
				return fmt.Errorf("%s[%d] = %v, want %v", w.Name, i, g.Data[i], w.Data[i])
			}
		}
	}
	return nil
}

// slowBody is a request for slow.pt (forward(x, n): n rounds of tanh(x @ x))
// on a [size,size] x.
func slowBody(t *testing.T, size int, rounds int64) string {
	x := make([]float64, size*size)
	for i := range x {
		x[i] = float64(i%7-3) / 64
	}
	b, err := json.Marshal(map[string]any{"inputs": map[string]any{
		"x": map[string]any{"shape": []int{size, size}, "data": x},
		"n": map[string]any{"dtype": "int64", "shape": []int{}, "data": []int64{rounds}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// longRounds makes a slow.pt call on [64,64] run for many seconds (about 0.1 ms a round).
const longRounds = 200_000

// A prediction past -timeout is stopped: 504 with TI_ERR_DEADLINE_EXCEEDED,
// long before the call would have ended; the model keeps serving.
func TestServiceTimeout(t *testing.T) {
	live := torchinfer.LiveHandles()
	base, stop := startServerFor(t, "slow.pt", 200*time.Millisecond)
	start := time.Now()
	status, b := post(t, base+"/predict", slowBody(t, 64, longRounds))
	took := time.Since(start)
	var e struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	if err := json.Unmarshal(b, &e); err != nil || status != http.StatusGatewayTimeout || e.Code != "TI_ERR_DEADLINE_EXCEEDED" ||
		!strings.Contains(e.Error, "deadline exceeded") {
		t.Errorf("slow request: %d %s, want 504 TI_ERR_DEADLINE_EXCEEDED", status, b)
	}
	if took < 200*time.Millisecond || took > 2*time.Second {
		t.Errorf("slow request answered after %v; timeout 200ms", took)
	}
	status, b = post(t, base+"/predict", slowBody(t, 2, 1))
	if status != http.StatusOK || !strings.Contains(string(b), `"shape":[2,2]`) {
		t.Errorf("quick request after a timeout: %d %s", status, b)
	}
	if err := stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
	if after := torchinfer.LiveHandles(); after != live {
		t.Errorf("live handles %d before, %d after the service stopped", live, after)
	}
}

// A client that goes away stops its prediction: the handler returns and frees
// the request's tensors and run options at once, not when the call would end.
func TestServiceClientGone(t *testing.T) {
	base, stop := startServerFor(t, "slow.pt", 0)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("graceful stop: %v", err)
		}
	}()
	idle := torchinfer.LiveHandles() // the model, and whatever other tests hold
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/predict", strings.NewReader(slowBody(t, 64, longRounds)))
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
	// Wait until the handler holds its inputs (the call is running), then hang up.
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
}
