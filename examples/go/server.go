package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// JSONTensor is a tensor on the wire: dtype (default "float32"), shape and
// row-major data. Bool data is written as true/false.
type JSONTensor struct {
	DType string  `json:"dtype,omitempty"`
	Shape []int64 `json:"shape"`
	Data  any     `json:"data"`
}

// PredictRequest is the body of POST /predict: the model's inputs by argument name.
type PredictRequest struct {
	Inputs map[string]inputTensor `json:"inputs"`
}

// PredictResponse holds every output leaf by name.
type PredictResponse struct {
	Outputs map[string]JSONTensor `json:"outputs"`
}

type inputTensor struct {
	DType string    `json:"dtype,omitempty"`
	Shape []int64   `json:"shape"`
	Data  []float64 `json:"data"`
}

type errorResponse struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

const maxBody = 8 << 20

// statusClientClosedRequest is nginx's status for a request whose client went
// away before the answer: nobody reads it, but it shows in access logs.
const statusClientClosedRequest = 499

// server serves one shared model: *torchinfer.Model is safe for concurrent
// use, so every request uses it directly.
type server struct {
	model   *torchinfer.Model
	timeout time.Duration // per prediction; 0 = none
}

// newHandler serves m; timeout (0 = none) bounds each prediction.
func newHandler(m *torchinfer.Model, timeout time.Duration) http.Handler {
	s := &server{model: m, timeout: timeout}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("POST /predict", s.predict)
	return mux
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "ok", "device": s.model.Device(), "inputs": s.model.Inputs(),
		"version": torchinfer.Version(),
	})
}

func (s *server) predict(w http.ResponseWriter, r *http.Request) {
	var req PredictRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorResponse{Error: "bad request body: " + err.Error()})
		return
	}
	if len(req.Inputs) == 0 {
		writeJSON(w, http.StatusBadRequest, errorResponse{Error: `no "inputs"`})
		return
	}
	inputs := make(map[string]*torchinfer.Tensor, len(req.Inputs))
	defer func() {
		for _, t := range inputs {
			t.Close()
		}
	}()
	for name, in := range req.Inputs {
		t, err := in.tensor()
		if err != nil {
			writeError(w, fmt.Errorf("input %q: %w", name, err))
			return
		}
		inputs[name] = t
	}
	// The request's context stops the prediction when the client goes away;
	// the timeout adds a deadline. For a TorchScript model the call stops at
	// the next operator; a .pt2 call that has started runs to its end.
	ctx := r.Context()
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	out, err := s.model.PredictNamedContext(ctx, inputs)
	if err != nil {
		writeError(w, err)
		return
	}
	defer out.Close()
	resp := PredictResponse{Outputs: make(map[string]JSONTensor, out.Len())}
	for i := 0; i < out.Len(); i++ {
		t, err := out.Get(i)
		if err != nil {
			writeError(w, err)
			return
		}
		jt, err := toJSON(t)
		t.Close()
		if err != nil {
			writeError(w, err)
			return
		}
		resp.Outputs[out.Name(i)] = jt
	}
	writeJSON(w, http.StatusOK, resp)
}

func (in inputTensor) tensor() (*torchinfer.Tensor, error) {
	dtype := in.DType
	if dtype == "" {
		dtype = "float32"
	}
	switch dtype {
	case "float32":
		return torchinfer.NewTensor(convert(in.Data, func(v float64) float32 { return float32(v) }), in.Shape...)
	case "float64":
		return torchinfer.NewTensor(in.Data, in.Shape...)
	case "int32":
		return torchinfer.NewTensor(convert(in.Data, func(v float64) int32 { return int32(v) }), in.Shape...)
	case "int64":
		return torchinfer.NewTensor(convert(in.Data, func(v float64) int64 { return int64(v) }), in.Shape...)
	case "bool":
		return torchinfer.NewTensor(convert(in.Data, func(v float64) bool { return v != 0 }), in.Shape...)
	}
	return nil, &torchinfer.Error{Code: torchinfer.CodeInvalidArgument,
		Message: "dtype " + dtype + " is not one of float32, float64, int32, int64, bool"}
}

func convert[T any](data []float64, f func(float64) T) []T {
	out := make([]T, len(data))
	for i, v := range data {
		out[i] = f(v)
	}
	return out
}

func toJSON(t *torchinfer.Tensor) (JSONTensor, error) {
	var data any
	var err error
	switch t.DType() {
	case torchinfer.Float32:
		data, err = t.Float32s()
	case torchinfer.Float64:
		data, err = t.Float64s()
	case torchinfer.Int32:
		data, err = t.Int32s()
	case torchinfer.Int64:
		data, err = t.Int64s()
	case torchinfer.Bool:
		data, err = t.Bools()
	default:
		return JSONTensor{}, &torchinfer.Error{Code: torchinfer.CodeUnsupported,
			Message: "output dtype " + t.DType().String() + " is not served as JSON"}
	}
	return JSONTensor{DType: t.DType().String(), Shape: t.Shape(), Data: data}, err
}

// writeError maps the library's error codes to HTTP statuses: what the
// client sent is a 4xx, a prediction past the timeout 504, the rest a 5xx.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, torchinfer.ErrInvalidArgument), errors.Is(err, torchinfer.ErrRuntime):
		status = http.StatusBadRequest
	case errors.Is(err, torchinfer.ErrUnsupported):
		status = http.StatusUnprocessableEntity
	case errors.Is(err, context.DeadlineExceeded): // torchinfer.ErrDeadlineExceeded
		status = http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled): // torchinfer.ErrCancelled: the client went away
		status = statusClientClosedRequest
	}
	resp := errorResponse{Error: err.Error()}
	var te *torchinfer.Error
	if errors.As(err, &te) {
		resp.Code = te.Code.String()
	}
	writeJSON(w, status, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
