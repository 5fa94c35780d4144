//! torchinfer-serve: run predictions from async code (tokio) without blocking the executor,
//! with a timeout per request and cancellation when a request is abandoned.
//!
//!     torchinfer-serve SLOW.pt
//!
//! SLOW.pt is the `slow.pt` fixture: `forward(x: Tensor, n: int)` runs `n` rounds of
//! `x = tanh(x @ x)`, so `n` sets how long a request takes. The program makes three requests:
//!
//! 1. a short one, which completes;
//! 2. a long one with a 100 ms timeout, which fails with `TI_ERR_DEADLINE_EXCEEDED`;
//! 3. a long one without a timeout that the caller gives up on after 100 ms (its future is
//!    dropped, as when a client disconnects or a `select!` picks another branch): the guard
//!    cancels its run options, and the blocking thread is free again within milliseconds
//!    instead of running for minutes for a result nobody reads.
//!
//! The pattern to copy is `Server::predict`: `spawn_blocking` (a prediction blocks its thread
//! for the model's whole run, so it must not run on an executor thread), a semaphore that bounds
//! the number of concurrent runs, and a `CancelOnDrop` guard.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use torchinfer::{CancelHandle, Code, Model, Outputs, RunOptions, Tensor};

/// Cancels the run options of a request when dropped, unless disarmed. Dropping the future of
/// `Server::predict` before the blocking call returns drops this guard, which stops the call.
struct CancelOnDrop(Option<CancelHandle>);

impl CancelOnDrop {
    fn new(handle: CancelHandle) -> CancelOnDrop {
        CancelOnDrop(Some(handle))
    }

    /// The call has finished: nothing to cancel any more.
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take() {
            handle.cancel();
        }
    }
}

struct Server {
    model: Arc<Model>,
    /// Bounds the concurrent model runs: tokio's blocking pool has up to 512 threads, and each
    /// run already uses the model's intra-op threads.
    runs: Arc<Semaphore>,
}

impl Server {
    fn new(model: Model, max_concurrent_runs: usize) -> Server {
        Server {
            model: Arc::new(model),
            runs: Arc::new(Semaphore::new(max_concurrent_runs)),
        }
    }

    /// Runs `forward(inputs)` on a blocking thread, failing with `Code::DeadlineExceeded` after
    /// `timeout`. Dropping the returned future cancels the run.
    async fn predict(
        &self,
        inputs: Vec<Tensor>,
        timeout: Option<Duration>,
    ) -> Result<Outputs, torchinfer::Error> {
        let permit = Arc::clone(&self.runs)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let mut opts = RunOptions::new();
        opts.set_timeout(timeout);
        let guard = CancelOnDrop::new(opts.cancel_handle());
        let model = Arc::clone(&self.model);
        let joined = tokio::task::spawn_blocking(move || {
            let _permit = permit; // released when the run ends, however it ends
            let refs: Vec<&Tensor> = inputs.iter().collect();
            model.run_with(None, &refs, &opts)
        })
        .await;
        guard.disarm();
        match joined {
            Ok(result) => result,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    /// Waits until no run holds a permit: every blocking call has returned.
    async fn idle(&self, max_concurrent_runs: u32) {
        let _all = self
            .runs
            .acquire_many(max_concurrent_runs)
            .await
            .expect("the semaphore is never closed");
    }
}

fn slow_inputs(rounds: i64) -> Result<Vec<Tensor>, torchinfer::Error> {
    let x: Vec<f32> = (0..32 * 32).map(|i| ((i % 7) as f32 - 3.0) * 0.1).collect();
    Ok(vec![
        Tensor::from_slice(&x, &[32, 32])?,
        Tensor::scalar(rounds)?,
    ])
}

const MAX_RUNS: usize = 2;
/// Rounds that take minutes: only a timeout or a cancel ends such a request early.
const FOREVER: i64 = 100_000_000;

async fn run(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    // Loading reads a file and parses it: blocking work too.
    let path = path.to_owned();
    let model = tokio::task::spawn_blocking(move || Model::load(path)).await??;
    println!("model on {}, inputs: {:?}", model.device(), model.inputs());
    let server = Server::new(model, MAX_RUNS);

    // 1. A short request completes.
    let out = server
        .predict(slow_inputs(3)?, Some(Duration::from_secs(10)))
        .await?;
    let y = out.get(0)?;
    println!(
        "short request: ok, {:?}, y[0][0] = {:.6}",
        y.shape(),
        y.to_vec::<f32>()?[0]
    );

    // 2. A long request with a timeout fails with DEADLINE_EXCEEDED.
    let start = Instant::now();
    match server
        .predict(slow_inputs(FOREVER)?, Some(Duration::from_millis(100)))
        .await
    {
        Err(e) if e.code() == Code::DeadlineExceeded => println!(
            "timed-out request: {} after {} ms",
            e.code(),
            start.elapsed().as_millis()
        ),
        other => return Err(format!("expected a deadline error, got {other:?}").into()),
    }

    // 3. A long request the caller abandons: tokio's timeout drops the future, the guard
    // cancels the run, and the blocking thread comes back within milliseconds.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(100),
        server.predict(slow_inputs(FOREVER)?, None),
    )
    .await;
    if abandoned.is_ok() {
        return Err("the abandoned request finished: expected it to outlast 100 ms".into());
    }
    let dropped_at = Instant::now();
    tokio::time::timeout(Duration::from_secs(30), server.idle(MAX_RUNS as u32))
        .await
        .map_err(|_| "the abandoned run still holds its thread after 30 s")?;
    println!(
        "abandoned request: cancelled, its thread free again after {} ms",
        dropped_at.elapsed().as_millis()
    );

    // The model is as usable as before.
    let again = server.predict(slow_inputs(3)?, None).await?.get(0)?;
    if again.to_vec::<f32>()? != y.to_vec::<f32>()? {
        return Err("the model gave a different result after the cancellation".into());
    }
    println!("model reused: same result");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 || args[1] == "-h" || args[1] == "--help" {
        eprintln!(
            "usage: {} SLOW.pt",
            args.first().map_or("torchinfer-serve", |s| s)
        );
        return ExitCode::from(2);
    }
    match run(&args[1]).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
