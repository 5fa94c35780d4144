//! Shared helpers: fixture paths and a serialized live-handle check.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;
use torchinfer::{DType, Tensor};

/// The fixtures directory: $TORCHINFER_TEST_MODELS, else <repo>/build/models.
pub fn models_dir() -> PathBuf {
    match std::env::var_os("TORCHINFER_TEST_MODELS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../build/models"),
    }
}

pub fn model_path(name: &str) -> PathBuf {
    models_dir().join(name)
}

static HANDLES: Mutex<()> = Mutex::new(());

/// Serializes the tests of one binary (cargo runs them on parallel threads in one process) and
/// asserts, when dropped, that the live-handle count is back where it started. Declare it
/// first in a test so that it drops last.
pub struct LeakCheck {
    start: i64,
    _guard: MutexGuard<'static, ()>,
}

impl LeakCheck {
    pub fn new() -> LeakCheck {
        let guard = HANDLES.lock().unwrap_or_else(|e| e.into_inner());
        LeakCheck {
            start: torchinfer::live_handles(),
            _guard: guard,
        }
    }

    pub fn start(&self) -> i64 {
        self.start
    }
}

impl Drop for LeakCheck {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert_eq!(
                torchinfer::live_handles(),
                self.start,
                "live handles not back at their starting value"
            );
        }
    }
}

/// A scratch directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("torchinfer-rs-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// float16 bits -> f32.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0f32 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 => {
            if frac == 0.0 {
                sign * f32::INFINITY
            } else {
                f32::NAN
            }
        }
        _ => sign * (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

/// bfloat16 bits -> f32.
pub fn bf16_to_f32(b: u16) -> f32 {
    f32::from_bits((b as u32) << 16)
}

/// A tensor from a reference entry: {"dtype", "shape", "data"}.
pub fn tensor_from_json(spec: &Value) -> Tensor {
    let dtype = DType::from_name(spec["dtype"].as_str().unwrap()).expect("known dtype");
    let shape: Vec<i64> = spec["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let data = spec["data"].as_array().unwrap();
    let f = || data.iter().map(|v| v.as_f64().unwrap());
    let i = || data.iter().map(|v| v.as_i64().unwrap());
    match dtype {
        DType::Float32 => Tensor::from_slice(&f().map(|x| x as f32).collect::<Vec<_>>(), &shape),
        DType::Float64 => Tensor::from_slice(&f().collect::<Vec<_>>(), &shape),
        DType::Int8 => Tensor::from_slice(&i().map(|x| x as i8).collect::<Vec<_>>(), &shape),
        DType::UInt8 => Tensor::from_slice(&i().map(|x| x as u8).collect::<Vec<_>>(), &shape),
        DType::Int16 => Tensor::from_slice(&i().map(|x| x as i16).collect::<Vec<_>>(), &shape),
        DType::Int32 => Tensor::from_slice(&i().map(|x| x as i32).collect::<Vec<_>>(), &shape),
        DType::Int64 => Tensor::from_slice(&i().collect::<Vec<_>>(), &shape),
        DType::Bool => Tensor::from_slice(&i().map(|x| x != 0).collect::<Vec<_>>(), &shape),
        other => panic!("reference input dtype {other} not handled by this test"),
    }
    .unwrap()
}

/// Asserts that `got` has the dtype, shape and values of the reference leaf `want` ({"dtype",
/// "shape", "data"}), each value within `abs + rel * |want|`; `what` names the leaf in messages.
pub fn assert_leaf_matches(got: &Tensor, want: &Value, rel: f64, abs: f64, what: &str) {
    assert_eq!(
        got.dtype().name(),
        want["dtype"].as_str().unwrap(),
        "{what}: dtype"
    );
    let shape: Vec<i64> = want["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(got.shape(), shape.as_slice(), "{what}: shape");
    let want_values: Vec<f64> = want["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let got_values = values(got);
    assert_eq!(got_values.len(), want_values.len(), "{what}: numel");
    for (k, (g, w)) in got_values.iter().zip(&want_values).enumerate() {
        assert!(
            (g - w).abs() <= abs + rel * w.abs(),
            "{what}[{k}]: got {g}, want {w}"
        );
    }
}

/// The tensor's values as f64, whatever the dtype.
pub fn values(t: &Tensor) -> Vec<f64> {
    match t.dtype() {
        DType::Float32 => t
            .to_vec::<f32>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect(),
        DType::Float64 => t.to_vec::<f64>().unwrap(),
        DType::Float16 => t
            .to_half_bits()
            .unwrap()
            .into_iter()
            .map(|b| f16_to_f32(b) as f64)
            .collect(),
        DType::BFloat16 => t
            .to_half_bits()
            .unwrap()
            .into_iter()
            .map(|b| bf16_to_f32(b) as f64)
            .collect(),
        DType::Int8 => t
            .to_vec::<i8>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect(),
        DType::UInt8 => t
            .to_vec::<u8>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect(),
        DType::Int16 => t
            .to_vec::<i16>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect(),
        DType::Int32 => t
            .to_vec::<i32>()
            .unwrap()
            .into_iter()
            .map(f64::from)
            .collect(),
        DType::Int64 => t
            .to_vec::<i64>()
            .unwrap()
            .into_iter()
            .map(|x| x as f64)
            .collect(),
        DType::Bool => t
            .to_vec::<bool>()
            .unwrap()
            .into_iter()
            .map(|b| b as u8 as f64)
            .collect(),
        other => panic!("unexpected dtype {other}"),
    }
}
