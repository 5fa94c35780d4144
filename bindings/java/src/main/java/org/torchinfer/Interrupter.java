package org.torchinfer;

import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.spi.AbstractInterruptibleChannel;

/**
 * Turns {@link Thread#interrupt()} of a thread blocked in a native call into
 * {@link RunOptions#cancel()}.
 *
 * <p>A thread inside a JNA call cannot see its interrupt flag, and the JDK has exactly one
 * public hook that runs code when a thread is interrupted: the protocol of
 * {@link AbstractInterruptibleChannel} ({@code begin()} registers the channel as the thread's
 * "blocker", and {@code Thread.interrupt()} then closes it, calling {@link #implCloseChannel()}
 * on the interrupting thread). This channel is not a channel of anything: it lives for one call,
 * and closing it cancels that call's run options. So an interrupt stops the native call at once,
 * with no watchdog thread and no polling; an interrupt that arrived before the call makes it
 * fail before it starts. The interrupt status is left set, as NIO does.
 *
 * <p>Usage, on the calling thread: {@link #enter()}, the native call, {@link #exit()} in a
 * finally block. The cancel goes through {@link RunOptions#cancel()}, which takes the options'
 * in-flight count, so it can never touch options that were freed meanwhile.
 */
final class Interrupter extends AbstractInterruptibleChannel {
  private final RunOptions options;
  private volatile boolean fired;

  Interrupter(RunOptions options) {
    this.options = options;
  }

  /** Registers this thread: an interrupt from now on (or one already pending) cancels. */
  void enter() {
    begin();
  }

  /** Unregisters; true if an interrupt cancelled the options meanwhile. */
  boolean exit() {
    try {
      end(true);
    } catch (ClosedByInterruptException e) {
      return true;
    } catch (AsynchronousCloseException e) {
      // end(true) throws only ClosedByInterruptException; nothing else closes this channel
    }
    return fired;
  }

  /**
   * The exception for a failed interruptible call: {@code e} itself, or for a CANCELLED call
   * during which the thread was interrupted, {@code e} with that said.
   */
  static TorchInferException explain(TorchInferException e, boolean interrupted) {
    if (interrupted && e.code() == TorchInferException.Code.CANCELLED) {
      return new TorchInferException(e.code(), e.detail() + " (the calling thread was interrupted)");
    }
    return e;
  }

  @Override
  protected void implCloseChannel() {
    fired = true;
    options.cancel();
  }
}
