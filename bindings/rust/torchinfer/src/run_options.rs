//! [`RunOptions`] (a timeout and a cancel switch for one or more calls) and [`CancelHandle`].

use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use torchinfer_sys as sys;

/// The longest timeout passed to the library, 2^52 µs (about 142 years): far enough from
/// `i64::MAX` that a deadline computed in nanoseconds from "now" cannot overflow.
const MAX_TIMEOUT_US: u128 = 1 << 52;

/// Per-call settings for [`Model::run_with`](crate::Model::run_with) and
/// [`Model::run_named_with`](crate::Model::run_named_with): a timeout and a cancel switch.
///
/// - **Timeout** ([`with_timeout`](RunOptions::with_timeout),
///   [`set_timeout`](RunOptions::set_timeout)): a call that runs longer than this from its own
///   start fails with [`Code::DeadlineExceeded`](crate::Code::DeadlineExceeded).
/// - **Cancellation** ([`cancel`](RunOptions::cancel), or a [`CancelHandle`] from
///   [`cancel_handle`](RunOptions::cancel_handle) that works from any thread): every running
///   call using these options stops and fails with [`Code::Cancelled`](crate::Code::Cancelled),
///   and so does every later call. Cancellation is sticky: make new options for each request.
///
/// Where a call stops: a TorchScript model at its next operator boundary (so within about one
/// operator's time; a single huge operator runs to its end); an AOTInductor `.pt2` package only
/// before its compiled code starts (a started `.pt2` call runs to its end, then fails with the
/// code if it was cancelled or ran past its deadline meanwhile). A stopped call returns no
/// outputs and leaves the model usable and the inputs untouched.
///
/// One `RunOptions` may be used by any number of concurrent calls (`RunOptions: Send + Sync`).
/// The library object is freed when the `RunOptions` and every [`CancelHandle`] taken from it
/// are dropped; a call borrows its options, so none can still be running then.
///
/// ```
/// use std::time::Duration;
/// use torchinfer::{Code, Model, RunOptions, Tensor};
/// # fn main() -> torchinfer::Result<()> {
/// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
/// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
/// let model = Model::load(format!("{dir}/mlp.pt"))?; // x [N, 16] -> [N, 4]
/// let x = Tensor::from_slice(&[0.5f32; 16], &[1, 16])?;
///
/// let opts = RunOptions::new().with_timeout(Duration::from_secs(5));
/// let y = model.run_with(None, &[&x], &opts)?; // forward, done well within 5 s
/// assert_eq!(y.get(0)?.shape(), &[1, 4]);
///
/// let cancel = opts.cancel_handle(); // Clone + Send + Sync: give it to another thread
/// std::thread::spawn(move || cancel.cancel()).join().unwrap();
/// let err = model.run_with(None, &[&x], &opts).unwrap_err();
/// assert_eq!(err.code(), Code::Cancelled); // sticky: new options for the next request
/// assert!(model.run_with(None, &[&x], &RunOptions::new()).is_ok());
/// # Ok(()) }
/// ```
pub struct RunOptions {
    shared: Arc<Shared>,
    timeout: Option<Duration>,
}

/// Cancels the calls of one [`RunOptions`] from anywhere: another thread, a `Drop` guard of an
/// async task, a signal handler's thread. `Clone + Send + Sync`; it keeps the library object
/// alive, so it may outlive the `RunOptions` it came from (cancelling then affects no call).
///
/// ```
/// use torchinfer::RunOptions;
/// let opts = RunOptions::new();
/// let handle = opts.cancel_handle();
/// assert!(!opts.is_cancelled());
/// std::thread::spawn(move || handle.cancel()).join().unwrap();
/// assert!(opts.is_cancelled());
/// ```
#[derive(Clone)]
pub struct CancelHandle {
    shared: Arc<Shared>,
}

/// The library object, owned jointly by a RunOptions and its cancel handles.
struct Shared {
    ptr: NonNull<sys::ti_run_options_t>,
    /// Mirrors the library's switch, which has no getter.
    cancelled: AtomicBool,
}

