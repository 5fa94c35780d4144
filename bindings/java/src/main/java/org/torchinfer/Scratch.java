package org.torchinfer;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;

/**
 * A small per-thread block of native memory for out parameters, shapes, input-pointer arrays
 * and small result leaves, so that native calls take addresses (primitive {@code long}s) instead
 * of Java arrays.
 * Read and written from Java through a direct {@link ByteBuffer}, which the JIT compiles to
 * plain loads and stores. Used only between a native call and the reads that follow it on the
 * same thread; never across a call into user code.
 */
final class Scratch {
  /** Slots (8 bytes each): slot 0 is the out parameter, the rest hold shapes or input pointers. */
  static final int SLOTS = 64;

  /**
   * Bytes for a result leaf copied out with {@code ti_outputs_copy_to}: a leaf that fits is
   * copied here and then into the Java array with one intrinsic bulk copy, which is cheaper than
   * passing the array to JNA (JNA copies an array argument in and out of a malloc'd block).
   * Larger leaves are passed as arrays. Small on purpose: every thread (virtual ones too) that
   * calls the library has one.
   */
  static final int DATA_BYTES = 1024;

  private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

  final ByteBuffer buf;
  /** Address of slot 0. */
  final long out;
  /** Address of slot 1, the first of {@code SLOTS - 1} array slots. */
  final long array;
  /** Address of the {@link #DATA_BYTES} data area. */
  final long data;
  /** Views of the data area (native order, absolute bulk gets only: no position changes). */
  private final ByteBuffer bytes;
  private final FloatBuffer floats;
  private final DoubleBuffer doubles;
  private final LongBuffer longs;
  private final IntBuffer ints;
  private final ShortBuffer shorts;

  private Scratch() {
    buf = ByteBuffer.allocateDirect(SLOTS * 8 + DATA_BYTES).order(ByteOrder.nativeOrder());
    out = Pointer.nativeValue(Native.getDirectBufferPointer(buf));
    array = out + 8;
    data = out + SLOTS * 8;
    bytes = buf.slice(SLOTS * 8, DATA_BYTES).order(ByteOrder.nativeOrder());
    floats = bytes.asFloatBuffer();
    doubles = bytes.asDoubleBuffer();
    longs = bytes.asLongBuffer();
    ints = bytes.asIntBuffer();
    shorts = bytes.asShortBuffer();
  }

  /**
   * Copies the first {@code dst.length} elements of the data area into {@code dst}, a primitive
   * array whose byte size is at most {@link #DATA_BYTES}.
   */
  void readData(Object dst) {
    if (dst instanceof float[] a) {
      floats.get(0, a);
    } else if (dst instanceof double[] a) {
      doubles.get(0, a);
    } else if (dst instanceof long[] a) {
      longs.get(0, a);
    } else if (dst instanceof int[] a) {
      ints.get(0, a);
    } else if (dst instanceof short[] a) {
      shorts.get(0, a);
    } else {
      bytes.get(0, (byte[]) dst);
    }
  }

  /** Copies {@code n} bytes of the data area into {@code dst} at its position, advancing it. */
  void readData(ByteBuffer dst, int n) {
    dst.put(dst.position(), bytes, 0, n);
    dst.position(dst.position() + n);
  }

  static Scratch get() {
    return LOCAL.get();
  }

  /** The value the last call wrote through {@link #out}. */
  long result() {
    return buf.getLong(0);
  }

  /** Clears the out slot (the library sets it on success and on error). */
  void clearResult() {
    buf.putLong(0, 0);
  }

  /**
   * Writes {@code values} to native memory and returns its address (0 for an empty array): the
   * array slots when they fit, else {@code spill}, which the caller keeps reachable until the
   * native call returns.
   */
  long putArray(long[] values, com.sun.jna.Memory[] spill) {
    if (values.length == 0) {
      return 0;
    }
    if (values.length > SLOTS - 1) {
      com.sun.jna.Memory m = new com.sun.jna.Memory(8L * values.length);
      m.write(0, values, 0, values.length);
      spill[0] = m;
      return Pointer.nativeValue(m);
    }
    for (int i = 0; i < values.length; i++) {
      buf.putLong(8 + 8 * i, values[i]);
    }
    return array;
  }

  /** The value in array slot {@code i} (0-based, i < SLOTS - 1), e.g. a second out parameter. */
  long slot(int i) {
    return buf.getLong(8 + 8 * i);
  }

  /** Stores {@code value} in array slot {@code i} (0-based, i < SLOTS - 1). */
  void putSlot(int i, long value) {
    buf.putLong(8 + 8 * i, value);
  }
}
