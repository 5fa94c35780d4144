//! [`Tensor`]: an n-dimensional array owned by the library.

use std::ffi::c_void;
use std::fmt;
use std::mem::size_of;
use std::ptr::{self, NonNull};

use torchinfer_sys as sys;

use crate::{Code, DType, Element, Error, Result};

/// An n-dimensional array on a device (CPU or CUDA).
///
/// The library never modifies a tensor after creation, with one exception: inputs are passed to
/// the model as they are, so a model that modifies an argument in place (`x.add_(1)` in
/// TorchScript) changes the input tensor's data. Do not share an input with concurrent calls to
/// such a model, nor hold an [`as_slice`](Tensor::as_slice) borrow of it during one.
///
/// Create one with [`Tensor::from_slice`] (a copy), [`Tensor::from_vec`] (zero-copy, the
/// tensor takes the `Vec`), [`Tensor::scalar`], [`Tensor::from_bytes`] or
/// [`Tensor::from_half_bits`]; read it back with [`Tensor::to_vec`] or [`Tensor::as_slice`].
/// Dropping the tensor frees its handle; a tensor taken from [`Outputs`](crate::Outputs) shares
/// the data with the outputs and may outlive them and the model.
///
/// ```
/// use torchinfer::{DType, Tensor};
/// # fn main() -> torchinfer::Result<()> {
/// let t = Tensor::from_slice(&[1i64, 2, 3, 4, 5, 6], &[2, 3])?;
/// assert_eq!(t.dtype(), DType::Int64);
/// assert_eq!(t.shape(), &[2, 3]);
/// assert_eq!(t.to_vec::<i64>()?, vec![1, 2, 3, 4, 5, 6]);
/// assert!(t.to_vec::<f32>().is_err()); // the element type is checked
/// # Ok(()) }
/// ```
#[repr(transparent)]
pub struct Tensor {
    ptr: NonNull<sys::ti_tensor_t>,
}

// SAFETY: torchinfer.h: "A handle may be freed on a different thread than the one that made it."
// Data wrapped by Tensor::from_vec is a Vec<T: Send>, and "release ... may be called on any thread".
unsafe impl Send for Tensor {}
// SAFETY: torchinfer.h: "ti_tensor_t and ti_outputs_t are never modified by the library after
// creation: any number of threads may read them, and one tensor may be an input of concurrent
// predictions." (The header's one exception, a model that writes to its argument in place, is
// documented in README.md under Threads.)
unsafe impl Sync for Tensor {}

fn shape_ptr(shape: &[i64]) -> *const i64 {
    if shape.is_empty() {
        ptr::null()
    } else {
        shape.as_ptr()
    }
}

impl Tensor {
    /// Creates a CPU tensor holding a copy of `data` (row-major) with the given shape.
    ///
    /// Errors: [`Code::InvalidArgument`] when `data.len()` is not the product of `shape` or a
    /// dimension is negative.
    pub fn from_slice<T: Element>(data: &[T], shape: &[i64]) -> Result<Tensor> {
        // SAFETY: `data` is valid for size_of_val(data) bytes; the library copies it.
        unsafe {
            Self::create(
                T::DTYPE,
                shape,
                data.as_ptr().cast(),
                std::mem::size_of_val(data),
            )
        }
    }

    /// Creates a 0-dimensional tensor holding `value`.
    pub fn scalar<T: Element>(value: T) -> Result<Tensor> {
        Self::from_slice(std::slice::from_ref(&value), &[])
    }

    /// Creates a CPU tensor of any dtype from raw row-major bytes (native byte order).
    /// `bytes.len()` must be `product(shape) * dtype.size()`.
    pub fn from_bytes(dtype: DType, shape: &[i64], bytes: &[u8]) -> Result<Tensor> {
        // SAFETY: `bytes` is valid for its length; the library copies it.
        unsafe { Self::create(dtype, shape, bytes.as_ptr().cast(), bytes.len()) }
    }

    /// Creates a float16 or bfloat16 tensor from raw 16-bit patterns.
    ///
    /// Errors: [`Code::InvalidArgument`] when `dtype` is not [`DType::Float16`] or
    /// [`DType::BFloat16`], or the length does not match the shape.
    pub fn from_half_bits(dtype: DType, bits: &[u16], shape: &[i64]) -> Result<Tensor> {
        check_half(dtype)?;
        // SAFETY: `bits` is valid for its byte length; the library copies it.
        unsafe {
            Self::create(
                dtype,
                shape,
                bits.as_ptr().cast(),
                std::mem::size_of_val(bits),
            )
        }
    }

