package org.torchinfer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The lifetime of one C handle: explicit, idempotent {@link #close()}, a {@link Cleaner} as the
 * safety net, and an in-flight counter so that {@code close()} racing with a call on another
 * thread never frees the handle under that call.
 *
 * <p>Every use of the pointer is bracketed by {@link #acquire()} and {@link #release()}.
 * {@code state} packs a "closed" bit (the sign bit) and the number of calls in flight. close()
 * sets the bit; the handle is freed by whoever brings the state to "closed, none in flight":
 * close() itself when nothing is running, otherwise the last call to finish. acquire() after
 * close() throws {@link IllegalStateException}. The actual free is {@link Cleaner.Cleanable#clean()},
 * which runs at most once whether reached through close() or through the Cleaner.
 */
abstract class NativeHandle implements AutoCloseable {
  private static final int CLOSED = Integer.MIN_VALUE;
  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(NativeHandle.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** One daemon thread for the whole binding. */
  private static final Cleaner CLEANER = Cleaner.create(r -> {
    Thread t = new Thread(r, "torchinfer-cleaner");
    t.setDaemon(true);
    return t;
  });

  /** Which C function frees a handle. */
  enum HandleKind {
    MODEL, TENSOR, OUTPUTS, RUN_OPTIONS, INPUTS, BATCHER;

    void free(long ptr) {
      switch (this) {
        case MODEL -> NativeApi.ti_model_free(ptr);
        case TENSOR -> NativeApi.HOT.ti_tensor_free(ptr);
        case OUTPUTS -> NativeApi.HOT.ti_outputs_free(ptr);
        case RUN_OPTIONS -> NativeApi.ti_run_options_free(ptr);
        case INPUTS -> NativeApi.ti_inputs_free(ptr);
        case BATCHER -> NativeApi.Batching.ti_batcher_free(ptr);
        default -> throw new AssertionError(this);
      }
    }
  }

  /**
   * The cleaning action: it holds only the pointer value and the kind, never the Java object,
   * or the object could never become unreachable. Runs at most once (the AtomicBoolean).
   *
   * <p>A child handle (a tensor that {@link Outputs#get(int)} hands out) is not registered with
   * the Cleaner itself: its Free is listed in the parent's Free, and the child object holds a
   * strong reference to the parent. So when the Cleaner runs the parent's action, no child
   * object is reachable either, and the parent's action frees the children that are still open.
   *
   * <p>{@code after} (may be null) runs once, right after the free: a handle whose native object
   * refers to another one's (inputs and batchers refer to their model) releases that other
   * handle there (see {@link NativeHandle#NativeHandle(long, HandleKind, Runnable)}). It must not
   * capture the object this Free belongs to.
   */
  private static final class Free extends AtomicBoolean implements Runnable {
    private static final long serialVersionUID = 1L;
    private static final AtomicInteger BY_CLEANER = new AtomicInteger();
    private final long ptr;
    private final HandleKind kind;
    private final Runnable after;
    private volatile boolean explicit;
    private List<Free> children; // guarded by this

    Free(long ptr, HandleKind kind, Runnable after) {
      this.ptr = ptr;
      this.kind = kind;
      this.after = after;
    }

    synchronized void addChild(Free child) {
      if (children == null) {
        children = new ArrayList<>(2);
      }
      children.add(child);
    }

    @Override
    public void run() {
      if (!compareAndSet(false, true)) {
        return;
      }
      if (!explicit) {
        BY_CLEANER.incrementAndGet();
      }
      try {
        kind.free(ptr);
      } finally {
        if (after != null) {
          after.run();
        }
      }
      List<Free> kids;
      synchronized (this) {
        kids = children;
        children = null;
      }
      // After an explicit close the owner closes its children through their own state (they
      // may have calls in flight); only the unreachable case frees them here.
      if (kids != null && !explicit) {
        for (Free child : kids) {
          child.run();
        }
      }
    }
  }

  private final long ptr;
  private final Free free;
  private final Cleaner.Cleanable cleanable; // null for a child handle
  @SuppressWarnings("unused") // keeps the parent reachable while this child is (see Free)
  private final NativeHandle parent;
  @SuppressWarnings("unused") // accessed through STATE
  private volatile int state;

  NativeHandle(long ptr, HandleKind kind) {
    this(ptr, kind, null, null);
  }

  /** A handle freed by close(), or with {@code parent} by the parent's cleaning action. */
  NativeHandle(long ptr, HandleKind kind, NativeHandle parent) {
    this(ptr, kind, parent, null);
  }

  /**
   * A handle whose native object refers to another handle's, which must outlive it (inputs and
   * batchers refer to their model). The caller has {@link #acquire() acquired} that other
   * handle before creating the native object, and {@code afterFree} releases it: it runs once,
   * right after this handle is freed, whether by close() or by the Cleaner. So the other handle
   * counts as in use for this one's whole life: closing it first only marks it closed, and it is
   * freed after this one. {@code afterFree} must not capture this object (it would never become
   * unreachable); capturing the other handle is what keeps it reachable, and so never freed by
   * its own Cleaner, while this one's action is pending.
   */
  NativeHandle(long ptr, HandleKind kind, Runnable afterFree) {
    this(ptr, kind, null, afterFree);
  }

  private NativeHandle(long ptr, HandleKind kind, NativeHandle parent, Runnable afterFree) {
    if (ptr == 0) {
      throw new TorchInferException(TorchInferException.Code.INTERNAL,
          "the library returned success with a NULL " + kind.name().toLowerCase() + " handle");
    }
    this.ptr = ptr;
    this.free = new Free(ptr, kind, afterFree);
    this.parent = parent;
    if (parent == null) {
      this.cleanable = CLEANER.register(this, free);
    } else {
      this.cleanable = null;
      parent.free.addChild(free);
    }
  }

  private void freeNow() {
    free.explicit = true;
    if (cleanable != null) {
      cleanable.clean();
    } else {
      free.run();
    }
  }

  /** Marks a call in flight and returns the pointer; throws if the handle is closed. */
  final long acquire() {
    for (;;) {
      int s = (int) STATE.getVolatile(this);
      if (s < 0) {
        throw new IllegalStateException(getClass().getSimpleName() + " is closed");
      }
      if (STATE.compareAndSet(this, s, s + 1)) {
        return ptr;
      }
    }
  }

  /**
   * As {@link #acquire()}, but returns 0 instead of throwing when the handle is closed (for
   * best-effort actions such as cancelling, which have nothing to do on a closed handle).
   */
  final long tryAcquire() {
    for (;;) {
      int s = (int) STATE.getVolatile(this);
      if (s < 0) {
        return 0;
      }
      if (STATE.compareAndSet(this, s, s + 1)) {
        return ptr;
      }
    }
  }

  /**
   * Throws {@link IllegalStateException} if the handle is closed: for accessors that answer
   * from values recorded in Java, so that they behave like the ones that call the library.
   */
  final void ensureOpen() {
    if ((int) STATE.getVolatile(this) < 0) {
      throw new IllegalStateException(getClass().getSimpleName() + " is closed");
    }
  }

  /** Ends a call started by {@link #acquire()}; frees the handle if it was closed meanwhile. */
  final void release() {
    int s = (int) STATE.getAndAdd(this, -1) - 1;
    if (s == CLOSED) {
      freeNow();
    }
  }

  /**
   * Frees the native handle. Idempotent; safe to call from any thread, also while another
   * thread is using the object (the handle is then freed when that call returns). Any use
   * after close throws {@link IllegalStateException}.
   */
  @Override
  public void close() {
    for (;;) {
      int s = (int) STATE.getVolatile(this);
      if (s < 0) {
        return;
      }
      if (STATE.compareAndSet(this, s, s | CLOSED)) {
        if (s == 0) {
          freeNow();
        }
        return;
      }
    }
  }

  /** True once {@link #close()} was called. */
  public final boolean isClosed() {
    return (int) STATE.getVolatile(this) < 0;
  }

  /** How many handles the Cleaner has freed because their objects were never closed. */
  static int freedByCleaner() {
    return Free.BY_CLEANER.get();
  }
}
