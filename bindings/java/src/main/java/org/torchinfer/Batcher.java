package org.torchinfer;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import java.lang.ref.Reference;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.function.LongUnaryOperator;

/**
 * A dynamic batcher ({@code ti_batcher_t}): many threads call {@link #predict(Tensor...)} with a
 * few rows each (batch-1 traffic from a service's request threads), and the library runs them as
 * one call of the model on the concatenated rows, in worker threads of its own.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("ranker.pt"));
 *      Batcher batcher = new Batcher(model, new Batcher.Options()
 *          .maxBatch(32).maxDelay(Duration.ofMillis(2)))) {
 *   // on each request thread:
 *   try (Tensor x = Tensor.of(features, 1, 256);
 *        Outputs out = batcher.predict(Duration.ofMillis(50), x)) {
 *     float[] scores = out.toFloatArray(0);          // this request's row only
 *   }
 * }
 * }</pre>
 *
 * <p><b>Requests.</b> Dimension 0 of every input is the batch dimension (1 or more rows; all
 * inputs of a request have the same number). A request's outputs are what
 * {@link Model#predict(Tensor...)} would return for its inputs alone: the same leaves with the
 * same names, holding its own rows (batched kernels may round differently: about 1e-5 relative on
 * float32). A worker takes the oldest queued request and adds queued requests with the same input
 * names, dtypes, devices and sizes (except dimension 0), up to {@link Options#maxBatch(int)}
 * rows; with {@link Options#maxDelay(Duration)} it waits that long from the oldest request's
 * arrival for more rows. Requests are never padded. If the batched call fails or a result cannot
 * be split by rows (a scalar), the batch's requests run again one by one, so one bad request never
 * fails another; after a result that cannot be split the batcher stops batching (said once on
 * stderr) and every later request runs alone.
 *
 * <p><b>Stopping a request.</b> Every form of {@code predict} can be stopped, also while it waits
 * in the queue: {@link Thread#interrupt()} of the calling thread (CANCELLED, interrupt status left
 * set), a timeout ({@link #predict(Duration, Tensor...)}: DEADLINE_EXCEEDED), a
 * {@link RunOptions#cancel()} ({@link #predict(RunOptions, Tensor...)}), or completing the future
 * of {@link #predictAsync(Executor, Tensor...)} ({@code cancel(true)}, {@code orTimeout}). A
 * request stopped while queued leaves the queue and its caller returns at once; one whose batch
 * is running returns at once too, its rows are dropped, and the batch runs on for the others.
 * A full queue ({@link Options#maxQueue(int)}) answers {@link TorchInferException.Code#UNAVAILABLE}
 * at once.
 *
 * <p><b>Closing.</b> {@link #close()} refuses new requests ({@link IllegalStateException}, as any
 * use after close), fails every request still in the batcher, queued or in a running batch, with
 * {@link TorchInferException.Code#UNAVAILABLE}, waits for them to return, then frees the native
 * batcher (which joins its workers) before it returns. (The binding does this by cancelling the
 * requests it let in, so that no thread can ever call into a freed batcher.) A
 * {@link java.lang.ref.Cleaner} frees a batcher that was never closed, as a safety net.
 *
 * <p><b>The model must outlive the batcher</b>, and the binding makes sure it does: the Batcher
 * references its {@link Model} and keeps it in use, so closing the model first only marks it
 * closed (its own methods then throw {@link IllegalStateException}); the native model is freed
 * when the last batcher (and {@link Inputs}) made from it is closed.
 *
 * <p><b>Threads.</b> Any number of threads may call {@code predict} at once. Workers apply the
 * library's thread settings like any call: on the CPU keep {@link Options#workers(int)} x
 * {@link TorchInfer#setNumThreads(int)} at most the number of cores. Batching pays where a call's
 * cost is dominated by reading weights or by fixed per-call work that a batch shares; it cannot
 * beat a call of a few microseconds whose whole cost is the hand-off between threads.
 */
public final class Batcher extends NativeHandle {
  /**
   * Settings for a {@link Batcher}: a plain Java value, nothing to close (like
   * {@link LoadOptions}); each setter checks its value at once. The defaults: method "forward",
   * maxBatch 32, maxDelay 0, maxQueue 1024, workers 1. Not synchronized.
   */
  public static final class Options {
    private volatile String method = "forward";
    private volatile int maxBatch = 32;
    private volatile Duration maxDelay = Duration.ZERO;
    private volatile long maxDelayMicros;
    private volatile int maxQueue = 1024;
    private volatile int workers = 1;

