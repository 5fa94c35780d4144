//! Run TorchScript models from Rust through libtorchinfer's C ABI.
//!
//! Safe wrappers: errors are [`Result`]s carrying an [`Error`] with a [`Code`]; every handle
//! ([`Model`], [`Tensor`], [`Outputs`], [`Inputs`], [`Batcher`], [`Error`]) is freed by `Drop`; a [`Model`] is
//! `Send + Sync` and may run predictions from many threads at once; tensors are never modified
//! by the library after creation (except by a model that modifies its argument in place) and
//! are `Send + Sync`.
//!
//! ```
//! use torchinfer::{Model, Tensor};
//!
//! fn main() -> Result<(), torchinfer::Error> {
//! #   let dir = std::env::var("TORCHINFER_TEST_MODELS")
//! #       .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
//! #   let path = format!("{dir}/demo.pt");
//!     // demo.pt: forward(features [1, 4]) -> {"logits": [1, 3], "probs": [1, 3]}
//!     let model = Model::load(&path)?;
//!     let features = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.1], &[1, 4])?;
//!     let outputs = model.predict(&[&features])?;
//!     let probs = outputs.get_by_name("probs")?.to_vec::<f32>()?;
//!     assert_eq!(probs.len(), 3);
//!     assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
//!     Ok(())
//! }
//! ```
//!
//! The library (`libtorchinfer.so`) must be findable at run time: see the README for
//! `LD_LIBRARY_PATH` or embedding an rpath.
//!
//! # Timeouts and cancellation
//!
//! [`Model::run_with`] and [`Model::run_named_with`] take [`RunOptions`]: a timeout
//! ([`Code::DeadlineExceeded`]) and a cancel switch ([`Code::Cancelled`]) that a
//! [`CancelHandle`] flips from any thread. A TorchScript call stops at its next operator; an
//! AOTInductor `.pt2` call only checks before it starts. The model stays usable either way.
//!
//! # Async code
//!
//! Every prediction is a blocking call: it occupies its thread until the model is done, for
//! microseconds or for seconds. Calling it directly inside an `async fn` stalls the executor
//! thread and every task scheduled on it. In async code:
//!
//! - run the call on a blocking thread (`tokio::task::spawn_blocking`, a `rayon` pool, a
//!   dedicated thread), sharing the model as `Arc<Model>` (it is `Send + Sync`);
//! - bound the number of concurrent calls (e.g. a semaphore): the blocking pool is large, and
//!   the model's intra-op threads ([`set_num_threads`]) already use the cores;
//! - give each request its own [`RunOptions`] and cancel them when the request's future is
//!   dropped (a client went away, a `select!` or `timeout` lost): a guard whose `Drop` calls
//!   [`CancelHandle::cancel`]. Dropping the future alone does not stop the blocking call, which
//!   would keep running, holding a thread and the cores, for a result nobody reads.
//!
//! With tokio (which this crate does not depend on), the pattern is:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Duration, Instant};
//! use torchinfer::{CancelHandle, Model, Outputs, RunOptions, Tensor};
//!
//! /// Cancels a request's run options when dropped, unless disarmed.
//! struct CancelOnDrop(Option<CancelHandle>);
//!
//! impl Drop for CancelOnDrop {
//!     fn drop(&mut self) {
//!         if let Some(handle) = self.0.take() {
//!             handle.cancel();
//!         }
//!     }
//! }
//!
//! async fn predict(
//!     model: Arc<Model>,
//!     inputs: Vec<Tensor>,
//!     opts: RunOptions,
//! ) -> torchinfer::Result<Outputs> {
//!     let mut guard = CancelOnDrop(Some(opts.cancel_handle()));
//!     let joined = tokio::task::spawn_blocking(move || model.run_with(None, &inputs, &opts)).await;
//!     guard.0 = None; // the call is over: nothing to cancel
//!     joined.expect("the prediction panicked")
//! }
//!
//! # fn main() -> torchinfer::Result<()> {
//! # let dir = std::env::var("TORCHINFER_TEST_MODELS")
//! #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
//! // slow.pt: forward(x, n) runs n rounds of x = tanh(x @ x)
//! let model = Arc::new(Model::load(format!("{dir}/slow.pt"))?);
//! let request = |n: i64| -> torchinfer::Result<Vec<Tensor>> {
//!     Ok(vec![Tensor::from_slice(&[0.01f32; 32 * 32], &[32, 32])?, Tensor::scalar(n)?])
//! };
//! let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! rt.block_on(async {
//!     let opts = RunOptions::new().with_timeout(Duration::from_secs(30));
//!     let out = predict(Arc::clone(&model), request(3)?, opts).await?;
//!     assert_eq!(out.get(0)?.shape(), &[32, 32]);
//!
//!     // A request given up after 50 ms (a client went away): dropping its future cancels it.
//!     let slow = predict(Arc::clone(&model), request(10_000_000)?, RunOptions::new());
//!     assert!(tokio::time::timeout(Duration::from_millis(50), slow).await.is_err());
//!     torchinfer::Result::Ok(())
//! })?;
//! // The blocking call stopped at its next operator and dropped its clone of the model.
//! let start = Instant::now();
//! while Arc::strong_count(&model) > 1 {
//!     assert!(start.elapsed() < Duration::from_secs(10), "the abandoned call still runs");
//!     std::thread::sleep(Duration::from_millis(5));
//! }
//! # Ok(()) }
//! ```
//!
//! The `torchinfer-serve` example (`examples/rust/src/bin/torchinfer-serve.rs` in the
//! repository) adds a semaphore that bounds the concurrent runs and a timeout per request.
#![warn(missing_docs)]

