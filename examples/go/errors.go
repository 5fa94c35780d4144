package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
	"google.golang.org/grpc/codes"
)

// apiError is an error as the protocol answers it: an HTTP status for REST,
// a status code for gRPC, and the message ({"error": msg} in REST).
type apiError struct {
	status int
	code   codes.Code
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, codes.InvalidArgument, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{http.StatusNotFound, codes.NotFound, fmt.Sprintf(format, args...)}
}

func unavailable(format string, args ...any) error {
	return &apiError{http.StatusServiceUnavailable, codes.Unavailable, fmt.Sprintf(format, args...)}
}

// statusClientClosedRequest is nginx's status for a request whose client went
// away before the answer: nobody reads it, but it shows in access logs.
const statusClientClosedRequest = 499

// toAPIError maps an error to the protocol's answer. The library's codes:
// what the request got wrong (invalid argument, an error the model raised on
// its inputs, an unknown output) is 400 / INVALID_ARGUMENT; a full batcher
// queue 503 / UNAVAILABLE; out of memory 503 / RESOURCE_EXHAUSTED; a call
// past its deadline 504 / DEADLINE_EXCEEDED; a client gone 499 / CANCELLED;
// a result the library cannot represent 500 / UNIMPLEMENTED; the rest 500 /
// INTERNAL.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	msg := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded): // also torchinfer.ErrDeadlineExceeded
		return &apiError{http.StatusGatewayTimeout, codes.DeadlineExceeded, msg}
	case errors.Is(err, context.Canceled): // also torchinfer.ErrCancelled
		return &apiError{statusClientClosedRequest, codes.Canceled, msg}
	case errors.Is(err, torchinfer.ErrInvalidArgument), errors.Is(err, torchinfer.ErrRuntime),
		errors.Is(err, torchinfer.ErrNotFound):
		return &apiError{http.StatusBadRequest, codes.InvalidArgument, msg}
	case errors.Is(err, torchinfer.ErrUnavailable):
		return &apiError{http.StatusServiceUnavailable, codes.Unavailable, msg}
	case errors.Is(err, torchinfer.ErrOutOfMemory):
		return &apiError{http.StatusServiceUnavailable, codes.ResourceExhausted, msg}
	case errors.Is(err, torchinfer.ErrUnsupported):
		return &apiError{http.StatusInternalServerError, codes.Unimplemented, msg}
	}
	return &apiError{http.StatusInternalServerError, codes.Internal, msg}
}

// outcome is the metrics label of a request's result.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	switch toAPIError(err).code {
	case codes.InvalidArgument:
		return "invalid"
	case codes.NotFound:
		return "not_found"
	case codes.Unavailable, codes.ResourceExhausted:
		return "unavailable"
	case codes.DeadlineExceeded:
		return "deadline_exceeded"
	case codes.Canceled:
		return "cancelled"
	}
	return "error"
}