    /** The defaults. */
    public Options() {}

    /**
     * The method requests run ("forward" by default; another exported with
     * {@code @torch.jit.export}). Whether the model has it is checked by the Batcher's constructor.
     *
     * @return this
     * @throws TorchInferException INVALID_ARGUMENT for a name with a NUL character
     */
    public Options method(String method) {
      NativeApi.requireNoNul(Objects.requireNonNull(method, "method"), "method name");
      this.method = method;
      return this;
    }

    /** The method requests run. */
    public String method() {
      return method;
    }

    /**
     * The most rows in one batch (at least 1; default 32). A request with more rows runs alone.
     *
     * @return this
     * @throws TorchInferException INVALID_ARGUMENT when {@code rows < 1}
     */
    public Options maxBatch(int rows) {
      check(o -> NativeApi.Batching.ti_batcher_options_set_max_batch(o, rows));
      this.maxBatch = rows;
      return this;
    }

    /** The most rows in one batch. */
    public int maxBatch() {
      return maxBatch;
    }

    /**
     * How long a worker waits, from the oldest queued request's arrival, for more rows before it
     * runs a batch that is not full (0 to 10 s, rounded up to whole microseconds; default 0: no
     * waiting, a batch takes what queued while the previous one ran).
     *
     * @return this
     * @throws IllegalArgumentException if {@code delay} is negative
     * @throws TorchInferException INVALID_ARGUMENT when {@code delay} is over 10 s
     */
    public Options maxDelay(Duration delay) {
      Objects.requireNonNull(delay, "delay");
      if (delay.isNegative()) {
        throw new IllegalArgumentException("maxDelay must not be negative, got " + delay);
      }
      long us = delay.isZero() ? 0 : RunOptions.micros(delay);
      check(o -> NativeApi.Batching.ti_batcher_options_set_max_delay_us(o, us));
      this.maxDelay = delay;
      this.maxDelayMicros = us;
      return this;
    }

    /** How long a worker waits for more rows. */
    public Duration maxDelay() {
      return maxDelay;
    }

    /**
     * The most queued requests (at least 1; default 1024); one more fails at once with
     * {@link TorchInferException.Code#UNAVAILABLE}.
     *
     * @return this
     * @throws TorchInferException INVALID_ARGUMENT when {@code requests < 1}
     */
    public Options maxQueue(int requests) {
      check(o -> NativeApi.Batching.ti_batcher_options_set_max_queue(o, requests));
      this.maxQueue = requests;
      return this;
    }

    /** The most queued requests. */
    public int maxQueue() {
      return maxQueue;
    }

    /**
     * The number of worker threads running batches at once (1 to 256; default 1).
     *
     * @return this
     * @throws TorchInferException INVALID_ARGUMENT when {@code n} is out of range
     */
    public Options workers(int n) {
      check(o -> NativeApi.Batching.ti_batcher_options_set_workers(o, n));
      this.workers = n;
      return this;
    }

    /** The number of worker threads. */
    public int workers() {
      return workers;
    }

    /** Checks one setting against the library, on options made for that purpose. */
    private static void check(LongUnaryOperator set) {
      long o = create();
      try {
        NativeApi.check(set.applyAsLong(o));
      } finally {
        NativeApi.Batching.ti_batcher_options_free(o);
      }
    }

    private static long create() {
      long o = NativeApi.Batching.ti_batcher_options_create();
      if (o == 0) {
        throw new TorchInferException(TorchInferException.Code.OUT_OF_MEMORY,
            "ti_batcher_options_create failed");
      }
      return o;
    }

    /** Native options with these settings; the caller frees them. */
    long newNative() {
      long o = create();
      try {
        NativeApi.check(NativeApi.Batching.ti_batcher_options_set_max_batch(o, maxBatch));
        NativeApi.check(NativeApi.Batching.ti_batcher_options_set_max_delay_us(o, maxDelayMicros));
        NativeApi.check(NativeApi.Batching.ti_batcher_options_set_max_queue(o, maxQueue));
        NativeApi.check(NativeApi.Batching.ti_batcher_options_set_workers(o, workers));
        return o;
      } catch (RuntimeException | Error e) {
        NativeApi.Batching.ti_batcher_options_free(o);
        throw e;
      }
    }

