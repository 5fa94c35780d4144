package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.torchinfer.TorchInferException.Code;

/**
 * The dynamic batcher (issue 17) on batch_rows.pt: forward(x) -> {"y": x * 2 + 1, "rows":
 * full([B], B)} (B: the rows of the call the request ran in, which proves batching), bad(x)
 * raises on -999, scalar(x) -> x.sum() (cannot be split by rows).
 *
 * <p>Requests are held in the queue deterministically with a long maxDelay and a large
 * maxBatch: a worker waits that long for more rows, so a lone request stays queued until it is
 * stopped. Bounds on how fast a stopped request returns are generous (a loaded 2-core machine);
 * each is far below the delay that would otherwise release it.
 */
class BatcherTest extends Fixtures {
  private static final int FEATURES = 4;
  /** The delay that keeps requests queued; a stopped request must return long before it. */
  private static final Duration HOLD = Duration.ofSeconds(10); // the most the library allows
  private static final long PROMPT_MS = 4_000;

  /** A distinct row per caller and round. */
  private static float[] rows(int caller, int round, int n) {
    float[] x = new float[n * FEATURES];
    for (int i = 0; i < x.length; i++) x[i] = caller * 1000 + round * 10 + i * 0.25f;
    return x;
  }

  private static Batcher.Options holding() {
    return new Batcher.Options().maxBatch(1024).maxDelay(HOLD);
  }

  private static TorchInferException cause(ExecutionException e) {
    return assertInstanceOf(TorchInferException.class, e.getCause(), e.toString());
  }

  @Test
  void thirtyTwoThreadsGetTheirOwnRowsBatched() throws Exception {
    int threads = 32;
    int rounds = 30;
    try (Model model = Model.load(model("batch_rows.pt"));
         Batcher batcher = new Batcher(model, new Batcher.Options().maxBatch(32)
             .maxDelay(Duration.ofMillis(5)).workers(1))) {
      assertEquals("forward", batcher.method());
      assertEquals(32, batcher.options().maxBatch());
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      CountDownLatch start = new CountDownLatch(1);
      AtomicInteger maxRows = new AtomicInteger();
      List<Future<Integer>> futures = new ArrayList<>();
      try {
        for (int t = 0; t < threads; t++) {
          final int caller = t;
          futures.add(pool.submit(() -> {
            start.await();
            int checked = 0;
            for (int r = 0; r < rounds; r++) {
              int n = (caller + r) % 5 == 0 ? 2 : 1; // some requests carry two rows
              float[] x = rows(caller, r, n);
              try (Tensor in = Tensor.of(x, n, FEATURES);
                   Outputs direct = model.predict(in);
                   Outputs out = r % 3 == 0 ? batcher.predict(Map.of("x", in))
                       : r % 3 == 1 ? batcher.predict(Duration.ofMinutes(1), in) : batcher.predict(in)) {
                assertEquals(List.of("y", "rows"), out.names());
                assertArrayEquals(new long[] {n, FEATURES}, out.shape(0));
                float[] y = out.toFloatArray(out.index("y"));
                assertArrayEquals(direct.toFloatArray(direct.index("y")), y, 0f,
                    "caller " + caller + " round " + r + " got another request's rows");
                for (int i = 0; i < x.length; i++) assertEquals(x[i] * 2 + 1, y[i], 0f);
                long[] batchRows = out.toLongArray(out.index("rows"));
                assertEquals(n, batchRows.length);
                assertTrue(batchRows[0] >= n && batchRows[0] <= 32, "rows " + batchRows[0]);
                maxRows.accumulateAndGet((int) batchRows[0], Math::max);
                checked++;
              }
            }
            return checked;
          }));
        }
        start.countDown();
        int total = 0;
        for (Future<Integer> f : futures) total += f.get(5, TimeUnit.MINUTES);
        assertEquals(threads * rounds, total);
      } finally {
        pool.shutdownNow();
      }
      assertTrue(maxRows.get() > 1, "no request ran in a batch of more than one row");
      Batcher.Stats stats = batcher.stats();
      assertEquals(threads * rounds, stats.requests());
      assertTrue(stats.batches() > 0 && stats.batches() < stats.requests(), stats.toString());
      assertTrue(stats.meanBatchSize() > 1, stats.toString());
    }
  }

