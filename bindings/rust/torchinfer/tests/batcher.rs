//! The dynamic batcher (issue 17) on batch_rows.pt:
//!   forward(x) -> {"y": x * 2 + 1, "rows": full([B], B)}   (B: the rows of the call it ran in)
//!   bad(x)     -> x * 2, raising when an element is -999 (the sentinel)
//!   scalar(x)  -> x.sum() (cannot be split by rows: the batcher falls back to single calls)
//! Assertions are on values, not timings, except for generous "returned at once" bounds. Every
//! test holds a `LeakCheck` (declared first, dropped last).

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::{model_path, LeakCheck};
use torchinfer::{Batcher, BatcherOptions, BatcherStats, Code, Model, RunOptions, Tensor};

/// The longest delay the library takes: a worker waits this long for more rows, so a request
/// stays queued for the whole test unless something takes it out.
const FOREVER: Duration = Duration::from_secs(10);
/// How long a request that should return at once may take on a loaded 2-core machine.
const AT_ONCE: Duration = Duration::from_secs(3);

fn model() -> Arc<Model> {
    Arc::new(Model::load(model_path("batch_rows.pt")).unwrap())
}

/// A distinct [rows, 4] input for caller `i` in round `r`.
fn input(i: usize, r: usize, rows: usize) -> (Vec<f32>, Tensor) {
    let data: Vec<f32> = (0..rows * 4)
        .map(|k| (i * 1000 + r * 100 + k) as f32 * 0.5 - 7.0)
        .collect();
    let t = Tensor::from_slice(&data, &[rows as i64, 4]).unwrap();
    (data, t)
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Batcher>();
    send_sync::<BatcherOptions>();
    assert_eq!(
        Code::from_raw(torchinfer::sys::TI_ERR_UNAVAILABLE),
        Code::Unavailable
    );
    assert_eq!(Code::Unavailable.name(), "TI_ERR_UNAVAILABLE");
    assert_eq!(
        BatcherStats {
            requests: 6,
            batches: 2
        }
        .mean_batch_size(),
        3.0
    );
    assert_eq!(BatcherStats::default().mean_batch_size(), 0.0);
}