    @Override
    public String toString() {
      return "Batcher.Options(method=" + method + ", maxBatch=" + maxBatch + ", maxDelay="
          + maxDelay + ", maxQueue=" + maxQueue + ", workers=" + workers + ")";
    }
  }

  /**
   * Counters since the batcher started: requests answered (with outputs or an error) and model
   * calls made for them (batched or single).
   *
   * @param requests requests answered
   * @param batches model calls made for them
   */
  public record Stats(long requests, long batches) {
    /** Requests per model call (0 before the first call). */
    public double meanBatchSize() {
      return batches == 0 ? 0 : (double) requests / batches;
    }
  }

  /** One request let in: its own options, which {@link #close()} cancels. */
  private static final class Request {
    final RunOptions options;
    volatile boolean closedOut;

    Request(RunOptions options) {
      this.options = options;
    }
  }

  private final String method;
  private final Options settings;
  @SuppressWarnings("unused") // the model must outlive the batcher (it is also pinned, see open)
  private final Model model;
  private final CountDownLatch freed;
  private final Object lock = new Object();
  private boolean closing; // guarded by lock
  private final Set<Request> active = new HashSet<>(); // guarded by lock

  /**
   * A batcher for {@code forward} of {@code model} with the default {@link Options}.
   *
   * @throws TorchInferException as {@link #Batcher(Model, Options)}
   */
  public Batcher(Model model) {
    this(model, new Options());
  }

  /**
   * Starts a batcher (its worker threads) for {@code options.method()} of {@code model}. The
   * settings are copied: changing {@code options} later does not affect this batcher.
   *
   * @throws TorchInferException NOT_FOUND (no such method), INVALID_ARGUMENT (a method without
   *     tensor arguments; a .pt2 input whose batch dimension is static, named in the message)
   * @throws IllegalStateException if the model is closed
   */
  public Batcher(Model model, Options options) {
    this(model, options, new CountDownLatch(1));
  }

  private Batcher(Model model, Options options, CountDownLatch freed) {
    // the model is acquired by open() and released right after the native batcher is freed
    super(open(model, options), HandleKind.BATCHER, () -> {
      model.release();
      freed.countDown();
    });
    this.model = model;
    this.freed = freed;
    this.method = options.method();
    this.settings = new Options();
    settings.method = options.method;
    settings.maxBatch = options.maxBatch;
    settings.maxDelay = options.maxDelay;
    settings.maxDelayMicros = options.maxDelayMicros;
    settings.maxQueue = options.maxQueue;
    settings.workers = options.workers;
  }

