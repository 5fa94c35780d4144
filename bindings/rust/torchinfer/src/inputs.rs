//! [`Inputs`]: the arguments of one method, of any TorchScript type, set by path and reusable
//! across calls and threads.

use std::ffi::CString;
use std::fmt;
use std::ptr::{self, NonNull};

use torchinfer_sys as sys;

use crate::model::{cstring, new_outputs};
use crate::{Error, Model, Outputs, Result, RunOptions, Value};

/// The arguments of one method of a [`Model`], of any TorchScript type (lists, tuples, dicts,
/// `Optional`, `str`, scalars, tensors, nested to any depth), set by path (`ti_inputs_t`).
///
/// [`Model::run_values`] makes one for a single call; make one yourself to set arguments once
/// and run them many times, from many threads. It borrows its model, which therefore outlives
/// it.
///
/// **Paths** (the header's grammar): segments joined by `.`; the first is the argument's name
/// or its position in decimal (`images`, `0`); then a list or tuple index in decimal or a dict
/// key (a `str` key as its text with `\` and `.` escaped by [`escape_path_segment`](crate::escape_path_segment), an `int`
/// key in decimal, a `bool` key `True` / `False`). [`set`](Inputs::set) walks a [`Value`]
/// into these paths below the path it is given, so `set("pairs", vec![(&a, &b)])` sets
/// `pairs.0.0` and `pairs.0.1`.
///
/// **Checks.** Each set is checked against the method's schema: an unknown argument, a path
/// that does not fit the declared type, or a value that does not fit is
/// [`Code::InvalidArgument`](crate::Code::InvalidArgument) naming the path and the declared
/// type, and leaves the inputs as they were before that leaf. Running checks what cannot be
/// checked earlier (a list with a gap, a tuple with a missing element, a required argument not
/// set), also `InvalidArgument` naming the path. An argument not set takes its default.
///
/// **Threads.** `Inputs: Send + Sync`. Setting needs `&mut self`; running needs only `&self`,
/// so any number of threads may run one `Inputs` at once (the library only reads it).
///
/// ```
/// use torchinfer::{Inputs, Model, Tensor, Value};
/// # fn main() -> torchinfer::Result<()> {
/// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
/// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
/// // values.pt: forward(pairs: List[Tuple[Tensor, Tensor]], by_id: Dict[int, Tensor],
/// //                    text: str, words: List[str], maybe: Optional[Tensor] = None,
/// //                    k: int = 2, scale: float = 1.0)
/// let model = Model::load(format!("{dir}/values.pt"))?;
/// let a = Tensor::from_slice(&[1f32, 2.], &[2])?;
/// let b = Tensor::from_slice(&[3f32, 4.], &[2])?;
/// let mut inputs = Inputs::new(&model, None)?;
/// inputs.set("pairs", vec![(&a, &b)])?;         // pairs.0.0, pairs.0.1
/// inputs.set("by_id.7", &a)?;                   // a dict entry by path
/// inputs.set("text", "hi")?;
/// inputs.set("words", vec!["x", "y"])?;
/// inputs.set("k", 1)?;
/// let out = inputs.run()?;
/// assert_eq!(out.to_vec::<f32>(0)?, [12.0]);     // (1*3 + 2*4) * 1.0 + 1
/// assert_eq!(out.string(out.index_of("2").unwrap())?, "HI!");
/// assert!(out.is_none(out.index_of("4").unwrap()));
/// inputs.set("maybe", Some(&b))?;               // replace a value, run again
/// assert_eq!(inputs.run()?.to_vec::<f32>(out.index_of("4").unwrap())?, [6.0, 8.0]);
/// # Ok(()) }
/// ```
pub struct Inputs<'m> {
    ptr: NonNull<sys::ti_inputs_t>,
    model: &'m Model,
}

// SAFETY: torchinfer.h: "A handle may be freed on a different thread than the one that made it."
// The model it refers to is Sync, so the `&Model` may move with it.
unsafe impl Send for Inputs<'_> {}
// SAFETY: torchinfer.h: "Setters are not synchronised. Once set, any number of threads may pass
// one inputs object to ti_model_run_inputs at once (it only reads it)." Setters take
// `&mut self`; `&Inputs` reaches only ti_model_run_inputs.
unsafe impl Sync for Inputs<'_> {}

