//! [`Batcher`]: many callers' small requests run as one batched call, and its
//! [`BatcherOptions`].

use std::borrow::Borrow;
use std::ffi::{c_char, c_int};
use std::fmt;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::time::Duration;

use torchinfer_sys as sys;

use crate::model::{array_ptr, cstring, new_outputs, with_handles, with_named_handles};
use crate::{Code, Error, Model, NamedTensorArgs, Outputs, Result, RunOptions, Tensor, TensorArgs};

/// A dynamic batcher (`ti_batcher_t`): many threads call [`run`](Batcher::run) with a few rows
/// each (batch-1 traffic from a service's request handlers), and the library's worker threads
/// run them as one call on the concatenated rows. Dimension 0 of every input is the batch
/// dimension.
///
/// - **Results.** Each request gets what [`Model::predict`] would return for its inputs alone:
///   the same leaves with the same names, holding its own rows. Batched kernels may round
///   differently from a call with fewer rows (float reassociation, about 1e-5 relative on
///   float32).
/// - **Batches.** A worker takes the oldest queued request and adds queued requests with the
///   same input names, dtypes, devices and sizes (except dimension 0), up to
///   [`max_batch`](BatcherOptions::max_batch) rows; with a
///   [`max_delay`](BatcherOptions::max_delay) it waits up to that long from the oldest
///   request's arrival for more rows. Requests are never padded.
/// - **Isolation.** If the batched call fails, or a result leaf cannot be split by rows (a
///   scalar, another first dimension, a string), the batch's requests run again one by one, so
///   each gets its own result or its own error. After a result that cannot be split the batcher
///   stops batching (every later request runs alone) and says so once on stderr.
/// - **Per-request options.** [`run_with`](Batcher::run_with) takes [`RunOptions`]: a request
///   cancelled or past its deadline while queued leaves the queue and returns at once
///   ([`Code::Cancelled`] / [`Code::DeadlineExceeded`]); if its batch is running it returns at
///   once and its rows are dropped.
/// - **Back-pressure.** A request that finds the queue full
///   ([`max_queue`](BatcherOptions::max_queue)) fails at once with [`Code::Unavailable`].
/// - **Threads.** `Batcher: Send + Sync`: share it as `&Batcher` or `Arc<Batcher>` and call
///   `run` from any number of threads at once. `run` blocks its thread until the request's
///   outputs are ready: from async code call it on a blocking thread (`spawn_blocking`), as
///   for [`Model::predict`]. On the CPU keep [`workers`](BatcherOptions::workers) x intra-op
///   threads ([`set_num_threads`](crate::set_num_threads)) at most the number of cores.
/// - **Lifetime.** The batcher holds an `Arc` of its model, so the model outlives it (the
///   library requires that). Dropping it stops the workers: queued requests fail with
///   [`Code::Unavailable`] and running batches finish. `Drop` needs ownership, so it cannot
///   happen while a `run` on this batcher is in flight: with `Arc<Batcher>` the batcher is
///   freed when the last request holding a clone has returned.
///
/// ```
/// use std::time::Duration;
/// use torchinfer::{Batcher, Model, Tensor};
/// # fn main() -> torchinfer::Result<()> {
/// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
/// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
/// // batch_rows.pt: forward(x) -> {"y": x * 2 + 1, "rows": full([x.size(0)], x.size(0))}
/// let model = Model::load(format!("{dir}/batch_rows.pt"))?;
/// let batcher = Batcher::builder()
///     .max_batch(16)
///     .max_delay(Duration::from_millis(2))
///     .start(model)?;
/// std::thread::scope(|s| {
///     for i in 0..8 {
///         let batcher = &batcher;
///         s.spawn(move || {
///             let x = Tensor::from_slice(&[i as f32, 1.0], &[1, 2]).unwrap();
///             let out = batcher.run(&[&x]).unwrap();
///             let y = out.to_vec::<f32>(out.index_of("y").unwrap()).unwrap();
///             assert_eq!(y, [2.0 * i as f32 + 1.0, 3.0]); // its own row
///         });
///     }
/// });
/// let stats = batcher.stats();
/// assert_eq!(stats.requests, 8);
/// assert!(stats.batches <= 8);
/// # Ok(()) }
/// ```
pub struct Batcher {
    ptr: NonNull<sys::ti_batcher_t>,
    model: Arc<Model>,
}

// SAFETY: torchinfer.h: "A handle may be freed on a different thread than the one that made it."
// The model it holds is Send + Sync.
unsafe impl Send for Batcher {}
// SAFETY: torchinfer.h, ti_batcher_run: "Thread-safe: any number of threads may call it at
// once"; ti_batcher_stats: "Thread-safe". `&Batcher` reaches only those two; ti_batcher_free
// ("Must not race with ti_batcher_run") needs ownership (Drop), so no run is in flight then.
unsafe impl Sync for Batcher {}

