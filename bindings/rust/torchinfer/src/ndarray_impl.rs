//! Conversions between [`Tensor`] and `ndarray` arrays (feature `ndarray`).

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};

use crate::{Code, Element, Error, Result, Tensor};

impl Tensor {
    /// Creates a CPU tensor holding a copy of an `ndarray` array (any layout; copied row-major).
    ///
    /// ```
    /// use ndarray::array;
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

    /// Copies the tensor into an `ndarray::ArrayD` (from any device).
    ///
    /// Errors: [`Code::InvalidArgument`] when `T` is not the tensor's element type.
    pub fn to_array<T: Element>(&self) -> Result<ArrayD<T>> {
        let data = self.to_vec::<T>()?;
        let shape: Vec<usize> = self.shape().iter().map(|&d| d as usize).collect();
        ArrayD::from_shape_vec(IxDyn(&shape), data)
            .map_err(|e| Error::local(Code::Internal, format!("tensor shape: {e}")))
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
