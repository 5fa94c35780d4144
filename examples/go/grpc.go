package main

import (
	"context"
	"encoding/binary"
	"math"

	"github.com/torchinfer/libtorchinfer/examples/go/inference"
	"google.golang.org/grpc/status"
)

// grpcService is the protocol's inference.GRPCInferenceService over the same
// models as the REST endpoints. The call's context carries the client's
// deadline and ends when the client cancels or goes away, which stops the
// model's call.
type grpcService struct {
	inference.UnimplementedGRPCInferenceServiceServer
	s *server
}

// grpcError is err as a gRPC status.
func grpcError(err error) error {
	ae := toAPIError(err)
	return status.Error(ae.code, ae.msg)
}

func (g *grpcService) ServerLive(context.Context, *inference.ServerLiveRequest) (*inference.ServerLiveResponse, error) {
	return &inference.ServerLiveResponse{Live: true}, nil
}

func (g *grpcService) ServerReady(context.Context, *inference.ServerReadyRequest) (*inference.ServerReadyResponse, error) {
	return &inference.ServerReadyResponse{Ready: g.s.repo.ready.Load()}, nil
}

func (g *grpcService) ModelReady(_ context.Context, r *inference.ModelReadyRequest) (*inference.ModelReadyResponse, error) {
	sm, err := g.s.repo.get(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	return &inference.ModelReadyResponse{Ready: sm.ready.Load()}, nil
}

func (g *grpcService) ServerMetadata(context.Context, *inference.ServerMetadataRequest) (*inference.ServerMetadataResponse, error) {
	md := g.s.serverMetadata()
	return &inference.ServerMetadataResponse{
		Name: md["name"].(string), Version: md["version"].(string), Extensions: serverExtensions,
	}, nil
}

func (g *grpcService) ModelMetadata(_ context.Context, r *inference.ModelMetadataRequest) (*inference.ModelMetadataResponse, error) {
	md, err := g.s.modelMetadata(r.GetName(), r.GetVersion())
	if err != nil {
		return nil, grpcError(err)
	}
	resp := &inference.ModelMetadataResponse{Name: md.Name, Versions: md.Versions, Platform: md.Platform}
	for _, t := range md.Inputs {
		resp.Inputs = append(resp.Inputs, &inference.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	for _, t := range md.Outputs {
		resp.Outputs = append(resp.Outputs, &inference.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype, Shape: t.Shape})
	}
	return resp, nil
}

func (g *grpcService) ModelInfer(ctx context.Context, r *inference.ModelInferRequest) (*inference.ModelInferResponse, error) {
	req, err := decodeGRPCInfer(r)
	if err != nil {
		g.s.rejected("grpc", r.GetModelName(), err)
		return nil, grpcError(err)
	}
	res, err := g.s.infer(ctx, "grpc", req)
	if err != nil {
		return nil, grpcError(err)
	}
	// Raw contents for every output, as Triton answers: no per-element repeated fields to build.
	resp := &inference.ModelInferResponse{ModelName: res.model, ModelVersion: res.version, Id: res.id}
	for _, t := range res.outputs {
		resp.Outputs = append(resp.Outputs, &inference.ModelInferResponse_InferOutputTensor{
			Name: t.name, Datatype: t.datatype, Shape: t.shape,
		})
		raw := t.raw
		if t.datatype == bytesType {
			raw = encodeBytes(t.strs)
		}
		resp.RawOutputContents = append(resp.RawOutputContents, raw)
	}
	return resp, nil
}

// decodeGRPCInfer reads a ModelInferRequest: every input's data from
// raw_input_contents (one entry per input), or every input's from its typed
// contents.
func decodeGRPCInfer(r *inference.ModelInferRequest) (*inferRequest, error) {
	req := &inferRequest{model: r.GetModelName(), version: r.GetModelVersion(), id: r.GetId()}
	if p, ok := r.GetParameters()["method"]; ok {
		s, isString := p.GetParameterChoice().(*inference.InferParameter_StringParam)
		if !isString {
			return nil, badRequest("parameter \"method\" must be a string")
		}
		req.method = s.StringParam
	}
	raw := r.GetRawInputContents()
	if len(raw) > 0 && len(raw) != len(r.GetInputs()) {
		return nil, badRequest("%d raw_input_contents for %d inputs: give one per input, or none", len(raw), len(r.GetInputs()))
	}
	for i, in := range r.GetInputs() {
		t := &wireTensor{name: in.GetName(), datatype: in.GetDatatype(), shape: in.GetShape()}
		if t.shape == nil {
			t.shape = []int64{} // proto3 cannot tell [] from no shape: a scalar
		}
		if err := checkDatatype(t.datatype); err != nil {
			return nil, badRequest("input %q: %v", t.name, err)
		}
		var err error
		if len(raw) > 0 {
			if in.GetContents() != nil {
				return nil, badRequest("input %q has contents, but raw_input_contents are used", t.name)
			}
			t.raw = raw[i]
			err = t.checkRaw()
		} else {
			err = decodeContents(t, in.GetContents())
		}
		if err != nil {
			return nil, err
		}
		req.inputs = append(req.inputs, t)
	}
	if outs := r.GetOutputs(); len(outs) > 0 {
		for _, o := range outs {
			req.outputs = append(req.outputs, o.GetName())
		}
	}
	return req, nil
}

// decodeContents fills t from the repeated field of its datatype.
func decodeContents(t *wireTensor, c *inference.InferTensorContents) error {
	n, err := numElements(t.shape)
	if err != nil {
		return badRequest("input %q: %v", t.name, err)
	}
	var count int
	var bad error
	put := func(v int64, lo, hi int64, appendLE func([]byte, int64) []byte) {
		if v < lo || v > hi {
			bad = badRequest("input %q: %d is out of range for %s", t.name, v, t.datatype)
		}
		t.raw = appendLE(t.raw, v)
	}
	le8 := func(b []byte, v int64) []byte { return append(b, byte(v)) }
	le16 := func(b []byte, v int64) []byte { return binary.LittleEndian.AppendUint16(b, uint16(v)) }
	le32 := func(b []byte, v int64) []byte { return binary.LittleEndian.AppendUint32(b, uint32(v)) }
	switch t.datatype {
	case "BOOL":
		count = len(c.GetBoolContents())
		for _, v := range c.GetBoolContents() {
			t.raw = append(t.raw, boolByte(v))
		}
	case "UINT8":
		count = len(c.GetUintContents())
		for _, v := range c.GetUintContents() {
			put(int64(v), 0, math.MaxUint8, le8)
		}
	case "INT8", "INT16", "INT32":
		count = len(c.GetIntContents())
		for _, v := range c.GetIntContents() {
			switch t.datatype {
			case "INT8":
				put(int64(v), math.MinInt8, math.MaxInt8, le8)
			case "INT16":
				put(int64(v), math.MinInt16, math.MaxInt16, le16)
			default:
				put(int64(v), math.MinInt32, math.MaxInt32, le32)
			}
		}
	case "INT64":
		count = len(c.GetInt64Contents())
		for _, v := range c.GetInt64Contents() {
			t.raw = binary.LittleEndian.AppendUint64(t.raw, uint64(v))
		}
	case "FP32":
		count = len(c.GetFp32Contents())
		for _, v := range c.GetFp32Contents() {
			t.raw = binary.LittleEndian.AppendUint32(t.raw, math.Float32bits(v))
		}
	case "FP64":
		count = len(c.GetFp64Contents())
		for _, v := range c.GetFp64Contents() {
			t.raw = binary.LittleEndian.AppendUint64(t.raw, math.Float64bits(v))
		}
	case bytesType:
		count = len(c.GetBytesContents())
		t.strs = c.GetBytesContents()
	default: // FP16, BF16
		return badRequest("input %q: %s data travels only in raw_input_contents", t.name, t.datatype)
	}
	if bad != nil {
		return bad
	}
	if count != n {
		return badRequest("input %q: %d elements in contents, but shape %v takes %d", t.name, count, t.shape, n)
	}
	return nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}
