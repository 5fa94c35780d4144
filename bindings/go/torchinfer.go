// Package torchinfer runs TorchScript models in-process through libtorchinfer,
// a C library over LibTorch. There is no Python, no sidecar and no RPC: a
// model is loaded from a file or from bytes and called like a function.
//
//	m, err := torchinfer.Load("model.pt")
//	if err != nil { ... }
//	defer m.Close()
//	x, err := torchinfer.NewTensor([]float32{0.5, -1, 2, 0.1}, 1, 4)
//	if err != nil { ... }
//	defer x.Close()
//	out, err := m.Predict(x)
//	if err != nil { ... }
//	defer out.Close()
//	probs, err := out.Find("probs")
//	if err != nil { ... }
//	defer probs.Close()
//	values, err := probs.Float32s()
//
// # Memory
//
// Model, Tensor, Outputs, Inputs and Batcher hold C memory. Close each one when done: Close is
// idempotent, and a runtime cleanup frees a handle the program forgot to close
// once it is unreachable, but only as a safety net (the garbage collector does
// not see the C memory behind a handle, so it may run late or never). Close
// may even race with calls in flight on the same handle: those calls finish
// normally and the C handle is freed when the last of them returns. Go memory
// is never kept by C: NewTensor copies its data once, and copy-outs copy once
// into Go slices.
//
// # Use after Close
//
// One rule holds for every method of *Model, *Tensor, *Outputs, *Inputs and
// *Batcher (and for CopyTo, Values, CopyLeaf, LeafValues, PredictInto,
// PredictIntoContext, NewInputs and NewBatcher) when the handle is closed or
// is a nil pointer; none of them panics:
//
//   - A method that returns an error returns one matching ErrClosed (and
//     ErrInvalidArgument), before it looks at its other arguments.
//   - Close does nothing and returns nil.
//   - An accessor without an error result answers from Go memory what was
//     fixed when the handle was made (Model: Inputs, InputTypes, Methods,
//     Device, Format, Schema; Tensor: DType, Shape, NumElements, NumBytes;
//     Inputs.Method; Batcher.Method), so a closed handle still describes
//     itself; everything else (Tensor.Device, Outputs.Len, Name, Names, DType,
//     Shape), and everything on a nil pointer, is the zero value ("", 0, nil).
//     Exceptions: Tensor.String says "Tensor(closed)" or "Tensor(nil)";
//     Outputs.Kind is KindNone (as for an index out of range); Batcher.Stats
//     after Close gives the final counts.
//
// A closed tensor passed as an input is ErrClosed too; a nil *Tensor input is
// ErrInvalidArgument.
//
// # Reading results without handles
//
// CopyLeaf(out, i, dst) copies leaf i into a slice the caller owns and may
// reuse, without making a Tensor; PredictInto(m, dst, x) runs forward and
// copies leaf 0 into dst in one C call, leaving nothing to close. They are
// the cheapest ways to get results out (see the benchmark in README.md).
//
// # Concurrency
//
// A *Model may be used by any number of goroutines at once (Predict,
// PredictNamed, RunMethod, RunMethodNamed, their Context forms, RunValues,
// RunInputs and the accessors), and so may a *Batcher and an *Inputs (whose
// setters wait for its runs). The library never modifies a *Tensor or
// *Outputs after creation, so they may be read by many goroutines, and a
// tensor may be an input of concurrent predictions: a TorchScript method
// that writes to an argument in place (x.add_(1)) gets a private copy of it,
// so the caller's tensor is never changed. Options are applied at load time
// only.
//
// # Serving: deadlines and cancellation
//
// PredictContext, PredictNamedContext, RunMethodContext and
// RunMethodNamedContext take a context.Context. Its deadline becomes the
// call's timeout and its cancellation the call's cancel switch (through the
// C API's run options), so a request handler can bound the work it starts:
//
//	ctx, cancel := context.WithTimeout(r.Context(), 50*time.Millisecond)
//	defer cancel()
//	out, err := m.PredictContext(ctx, x)
//	if errors.Is(err, context.DeadlineExceeded) { ... } // also errors.Is(err, torchinfer.ErrDeadlineExceeded)
//
// A stopped call returns no outputs and an error matching ErrCancelled and
// context.Canceled, or ErrDeadlineExceeded and context.DeadlineExceeded;
// errors.Is also matches the context's cause (context.WithCancelCause). The
// model stays usable and the inputs are untouched. A context that is already
// done fails at once without calling the library; a context that can never
// be done (context.Background(), context.TODO()) takes the same path as
// Predict, at no extra cost. How soon a call stops depends on the model:
//
//   - TorchScript: at the next operator boundary, so within about one
//     operator's time; a single long operator runs to its end.
//   - AOTInductor .pt2: compiled code cannot be interrupted. The context is
//     checked before the compiled code starts; a started call runs to its end,
//     then fails as above if the context was done meanwhile (its outputs are
//     discarded).
//
// # Structured values
//
// Predict and its relatives take tensors only. Model.RunValues takes any
// argument TorchScript can declare, as Go values: lists, tuples, dicts,
// Optional, str, int, float, bool and tensors, nested to any depth. A
// torchvision detection model, forward(List[Tensor] images, ...), takes
//
//	out, err := m.RunValues(ctx, "", map[string]any{"images": []*torchinfer.Tensor{img0, img1}})
//
// and returns leaves "1.0.boxes", "1.0.labels", "1.0.scores", "1.1.boxes", ...
// (its operators come from torchvision's library: LoadOpLibrary first).
//
// Each value is walked into paths, which the library checks against the
// method's schema (Model.Schema) and builds values from, by declared type,
// never guessing from the Go value: a path's segments are joined by ".";
// the first is the argument's name (or position: "0"); then list and tuple
// indices in decimal, and dict keys: str keys as their text, int keys in
// decimal ("by_id.-1"), bool keys "True" / "False". A "." or backslash in a
// key is escaped (EscapeKey: the key "p.q" is the segment `p\.q`); Optional
// adds no segment. The Go values and what they set:
//
//	*Tensor                                 a tensor (also an int/float/bool argument, from one element)
//	string                                  a str (valid UTF-8; NUL bytes are kept)
//	int, int64, int32, ... uint32           an int (or a float, or a Scalar)
//	float64, float32                        a float
//	bool                                    a bool
//	nil                                     None (the type must be Optional)
//	[]*Tensor, []string, []any, [N]T, ...   a list or tuple: element i at path.i
//	map[string]*Tensor, map[string]any      a dict with str keys
//	map[int64]any, map[int]any, ...         a dict with int keys (or list indices)
//	map[bool]any                            a dict with bool keys
//	an empty slice or map                   an empty list or dict (of the declared types)
//
// Named types over these kinds work too. A value that does not fit is an
// error matching ErrInvalidArgument naming its path and declared type, for
// example "input 'pairs.0' (Tuple[Tensor, Tensor]): '2' is not a tuple
// index (0 to 1)" for a tuple of three given as pairs[0]. For many
// calls with the same arguments, set them once in Inputs (NewInputs,
// Inputs.Set or the typed setters) and run them with Model.RunInputs.
//
// Results use the same names: a str result is a leaf of kind KindString
// (Outputs.Kind, Outputs.Text), a None one of kind KindNone, and a dict key
// with a "." is escaped in the leaf's name.
//
// # Dynamic batching
//
// A Batcher (NewBatcher) lets many goroutines call a method with a row or a
// few each and runs them as batched calls on library threads: for services
// whose handlers each predict one row. Each request gets exactly its own
// rows back, fails only for its own faults, and honours its own context:
//
//	b, err := torchinfer.NewBatcher(m, torchinfer.BatcherOptions{MaxBatch: 32, MaxDelay: 2 * time.Millisecond})
//	...
//	out, err := b.Predict(r.Context(), x) // x: [1, features]
//
// # Operator libraries and native code
//
// A TorchScript model that calls operators from an extension library
// (torchvision::nms, torchaudio, torch-scatter) needs that library loaded
// first: LoadOpLibrary(path). An AOTInductor .pt2 package is native code
// that runs when it loads: WithAllowNativeCode(false) refuses it (for
// services that load models their users upload).
//
// # Errors
//
// Every failure reported by the library is an *Error carrying its Code and
// message; errors.Is(err, ErrNotFound) (and the other sentinels) matches by
// code. A string passed to the library (a path, device, method, input or
// output name) that holds a NUL byte is rejected with ErrInvalidArgument
// rather than cut short.
package torchinfer