impl<'m> Inputs<'m> {
    /// New, empty arguments for `method` of `model` (`None`: `forward`).
    ///
    /// Errors: [`Code::NotFound`](crate::Code::NotFound) (no such method),
    /// [`Code::InvalidArgument`](crate::Code::InvalidArgument) (a NUL byte in the name).
    pub fn new(model: &'m Model, method: Option<&str>) -> Result<Inputs<'m>> {
        let method = method.map(|m| cstring(m, "method name")).transpose()?;
        let mut out = ptr::null_mut();
        // SAFETY: live model; NULL or a valid C string; out pointer.
        Error::check(unsafe {
            sys::ti_inputs_create(
                model.as_raw(),
                method.as_deref().map_or(ptr::null(), |m| m.as_ptr()),
                &mut out,
            )
        })?;
        Ok(Inputs {
            ptr: NonNull::new(out).expect("ti_inputs_create: NULL without an error"),
            model,
        })
    }

    /// The model these inputs are for.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// The raw handle, still owned by `self`.
    pub fn as_raw(&self) -> *const sys::ti_inputs_t {
        self.ptr.as_ptr()
    }

    /// Sets `value` at `path` (see the type's documentation): a leaf (tensor, scalar, string,
    /// `None`) at `path` itself, an empty container as "empty", a non-empty container element
    /// by element below `path`. Setting a path again replaces its value and everything below
    /// it.
    ///
    /// Leaves are set one by one: when one fails, the leaves before it stay set (the failed one
    /// changes nothing).
    ///
    /// Errors: [`Code::InvalidArgument`](crate::Code::InvalidArgument) naming the path (see
    /// "Checks"), also for a NUL byte in a path.
    pub fn set<'v>(&mut self, path: &str, value: impl Into<Value<'v>>) -> Result<()> {
        self.set_at(path, &value.into())
    }

    /// [`set`](Inputs::set) with a borrowed value.
    pub(crate) fn set_at(&mut self, path: &str, value: &Value<'_>) -> Result<()> {
        let mut path = path.to_string();
        self.set_value(&mut path, value)
    }

    /// Walks `value` into paths below `path` (restored before returning).
    fn set_value(&mut self, path: &mut String, value: &Value<'_>) -> Result<()> {
        let elements: Vec<(std::borrow::Cow<'_, str>, &Value<'_>)> = match value {
            Value::List(items) | Value::Tuple(items) if !items.is_empty() => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string().into(), v))
                .collect(),
            Value::Dict(entries) if !entries.is_empty() => {
                entries.iter().map(|(k, v)| (k.to_segment(), v)).collect()
            }
            leaf => return self.set_leaf(path, leaf),
        };
        let len = path.len();
        for (segment, v) in elements {
            path.push('.');
            path.push_str(&segment);
            let result = self.set_value(path, v);
            path.truncate(len);
            result?;
        }
        Ok(())
    }

    /// One ti_inputs_set_* call: a leaf, or an empty container.
    fn set_leaf(&mut self, path: &str, value: &Value<'_>) -> Result<()> {
        let c: CString = cstring(path, "input path")?;
        let (p, path) = (self.ptr.as_ptr(), c.as_ptr());
        // SAFETY: `&mut self` gives the exclusive access the setters need; `path` is a valid C
        // string; tensors are live for the call (the library keeps its own reference); string
        // data is valid for its length.
        Error::check(unsafe {
            match value {
                Value::Tensor(t) => sys::ti_inputs_set_tensor(p, path, t.as_raw()),
                Value::Int(v) => sys::ti_inputs_set_int(p, path, *v),
                Value::Float(v) => sys::ti_inputs_set_float(p, path, *v),
                Value::Bool(v) => sys::ti_inputs_set_bool(p, path, i32::from(*v)),
                Value::Str(s) => sys::ti_inputs_set_string(p, path, s.as_ptr().cast(), s.len()),
                Value::None => sys::ti_inputs_set_none(p, path),
                Value::List(_) | Value::Tuple(_) | Value::Dict(_) => {
                    sys::ti_inputs_set_empty(p, path)
                }
            }
        })
    }

    /// Runs the method with these arguments. Blocks like [`Model::predict`].
    ///
    /// Errors: as [`Model::predict`], plus
    /// [`Code::InvalidArgument`](crate::Code::InvalidArgument) for the run-time checks (a list
    /// with a gap, a tuple with a missing element, a required argument not set).
    pub fn run(&self) -> Result<Outputs> {
        self.run_raw(ptr::null())
    }

    /// [`run`](Inputs::run) with [`RunOptions`] (a timeout and a cancel switch), as
    /// [`Model::run_with`].
    pub fn run_with(&self, options: &RunOptions) -> Result<Outputs> {
        self.run_raw(options.as_raw())
    }

    fn run_raw(&self, options: *const sys::ti_run_options_t) -> Result<Outputs> {
        new_outputs(|out| {
            // SAFETY: live model and inputs made from it (the borrow keeps the model alive);
            // concurrent runs with one inputs object are allowed; `options` is NULL or live
            // for the call.
            unsafe { sys::ti_model_run_inputs(self.model.as_raw(), self.as_raw(), options, out) }
        })
    }
}

impl Drop for Inputs<'_> {
    fn drop(&mut self) {
        // SAFETY: we own the handle; `&mut self` means no run is in flight.
        unsafe { sys::ti_inputs_free(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for Inputs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inputs").finish_non_exhaustive()
    }
}
