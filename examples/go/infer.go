package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// inferRequest is an inference request, whichever protocol carried it.
type inferRequest struct {
	model, version, id string
	method             string // parameter "method": a method other than forward
	inputs             []*wireTensor
	outputs            []string // requested outputs; nil: every output
}

// inferResult is its answer: the outputs in the order requested (every
// output leaf of the model's result, in the library's order, when none were).
type inferResult struct {
	model, version, id string
	outputs            []*wireTensor
}

// infer serves one request end to end: finds the model, bounds the call by
// the server's -timeout (the request's own deadline and cancellation come in
// ctx), and records the metrics.
func (s *server) infer(ctx context.Context, protocol string, req *inferRequest) (*inferResult, error) {
	start := time.Now()
	label := "" // metrics label: only names of served models, so clients cannot add series
	sm, err := s.repo.getReady(req.model, req.version)
	if sm != nil {
		label = sm.name
	}
	s.metrics.inFlight.WithLabelValues(label).Inc()
	var res *inferResult
	if err == nil {
		if s.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.timeout)
			defer cancel()
		}
		res, err = runModel(ctx, sm, req)
	}
	s.metrics.inFlight.WithLabelValues(label).Dec()
	s.metrics.observe(label, protocol, outcome(err), time.Since(start))
	return res, err
}

// rejected counts a request refused before it reached infer (it could not
// be decoded) in the metrics, under its model's name when that is served.
func (s *server) rejected(protocol, model string, err error) {
	label := ""
	if _, ok := s.repo.models[model]; ok {
		label = model
	}
	s.metrics.observe(label, protocol, outcome(err), 0)
}