/// 32 threads, distinct inputs of 1 or 2 rows, several rounds: each gets its own rows back,
/// equal to a direct predict, and some calls ran with more rows than one request had.
#[test]
fn thirty_two_threads_get_their_own_rows() {
    let _leaks = LeakCheck::new();
    let model = model();
    for workers in [1, 2] {
        let batcher = Batcher::builder()
            .max_batch(32)
            .max_delay(Duration::from_millis(5))
            .workers(workers)
            .start(Arc::clone(&model))
            .unwrap();
        const THREADS: usize = 32;
        const ROUNDS: usize = 4;
        let barrier = Barrier::new(THREADS);
        let max_rows = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|i| {
                    let (batcher, model, barrier) = (&batcher, &model, &barrier);
                    s.spawn(move || {
                        let mut max_rows = 0;
                        for r in 0..ROUNDS {
                            let rows = 1 + i % 2;
                            let (data, x) = input(i, r, rows);
                            barrier.wait();
                            let out = batcher.run(&[&x]).unwrap();
                            let direct = model.predict(&[&x]).unwrap();
                            assert_eq!(
                                out.names().collect::<Vec<_>>(),
                                direct.names().collect::<Vec<_>>()
                            );
                            let y_at = out.index_of("y").unwrap();
                            assert_eq!(out.shape(y_at), Some(&[rows as i64, 4][..]));
                            let y = out.to_vec::<f32>(y_at).unwrap();
                            let want: Vec<f32> = data.iter().map(|v| v * 2.0 + 1.0).collect();
                            assert_eq!(y, want, "thread {i} round {r}: its own rows");
                            assert_eq!(y, direct.to_vec::<f32>(y_at).unwrap());
                            let batch_rows =
                                out.to_vec::<i64>(out.index_of("rows").unwrap()).unwrap();
                            assert_eq!(batch_rows.len(), rows);
                            assert!(batch_rows.iter().all(|&b| b == batch_rows[0]));
                            assert!(batch_rows[0] >= rows as i64 && batch_rows[0] <= 32);
                            max_rows = max_rows.max(batch_rows[0]);
                        }
                        max_rows
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .max()
                .unwrap()
        });
        let stats = batcher.stats();
        eprintln!("workers {workers}: {stats:?}, largest call {max_rows} rows");
        assert_eq!(stats.requests, (THREADS * ROUNDS) as u64);
        assert!(
            max_rows > 2,
            "workers {workers}: no call ran more rows than one request had ({stats:?})"
        );
        assert!(stats.batches < stats.requests, "{stats:?}");
        assert!(stats.mean_batch_size() > 1.0, "{stats:?}");
    }
    assert_eq!(
        Arc::strong_count(&model),
        1,
        "the batchers gave their model back"
    );
}

/// Only the request holding the sentinel fails; the others in its batch get their results.
#[test]
fn a_bad_request_fails_alone() {
    let _leaks = LeakCheck::new();
    let batcher = Batcher::builder()
        .method("bad")
        .max_delay(Duration::from_millis(20))
        .start(Model::load(model_path("batch_rows.pt")).unwrap())
        .unwrap();
    const THREADS: usize = 8;
    for round in 0..3 {
        let barrier = Barrier::new(THREADS);
        std::thread::scope(|s| {
            for i in 0..THREADS {
                let (batcher, barrier) = (&batcher, &barrier);
                s.spawn(move || {
                    let (mut data, _) = input(i, round, 1);
                    if i == 3 {
                        data[2] = -999.0;
                    }
                    let x = Tensor::from_slice(&data, &[1, 4]).unwrap();
                    barrier.wait();
                    let result = batcher.run(&[&x]);
                    if i == 3 {
                        let err = result.unwrap_err();
                        assert_eq!(err.code(), Code::Runtime, "{err}");
                        assert!(err.message().contains("sentinel"), "{err}");
                    } else {
                        let out = result.unwrap_or_else(|e| panic!("thread {i}: {e}"));
                        let want: Vec<f32> = data.iter().map(|v| v * 2.0).collect();
                        assert_eq!(out.to_vec::<f32>(0).unwrap(), want);
                    }
                });
            }
        });
    }
    assert_eq!(batcher.stats().requests, 3 * THREADS as u64);
}

/// A result that cannot be split by rows: each request still gets its own, as a direct call.
#[test]
fn unsplittable_results_fall_back_to_single_calls() {
    let _leaks = LeakCheck::new();
    let model = model();
    let batcher = Batcher::builder()
        .method("scalar")
        .max_delay(Duration::from_millis(5))
        .start(Arc::clone(&model))
        .unwrap();
    const THREADS: usize = 8;
    for round in 0..3 {
        let barrier = Barrier::new(THREADS);
        std::thread::scope(|s| {
            for i in 0..THREADS {
                let (batcher, barrier, model) = (&batcher, &barrier, &model);
                s.spawn(move || {
                    let (_, x) = input(i, round, 1 + i % 3);
                    barrier.wait();
                    let out = batcher.run(&[&x]).unwrap();
                    let direct = model.run_method("scalar", &[&x]).unwrap();
                    assert_eq!(out.shape(0), Some(&[][..]));
                    assert_eq!(
                        out.to_vec::<f32>(0).unwrap(),
                        direct.to_vec::<f32>(0).unwrap()
                    );
                });
            }
        });
    }
    assert_eq!(batcher.stats().requests, 3 * THREADS as u64);
}

/// A request cancelled (or past its deadline) while queued returns at once; the batcher and
/// the next request are unaffected.
#[test]
fn cancel_and_deadline_while_queued() {
    let _leaks = LeakCheck::new();
    let model = model();
    // One worker waiting up to 10 s for 1000 rows: a lone request stays queued.
    let batcher = Batcher::builder()
        .max_batch(1000)
        .max_delay(FOREVER)
        .start(Arc::clone(&model))
        .unwrap();
    let (_, x) = input(1, 0, 1);

    let opts = RunOptions::new();
    let cancel = opts.cancel_handle();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            let start = Instant::now();
            let result = batcher.run_with(&[&x], &opts);
            (result.map(|_| ()), start.elapsed())
        });
        std::thread::sleep(Duration::from_millis(300));
        let cancelled_at = Instant::now();
        cancel.cancel();
        let (result, elapsed) = waiter.join().unwrap();
        let err = result.unwrap_err();
        assert_eq!(err.code(), Code::Cancelled, "{err}");
        assert!(
            elapsed >= Duration::from_millis(250),
            "returned before the cancel: {elapsed:?}"
        );
        assert!(
            cancelled_at.elapsed() < AT_ONCE,
            "cancel took {:?}",
            cancelled_at.elapsed()
        );
    });

    let timed = RunOptions::new().with_timeout(Duration::from_millis(300));
    let start = Instant::now();
    let err = batcher.run_with(&[&x], &timed).unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err}");
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(300) + AT_ONCE,
        "{elapsed:?}"
    );

    // Cancelled before it is queued: fails at once.
    let err = batcher.run_with(&[&x], &opts).unwrap_err();
    assert_eq!(err.code(), Code::Cancelled, "{err}");
    drop(batcher);

    // A batcher without a delay answers at once, with its own rows.
    let quick = Batcher::new(Arc::clone(&model), &BatcherOptions::new()).unwrap();
    let out = quick.run_with(&[&x], &RunOptions::new()).unwrap();
    assert_eq!(
        out.to_vec::<f32>(out.index_of("y").unwrap()).unwrap(),
        model.predict(&[&x]).unwrap().to_vec::<f32>(0).unwrap()
    );
}