  private static long open(Model model, Options options) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(options, "options");
    byte[] cmethod = NativeApi.cstr(options.method(), "method name");
    long o = options.newNative();
    try {
      long m = model.acquire();
      boolean ok = false;
      try {
        Scratch sc = Scratch.get();
        NativeApi.check(NativeApi.Batching.ti_batcher_create(m, cmethod, o, sc.out));
        long b = sc.result();
        if (b == 0) {
          throw new TorchInferException(TorchInferException.Code.INTERNAL,
              "the library returned success with a NULL batcher handle");
        }
        ok = true;
        return b;
      } finally {
        if (!ok) {
          model.release();
        }
      }
    } finally {
      NativeApi.Batching.ti_batcher_options_free(o);
    }
  }

  // ------------------------------------------------------------------ requests

  /**
   * Queues one request with positional inputs (dimension 0 of each is the batch dimension) and
   * blocks until its own outputs are ready. The inputs stay owned by the caller. Thread-safe.
   * <b>Interruptible</b>: {@link Thread#interrupt()} of the calling thread, while the request is
   * queued or running, makes it throw CANCELLED at once (the interrupt status stays set).
   *
   * @throws TorchInferException INVALID_ARGUMENT (an input without a batch dimension, inputs with
   *     different row counts, and as {@link Model#predict(Tensor...)}), UNAVAILABLE (the queue is
   *     full, or the batcher was closed before the request finished), CANCELLED (interrupted),
   *     RUNTIME (raised by the model for this request's rows)
   * @throws IllegalStateException if the batcher (or an input) is closed
   */
  public Outputs predict(Tensor... inputs) {
    Objects.requireNonNull(inputs, "inputs");
    ensureOpen();
    try (RunOptions request = new RunOptions()) {
      return call(null, inputs, request, null);
    }
  }

  /**
   * As {@link #predict(Tensor...)} with inputs matched to the method's argument names.
   *
   * @throws TorchInferException INVALID_ARGUMENT for unknown, duplicate or missing names, and as
   *     {@link #predict(Tensor...)}
   */
  public Outputs predict(Map<String, Tensor> inputs) {
    Model.Named named = Model.Named.of(inputs);
    ensureOpen();
    try (RunOptions request = new RunOptions()) {
      return call(named.cNames(), named.tensors, request, null);
    }
  }

  /**
   * As {@link #predict(Tensor...)}, failing with DEADLINE_EXCEEDED if the request has not
   * finished {@code timeout} after it was queued (a request that times out in the queue leaves
   * it at once).
   *
   * @param timeout positive; rounded up to whole microseconds
   * @throws IllegalArgumentException if {@code timeout} is zero or negative
   */
  public Outputs predict(Duration timeout, Tensor... inputs) {
    long us = RunOptions.micros(timeout);
    Objects.requireNonNull(inputs, "inputs");
    ensureOpen();
    try (RunOptions request = new RunOptions()) {
      request.timeoutMicros(us);
      return call(null, inputs, request, null);
    }
  }

  /** As {@link #predict(Map)} with a timeout; see {@link #predict(Duration, Tensor...)}. */
  public Outputs predict(Duration timeout, Map<String, Tensor> inputs) {
    long us = RunOptions.micros(timeout);
    Model.Named named = Model.Named.of(inputs);
    ensureOpen();
    try (RunOptions request = new RunOptions()) {
      request.timeoutMicros(us);
      return call(named.cNames(), named.tensors, request, null);
    }
  }

  /**
   * As {@link #predict(Tensor...)} under {@code options}: their timeout applies (counted from
   * when the request is queued), and {@link RunOptions#cancel()} from any thread stops the
   * request, queued or running, with CANCELLED. An interrupt of the calling thread cancels
   * {@code options} (sticky), as {@link Model#predict(RunOptions, Tensor...)} does.
   *
   * @throws IllegalStateException if {@code options} (or the batcher, or an input) is closed
   */
  public Outputs predict(RunOptions options, Tensor... inputs) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(inputs, "inputs");
    ensureOpen();
    try (RunOptions request = new RunOptions()) {
      return call(null, inputs, request, options);
    }
  }

  /** As {@link #predict(Map)} under {@code options}; see {@link #predict(RunOptions, Tensor...)}. */
  public Outputs predict(RunOptions options, Map<String, Tensor> inputs) {
    Objects.requireNonNull(options, "options");
    Model.Named named = Model.Named.of(inputs);
    ensureOpen();
    try (RunOptions request = new RunOptions()) {
      return call(named.cNames(), named.tensors, request, options);
    }
  }

  /**
   * Runs {@link #predict(Tensor...)} on {@code executor} and returns its future, as
   * {@link Model#predictAsync(Executor, Tensor...)} does: completing the future from outside
   * ({@code cancel(true)}, {@code orTimeout}, ...) cancels the request, which leaves the queue (or
   * its running batch) at once and frees the executor's thread. A task that starts after the
   * batcher was closed fails with {@link IllegalStateException}. Keep the inputs open until the
   * future completes.
   *
   * @throws java.util.concurrent.RejectedExecutionException if {@code executor} refuses the task
   */
  public CompletableFuture<Outputs> predictAsync(Executor executor, Tensor... inputs) {
    Tensor[] copy = Objects.requireNonNull(inputs, "inputs").clone();
    return async(executor, copy, options -> call(null, copy, options, null));
  }

  /** As {@link #predict(Map)} on {@code executor}; see {@link #predictAsync(Executor, Tensor...)}. */
  public CompletableFuture<Outputs> predictAsync(Executor executor, Map<String, Tensor> inputs) {
    Model.Named named = Model.Named.of(inputs);
    return async(executor, named.tensors, options -> call(named.cNames(), named.tensors, options, null));
  }

  private CompletableFuture<Outputs> async(Executor executor, Tensor[] inputs,
      java.util.function.Function<RunOptions, Outputs> call) {
    Objects.requireNonNull(executor, "executor");
    ensureOpen();
    for (int i = 0; i < inputs.length; i++) {
      if (inputs[i] == null) {
        throw new NullPointerException("input " + i + " is null");
      }
      inputs[i].ensureOpen();
    }
    return AsyncCall.submit(executor, null, call);
  }

  /**
   * The one request path: {@code request} is this request's own options (cancelled by
   * {@link #close()}); {@code user} the caller's, linked to them for the call (null for none).
   */
  private Outputs call(StringArray names, Tensor[] inputs, RunOptions request, RunOptions user) {
    Objects.requireNonNull(inputs, "inputs");
    int n = inputs.length;
    long b = acquire();
    try {
      if (user != null) {
        user.acquire(); // throws if closed; held so that it is not freed under the link
      }
      try {
        if (user != null && user.timeoutMicros() > 0) {
          request.timeoutMicros(user.timeoutMicros());
        }
        Request r = new Request(request);
        enter(r);
        if (user != null) {
          user.link(request);
        }
        try {
          long opts = request.acquire();
          try {
            Scratch sc = Scratch.get();
            Memory[] spill = n > Scratch.SLOTS - 1 ? new Memory[1] : null;
            long ptrs = Model.acquireTensors(inputs, sc, spill);
            try {
              long namesPtr = names == null ? 0 : Pointer.nativeValue(names);
              Interrupter interrupter = new Interrupter(user != null ? user : request);
              long err;
              boolean interrupted;
              interrupter.enter();
              try {
                err = NativeApi.Batching.ti_batcher_run(b, namesPtr, ptrs, n, opts, sc.out);
              } finally {
                interrupted = interrupter.exit();
              }
              long handle = sc.result();
              if (err != 0) {
                TorchInferException e = NativeApi.take(err);
                if (r.closedOut && e.code() == TorchInferException.Code.CANCELLED) {
                  throw new TorchInferException(TorchInferException.Code.UNAVAILABLE,
                      "the batcher was closed before this request finished (" + e.detail() + ")");
                }
                throw Interrupter.explain(e, interrupted);
              }
              return new Outputs(handle);
            } finally {
              Model.releaseTensors(inputs);
              Reference.reachabilityFence(spill);
              Reference.reachabilityFence(names);
            }
          } finally {
            request.release();
          }
        } finally {
          if (user != null) {
            user.unlink(request);
          }
          leave(r);
        }
      } finally {
        if (user != null) {
          user.release();
        }
      }
    } finally {
      release();
    }
  }

  /** Lets a request in, or, once the batcher is closing, cancels it before it reaches the library. */
  private void enter(Request r) {
    synchronized (lock) {
      if (!closing) {
        active.add(r);
        return;
      }
      r.closedOut = true;
    }
    r.options.cancel();
  }

  private void leave(Request r) {
    synchronized (lock) {
      active.remove(r);
    }
  }

  // ------------------------------------------------------------------ state

  /**
   * Counters since the batcher started; {@code stats().meanBatchSize()} is the mean batch size
   * in requests. Thread-safe.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public Stats stats() {
    long b = acquire();
    try {
      Scratch sc = Scratch.get();
      NativeApi.Batching.ti_batcher_stats(b, sc.out, sc.array);
      return new Stats(sc.result(), sc.slot(0));
    } finally {
      release();
    }
  }

  /**
   * The method requests run.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public String method() {
    ensureOpen();
    return method;
  }

  /**
   * The settings the batcher was started with (a copy).
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public Options options() {
    ensureOpen();
    Options copy = new Options();
    copy.method = settings.method;
    copy.maxBatch = settings.maxBatch;
    copy.maxDelay = settings.maxDelay;
    copy.maxDelayMicros = settings.maxDelayMicros;
    copy.maxQueue = settings.maxQueue;
    copy.workers = settings.workers;
    return copy;
  }

  /**
   * Stops the batcher: new requests throw {@link IllegalStateException}, every request still in
   * it (queued or in a running batch) fails with {@link TorchInferException.Code#UNAVAILABLE},
   * and once they have returned the native batcher is freed and its workers joined, all before
   * this returns. Idempotent; may be called from any thread, but not from inside a request.
   */
  @Override
  public void close() {
    Request[] stop = null;
    synchronized (lock) {
      if (!closing) {
        closing = true;
        stop = active.toArray(new Request[0]);
        for (Request r : stop) {
          r.closedOut = true;
        }
      }
    }
    if (stop != null) {
      for (Request r : stop) {
        r.options.cancel();
      }
    }
    super.close(); // frees now, or when the last request in flight returns
    boolean interrupted = false;
    for (;;) {
      try {
        freed.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return isClosed() ? "Batcher(closed)" : "Batcher(" + settings + ")";
  }
}
