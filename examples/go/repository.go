package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// The one version of every model: a model set is fixed when the server starts.
const modelVersion = "1"

// modelExtensions are the files -models takes: TorchScript archives and AOTInductor packages.
var modelExtensions = []string{".pt", ".pt2"}

// warmupSuffix names a model's warm-up request: demo.pt's is demo.warmup.json.
const warmupSuffix = ".warmup.json"

// warmupRuns is how often the warm-up request runs: TorchScript's profiling
// executor optimises a graph on its second call, so the first requests after
// start-up would pay for both.
const warmupRuns = 2

// tensorMeta describes an input or output in model metadata.
type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// servedModel is one model: loaded once, shared by every request (a
// *torchinfer.Model is safe for concurrent use), ready once loaded and warmed.
type servedModel struct {
	name    string
	path    string
	model   *torchinfer.Model
	batcher *torchinfer.Batcher // nil: no batching
	ready   atomic.Bool

	platform string
	inputs   []tensorMeta
	outputs  []tensorMeta
}

// repository is the set of served models, fixed at start-up.
type repository struct {
	models map[string]*servedModel
	names  []string // sorted
	ready  atomic.Bool
}

// newRepository names the models of the -model files and the -models
// directory (each by its file stem), without loading them.
func newRepository(files []string, dir string) (*repository, error) {
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("-models: %w", err)
		}
		for _, e := range entries {
			if slices.Contains(modelExtensions, filepath.Ext(e.Name())) {
				files = append(files, filepath.Join(dir, e.Name())) // symbolic links included
			}
		}
		if len(entries) > 0 && len(files) == 0 {
			return nil, fmt.Errorf("-models: no %s files in %s", strings.Join(modelExtensions, " or "), dir)
		}
	}
	if len(files) == 0 {
		return nil, errors.New("no models: give -model FILE or -models DIR")
	}
	r := &repository{models: make(map[string]*servedModel)}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		if old, ok := r.models[name]; ok {
			return nil, fmt.Errorf("two models named %q: %s and %s", name, old.path, f)
		}
		r.models[name] = &servedModel{name: name, path: f}
		r.names = append(r.names, name)
	}
	slices.Sort(r.names)
	return r, nil
}

// get returns a model for a request naming it and a version ("" for the
// server's choice): 404 for an unknown model or version.
func (r *repository) get(name, version string) (*servedModel, error) {
	m, ok := r.models[name]
	if !ok {
		return nil, notFound("unknown model %q (models: %s)", name, strings.Join(r.names, ", "))
	}
	if version != "" && version != modelVersion {
		return nil, notFound("model %q has no version %q (versions: %s)", name, version, modelVersion)
	}
	return m, nil
}

// getReady is get for a request that needs the model loaded: 503 while it is not.
func (r *repository) getReady(name, version string) (*servedModel, error) {
	m, err := r.get(name, version)
	if err == nil && !m.ready.Load() {
		err = unavailable("model %q is not ready: it is still loading", name)
	}
	return m, err
}

// loadOptions are what every model is loaded and served with.
type loadOptions struct {
	device     string
	batch      int // > 0: a dynamic batcher of that many rows per model
	batchDelay time.Duration
	batchQueue int // 0: the library's default
	onBatcher  func(model string, b *torchinfer.Batcher)
}

// load loads and warms every model in name order, marking each ready as it
// is done and the repository once all are. It stops at the first failure.
func (r *repository) load(ctx context.Context, o loadOptions, infer func(context.Context, *servedModel, *inferRequest) (*inferResult, error)) error {
	for _, name := range r.names {
		if err := ctx.Err(); err != nil {
			return err
		}
		sm := r.models[name]
		if err := sm.load(ctx, o, infer); err != nil {
			return fmt.Errorf("model %q (%s): %w", name, sm.path, err)
		}
		sm.ready.Store(true)
	}
	r.ready.Store(true)
	return nil
}

