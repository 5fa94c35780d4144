package torchinfer

import "sync/atomic"

// refClosed is the bit of ref.state set by close; the bits below it count
// the calls in flight on the handle.
const refClosed = int64(1) << 62

// ref makes Close safe to race with use. Every call into C on a handle runs
// between acquire and release; close marks the handle closed, and whichever
// of close or the last release sees "closed with nothing in flight" frees
// the C handle, exactly once.
type ref struct{ state atomic.Int64 }

// acquire registers a call in flight; it fails once the handle is closed.
func (r *ref) acquire() bool {
	for {
		s := r.state.Load()
		if s&refClosed != 0 {
			return false
		}
		if r.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// release ends a call; true means the handle was closed meanwhile and the
// caller, the last one out, must free it.
func (r *ref) release() bool { return r.state.Add(-1) == refClosed }

// close marks the handle closed. first is true for the first close only;
// freeNow is true when no call is in flight, so the caller must free it.
func (r *ref) close() (first, freeNow bool) {
	for {
		s := r.state.Load()
		if s&refClosed != 0 {
			return false, false
		}
		if r.state.CompareAndSwap(s, s|refClosed) {
			return true, s == 0
		}
	}
}

// isClosed reports whether close has been called.
func (r *ref) isClosed() bool { return r.state.Load()&refClosed != 0 }
