package main

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
	"google.golang.org/grpc/codes"
)

// maxBody bounds a request body (REST, after decompression) and a gRPC message.
const maxBody = 64 << 20

// headerLengthHeader is the binary tensor extension's header: the length of
// the JSON part of a body whose tensors follow as raw bytes.
const headerLengthHeader = "Inference-Header-Content-Length"

func (s *server) restHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, r *http.Request) {
		writeReady(w, map[string]any{"ready": s.repo.ready.Load()}, s.repo.ready.Load())
	})
	mux.HandleFunc("GET /v2", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.serverMetadata())
	})
	mux.HandleFunc("GET /v2/models/{name}", s.restModelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}", s.restModelMetadata)
	mux.HandleFunc("GET /v2/models/{name}/ready", s.restModelReady)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", s.restModelReady)
	mux.HandleFunc("POST /v2/models/{name}/infer", s.restInfer)
	mux.HandleFunc("POST /v2/models/{name}/versions/{version}/infer", s.restInfer)
	mux.Handle("GET /metrics", s.metrics.handler())
	return mux
}

// writeReady answers a readiness check: 200 when ready, else 503 (as KServe's
// own servers do; Kubernetes probes take any status from 400 on as not ready).
func writeReady(w http.ResponseWriter, body any, ready bool) {
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, body)
}

func (s *server) restModelReady(w http.ResponseWriter, r *http.Request) {
	sm, err := s.repo.get(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		writeError(w, err)
		return
	}
	ready := sm.ready.Load()
	writeReady(w, map[string]any{"name": sm.name, "ready": ready}, ready)
}

func (s *server) restModelMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := s.modelMetadata(r.PathValue("name"), r.PathValue("version"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, md)
}

// restRequest is the JSON part of POST .../infer.
type restRequest struct {
	ID         string         `json:"id"`
	Parameters map[string]any `json:"parameters"`
	Inputs     []struct {
		Name       string          `json:"name"`
		Shape      []int64         `json:"shape"`
		Datatype   string          `json:"datatype"`
		Parameters map[string]any  `json:"parameters"`
		Data       json.RawMessage `json:"data"`
	} `json:"inputs"`
	Outputs []restRequestedOutput `json:"outputs"`
}

type restRequestedOutput struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters"`
}

