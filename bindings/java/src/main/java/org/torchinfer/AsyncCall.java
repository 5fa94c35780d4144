package org.torchinfer;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * The future of {@link Model#predictAsync}, {@link Model#runAsync} and
 * {@link Batcher#predictAsync}: a {@link CompletableFuture} whose completion by
 * anyone but the call itself ({@link #cancel}, {@code orTimeout}, {@code completeOnTimeout},
 * {@link #complete}, {@link #completeExceptionally}) cancels the native call through the call's
 * own {@link RunOptions}.
 *
 * <p>The options belong to this future: the task closes them in a finally block after the
 * native call returned, and a cancel racing with that close goes through
 * {@link RunOptions#cancel()}, which does nothing on closed options; so the native options are
 * never freed under a running call nor cancelled after being freed. Outputs a call produced
 * after the future was already completed are closed here, since nobody else can reach them.
 */
final class AsyncCall extends CompletableFuture<Outputs> {
  private final RunOptions options;
  private final NativeHandle owned;

  AsyncCall(RunOptions options) {
    this(options, null);
  }

  /**
   * A future whose task also owns {@code owned} (may be null: the {@link Inputs} that
   * {@link Model#runAsync(Executor, String, java.util.Map)} built from the caller's values),
   * closed with the options whether the call ran or not.
   */
  AsyncCall(RunOptions options, NativeHandle owned) {
    this.options = options;
    this.owned = owned;
  }

  /**
   * Runs {@code call} on {@code executor} under new options of its own and returns its future;
   * {@code owned} (may be null) is closed after the call, or at once if the executor refuses
   * the task.
   *
   * @throws java.util.concurrent.RejectedExecutionException if {@code executor} refuses the task
   */
  static CompletableFuture<Outputs> submit(Executor executor, NativeHandle owned,
      Function<RunOptions, Outputs> call) {
    RunOptions options;
    try {
      options = new RunOptions();
    } catch (RuntimeException | Error e) {
      if (owned != null) {
        owned.close();
      }
      throw e;
    }
    AsyncCall future = new AsyncCall(options, owned);
    try {
      executor.execute(() -> future.run(call));
    } catch (RuntimeException | Error e) {
      future.abandon();
      throw e;
    }
    return future;
  }

  /** Closes what the task owns, for a task that never ran (the executor refused it). */
  private void abandon() {
    options.close();
    if (owned != null) {
      owned.close();
    }
  }

  /**
   * The task: runs {@code call} with this future's options unless the future is already done.
   * The options are closed before the future completes, so a caller that saw the result sees
   * no native handle of the call left but the Outputs.
   */
  void run(Function<RunOptions, Outputs> call) {
    Outputs out = null;
    Throwable failure = null;
    try {
      if (isDone()) {
        return; // cancelled or completed before the executor started the task
      }
      out = call.apply(options);
    } catch (Throwable t) {
      failure = t;
    } finally {
      options.close();
      if (owned != null) {
        owned.close();
      }
    }
    if (failure != null) {
      super.completeExceptionally(failure);
    } else if (out != null && !super.complete(out)) {
      out.close(); // completed from outside while the call was finishing: nobody else has it
    }
  }

  /** Completes the future with a CancellationException and cancels the native call. */
  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    boolean completed = super.cancel(mayInterruptIfRunning);
    if (completed) {
      options.cancel();
    }
    return completed;
  }

  @Override
  public boolean complete(Outputs value) {
    boolean completed = super.complete(value);
    if (completed) {
      options.cancel();
    }
    return completed;
  }

  @Override
  public boolean completeExceptionally(Throwable ex) {
    boolean completed = super.completeExceptionally(ex);
    if (completed) {
      options.cancel();
    }
    return completed;
  }
}
