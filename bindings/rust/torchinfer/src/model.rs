//! [`Model`] and its [`LoadOptions`].

use std::borrow::Borrow;
use std::ffi::{c_char, CStr, CString};
use std::fmt;
use std::path::Path;
use std::ptr::{self, NonNull};

use torchinfer_sys as sys;

use crate::{
    Code, Error, Inputs, NamedTensorArgs, Outputs, Result, RunOptions, Tensor, TensorArgs, Value,
};

/// A loaded TorchScript module or AOTInductor package ([`format`](Model::format)), in eval mode.
///
/// `Model` is `Send + Sync`: share it between threads (`&Model`, `Arc<Model>`) and call
/// [`predict`](Model::predict) from all of them at once. Dropping it frees the model; tensors
/// and outputs obtained from it stay valid.
///
/// ```
/// use torchinfer::{Model, Tensor};
/// # fn main() -> torchinfer::Result<()> {
/// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
/// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
/// # let path = format!("{dir}/mlp.pt");
/// let model = Model::load(&path)?; // mlp.pt: x [N, 16] -> [N, 4]
/// assert_eq!(model.inputs(), ["x"]);
/// let x = Tensor::from_slice(&[0.5f32; 16], &[1, 16])?;
/// let outputs = model.predict(&[&x])?;
/// let y = outputs.get(0)?;
/// assert_eq!(y.shape(), &[1, 4]);
/// assert_eq!(y.to_vec::<f32>()?.len(), 4);
/// # Ok(()) }
/// ```
pub struct Model {
    ptr: NonNull<sys::ti_model_t>,
}

// SAFETY: torchinfer.h: "A handle may be freed on a different thread than the one that made it."
unsafe impl Send for Model {}
// SAFETY: torchinfer.h: "ti_model_t: any number of threads may call ti_model_predict*,
// ti_model_run_method* and the accessors on one model at the same time." `&Model` only reaches
// those functions and ti_model_run, "the general call, of which ti_model_predict, ...,
// ti_model_run_method_named are shorthands" (its run options "may be shared by any number of
// concurrent calls"); ti_model_free (the one that must not race) needs ownership (Drop).
unsafe impl Sync for Model {}

/// Settings for loading a model; a builder. Obtain one with [`Model::builder`] or
/// [`LoadOptions::new`].
///
/// ```
/// use torchinfer::{Code, Model};
/// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
/// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
/// # let path = format!("{dir}/mlp.pt");
/// let model = Model::builder().device("cpu").load(&path).unwrap();
/// assert_eq!(model.device(), "cpu");
/// let err = Model::builder().device("mps").load(&path).unwrap_err();
/// assert_eq!(err.code(), Code::Unsupported);
/// ```
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    device: Option<String>,
    allow_native_code: Option<bool>,
}

/// Owns a ti_load_options_t for the duration of one load.
struct RawOptions(NonNull<sys::ti_load_options_t>);

impl Drop for RawOptions {
    fn drop(&mut self) {
        // SAFETY: we own the options.
        unsafe { sys::ti_load_options_free(self.0.as_ptr()) }
    }
}

impl LoadOptions {
    /// Default options (device `"cpu"`).
    pub fn new() -> LoadOptions {
        LoadOptions::default()
    }

    /// The device to load onto: `"cpu"`, `"cuda"` or `"cuda:N"`. A CUDA device that is not
    /// present fails the load with [`Code::Device`]; there is no CPU fallback.
    pub fn device(mut self, device: impl Into<String>) -> LoadOptions {
        self.device = Some(device.into());
        self
    }

    /// Whether loading may run native code (default `true`). With `false` only interpreted
    /// formats (TorchScript) load: an AOTInductor `.pt2` package, whose compiled library would
    /// run in this process, fails with [`Code::Unsupported`] before anything from it is
    /// written to disk or mapped. For services that load models their users upload.
    ///
    /// ```
    /// use torchinfer::{Code, Model};
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// let untrusted = Model::builder().allow_native_code(false);
    /// assert!(untrusted.load(format!("{dir}/mlp.pt")).is_ok()); // TorchScript
    /// let err = untrusted.load(format!("{dir}/fake.pt2")).unwrap_err();
    /// assert_eq!(err.code(), Code::Unsupported);
    /// ```
    pub fn allow_native_code(mut self, allow: bool) -> LoadOptions {
        self.allow_native_code = Some(allow);
        self
    }

