//! [`Outputs`]: the named leaves of one prediction's result.

use std::ffi::CString;
use std::fmt;
use std::ptr::{self, NonNull};

use torchinfer_sys as sys;

use crate::{Code, Error, Result, Tensor};

/// The flattened, named leaves of one prediction's result.
///
/// Tuple and list elements are named by index, dict entries by key, nested names joined by
/// `"."` (`"1.0"`, `"boxes.2"`); a bare tensor is one leaf named `"0"`. `int`, `float` and
/// `bool` results become 0-dimensional `int64`, `float64` and `bool` tensors.
/// [`get`](Outputs::get) returns a new [`Tensor`] sharing the data (no copy) that may outlive
/// the outputs and the model.
///
/// ```
/// use torchinfer::{Model, Tensor};
/// # fn main() -> torchinfer::Result<()> {
/// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
/// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
/// // structured.pt: forward(x) -> (x + 1, (x * 2, x.sum()))
/// let model = Model::load(format!("{dir}/structured.pt"))?;
/// let x = Tensor::from_slice(&[1f32, 2., 3.], &[3])?;
/// let outputs = model.predict(&[&x])?;
/// assert_eq!(outputs.names().collect::<Vec<_>>(), ["0", "1.0", "1.1"]);
/// assert_eq!(outputs.get_by_name("1.1")?.to_vec::<f32>()?, [6.0]);
/// for leaf in &outputs {
///     let (name, tensor) = leaf?;
///     println!("{name}: {:?}", tensor.shape());
/// }
/// # Ok(()) }
/// ```
pub struct Outputs {
    ptr: NonNull<sys::ti_outputs_t>,
}

// SAFETY: torchinfer.h: "A handle may be freed on a different thread than the one that made it."
unsafe impl Send for Outputs {}
// SAFETY: torchinfer.h: "ti_tensor_t and ti_outputs_t are never modified by the library after
// creation: any number of threads may read them".
unsafe impl Sync for Outputs {}

impl Outputs {
    /// Takes ownership of a raw outputs handle.
    ///
    /// # Safety
    /// `ptr` must be a live `ti_outputs_t` that nothing else frees.
    ///
    /// # Panics
    /// If `ptr` is NULL.
    pub unsafe fn from_raw(ptr: *mut sys::ti_outputs_t) -> Outputs {
        Outputs {
            ptr: NonNull::new(ptr).expect("Outputs::from_raw: NULL handle"),
        }
    }

    /// The raw handle, still owned by `self`.
    pub fn as_raw(&self) -> *const sys::ti_outputs_t {
        self.ptr.as_ptr()
    }

    /// The number of leaves.
    pub fn len(&self) -> usize {
        // SAFETY: live handle.
        unsafe { sys::ti_outputs_count(self.as_raw()) }
    }

    /// Whether there are no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name of leaf `i`, or `None` if out of range.
    pub fn name(&self, i: usize) -> Option<&str> {
        // SAFETY: live handle; the name is a view valid until the outputs are freed.
        let p = unsafe { sys::ti_outputs_name(self.as_raw(), i) };
        if p.is_null() {
            None
        } else {
            // SAFETY: non-NULL view owned by `self`.
            Some(unsafe { crate::view_str(p) })
        }
    }

    /// The leaf names, in order.
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| self.name(i).unwrap_or(""))
    }

    /// Leaf `i` as a new tensor sharing the data.
    ///
    /// Errors: [`Code::InvalidArgument`] when `i >= len()`.
    pub fn get(&self, i: usize) -> Result<Tensor> {
        let mut out = ptr::null_mut();
        // SAFETY: live handle; out pointer.
        Error::check(unsafe { sys::ti_outputs_get(self.as_raw(), i, &mut out) })?;
        // SAFETY: on success `out` is a new tensor we own.
        Ok(unsafe { Tensor::from_raw(out) })
    }

    /// The leaf called `name` as a new tensor sharing the data.
    ///
    /// Errors: [`Code::NotFound`] (the message lists the names).
    pub fn get_by_name(&self, name: &str) -> Result<Tensor> {
        let c = CString::new(name).map_err(|_| {
            Error::local(
                Code::InvalidArgument,
                format!("output name {name:?} contains a NUL byte"),
            )
        })?;
        let mut out = ptr::null_mut();
        // SAFETY: live handle; valid C string; out pointer.
        Error::check(unsafe { sys::ti_outputs_find(self.as_raw(), c.as_ptr(), &mut out) })?;
        // SAFETY: on success `out` is a new tensor we own.
        Ok(unsafe { Tensor::from_raw(out) })
    }

    /// Iterates over `(name, tensor)` for every leaf, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            outputs: self,
            next: 0,
            len: self.len(),
        }
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { sys::ti_outputs_free(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for Outputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// Iterator over the leaves of [`Outputs`]: yields `Result<(name, Tensor)>` (taking a leaf
/// allocates a handle, which can fail only when out of memory).
pub struct Iter<'a> {
    outputs: &'a Outputs,
    next: usize,
    len: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<(&'a str, Tensor)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.len {
            return None;
        }
        let i = self.next;
        self.next += 1;
        let name = self.outputs.name(i).unwrap_or("");
        Some(self.outputs.get(i).map(|t| (name, t)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.len - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Outputs {
    type Item = Result<(&'a str, Tensor)>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}
