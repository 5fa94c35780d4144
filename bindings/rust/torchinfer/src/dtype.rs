//! [`DType`] and the [`Element`] trait that ties Rust element types to it.

use std::fmt;

use torchinfer_sys as sys;

/// A tensor's element type: the C API's `ti_dtype_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// `f32`
    Float32,
    /// `f64`
    Float64,
    /// IEEE 754 binary16, as raw `u16` bit patterns (or `half::f16` with the `half` feature).
    Float16,
    /// bfloat16, as raw `u16` bit patterns (or `half::bf16` with the `half` feature).
    BFloat16,
    /// `i8`
    Int8,
    /// `u8`
    UInt8,
    /// `i16`
    Int16,
    /// `i32`
    Int32,
    /// `i64`
    Int64,
    /// `bool`, one byte per element, 0 or 1.
    Bool,
    /// A value this version of the crate does not know (the library never returns one today).
    Unknown(u32),
}

impl DType {
    /// Every dtype the C API defines, in ABI order.
    pub const ALL: [DType; 10] = [
        DType::Float32,
        DType::Float64,
        DType::Float16,
        DType::BFloat16,
        DType::Int8,
        DType::UInt8,
        DType::Int16,
        DType::Int32,
        DType::Int64,
        DType::Bool,
    ];

    /// Maps a raw `ti_dtype_t`.
    pub fn from_raw(raw: sys::ti_dtype_t) -> DType {
        match raw {
            sys::TI_DTYPE_FLOAT32 => DType::Float32,
            sys::TI_DTYPE_FLOAT64 => DType::Float64,
            sys::TI_DTYPE_FLOAT16 => DType::Float16,
            sys::TI_DTYPE_BFLOAT16 => DType::BFloat16,
            sys::TI_DTYPE_INT8 => DType::Int8,
            sys::TI_DTYPE_UINT8 => DType::UInt8,
            sys::TI_DTYPE_INT16 => DType::Int16,
            sys::TI_DTYPE_INT32 => DType::Int32,
            sys::TI_DTYPE_INT64 => DType::Int64,
            sys::TI_DTYPE_BOOL => DType::Bool,
            other => DType::Unknown(other),
        }
    }

    /// The raw `ti_dtype_t` value.
    pub fn to_raw(self) -> sys::ti_dtype_t {
        match self {
            DType::Float32 => sys::TI_DTYPE_FLOAT32,
            DType::Float64 => sys::TI_DTYPE_FLOAT64,
            DType::Float16 => sys::TI_DTYPE_FLOAT16,
            DType::BFloat16 => sys::TI_DTYPE_BFLOAT16,
            DType::Int8 => sys::TI_DTYPE_INT8,
            DType::UInt8 => sys::TI_DTYPE_UINT8,
            DType::Int16 => sys::TI_DTYPE_INT16,
            DType::Int32 => sys::TI_DTYPE_INT32,
            DType::Int64 => sys::TI_DTYPE_INT64,
            DType::Bool => sys::TI_DTYPE_BOOL,
            DType::Unknown(raw) => raw,
        }
    }

    /// Bytes per element (0 for [`DType::Unknown`]).
    pub fn size(self) -> usize {
        // SAFETY: ti_dtype_size accepts any value.
        unsafe { sys::ti_dtype_size(self.to_raw()) }
    }

    /// The library's lowercase name: `"float32"`, `"bfloat16"`, `"bool"` (`"unknown"`).
    pub fn name(self) -> &'static str {
        // SAFETY: ti_dtype_name accepts any value and returns static storage.
        unsafe { crate::static_str(sys::ti_dtype_name(self.to_raw())) }
    }

    /// Parses a name as returned by [`DType::name`].
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is the element type of a [`DType`]: `f32`, `f64`, `i8`, `u8`, `i16`,
/// `i32`, `i64`, `bool`, and with the `half` feature `half::f16` and `half::bf16`.
///
/// Sealed: the crate copies raw bytes into these types, so only plain types whose every bit
/// pattern of the C representation is valid (or, for `bool`, is checked) implement it.
/// Float16 and bfloat16 data is also reachable without the feature as raw `u16` bits:
/// [`Tensor::from_half_bits`](crate::Tensor::from_half_bits) and
/// [`Tensor::to_half_bits`](crate::Tensor::to_half_bits).
pub trait Element: sealed::Sealed + Copy + Send + Sync + 'static {
    /// The dtype of tensors holding this type.
    const DTYPE: DType;
    #[doc(hidden)]
    /// Whether every byte pattern is a valid value (false only for `bool`).
    const ANY_BIT_PATTERN: bool = true;
}

macro_rules! element {
    ($($t:ty => $d:ident),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
        }
    )*};
}

element! {
    f32 => Float32, f64 => Float64, i8 => Int8, u8 => UInt8,
    i16 => Int16, i32 => Int32, i64 => Int64,
}

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: DType = DType::Bool;
    const ANY_BIT_PATTERN: bool = false;
}

#[cfg(feature = "half")]
element! { half::f16 => Float16, half::bf16 => BFloat16 }
