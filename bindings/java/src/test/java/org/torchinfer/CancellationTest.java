package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.torchinfer.TorchInferException.Code;

/**
 * Timeouts, cancellation, Future.cancel and thread interrupts, on slow.pt: forward(x, n) runs n
 * rounds of x = tanh(x @ x). With n = 10^7 a call runs for many seconds; every stopped call must
 * return well within STOP_BOUND (generous, for a loaded 2-core machine; a TorchScript call stops
 * at its next operator, microseconds away), and the model must give correct values afterwards.
 */
class CancellationTest extends Fixtures {
  private static final long FOREVER = 10_000_000L;
  private static final long STOP_BOUND_MS = 5_000;
  private static final int SIZE = 32;
  private static final int ROUNDS = 3;

  private static Model slow;
  private static Tensor x;
  private static Tensor forever;
  private static Tensor rounds;
  private static float[] expected;

  @BeforeAll
  static void load() {
    slow = Model.load(model("slow.pt"));
    float[] data = new float[SIZE * SIZE];
    for (int i = 0; i < data.length; i++) {
      data[i] = 0.02f * ((i * 7) % 13 - 6);
    }
    x = Tensor.of(data, SIZE, SIZE);
    forever = Tensor.of(new long[] {FOREVER}, 1);
    rounds = Tensor.of(new long[] {ROUNDS}, 1);
    expected = reference(data, ROUNDS);
  }

  @AfterAll
  static void unload() {
    x.close();
    forever.close();
    rounds.close();
    slow.close();
    assertEquals(0, TorchInfer.liveHandles(), "nothing alive after closing everything");
  }