mod args;
mod batcher;
mod dtype;
mod error;
mod inputs;
mod model;
#[cfg(feature = "ndarray")]
mod ndarray_impl;
mod outputs;
mod run_options;
mod tensor;
mod value;

use std::ffi::{c_char, CStr};

pub use args::{NamedTensorArgs, TensorArgs};
pub use batcher::{Batcher, BatcherOptions, BatcherStats};
pub use dtype::{DType, Element};
pub use error::{Code, Error, Result};
pub use inputs::Inputs;
pub use model::{LoadOptions, Model};
/// The `ndarray` crate this crate's conversions are written against (feature `ndarray`).
///
/// Name array types through this re-export (`torchinfer::ndarray::ArrayD`) rather than a
/// separate `ndarray` dependency of your own: two semver-incompatible versions of `ndarray` in
/// one build have distinct types, and passing one where the other is expected fails with
/// `error[E0308]: mismatched types`. A dependency of your own also works when Cargo can
/// unify it with this one (this crate accepts `ndarray` 0.16 and 0.17).
#[cfg(feature = "ndarray")]
pub use ndarray;
pub use outputs::{Iter, Kind, Outputs};
pub use run_options::{CancelHandle, RunOptions};
pub use tensor::Tensor;
/// The raw bindings, for what the safe API does not cover.
pub use torchinfer_sys as sys;
pub use value::{escape_path_segment, Key, Value};

/// Reads a NUL-terminated string the library keeps for as long as `'a`.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn view_str<'a>(p: *const c_char) -> &'a str {
    if p.is_null() {
        return "";
    }
    // SAFETY: the caller vouches for `p`.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    // The library's strings are UTF-8 (TorchScript names and messages); should one not be,
    // keep its longest valid prefix rather than fail an accessor.
    match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    }
}

/// Reads a string with static storage.
///
/// # Safety
/// `p` is NULL or points to a static NUL-terminated string.
pub(crate) unsafe fn static_str(p: *const c_char) -> &'static str {
    // SAFETY: forwarded.
    unsafe { view_str(p) }
}

/// The library's version at run time, e.g. `"0.1.0"`.
///
/// ```
/// assert_eq!(torchinfer::version(), torchinfer::header_version());
/// ```
pub fn version() -> &'static str {
    // SAFETY: static storage.
    unsafe { static_str(sys::ti_version()) }
}

/// The version of the header these bindings were generated from (`TI_VERSION_STRING`).
pub fn header_version() -> &'static str {
    let bytes: &'static [u8] = sys::TI_VERSION_STRING;
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    std::str::from_utf8(bytes).unwrap_or("")
}

/// The version of LibTorch the library was built against, e.g. `"1.13.0"`.
pub fn torch_version() -> &'static str {
    // SAFETY: static storage.
    unsafe { static_str(sys::ti_torch_version()) }
}

/// Sets the number of intra-op threads for every later prediction, process-wide (`n >= 1`).
///
/// ```
/// torchinfer::set_num_threads(1).unwrap();
/// assert_eq!(torchinfer::num_threads(), 1);
/// let err = torchinfer::set_num_threads(0).unwrap_err();
/// assert_eq!(err.code(), torchinfer::Code::InvalidArgument);
/// ```
pub fn set_num_threads(n: usize) -> Result<()> {
    let n = std::ffi::c_int::try_from(n).map_err(|_| {
        Error::local(
            Code::InvalidArgument,
            format!("thread count {n} is too large"),
        )
    })?;
    // SAFETY: plain call; errors are returned values.
    Error::check(unsafe { sys::ti_set_num_threads(n) })
}

/// The intra-op thread count predictions use.
pub fn num_threads() -> usize {
    // SAFETY: plain call.
    usize::try_from(unsafe { sys::ti_get_num_threads() }).unwrap_or(0)
}

/// The number of CUDA devices LibTorch can use (0 on a CPU-only build or machine).
pub fn cuda_device_count() -> usize {
    // SAFETY: plain call.
    usize::try_from(unsafe { sys::ti_cuda_device_count() }).unwrap_or(0)
}

/// Loads a shared library that registers TorchScript operators (torchvision's `_C` extension,
/// torchaudio, torch-scatter, your own), as `torch.ops.load_library` does in Python. Load it
/// before the models that use its operators; it stays loaded for the life of the process, and
/// loading the same file again does nothing. Thread-safe. The library must be built against the
/// same LibTorch as libtorchinfer. A model whose operators are not registered fails to load
/// with [`Code::ModelFormat`] naming the operator.
///
/// ```
/// use torchinfer::Code;
/// let err = torchinfer::load_op_library("/no/such/libops.so").unwrap_err();
/// assert_eq!(err.code(), Code::NotFound);
/// ```
///
/// Errors: [`Code::NotFound`] (no such file), [`Code::Runtime`] (the loader refused it; the
/// message is the loader's), [`Code::InvalidArgument`] (a NUL byte in the path).
pub fn load_op_library(path: impl AsRef<std::path::Path>) -> Result<()> {
    let path = model::path_cstring(path.as_ref())?;
    // SAFETY: a valid C string; thread-safe.
    Error::check(unsafe { sys::ti_op_library_load(path.as_ptr()) })
}

/// The number of live library handles (models, tensors, outputs, inputs, batchers, load, run
/// and batcher options, errors) in the process: for leak tests.
///
/// ```
/// let before = torchinfer::live_handles();
/// let t = torchinfer::Tensor::scalar(1.5f32).unwrap();
/// assert!(torchinfer::live_handles() >= 1);
/// drop(t);
/// # // Each doctest runs in its own process (edition 2021), so the count is exact.
/// assert_eq!(torchinfer::live_handles(), before);
/// ```
pub fn live_handles() -> i64 {
    // SAFETY: plain call.
    unsafe { sys::ti_live_handles() }
}