    fn with_raw<T>(&self, f: impl FnOnce(*const sys::ti_load_options_t) -> Result<T>) -> Result<T> {
        if self.device.is_none() && self.allow_native_code.is_none() {
            return f(ptr::null()); // NULL options: the library's defaults
        }
        // SAFETY: plain constructor.
        let raw = NonNull::new(unsafe { sys::ti_load_options_create() })
            .map(RawOptions)
            .ok_or_else(|| Error::local(Code::OutOfMemory, "ti_load_options_create failed"))?;
        if let Some(device) = &self.device {
            let device = cstring(device, "device")?;
            // SAFETY: `raw` is ours and not shared with any other thread.
            Error::check(unsafe {
                sys::ti_load_options_set_device(raw.0.as_ptr(), device.as_ptr())
            })?;
        }
        if let Some(allow) = self.allow_native_code {
            // SAFETY: as above.
            Error::check(unsafe {
                sys::ti_load_options_set_allow_native_code(raw.0.as_ptr(), i32::from(allow))
            })?;
        }
        f(raw.0.as_ptr())
    }

    /// Loads a TorchScript archive (`torch.jit.save`) from a file.
    ///
    /// Errors: [`Code::NotFound`] (no such file), [`Code::ModelFormat`] (not a loadable
    /// archive), [`Code::Device`], [`Code::Unsupported`] / [`Code::InvalidArgument`] (bad
    /// device string), [`Code::OutOfMemory`].
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Model> {
        let path = path_cstring(path.as_ref())?;
        self.with_raw(|opts| {
            let mut out = ptr::null_mut();
            // SAFETY: valid C string, options or NULL, out pointer.
            Error::check(unsafe { sys::ti_model_load(path.as_ptr(), opts, &mut out) })?;
            // SAFETY: on success `out` is a new model we own.
            Ok(unsafe { Model::from_raw(out) })
        })
    }

    /// Loads a TorchScript archive from memory; `bytes` may be dropped right after.
    pub fn load_from_bytes(&self, bytes: &[u8]) -> Result<Model> {
        self.with_raw(|opts| {
            let mut out = ptr::null_mut();
            // SAFETY: `bytes` is valid for its length; the library copies what it needs.
            let err = unsafe {
                sys::ti_model_load_buffer(bytes.as_ptr().cast(), bytes.len(), opts, &mut out)
            };
            Error::check(err)?;
            // SAFETY: on success `out` is a new model we own.
            Ok(unsafe { Model::from_raw(out) })
        })
    }
}

pub(crate) fn cstring(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| {
        Error::local(
            Code::InvalidArgument,
            format!("{what} {s:?} contains a NUL byte"),
        )
    })
}

pub(crate) fn path_cstring(path: &Path) -> Result<CString> {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| Error::local(Code::InvalidArgument, format!("path {path:?} is not UTF-8")))?
        .as_bytes()
        .to_vec();
    CString::new(bytes).map_err(|_| {
        Error::local(
            Code::InvalidArgument,
            format!("path {path:?} contains a NUL byte"),
        )
    })
}

/// Makes one of the C API's running calls (`call` gets the `out` parameter) and takes
/// ownership of the outputs it returns.
#[inline]
pub(crate) fn new_outputs(
    call: impl FnOnce(*mut *mut sys::ti_outputs_t) -> *mut sys::ti_error_t,
) -> Result<Outputs> {
    let mut out = ptr::null_mut();
    Error::check(call(&mut out))?;
    // SAFETY: on success `out` is new outputs we own.
    Ok(unsafe { Outputs::from_raw(out) })
}

/// Inputs this many or fewer are passed from arrays on the stack, without an allocation.
const STACK_INPUTS: usize = 8;

/// Calls `f` with the handles of `inputs` as a C array (on the stack for up to
/// [`STACK_INPUTS`]).
#[inline]
pub(crate) fn with_handles<I: Borrow<Tensor>, T>(
    inputs: &[I],
    f: impl FnOnce(&[*const sys::ti_tensor_t]) -> T,
) -> T {
    if inputs.len() <= STACK_INPUTS {
        let mut buf = [ptr::null::<sys::ti_tensor_t>(); STACK_INPUTS];
        for (slot, t) in buf.iter_mut().zip(inputs) {
            *slot = t.borrow().as_raw();
        }
        f(&buf[..inputs.len()])
    } else {
        let v: Vec<_> = inputs.iter().map(|t| t.borrow().as_raw()).collect();
        f(&v)
    }
}