    /// Creates a CPU tensor over `data` without copying: the tensor takes the `Vec` and the
    /// library drops it (on any thread) once neither the tensor nor any output aliasing it
    /// needs the memory.
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[i64]) -> Result<Tensor> {
        unsafe extern "C" fn release<T>(ctx: *mut c_void) {
            // SAFETY: `ctx` is the Box<Vec<T>> leaked below; the library calls this exactly once.
            drop(unsafe { Box::from_raw(ctx.cast::<Vec<T>>()) });
        }
        let nbytes = data.len() * size_of::<T>();
        let boxed = Box::into_raw(Box::new(data));
        // SAFETY: `boxed` is a valid, uniquely owned Vec; its buffer does not move while boxed.
        let data_ptr = unsafe { (*boxed).as_mut_ptr() }.cast::<c_void>();
        let mut out = ptr::null_mut();
        // SAFETY: the buffer holds `nbytes` bytes aligned for T and stays alive and unchanged
        // until `release(boxed)`, which the library calls exactly once, also on error.
        let err = unsafe {
            sys::ti_tensor_wrap(
                T::DTYPE.to_raw(),
                shape_ptr(shape),
                shape.len(),
                data_ptr,
                nbytes,
                Some(release::<T>),
                boxed.cast(),
                &mut out,
            )
        };
        Error::check(err)?;
        // SAFETY: on success `out` is a new tensor we own.
        Ok(unsafe { Tensor::from_raw(out) })
    }

    /// # Safety
    /// `data` must be valid for reads of `nbytes` bytes (or `nbytes` is 0).
    unsafe fn create(
        dtype: DType,
        shape: &[i64],
        data: *const c_void,
        nbytes: usize,
    ) -> Result<Tensor> {
        let data = if nbytes == 0 { ptr::null() } else { data };
        let mut out = ptr::null_mut();
        // SAFETY: the caller vouches for `data`; `shape` holds `shape.len()` entries.
        let err = unsafe {
            sys::ti_tensor_create(
                dtype.to_raw(),
                shape_ptr(shape),
                shape.len(),
                data,
                nbytes,
                &mut out,
            )
        };
        Error::check(err)?;
        // SAFETY: on success `out` is a new tensor we own.
        Ok(unsafe { Tensor::from_raw(out) })
    }

    /// Takes ownership of a raw tensor handle.
    ///
    /// # Safety
    /// `ptr` must be a live `ti_tensor_t` that nothing else frees.
    ///
    /// # Panics
    /// If `ptr` is NULL.
    pub unsafe fn from_raw(ptr: *mut sys::ti_tensor_t) -> Tensor {
        Tensor {
            ptr: NonNull::new(ptr).expect("Tensor::from_raw: NULL handle"),
        }
    }

    /// The raw handle, still owned by `self`.
    #[inline]
    pub fn as_raw(&self) -> *const sys::ti_tensor_t {
        self.ptr.as_ptr()
    }

    /// Gives up ownership of the raw handle (free it with `ti_tensor_free`).
    pub fn into_raw(self) -> *mut sys::ti_tensor_t {
        let ptr = self.ptr.as_ptr();
        std::mem::forget(self);
        ptr
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        // SAFETY: live handle.
        DType::from_raw(unsafe { sys::ti_tensor_dtype(self.as_raw()) })
    }

    /// The sizes of the dimensions (empty for a 0-dimensional scalar).
    pub fn shape(&self) -> &[i64] {
        // SAFETY: live handle; the shape view stays valid until the tensor is freed, which
        // cannot happen while `&self` is borrowed.
        unsafe {
            let ndim = sys::ti_tensor_ndim(self.as_raw());
            let p = sys::ti_tensor_shape(self.as_raw());
            if ndim == 0 || p.is_null() {
                &[]
            } else {
                std::slice::from_raw_parts(p, ndim)
            }
        }
    }

    /// The number of dimensions.
    pub fn ndim(&self) -> usize {
        // SAFETY: live handle.
        unsafe { sys::ti_tensor_ndim(self.as_raw()) }
    }

    /// The number of elements (1 for a scalar).
    pub fn numel(&self) -> usize {
        // SAFETY: live handle.
        let n = unsafe { sys::ti_tensor_numel(self.as_raw()) };
        usize::try_from(n).unwrap_or(0)
    }

    /// The size of the data in bytes.
    pub fn nbytes(&self) -> usize {
        // SAFETY: live handle.
        unsafe { sys::ti_tensor_nbytes(self.as_raw()) }
    }

    /// The device the data is on: `"cpu"` or `"cuda:N"`.
    pub fn device(&self) -> &str {
        // SAFETY: live handle; the view lives as long as the tensor.
        unsafe { crate::view_str(sys::ti_tensor_device(self.as_raw())) }
    }

    #[inline]
    fn check_dtype<T: Element>(&self) -> Result<()> {
        let actual = self.dtype();
        if actual == T::DTYPE {
            Ok(())
        } else {
            Err(dtype_mismatch(actual, T::DTYPE, std::any::type_name::<T>()))
        }
    }

    /// Copies `nbytes()` bytes into `dst` (from any device).
    ///
    /// # Safety
    /// `dst` must be valid for writes of `self.nbytes()` bytes.
    unsafe fn copy_to_raw(&self, dst: *mut c_void, len: usize) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        // SAFETY: the caller vouches for `dst`; the library checks len == nbytes.
        Error::check(unsafe { sys::ti_tensor_copy_to(self.as_raw(), dst, len) })
    }

    /// Copies the data (row-major) into a new `Vec<T>`, from any device.
    ///
    /// Errors: [`Code::InvalidArgument`] when `T` is not the tensor's element type.
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.check_dtype::<T>()?;
        if !T::ANY_BIT_PATTERN {
            // bool: copy bytes, then map (any non-zero byte is true) instead of trusting them.
            let v: Vec<bool> = self.to_bytes()?.into_iter().map(|b| b != 0).collect();
            let mut v = std::mem::ManuallyDrop::new(v);
            // SAFETY: T is bool (the only Element with ANY_BIT_PATTERN == false), so this is
            // the same Vec<bool> under its own type.
            return Ok(unsafe {
                Vec::from_raw_parts(v.as_mut_ptr().cast::<T>(), v.len(), v.capacity())
            });
        }
        // nbytes == numel * size_of::<T>() because the dtype matches T.
        let len = self.nbytes();
        let n = len / size_of::<T>();
        let mut v = Vec::<T>::with_capacity(n);
        // SAFETY: `v` has capacity for n elements = len bytes; every bit pattern is a valid T,
        // and copy_to either fills all `len` bytes or fails (then the length stays 0).
        unsafe {
            self.copy_to_raw(v.as_mut_ptr().cast(), len)?;
            v.set_len(n);
        }
        Ok(v)
    }

    /// Copies the raw data bytes (row-major, native byte order), from any device.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let len = self.nbytes();
        let mut v = Vec::<u8>::with_capacity(len);
        // SAFETY: capacity `len`; copy_to fills all of it or fails.
        unsafe {
            self.copy_to_raw(v.as_mut_ptr().cast(), len)?;
            v.set_len(len);
        }
        Ok(v)
    }

    /// Copies the raw 16-bit patterns of a float16 or bfloat16 tensor.
    pub fn to_half_bits(&self) -> Result<Vec<u16>> {
        check_half(self.dtype())?;
        let n = self.numel();
        let mut v = Vec::<u16>::with_capacity(n);
        // SAFETY: capacity n * 2 bytes == nbytes for a 16-bit dtype; copy_to fills it or fails.
        unsafe {
            self.copy_to_raw(v.as_mut_ptr().cast(), n * 2)?;
            v.set_len(n);
        }
        Ok(v)
    }

    /// Borrows the data of a CPU tensor without copying.
    ///
    /// Errors: [`Code::InvalidArgument`] (wrong element type), [`Code::Device`] (the tensor is
    /// not on the CPU: use [`Tensor::to_vec`]).
    pub fn as_slice<T: Element>(&self) -> Result<&[T]> {
        self.check_dtype::<T>()?;
        let mut data: *const c_void = ptr::null();
        // SAFETY: live handle; `data` is written on success.
        Error::check(unsafe { sys::ti_tensor_data(self.as_raw(), &mut data) })?;
        let n = self.numel();
        if n == 0 {
            return Ok(&[]);
        }
        let p = data.cast::<T>();
        if p.is_null() || !p.is_aligned() {
            return Err(Error::local(
                Code::Internal,
                "tensor data is NULL or misaligned",
            ));
        }
        if !T::ANY_BIT_PATTERN {
            // SAFETY: n bytes of host data (bool is one byte) valid while `self` lives.
            let bytes = unsafe { std::slice::from_raw_parts(data.cast::<u8>(), n) };
            if bytes.iter().any(|&b| b > 1) {
                return Err(Error::local(
                    Code::Internal,
                    "bool tensor holds a byte other than 0 or 1",
                ));
            }
        }
        // SAFETY: the library guarantees n contiguous elements, valid until the tensor is freed
        // (which cannot happen while the returned borrow of `self` lives) and never modified by
        // the library after creation. The header's one exception, a model that modifies its
        // argument in place, is documented on `Tensor` and in README.md under Threads.
        Ok(unsafe { std::slice::from_raw_parts(p, n) })
    }
}

#[cold]
#[inline(never)]
fn dtype_mismatch(actual: DType, wanted: DType, type_name: &str) -> Error {
    Error::local(
        Code::InvalidArgument,
        format!("tensor has dtype {actual}, not {wanted} ({type_name})"),
    )
}

fn check_half(dtype: DType) -> Result<()> {
    match dtype {
        DType::Float16 | DType::BFloat16 => Ok(()),
        other => Err(Error::local(
            Code::InvalidArgument,
            format!("dtype {other} is not float16 or bfloat16"),
        )),
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        // SAFETY: we own the handle.
        unsafe { sys::ti_tensor_free(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tensor")
            .field("dtype", &self.dtype())
            .field("shape", &self.shape())
            .field("device", &self.device())
            .finish()
    }
}
