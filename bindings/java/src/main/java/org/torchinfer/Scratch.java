package org.torchinfer;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A small per-thread block of native memory for out parameters, shapes and input-pointer
 * arrays, so that native calls take addresses (primitive {@code long}s) instead of Java arrays.
 * Read and written from Java through a direct {@link ByteBuffer}, which the JIT compiles to
 * plain loads and stores. Used only between a native call and the reads that follow it on the
 * same thread; never across a call into user code.
 */
final class Scratch {
  /** Slots (8 bytes each): slot 0 is the out parameter, the rest hold shapes or input pointers. */
  static final int SLOTS = 64;

  private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

  final ByteBuffer buf;
  /** Address of slot 0. */
  final long out;
  /** Address of slot 1, the first of {@code SLOTS - 1} array slots. */
  final long array;

  private Scratch() {
    buf = ByteBuffer.allocateDirect(SLOTS * 8).order(ByteOrder.nativeOrder());
    out = Pointer.nativeValue(Native.getDirectBufferPointer(buf));
    array = out + 8;
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

  /** Stores {@code value} in array slot {@code i} (0-based, i < SLOTS - 1). */
  void putSlot(int i, long value) {
    buf.putLong(8 + 8 * i, value);
  }
}
