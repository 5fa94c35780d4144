//! [`Error`] and [`Code`]: a failure reported by libtorchinfer (or by this crate's own checks).

use std::borrow::Cow;
use std::ffi::CStr;
use std::fmt;
use std::ptr::NonNull;

use torchinfer_sys as sys;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kind of a failure: the C API's `ti_code_t`.
///
/// `TI_OK` is not an error and has no variant. A code this crate does not know (a newer
/// library may add codes at the end) is kept as [`Code::Unknown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// `TI_ERR_INVALID_ARGUMENT`: bad counts, names, sizes, shapes or dtypes.
    InvalidArgument,
    /// `TI_ERR_NOT_FOUND`: missing file, method or output name.
    NotFound,
    /// `TI_ERR_MODEL_FORMAT`: not a model this LibTorch can load (TorchScript or `.pt2`).
    ModelFormat,
    /// `TI_ERR_RUNTIME`: raised while the model ran; the model stays usable.
    Runtime,
    /// `TI_ERR_OUT_OF_MEMORY`: host or device allocation failed; the model stays usable.
    OutOfMemory,
    /// `TI_ERR_DEVICE`: the requested device is not present (never a CPU fallback).
    Device,
    /// `TI_ERR_UNSUPPORTED`: a value the C API cannot represent (strings, objects, ...).
    Unsupported,
    /// `TI_ERR_INTERNAL`: a bug in libtorchinfer.
    Internal,
    /// `TI_ERR_CANCELLED`: the call's [`RunOptions`](crate::RunOptions) were cancelled
    /// ([`CancelHandle::cancel`](crate::CancelHandle::cancel)), before or during the call; the
    /// model stays usable.
    Cancelled,
    /// `TI_ERR_DEADLINE_EXCEEDED`: the call ran past its [`RunOptions`](crate::RunOptions)'
    /// timeout; the model stays usable.
    DeadlineExceeded,
    /// `TI_ERR_UNAVAILABLE`: a [`Batcher`](crate::Batcher)'s queue is full, or the batcher is
    /// being freed; retry later.
    Unavailable,
    /// A code this version of the crate does not know.
    Unknown(u32),
}

impl Code {
    /// Maps a raw `ti_code_t` (never `TI_OK`) to a `Code`.
    pub fn from_raw(raw: sys::ti_code_t) -> Code {
        match raw {
            sys::TI_ERR_INVALID_ARGUMENT => Code::InvalidArgument,
            sys::TI_ERR_NOT_FOUND => Code::NotFound,
            sys::TI_ERR_MODEL_FORMAT => Code::ModelFormat,
            sys::TI_ERR_RUNTIME => Code::Runtime,
            sys::TI_ERR_OUT_OF_MEMORY => Code::OutOfMemory,
            sys::TI_ERR_DEVICE => Code::Device,
            sys::TI_ERR_UNSUPPORTED => Code::Unsupported,
            sys::TI_ERR_INTERNAL => Code::Internal,
            sys::TI_ERR_CANCELLED => Code::Cancelled,
            sys::TI_ERR_DEADLINE_EXCEEDED => Code::DeadlineExceeded,
            sys::TI_ERR_UNAVAILABLE => Code::Unavailable,
            other => Code::Unknown(other),
        }
    }

    /// The raw `ti_code_t` value.
    pub fn to_raw(self) -> sys::ti_code_t {
        match self {
            Code::InvalidArgument => sys::TI_ERR_INVALID_ARGUMENT,
            Code::NotFound => sys::TI_ERR_NOT_FOUND,
            Code::ModelFormat => sys::TI_ERR_MODEL_FORMAT,
            Code::Runtime => sys::TI_ERR_RUNTIME,
            Code::OutOfMemory => sys::TI_ERR_OUT_OF_MEMORY,
            Code::Device => sys::TI_ERR_DEVICE,
            Code::Unsupported => sys::TI_ERR_UNSUPPORTED,
            Code::Internal => sys::TI_ERR_INTERNAL,
            Code::Cancelled => sys::TI_ERR_CANCELLED,
            Code::DeadlineExceeded => sys::TI_ERR_DEADLINE_EXCEEDED,
            Code::Unavailable => sys::TI_ERR_UNAVAILABLE,
            Code::Unknown(raw) => raw,
        }
    }

    /// The C name of the code, e.g. `"TI_ERR_NOT_FOUND"` (`"TI_ERR_UNKNOWN"` if out of range).
    pub fn name(self) -> &'static str {
        // SAFETY: ti_code_name accepts any value and returns a static NUL-terminated string.
        unsafe { crate::static_str(sys::ti_code_name(self.to_raw())) }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

enum Repr {
    /// An error returned by the library; freed with ti_error_free in Drop.
    Library(NonNull<sys::ti_error_t>),
    /// An error detected by this crate before calling the library (e.g. a NUL byte in a name).
    Local(String),
}

/// A failure: a [`Code`] and a message.
///
/// An error returned by libtorchinfer owns its `ti_error_t` and frees it when dropped; the
/// message is read from it on demand. `Display` prints `"<CODE NAME>: <message>"`.
pub struct Error {
    code: Code,
    repr: Repr,
}

// SAFETY: torchinfer.h: "There is no thread-local "last error": an error is a value, readable
// from any thread." and "A handle may be freed on a different thread than the one that made it."
unsafe impl Send for Error {}
// SAFETY: torchinfer.h: "an error is a value, readable from any thread"; the only accessors
// (ti_error_code, ti_error_message) take `const ti_error_t *` and the error is never mutated.
unsafe impl Sync for Error {}

impl Error {
    /// Takes ownership of an error returned by a C call; `Ok(())` for NULL.
    #[inline]
    pub(crate) fn check(raw: *mut sys::ti_error_t) -> Result<()> {
        match NonNull::new(raw) {
            None => Ok(()),
            Some(ptr) => Err(Error::from_library(ptr)),
        }
    }

    #[cold]
    #[inline(never)]
    fn from_library(ptr: NonNull<sys::ti_error_t>) -> Error {
        // SAFETY: `ptr` is a live error we own.
        let code = Code::from_raw(unsafe { sys::ti_error_code(ptr.as_ptr()) });
        Error {
            code,
            repr: Repr::Library(ptr),
        }
    }

    /// An error raised by this crate's own argument checks.
    pub(crate) fn local(code: Code, message: impl Into<String>) -> Error {
        Error {
            code,
            repr: Repr::Local(message.into()),
        }
    }

    /// The error's code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The error's message (UTF-8, without the code).
    pub fn message(&self) -> Cow<'_, str> {
        match &self.repr {
            // SAFETY: the message is owned by the error, which lives as long as `self`.
            Repr::Library(ptr) => {
                unsafe { CStr::from_ptr(sys::ti_error_message(ptr.as_ptr())) }.to_string_lossy()
            }
            Repr::Local(msg) => Cow::Borrowed(msg),
        }
    }

    /// The raw error handle, or `None` for an error raised by this crate. It stays owned by
    /// `self`.
    pub fn as_raw(&self) -> Option<*const sys::ti_error_t> {
        match &self.repr {
            Repr::Library(ptr) => Some(ptr.as_ptr()),
            Repr::Local(_) => None,
        }
    }
}

impl Drop for Error {
    fn drop(&mut self) {
        if let Repr::Library(ptr) = self.repr {
            // SAFETY: we own the error and nobody else frees it.
            unsafe { sys::ti_error_free(ptr.as_ptr()) }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.name(), self.message())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code)
            .field("message", &self.message())
            .finish()
    }
}

impl std::error::Error for Error {}
