package torchinfer

/*
#include "torchinfer.h"

// The Code constants below are written out so that documentation shows their values.
_Static_assert(TI_OK == 0 && TI_ERR_INVALID_ARGUMENT == 1 && TI_ERR_NOT_FOUND == 2 &&
               TI_ERR_MODEL_FORMAT == 3 && TI_ERR_RUNTIME == 4 && TI_ERR_OUT_OF_MEMORY == 5 &&
               TI_ERR_DEVICE == 6 && TI_ERR_UNSUPPORTED == 7 && TI_ERR_INTERNAL == 8 &&
               TI_ERR_CANCELLED == 9 && TI_ERR_DEADLINE_EXCEEDED == 10 && TI_ERR_UNAVAILABLE == 11,
               "ti_code_t values changed: update errors.go");
*/
import "C"

import (
	"context"
	"strconv"
)

// Code is a libtorchinfer error code (ti_code_t).
type Code int

// The error codes of torchinfer.h. New codes may be added at the end.
const (
	CodeOK               Code = 0  // TI_OK: never carried by an error
	CodeInvalidArgument  Code = 1  // TI_ERR_INVALID_ARGUMENT: bad counts, names, sizes, shapes; use after Close
	CodeNotFound         Code = 2  // TI_ERR_NOT_FOUND: missing file, method or output name
	CodeModelFormat      Code = 3  // TI_ERR_MODEL_FORMAT: not a model this LibTorch can load (TorchScript or .pt2)
	CodeRuntime          Code = 4  // TI_ERR_RUNTIME: raised while the model ran; the model stays usable
	CodeOutOfMemory      Code = 5  // TI_ERR_OUT_OF_MEMORY: an allocation failed; the model stays usable
	CodeDevice           Code = 6  // TI_ERR_DEVICE: the requested device is not present
	CodeUnsupported      Code = 7  // TI_ERR_UNSUPPORTED: a value the C API cannot represent (e.g. an object result)
	CodeInternal         Code = 8  // TI_ERR_INTERNAL: a bug in libtorchinfer
	CodeCancelled        Code = 9  // TI_ERR_CANCELLED: the call's context was cancelled; the model stays usable
	CodeDeadlineExceeded Code = 10 // TI_ERR_DEADLINE_EXCEEDED: the call ran past its context's deadline; the model stays usable
	CodeUnavailable      Code = 11 // TI_ERR_UNAVAILABLE: a Batcher's queue is full, or the Batcher was closed; retry later
)

// String is the code's C name, e.g. "TI_ERR_NOT_FOUND" ("TI_ERR_UNKNOWN(n)" out of range).
func (c Code) String() string {
	if c < 0 || c > 1<<20 {
		return "TI_ERR_UNKNOWN(" + strconv.Itoa(int(c)) + ")"
	}
	s := C.GoString(C.ti_code_name(C.ti_code_t(c)))
	if s == "TI_ERR_UNKNOWN" {
		s += "(" + strconv.Itoa(int(c)) + ")"
	}
	return s
}

// Error is a failure reported by libtorchinfer (or by this package, for
// arguments it checks itself and for use after Close).
type Error struct {
	Code    Code
	Message string

	closed bool  // use after Close: matches ErrClosed
	cause  error // for a call its context stopped: context.Cause(ctx), returned by Unwrap
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "torchinfer: " + e.Code.String()
	}
	return "torchinfer: " + e.Code.String() + ": " + e.Message
}

// Is makes errors.Is(err, ErrNotFound) true for every *Error with code
// CodeNotFound, and likewise for the other sentinels. ErrClosed matches only
// use-after-Close errors (which also match ErrInvalidArgument). An error with
// code CodeCancelled also matches context.Canceled, and one with code
// CodeDeadlineExceeded matches context.DeadlineExceeded, so code written for
// context-aware APIs needs no torchinfer-specific check.
func (e *Error) Is(target error) bool {
	switch target {
	case context.Canceled:
		return e.Code == CodeCancelled
	case context.DeadlineExceeded:
		return e.Code == CodeDeadlineExceeded
	}
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t == ErrClosed {
		return e.closed
	}
	return t.Message == "" && !t.closed && t.Code == e.Code
}

// Unwrap returns, for an error of a call that its context stopped, the
// context's cause (context.Cause: ctx.Err(), or the error given to the
// context's CancelCauseFunc), so errors.Is(err, cause) holds; nil otherwise.
func (e *Error) Unwrap() error { return e.cause }

// Sentinels for errors.Is, one per code.
var (
	ErrInvalidArgument = &Error{Code: CodeInvalidArgument}
	ErrNotFound        = &Error{Code: CodeNotFound}
	ErrModelFormat     = &Error{Code: CodeModelFormat}
	ErrRuntime         = &Error{Code: CodeRuntime}
	ErrOutOfMemory     = &Error{Code: CodeOutOfMemory}
	ErrDevice          = &Error{Code: CodeDevice}
	ErrUnsupported     = &Error{Code: CodeUnsupported}
	ErrInternal        = &Error{Code: CodeInternal}

	// ErrCancelled matches errors of calls stopped because their context was
	// cancelled (they also match context.Canceled).
	ErrCancelled = &Error{Code: CodeCancelled}
	// ErrDeadlineExceeded matches errors of calls stopped because their
	// context's deadline passed (they also match context.DeadlineExceeded).
	ErrDeadlineExceeded = &Error{Code: CodeDeadlineExceeded}
	// ErrUnavailable matches requests a Batcher refused because its queue
	// was full, and requests it failed because it was closed while they were
	// queued or running.
	ErrUnavailable = &Error{Code: CodeUnavailable}

	// ErrClosed matches errors returned by a Model, Tensor, Outputs, Inputs
	// or Batcher used after Close. Such errors have code CodeInvalidArgument.
	ErrClosed = &Error{Code: CodeInvalidArgument, Message: "use of a closed handle", closed: true}
)

// toError copies the code and message out of a C error and frees it at once.
// It returns nil (an untyped nil error) for a NULL error.
func toError(e *C.ti_error_t) error {
	if e == nil {
		return nil
	}
	err := &Error{Code: Code(C.ti_error_code(e)), Message: C.GoString(C.ti_error_message(e))}
	C.ti_error_free(e)
	return err
}

func closedError(what string) error {
	return &Error{Code: CodeInvalidArgument, Message: what + " is closed", closed: true}
}

func argError(msg string) error {
	return &Error{Code: CodeInvalidArgument, Message: msg}
}