/// Settings for a [`Batcher`]; a builder (plain data: the library's options object lives only
/// inside [`start`](BatcherOptions::start)). Obtain one with [`Batcher::builder`] or
/// [`BatcherOptions::new`].
#[derive(Clone, Debug, Default)]
pub struct BatcherOptions {
    method: Option<String>,
    max_batch: Option<usize>,
    max_delay: Option<Duration>,
    max_queue: Option<usize>,
    workers: Option<usize>,
}

/// Counters of a [`Batcher`] since it started ([`Batcher::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatcherStats {
    /// Requests answered, with outputs or an error.
    pub requests: u64,
    /// Model calls made for them, batched or single.
    pub batches: u64,
}

impl BatcherStats {
    /// Requests per model call (0 before the first call).
    pub fn mean_batch_size(&self) -> f64 {
        if self.batches == 0 {
            0.0
        } else {
            self.requests as f64 / self.batches as f64
        }
    }
}

/// Owns a ti_batcher_options_t for the duration of one start.
struct RawOptions(NonNull<sys::ti_batcher_options_t>);

impl Drop for RawOptions {
    fn drop(&mut self) {
        // SAFETY: we own the options.
        unsafe { sys::ti_batcher_options_free(self.0.as_ptr()) }
    }
}

fn too_large(what: &str, v: impl fmt::Display) -> Error {
    Error::local(Code::InvalidArgument, format!("{what} {v} is too large"))
}

impl BatcherOptions {
    /// The library's defaults: `forward`, 32 rows, no delay, 1024 queued requests, 1 worker.
    pub fn new() -> BatcherOptions {
        BatcherOptions::default()
    }

    /// The method to run (default `forward`).
    pub fn method(mut self, method: impl Into<String>) -> BatcherOptions {
        self.method = Some(method.into());
        self
    }

    /// The most rows in one batch (>= 1; default 32). A request with more rows runs alone.
    pub fn max_batch(mut self, rows: usize) -> BatcherOptions {
        self.max_batch = Some(rows);
        self
    }

    /// How long a worker waits, from the oldest queued request's arrival, for more rows before
    /// it runs a batch that is not full (at most 10 s, rounded up to whole microseconds;
    /// default zero: it takes what queued while the previous batch ran).
    pub fn max_delay(mut self, delay: Duration) -> BatcherOptions {
        self.max_delay = Some(delay);
        self
    }

    /// The most queued requests (>= 1; default 1024); one more fails at once with
    /// [`Code::Unavailable`].
    pub fn max_queue(mut self, requests: usize) -> BatcherOptions {
        self.max_queue = Some(requests);
        self
    }

    /// The number of worker threads running batches at once (1 to 256; default 1).
    pub fn workers(mut self, n: usize) -> BatcherOptions {
        self.workers = Some(n);
        self
    }

    /// Starts a batcher for `model` (a `Model`, which it then owns, or an `Arc<Model>` shared
    /// with direct callers) with these options.
    ///
    /// Errors: [`Code::InvalidArgument`] (an option out of range; a method without tensor
    /// arguments; a `.pt2` input whose batch dimension is static, named in the message),
    /// [`Code::NotFound`] (no such method).
    pub fn start(&self, model: impl Into<Arc<Model>>) -> Result<Batcher> {
        let model = model.into();
        let method = self
            .method
            .as_deref()
            .map(|m| cstring(m, "method name"))
            .transpose()?;
        let raw = self.raw()?;
        let mut out = ptr::null_mut();
        // SAFETY: live model; NULL or a valid C string; options NULL or ours; out pointer. The
        // batcher keeps an Arc of the model, so the model outlives it.
        Error::check(unsafe {
            sys::ti_batcher_create(
                model.as_raw(),
                method.as_deref().map_or(ptr::null(), |m| m.as_ptr()),
                raw.as_ref().map_or(ptr::null(), |r| r.0.as_ptr()),
                &mut out,
            )
        })?;
        Ok(Batcher {
            ptr: NonNull::new(out).expect("ti_batcher_create: NULL without an error"),
            model,
        })
    }

    /// The library's options object, or `None` for all defaults.
    fn raw(&self) -> Result<Option<RawOptions>> {
        let BatcherOptions {
            method: _,
            max_batch,
            max_delay,
            max_queue,
            workers,
        } = self;
        if max_batch.is_none() && max_delay.is_none() && max_queue.is_none() && workers.is_none() {
            return Ok(None);
        }
        // SAFETY: plain constructor.
        let raw = NonNull::new(unsafe { sys::ti_batcher_options_create() })
            .map(RawOptions)
            .ok_or_else(|| Error::local(Code::OutOfMemory, "ti_batcher_options_create failed"))?;
        let o = raw.0.as_ptr();
        // SAFETY (every call below): `o` is ours and not shared with any other thread.
        if let Some(rows) = *max_batch {
            let rows = i64::try_from(rows).map_err(|_| too_large("max_batch", rows))?;
            Error::check(unsafe { sys::ti_batcher_options_set_max_batch(o, rows) })?;
        }
        if let Some(delay) = *max_delay {
            let us = delay.as_micros() + u128::from(delay.subsec_nanos() % 1000 != 0);
            // Out of range is the library's to report (it names the limit).
            let us = i64::try_from(us).unwrap_or(i64::MAX);
            Error::check(unsafe { sys::ti_batcher_options_set_max_delay_us(o, us) })?;
        }
        if let Some(n) = *max_queue {
            let n = i64::try_from(n).map_err(|_| too_large("max_queue", n))?;
            Error::check(unsafe { sys::ti_batcher_options_set_max_queue(o, n) })?;
        }
        if let Some(n) = *workers {
            let n = c_int::try_from(n).map_err(|_| too_large("workers", n))?;
            Error::check(unsafe { sys::ti_batcher_options_set_workers(o, n) })?;
        }
        Ok(Some(raw))
    }
}

