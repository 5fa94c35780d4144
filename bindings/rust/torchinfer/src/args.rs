//! [`TensorArgs`] and [`NamedTensorArgs`]: what the running methods accept as tensor inputs.
//!
//! A running method used to take `&[I]` for any `I: Borrow<Tensor>`; with that signature a call
//! without inputs, `model.predict(&[])`, cannot infer `I` (E0283). These traits take the place
//! of the slice: they are implemented for slices, `Vec`s, arrays of 1 to 64 elements and
//! references to any of them, each for every `I: Borrow<Tensor>` (named: every
//! `(S: AsRef<str>, I: Borrow<Tensor>)`), and for the empty array only with one element type
//! (`[Tensor; 0]`, named `[(&str, Tensor); 0]`). So `&[]` has exactly one candidate and needs no
//! annotation, and `predict::<Tensor>(&[])` keeps compiling.

use std::borrow::Borrow;

use crate::Tensor;

mod sealed {
    /// Seals [`TensorArgs`](super::TensorArgs).
    pub trait Args {}
    /// Seals [`NamedTensorArgs`](super::NamedTensorArgs).
    pub trait Named {}
}

/// Positional tensor inputs of a running method ([`Model::predict`](crate::Model::predict),
/// [`Model::run_with`](crate::Model::run_with), [`Batcher::run`](crate::Batcher::run), ...):
/// a slice, `Vec` or array (up to 64 elements; longer ones as a slice, `&array[..]`) of
/// anything that borrows as a [`Tensor`] (`&Tensor`, `Tensor`, `Box<Tensor>`, `Arc<Tensor>`),
/// or a reference to one. `&[]` is a call without inputs.
///
/// Sealed: it cannot be implemented outside this crate.
///
/// ```
/// use std::sync::Arc;
/// use torchinfer::{Code, Model, Tensor};
/// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
/// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
/// let model = Model::load(format!("{dir}/mlp.pt")).unwrap(); // forward(x [N, 16])
/// let x = Tensor::from_slice(&[0.5f32; 16], &[1, 16]).unwrap();
/// let a = model.predict(&[&x]).unwrap().to_vec::<f32>(0).unwrap();
/// let owned = vec![x];
/// assert_eq!(model.predict(&owned).unwrap().to_vec::<f32>(0).unwrap(), a);
/// assert_eq!(model.predict(&owned[..]).unwrap().to_vec::<f32>(0).unwrap(), a);
/// let shared = [Arc::new(Tensor::from_slice(&[0.5f32; 16], &[1, 16]).unwrap())];
/// assert_eq!(model.predict(&shared).unwrap().to_vec::<f32>(0).unwrap(), a);
/// // No inputs, no annotation (this model needs one, so the library refuses the call):
/// assert_eq!(model.predict(&[]).unwrap_err().code(), Code::InvalidArgument);
/// ```
pub trait TensorArgs<I>: sealed::Args {
    /// The inputs as a slice, in the method's argument order.
    fn as_tensor_slice(&self) -> &[I];
}

/// Named tensor inputs of a running method ([`Model::predict_named`](crate::Model::predict_named),
/// [`Batcher::run_named`](crate::Batcher::run_named), ...): a slice, `Vec` or array (up to 64
/// elements) of `(name, tensor)` pairs, where the name is anything that is `AsRef<str>` and
/// the tensor anything that borrows as a [`Tensor`], or a reference to one. `&[]` is a call
/// without inputs.
///
/// Sealed: it cannot be implemented outside this crate.
pub trait NamedTensorArgs<S, I>: sealed::Named {
    /// The `(name, tensor)` pairs as a slice.
    fn as_named_slice(&self) -> &[(S, I)];
}

impl<I: Borrow<Tensor>> sealed::Args for [I] {}
impl<I: Borrow<Tensor>> TensorArgs<I> for [I] {
    #[inline]
    fn as_tensor_slice(&self) -> &[I] {
        self
    }
}

impl<I: Borrow<Tensor>> sealed::Args for Vec<I> {}
impl<I: Borrow<Tensor>> TensorArgs<I> for Vec<I> {
    #[inline]
    fn as_tensor_slice(&self) -> &[I] {
        self
    }
}

/// The one impl for the empty array, so that `&[]` infers its element type.
impl sealed::Args for [Tensor; 0] {}
impl TensorArgs<Tensor> for [Tensor; 0] {
    #[inline]
    fn as_tensor_slice(&self) -> &[Tensor] {
        self
    }
}

impl<S: AsRef<str>, I: Borrow<Tensor>> sealed::Named for [(S, I)] {}
impl<S: AsRef<str>, I: Borrow<Tensor>> NamedTensorArgs<S, I> for [(S, I)] {
    #[inline]
    fn as_named_slice(&self) -> &[(S, I)] {
        self
    }
}

impl<S: AsRef<str>, I: Borrow<Tensor>> sealed::Named for Vec<(S, I)> {}
impl<S: AsRef<str>, I: Borrow<Tensor>> NamedTensorArgs<S, I> for Vec<(S, I)> {
    #[inline]
    fn as_named_slice(&self) -> &[(S, I)] {
        self
    }
}

/// The one impl for the empty array of pairs, so that `&[]` infers its element type.
impl sealed::Named for [(&str, Tensor); 0] {}
impl<'a> NamedTensorArgs<&'a str, Tensor> for [(&'a str, Tensor); 0] {
    #[inline]
    fn as_named_slice(&self) -> &[(&'a str, Tensor)] {
        self
    }
}

impl<T: sealed::Args + ?Sized> sealed::Args for &T {}
impl<T: sealed::Named + ?Sized> sealed::Named for &T {}
impl<I, T: TensorArgs<I> + ?Sized> TensorArgs<I> for &T {
    #[inline]
    fn as_tensor_slice(&self) -> &[I] {
        (**self).as_tensor_slice()
    }
}
impl<S, I, T: NamedTensorArgs<S, I> + ?Sized> NamedTensorArgs<S, I> for &T {
    #[inline]
    fn as_named_slice(&self) -> &[(S, I)] {
        (**self).as_named_slice()
    }
}

impl<T: sealed::Args + ?Sized> sealed::Args for Box<T> {}
impl<T: sealed::Named + ?Sized> sealed::Named for Box<T> {}
impl<I, T: TensorArgs<I> + ?Sized> TensorArgs<I> for Box<T> {
    #[inline]
    fn as_tensor_slice(&self) -> &[I] {
        (**self).as_tensor_slice()
    }
}
impl<S, I, T: NamedTensorArgs<S, I> + ?Sized> NamedTensorArgs<S, I> for Box<T> {
    #[inline]
    fn as_named_slice(&self) -> &[(S, I)] {
        (**self).as_named_slice()
    }
}

/// Arrays of 1 to 64 elements. (A const-generic impl for every length would include 0 and
/// make `&[]` ambiguous again; stable Rust cannot bound a length to be non-zero.)
macro_rules! arrays {
    ($($n:literal)*) => {$(
        impl<I: Borrow<Tensor>> sealed::Args for [I; $n] {}
        impl<I: Borrow<Tensor>> TensorArgs<I> for [I; $n] {
            #[inline]
            fn as_tensor_slice(&self) -> &[I] {
                self
            }
        }
        impl<S: AsRef<str>, I: Borrow<Tensor>> sealed::Named for [(S, I); $n] {}
        impl<S: AsRef<str>, I: Borrow<Tensor>> NamedTensorArgs<S, I> for [(S, I); $n] {
            #[inline]
            fn as_named_slice(&self) -> &[(S, I)] {
                self
            }
        }
    )*};
}

arrays!(
    1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32
    33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64
);