/// A full queue answers Unavailable at once; the queued requests are then cancelled.
#[test]
fn a_full_queue_is_unavailable() {
    let _leaks = LeakCheck::new();
    let batcher = Batcher::builder()
        .max_batch(1000)
        .max_delay(FOREVER)
        .max_queue(1)
        .start(model())
        .unwrap();
    const REQUESTS: usize = 4;
    let options: Vec<RunOptions> = (0..REQUESTS).map(|_| RunOptions::new()).collect();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        for (i, opts) in options.iter().enumerate() {
            let (batcher, tx) = (&batcher, tx.clone());
            s.spawn(move || {
                let (_, x) = input(i, 0, 1);
                let code = batcher
                    .run_with(&[&x], opts)
                    .map(|_| ())
                    .map_err(|e| e.code());
                tx.send(code).unwrap();
            });
        }
        // At least one is refused at once, while the others wait.
        let first = rx.recv_timeout(AT_ONCE).expect("no request was refused");
        assert_eq!(first, Err(Code::Unavailable));
        for opts in &options {
            opts.cancel();
        }
    });
    drop(tx);
    let rest: Vec<_> = rx.iter().collect();
    assert_eq!(rest.len(), REQUESTS - 1);
    assert!(
        rest.iter()
            .all(|c| matches!(c, Err(Code::Unavailable) | Err(Code::Cancelled))),
        "{rest:?}"
    );
}

/// Dropping a batcher with requests queued fails them with Unavailable. In safe Rust the
/// borrow checker rules this out (`Drop` needs ownership, so no `run` can be in flight), so
/// the requests here enter through the raw handle, as the C API allows: they must be queued
/// before the free starts.
#[test]
fn drop_with_queued_requests_fails_them_unavailable() {
    let _leaks = LeakCheck::new();
    let batcher = Batcher::builder()
        .max_batch(1000)
        .max_delay(FOREVER)
        .workers(2)
        .start(model())
        .unwrap();
    let raw = batcher.as_raw() as usize;
    const REQUESTS: usize = 3;
    let barrier = Arc::new(Barrier::new(REQUESTS + 1));
    let threads: Vec<_> = (0..REQUESTS)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let (_, x) = input(i, 0, 1);
                let handles = [x.as_raw()];
                let mut out = std::ptr::null_mut();
                barrier.wait();
                let start = Instant::now();
                // SAFETY: the batcher is live until the main thread drops it, which happens
                // only after this call has queued its request (it sleeps first); the C API
                // lets queued calls be failed by ti_batcher_free. `x` outlives the call.
                let err = unsafe {
                    torchinfer::sys::ti_batcher_run(
                        raw as *mut torchinfer::sys::ti_batcher_t,
                        std::ptr::null(),
                        handles.as_ptr(),
                        1,
                        std::ptr::null(),
                        &mut out,
                    )
                };
                assert!(out.is_null());
                // SAFETY: an error we own, read and freed once.
                let code = unsafe {
                    let code = torchinfer::sys::ti_error_code(err);
                    torchinfer::sys::ti_error_free(err);
                    code
                };
                (Code::from_raw(code), start.elapsed())
            })
        })
        .collect();
    barrier.wait();
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    drop(batcher);
    assert!(start.elapsed() < AT_ONCE, "drop took {:?}", start.elapsed());
    for t in threads {
        let (code, elapsed) = t.join().unwrap();
        assert_eq!(code, Code::Unavailable);
        assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
        assert!(elapsed < FOREVER, "{elapsed:?}");
    }
}

