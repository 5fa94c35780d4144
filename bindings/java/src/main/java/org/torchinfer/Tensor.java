package org.torchinfer;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An n-dimensional array handled by libtorchinfer: a model input, or one leaf of a model's
 * {@link Outputs}.
 *
 * <p>Create inputs with the {@code of} factories, which copy the Java array into a new CPU
 * tensor (row-major, contiguous), e.g. {@code Tensor.of(new float[] {1, 2, 3, 4}, 2, 2)}. An
 * empty shape makes a 0-dim scalar holding one element. The element count is checked against
 * the shape by the library ({@link TorchInferException.Code#INVALID_ARGUMENT} on mismatch).
 *
 * <p>Read data back with the {@code toXxxArray()} method matching {@link #dtype()}; a wrong one
 * throws {@link IllegalArgumentException}.
 *
 * <p>The library never modifies a tensor after creation: any number of threads may read it and
 * pass it to concurrent predictions. A method that modifies an argument in place
 * ({@code x.add_(1)} in TorchScript) gets a private copy of it, so the caller's data stays as it
 * was; other inputs reach the model without a copy.
 * Close it when done ({@code try}-with-resources); {@code close()} is idempotent,
 * safe from any thread, and a forgotten tensor is freed by a {@link java.lang.ref.Cleaner}.
 * After {@code close()} every method but {@code close()}, {@code isClosed()} and
 * {@code toString()} throws {@link IllegalStateException}, including {@link #shape()} and
 * {@link #dtype()}.
 */
public final class Tensor extends NativeHandle {
  private volatile DType dtype;
  private volatile long[] shape;

  Tensor(long ptr, DType dtype, long[] shape) {
    super(ptr, HandleKind.TENSOR);
    this.dtype = dtype;
    this.shape = shape;
  }

  /** A leaf handed out by {@code Outputs.get}: freed with its parent if never closed. */
  Tensor(long ptr, Outputs parent) {
    super(ptr, HandleKind.TENSOR, parent);
  }

  // ------------------------------------------------------------------ factories

  /** A {@link DType#FLOAT32} tensor holding a copy of {@code data}. */
  public static Tensor of(float[] data, long... shape) {
    Objects.requireNonNull(data, "data");
    return create(DType.FLOAT32, shape, data, 4L * data.length);
  }

  /** A {@link DType#FLOAT64} tensor holding a copy of {@code data}. */
  public static Tensor of(double[] data, long... shape) {
    Objects.requireNonNull(data, "data");
    return create(DType.FLOAT64, shape, data, 8L * data.length);
  }

  /** An {@link DType#INT64} tensor holding a copy of {@code data}. */
  public static Tensor of(long[] data, long... shape) {
    Objects.requireNonNull(data, "data");
    return create(DType.INT64, shape, data, 8L * data.length);
  }

  /** An {@link DType#INT32} tensor holding a copy of {@code data}. */
  public static Tensor of(int[] data, long... shape) {
    Objects.requireNonNull(data, "data");
    return create(DType.INT32, shape, data, 4L * data.length);
  }

  /** An {@link DType#INT16} tensor holding a copy of {@code data}. */
  public static Tensor of(short[] data, long... shape) {
    return of(DType.INT16, data, shape);
  }

  /** An {@link DType#INT8} (signed) tensor holding a copy of {@code data}. */
  public static Tensor of(byte[] data, long... shape) {
    return of(DType.INT8, data, shape);
  }

  /** A {@link DType#BOOL} tensor holding a copy of {@code data}. */
  public static Tensor of(boolean[] data, long... shape) {
    Objects.requireNonNull(data, "data");
    byte[] bytes = new byte[data.length];
    for (int i = 0; i < data.length; i++) {
      bytes[i] = data[i] ? (byte) 1 : (byte) 0;
    }
    return create(DType.BOOL, shape, bytes, bytes.length);
  }

  /**
   * A tensor of a 16-bit {@code dtype} from a copy of {@code data}: {@link DType#INT16}, or raw
   * bit patterns for {@link DType#FLOAT16} and {@link DType#BFLOAT16}.
   */
  public static Tensor of(DType dtype, short[] data, long... shape) {
    Objects.requireNonNull(data, "data");
    requireOneOf(dtype, DType.INT16, DType.FLOAT16, DType.BFLOAT16);
    return create(dtype, shape, data, 2L * data.length);
  }

  /**
   * A tensor of an 8-bit {@code dtype} from a copy of {@code data}: {@link DType#INT8},
   * {@link DType#UINT8} (bytes read as {@code b & 0xff}) or {@link DType#BOOL} (0 or 1).
   */
  public static Tensor of(DType dtype, byte[] data, long... shape) {
    Objects.requireNonNull(data, "data");
    requireOneOf(dtype, DType.INT8, DType.UINT8, DType.BOOL);
    return create(dtype, shape, data, data.length);
  }

  /** A {@link DType#UINT8} tensor holding a copy of {@code data} (read as {@code b & 0xff}). */
  public static Tensor ofUint8(byte[] data, long... shape) {
    return of(DType.UINT8, data, shape);
  }

  /** A {@link DType#FLOAT16} tensor from raw IEEE binary16 bit patterns. */
  public static Tensor ofFloat16(short[] bits, long... shape) {
    return of(DType.FLOAT16, bits, shape);
  }

  /** A {@link DType#BFLOAT16} tensor from raw bfloat16 bit patterns. */
  public static Tensor ofBfloat16(short[] bits, long... shape) {
    return of(DType.BFLOAT16, bits, shape);
  }

  /**
   * A tensor holding a <em>copy</em> of the buffer's remaining bytes (position to limit)
   * interpreted as {@code dtype}, read in the <b>buffer's byte order</b> ({@link ByteBuffer#order()}):
   * a buffer in big-endian order (Java's default for a new ByteBuffer) is converted to the
   * platform's order while copying, so {@code putFloat} / {@code putLong} values come out as
   * written whatever the order. The buffer may be direct or heap; it is not modified (neither
   * its data nor its position) and may be reused as soon as this returns. For zero-copy, see
   * {@link #wrap(ByteBuffer, DType, long...)}.
   *
   * @throws TorchInferException INVALID_ARGUMENT when the byte count does not match the shape
   */
  public static Tensor fromBuffer(ByteBuffer buffer, DType dtype, long... shape) {
    Objects.requireNonNull(buffer, "buffer");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    long nbytes = buffer.remaining();
    boolean swap = dtype.byteSize() > 1 && buffer.order() != ByteOrder.nativeOrder();
    if (!buffer.isDirect() || swap) {
      byte[] copy = new byte[(int) nbytes];
      buffer.duplicate().get(copy);
      if (swap) {
        swapBytes(copy, dtype.byteSize());
      }
      return create(dtype, shape, copy, nbytes);
    }
    long address = Pointer.nativeValue(Native.getDirectBufferPointer(buffer)) + buffer.position();
    long[] dims = shape.clone();
    Scratch sc = Scratch.get();
    Memory[] spill = new Memory[1];
    long shapeAddr = sc.putArray(dims, spill);
    try {
      NativeApi.check(NativeApi.ti_tensor_create(dtype.value(), shapeAddr, dims.length, address, nbytes, sc.out));
    } finally {
      java.lang.ref.Reference.reachabilityFence(buffer);
      java.lang.ref.Reference.reachabilityFence(spill);
    }
    return new Tensor(sc.result(), dtype, dims);
  }

  /** Reverses the bytes of every whole {@code size}-byte element of {@code a}, in place. */
  private static void swapBytes(byte[] a, int size) {
    for (int at = 0; at + size <= a.length; at += size) {
      for (int i = at, j = at + size - 1; i < j; i++, j--) {
        byte b = a[i];
        a[i] = a[j];
        a[j] = b;
      }
    }
  }

  /**
   * A {@link DType#FLOAT32} tensor holding a copy of the buffer's remaining elements (heap or
   * direct, any byte order: values are read as the buffer presents them).
   */
  public static Tensor fromBuffer(FloatBuffer buffer, long... shape) {
    float[] a = new float[Objects.requireNonNull(buffer, "buffer").remaining()];
    buffer.duplicate().get(a);
    return of(a, shape);
  }

  /** A {@link DType#FLOAT64} tensor holding a copy of the buffer's remaining elements (any order). */
  public static Tensor fromBuffer(DoubleBuffer buffer, long... shape) {
    double[] a = new double[Objects.requireNonNull(buffer, "buffer").remaining()];
    buffer.duplicate().get(a);
    return of(a, shape);
  }

  /** An {@link DType#INT64} tensor holding a copy of the buffer's remaining elements (any order). */
  public static Tensor fromBuffer(LongBuffer buffer, long... shape) {
    long[] a = new long[Objects.requireNonNull(buffer, "buffer").remaining()];
    buffer.duplicate().get(a);
    return of(a, shape);
  }

  /** An {@link DType#INT32} tensor holding a copy of the buffer's remaining elements (any order). */
  public static Tensor fromBuffer(IntBuffer buffer, long... shape) {
    int[] a = new int[Objects.requireNonNull(buffer, "buffer").remaining()];
    buffer.duplicate().get(a);
    return of(a, shape);
  }

  /**
   * A tensor of a 16-bit {@code dtype} ({@link DType#INT16}, or raw bit patterns for
   * {@link DType#FLOAT16} / {@link DType#BFLOAT16}) holding a copy of the buffer's remaining
   * elements (any order).
   */
  public static Tensor fromBuffer(DType dtype, ShortBuffer buffer, long... shape) {
    short[] a = new short[Objects.requireNonNull(buffer, "buffer").remaining()];
    buffer.duplicate().get(a);
    return of(dtype, a, shape);
  }

  /**
   * A tensor over the direct buffer's remaining bytes, <em>without copying</em>. The binding keeps
   * the buffer strongly reachable until the library releases the data (after this tensor is
   * closed or cleaned and no running prediction or output aliasing it needs it any more). Do not
   * modify the buffer while the tensor or anything derived from it is alive. The start address
   * must be aligned to the element size.
   *
   * <p>The library reads the bytes in the platform's order, so for a dtype wider than one byte
   * the buffer must be in {@link ByteOrder#nativeOrder()}: a new ByteBuffer is big-endian, so
   * call {@code buf.order(ByteOrder.nativeOrder())} before filling it. (Zero-copy cannot convert;
   * {@link #fromBuffer(ByteBuffer, DType, long...)} converts while copying.) The buffer must be
   * writable ({@code ti_tensor_wrap} takes writable memory), although the library never writes
   * to it: a method that modifies an argument in place gets a private copy.
   *
   * <p>All arguments are checked before the buffer is registered: a rejected call leaves nothing
   * pinned.
   *
   * @throws IllegalArgumentException for a heap or read-only buffer, a byte order other than the
   *     native one (dtypes wider than one byte), or a misaligned start
   * @throws TorchInferException INVALID_ARGUMENT when the byte count does not match the shape
   */
  public static Tensor wrap(ByteBuffer buffer, DType dtype, long... shape) {
    Objects.requireNonNull(buffer, "buffer");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
    if (!buffer.isDirect()) {
      throw new IllegalArgumentException("Tensor.wrap needs a direct ByteBuffer; use fromBuffer to copy");
    }
    if (buffer.isReadOnly()) {
      throw new IllegalArgumentException("Tensor.wrap needs a writable buffer (a model may modify its"
          + " inputs in place); use fromBuffer to copy a read-only one");
    }
    if (dtype.byteSize() > 1 && buffer.order() != ByteOrder.nativeOrder()) {
      throw new IllegalArgumentException("Tensor.wrap reads " + dtype.cName() + " data in the native"
          + " byte order (" + ByteOrder.nativeOrder() + ") without copying, but the buffer is "
          + buffer.order() + "; call buf.order(ByteOrder.nativeOrder()) before filling it, or use"
          + " Tensor.fromBuffer, which converts");
    }
    long address = Pointer.nativeValue(Native.getDirectBufferPointer(buffer)) + buffer.position();
    if (address % dtype.byteSize() != 0) {
      throw new IllegalArgumentException("buffer start is not aligned to " + dtype.byteSize()
          + " bytes for " + dtype.cName());
    }
    long nbytes = buffer.remaining();
    long[] dims = shape.clone();
    Scratch sc = Scratch.get();
    Memory[] spill = new Memory[1];
    long shapeAddr = sc.putArray(dims, spill);
    // Nothing may throw between registering the buffer and the call, which calls Pinned.RELEASE
    // exactly once, also on error (before returning).
    long id = Pinned.NEXT.incrementAndGet();
    Pinned.BUFFERS.put(id, buffer);
    long err = NativeApi.ti_tensor_wrap(dtype.value(), shapeAddr, dims.length, address, nbytes,
        Pinned.RELEASE, id, sc.out);
    long handle = sc.result();
    java.lang.ref.Reference.reachabilityFence(spill);
    NativeApi.check(err);
    return new Tensor(handle, dtype, dims);
  }

  /** Buffers lent to the library by {@link #wrap}, by context id, until their release runs. */
  private static final class Pinned {
    static final AtomicLong NEXT = new AtomicLong();
    static final ConcurrentHashMap<Long, ByteBuffer> BUFFERS = new ConcurrentHashMap<>();
    /** Static and final: the JNA callback object stays reachable for the life of the class. */
    static final NativeApi.ReleaseCallback RELEASE = ctx -> BUFFERS.remove(Pointer.nativeValue(ctx));
  }

  /** The number of buffers passed to {@link #wrap} whose release has not run yet. */
  static int pinnedBuffers() {
    return Pinned.BUFFERS.size();
  }

  private static Tensor create(DType dtype, long[] shape, Object data, long nbytes) {
    Objects.requireNonNull(shape, "shape");
    long[] dims = shape.clone();
    Scratch sc = Scratch.get();
    Memory[] spill = new Memory[1];
    long sh = sc.putArray(dims, spill);
    long nd = dims.length;
    int dt = dtype.value();
    long out = sc.out;
    long err;
    if (data instanceof float[] a) {
      err = NativeApi.ti_tensor_create(dt, sh, nd, a, nbytes, out);
    } else if (data instanceof double[] a) {
      err = NativeApi.ti_tensor_create(dt, sh, nd, a, nbytes, out);
    } else if (data instanceof long[] a) {
      err = NativeApi.ti_tensor_create(dt, sh, nd, a, nbytes, out);
    } else if (data instanceof int[] a) {
      err = NativeApi.ti_tensor_create(dt, sh, nd, a, nbytes, out);
    } else if (data instanceof short[] a) {
      err = NativeApi.ti_tensor_create(dt, sh, nd, a, nbytes, out);
    } else {
      err = NativeApi.ti_tensor_create(dt, sh, nd, (byte[]) data, nbytes, out);
    }
    long handle = sc.result();
    java.lang.ref.Reference.reachabilityFence(spill);
    NativeApi.check(err);
    return new Tensor(handle, dtype, dims);
  }

  private static void requireOneOf(DType dtype, DType... allowed) {
    Objects.requireNonNull(dtype, "dtype");
    for (DType d : allowed) {
      if (d == dtype) {
        return;
      }
    }
    throw new IllegalArgumentException("dtype " + dtype.cName() + " does not fit this array type; expected one of "
        + Arrays.toString(allowed));
  }

  // ------------------------------------------------------------------ metadata

  /**
   * The element type.
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public DType dtype() {
    ensureOpen();
    DType d = dtype;
    if (d == null) {
      long p = acquire();
      try {
        d = DType.of(NativeApi.HOT.ti_tensor_dtype(p));
      } finally {
        release();
      }
      dtype = d;
    }
    return d;
  }

  /**
   * The sizes of the dimensions (a copy; empty for a 0-dim scalar).
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public long[] shape() {
    return shapeRef().clone();
  }

  private long[] shapeRef() {
    ensureOpen();
    long[] s = shape;
    if (s == null) {
      long p = acquire();
      try {
        int ndim = (int) NativeApi.ti_tensor_ndim(p);
        s = new long[ndim];
        if (ndim > 0) {
          new Pointer(NativeApi.ti_tensor_shape(p)).read(0, s, 0, ndim);
        }
      } finally {
        release();
      }
      shape = s;
    }
    return s;
  }

  /**
   * The number of elements (1 for a 0-dim scalar).
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public long numel() {
    ensureOpen();
    long[] s = shape;
    if (s == null) {
      long p = acquire();
      try {
        return NativeApi.HOT.ti_tensor_numel(p);
      } finally {
        release();
      }
    }
    long n = 1;
    for (long d : s) {
      n *= d;
    }
    return n;
  }

  /**
   * The device the data is on: "cpu" or "cuda:N".
   *
   * @throws IllegalStateException after {@link #close()}
   */
  public String device() {
    long p = acquire();
    try {
      return NativeApi.string(NativeApi.ti_tensor_device(p));
    } finally {
      release();
    }
  }

  // ------------------------------------------------------------------ data

  /** The data of a {@link DType#FLOAT32} tensor, row-major. */
  public float[] toFloatArray() {
    float[] out = new float[elements(DType.FLOAT32)];
    copyOut(out, 4L * out.length);
    return out;
  }

  /** The data of a {@link DType#FLOAT64} tensor, row-major. */
  public double[] toDoubleArray() {
    double[] out = new double[elements(DType.FLOAT64)];
    copyOut(out, 8L * out.length);
    return out;
  }

  /** The data of an {@link DType#INT64} tensor, row-major. */
  public long[] toLongArray() {
    long[] out = new long[elements(DType.INT64)];
    copyOut(out, 8L * out.length);
    return out;
  }

  /** The data of an {@link DType#INT32} tensor, row-major. */
  public int[] toIntArray() {
    int[] out = new int[elements(DType.INT32)];
    copyOut(out, 4L * out.length);
    return out;
  }

  /**
   * The data of an {@link DType#INT16} tensor, or the raw bit patterns of a {@link DType#FLOAT16}
   * or {@link DType#BFLOAT16} tensor, row-major.
   */
  public short[] toShortArray() {
    short[] out = new short[elements(DType.INT16, DType.FLOAT16, DType.BFLOAT16)];
    copyOut(out, 2L * out.length);
    return out;
  }

  /** The data of an {@link DType#INT8} or {@link DType#UINT8} tensor (or BOOL as 0/1), row-major. */
  public byte[] toByteArray() {
    byte[] out = new byte[elements(DType.INT8, DType.UINT8, DType.BOOL)];
    copyOut(out, out.length);
    return out;
  }

  /** The data of a {@link DType#BOOL} tensor, row-major. */
  public boolean[] toBooleanArray() {
    byte[] bytes = new byte[elements(DType.BOOL)];
    copyOut(bytes, bytes.length);
    boolean[] out = new boolean[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = bytes[i] != 0;
    }
    return out;
  }

  /** The raw bytes of the data whatever the dtype, row-major, in native byte order. */
  public byte[] toBytes() {
    long n = numel() * dtype().byteSize();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("tensor too large for a Java array: " + n + " bytes");
    }
    byte[] out = new byte[(int) n];
    copyOut(out, out.length);
    return out;
  }

  /**
   * Copies the data of a {@link DType#FLOAT32} tensor of exactly {@code dst.length} elements into
   * {@code dst} (row-major): {@link #toFloatArray()} without the allocation, for a reused array.
   *
   * @throws IllegalArgumentException if the dtype is not FLOAT32 or the element count is not
   *     {@code dst.length}
   */
  public void copyTo(float[] dst) {
    copyOut(dst, 4L * checkLength(elements(DType.FLOAT32), dst.length));
  }

  /** As {@link #copyTo(float[])} for a {@link DType#FLOAT64} tensor. */
  public void copyTo(double[] dst) {
    copyOut(dst, 8L * checkLength(elements(DType.FLOAT64), dst.length));
  }

  /** As {@link #copyTo(float[])} for an {@link DType#INT64} tensor. */
  public void copyTo(long[] dst) {
    copyOut(dst, 8L * checkLength(elements(DType.INT64), dst.length));
  }

  /** As {@link #copyTo(float[])} for an {@link DType#INT32} tensor. */
  public void copyTo(int[] dst) {
    copyOut(dst, 4L * checkLength(elements(DType.INT32), dst.length));
  }

  /** As {@link #copyTo(float[])} for an INT16 tensor, or the bits of a FLOAT16/BFLOAT16 one. */
  public void copyTo(short[] dst) {
    copyOut(dst, 2L * checkLength(elements(DType.INT16, DType.FLOAT16, DType.BFLOAT16), dst.length));
  }

  /** As {@link #copyTo(float[])} for an INT8, UINT8 or BOOL (0/1) tensor. */
  public void copyTo(byte[] dst) {
    copyOut(dst, checkLength(elements(DType.INT8, DType.UINT8, DType.BOOL), dst.length));
  }

  private static int checkLength(int elements, int length) {
    if (elements != length) {
      throw new IllegalArgumentException("tensor has " + elements + " elements, the array " + length);
    }
    return length;
  }

  private int elements(DType... allowed) {
    DType d = dtype();
    boolean ok = false;
    for (DType a : allowed) {
      ok |= a == d;
    }
    if (!ok) {
      throw new IllegalArgumentException("tensor has dtype " + d.cName() + ", this accessor reads "
          + (allowed.length == 1 ? allowed[0].cName() : Arrays.toString(allowed)));
    }
    long n = numel();
    if (n > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("tensor too large for a Java array: " + n + " elements");
    }
    return (int) n;
  }

  /**
   * Copies the data into {@code dst} (a primitive array of exactly nbytes). CPU tensors are read
   * straight from the library's buffer; others go through ti_tensor_copy_to.
   */
  private void copyOut(Object dst, long nbytes) {
    long p = acquire();
    try {
      Scratch sc = Scratch.get();
      long err = NativeApi.HOT.ti_tensor_data(p, sc.out);
      if (err == 0) {
        if (nbytes == 0) {
          return;
        }
        Pointer src = new Pointer(sc.result());
        if (dst instanceof float[] a) {
          src.read(0, a, 0, a.length);
        } else if (dst instanceof double[] a) {
          src.read(0, a, 0, a.length);
        } else if (dst instanceof long[] a) {
          src.read(0, a, 0, a.length);
        } else if (dst instanceof int[] a) {
          src.read(0, a, 0, a.length);
        } else if (dst instanceof short[] a) {
          src.read(0, a, 0, a.length);
        } else {
          byte[] a = (byte[]) dst;
          src.read(0, a, 0, a.length);
        }
        return;
      }
      TorchInferException e = NativeApi.take(err);
      if (e.code() != TorchInferException.Code.DEVICE) {
        throw e;
      }
      if (dst instanceof float[] a) {
        err = NativeApi.ti_tensor_copy_to(p, a, nbytes);
      } else if (dst instanceof double[] a) {
        err = NativeApi.ti_tensor_copy_to(p, a, nbytes);
      } else if (dst instanceof long[] a) {
        err = NativeApi.ti_tensor_copy_to(p, a, nbytes);
      } else if (dst instanceof int[] a) {
        err = NativeApi.ti_tensor_copy_to(p, a, nbytes);
      } else if (dst instanceof short[] a) {
        err = NativeApi.ti_tensor_copy_to(p, a, nbytes);
      } else {
        err = NativeApi.ti_tensor_copy_to(p, (byte[]) dst, nbytes);
      }
      NativeApi.check(err);
    } finally {
      release();
    }
  }

  @Override
  public String toString() {
    try {
      return "Tensor(" + dtype().cName() + ", " + Arrays.toString(shapeRef()) + ")";
    } catch (IllegalStateException closed) {
      return "Tensor(closed)";
    }
  }
}
