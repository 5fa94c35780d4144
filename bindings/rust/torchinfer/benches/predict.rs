//! predict + get + to_vec on the tiny MLP (mlp.pt, input [1, 16]) through the safe API and
//! through the same calls made directly on torchinfer-sys; the difference is the safe layer's
//! cost. A second pair isolates that cost without a model: create a tensor and copy it out.
//!
//!     cargo bench -p torchinfer --bench predict
//!
//! Uses $TORCHINFER_TEST_MODELS (default <repo>/build/models) and one intra-op thread.

use std::hint::black_box;
use std::path::PathBuf;
use std::ptr;

use std::time::Instant;

use criterion::{criterion_group, Criterion};
use torchinfer::{sys, Model, Tensor};

fn mlp_path() -> PathBuf {
    std::env::var_os("TORCHINFER_TEST_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../build/models"))
        .join("mlp.pt")
}

fn safe_call(model: &Model, x: &Tensor) -> Vec<f32> {
    let outputs = model.predict(&[x]).unwrap();
    outputs.get(0).unwrap().to_vec::<f32>().unwrap()
}

fn raw_call(model: &Model, x: &Tensor) -> [f32; 4] {
    // SAFETY: live model and tensor; every handle made here is freed here.
    unsafe {
        let inputs = [x.as_raw()];
        let mut out = ptr::null_mut();
        let err = sys::ti_model_predict(model.as_raw(), inputs.as_ptr(), 1, &mut out);
        assert!(err.is_null());
        let mut t = ptr::null_mut();
        let err = sys::ti_outputs_get(out, 0, &mut t);
        assert!(err.is_null());
        let mut y = [0f32; 4];
        let err = sys::ti_tensor_copy_to(t, y.as_mut_ptr().cast(), 16);
        assert!(err.is_null());
        sys::ti_tensor_free(t);
        sys::ti_outputs_free(out);
        y
    }
}

fn safe_tensor(data: &[f32]) -> Vec<f32> {
    let t = Tensor::from_slice(data, &[1, 16]).unwrap();
    t.to_vec::<f32>().unwrap()
}

fn raw_tensor(data: &[f32]) -> [f32; 16] {
    // SAFETY: every handle made here is freed here; buffers have the stated sizes.
    unsafe {
        let shape = [1i64, 16];
        let mut t = ptr::null_mut();
        let err = sys::ti_tensor_create(
            sys::TI_DTYPE_FLOAT32,
            shape.as_ptr(),
            2,
            data.as_ptr().cast(),
            64,
            &mut t,
        );
        assert!(err.is_null());
        let mut y = [0f32; 16];
        let err = sys::ti_tensor_copy_to(t, y.as_mut_ptr().cast(), 64);
        assert!(err.is_null());
        sys::ti_tensor_free(t);
        y
    }
}

fn bench(c: &mut Criterion) {
    torchinfer::set_num_threads(1).unwrap();
    let model = Model::load(mlp_path()).unwrap();
    let data: Vec<f32> = (0..16).map(|i| i as f32 / 8.0 - 1.0).collect();
    let x = Tensor::from_slice(&data, &[1, 16]).unwrap();

    let mut group = c.benchmark_group("mlp_predict_get_to_vec");
    group.bench_function("safe", |b| b.iter(|| safe_call(&model, black_box(&x))));
    group.bench_function("raw_sys", |b| b.iter(|| raw_call(&model, black_box(&x))));
    group.finish();

    // The wrapper cost alone, without a model run: create a [1, 16] tensor and copy it out.
    let mut group = c.benchmark_group("tensor_create_to_vec");
    group.bench_function("safe", |b| b.iter(|| safe_tensor(black_box(&data))));
    group.bench_function("raw_sys", |b| b.iter(|| raw_tensor(black_box(&data))));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
/// Safe-minus-raw per call, measured in alternating rounds so that load from other processes
/// hits both sides alike: prints the median and quartiles of the per-round difference.
fn paired(what: &str, mut safe: impl FnMut(), mut raw: impl FnMut()) {
    const ROUNDS: usize = 200;
    const CALLS: u32 = 500;
    let mut time = |safe_side: bool| {
        let start = Instant::now();
        for _ in 0..CALLS {
            if safe_side {
                safe()
            } else {
                raw()
            }
        }
        start.elapsed().as_secs_f64() * 1e9 / CALLS as f64
    };
    let mut diffs = Vec::with_capacity(ROUNDS);
    let mut raw_times = Vec::with_capacity(ROUNDS);
    let mut safe_times = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        // Alternate which side goes first.
        let (s, r) = if round % 2 == 0 {
            let s = time(true);
            (s, time(false))
        } else {
            let r = time(false);
            (time(true), r)
        };
        diffs.push(s - r);
        raw_times.push(r);
        safe_times.push(s);
    }
    diffs.sort_by(f64::total_cmp);
    raw_times.sort_by(f64::total_cmp);
    safe_times.sort_by(f64::total_cmp);
    let q = |v: &[f64], f: f64| v[((v.len() - 1) as f64 * f) as usize];
    println!(
        "paired overhead {what} ({ROUNDS} rounds x {CALLS} calls): safe - raw median {:+.0} ns/call \
         (quartiles {:+.0} .. {:+.0}); medians: safe {:.0} ns/call, raw {:.0} ns/call",
        q(&diffs, 0.5),
        q(&diffs, 0.25),
        q(&diffs, 0.75),
        q(&safe_times, 0.5),
        q(&raw_times, 0.5)
    );
}

fn paired_overheads() {
    torchinfer::set_num_threads(1).unwrap();
    let model = Model::load(mlp_path()).unwrap();
    let data: Vec<f32> = (0..16).map(|i| i as f32 / 8.0 - 1.0).collect();
    let x = Tensor::from_slice(&data, &[1, 16]).unwrap();
    paired(
        "mlp_predict_get_to_vec",
        || {
            black_box(safe_call(&model, black_box(&x)));
        },
        || {
            black_box(raw_call(&model, black_box(&x)));
        },
    );
    paired(
        "tensor_create_to_vec",
        || {
            black_box(safe_tensor(black_box(&data)));
        },
        || {
            black_box(raw_tensor(black_box(&data)));
        },
    );
}

fn main() {
    benches();
    if std::env::args().any(|a| a == "--bench") {
        paired_overheads();
    }
    Criterion::default().configure_from_args().final_summary();
}