impl Batcher {
    /// Starts a batcher for `forward` of `model` (a `Model` or an `Arc<Model>`) with `options`
    /// (see [`BatcherOptions::start`]).
    pub fn new(model: impl Into<Arc<Model>>, options: &BatcherOptions) -> Result<Batcher> {
        options.start(model)
    }

    /// Options for starting a batcher: `Batcher::builder().max_batch(8).start(model)`.
    pub fn builder() -> BatcherOptions {
        BatcherOptions::new()
    }

    /// The model this batcher runs (for direct calls next to the batched ones).
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    /// The raw handle, still owned by `self`.
    pub fn as_raw(&self) -> *mut sys::ti_batcher_t {
        self.ptr.as_ptr()
    }

    /// Queues one request with positional inputs (dimension 0 of each is its rows, >= 1) and
    /// blocks until its outputs are ready. Inputs as for [`Model::predict`] ([`TensorArgs`]).
    ///
    /// Errors: as [`Model::predict`], plus [`Code::InvalidArgument`] (an input without a batch
    /// dimension, inputs with different row counts) and [`Code::Unavailable`] (the queue is
    /// full).
    pub fn run<I: Borrow<Tensor>>(
        &self,
        inputs: &(impl TensorArgs<I> + ?Sized),
    ) -> Result<Outputs> {
        with_handles(inputs.as_tensor_slice(), |handles| {
            self.run_raw(None, handles, ptr::null())
        })
    }

    /// [`run`](Batcher::run) with inputs by argument name, as [`Model::predict_named`]
    /// ([`NamedTensorArgs`]). Requests join a batch only with requests of the same names.
    pub fn run_named<S: AsRef<str>, I: Borrow<Tensor>>(
        &self,
        inputs: &(impl NamedTensorArgs<S, I> + ?Sized),
    ) -> Result<Outputs> {
        with_named_handles(inputs.as_named_slice(), |names, handles| {
            self.run_raw(Some(names), handles, ptr::null())
        })
    }

    /// [`run`](Batcher::run) with [`RunOptions`] for this request: a timeout and a cancel
    /// switch, honoured while it is queued and while its batch runs.
    ///
    /// Errors: as [`run`](Batcher::run), plus [`Code::Cancelled`] and
    /// [`Code::DeadlineExceeded`].
    pub fn run_with<I: Borrow<Tensor>>(
        &self,
        inputs: &(impl TensorArgs<I> + ?Sized),
        options: &RunOptions,
    ) -> Result<Outputs> {
        with_handles(inputs.as_tensor_slice(), |handles| {
            self.run_raw(None, handles, options.as_raw())
        })
    }

    /// [`run_named`](Batcher::run_named) with [`RunOptions`].
    pub fn run_named_with<S: AsRef<str>, I: Borrow<Tensor>>(
        &self,
        inputs: &(impl NamedTensorArgs<S, I> + ?Sized),
        options: &RunOptions,
    ) -> Result<Outputs> {
        with_named_handles(inputs.as_named_slice(), |names, handles| {
            self.run_raw(Some(names), handles, options.as_raw())
        })
    }

    fn run_raw(
        &self,
        names: Option<&[*const c_char]>,
        handles: &[*const sys::ti_tensor_t],
        options: *const sys::ti_run_options_t,
    ) -> Result<Outputs> {
        new_outputs(|out| {
            // SAFETY: live batcher (`&self`: Drop cannot run meanwhile; concurrent runs are
            // allowed); `names` NULL or one valid C string per handle; live tensors; options
            // NULL or live; all borrowed for the duration of the call.
            unsafe {
                sys::ti_batcher_run(
                    self.as_raw(),
                    names.map_or(ptr::null(), array_ptr),
                    array_ptr(handles),
                    handles.len(),
                    options,
                    out,
                )
            }
        })
    }

    /// Requests answered and model calls made since the batcher started.
    pub fn stats(&self) -> BatcherStats {
        let (mut requests, mut batches) = (0i64, 0i64);
        // SAFETY: live batcher; thread-safe; out pointers.
        unsafe { sys::ti_batcher_stats(self.as_raw(), &mut requests, &mut batches) };
        BatcherStats {
            requests: u64::try_from(requests).unwrap_or(0),
            batches: u64::try_from(batches).unwrap_or(0),
        }
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        // SAFETY: we own the batcher and `&mut self` means no run is in flight through it.
        // The model (an Arc field) is dropped after this, so it outlives the batcher.
        unsafe { sys::ti_batcher_free(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for Batcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batcher")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}