// runModel calls the model with the request's inputs and copies out its outputs.
func runModel(ctx context.Context, sm *servedModel, req *inferRequest) (*inferResult, error) {
	if len(req.inputs) == 0 {
		return nil, badRequest("no inputs")
	}
	out, err := call(ctx, sm, req.method, req.inputs)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	res := &inferResult{model: sm.name, version: modelVersion, id: req.id}
	names := out.Names()
	pick := func(i int) error {
		t, err := leafTensor(out, i, names[i])
		if t != nil {
			res.outputs = append(res.outputs, t)
		}
		return err
	}
	if req.outputs == nil {
		for i := range names {
			if err := pick(i); err != nil {
				return nil, err
			}
		}
		return res, nil
	}
	for _, name := range req.outputs {
		i := slices.Index(names, name)
		if i < 0 {
			return nil, badRequest("unknown output %q (outputs: %s)", name, strings.Join(names, ", "))
		}
		if err := pick(i); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// call runs the model. Tensors only, by argument name: forward straight, or
// through the batcher when there is one. A BYTES input (a str or List[str]
// argument) or an input named by a path inside a structured argument
// ("pairs.0.1", "batch.input_ids"): through torchinfer.Inputs, set by path.
func call(ctx context.Context, sm *servedModel, method string, inputs []*wireTensor) (*torchinfer.Outputs, error) {
	tensors := make(map[string]*torchinfer.Tensor, len(inputs))
	defer func() {
		for _, t := range tensors {
			t.Close()
		}
	}()
	structured := false
	for _, in := range inputs {
		if _, dup := tensors[in.name]; dup {
			return nil, badRequest("input %q given twice", in.name)
		}
		if in.datatype == bytesType || strings.Contains(in.name, ".") {
			structured = true
		}
		if in.datatype == bytesType {
			tensors[in.name] = nil
			continue
		}
		t, err := torchinfer.NewTensorBytes(dtypeOf[in.datatype], in.raw, in.shape...)
		if err != nil {
			return nil, badRequest("input %q: %v", in.name, err)
		}
		tensors[in.name] = t
	}
	switch {
	case structured:
		return callStructured(ctx, sm, method, inputs, tensors)
	case method != "":
		return sm.model.RunMethodNamedContext(ctx, method, tensors)
	case sm.batcher != nil:
		return sm.batcher.PredictNamed(ctx, tensors)
	}
	return sm.model.PredictNamedContext(ctx, tensors)
}

// callStructured sets each input at the path its name gives: a tensor as it
// is, BYTES as a str when its shape is [] (or [1] where the declared type is
// str), otherwise as a List[str].
func callStructured(ctx context.Context, sm *servedModel, method string, inputs []*wireTensor, tensors map[string]*torchinfer.Tensor) (*torchinfer.Outputs, error) {
	in, err := torchinfer.NewInputs(sm.model, method)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	for _, w := range inputs {
		var err error
		switch {
		case w.datatype != bytesType:
			err = in.SetTensor(w.name, tensors[w.name])
		case len(w.shape) == 0:
			err = in.SetString(w.name, string(w.strs[0]))
		default:
			strs := make([]string, len(w.strs))
			for i, s := range w.strs {
				strs[i] = string(s)
			}
			// One element: a str if the declared type takes one, else a list of one.
			if len(strs) != 1 || in.SetString(w.name, strs[0]) != nil {
				err = in.Set(w.name, strs)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return sm.model.RunInputs(ctx, in)
}

// leafTensor copies output leaf i into a wireTensor: a tensor with its
// datatype, a string as BYTES of shape [1]; nil for a None leaf (an Optional
// result that was empty), which the protocol cannot carry and which is left
// out of the response.
func leafTensor(out *torchinfer.Outputs, i int, name string) (*wireTensor, error) {
	switch out.Kind(i) {
	case torchinfer.KindNone:
		return nil, nil
	case torchinfer.KindString:
		s, err := out.Text(i)
		return &wireTensor{name: name, datatype: bytesType, shape: []int64{1}, strs: [][]byte{[]byte(s)}}, err
	}
	dtype, shape := out.DType(i), out.Shape(i)
	n, err := numElements(shape)
	if err != nil {
		return nil, err
	}
	raw := make([]byte, n*dtype.Size())
	if err := copyLeafRaw(out, i, dtype, raw); err != nil {
		return nil, err
	}
	return &wireTensor{name: name, datatype: datatypeOf(dtype), shape: shape, raw: raw}, nil
}

// copyLeafRaw copies leaf i's elements into raw (its exact size) without
// making a tensor handle: CopyLeaf into raw seen as a slice of the leaf's
// element type. The host is little-endian (checked at start-up), so the bytes
// are the protocol's.
func copyLeafRaw(out *torchinfer.Outputs, i int, dtype torchinfer.DType, raw []byte) error {
	if len(raw) == 0 {
		return nil
	}
	p := unsafe.Pointer(unsafe.SliceData(raw)) // Go allocates byte slices this large 8-byte aligned
	n := len(raw) / dtype.Size()
	switch dtype {
	case torchinfer.Float32:
		return torchinfer.CopyLeaf(out, i, unsafe.Slice((*float32)(p), n))
	case torchinfer.Float64:
		return torchinfer.CopyLeaf(out, i, unsafe.Slice((*float64)(p), n))
	case torchinfer.Float16, torchinfer.BFloat16:
		return torchinfer.CopyLeaf(out, i, unsafe.Slice((*uint16)(p), n))
	case torchinfer.Int8:
		return torchinfer.CopyLeaf(out, i, unsafe.Slice((*int8)(p), n))
	case torchinfer.Uint8:
		return torchinfer.CopyLeaf(out, i, raw)
	case torchinfer.Int16:
		return torchinfer.CopyLeaf(out, i, unsafe.Slice((*int16)(p), n))
	case torchinfer.Int32:
		return torchinfer.CopyLeaf(out, i, unsafe.Slice((*int32)(p), n))
	case torchinfer.Int64:
		return torchinfer.CopyLeaf(out, i, unsafe.Slice((*int64)(p), n))
	case torchinfer.Bool:
		return torchinfer.CopyLeaf(out, i, unsafe.Slice((*bool)(p), n))
	}
	return errors.New(fmt.Sprint("output dtype ", dtype, " has no protocol datatype"))
}
