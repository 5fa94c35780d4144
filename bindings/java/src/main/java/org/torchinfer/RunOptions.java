package org.torchinfer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A timeout and a cancel switch for one request ({@code ti_run_options_t}): pass it to
 * {@link Model#predict(RunOptions, Tensor...)} or {@link Model#runMethod(String, RunOptions,
 * Tensor...)}, and call {@link #cancel()} from any thread to stop the calls using it.
 *
 * <pre>{@code
 * try (RunOptions request = new RunOptions().timeout(Duration.ofMillis(200));
 *      Outputs out = model.predict(request, x)) {
 *   ...                                   // another thread may call request.cancel()
 * } catch (TorchInferException e) {
 *   // e.code() is CANCELLED or DEADLINE_EXCEEDED when the call was stopped
 * }
 * }</pre>
 *
 * <p><b>Cancellation is sticky.</b> Once cancelled, every running call using these options fails
 * with {@link TorchInferException.Code#CANCELLED}, and so does every later one: make a new
 * object per request. One object may be shared by concurrent calls (cancelling it stops them
 * all). Where a call stops: a TorchScript model at its next operator (within about one
 * operator's time); an AOTInductor .pt2 package only before its compiled code starts (a started
 * .pt2 call runs to its end, then reports CANCELLED or DEADLINE_EXCEEDED and discards its
 * outputs). A stopped call leaves the model usable and the inputs untouched.
 *
 * <p><b>Closing.</b> {@code close()} frees the native options; while a call is still using them
 * the free waits until that call returns, so closing (or the {@link java.lang.ref.Cleaner})
 * never frees the options under a running call. After {@code close()}, {@link #cancel()} does
 * nothing (there is nothing left to cancel) and every other method throws
 * {@link IllegalStateException}.
 *
 * <p>Thread-safe: {@link #cancel()} may race with calls and with {@link #timeout(Duration)};
 * a new timeout applies to calls that start afterwards.
 */
public final class RunOptions extends NativeHandle {
  /**
   * The longest timeout passed to the library (100 years): longer ones are clamped, so that the
   * library's deadline arithmetic (nanoseconds in an int64) cannot overflow.
   */
  static final long MAX_TIMEOUT_US = 100L * 365 * 24 * 3600 * 1_000_000;

  private volatile boolean cancelled;
  private volatile Duration timeout;
  /** The whole timeout in microseconds (0: none), as passed to the library. */
  private volatile long timeoutMicros;
  /**
   * Options cancelled together with these: a {@link Batcher} request runs under options of its
   * own (which the batcher can cancel when it closes), linked to the caller's for the call.
   */
  private final Object linkLock = new Object();
  private List<RunOptions> linked; // guarded by linkLock

  /** New options: no timeout, not cancelled. */
  public RunOptions() {
    super(create(), HandleKind.RUN_OPTIONS);
  }

  private static long create() {
    long o = NativeApi.ti_run_options_create();
    if (o == 0) {
      throw new TorchInferException(TorchInferException.Code.OUT_OF_MEMORY, "ti_run_options_create failed");
    }
    return o;
  }

  /**
   * Fails every call started afterwards that runs longer than {@code timeout} (counted from that
   * call's own start) with {@link TorchInferException.Code#DEADLINE_EXCEEDED}. Sub-microsecond
   * parts are rounded up; timeouts over 100 years are clamped to 100 years.
   *
   * @param timeout positive
   * @return this
   * @throws IllegalArgumentException if {@code timeout} is zero or negative
   * @throws IllegalStateException after {@link #close()}
   */
  public RunOptions timeout(Duration timeout) {
    timeoutMicros(micros(timeout));
    this.timeout = timeout;
    return this;
  }

  /** Sets the native timeout; {@code us} comes from {@link #micros(Duration)}. */
  void timeoutMicros(long us) {
    long p = acquire();
    try {
      NativeApi.check(NativeApi.ti_run_options_set_timeout_us(p, us));
      timeoutMicros = us;
    } finally {
      release();
    }
  }

  /** The timeout last set in microseconds (0: none), for options that copy it. */
  long timeoutMicros() {
    return timeoutMicros;
  }

  /**
   * Cancels {@code other} whenever these options are cancelled: now if they already are,
   * otherwise when {@link #cancel()} is called, until {@link #unlink(RunOptions)}.
   */
  void link(RunOptions other) {
    synchronized (linkLock) {
      if (!cancelled) {
        if (linked == null) {
          linked = new ArrayList<>(2);
        }
        linked.add(other);
        return;
      }
    }
    other.cancel();
  }

  /** Ends a {@link #link(RunOptions)}. */
  void unlink(RunOptions other) {
    synchronized (linkLock) {
      if (linked != null) {
        linked.remove(other);
      }
    }
  }

  /**
   * The timeout last set, or null when there is none.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public Duration timeout() {
    ensureOpen();
    return timeout;
  }

  /**
   * Cancels: every running call using these options fails with
   * {@link TorchInferException.Code#CANCELLED}, and so does every later one (sticky). Thread-safe,
   * may be called any number of times; does nothing after {@link #close()}.
   */
  public void cancel() {
    cancelled = true;
    long p = tryAcquire();
    if (p != 0) {
      try {
        NativeApi.ti_run_options_cancel(p);
      } finally {
        release();
      }
    }
    // cancelled is set before the lock: a link() after this point sees it and cancels at once
    RunOptions[] others;
    synchronized (linkLock) {
      others = linked == null || linked.isEmpty() ? null : linked.toArray(new RunOptions[0]);
    }
    if (others != null) {
      for (RunOptions o : others) {
        o.cancel();
      }
    }
  }

  /**
   * True once {@link #cancel()} was called (also by an interrupt or {@code Future.cancel}).
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public boolean isCancelled() {
    ensureOpen();
    return cancelled;
  }

  /** {@code timeout} in whole microseconds for the C API: rounded up, clamped, never 0. */
  static long micros(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    if (timeout.getSeconds() >= MAX_TIMEOUT_US / 1_000_000) {
      return MAX_TIMEOUT_US;
    }
    long us = timeout.getSeconds() * 1_000_000 + timeout.getNano() / 1000;
    return timeout.getNano() % 1000 != 0 ? us + 1 : us;
  }

  @Override
  public String toString() {
    if (isClosed()) {
      return "RunOptions(closed)";
    }
    return "RunOptions(timeout=" + (timeout == null ? "none" : timeout) + ", cancelled=" + cancelled + ")";
  }
}