/*
#include <stdlib.h>
#include "torchinfer.h"

#if !defined(TI_VERSION_MAJOR) || TI_VERSION_MAJOR != 0
#error "bindings/go is written for libtorchinfer 0.x, but torchinfer.h has another TI_VERSION_MAJOR: use the Go binding from the same source tree as the library"
#endif

static const char *gti_header_version(void) { return TI_VERSION_STRING; }
*/
import "C"

// Version is the version of the libtorchinfer library loaded at run time, e.g. "0.1.0".
func Version() string { return C.GoString(C.ti_version()) }

// HeaderVersion is the version of torchinfer.h this package was compiled against.
func HeaderVersion() string { return C.GoString(C.gti_header_version()) }

// TorchVersion is the version of the LibTorch the library was built against.
func TorchVersion() string { return C.GoString(C.ti_torch_version()) }

// SetNumThreads sets the number of intra-op threads every later prediction
// uses, process-wide (n >= 1; otherwise an error matching ErrInvalidArgument).
func SetNumThreads(n int) error {
	if n < 1 || n > int(^C.uint(0)>>1) {
		return &Error{Code: CodeInvalidArgument, Message: "SetNumThreads: n must be >= 1"}
	}
	return toError(C.ti_set_num_threads(C.int(n)))
}

// NumThreads is the intra-op thread count predictions use.
func NumThreads() int { return int(C.ti_get_num_threads()) }

// CUDADeviceCount is the number of CUDA devices LibTorch can use (0 without CUDA).
func CUDADeviceCount() int { return int(C.ti_cuda_device_count()) }

// LiveHandles is the number of C handles (models, tensors, outputs, inputs,
// batchers, load, run and batcher options, errors) alive in the process. After a piece of code closes
// everything it made, the count is back where it started: use it in leak tests.
func LiveHandles() int64 { return int64(C.ti_live_handles()) }