func (sm *servedModel) load(ctx context.Context, o loadOptions, infer func(context.Context, *servedModel, *inferRequest) (*inferResult, error)) error {
	m, err := torchinfer.Load(sm.path, torchinfer.WithDevice(o.device))
	if err != nil {
		return err
	}
	sm.model = m
	sm.platform = "pytorch_libtorch" // Triton's name for TorchScript
	if m.Format() == "aotinductor" {
		sm.platform = "pytorch_aotinductor"
	}
	if o.batch > 0 {
		b, err := torchinfer.NewBatcher(m, torchinfer.BatcherOptions{
			MaxBatch: o.batch, MaxDelay: o.batchDelay, MaxQueue: o.batchQueue,
		})
		if err != nil {
			log.Printf("model %q: serving without batching: %v", sm.name, err)
		} else {
			sm.batcher = b
			if o.onBatcher != nil {
				o.onBatcher(sm.name, b)
			}
		}
	}
	sm.inputs = declaredInputs(m, nil)

	// The warm-up request, when there is one, also tells what metadata cannot
	// know from TorchScript's declarations: input dtypes and ranks, and the
	// output leaves.
	body, err := os.ReadFile(strings.TrimSuffix(sm.path, filepath.Ext(sm.path)) + warmupSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	req, _, err := decodeRESTInfer(body, -1)
	if err != nil {
		return fmt.Errorf("warm-up request: %w", err)
	}
	var res *inferResult
	for range warmupRuns {
		if res, err = infer(ctx, sm, req); err != nil {
			return fmt.Errorf("warm-up request: %w", err)
		}
	}
	sm.inputs = declaredInputs(m, req.inputs)
	sm.outputs = nil
	for _, t := range res.outputs {
		sm.outputs = append(sm.outputs, tensorMeta{t.name, t.datatype, dynamicShape(len(t.shape))})
	}
	return nil
}

// close frees the model's batcher (failing its queued requests) and the model.
func (sm *servedModel) close() {
	sm.ready.Store(false)
	if sm.batcher != nil {
		sm.batcher.Close()
	}
	if sm.model != nil {
		sm.model.Close()
	}
}

// dynamicShape is a shape of rank dims whose every size varies: TorchScript
// declares no sizes, so -1 is all metadata can honestly say.
func dynamicShape(dims int) []int64 {
	s := make([]int64, dims)
	for i := range s {
		s[i] = -1
	}
	return s
}

// declaredInputs is the input metadata of m's forward: first the inputs of a
// sample request (names, which may be paths inside structured arguments,
// datatypes and ranks as the sample has them), then every argument the sample
// does not set, described from its declared type.
func declaredInputs(m *torchinfer.Model, sample []*wireTensor) []tensorMeta {
	var metas []tensorMeta
	for _, t := range sample {
		metas = append(metas, tensorMeta{t.name, t.datatype, dynamicShape(len(t.shape))})
	}
	types := m.InputTypes()
	for i, name := range m.Inputs() {
		covered := slices.ContainsFunc(sample, func(t *wireTensor) bool {
			return t.name == name || strings.HasPrefix(t.name, name+".")
		})
		if !covered {
			datatype, shape := declaredDatatype(types[i])
			metas = append(metas, tensorMeta{name, datatype, shape})
		}
	}
	return metas
}

// declaredDatatype describes a TorchScript argument type as the protocol's
// datatype and shape. A Tensor declares neither dtype nor rank: FP32 and [-1]
// are a guess (most models take float32); a warm-up request replaces it with
// what the model was seen to take. Structured types (lists of tensors, dicts,
// tuples) are set by path (input "pairs.0.1"): they show the same guess.
func declaredDatatype(t string) (string, []int64) {
	if inner, ok := strings.CutPrefix(t, "Optional["); ok {
		t = strings.TrimSuffix(inner, "]")
	}
	switch t {
	case "str":
		return bytesType, []int64{1}
	case "List[str]":
		return bytesType, []int64{-1}
	case "int":
		return "INT64", []int64{1}
	case "float":
		return "FP64", []int64{1}
	case "bool":
		return "BOOL", []int64{1}
	}
	return "FP32", []int64{-1}
}
