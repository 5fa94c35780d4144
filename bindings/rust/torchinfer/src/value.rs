//! [`Value`]: an argument of any TorchScript type (lists, tuples, dicts, `Optional`, `str`,
//! scalars and tensors), borrowing its tensors, and [`Key`], a dict key.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::Tensor;

/// An argument of a method call of any TorchScript type, nested to any depth: what
/// [`Model::run_values`](crate::Model::run_values) and [`Inputs::set`](crate::Inputs::set)
/// take. Tensors are borrowed (the library keeps its own reference once a value is set), so a
/// `Value` is cheap to build around tensors you already have.
///
/// The library builds each argument from the method's declared type, never from the value's
/// shape: a `Value` only says what sits at which path. So [`List`](Value::List) and
/// [`Tuple`](Value::Tuple) differ only in intent (both give the elements the paths `0`, `1`,
/// ...), an empty list, tuple or dict sets "empty" (the declared element type is used), and
/// [`Value::None`] fits any `Optional[...]`.
///
/// Most values come from `From` impls: `&Tensor`; `i64`, `i32` (and the smaller integers),
/// `f64`, `f32`, `bool`; `&str`, `String`, `Cow<str>`; `Option<T>` (`None` is
/// [`Value::None`]); `Vec<T>`, `&[T]` and arrays of values (lists: `Vec<&Tensor>`,
/// `Vec<&str>`, `Vec<(A, B)>`, ...); 2- and 3-tuples; `HashMap` and `BTreeMap` with `&str`,
/// `String`, integer or `bool` keys (dicts: `HashMap<&str, &Tensor>`, `HashMap<i64, Value>`, ...).
///
/// ```
/// use std::collections::HashMap;
/// use torchinfer::{Model, Tensor, Value};
/// # fn main() -> torchinfer::Result<()> {
/// # let dir = std::env::var("TORCHINFER_TEST_MODELS")
/// #     .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../build/models").into());
/// // dict_input.pt: forward(batch: Dict[str, Tensor]) -> (input_ids * attention_mask).sum(-1)
/// let model = Model::load(format!("{dir}/dict_input.pt"))?;
/// let ids = Tensor::from_slice(&[1i64, 2, 3, 4], &[1, 4])?;
/// let mask = Tensor::from_slice(&[1i64, 1, 0, 1], &[1, 4])?;
/// let batch = HashMap::from([("input_ids", &ids), ("attention_mask", &mask)]);
/// let out = model.run_values(None, &[("batch", batch.into())])?;
/// assert_eq!(out.to_vec::<f32>(0)?, [7.0]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub enum Value<'a> {
    /// A tensor (also fits an `int`, `float` or `bool` argument when it has one element).
    Tensor(&'a Tensor),
    /// An `int` (also fits a `float` or `Scalar` argument).
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `bool`.
    Bool(bool),
    /// A `str` (NUL bytes inside are kept).
    Str(Cow<'a, str>),
    /// `None`, for an `Optional[...]`.
    None,
    /// A list: element `i` at path segment `i`. Empty: an empty list of the declared type.
    List(Vec<Value<'a>>),
    /// A tuple: element `i` at path segment `i`.
    Tuple(Vec<Value<'a>>),
    /// A dict: each value at its key's segment. Empty: an empty dict of the declared type.
    Dict(Vec<(Key<'a>, Value<'a>)>),
}

/// A dict key: a `str` (as its text, escaped in paths), an `int` (in decimal) or a `bool`
/// (`True` / `False`). Made by `From` from `&str`, `String`, `Cow<str>`, the integer types and
/// `bool`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key<'a> {
    /// A `str` key.
    Str(Cow<'a, str>),
    /// An `int` key.
    Int(i64),
    /// A `bool` key.
    Bool(bool),
}

impl Key<'_> {
    /// The key as one path segment: a `str` escaped with [`escape_path_segment`], an `int` in
    /// decimal, a `bool` as `True` / `False`.
    pub fn to_segment(&self) -> Cow<'_, str> {
        match self {
            Key::Str(s) => escape_path_segment(s),
            Key::Int(i) => Cow::Owned(i.to_string()),
            Key::Bool(true) => Cow::Borrowed("True"),
            Key::Bool(false) => Cow::Borrowed("False"),
        }
    }
}

/// Escapes a dict key for use as one segment of a path (the grammar of `torchinfer.h`,
/// "Paths"): `\` becomes `\\`, then `.` becomes `\.`. Output leaf names use the same escaping:
/// a result dict key `"p.q"` is the leaf `"<parent>.p\.q"`.
///
/// ```
/// use torchinfer::escape_path_segment;
/// assert_eq!(escape_path_segment("input_ids"), "input_ids");
/// assert_eq!(escape_path_segment("p.q"), r"p\.q");
/// assert_eq!(escape_path_segment(r"a\b.c"), r"a\\b\.c");
/// ```
pub fn escape_path_segment(key: &str) -> Cow<'_, str> {
    if key.contains(['\\', '.']) {
        Cow::Owned(key.replace('\\', r"\\").replace('.', r"\."))
    } else {
        Cow::Borrowed(key)
    }
}