#[test]
fn named_inputs_and_argument_errors() {
    let _leaks = LeakCheck::new();
    let model = model();
    let batcher = Batcher::new(Arc::clone(&model), &BatcherOptions::new().max_batch(4)).unwrap();
    assert!(Arc::ptr_eq(batcher.model(), &model));
    let (data, x) = input(5, 5, 3);
    let want: Vec<f32> = data.iter().map(|v| v * 2.0 + 1.0).collect();
    let y = |out: torchinfer::Outputs| out.to_vec::<f32>(out.index_of("y").unwrap()).unwrap();
    assert_eq!(y(batcher.run_named(&[("x", &x)]).unwrap()), want);
    assert_eq!(
        y(batcher
            .run_named_with(&[("x", &x)], &RunOptions::new())
            .unwrap()),
        want
    );
    let owned = vec![x];
    assert_eq!(y(batcher.run(&owned).unwrap()), want);
    // More rows than max_batch: runs alone.
    let (data, big) = input(6, 0, 9);
    let out = batcher.run(&[&big]).unwrap();
    assert_eq!(
        out.to_vec::<i64>(out.index_of("rows").unwrap()).unwrap(),
        [9; 9]
    );
    assert_eq!(
        out.to_vec::<f32>(out.index_of("y").unwrap()).unwrap(),
        data.iter().map(|v| v * 2.0 + 1.0).collect::<Vec<_>>()
    );

    // No batch dimension; no inputs (compiles without annotations); a wrong name.
    let scalar = Tensor::scalar(1f32).unwrap();
    let err = batcher.run(&[&scalar]).unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err}");
    assert_eq!(batcher.run(&[]).unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(
        batcher
            .run_named(&[("nope", &owned[0])])
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
    assert_eq!(
        batcher.run_named(&[("x\0", &owned[0])]).unwrap_err().code(),
        Code::InvalidArgument
    );
    let stats = batcher.stats();
    assert!(stats.requests >= 4, "{stats:?}");
    assert!(format!("{batcher:?}").contains("requests"));
}

#[test]
fn options_are_checked_when_the_batcher_starts() {
    let _leaks = LeakCheck::new();
    let model = model();
    let start = |o: BatcherOptions| {
        o.start(Arc::clone(&model))
            .map(|_| ())
            .map_err(|e| e.code())
    };
    assert_eq!(
        start(BatcherOptions::new().max_batch(0)),
        Err(Code::InvalidArgument)
    );
    assert_eq!(
        start(BatcherOptions::new().max_queue(0)),
        Err(Code::InvalidArgument)
    );
    assert_eq!(
        start(BatcherOptions::new().workers(0)),
        Err(Code::InvalidArgument)
    );
    assert_eq!(
        start(BatcherOptions::new().workers(257)),
        Err(Code::InvalidArgument)
    );
    assert_eq!(
        start(BatcherOptions::new().max_delay(FOREVER + Duration::from_micros(1))),
        Err(Code::InvalidArgument)
    );
    assert_eq!(
        start(BatcherOptions::new().method("nope")),
        Err(Code::NotFound)
    );
    assert_eq!(
        start(BatcherOptions::new().method("no\0pe")),
        Err(Code::InvalidArgument)
    );
    assert_eq!(
        start(
            BatcherOptions::new()
                .max_batch(1)
                .max_queue(1)
                .workers(256)
                .max_delay(FOREVER)
                .method("bad")
        ),
        Ok(())
    );
    assert_eq!(Arc::strong_count(&model), 1);
}