/// Calls `f` with the names as C strings and the tensors as handles, two parallel C arrays.
/// A name with a NUL byte fails with [`Code::InvalidArgument`] before any call.
pub(crate) fn with_named_handles<S: AsRef<str>, I: Borrow<Tensor>, T>(
    inputs: &[(S, I)],
    f: impl FnOnce(&[*const c_char], &[*const sys::ti_tensor_t]) -> Result<T>,
) -> Result<T> {
    let names = inputs
        .iter()
        .map(|(name, _)| cstring(name.as_ref(), "input name"))
        .collect::<Result<Vec<_>>>()?;
    let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
    let handles: Vec<*const sys::ti_tensor_t> =
        inputs.iter().map(|(_, t)| t.borrow().as_raw()).collect();
    // `names` outlives the call, so every pointer in `name_ptrs` stays valid.
    f(&name_ptrs, &handles)
}

pub(crate) fn array_ptr<T>(items: &[*const T]) -> *const *const T {
    if items.is_empty() {
        ptr::null()
    } else {
        items.as_ptr()
    }
}

impl Model {
    /// Loads a model from a file onto the CPU. See [`LoadOptions::load`] for the errors.
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        LoadOptions::new().load(path)
    }

    /// Loads a model from the bytes of a TorchScript archive onto the CPU.
    ///
    /// ```
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// let bytes = std::fs::read(format!("{dir}/identity.pt")).unwrap();
    /// let model = torchinfer::Model::load_from_bytes(&bytes).unwrap();
    /// assert_eq!(model.methods(), ["double", "forward"]);
    /// ```
    pub fn load_from_bytes(bytes: &[u8]) -> Result<Model> {
        LoadOptions::new().load_from_bytes(bytes)
    }

    /// Options for loading (device, whether native code may load).
    pub fn builder() -> LoadOptions {
        LoadOptions::new()
    }

    /// Takes ownership of a raw model handle.
    ///
    /// # Safety
    /// `ptr` must be a live `ti_model_t` that nothing else frees.
    ///
    /// # Panics
    /// If `ptr` is NULL.
    pub unsafe fn from_raw(ptr: *mut sys::ti_model_t) -> Model {
        Model {
            ptr: NonNull::new(ptr).expect("Model::from_raw: NULL handle"),
        }
    }

    /// The raw handle, still owned by `self`.
    pub fn as_raw(&self) -> *mut sys::ti_model_t {
        self.ptr.as_ptr()
    }

    /// Runs `forward` with positional inputs in schema order; trailing arguments with
    /// defaults may be left out. An `int`/`float`/`bool` argument takes a one-element tensor.
    /// Blocks the calling thread until the model is done: in async code run it on a blocking
    /// thread (crate documentation, "Async code"); for a timeout or cancellation use
    /// [`Model::run_with`].
    ///
    /// `inputs` is a slice, `Vec` or array ([`TensorArgs`]) of anything that borrows as a
    /// [`Tensor`]: tensor references (`&[&x, &y]`), owned tensors (`&[x]`, `&vec_of_tensors`)
    /// or smart pointers. The same holds for every running method. A model without arguments
    /// takes `model.predict(&[])`.
    ///
    /// ```
    /// use torchinfer::{Model, Tensor};
    /// # fn main() -> torchinfer::Result<()> {
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// let model = Model::load(format!("{dir}/mlp.pt"))?; // x [N, 16] -> [N, 4]
    /// let x = Tensor::from_slice(&[0.5f32; 16], &[1, 16])?;
    /// let a = model.predict(&[&x])?.to_vec::<f32>(0)?;
    /// let batch: Vec<Tensor> = vec![x];
    /// let b = model.predict(&batch)?.to_vec::<f32>(0)?;
    /// assert_eq!(a, b);
    /// # Ok(()) }
    /// ```
    ///
    /// Errors: [`Code::InvalidArgument`] (wrong count or kind of input), [`Code::Runtime`]
    /// (raised by the model), [`Code::OutOfMemory`], [`Code::Unsupported`] (a result holding
    /// a value with no leaf kind, such as an object), [`Code::Device`].
    pub fn predict<I: Borrow<Tensor>>(
        &self,
        inputs: &(impl TensorArgs<I> + ?Sized),
    ) -> Result<Outputs> {
        with_handles(inputs.as_tensor_slice(), |handles| {
            new_outputs(|out| {
                // SAFETY: live model (concurrent predicts are allowed); `handles` are live
                // tensors borrowed for the duration of the call.
                unsafe {
                    sys::ti_model_predict(self.as_raw(), array_ptr(handles), handles.len(), out)
                }
            })
        })
    }

    /// Runs `forward` with inputs matched to argument names, in any order; arguments with
    /// defaults may be omitted.
    ///
    /// ```
    /// use torchinfer::{Model, Tensor};
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// // named.pt: forward(ids, mask, bias=None, scale=1.0) -> ids * mask * scale (+ bias)
    /// let model = Model::load(format!("{dir}/named.pt")).unwrap();
    /// let ids = Tensor::from_slice(&[1f32, 2., 3.], &[1, 3]).unwrap();
    /// let mask = Tensor::from_slice(&[1f32, 0., 1.], &[1, 3]).unwrap();
    /// let scale = Tensor::scalar(2.0f64).unwrap();
    /// let out = model.predict_named(&[("scale", &scale), ("mask", &mask), ("ids", &ids)]).unwrap();
    /// assert_eq!(out.get(0).unwrap().to_vec::<f32>().unwrap(), [2., 0., 6.]);
    /// ```
    ///
    /// Errors: as [`Model::predict`]; an unknown, duplicate or missing name is
    /// [`Code::InvalidArgument`].
    pub fn predict_named<S: AsRef<str>, I: Borrow<Tensor>>(
        &self,
        inputs: &(impl NamedTensorArgs<S, I> + ?Sized),
    ) -> Result<Outputs> {
        with_named_handles(inputs.as_named_slice(), |names, handles| {
            new_outputs(|out| {
                // SAFETY: as predict; `names` has one valid C string per handle.
                unsafe {
                    sys::ti_model_predict_named(
                        self.as_raw(),
                        array_ptr(names),
                        array_ptr(handles),
                        handles.len(),
                        out,
                    )
                }
            })
        })
    }

    /// Runs another method (exported with `@torch.jit.export`, or `"forward"`) with
    /// positional inputs.
    ///
    /// Errors: as [`Model::predict`], plus [`Code::NotFound`] when there is no such method.
    pub fn run_method<I: Borrow<Tensor>>(
        &self,
        method: &str,
        inputs: &(impl TensorArgs<I> + ?Sized),
    ) -> Result<Outputs> {
        let method = cstring(method, "method name")?;
        with_handles(inputs.as_tensor_slice(), |handles| {
            new_outputs(|out| {
                // SAFETY: as predict; `method` is a valid C string.
                unsafe {
                    sys::ti_model_run_method(
                        self.as_raw(),
                        method.as_ptr(),
                        array_ptr(handles),
                        handles.len(),
                        out,
                    )
                }
            })
        })
    }

    /// Runs another method (exported with `@torch.jit.export`, or `"forward"`) with inputs
    /// matched to that method's argument names, in any order; arguments with defaults may be
    /// omitted. The named counterpart of [`Model::run_method`], as
    /// [`Model::predict_named`] is of [`Model::predict`].
    ///
    /// ```
    /// use torchinfer::{Model, Tensor};
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// // identity.pt: forward(x) -> x, double(x) -> 2 * x
    /// let model = Model::load(format!("{dir}/identity.pt")).unwrap();
    /// let x = Tensor::from_slice(&[2f32, 3.], &[2]).unwrap();
    /// let out = model.run_method_named("double", &[("x", &x)]).unwrap();
    /// assert_eq!(out.get_by_name("0").unwrap().to_vec::<f32>().unwrap(), [4., 6.]);
    /// ```
    ///
    /// Errors: as [`Model::predict_named`] (an unknown, duplicate or missing name is
    /// [`Code::InvalidArgument`]), plus [`Code::NotFound`] when there is no such method.
    pub fn run_method_named<S: AsRef<str>, I: Borrow<Tensor>>(
        &self,
        method: &str,
        inputs: &(impl NamedTensorArgs<S, I> + ?Sized),
    ) -> Result<Outputs> {
        let method = cstring(method, "method name")?;
        with_named_handles(inputs.as_named_slice(), |names, handles| {
            new_outputs(|out| {
                // SAFETY: as predict; `method` is a valid C string and `names` has one valid C
                // string per handle, all alive for the duration of the call.
                unsafe {
                    sys::ti_model_run_method_named(
                        self.as_raw(),
                        method.as_ptr(),
                        array_ptr(names),
                        array_ptr(handles),
                        handles.len(),
                        out,
                    )
                }
            })
        })
    }

    /// The general call, with per-call [`RunOptions`] (a timeout and a cancel switch): runs
    /// `method` (`None` for `forward`) with positional inputs.
    ///
    /// [`predict`](Model::predict) is `run_with(None, inputs, ..)` and
    /// [`run_method`](Model::run_method) is `run_with(Some(method), inputs, ..)`, without
    /// options; results are identical with and without them. The call blocks the thread until
    /// the model is done, cancelled or past its timeout; in async code run it on a blocking
    /// thread (see the crate documentation, "Async code").
    ///
    /// ```
    /// use std::time::Duration;
    /// use torchinfer::{Model, RunOptions, Tensor};
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// // identity.pt: forward(x) -> x, double(x) -> 2 * x
    /// let model = Model::load(format!("{dir}/identity.pt")).unwrap();
    /// let x = Tensor::from_slice(&[2f32, 3.], &[2]).unwrap();
    /// let opts = RunOptions::new().with_timeout(Duration::from_secs(10));
    /// let out = model.run_with(Some("double"), &[&x], &opts).unwrap();
    /// assert_eq!(out.get(0).unwrap().to_vec::<f32>().unwrap(), [4., 6.]);
    /// ```
    ///
    /// Errors: as [`Model::run_method`] (for `forward`, as [`Model::predict`]), plus
    /// [`Code::Cancelled`] (the options were cancelled, before or during the call) and
    /// [`Code::DeadlineExceeded`] (the call ran past the timeout). After either the model
    /// stays usable. A method name with a NUL byte is [`Code::InvalidArgument`].
    pub fn run_with<I: Borrow<Tensor>>(
        &self,
        method: Option<&str>,
        inputs: &(impl TensorArgs<I> + ?Sized),
        options: &RunOptions,
    ) -> Result<Outputs> {
        let method = method.map(|m| cstring(m, "method name")).transpose()?;
        with_handles(inputs.as_tensor_slice(), |handles| {
            self.run_raw(method.as_deref(), None, handles, options)
        })
    }

    /// [`run_with`](Model::run_with) with inputs matched to the method's argument names, in
    /// any order: the general form of [`predict_named`](Model::predict_named) and
    /// [`run_method_named`](Model::run_method_named).
    ///
    /// ```
    /// use torchinfer::{Code, Model, RunOptions, Tensor};
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// // named.pt: forward(ids, mask, bias=None, scale=1.0) -> ids * mask * scale (+ bias)
    /// let model = Model::load(format!("{dir}/named.pt")).unwrap();
    /// let ids = Tensor::from_slice(&[1f32, 2., 3.], &[1, 3]).unwrap();
    /// let mask = Tensor::from_slice(&[1f32, 0., 1.], &[1, 3]).unwrap();
    /// let opts = RunOptions::new();
    /// let out = model.run_named_with(None, &[("mask", &mask), ("ids", &ids)], &opts).unwrap();
    /// assert_eq!(out.get(0).unwrap().to_vec::<f32>().unwrap(), [1., 0., 3.]);
    /// opts.cancel();
    /// let err = model.run_named_with(None, &[("mask", &mask), ("ids", &ids)], &opts);
    /// assert_eq!(err.unwrap_err().code(), Code::Cancelled);
    /// ```
    ///
    /// Errors: as [`Model::run_with`]; an unknown, duplicate or missing name is
    /// [`Code::InvalidArgument`].
    pub fn run_named_with<S: AsRef<str>, I: Borrow<Tensor>>(
        &self,
        method: Option<&str>,
        inputs: &(impl NamedTensorArgs<S, I> + ?Sized),
        options: &RunOptions,
    ) -> Result<Outputs> {
        let method = method.map(|m| cstring(m, "method name")).transpose()?;
        with_named_handles(inputs.as_named_slice(), |names, handles| {
            self.run_raw(method.as_deref(), Some(names), handles, options)
        })
    }

    /// One ti_model_run call: `names` None passes the inputs positionally.
    fn run_raw(
        &self,
        method: Option<&CStr>,
        names: Option<&[*const c_char]>,
        handles: &[*const sys::ti_tensor_t],
        options: &RunOptions,
    ) -> Result<Outputs> {
        new_outputs(|out| {
            // SAFETY: live model (concurrent calls are allowed); `method` is NULL or a valid C
            // string; `names` is NULL or one valid C string per handle; `handles` are live
            // tensors; `options` is a live run options object ("One object may be shared by
            // any number of concurrent calls"), kept alive by the `&RunOptions` borrow for the
            // whole call. All are borrowed only for the duration of the call.
            unsafe {
                sys::ti_model_run(
                    self.as_raw(),
                    method.map_or(ptr::null(), CStr::as_ptr),
                    names.map_or(ptr::null(), array_ptr),
                    array_ptr(handles),
                    handles.len(),
                    options.as_raw(),
                    out,
                )
            }
        })
    }

    /// Runs `method` (`None`: `forward`) with arguments of any TorchScript type: each
    /// `(path, value)` is set as [`Inputs::set`] does (the path is usually an argument's name
    /// or position), then the method runs. Arguments not given take their defaults. For
    /// arguments set once and run many times, make an [`Inputs`].
    ///
    /// ```
    /// use torchinfer::{Model, Tensor, Value};
    /// # fn main() -> torchinfer::Result<()> {
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// // values.pt: forward(pairs: List[Tuple[Tensor, Tensor]], by_id: Dict[int, Tensor],
    /// //                    text: str, words: List[str], maybe: Optional[Tensor] = None,
    /// //                    k: int = 2, scale: float = 1.0)
    /// //   -> (sum (a*b).sum() * scale + k, {"p.q": .., "n": ..}, text.upper() + "!" * k,
    /// //       words reversed, maybe * 2)
    /// let model = Model::load(format!("{dir}/values.pt"))?;
    /// let a = Tensor::from_slice(&[1f32, 2.], &[2])?;
    /// let b = Tensor::from_slice(&[3f32, 4.], &[2])?;
    /// let none: Option<&Tensor> = None;
    /// let out = model.run_values(None, &[
    ///     ("pairs", vec![(&a, &b), (&b, &b)].into()),
    ///     ("by_id", Value::dict([(1, &a)])),
    ///     ("text", "ok".into()),
    ///     ("words", vec!["x", "y"].into()),
    ///     ("maybe", none.into()),
    ///     ("scale", 0.5.into()),
    /// ])?;
    /// assert_eq!(
    ///     out.names().collect::<Vec<_>>(),
    ///     ["0", r"1.p\.q", "1.n", "2", "3.0", "3.1", "4"]
    /// );
    /// assert_eq!(out.to_vec::<f32>(0)?, [20.0]); // (11 + 25) * 0.5 + 2
    /// assert_eq!(out.string(3)?, "OK!!");
    /// assert_eq!(out.string(4)?, "y");
    /// assert!(out.is_none(6));
    /// # Ok(()) }
    /// ```
    ///
    /// Errors: as [`Inputs::set`] and [`Inputs::run`]; [`Code::NotFound`] for an unknown
    /// method.
    pub fn run_values(&self, method: Option<&str>, args: &[(&str, Value<'_>)]) -> Result<Outputs> {
        self.values_inputs(method, args)?.run()
    }

    /// [`run_values`](Model::run_values) with [`RunOptions`] (a timeout and a cancel switch).
    pub fn run_values_with(
        &self,
        method: Option<&str>,
        args: &[(&str, Value<'_>)],
        options: &RunOptions,
    ) -> Result<Outputs> {
        self.values_inputs(method, args)?.run_with(options)
    }

    fn values_inputs(
        &self,
        method: Option<&str>,
        args: &[(&str, Value<'_>)],
    ) -> Result<Inputs<'_>> {
        let mut inputs = Inputs::new(self, method)?;
        for (path, value) in args {
            inputs.set_at(path, value)?;
        }
        Ok(inputs)
    }

    /// The schema of `method` (`None`: `forward`) as LibTorch prints it, without `self`:
    /// `"forward(Tensor[] images, Dict(str, Tensor)[]? targets=None) -> (...)"`; for a `.pt2`
    /// a signature made from the package's input and output specs. `None` for an unknown
    /// method.
    ///
    /// ```
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// let model = torchinfer::Model::load(format!("{dir}/values.pt")).unwrap();
    /// assert!(model.schema(Some("echo")).unwrap().starts_with("echo(str s)"));
    /// assert_eq!(model.schema(Some("nope")), None);
    /// ```
    pub fn schema(&self, method: Option<&str>) -> Option<&str> {
        let method = match method {
            Some(m) => Some(CString::new(m).ok()?),
            None => None,
        };
        // SAFETY: live model; NULL or a valid C string; the schema is a view valid until the
        // model is freed, which `&self` outlives.
        let p = unsafe {
            sys::ti_model_method_schema(
                self.as_raw(),
                method.as_deref().map_or(ptr::null(), CStr::as_ptr),
            )
        };
        // SAFETY: NULL or a NUL-terminated view owned by the model.
        (!p.is_null()).then(|| unsafe { crate::view_str(p) })
    }

    /// The names of `forward`'s arguments (without `self`), in schema order.
    pub fn inputs(&self) -> Vec<&str> {
        // SAFETY: live model; names are views valid until the model is freed.
        unsafe {
            (0..sys::ti_model_input_count(self.as_raw()))
                .map(|i| crate::view_str(sys::ti_model_input_name(self.as_raw(), i)))
                .collect()
        }
    }

    /// The declared types of `forward`'s arguments, for display, in the order of
    /// [`inputs`](Model::inputs): a TorchScript annotation (`"Tensor"`, `"Optional[Tensor]"`,
    /// `"int"`), or for a `.pt2` input its dtype and sizes with dynamic sizes as symbols
    /// (`"Tensor(float32, [s0, 8])"`).
    ///
    /// ```
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// // named.pt: forward(ids: Tensor, mask: Tensor, bias: Optional[Tensor] = None, scale: float = 1.0)
    /// let model = torchinfer::Model::load(format!("{dir}/named.pt")).unwrap();
    /// assert_eq!(model.inputs(), ["ids", "mask", "bias", "scale"]);
    /// assert_eq!(model.input_types(), ["Tensor", "Tensor", "Optional[Tensor]", "float"]);
    /// ```
    pub fn input_types(&self) -> Vec<&str> {
        // SAFETY: live model; types are views valid until the model is freed.
        unsafe {
            (0..sys::ti_model_input_count(self.as_raw()))
                .map(|i| crate::view_str(sys::ti_model_input_type(self.as_raw(), i)))
                .collect()
        }
    }

    /// The names of the methods the model can run, sorted.
    pub fn methods(&self) -> Vec<&str> {
        // SAFETY: live model; names are views valid until the model is freed.
        unsafe {
            (0..sys::ti_model_method_count(self.as_raw()))
                .map(|i| crate::view_str(sys::ti_model_method_name(self.as_raw(), i)))
                .collect()
        }
    }

    /// The device the model lives on: `"cpu"` or `"cuda:N"`.
    pub fn device(&self) -> &str {
        // SAFETY: live model; the view lives as long as the model.
        unsafe { crate::view_str(sys::ti_model_device(self.as_raw())) }
    }

    /// What was loaded: `"torchscript"` (a `torch.jit.save` archive) or `"aotinductor"` (an
    /// AOTInductor `.pt2` package).
    pub fn format(&self) -> &'static str {
        // SAFETY: live model; torchinfer.h: the string has static storage.
        unsafe { crate::view_str(sys::ti_model_format(self.as_raw())) }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: we own the model, and `&mut self` means no other use is in flight.
        unsafe { sys::ti_model_free(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("device", &self.device())
            .field("format", &self.format())
            .field("inputs", &self.inputs())
            .field("input_types", &self.input_types())
            .field("methods", &self.methods())
            .finish()
    }
}
