//! Conversions between [`Tensor`] and `ndarray` arrays (feature `ndarray`).

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};

use crate::{Code, Element, Error, Result, Tensor};

impl Tensor {
    /// Creates a CPU tensor holding a copy of an `ndarray` array (any layout; copied row-major).
    ///
    /// ```
    /// use torchinfer::ndarray::array;
    /// let t = torchinfer::Tensor::from_array(&array![[1i32, 2, 3], [4, 5, 6]]).unwrap();
    /// assert_eq!(t.shape(), &[2, 3]);
    /// assert_eq!(t.to_array::<i32>().unwrap(), array![[1, 2, 3], [4, 5, 6]].into_dyn());
    /// ```
    pub fn from_array<T, S, D>(array: &ArrayBase<S, D>) -> Result<Tensor>
    where
        T: Element,
        S: Data<Elem = T>,
        D: Dimension,
    {
        let shape = array
            .shape()
            .iter()
            .map(|&d| i64::try_from(d))
            .collect::<std::result::Result<Vec<i64>, _>>()
            .map_err(|_| Error::local(Code::InvalidArgument, "array dimension exceeds i64"))?;
        match array.as_slice() {
            Some(slice) => Tensor::from_slice(slice, &shape),
            None => {
                let data: Vec<T> = array.iter().copied().collect();
                Tensor::from_vec(data, &shape)
            }
        }
    }

    /// Copies the tensor into an `ndarray::ArrayD` (from any device). An empty tensor (a zero
    /// in its shape, e.g. `[0, 3]`) gives an empty array of the same shape.
    ///
    /// ```
    /// use torchinfer::{ndarray::ArrayD, Tensor};
    /// let empty = Tensor::from_slice::<f32>(&[], &[0, 3]).unwrap();
    /// let a: ArrayD<f32> = empty.to_array().unwrap();
    /// assert_eq!(a.shape(), &[0, 3]);
    /// ```
    ///
    /// Errors: [`Code::InvalidArgument`] when `T` is not the tensor's element type;
    /// [`Code::Unsupported`] for a shape `ndarray` cannot represent (an empty tensor whose
    /// non-zero sizes multiply past `isize::MAX`, such as `[0, 2^62, 4]`).
    pub fn to_array<T: Element>(&self) -> Result<ArrayD<T>> {
        let shape = self
            .shape()
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<std::result::Result<Vec<usize>, _>>()
            .map_err(|_| Error::local(Code::Internal, "tensor has a negative size"))?;
        let dim = IxDyn(&shape);
        // ndarray requires the product of the non-zero sizes to fit isize, also for an empty
        // array; check before copying so that the error says what is wrong.
        if shape
            .iter()
            .filter(|&&d| d != 0)
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .is_none_or(|n| n > isize::MAX as usize)
        {
            return Err(Error::local(
                Code::Unsupported,
                format!(
                    "ndarray cannot represent a tensor of shape {:?}",
                    self.shape()
                ),
            ));
        }
        let data = self.to_vec::<T>()?;
        ArrayD::from_shape_vec(dim, data).map_err(|e| {
            Error::local(
                Code::Internal,
                format!("tensor of shape {:?}: {e}", self.shape()),
            )
        })
    }
}

impl<T, S, D> TryFrom<&ArrayBase<S, D>> for Tensor
where
    T: Element,
    S: Data<Elem = T>,
    D: Dimension,
{
    type Error = Error;

    fn try_from(array: &ArrayBase<S, D>) -> Result<Tensor> {
        Tensor::from_array(array)
    }
}

impl<T: Element> TryFrom<&Tensor> for ArrayD<T> {
    type Error = Error;

    fn try_from(tensor: &Tensor) -> Result<ArrayD<T>> {
        tensor.to_array()
    }
}