impl<'a> Value<'a> {
    /// A dict from `(key, value)` pairs, in their order (for keys and values of any of the
    /// `From` types, where a map type would not do: e.g. a `Vec` of pairs).
    ///
    /// ```
    /// use torchinfer::{Key, Value};
    /// let d = Value::dict([(1i64, "one"), (-2, "minus two")]);
    /// let Value::Dict(entries) = d else { unreachable!() };
    /// assert_eq!(entries[1].0, Key::Int(-2));
    /// ```
    pub fn dict<K: Into<Key<'a>>, V: Into<Value<'a>>>(
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> Value<'a> {
        Value::Dict(
            entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// A tuple of values of any of the `From` types (for tuples longer than the 2- and
    /// 3-tuples that convert with `From`).
    pub fn tuple(elements: impl IntoIterator<Item = Value<'a>>) -> Value<'a> {
        Value::Tuple(elements.into_iter().collect())
    }
}

impl<'a> From<&'a Tensor> for Value<'a> {
    fn from(t: &'a Tensor) -> Value<'a> {
        Value::Tensor(t)
    }
}

macro_rules! ints {
    ($($t:ty)*) => {$(
        impl From<$t> for Value<'_> {
            fn from(v: $t) -> Self {
                Value::Int(i64::from(v))
            }
        }
        impl From<$t> for Key<'_> {
            fn from(v: $t) -> Self {
                Key::Int(i64::from(v))
            }
        }
    )*};
}
ints!(i64 i32 i16 i8 u32 u16 u8);

impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<f32> for Value<'_> {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}

impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Value<'a> {
        Value::Str(Cow::Borrowed(s))
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(s: &'a String) -> Value<'a> {
        Value::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::Str(Cow::Owned(s))
    }
}

impl<'a> From<Cow<'a, str>> for Value<'a> {
    fn from(s: Cow<'a, str>) -> Value<'a> {
        Value::Str(s)
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Value<'a> {
        v.map_or(Value::None, Into::into)
    }
}

impl<'a, T: Into<Value<'a>>> From<Vec<T>> for Value<'a> {
    fn from(v: Vec<T>) -> Value<'a> {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

impl<'a, T: Clone + Into<Value<'a>>> From<&[T]> for Value<'a> {
    fn from(v: &[T]) -> Value<'a> {
        Value::List(v.iter().cloned().map(Into::into).collect())
    }
}

impl<'a, T: Into<Value<'a>>, const N: usize> From<[T; N]> for Value<'a> {
    fn from(v: [T; N]) -> Value<'a> {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

impl<'a, A: Into<Value<'a>>, B: Into<Value<'a>>> From<(A, B)> for Value<'a> {
    fn from((a, b): (A, B)) -> Value<'a> {
        Value::Tuple(vec![a.into(), b.into()])
    }
}

impl<'a, A: Into<Value<'a>>, B: Into<Value<'a>>, C: Into<Value<'a>>> From<(A, B, C)> for Value<'a> {
    fn from((a, b, c): (A, B, C)) -> Value<'a> {
        Value::Tuple(vec![a.into(), b.into(), c.into()])
    }
}

impl<'a, K: Into<Key<'a>>, V: Into<Value<'a>>, H: BuildHasher> From<HashMap<K, V, H>>
    for Value<'a>
{
    fn from(m: HashMap<K, V, H>) -> Value<'a> {
        Value::dict(m)
    }
}

impl<'a, K: Into<Key<'a>>, V: Into<Value<'a>>> From<BTreeMap<K, V>> for Value<'a> {
    fn from(m: BTreeMap<K, V>) -> Value<'a> {
        Value::dict(m)
    }
}

impl<'a> From<&'a str> for Key<'a> {
    fn from(s: &'a str) -> Key<'a> {
        Key::Str(Cow::Borrowed(s))
    }
}

impl<'a> From<&'a String> for Key<'a> {
    fn from(s: &'a String) -> Key<'a> {
        Key::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Key<'_> {
    fn from(s: String) -> Self {
        Key::Str(Cow::Owned(s))
    }
}

impl<'a> From<Cow<'a, str>> for Key<'a> {
    fn from(s: Cow<'a, str>) -> Key<'a> {
        Key::Str(s)
    }
}

impl From<bool> for Key<'_> {
    fn from(v: bool) -> Self {
        Key::Bool(v)
    }
}
