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
 * "boxes.2"); a bare tensor is one leaf named "0". Names follow the path grammar of
 * {@link Inputs}: a "." or "\" inside a dict key is escaped (the key "p.q" of result 1 is the
 * leaf {@code 1.p\.q}; {@link Inputs#escapeKey(String)} builds such names). int, float and bool
 * results become 0-dim INT64, FLOAT64 and BOOL tensors.
 *
 * <p><b>Kinds.</b> Every leaf has a {@link Kind}: a tensor, a string (a TorchScript {@code str},
 * read with {@link #string(int)}), or a None (an empty {@code Optional} result,
 * {@link #isNone(int)}). An empty list, tuple or dict gives no leaf. The tensor accessors
 * ({@link #get(int)}, {@link #copyTo(int, float[])}, {@link #dtype(int)}, ...) on a leaf that is
 * not a tensor throw {@link TorchInferException.Code#INVALID_ARGUMENT} naming its kind.
 *
 * <p>The tensors returned by {@link #get(int)} and {@link #get(String)} belong to this object:
 * repeated calls return the same {@link Tensor}, and closing the Outputs closes them (closing one
 * earlier is allowed). To keep a leaf after the Outputs is closed, use {@link #take(int)} /
 * {@link #take(String)}, which return a new tensor that the caller closes; it shares the data
 * without copying and may outlive both the Outputs and the model.
 *
 * <p>Never modified by the library after creation: any number of threads may read it (also when
 * a leaf is passed as the input of a model that modifies its argument in place: that model gets a
 * private copy, see {@link Tensor}); {@code close()} is idempotent and safe from any thread. After
 * {@code close()} every method but {@code close()}, {@code isClosed()} and {@code toString()}
 * throws {@link IllegalStateException}.
 */
public final class Outputs extends NativeHandle {
  /** The kind of a leaf ({@code ti_kind_t}, in the same order). */
  public enum Kind {
    /** A tensor (int, float and bool results are 0-dim tensors). */
    TENSOR,
    /** A str: {@link Outputs#string(int)}. */
    STRING,
    /** A None: an Optional result that was empty. */
    NONE;

    static Kind of(int value) {
      Kind[] all = values();
      if (value < 0 || value >= all.length) {
        throw new TorchInferException(TorchInferException.Code.INTERNAL,
            "leaf kind " + value + " is not one this binding knows");
      }
      return all[value];
    }
  }

  private final Object lock = new Object();
  private Tensor[] byIndex; // guarded by lock
  private Map<String, Tensor> byName; // guarded by lock
  private List<Tensor> owned; // guarded by lock
  private volatile List<String> names;

  Outputs(long ptr) {
    super(ptr, HandleKind.OUTPUTS);
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

  // ------------------------------------------------------------------ kinds, strings and None

  /**
   * The kind of leaf {@code i}.
   *
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public Kind kind(int i) {
    long p = acquire();
    try {
      checkIndex(p, i);
      return Kind.of(NativeApi.ti_outputs_kind(p, i));
    } finally {
      release();
    }
  }

  /**
   * True when leaf {@code i} is a None (an empty Optional result).
   *
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public boolean isNone(int i) {
    return kind(i) == Kind.NONE;
  }

  /**
   * String leaf {@code i}, decoded from UTF-8 (NUL characters inside are kept; bytes that are
   * not valid UTF-8 become U+FFFD: {@link #stringBytes(int)} has them as they are).
   *
   * @throws TorchInferException INVALID_ARGUMENT when the leaf is not a string (the message names
   *     its kind)
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public String string(int i) {
    return new String(stringBytes(i), java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * The bytes of string leaf {@code i} as the model produced them (UTF-8), copied.
   *
   * @throws TorchInferException INVALID_ARGUMENT when the leaf is not a string
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public byte[] stringBytes(int i) {
    long p = acquire();
    try {
      checkIndex(p, i);
      Scratch sc = Scratch.get();
      NativeApi.check(NativeApi.ti_outputs_string(p, i, sc.out, sc.array));
      long data = sc.result();
      long len = sc.slot(0);
      if (len > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("string leaf " + i + " too large for a Java array: " + len + " bytes");
      }
      return len == 0 ? new byte[0] : new com.sun.jna.Pointer(data).getByteArray(0, (int) len);
    } finally {
      release();
    }
  }

  /** Throws INVALID_ARGUMENT when leaf {@code i} (in range) is not a tensor. */
  private static void requireTensor(long p, int i) {
    int kind = NativeApi.ti_outputs_kind(p, i);
    if (kind != Kind.TENSOR.ordinal()) {
      throw new TorchInferException(TorchInferException.Code.INVALID_ARGUMENT,
          "output '" + NativeApi.string(NativeApi.ti_outputs_name(p, i)) + "' (leaf " + i + ") is "
              + (kind == Kind.STRING.ordinal() ? "a string" : "a None") + ", not a tensor");
    }
  }

  // ------------------------------------------------------------------ reading leaves directly

  /*
   * Reading a leaf without a tensor handle (ti_outputs_dtype/shape/nbytes/copy_to): no Tensor
   * object, no native handle to free. The fast way to copy results out:
   *
   *   float[] y = new float[4];                 // reused across calls
   *   try (Outputs out = model.predict(x)) { out.copyTo(0, y); }
   */

  /**
   * The index of the leaf called {@code name}.
   *
   * @throws TorchInferException NOT_FOUND when there is no such leaf (the message lists the
   *     names)
   * @throws IllegalStateException after {@link #close()}
   */
  public int index(String name) {
    Objects.requireNonNull(name, "name");
    List<String> all = names();
    int i = all.indexOf(name);
    if (i < 0) {
      throw new TorchInferException(TorchInferException.Code.NOT_FOUND,
          "no output named \"" + name.replace("\0", "\\0") + "\"; the outputs are " + all);
    }
    return i;
  }

  /**
   * The element type of leaf {@code i}, without creating a tensor.
   *
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public DType dtype(int i) {
    long p = acquire();
    try {
      checkIndex(p, i);
      requireTensor(p, i);
      return DType.of(NativeApi.ti_outputs_dtype(p, i));
    } finally {
      release();
    }
  }

  /**
   * The shape of leaf {@code i} (empty for a 0-dim scalar), without creating a tensor.
   *
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public long[] shape(int i) {
    long p = acquire();
    try {
      checkIndex(p, i);
      requireTensor(p, i);
      int ndim = (int) NativeApi.ti_outputs_ndim(p, i);
      long[] s = new long[ndim];
      if (ndim > 0) {
        new com.sun.jna.Pointer(NativeApi.ti_outputs_shape(p, i)).read(0, s, 0, ndim);
      }
      return s;
    } finally {
      release();
    }
  }

  /**
   * The number of elements of leaf {@code i} (1 for a 0-dim scalar).
   *
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public long numel(int i) {
    long p = acquire();
    try {
      checkIndex(p, i);
      requireTensor(p, i);
      int size = DType.of(NativeApi.ti_outputs_dtype(p, i)).byteSize();
      return NativeApi.ti_outputs_nbytes(p, i) / size;
    } finally {
      release();
    }
  }

  /**
   * Copies leaf {@code i}, a {@link DType#FLOAT32} leaf of exactly {@code dst.length} elements,
   * into {@code dst} (row-major), without creating a tensor: the cheapest way to read a result,
   * and {@code dst} can be reused from call to call.
   *
   * @throws IllegalArgumentException if the leaf is not FLOAT32 or its element count is not
   *     {@code dst.length}
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public void copyTo(int i, float[] dst) {
    copyLeaf(i, Objects.requireNonNull(dst, "dst"), dst.length, 4, F32);
  }

  /** As {@link #copyTo(int, float[])} for a {@link DType#FLOAT64} leaf. */
  public void copyTo(int i, double[] dst) {
    copyLeaf(i, Objects.requireNonNull(dst, "dst"), dst.length, 8, F64);
  }

  /** As {@link #copyTo(int, float[])} for an {@link DType#INT64} leaf. */
  public void copyTo(int i, long[] dst) {
    copyLeaf(i, Objects.requireNonNull(dst, "dst"), dst.length, 8, I64);
  }

  /** As {@link #copyTo(int, float[])} for an {@link DType#INT32} leaf. */
  public void copyTo(int i, int[] dst) {
    copyLeaf(i, Objects.requireNonNull(dst, "dst"), dst.length, 4, I32);
  }

  /**
   * As {@link #copyTo(int, float[])} for an {@link DType#INT16} leaf, or the raw bit patterns of
   * a {@link DType#FLOAT16} or {@link DType#BFLOAT16} leaf.
   */
  public void copyTo(int i, short[] dst) {
    copyLeaf(i, Objects.requireNonNull(dst, "dst"), dst.length, 2, SHORTS);
  }

  /** As {@link #copyTo(int, float[])} for an {@link DType#INT8}, {@link DType#UINT8} or {@link DType#BOOL} (0/1) leaf. */
  public void copyTo(int i, byte[] dst) {
    copyLeaf(i, Objects.requireNonNull(dst, "dst"), dst.length, 1, BYTES);
  }

  /**
   * Copies the raw bytes of leaf {@code i} (any dtype, row-major, native byte order) into
   * {@code dst} at its position, and advances the position by the leaf's byte size. A direct
   * buffer is written by the library itself, without an intermediate copy.
   *
   * @throws IllegalArgumentException if {@code dst.remaining()} is less than the leaf's byte size
   * @throws java.nio.ReadOnlyBufferException if {@code dst} is read-only
   * @throws IndexOutOfBoundsException if {@code i} is not in [0, size())
   * @throws IllegalStateException after {@link #close()}
   */
  public void copyTo(int i, java.nio.ByteBuffer dst) {
    Objects.requireNonNull(dst, "dst");
    if (dst.isReadOnly()) {
      throw new java.nio.ReadOnlyBufferException();
    }
    long p = acquire();
    try {
      checkIndex(p, i);
      long nbytes = NativeApi.ti_outputs_nbytes(p, i);
      if (nbytes > dst.remaining()) {
        throw new IllegalArgumentException("leaf " + i + " has " + nbytes + " bytes, the buffer "
            + dst.remaining() + " remaining");
      }
      int n = (int) nbytes;
      if (dst.isDirect()) {
        long address = com.sun.jna.Pointer.nativeValue(com.sun.jna.Native.getDirectBufferPointer(dst))
            + dst.position();
        try {
          NativeApi.check(NativeApi.ti_outputs_copy_to(p, i, n == 0 ? 0 : address, nbytes));
        } finally {
          java.lang.ref.Reference.reachabilityFence(dst);
        }
        dst.position(dst.position() + n);
      } else if (n <= Scratch.DATA_BYTES) {
        Scratch sc = Scratch.get();
        NativeApi.check(NativeApi.ti_outputs_copy_to(p, i, sc.data, nbytes));
        sc.readData(dst, n);
      } else {
        byte[] a = new byte[n];
        NativeApi.check(NativeApi.ti_outputs_copy_to(p, i, a, nbytes));
        dst.put(a);
      }
    } finally {
      release();
    }
  }

  /** Leaf {@code i} of a {@link DType#FLOAT32} leaf as a new array; see {@link #copyTo(int, float[])}. */
  public float[] toFloatArray(int i) {
    float[] a = new float[leafElements(i, 4)];
    copyTo(i, a);
    return a;
  }

  /** Leaf {@code i} of a {@link DType#FLOAT64} leaf as a new array. */
  public double[] toDoubleArray(int i) {
    double[] a = new double[leafElements(i, 8)];
    copyTo(i, a);
    return a;
  }

  /** Leaf {@code i} of an {@link DType#INT64} leaf as a new array. */
  public long[] toLongArray(int i) {
    long[] a = new long[leafElements(i, 8)];
    copyTo(i, a);
    return a;
  }

  /** Leaf {@code i} of an {@link DType#INT32} leaf as a new array. */
  public int[] toIntArray(int i) {
    int[] a = new int[leafElements(i, 4)];
    copyTo(i, a);
    return a;
  }

  /** Leaf {@code i} of an INT16 leaf, or the bits of a FLOAT16/BFLOAT16 leaf, as a new array. */
  public short[] toShortArray(int i) {
    short[] a = new short[leafElements(i, 2)];
    copyTo(i, a);
    return a;
  }

  /** Leaf {@code i} of an INT8, UINT8 or BOOL leaf as a new array. */
  public byte[] toByteArray(int i) {
    byte[] a = new byte[leafElements(i, 1)];
    copyTo(i, a);
    return a;
  }

  // The dtypes each array type reads (constants: no varargs array per call).
  private static final DType[] F32 = {DType.FLOAT32};
  private static final DType[] F64 = {DType.FLOAT64};
  private static final DType[] I64 = {DType.INT64};
  private static final DType[] I32 = {DType.INT32};
  private static final DType[] SHORTS = {DType.INT16, DType.FLOAT16, DType.BFLOAT16};
  private static final DType[] BYTES = {DType.INT8, DType.UINT8, DType.BOOL};

  /** The element count of leaf i for an array of {@code size}-byte elements (dtype checked later). */
  private int leafElements(int i, int size) {
    long p = acquire();
    try {
      checkIndex(p, i);
      requireTensor(p, i);
      long n = NativeApi.ti_outputs_nbytes(p, i) / size;
      if (n > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("leaf " + i + " too large for a Java array: " + n + " elements");
      }
      return (int) n;
    } finally {
      release();
    }
  }

  /**
   * The copy behind every {@code copyTo(int, array)}: one dtype query and one copy. A small
   * leaf goes through the thread's scratch memory (see {@link Scratch#DATA_BYTES}).
   */
  private void copyLeaf(int i, Object dst, int length, int size, DType[] allowed) {
    if (i < 0) {
      throw new IndexOutOfBoundsException("Index " + i + " out of bounds");
    }
    long p = acquire();
    try {
      // Out of range, ti_outputs_dtype says FLOAT32 and ti_outputs_copy_to fails: sorted out in
      // copyFailed, off the fast path.
      int dt = NativeApi.HOT.ti_outputs_dtype(p, i);
      boolean ok = false;
      for (DType a : allowed) {
        ok |= a.value() == dt;
      }
      if (!ok) {
        checkIndex(p, i);
        requireTensor(p, i);
        throw new IllegalArgumentException("leaf " + i + " has dtype " + DType.of(dt).cName()
            + ", this accessor reads " + (allowed.length == 1 ? allowed[0].cName()
                : java.util.Arrays.toString(allowed)));
      }
      long nbytes = (long) length * size;
      long err;
      if (nbytes <= Scratch.DATA_BYTES) {
        Scratch sc = Scratch.get();
        err = NativeApi.HOT.ti_outputs_copy_to(p, i, sc.data, nbytes);
        if (err == 0) {
          sc.readData(dst);
          return;
        }
      } else if (dst instanceof float[] a) {
        err = NativeApi.ti_outputs_copy_to(p, i, a, nbytes);
      } else if (dst instanceof double[] a) {
        err = NativeApi.ti_outputs_copy_to(p, i, a, nbytes);
      } else if (dst instanceof long[] a) {
        err = NativeApi.ti_outputs_copy_to(p, i, a, nbytes);
      } else if (dst instanceof int[] a) {
        err = NativeApi.ti_outputs_copy_to(p, i, a, nbytes);
      } else if (dst instanceof short[] a) {
        err = NativeApi.ti_outputs_copy_to(p, i, a, nbytes);
      } else {
        err = NativeApi.ti_outputs_copy_to(p, i, (byte[]) dst, nbytes);
      }
      if (err != 0) {
        throw copyFailed(p, i, err, length, size);
      }
    } finally {
      release();
    }
  }

  /** The exception for a failed copy: index out of range, wrong element count, or the library's. */
  private static RuntimeException copyFailed(long p, int i, long err, int length, int size) {
    TorchInferException e = NativeApi.take(err);
    long count = NativeApi.ti_outputs_count(p);
    if (i >= count) {
      return new IndexOutOfBoundsException("Index " + i + " out of bounds for length " + count);
    }
    if (NativeApi.ti_outputs_kind(p, i) != Kind.TENSOR.ordinal()) {
      return e; // the library's message names the leaf's kind
    }
    long have = NativeApi.ti_outputs_nbytes(p, i) / size;
    if (have != length) {
      return new IllegalArgumentException("leaf " + i + " has " + have + " elements, the array "
          + length);
    }
    return e;
  }

  private static void checkIndex(long p, int i) {
    long count = NativeApi.ti_outputs_count(p);
    if (i < 0 || i >= count) {
      throw new IndexOutOfBoundsException("Index " + i + " out of bounds for length " + count);
    }
  }

  /** A new tensor handle on leaf i; an index out of range is an IndexOutOfBoundsException. */
  private static long fetch(long p, int i) {
    if (i < 0) {
      throw new IndexOutOfBoundsException("Index " + i + " out of bounds");
    }
    Scratch sc = Scratch.get();
    long err = NativeApi.HOT.ti_outputs_get(p, i, sc.out);
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
