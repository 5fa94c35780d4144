//! Shared helpers: fixture paths and a serialized live-handle check.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

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