  @Test
  void aBadRequestFailsAloneAndTheOthersGetTheirRows() throws Exception {
    int callers = 8;
    try (Model model = Model.load(model("batch_rows.pt"));
         Batcher batcher = new Batcher(model, new Batcher.Options().method("bad").maxBatch(callers)
             .maxDelay(Duration.ofMillis(200)))) {
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      try {
        for (int round = 0; round < 3; round++) {
          List<Tensor> inputs = new ArrayList<>();
          List<CompletableFuture<Outputs>> futures = new ArrayList<>();
          try {
            for (int c = 0; c < callers; c++) {
              float[] x = rows(c, round, 1);
              if (c == round + 2) x[1] = -999; // the sentinel
              Tensor t = Tensor.of(x, 1, FEATURES);
              inputs.add(t);
              futures.add(batcher.predictAsync(pool, t));
            }
            for (int c = 0; c < callers; c++) {
              if (c == round + 2) {
                ExecutionException e = assertThrows(ExecutionException.class, futures.get(c)::get);
                TorchInferException te = cause(e);
                assertEquals(Code.RUNTIME, te.code());
                assertTrue(te.detail().contains("sentinel"), te.detail());
              } else {
                try (Outputs out = futures.get(c).get()) {
                  float[] x = rows(c, round, 1);
                  for (int i = 0; i < x.length; i++) assertEquals(x[i] * 2, out.toFloatArray(0)[i], 0f);
                }
              }
            }
          } finally {
            for (Tensor t : inputs) t.close();
          }
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(3 * callers, batcher.stats().requests());
    }
  }

  @Test
  void anUnsplittableResultFallsBackToSingleCalls() throws Exception {
    int callers = 6;
    try (Model model = Model.load(model("batch_rows.pt"));
         Batcher batcher = new Batcher(model, new Batcher.Options().method("scalar").maxBatch(callers)
             .maxDelay(Duration.ofMillis(200)))) {
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      try {
        for (int round = 0; round < 2; round++) {
          List<Tensor> inputs = new ArrayList<>();
          List<CompletableFuture<Outputs>> futures = new ArrayList<>();
          try {
            for (int c = 0; c < callers; c++) {
              Tensor t = Tensor.of(rows(c, round, 1), 1, FEATURES);
              inputs.add(t);
              futures.add(batcher.predictAsync(pool, Map.of("x", t)));
            }
            for (int c = 0; c < callers; c++) {
              float[] x = rows(c, round, 1);
              float sum = 0;
              for (float v : x) sum += v;
              try (Outputs out = futures.get(c).get()) {
                assertArrayEquals(new long[0], out.shape(0), "a 0-dim sum, as a single call gives");
                assertEquals(sum, out.toFloatArray(0)[0], 1e-2f, "caller " + c);
              }
            }
          } finally {
            for (Tensor t : inputs) t.close();
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  // ------------------------------------------------------------------ stopping queued requests

  @Test
  void interruptWhileQueued() throws Exception {
    try (Model model = Model.load(model("batch_rows.pt"));
         Batcher batcher = new Batcher(model, holding());
         Tensor x = Tensor.of(rows(1, 1, 1), 1, FEATURES)) {
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
      CountDownLatch calling = new CountDownLatch(1);
      Thread caller = new Thread(() -> {
        calling.countDown();
        try {
          batcher.predict(x).close();
        } catch (Throwable t) {
          thrown.set(t);
        }
        stillInterrupted.set(Thread.currentThread().isInterrupted());
      });
      caller.start();
      calling.await();
      Thread.sleep(300);
      assertTrue(caller.isAlive(), "the request did not stay queued");
      long at = System.nanoTime();
      caller.interrupt();
      caller.join(PROMPT_MS);
      long ms = (System.nanoTime() - at) / 1_000_000;
      assertFalse(caller.isAlive(), "the interrupted request did not return within " + ms + " ms");
      TorchInferException e = assertInstanceOf(TorchInferException.class, thrown.get());
      assertEquals(Code.CANCELLED, e.code());
      assertTrue(e.detail().endsWith("(the calling thread was interrupted)"), e.detail());
      assertEquals(Boolean.TRUE, stillInterrupted.get());
    }
  }

  @Test
  void timeoutCancelAndFutureCancelWhileQueued() throws Exception {
    try (Model model = Model.load(model("batch_rows.pt"));
         Batcher batcher = new Batcher(model, holding());
         Tensor x = Tensor.of(rows(2, 2, 1), 1, FEATURES)) {
      // a timeout while queued
      long start = System.nanoTime();
      TorchInferException timedOut = assertThrows(TorchInferException.class,
          () -> batcher.predict(Duration.ofMillis(100), x).close());
      assertEquals(Code.DEADLINE_EXCEEDED, timedOut.code());
      assertTrue((System.nanoTime() - start) / 1_000_000 < PROMPT_MS);

      // RunOptions.cancel() from another thread; the caller's options stay theirs (sticky)
      try (RunOptions options = new RunOptions()) {
        Thread canceller = new Thread(() -> {
          try {
            Thread.sleep(300);
          } catch (InterruptedException e) {
            return;
          }
          options.cancel();
        });
        canceller.start();
        start = System.nanoTime();
        TorchInferException cancelled = assertThrows(TorchInferException.class,
            () -> batcher.predict(options, x).close());
        assertEquals(Code.CANCELLED, cancelled.code());
        assertTrue((System.nanoTime() - start) / 1_000_000 < PROMPT_MS);
        canceller.join();
        assertTrue(options.isCancelled());
        // sticky: the same options fail the next request at once
        assertEquals(Code.CANCELLED, assertThrows(TorchInferException.class,
            () -> batcher.predict(options, Map.of("x", x)).close()).code());
      }

      // Future.cancel(true) frees the executor's thread at once
      ExecutorService one = Executors.newSingleThreadExecutor();
      try {
        CompletableFuture<Outputs> f = batcher.predictAsync(one, x);
        Thread.sleep(300);
        assertFalse(f.isDone(), "the request did not stay queued");
        assertTrue(f.cancel(true));
        assertThrows(CancellationException.class, f::join);
        start = System.nanoTime();
        assertEquals("free", one.submit(() -> "free").get(PROMPT_MS, TimeUnit.MILLISECONDS));
        assertTrue((System.nanoTime() - start) / 1_000_000 < PROMPT_MS);
        // orTimeout on the future
        CompletableFuture<Outputs> g = batcher.predictAsync(one, x).orTimeout(100, TimeUnit.MILLISECONDS);
        ExecutionException e = assertThrows(ExecutionException.class, () -> g.get(PROMPT_MS, TimeUnit.MILLISECONDS));
        assertInstanceOf(java.util.concurrent.TimeoutException.class, e.getCause());
        assertEquals("free", one.submit(() -> "free").get(PROMPT_MS, TimeUnit.MILLISECONDS));
      } finally {
        one.shutdownNow();
        assertTrue(one.awaitTermination(PROMPT_MS, TimeUnit.MILLISECONDS));
      }
    }
  }

  @Test
  void closeFailsQueuedRequestsWithUnavailable() throws Exception {
    int callers = 3;
    try (Model model = Model.load(model("batch_rows.pt"));
         Tensor x = Tensor.of(rows(3, 3, 1), 1, FEATURES)) {
      Batcher batcher = new Batcher(model, holding());
      ExecutorService pool = Executors.newFixedThreadPool(callers);
      CountDownLatch calling = new CountDownLatch(callers);
      List<Future<?>> futures = new ArrayList<>();
      try {
        for (int c = 0; c < callers; c++) {
          futures.add(pool.submit(() -> {
            calling.countDown();
            TorchInferException e = assertThrows(TorchInferException.class, () -> batcher.predict(x).close());
            assertEquals(Code.UNAVAILABLE, e.code(), e.getMessage());
            return null;
          }));
        }
        calling.await();
        Thread.sleep(300);
        for (Future<?> f : futures) assertFalse(f.isDone(), "a request did not stay queued");
        long start = System.nanoTime();
        batcher.close();
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < PROMPT_MS, "close took " + ms + " ms");
        for (Future<?> f : futures) f.get(PROMPT_MS, TimeUnit.MILLISECONDS);
        // refused after close, like every closed object
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> batcher.predict(x));
        assertEquals("Batcher is closed", closed.getMessage());
        assertThrows(IllegalStateException.class, batcher::stats);
        batcher.close(); // idempotent
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void aFullQueueAnswersUnavailable() throws Exception {
    try (Model model = Model.load(model("batch_rows.pt"));
         Tensor x = Tensor.of(rows(4, 4, 1), 1, FEATURES)) {
      Batcher batcher = new Batcher(model, holding().maxQueue(1));
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<CompletableFuture<Outputs>> futures = new ArrayList<>();
      try {
        TorchInferException full = null;
        for (int i = 0; i < 4 && full == null; i++) {
          CompletableFuture<Outputs> f = batcher.predictAsync(pool, x);
          futures.add(f);
          try {
            f.get(300, TimeUnit.MILLISECONDS).close();
          } catch (java.util.concurrent.TimeoutException queued) {
            continue; // held in the queue, as expected
          } catch (ExecutionException e) {
            full = cause(e);
          }
        }
        assertTrue(full != null, "no request was refused with a queue of 1");
        assertEquals(Code.UNAVAILABLE, full.code(), full.getMessage());
      } finally {
        batcher.close();
        for (CompletableFuture<Outputs> f : futures) {
          ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(PROMPT_MS, TimeUnit.MILLISECONDS));
          assertEquals(Code.UNAVAILABLE, cause(e).code());
        }
        pool.shutdownNow();
      }
    }
  }

  // ------------------------------------------------------------------ arguments and lifetime

  @Test
  void badArgumentsAndOptions() {
    try (Model model = Model.load(model("batch_rows.pt"))) {
      assertEquals(Code.NOT_FOUND, assertThrows(TorchInferException.class,
          () -> new Batcher(model, new Batcher.Options().method("nope"))).code());
      assertEquals(Code.INVALID_ARGUMENT, assertThrows(TorchInferException.class,
          () -> new Batcher.Options().maxBatch(0)).code());
      assertEquals(Code.INVALID_ARGUMENT, assertThrows(TorchInferException.class,
          () -> new Batcher.Options().maxQueue(0)).code());
      assertEquals(Code.INVALID_ARGUMENT, assertThrows(TorchInferException.class,
          () -> new Batcher.Options().workers(0)).code());
      assertEquals(Code.INVALID_ARGUMENT, assertThrows(TorchInferException.class,
          () -> new Batcher.Options().maxDelay(Duration.ofSeconds(11))).code());
      assertThrows(IllegalArgumentException.class, () -> new Batcher.Options().maxDelay(Duration.ofMillis(-1)));
      assertEquals(Code.INVALID_ARGUMENT, assertThrows(TorchInferException.class,
          () -> new Batcher.Options().method("for\0ward")).code());
      Batcher.Options options = new Batcher.Options().maxBatch(8).maxDelay(Duration.ofNanos(1500))
          .maxQueue(16).workers(2);
      assertEquals(Duration.ofNanos(1500), options.maxDelay());
      try (Batcher batcher = new Batcher(model, options);
           Tensor scalar = Tensor.of(new float[] {1});
           Tensor x = Tensor.of(rows(5, 5, 3), 3, FEATURES)) {
        options.maxBatch(1); // a copy was taken
        assertEquals(8, batcher.options().maxBatch());
        assertEquals(2, batcher.options().workers());
        // an input without a batch dimension
        assertEquals(Code.INVALID_ARGUMENT, assertThrows(TorchInferException.class,
            () -> batcher.predict(scalar).close()).code());
        assertEquals(Code.INVALID_ARGUMENT, assertThrows(TorchInferException.class,
            () -> batcher.predict(Map.of("nope", x)).close()).code());
        assertThrows(NullPointerException.class, () -> batcher.predict((Tensor) null));
        try (Outputs out = batcher.predict(x)) {
          assertArrayEquals(new long[] {3, 3, 3}, out.toLongArray(out.index("rows")));
        }
      }
    }
  }

  @Test
  void theBatcherKeepsItsModelInUse() {
    Model model = Model.load(model("batch_rows.pt"));
    long live = TorchInfer.liveHandles();
    Batcher batcher = new Batcher(model);
    model.close();
    assertThrows(IllegalStateException.class, () -> model.predict());
    try (Tensor x = Tensor.of(rows(6, 6, 1), 1, FEATURES);
         Outputs out = batcher.predict(x)) {
      assertArrayEquals(new long[] {1}, out.toLongArray(out.index("rows")));
    }
    assertEquals(live + 1, TorchInfer.liveHandles(), "the model is still alive, with the batcher");
    batcher.close();
    assertEquals(live - 1, TorchInfer.liveHandles(), "batcher and model freed");
  }

  @Test
  void aForgottenBatcherIsFreedByTheCleaner() throws InterruptedException {
    long live;
    try (Model model = Model.load(model("batch_rows.pt"))) {
      live = TorchInfer.liveHandles();
      forget(model);
      for (int i = 0; i < 100 && TorchInfer.liveHandles() != live; i++) {
        System.gc();
        Thread.sleep(50);
      }
      assertEquals(live, TorchInfer.liveHandles(), "the Cleaner did not free the batcher");
    }
  }

  private static void forget(Model model) {
    Batcher b = new Batcher(model);
    try (Tensor x = Tensor.of(rows(7, 7, 1), 1, FEATURES); Outputs out = b.predict(x)) {
      assertEquals(2, out.size());
    }
  }
}
