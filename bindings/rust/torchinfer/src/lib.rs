//! Run TorchScript models from Rust through libtorchinfer's C ABI.
//!
//! Safe wrappers: errors are [`Result`]s carrying an [`Error`] with a [`Code`]; every handle
//! ([`Model`], [`Tensor`], [`Outputs`], [`Error`]) is freed by `Drop`; a [`Model`] is
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
#![warn(missing_docs)]

mod dtype;
mod error;
mod model;
#[cfg(feature = "ndarray")]
mod ndarray_impl;
mod outputs;
mod tensor;

use std::ffi::{c_char, CStr};

pub use dtype::{DType, Element};
pub use error::{Code, Error, Result};
pub use model::{LoadOptions, Model};
pub use outputs::{Iter, Outputs};
pub use tensor::Tensor;
/// The raw bindings, for what the safe API does not cover.
pub use torchinfer_sys as sys;

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

/// The number of live library handles (models, tensors, outputs, load options, errors) in the
/// process: for leak tests.
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