  /** tanh(x @ x), `n` times, in double precision. */
  private static float[] reference(float[] data, int n) {
    double[] a = new double[data.length];
    for (int i = 0; i < a.length; i++) a[i] = data[i];
    for (int r = 0; r < n; r++) {
      double[] b = new double[a.length];
      for (int i = 0; i < SIZE; i++) {
        for (int j = 0; j < SIZE; j++) {
          double s = 0;
          for (int k = 0; k < SIZE; k++) s += a[i * SIZE + k] * a[k * SIZE + j];
          b[i * SIZE + j] = Math.tanh(s);
        }
      }
      a = b;
    }
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) out[i] = (float) a[i];
    return out;
  }

  /** The model still works and gives the right values (and the same as the fast path). */
  private static void assertModelUsable() {
    try (Outputs plain = slow.predict(x, rounds);
         Outputs timed = slow.predict(Duration.ofMinutes(5), x, rounds)) {
      float[] got = plain.get(0).toFloatArray();
      assertArrayEquals(expected, got, 1e-5f);
      assertArrayEquals(got, timed.get(0).toFloatArray(), 0f, "bit-identical with and without options");
    }
  }

  private static TorchInferException expectCode(Code code, Runnable call) {
    TorchInferException e = assertThrows(TorchInferException.class, call::run);
    assertEquals(code, e.code(), e.getMessage());
    return e;
  }

  /** Runs {@code action} on another thread after {@code delayMs}. */
  private static Thread later(long delayMs, Runnable action) {
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(delayMs);
      } catch (InterruptedException e) {
        return;
      }
      action.run();
    }, "canceller");
    t.start();
    return t;
  }

  @Test
  void inputTypes() {
    assertEquals(List.of("x", "n"), slow.inputNames());
    assertEquals(List.of("Tensor", "int"), slow.inputTypes());
    try (Model named = Model.load(model("named.pt"))) {
      assertEquals(List.of("Tensor", "Tensor", "Optional[Tensor]", "float"), named.inputTypes());
    }
  }

  @Test
  void cancelFromAnotherThreadMidCallThenSticky() throws InterruptedException {
    try (RunOptions options = new RunOptions()) {
      assertFalse(options.isCancelled());
      long[] cancelledAt = new long[1];
      Thread canceller = later(300, () -> {
        cancelledAt[0] = System.nanoTime();
        options.cancel();
      });
      long start = System.nanoTime();
      TorchInferException e = expectCode(Code.CANCELLED, () -> slow.predict(options, x, forever).close());
      long end = System.nanoTime();
      canceller.join();
      assertTrue(e.detail().startsWith("cancelled after"), e.detail());
      assertTrue(cancelledAt[0] > start, "cancelled while the call ran");
      long stopMs = (end - cancelledAt[0]) / 1_000_000;
      assertTrue(stopMs < STOP_BOUND_MS, "returned " + stopMs + " ms after cancel");
      assertTrue(options.isCancelled());

      // sticky: every later call with these options fails at once, whatever the form
      long before = System.nanoTime();
      expectCode(Code.CANCELLED, () -> slow.predict(options, x, rounds).close());
      expectCode(Code.CANCELLED, () -> slow.predict(options, Map.of("x", x, "n", rounds)).close());
      expectCode(Code.CANCELLED, () -> slow.runMethod("forward", options, x, rounds).close());
      expectCode(Code.CANCELLED,
          () -> slow.runMethod("forward", options, Map.of("n", rounds, "x", x)).close());
      assertTrue((System.nanoTime() - before) / 1_000_000 < STOP_BOUND_MS);
    }
    assertModelUsable();
  }

  @Test
  void optionsThatAreNeverCancelledGiveTheSameValues() {
    try (RunOptions options = new RunOptions().timeout(Duration.ofMinutes(5));
         Outputs out = slow.predict(options, x, rounds);
         Outputs again = slow.predict(options, Map.of("x", x, "n", rounds))) {
      assertEquals(Duration.ofMinutes(5), options.timeout());
      assertArrayEquals(expected, out.get(0).toFloatArray(), 1e-5f);
      assertArrayEquals(out.get(0).toFloatArray(), again.get(0).toFloatArray(), 0f);
    }
  }

  @Test
  void timeout() {
    for (int form = 0; form < 4; form++) {
      Duration timeout = Duration.ofMillis(200);
      long start = System.nanoTime();
      Runnable call = switch (form) {
        case 0 -> () -> slow.predict(timeout, x, forever).close();
        case 1 -> () -> slow.predict(timeout, Map.of("x", x, "n", forever)).close();
        case 2 -> () -> slow.runMethod("forward", timeout, x, forever).close();
        default -> () -> slow.runMethod("forward", timeout, Map.of("n", forever, "x", x)).close();
      };
      TorchInferException e = expectCode(Code.DEADLINE_EXCEEDED, call);
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms >= 200, "form " + form + " stopped after " + ms + " ms, before its timeout");
      assertTrue(ms < 200 + STOP_BOUND_MS, "form " + form + " stopped after " + ms + " ms");
      assertTrue(e.detail().startsWith("timeout 200"), e.detail());
    }
    // run options with a timeout: every call gets its own deadline, counted from its start
    try (RunOptions options = new RunOptions().timeout(Duration.ofMillis(150))) {
      expectCode(Code.DEADLINE_EXCEEDED, () -> slow.predict(options, x, forever).close());
      expectCode(Code.DEADLINE_EXCEEDED, () -> slow.predict(options, x, forever).close());
      assertFalse(options.isCancelled());
      try (Outputs out = slow.predict(options, x, rounds)) {
        assertArrayEquals(expected, out.get(0).toFloatArray(), 1e-5f);
      }
    }
    assertModelUsable();
  }

  @Test
  void hugeTimeoutsDoNotExpire() {
    for (Duration d : new Duration[] {Duration.ofNanos(1_000_000_001L), Duration.ofDays(365L * 1000),
        Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)}) {
      try (Outputs out = slow.predict(d, x, rounds)) {
        assertArrayEquals(expected, out.get(0).toFloatArray(), 1e-5f, d.toString());
      }
    }
    assertEquals(1, RunOptions.micros(Duration.ofNanos(1)), "rounded up, never 0 (= no timeout)");
    assertEquals(1_000_001, RunOptions.micros(Duration.ofNanos(1_000_000_001L)));
    assertEquals(RunOptions.MAX_TIMEOUT_US, RunOptions.micros(Duration.ofSeconds(Long.MAX_VALUE)));
  }

  @Test
  void badTimeouts() {
    long live = TorchInfer.liveHandles();
    assertThrows(IllegalArgumentException.class, () -> slow.predict(Duration.ZERO, x, rounds));
    assertThrows(IllegalArgumentException.class, () -> slow.predict(Duration.ofMillis(-1), x, rounds));
    assertThrows(IllegalArgumentException.class,
        () -> slow.runMethod("forward", Duration.ZERO, Map.of("x", x, "n", rounds)));
    assertThrows(NullPointerException.class, () -> slow.predict((Duration) null, x, rounds));
    assertThrows(NullPointerException.class, () -> slow.predict((RunOptions) null, x, rounds));
    try (RunOptions options = new RunOptions()) {
      assertThrows(IllegalArgumentException.class, () -> options.timeout(Duration.ZERO));
      assertNull(options.timeout(), "no timeout by default");
    }
    assertEquals(live, TorchInfer.liveHandles());
  }

  @Test
  void futureCancelStopsTheNativeCall() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      CountDownLatch started = new CountDownLatch(1);
      pool.execute(started::countDown);
      started.await();
      CompletableFuture<Outputs> f = slow.predictAsync(pool, x, forever);
      Thread.sleep(300);
      assertFalse(f.isDone(), "still running");
      long cancelledAt = System.nanoTime();
      assertTrue(f.cancel(true));
      assertTrue(f.isCancelled());
      assertThrows(CancellationException.class, f::join);
      // the single worker is free again only once the native call returned
      CompletableFuture<Outputs> next = slow.predictAsync(pool, x, rounds);
      try (Outputs out = next.get(STOP_BOUND_MS, TimeUnit.MILLISECONDS)) {
        long ms = (System.nanoTime() - cancelledAt) / 1_000_000;
        assertTrue(ms < STOP_BOUND_MS, "the worker was free " + ms + " ms after cancel");
        assertArrayEquals(expected, out.get(0).toFloatArray(), 1e-5f);
      }
      assertTrue(f.cancel(true), "cancel is idempotent");
      assertFalse(f.complete(null), "a cancelled future stays cancelled");
    } finally {
      pool.shutdown();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
    assertModelUsable();
  }

  @Test
  void futureCancelledBeforeItStartsNeverRuns() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      CountDownLatch release = new CountDownLatch(1);
      pool.execute(() -> {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      CompletableFuture<Outputs> queued = slow.predictAsync(pool, Map.of("x", x, "n", forever));
      assertTrue(queued.cancel(false));
      release.countDown();
      try (Outputs out = slow.runMethodAsync(pool, "forward", x, rounds).get(STOP_BOUND_MS, TimeUnit.MILLISECONDS)) {
        assertArrayEquals(expected, out.get(0).toFloatArray(), 1e-5f);
      }
    } finally {
      pool.shutdown();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void orTimeoutOnTheFutureStopsTheNativeCall() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      long start = System.nanoTime();
      CompletableFuture<Outputs> f = slow.runMethodAsync(pool, "forward", Map.of("x", x, "n", forever))
          .orTimeout(200, TimeUnit.MILLISECONDS);
      CompletionException e = assertThrows(CompletionException.class, f::join);
      assertInstanceOf(TimeoutException.class, e.getCause());
      try (Outputs out = slow.predictAsync(pool, x, rounds).get(STOP_BOUND_MS, TimeUnit.MILLISECONDS)) {
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < 200 + STOP_BOUND_MS, "the worker was free after " + ms + " ms");
        assertArrayEquals(expected, out.get(0).toFloatArray(), 1e-5f);
      }
    } finally {
      pool.shutdown();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void asyncResultsAndErrors() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      try (Outputs out = slow.predictAsync(pool, x, rounds).get()) {
        assertArrayEquals(expected, out.get(0).toFloatArray(), 1e-5f);
      }
      // a library error completes the future exceptionally with the same exception
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> slow.runMethodAsync(pool, "no_such_method", x, rounds).get());
      assertInstanceOf(TorchInferException.class, e.getCause());
      assertEquals(Code.NOT_FOUND, ((TorchInferException) e.getCause()).code());
      // the binding's own checks throw at once
      assertThrows(NullPointerException.class, () -> slow.predictAsync(null, x, rounds));
      assertThrows(NullPointerException.class, () -> slow.predictAsync(pool, x, null));
      TorchInferException nul = assertThrows(TorchInferException.class,
          () -> slow.runMethodAsync(pool, "forward\0x", x, rounds));
      assertEquals(Code.INVALID_ARGUMENT, nul.code());
      // outputs of a call that finished after the future was completed from outside are closed
      // (the Fixtures check after the pool terminated proves it, whichever side wins the race)
      CompletableFuture<Outputs> f = slow.predictAsync(pool, x, rounds);
      try (Outputs mine = slow.predict(x, rounds)) {
        if (!f.complete(mine)) {
          f.join().close(); // the call won: its outputs are ours to close
        }
      }
    } finally {
      pool.shutdown();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
  }

  @Test
  void interruptCancelsABlockedCall() throws Exception {
    for (int form = 0; form < 2; form++) {
      AtomicReference<Throwable> thrown = new AtomicReference<>();
      AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
      int f = form;
      Thread worker = new Thread(() -> {
        try (RunOptions options = new RunOptions()) {
          try {
            if (f == 0) {
              slow.predict(Duration.ofMinutes(5), x, forever).close();
            } else {
              slow.predict(options, x, forever).close();
            }
          } catch (Throwable t) {
            thrown.set(t);
            stillInterrupted.set(Thread.currentThread().isInterrupted());
          }
          if (f == 1 && !options.isCancelled()) {
            thrown.set(new AssertionError("the interrupt did not cancel the options"));
          }
        }
      }, "predictor");
      worker.start();
      Thread.sleep(300);
      assertTrue(worker.isAlive(), "still running");
      long interruptedAt = System.nanoTime();
      worker.interrupt();
      worker.join(STOP_BOUND_MS);
      long ms = (System.nanoTime() - interruptedAt) / 1_000_000;
      assertFalse(worker.isAlive(), "the interrupted call did not return within " + ms + " ms");
      TorchInferException e = assertInstanceOf(TorchInferException.class, thrown.get());
      assertEquals(Code.CANCELLED, e.code(), e.getMessage());
      assertTrue(e.detail().endsWith("(the calling thread was interrupted)"), e.detail());
      assertEquals(Boolean.TRUE, stillInterrupted.get(), "the interrupt status stays set");
    }
    assertModelUsable();
  }

  @Test
  void interruptBeforeTheCall() {
    Thread.currentThread().interrupt();
    try {
      TorchInferException e = expectCode(Code.CANCELLED, () -> slow.predict(Duration.ofMinutes(5), x, forever));
      assertTrue(e.detail().contains("interrupted"), e.detail());
      assertTrue(Thread.currentThread().isInterrupted());
      // the fast path does not look at interrupts: it runs, and the status stays set
      try (Outputs out = slow.predict(x, rounds)) {
        assertArrayEquals(expected, out.get(0).toFloatArray(), 1e-5f);
      }
      assertTrue(Thread.currentThread().isInterrupted());
    } finally {
      assertTrue(Thread.interrupted(), "clears the status for the next test");
    }
    // an interrupt after a call does not leak into the next one
    try (Outputs out = slow.predict(Duration.ofMinutes(5), x, rounds)) {
      assertArrayEquals(expected, out.get(0).toFloatArray(), 1e-5f);
    }
  }

  @Test
  void shutdownNowCancelsRunningAsyncCalls() throws Exception {
    ExecutorService pool = Executors.newSingleThreadExecutor();
    CompletableFuture<Outputs> f = slow.predictAsync(pool, x, forever);
    Thread.sleep(300);
    long start = System.nanoTime();
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(STOP_BOUND_MS, TimeUnit.MILLISECONDS),
        "the interrupted worker returned within the bound");
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(1, TimeUnit.SECONDS));
    TorchInferException cause = assertInstanceOf(TorchInferException.class, e.getCause());
    assertEquals(Code.CANCELLED, cause.code());
    assertTrue((System.nanoTime() - start) / 1_000_000 < STOP_BOUND_MS);
    assertModelUsable();
  }

  @Test
  void closingOptionsDuringACallWaitsForIt() throws InterruptedException {
    RunOptions options = new RunOptions().timeout(Duration.ofMillis(600));
    long live = TorchInfer.liveHandles();
    Thread closer = later(200, options::close);
    long start = System.nanoTime();
    // close() neither frees nor cancels the options under the running call: its timeout holds
    expectCode(Code.DEADLINE_EXCEEDED, () -> slow.predict(options, x, forever).close());
    long ms = (System.nanoTime() - start) / 1_000_000;
    closer.join();
    assertTrue(ms >= 600, "stopped after " + ms + " ms");
    assertTrue(options.isClosed());
    assertEquals(live - 1, TorchInfer.liveHandles(), "freed when the call returned");
    options.cancel(); // no-op after close
    assertThrows(IllegalStateException.class, options::isCancelled);
    assertThrows(IllegalStateException.class, options::timeout);
    assertThrows(IllegalStateException.class, () -> options.timeout(Duration.ofSeconds(1)));
    assertThrows(IllegalStateException.class, () -> slow.predict(options, x, rounds));
    assertEquals("RunOptions(closed)", options.toString());
  }
}
