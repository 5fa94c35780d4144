package org.torchinfer;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The future of {@link Model#predictAsync}: a {@link CompletableFuture} whose completion by
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

  AsyncCall(RunOptions options) {
    this.options = options;
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
