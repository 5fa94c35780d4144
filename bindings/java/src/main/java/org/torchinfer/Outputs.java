package org.torchinfer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The result of one prediction, flattened depth first into named leaves: tuple and list
 * elements are named by index, dict entries by key, nested names joined with "." ("1.0",
 * "boxes.2"); a bare tensor is one leaf named "0". int, float and bool results become 0-dim
 * INT64, FLOAT64 and BOOL tensors.
 *
 * <p>The tensors returned by {@link #get(int)} and {@link #get(String)} belong to this object:
 * repeated calls return the same {@link Tensor}, and closing the Outputs closes them (closing one
 * earlier is allowed). To keep a leaf after the Outputs is closed, use {@link #take(int)} /
 * {@link #take(String)}, which return a new tensor that the caller closes; it shares the data
 * without copying and may outlive both the Outputs and the model.
 *
 * <p>Never modified by the library after creation: any number of threads may read it (a leaf
 * passed as an input to a model that modifies its argument in place is the exception, see
 * {@link Tensor}); {@code close()} is idempotent and safe from any thread. After
 * {@code close()} every method but {@code close()}, {@code isClosed()} and {@code toString()}
 * throws {@link IllegalStateException}.
 */
public final class Outputs extends NativeHandle {
  private final Object lock = new Object();
  private Tensor[] byIndex; // guarded by lock
  private Map<String, Tensor> byName; // guarded by lock
  private List<Tensor> owned; // guarded by lock
  private volatile List<String> names;

  Outputs(long ptr) {
    super(ptr, Kind.OUTPUTS);
  }

  /**
   * The number of leaves.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public int size() {
    long p = acquire();
    try {
      return (int) NativeApi.ti_outputs_count(p);
    } finally {
      release();
    }
  }

  /**
   * The name of leaf {@code i}.
   *
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public String name(int i) {
    List<String> all = names();
    Objects.checkIndex(i, all.size());
    return all.get(i);
  }

  /**
   * The leaf names, in order.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public List<String> names() {
    ensureOpen();
    List<String> n = names;
    if (n == null) {
      long p = acquire();
      try {
        int count = (int) NativeApi.ti_outputs_count(p);
        List<String> list = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          list.add(NativeApi.string(NativeApi.ti_outputs_name(p, i)));
        }
        n = Collections.unmodifiableList(list);
      } finally {
        release();
      }
      names = n;
    }
    return n;
  }

  /**
   * Leaf {@code i}, owned by this Outputs (closed with it).
   *
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   */
  public Tensor get(int i) {
    synchronized (lock) {
      long p = acquire();
      try {
        Tensor t = byIndex != null && i >= 0 && i < byIndex.length ? byIndex[i] : null;
        if (t == null) {
          t = new Tensor(fetch(p, i), this);
          if (byIndex == null || i >= byIndex.length) {
            byIndex = java.util.Arrays.copyOf(byIndex == null ? new Tensor[0] : byIndex, i + 1);
          }
          byIndex[i] = t;
          own(t);
        }
        return t;
      } finally {
        release();
      }
    }
  }

  /**
   * The leaf called {@code name}, owned by this Outputs (closed with it).
   *
   * @throws TorchInferException NOT_FOUND when there is no such leaf (the message lists the
   *     names), INVALID_ARGUMENT for a name with a NUL character
   */
  public Tensor get(String name) {
    Objects.requireNonNull(name, "name");
    NativeApi.requireNoNul(name, "output name");
    synchronized (lock) {
      long p = acquire();
      try {
        if (byName == null) {
          byName = new HashMap<>();
        }
        Tensor t = byName.get(name);
        if (t == null) {
          t = new Tensor(find(p, name), this);
          byName.put(name, t);
          own(t);
        }
        return t;
      } finally {
        release();
      }
    }
  }

  /** A new handle on leaf {@code i} that the caller owns and closes. */
  public Tensor take(int i) {
    long p = acquire();
    try {
      return new Tensor(fetch(p, i), null, null);
    } finally {
      release();
    }
  }

  /**
   * A new handle on the leaf called {@code name} that the caller owns and closes.
   *
   * @throws TorchInferException NOT_FOUND when there is no such leaf, INVALID_ARGUMENT for a name
   *     with a NUL character
   */
  public Tensor take(String name) {
    Objects.requireNonNull(name, "name");
    NativeApi.requireNoNul(name, "output name");
    long p = acquire();
    try {
      return new Tensor(find(p, name), null, null);
    } finally {
      release();
    }
  }

  /** A new tensor handle on leaf i; an index out of range is an IndexOutOfBoundsException. */
  private static long fetch(long p, int i) {
    if (i < 0) {
      throw new IndexOutOfBoundsException("Index " + i + " out of bounds");
    }
    Scratch sc = Scratch.get();
    long err = NativeApi.ti_outputs_get(p, i, sc.out);
    if (err != 0) {
      TorchInferException e = NativeApi.take(err);
      long count = NativeApi.ti_outputs_count(p);
      if (i >= count) {
        throw new IndexOutOfBoundsException("Index " + i + " out of bounds for length " + count);
      }
      throw e;
    }
    return sc.result();
  }

  private static long find(long p, String name) {
    Scratch sc = Scratch.get();
    NativeApi.check(NativeApi.ti_outputs_find(p, NativeApi.cstr(name, "output name"), sc.out));
    return sc.result();
  }

  private void own(Tensor t) {
    if (owned == null) {
      owned = new ArrayList<>(2);
    }
    owned.add(t);
  }

  /** Frees the outputs and every tensor returned by {@code get}. Idempotent. */
  @Override
  public void close() {
    List<Tensor> children;
    synchronized (lock) {
      super.close(); // under the lock: no get() can add a tensor after this
      children = owned;
      owned = null;
      byIndex = null;
      byName = null;
    }
    if (children != null) {
      for (Tensor t : children) {
        t.close();
      }
    }
  }

  @Override
  public String toString() {
    try {
      return "Outputs" + names();
    } catch (IllegalStateException closed) {
      return "Outputs(closed)";
    }
  }
}
