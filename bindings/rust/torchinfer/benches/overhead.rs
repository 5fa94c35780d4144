//! The safe layer's cost per prediction, measured against the same loop through the raw
//! torchinfer-sys calls in one process: predict on the tiny MLP (mlp.pt, input [1, 16], one
//! intra-op thread) and copy the [1, 4] result out.
//!
//!     bindings/rust/bench.sh            (or: cargo bench -p torchinfer --bench overhead)
//!
//! Besides the three ways of copying the result out, it measures the raw loop against itself
//! (the harness's noise floor, which should be about 0) and `predict` alone.
//!
//! Rounds alternate the two sides (which one goes first flips every round), so load from other
//! processes hits both alike. Each round times CALLS calls of each side; the medians over the
//! rounds are reported, and the overhead is the median of the per-round differences. The last
//! line is the one the repository's benchmark aggregation reads:
//!
//!     RESULT rust binding_us=<median safe> c_us=<median raw> over_c_us=<median of safe - raw>
//!
//! Environment: TORCHINFER_TEST_MODELS (default <repo>/build/models), BENCH_ROUNDS (default
//! 4000), BENCH_CALLS (calls per side and round, default 25).

use std::hint::black_box;
use std::path::PathBuf;
use std::ptr;
use std::time::Instant;

use torchinfer::{sys, Model, Tensor};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The binding: predict, then copy leaf 0 into caller memory.
fn safe_copy_to(model: &Model, x: &Tensor) -> [f32; 4] {
    let mut y = [0f32; 4];
    model.predict(&[x]).unwrap().copy_to(0, &mut y).unwrap();
    y
}

/// The binding, returning a Vec (one allocation more than the raw loop makes).
fn safe_to_vec(model: &Model, x: &Tensor) -> Vec<f32> {
    model.predict(&[x]).unwrap().to_vec::<f32>(0).unwrap()
}

/// The binding through a tensor handle (the API before Outputs::copy_to / to_vec).
fn safe_get_to_vec(model: &Model, x: &Tensor) -> Vec<f32> {
    model
        .predict(&[x])
        .unwrap()
        .get(0)
        .unwrap()
        .to_vec::<f32>()
        .unwrap()
}

/// The same work through the raw calls: ti_model_predict, ti_outputs_copy_to into a stack
/// array, ti_outputs_free.
fn raw(model: *mut sys::ti_model_t, x: *const sys::ti_tensor_t) -> [f32; 4] {
    // SAFETY: live model and tensor; the outputs made here are freed here; `y` holds 16 bytes.
    unsafe {
        let inputs = [x];
        let mut out = ptr::null_mut();
        let err = sys::ti_model_predict(model, inputs.as_ptr(), 1, &mut out);
        assert!(err.is_null());
        let mut y = [0f32; 4];
        let err = sys::ti_outputs_copy_to(out, 0, y.as_mut_ptr().cast(), 16);
        assert!(err.is_null());
        sys::ti_outputs_free(out);
        y
    }
}

/// ti_model_predict and ti_outputs_free only.
fn raw_predict_only(model: *mut sys::ti_model_t, x: *const sys::ti_tensor_t) {
    // SAFETY: live model and tensor; the outputs made here are freed here.
    unsafe {
        let inputs = [x];
        let mut out = ptr::null_mut();
        let err = sys::ti_model_predict(model, inputs.as_ptr(), 1, &mut out);
        assert!(err.is_null());
        sys::ti_outputs_free(black_box(out));
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn quartiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 4], v[v.len() * 3 / 4])
}

/// Per-call microseconds of both sides, paired by round: (safe, raw, safe - raw) medians.
fn paired(what: &str, mut safe: impl FnMut(), mut raw: impl FnMut()) -> (f64, f64, f64) {
    let rounds = env_usize("BENCH_ROUNDS", 4000).max(1);
    let calls = env_usize("BENCH_CALLS", 25).max(1);
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..calls {
            f();
        }
        start.elapsed().as_secs_f64() * 1e6 / calls as f64
    };
    // Warm up both sides (allocator, caches, LibTorch's first-call work).
    for _ in 0..5 {
        time(&mut safe);
        time(&mut raw);
    }
    let (mut s, mut r, mut d) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (ts, tr) = if round % 2 == 0 {
            let ts = time(&mut safe);
            (ts, time(&mut raw))
        } else {
            let tr = time(&mut raw);
            (time(&mut safe), tr)
        };
        s.push(ts);
        r.push(tr);
        d.push(ts - tr);
    }
    let (q1, q3) = quartiles(&mut d);
    let (ms, mr, md) = (median(&mut s), median(&mut r), median(&mut d));
    println!(
        "{what}: safe {ms:.3} us, raw {mr:.3} us, safe - raw {:+.0} ns (quartiles {:+.0} .. {:+.0} ns; \
         {rounds} rounds x {calls} calls per side)",
        md * 1e3,
        q1 * 1e3,
        q3 * 1e3
    );
    (ms, mr, md)
}

fn main() {
    let dir = std::env::var_os("TORCHINFER_TEST_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../build/models"));
    torchinfer::set_num_threads(1).unwrap();
    let model = Model::load(dir.join("mlp.pt")).unwrap();
    let data: Vec<f32> = (0..16).map(|i| i as f32 / 8.0 - 1.0).collect();
    let x = Tensor::from_slice(&data, &[1, 16]).unwrap();
    assert_eq!(safe_copy_to(&model, &x), raw(model.as_raw(), x.as_raw()));
    assert_eq!(safe_to_vec(&model, &x), raw(model.as_raw(), x.as_raw()));
    println!(
        "mlp.pt [1, 16] -> [1, 4], 1 intra-op thread, libtorchinfer {} (LibTorch {})",
        torchinfer::version(),
        torchinfer::torch_version()
    );

    let (m, t) = (model.as_raw(), x.as_raw());
    // The harness's own noise floor: the raw loop against itself.
    paired(
        "calibration: raw against raw",
        || {
            black_box(raw(black_box(m), black_box(t)));
        },
        || {
            black_box(raw(black_box(m), black_box(t)));
        },
    );
    paired(
        "predict alone (outputs dropped unread)",
        || {
            black_box(model.predict(&[black_box(&x)]).unwrap());
        },
        || raw_predict_only(black_box(m), black_box(t)),
    );
    paired(
        "predict + Outputs::to_vec (Vec)",
        || {
            black_box(safe_to_vec(&model, black_box(&x)));
        },
        || {
            black_box(raw(black_box(m), black_box(t)));
        },
    );
    paired(
        "predict + get + Tensor::to_vec (handle)",
        || {
            black_box(safe_get_to_vec(&model, black_box(&x)));
        },
        || {
            black_box(raw(black_box(m), black_box(t)));
        },
    );
    let (safe_us, raw_us, over_us) = paired(
        "predict + Outputs::copy_to (stack array)",
        || {
            black_box(safe_copy_to(&model, black_box(&x)));
        },
        || {
            black_box(raw(black_box(m), black_box(t)));
        },
    );
    println!("RESULT rust binding_us={safe_us:.3} c_us={raw_us:.3} over_c_us={over_us:.3}");
}