type restOutput struct {
	Name       string          `json:"name"`
	Datatype   string          `json:"datatype"`
	Shape      []int64         `json:"shape"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

type restResponse struct {
	ModelName    string       `json:"model_name"`
	ModelVersion string       `json:"model_version"`
	ID           string       `json:"id,omitempty"`
	Outputs      []restOutput `json:"outputs"`
}

func (s *server) restInfer(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	headerLen := -1
	if h := r.Header.Get(headerLengthHeader); h != "" {
		if headerLen, err = strconv.Atoi(h); err != nil || headerLen < 0 || headerLen > len(body) {
			writeError(w, badRequest("%s: %q is not a length within the body's %d bytes", headerLengthHeader, h, len(body)))
			return
		}
	}
	req, binary, err := decodeRESTInfer(body, headerLen)
	if err != nil {
		s.rejected("rest", r.PathValue("name"), err)
		writeError(w, err)
		return
	}
	req.model, req.version = r.PathValue("name"), r.PathValue("version")
	// The request's context ends when the client goes away, which stops the call.
	res, err := s.infer(r.Context(), "rest", req)
	if err != nil {
		writeError(w, err)
		return
	}
	writeRESTResult(w, res, binary)
}

// readBody reads the request body, decompressed as Content-Encoding says
// (gzip or deflate, as tritonclient can send), up to maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var in io.Reader = http.MaxBytesReader(w, r.Body, maxBody)
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, badRequest("gzip body: %v", err)
		}
		in = zr
	case "deflate":
		zr, err := zlib.NewReader(in)
		if err != nil {
			return nil, badRequest("deflate body: %v", err)
		}
		in = zr
	default:
		return nil, &apiError{http.StatusUnsupportedMediaType, codes.InvalidArgument, "Content-Encoding " + enc + " is not supported (gzip, deflate)"}
	}
	body, err := io.ReadAll(io.LimitReader(in, maxBody+1))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || len(body) > maxBody {
		return nil, &apiError{http.StatusRequestEntityTooLarge, codes.ResourceExhausted, fmt.Sprintf("request body over %d bytes", maxBody)}
	}
	if err != nil {
		return nil, badRequest("reading the body: %v", err)
	}
	return body, nil
}

// binaryOutputs says which outputs the response carries as raw bytes (the
// binary tensor extension): an output's "binary_data" parameter, else the
// request's "binary_data_output" parameter, else none.
type binaryOutputs struct {
	all    bool
	output map[string]bool
}

func (b binaryOutputs) of(name string) bool {
	if v, ok := b.output[name]; ok {
		return v
	}
	return b.all
}

// decodeRESTInfer decodes an infer request body: JSON, or with headerLen >= 0
// that many bytes of JSON followed by the binary inputs' raw bytes.
func decodeRESTInfer(body []byte, headerLen int) (*inferRequest, binaryOutputs, error) {
	var bin binaryOutputs
	header, tail := body, []byte(nil)
	if headerLen >= 0 {
		header, tail = body[:headerLen], body[headerLen:]
	}
	var rr restRequest
	if err := json.Unmarshal(header, &rr); err != nil {
		return nil, bin, badRequest("request JSON: %v", err)
	}
	req := &inferRequest{id: rr.ID}
	var err error
	if req.method, err = stringParam(rr.Parameters, "method"); err != nil {
		return nil, bin, err
	}
	if bin.all, err = boolParam(rr.Parameters, "binary_data_output"); err != nil {
		return nil, bin, err
	}
	for _, in := range rr.Inputs {
		t := &wireTensor{name: in.Name, datatype: in.Datatype, shape: in.Shape}
		if in.Shape == nil {
			return nil, bin, badRequest("input %q has no shape", in.Name)
		}
		if err := checkDatatype(in.Datatype); err != nil {
			return nil, bin, badRequest("input %q: %v", in.Name, err)
		}
		size, hasSize := in.Parameters["binary_data_size"]
		switch {
		case hasSize && in.Data != nil:
			return nil, bin, badRequest("input %q has both data and binary_data_size", in.Name)
		case hasSize:
			n, ok := size.(float64)
			if !ok || n < 0 || n != float64(int(n)) || int(n) > len(tail) {
				return nil, bin, badRequest("input %q: binary_data_size %v is not a length within the %d bytes left of the body", in.Name, size, len(tail))
			}
			t.raw, tail = tail[:int(n)], tail[int(n):]
			err = t.checkRaw()
		case in.Data == nil:
			return nil, bin, badRequest("input %q has neither data nor binary_data_size", in.Name)
		default:
			err = decodeJSONData(t, in.Data)
		}
		if err != nil {
			return nil, bin, err
		}
		req.inputs = append(req.inputs, t)
	}
	if len(tail) > 0 {
		return nil, bin, badRequest("%d bytes after the binary inputs (binary_data_size and %s do not add up to the body)", len(tail), headerLengthHeader)
	}
	bin.output = make(map[string]bool)
	for _, o := range rr.Outputs {
		req.outputs = append(req.outputs, o.Name)
		if _, ok := o.Parameters["binary_data"]; ok {
			if bin.output[o.Name], err = boolParam(o.Parameters, "binary_data"); err != nil {
				return nil, bin, err
			}
		}
	}
	return req, bin, nil
}

func stringParam(params map[string]any, name string) (string, error) {
	v, ok := params[name]
	if !ok {
		return "", nil
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", badRequest("parameter %q must be a string, not %v", name, v)
}

func boolParam(params map[string]any, name string) (bool, error) {
	v, ok := params[name]
	if !ok {
		return false, nil
	}
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, badRequest("parameter %q must be true or false, not %v", name, v)
}

// writeRESTResult answers with JSON, or, when an output goes as binary, with
// the JSON part followed by the outputs' raw bytes and the header giving the
// JSON part's length.
func writeRESTResult(w http.ResponseWriter, res *inferResult, bin binaryOutputs) {
	resp := restResponse{ModelName: res.model, ModelVersion: res.version, ID: res.id, Outputs: []restOutput{}}
	var tail [][]byte
	for _, t := range res.outputs {
		o := restOutput{Name: t.name, Datatype: t.datatype, Shape: t.shape}
		if bin.of(t.name) {
			raw := t.raw
			if t.datatype == bytesType {
				raw = encodeBytes(t.strs)
			}
			o.Parameters = map[string]any{"binary_data_size": len(raw)}
			tail = append(tail, raw)
		} else {
			o.Data = jsonData(t)
		}
		resp.Outputs = append(resp.Outputs, o)
	}
	if tail == nil {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	header, err := marshalJSON(resp)
	if err != nil {
		writeError(w, err)
		return
	}
	size := len(header)
	for _, b := range tail {
		size += len(b)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(headerLengthHeader, strconv.Itoa(len(header)))
	w.Header().Set("Content-Length", strconv.Itoa(size))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(header)
	for _, b := range tail {
		_, _ = w.Write(b)
	}
}

// jsonData is an output's elements as a flat JSON array.
func jsonData(t *wireTensor) json.RawMessage {
	buf := []byte{'['}
	if t.datatype == bytesType {
		for i, s := range t.strs {
			if i > 0 {
				buf = append(buf, ',')
			}
			q, _ := marshalJSON(string(s)) // invalid UTF-8 becomes U+FFFD: use binary_data for bytes
			buf = append(buf, q...)
		}
	} else {
		buf = appendJSONElements(buf, t.datatype, t.raw)
	}
	return append(buf, ']')
}

// writeError answers {"error": "..."} with the status toAPIError gives.
func writeError(w http.ResponseWriter, err error) {
	ae := toAPIError(err)
	writeJSON(w, ae.status, map[string]string{"error": ae.msg})
}

// marshalJSON is json.Marshal without escaping <, > and & (nothing here is HTML).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshalJSON(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json") // exactly: KServe's client looks for it to read errors
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// serverMetadata is GET /v2 and ServerMetadata.
func (s *server) serverMetadata() map[string]any {
	return map[string]any{
		"name":       "torchinfer",
		"version":    torchinfer.Version(),
		"extensions": serverExtensions,
	}
}

// serverExtensions are the protocol extensions served (Triton's names).
var serverExtensions = []string{"binary_tensor_data", "parameters"}

type modelMetadata struct {
	Name     string       `json:"name"`
	Versions []string     `json:"versions"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
	// REST only (gRPC's message has no such field): forward's TorchScript
	// signature, which tells the paths of structured arguments.
	Parameters map[string]string `json:"parameters,omitempty"`
}

// modelMetadata is GET /v2/models/{name} and ModelMetadata: 404 for an
// unknown model or version, 503 while the model loads.
func (s *server) modelMetadata(name, version string) (*modelMetadata, error) {
	sm, err := s.repo.getReady(name, version)
	if err != nil {
		return nil, err
	}
	md := &modelMetadata{Name: sm.name, Versions: []string{modelVersion}, Platform: sm.platform,
		Inputs: sm.inputs, Outputs: sm.outputs, Parameters: map[string]string{"schema": sm.model.Schema("")}}
	if md.Inputs == nil {
		md.Inputs = []tensorMeta{}
	}
	if md.Outputs == nil {
		md.Outputs = []tensorMeta{}
	}
	return md, nil
}
