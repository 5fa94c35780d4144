//! [`Outputs`]: the named leaves of one prediction's result.

use std::ffi::{c_void, CString};
use std::fmt;
use std::mem::size_of;
use std::ptr::{self, NonNull};

use torchinfer_sys as sys;

use crate::{Code, DType, Element, Error, Result, Tensor};

/// The kind of an output leaf ([`Outputs::kind`]): `ti_kind_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A tensor (`int`, `float` and `bool` results are 0-dimensional tensors).
    Tensor,
    /// A `str`: read it with [`Outputs::string`].
    String,
    /// A `None` (an `Optional` result that was empty).
    None,
    /// A kind this version of the crate does not know (a newer library may add kinds).
    Unknown(u32),
}

impl Kind {
    /// Maps a raw `ti_kind_t`.
    pub fn from_raw(raw: sys::ti_kind_t) -> Kind {
        match raw {
            sys::TI_KIND_TENSOR => Kind::Tensor,
            sys::TI_KIND_STRING => Kind::String,
            sys::TI_KIND_NONE => Kind::None,
            other => Kind::Unknown(other),
        }
    }
}

/// The flattened, named leaves of one prediction's result.
///
/// Tuple and list elements are named by index, dict entries by key, nested names joined by
/// `"."` (`"1.0"`, `"boxes.2"`); a bare tensor is one leaf named `"0"`. Names use the path
/// grammar of structured inputs: a `.` or `\` inside a dict key is escaped (a key `"p.q"` is
/// the leaf `"1.p\.q"`; see [`escape_path_segment`](crate::escape_path_segment)). `int`,
/// `float` and `bool` results become 0-dimensional `int64`, `float64` and `bool` tensors; a
/// `str` is a leaf of [`Kind::String`] ([`string`](Outputs::string)) and a `None` one of
/// [`Kind::None`] ([`is_none`](Outputs::is_none)). An empty list, tuple or dict gives no leaf.
/// The tensor accessors fail with [`Code::InvalidArgument`] on a leaf that is not a tensor
/// (and so do the items of [`iter`](Outputs::iter) for such a leaf).
/// [`get`](Outputs::get) returns a new [`Tensor`] sharing the data (no copy) that may outlive
/// the outputs and the model. To copy a leaf's values out, [`to_vec`](Outputs::to_vec) and
/// [`copy_to`](Outputs::copy_to) read it directly, without making a tensor handle; with
/// [`dtype`](Outputs::dtype), [`shape`](Outputs::shape) and [`index_of`](Outputs::index_of)
/// they cover what most callers need from a result.
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
    #[inline]
    pub unsafe fn from_raw(ptr: *mut sys::ti_outputs_t) -> Outputs {
        Outputs {
            ptr: NonNull::new(ptr).expect("Outputs::from_raw: NULL handle"),
        }
    }

    /// The raw handle, still owned by `self`.
    #[inline]
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

    /// Leaf `i`'s kind, or `None` if out of range.
    pub fn kind(&self, i: usize) -> Option<Kind> {
        // SAFETY: live handle; ti_outputs_kind accepts any index.
        (i < self.len()).then(|| Kind::from_raw(unsafe { sys::ti_outputs_kind(self.as_raw(), i) }))
    }

    /// Whether leaf `i` is a `None` (false if out of range).
    pub fn is_none(&self, i: usize) -> bool {
        self.kind(i) == Some(Kind::None)
    }

    /// String leaf `i`'s bytes (UTF-8 from a TorchScript `str`; NUL bytes inside are kept),
    /// borrowed from the outputs without a copy.
    ///
    /// Errors: [`Code::InvalidArgument`] (`i` out of range, or a leaf that is not a string).
    pub fn string_bytes(&self, i: usize) -> Result<&[u8]> {
        let mut data = ptr::null();
        let mut len = 0usize;
        // SAFETY: live handle; out pointers.
        Error::check(unsafe { sys::ti_outputs_string(self.as_raw(), i, &mut data, &mut len) })?;
        if len == 0 || data.is_null() {
            return Ok(&[]);
        }
        // SAFETY: on success `data` points to `len` bytes valid until the outputs are freed,
        // which cannot happen while `&self` is borrowed.
        Ok(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) })
    }

    /// String leaf `i` as `&str`, borrowed from the outputs (NUL bytes inside are kept).
    ///
    /// ```
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// // values.pt: echo(s: str) -> str
    /// let model = torchinfer::Model::load(format!("{dir}/values.pt")).unwrap();
    /// let out = model.run_values(Some("echo"), &[("s", "a\0β".into())]).unwrap();
    /// assert_eq!(out.kind(0), Some(torchinfer::Kind::String));
    /// assert_eq!(out.string(0).unwrap(), "a\0β");
    /// ```
    ///
    /// Errors: as [`string_bytes`](Outputs::string_bytes), and [`Code::Unsupported`] should
    /// the bytes not be UTF-8 (the library promises they are).
    pub fn string(&self, i: usize) -> Result<&str> {
        let bytes = self.string_bytes(i)?;
        std::str::from_utf8(bytes).map_err(|e| {
            Error::local(
                Code::Unsupported,
                format!(
                    "output {:?} is not valid UTF-8 ({e}); read it with string_bytes",
                    self.name(i).unwrap_or("")
                ),
            )
        })
    }

    /// Leaf `i` as a new tensor sharing the data.
    ///
    /// Errors: [`Code::InvalidArgument`] when `i >= len()` or the leaf is not a tensor.
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

    /// The index of the leaf called `name`, or `None`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names().position(|n| n == name)
    }

    /// Leaf `i`'s element type, or `None` if out of range (float32, the neutral value, for a
    /// leaf that is not a tensor: see [`kind`](Outputs::kind)).
    pub fn dtype(&self, i: usize) -> Option<DType> {
        // SAFETY: live handle.
        (i < self.len())
            .then(|| DType::from_raw(unsafe { sys::ti_outputs_dtype(self.as_raw(), i) }))
    }

    /// Leaf `i`'s sizes (empty for a 0-dimensional scalar), or `None` if out of range.
    pub fn shape(&self, i: usize) -> Option<&[i64]> {
        if i >= self.len() {
            return None;
        }
        // SAFETY: live handle, `i` in range; the shape view stays valid until the outputs are
        // freed, which cannot happen while `&self` is borrowed.
        unsafe {
            let ndim = sys::ti_outputs_ndim(self.as_raw(), i);
            let p = sys::ti_outputs_shape(self.as_raw(), i);
            Some(if ndim == 0 || p.is_null() {
                &[]
            } else {
                std::slice::from_raw_parts(p, ndim)
            })
        }
    }

    /// Leaf `i`'s size in bytes, or `None` if out of range.
    pub fn nbytes(&self, i: usize) -> Option<usize> {
        // SAFETY: live handle.
        (i < self.len()).then(|| unsafe { sys::ti_outputs_nbytes(self.as_raw(), i) })
    }

    /// Checks that leaf `i` holds `T`s. An index out of range reads as float32 (with 0 bytes),
    /// so for `f32` it passes here and the copy reports it.
    #[inline]
    fn check_leaf<T: Element>(&self, i: usize) -> Result<()> {
        // SAFETY: live handle; ti_outputs_dtype accepts any index.
        if unsafe { sys::ti_outputs_dtype(self.as_raw(), i) } == T::DTYPE.to_raw() {
            Ok(())
        } else {
            Err(self.leaf_error::<T>(i))
        }
    }

    /// Checks that leaf `i` holds `T`s and returns its size in bytes.
    #[inline]
    fn leaf_nbytes<T: Element>(&self, i: usize) -> Result<usize> {
        self.check_leaf::<T>(i)?;
        // SAFETY: live handle; ti_outputs_nbytes accepts any index.
        Ok(unsafe { sys::ti_outputs_nbytes(self.as_raw(), i) })
    }

    #[cold]
    #[inline(never)]
    fn leaf_error<T: Element>(&self, i: usize) -> Error {
        if let Some(kind @ (Kind::String | Kind::None | Kind::Unknown(_))) = self.kind(i) {
            return Error::local(
                Code::InvalidArgument,
                format!(
                    "output {:?} is not a tensor but a {kind:?} leaf",
                    self.name(i).unwrap_or("")
                ),
            );
        }
        match self.dtype(i) {
            None => Error::local(
                Code::InvalidArgument,
                format!("output index {i} is out of range: there are {}", self.len()),
            ),
            Some(actual) => Error::local(
                Code::InvalidArgument,
                format!(
                    "output {:?} has dtype {actual}, not {} ({})",
                    self.name(i).unwrap_or(""),
                    T::DTYPE,
                    std::any::type_name::<T>()
                ),
            ),
        }
    }

    /// Copies `nbytes` bytes of leaf `i` into `dst` (NULL when `nbytes` is 0).
    ///
    /// # Safety
    /// `dst` must be valid for writes of `nbytes` bytes.
    #[inline]
    unsafe fn copy_raw(&self, i: usize, dst: *mut c_void, nbytes: usize) -> Result<()> {
        let dst = if nbytes == 0 { ptr::null_mut() } else { dst };
        // SAFETY: live handle; the caller vouches for `dst`; the library checks `i` and that
        // `nbytes` is the leaf's size, and fills all of `dst` or fails.
        Error::check(unsafe { sys::ti_outputs_copy_to(self.as_raw(), i, dst, nbytes) })
    }

    /// Copies leaf `i`'s data (row-major) into a new `Vec<T>`, from any device, without making
    /// a tensor handle: `outputs.to_vec::<f32>(0)` is `outputs.get(0)?.to_vec::<f32>()` with
    /// less work.
    ///
    /// ```
    /// use torchinfer::{Model, Tensor};
    /// # fn main() -> torchinfer::Result<()> {
    /// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
    /// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
    /// // demo.pt: forward(features [1, 4]) -> {"logits": [1, 3], "probs": [1, 3]}
    /// let model = Model::load(format!("{dir}/demo.pt"))?;
    /// let x = Tensor::from_slice(&[0.5f32, -1.0, 2.0, 0.1], &[1, 4])?;
    /// let outputs = model.predict(&[&x])?;
    /// let i = outputs.index_of("probs").unwrap();
    /// assert_eq!(outputs.shape(i), Some(&[1i64, 3][..]));
    /// let probs = outputs.to_vec::<f32>(i)?;
    /// assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    ///
    /// let mut logits = [0f32; 3]; // into memory of your own
    /// outputs.copy_to(outputs.index_of("logits").unwrap(), &mut logits)?;
    /// assert!(outputs.to_vec::<i64>(i).is_err()); // the element type is checked
    /// # Ok(()) }
    /// ```
    ///
    /// Errors: [`Code::InvalidArgument`] (`i` out of range, or `T` is not the leaf's element
    /// type), [`Code::Runtime`] (a device copy failed).
    pub fn to_vec<T: Element>(&self, i: usize) -> Result<Vec<T>> {
        let nbytes = self.leaf_nbytes::<T>(i)?;
        if !T::ANY_BIT_PATTERN {
            return self.bools(i, nbytes);
        }
        let n = nbytes / size_of::<T>();
        let mut v = Vec::<T>::with_capacity(n);
        // SAFETY: `v` has room for n elements = nbytes bytes (the dtype matches T); every bit
        // pattern is a valid T; on success all of them were written, on failure the length
        // stays 0.
        unsafe {
            self.copy_raw(i, v.as_mut_ptr().cast(), nbytes)?;
            v.set_len(n);
        }
        Ok(v)
    }

    /// Copies leaf `i`'s data (row-major) into `dst`, which must hold exactly as many elements
    /// as the leaf, without making a tensor handle or allocating.
    ///
    /// Errors: [`Code::InvalidArgument`] (`i` out of range, `T` is not the leaf's element type,
    /// or `dst` has the wrong length), [`Code::Runtime`] (a device copy failed).
    pub fn copy_to<T: Element>(&self, i: usize, dst: &mut [T]) -> Result<()> {
        if !T::ANY_BIT_PATTERN {
            let nbytes = self.leaf_nbytes::<T>(i)?;
            if dst.len() != nbytes {
                return Err(Error::local(
                    Code::InvalidArgument,
                    format!(
                        "output {i} has {nbytes} elements, the destination {}",
                        dst.len()
                    ),
                ));
            }
            let bools = self.bools::<T>(i, nbytes)?;
            dst.copy_from_slice(&bools);
            return Ok(());
        }
        self.check_leaf::<T>(i)?;
        // SAFETY: `dst` is valid for size_of_val(dst) bytes, every bit pattern is a valid T,
        // and the library fails unless that is exactly the leaf's size.
        unsafe { self.copy_raw(i, dst.as_mut_ptr().cast(), std::mem::size_of_val(dst)) }
    }

    /// A bool leaf (one byte per element), checked byte by byte rather than trusted.
    #[cold]
    fn bools<T: Element>(&self, i: usize, nbytes: usize) -> Result<Vec<T>> {
        let mut bytes = vec![0u8; nbytes];
        // SAFETY: `bytes` holds nbytes bytes.
        unsafe { self.copy_raw(i, bytes.as_mut_ptr().cast(), nbytes)? };
        let v: Vec<bool> = bytes.into_iter().map(|b| b != 0).collect();
        let mut v = std::mem::ManuallyDrop::new(v);
        // SAFETY: T is bool (the only Element with ANY_BIT_PATTERN == false), so this is the
        // same Vec<bool> under its own type.
        Ok(unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<T>(), v.len(), v.capacity()) })
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
    #[inline]
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