// SAFETY: torchinfer.h: "A handle may be freed on a different thread than the one that made
// it." The only function reached through `&Shared` from several threads is
// ti_run_options_cancel: "Thread-safe and async-signal-safe (one atomic store); may be called
// at any time, from any thread, any number of times." The library reads the object during
// ti_model_run: "One object may be shared by any number of concurrent calls".
// ti_run_options_set_timeout_us, which is not documented as synchronized, is reached only
// through `&mut RunOptions`, which no call (they borrow `&RunOptions`) can overlap.
unsafe impl Send for Shared {}
// SAFETY: see Send.
unsafe impl Sync for Shared {}

impl Drop for Shared {
    fn drop(&mut self) {
        // SAFETY: the last owner is going away. Every call borrows a `&RunOptions`, which holds
        // an `Arc<Shared>`, for its whole duration, so no call is running ("No call using `o`
        // may still be running").
        unsafe { sys::ti_run_options_free(self.ptr.as_ptr()) }
    }
}

impl Shared {
    fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        // SAFETY: live object; cancel is thread-safe.
        unsafe { sys::ti_run_options_cancel(self.ptr.as_ptr()) }
    }
}

impl RunOptions {
    /// New options: no timeout, not cancelled.
    ///
    /// # Panics
    /// If the library cannot allocate the object (out of memory), as `Box::new` would.
    pub fn new() -> RunOptions {
        // SAFETY: plain constructor; NULL only if out of memory.
        let ptr = NonNull::new(unsafe { sys::ti_run_options_create() })
            .expect("ti_run_options_create: out of memory");
        RunOptions {
            shared: Arc::new(Shared {
                ptr,
                cancelled: AtomicBool::new(false),
            }),
            timeout: None,
        }
    }

    /// Sets the timeout (see [`set_timeout`](RunOptions::set_timeout)); a builder.
    pub fn with_timeout(mut self, timeout: Duration) -> RunOptions {
        self.set_timeout(Some(timeout));
        self
    }

    /// Fails every call started after this that runs longer than `timeout` from its own start
    /// with [`Code::DeadlineExceeded`](crate::Code::DeadlineExceeded); `None` removes the
    /// timeout (the default).
    ///
    /// The library counts whole microseconds: a timeout is rounded up to the next microsecond,
    /// so `Duration::ZERO` (like anything under 1 µs) becomes 1 µs and fails every call that
    /// does any work. A timeout longer than 2^52 µs (about 142 years) is capped there.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        let us = match timeout {
            None => 0, // the library's "no timeout"
            Some(d) => {
                let us = d.as_micros() + u128::from(d.subsec_nanos() % 1000 != 0);
                i64::try_from(us.clamp(1, MAX_TIMEOUT_US)).unwrap_or(i64::MAX)
            }
        };
        // SAFETY: live object, and `&mut self` means no call is using it now (calls borrow
        // `&RunOptions`); a concurrent ti_run_options_cancel is allowed "at any time".
        let err = unsafe { sys::ti_run_options_set_timeout_us(self.raw_mut(), us) };
        // The only documented errors are a NULL object and a negative value, neither possible
        // here.
        if let Err(e) = crate::Error::check(err) {
            panic!("ti_run_options_set_timeout_us({us}): {e}");
        }
        self.timeout = timeout;
    }

    /// The timeout last set, `None` when there is none.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Cancels: every running call using these options stops at its next check and fails with
    /// [`Code::Cancelled`](crate::Code::Cancelled), and so does every later call (sticky).
    pub fn cancel(&self) {
        self.shared.cancel()
    }

    /// Whether [`cancel`](RunOptions::cancel) has been called, here or through a
    /// [`CancelHandle`].
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// A handle that cancels these options from any thread; it keeps the library object alive
    /// for as long as it lives.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The raw handle, still owned by `self` (and its cancel handles).
    pub fn as_raw(&self) -> *const sys::ti_run_options_t {
        self.shared.ptr.as_ptr()
    }

    fn raw_mut(&mut self) -> *mut sys::ti_run_options_t {
        self.shared.ptr.as_ptr()
    }
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions::new()
    }
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("timeout", &self.timeout)
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl CancelHandle {
    /// Cancels the [`RunOptions`] this handle came from (see [`RunOptions::cancel`]).
    /// Cheap (two atomic stores), never blocks, may be called any number of times.
    pub fn cancel(&self) {
        self.shared.cancel()
    }

    /// Whether the options have been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
