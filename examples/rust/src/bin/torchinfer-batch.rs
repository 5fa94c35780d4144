//! torchinfer-batch: many tokio tasks, each with one row, share one `Batcher`, which runs their
//! rows as batched calls of the model.
//!
//!     torchinfer-batch BATCH_ROWS.pt [TASKS]
//!
//! BATCH_ROWS.pt is the `batch_rows.pt` fixture: `forward(x) -> {"y": x * 2 + 1, "rows": ...}`,
//! where "rows" holds the number of rows of the call a request ran in, so the program can show
//! that requests were batched. It starts TASKS (default 64) tasks at once; each sends its own
//! [1, 4] row, checks that it got its own result back (y = 2x + 1), and the program prints how
//! many model calls served them.
//!
//! The pattern to copy: the batcher lives in an `Arc` (it is `Send + Sync`), and each request
//! runs `batcher.run` inside `spawn_blocking`, since a request blocks its thread until its
//! batch has run. A per-request `RunOptions` (here a timeout) works as for direct calls; in a
//! server, cancel it when the request's future is dropped (see torchinfer-serve's
//! `CancelOnDrop`).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use torchinfer::{Batcher, Model, RunOptions, Tensor};

/// One request: a row of its own in, its result and the size of the batch it ran in out.
async fn request(batcher: Arc<Batcher>, i: usize) -> torchinfer::Result<(Vec<f32>, Vec<f32>, i64)> {
    let row: Vec<f32> = (0..4).map(|k| (i * 4 + k) as f32 * 0.25).collect();
    let x = Tensor::from_slice(&row, &[1, 4])?;
    let opts = RunOptions::new().with_timeout(Duration::from_secs(30));
    let outputs = tokio::task::spawn_blocking(move || batcher.run_with(&[&x], &opts))
        .await
        .expect("the request panicked")?;
    let y = outputs.to_vec::<f32>(outputs.index_of("y").expect("a y leaf"))?;
    let rows = outputs.to_vec::<i64>(outputs.index_of("rows").expect("a rows leaf"))?;
    Ok((row, y, rows[0]))
}

async fn run(path: &str, tasks: usize) -> torchinfer::Result<bool> {
    let model = Model::load(path)?;
    // Wait up to 2 ms from the oldest queued request for more rows, at most 32 rows a call.
    let batcher = Arc::new(
        Batcher::builder()
            .max_batch(32)
            .max_delay(Duration::from_millis(2))
            .start(model)?,
    );
    let handles: Vec<_> = (0..tasks)
        .map(|i| tokio::spawn(request(Arc::clone(&batcher), i)))
        .collect();
    let mut own_rows = true;
    let mut largest = 0;
    for h in handles {
        let (row, y, rows) = h.await.expect("the task panicked")?;
        let want: Vec<f32> = row.iter().map(|v| v * 2.0 + 1.0).collect();
        own_rows &= y == want;
        largest = largest.max(rows);
    }
    let stats = batcher.stats();
    println!(
        "requests: {}, model calls: {}, mean batch size: {:.1}",
        stats.requests,
        stats.batches,
        stats.mean_batch_size()
    );
    println!("largest batch: {largest} rows");
    println!(
        "every task got its own rows: {}",
        if own_rows { "ok" } else { "FAILED" }
    );
    Ok(own_rows)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: torchinfer-batch BATCH_ROWS.pt [TASKS]");
        return ExitCode::from(2);
    };
    let tasks = match args.next().map(|n| n.parse::<usize>()) {
        None => 64,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("TASKS must be a positive integer");
            return ExitCode::from(2);
        }
    };
    match run(&path, tasks).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("torchinfer-batch: {e}");
            ExitCode::FAILURE
        }
    }
}
