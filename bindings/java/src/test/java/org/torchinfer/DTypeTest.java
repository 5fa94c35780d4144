package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every dtype round-trips through identity.pt (forward) and doubles through its second method. */
class DTypeTest extends Fixtures {
  private static Model identity;

  @BeforeAll
  static void load() {
    identity = Model.load(model("identity.pt"));
  }

  @AfterAll
  static void unload() {
    identity.close();
  }

  /** Runs forward and double; checks dtype and shape; returns {identity tensor, doubled tensor} via callbacks. */
  private interface Check {
    void accept(Tensor same, Tensor doubled);
  }

  private static void roundTrip(Tensor in, DType dtype, Check check) {
    roundTrip(in, dtype, dtype, check);
  }

  private static void roundTrip(Tensor in, DType dtype, DType doubledDtype, Check check) {
    try (in;
         Outputs same = identity.predict(in);
         Outputs twice = identity.runMethod("double", in)) {
      assertEquals(dtype, in.dtype());
      assertEquals(java.util.List.of("0"), same.names());
      assertEquals(dtype, same.get(0).dtype(), "dtype of " + dtype);
      assertEquals(doubledDtype, twice.get(0).dtype(), "dtype of 2 * " + dtype);
      for (Tensor t : new Tensor[] {same.get(0), twice.get(0)}) {
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertEquals(6, t.numel());
        assertEquals("cpu", t.device());
      }
      check.accept(same.get(0), twice.get(0));
    }
  }

  @Test
  void float32() {
    float[] v = {1.5f, -2f, 0f, 3.25f, Float.MAX_VALUE, -1e-30f};
    roundTrip(Tensor.of(v, 2, 3), DType.FLOAT32, (s, d) -> {
      assertArrayEquals(v, s.toFloatArray());
      assertArrayEquals(new float[] {3f, -4f, 0f, 6.5f, Float.POSITIVE_INFINITY, -2e-30f}, d.toFloatArray());
    });
  }

  @Test
  void float64() {
    double[] v = {1.5, -2, 0, 1e300, Math.PI, -1e-300};
    roundTrip(Tensor.of(v, 2, 3), DType.FLOAT64, (s, d) -> {
      assertArrayEquals(v, s.toDoubleArray());
      assertArrayEquals(new double[] {3, -4, 0, 2e300, 2 * Math.PI, -2e-300}, d.toDoubleArray());
    });
  }

  @Test
  void float16FromRawBits() {
    // 1.0, -2.0, 0.5, 65504 (max), +inf, smallest subnormal
    short[] v = {0x3C00, (short) 0xC000, 0x3800, 0x7BFF, 0x7C00, 0x0001};
    roundTrip(Tensor.ofFloat16(v, 2, 3), DType.FLOAT16, (s, d) -> {
      assertArrayEquals(v, s.toShortArray());
      // 2.0, -4.0, 1.0, inf (overflow), inf, 2 * smallest subnormal
      assertArrayEquals(new short[] {0x4000, (short) 0xC400, 0x3C00, 0x7C00, 0x7C00, 0x0002}, d.toShortArray());
      assertEquals(-2.0f, Half.f16ToFloat(s.toShortArray()[1]));
    });
  }

  @Test
  void bfloat16FromRawBits() {
    // 1.0, -2.0, 0.5, 3.0, +inf, 1e38-ish
    short[] v = {0x3F80, (short) 0xC000, 0x3F00, 0x4040, 0x7F80, 0x7E96};
    roundTrip(Tensor.ofBfloat16(v, 2, 3), DType.BFLOAT16, (s, d) -> {
      assertArrayEquals(v, s.toShortArray());
      short[] got = d.toShortArray();
      float[] want = {2f, -4f, 1f, 6f, Float.POSITIVE_INFINITY, 2 * Half.bf16ToFloat((short) 0x7E96)};
      for (int i = 0; i < 6; i++) {
        assertEquals(want[i], Half.bf16ToFloat(got[i]), "element " + i);
      }
    });
  }

  @Test
  void int8Signed() {
    byte[] v = {-128, -1, 0, 1, 63, 127};
    roundTrip(Tensor.of(v, 2, 3), DType.INT8, (s, d) -> {
      assertArrayEquals(v, s.toByteArray());
      assertArrayEquals(new byte[] {0, -2, 0, 2, 126, -2}, d.toByteArray()); // wraps like int8
    });
  }

  @Test
  void uint8Unsigned() {
    byte[] v = {0, 1, 100, (byte) 128, (byte) 200, (byte) 255};
    roundTrip(Tensor.ofUint8(v, 2, 3), DType.UINT8, (s, d) -> {
      assertArrayEquals(v, s.toByteArray());
      byte[] got = d.toByteArray();
      int[] want = {0, 2, 200, 0, 144, 254}; // modulo 256
      for (int i = 0; i < 6; i++) assertEquals(want[i], got[i] & 0xff, "element " + i);
    });
  }

  @Test
  void int16() {
    short[] v = {Short.MIN_VALUE, -2, 0, 3, 1000, Short.MAX_VALUE};
    roundTrip(Tensor.of(v, 2, 3), DType.INT16, (s, d) -> {
      assertArrayEquals(v, s.toShortArray());
      assertArrayEquals(new short[] {0, -4, 0, 6, 2000, -2}, d.toShortArray());
    });
  }

  @Test
  void int32() {
    int[] v = {Integer.MIN_VALUE, -2, 0, 3, 1 << 20, Integer.MAX_VALUE};
    roundTrip(Tensor.of(v, 2, 3), DType.INT32, (s, d) -> {
      assertArrayEquals(v, s.toIntArray());
      assertArrayEquals(new int[] {0, -4, 0, 6, 1 << 21, -2}, d.toIntArray());
    });
  }

  @Test
  void int64() {
    long[] v = {Long.MIN_VALUE, -2, 0, 3, 1L << 40, Long.MAX_VALUE};
    roundTrip(Tensor.of(v, 2, 3), DType.INT64, (s, d) -> {
      assertArrayEquals(v, s.toLongArray());
      assertArrayEquals(new long[] {0, -4, 0, 6, 1L << 41, -2}, d.toLongArray());
    });
  }

  @Test
  void bool() {
    boolean[] v = {true, false, true, true, false, false};
    // bool * 2 promotes to int64 in TorchScript
    roundTrip(Tensor.of(v, 2, 3), DType.BOOL, DType.INT64, (s, d) -> {
      assertArrayEquals(v, s.toBooleanArray());
      assertArrayEquals(new long[] {2, 0, 2, 2, 0, 0}, d.toLongArray());
      assertArrayEquals(new byte[] {1, 0, 1, 1, 0, 0}, s.toByteArray());
    });
  }

  @Test
  void accessorChecksDType() {
    try (Tensor f = Tensor.of(new float[] {1, 2}, 2); Tensor b = Tensor.of(new boolean[] {true}, 1)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, f::toDoubleArray);
      assertTrue(e.getMessage().contains("float32"), e.getMessage());
      assertThrows(IllegalArgumentException.class, f::toIntArray);
      assertThrows(IllegalArgumentException.class, f::toLongArray);
      assertThrows(IllegalArgumentException.class, f::toShortArray);
      assertThrows(IllegalArgumentException.class, f::toByteArray);
      assertThrows(IllegalArgumentException.class, f::toBooleanArray);
      assertThrows(IllegalArgumentException.class, b::toFloatArray);
      assertArrayEquals(new float[] {1, 2}, f.toFloatArray());
      assertEquals(8, f.toBytes().length);
    }
    assertThrows(IllegalArgumentException.class, () -> Tensor.of(DType.FLOAT32, new short[1], 1));
    assertThrows(IllegalArgumentException.class, () -> Tensor.of(DType.INT16, new byte[1], 1));
  }

  @Test
  void scalarHasEmptyShape() {
    try (Tensor s = Tensor.of(new long[] {42}); Outputs out = identity.predict(s)) {
      assertArrayEquals(new long[0], s.shape());
      assertEquals(1, s.numel());
      Tensor t = out.get(0);
      assertArrayEquals(new long[0], t.shape());
      assertArrayEquals(new long[] {42}, t.toLongArray());
    }
  }

  @Test
  void emptyTensor() {
    try (Tensor e = Tensor.of(new float[0], 0, 4); Outputs out = identity.predict(e)) {
      assertArrayEquals(new long[] {0, 4}, out.get(0).shape());
      assertArrayEquals(new float[0], out.get(0).toFloatArray());
    }
  }

  @Test
  void fromBufferCopiesDirectAndHeap() {
    for (ByteBuffer buf : new ByteBuffer[] {ByteBuffer.allocateDirect(32), ByteBuffer.allocate(32)}) {
      buf.order(ByteOrder.nativeOrder());
      buf.putInt(0xdead); // skipped: the copy starts at the position
      for (int i = 0; i < 6; i++) buf.putFloat(i * 0.5f);
      buf.flip().position(4);
      try (Tensor t = Tensor.fromBuffer(buf, DType.FLOAT32, 2, 3)) {
        buf.putFloat(4, 99f); // the tensor holds a copy
        assertEquals(DType.FLOAT32, t.dtype());
        assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f}, t.toFloatArray());
      }
      assertEquals(4, buf.position(), "fromBuffer must not move the position");
    }
  }

  @Test
  void wrapIsZeroCopyAndReleasesTheBuffer() {
    int pinnedBefore = Tensor.pinnedBuffers();
    ByteBuffer buf = ByteBuffer.allocateDirect(6 * 8).order(ByteOrder.nativeOrder());
    for (int i = 0; i < 6; i++) buf.putLong(i * 8, i * 10L);
    Tensor t = Tensor.wrap(buf, DType.INT64, 2, 3);
    assertEquals(pinnedBefore + 1, Tensor.pinnedBuffers());
    buf.putLong(0, 7); // visible through the tensor: no copy
    assertArrayEquals(new long[] {7, 10, 20, 30, 40, 50}, t.toLongArray());
    try (Outputs out = identity.runMethod("double", t)) {
      assertArrayEquals(new long[] {14, 20, 40, 60, 80, 100}, out.get(0).toLongArray());
    }
    t.close();
    assertEquals(pinnedBefore, Tensor.pinnedBuffers(), "release callback ran on close");
  }

  @Test
  void wrapErrorStillReleases() {
    int pinnedBefore = Tensor.pinnedBuffers();
    ByteBuffer buf = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
    TorchInferException e = assertThrows(TorchInferException.class, () -> Tensor.wrap(buf, DType.FLOAT32, 3));
    assertEquals(TorchInferException.Code.INVALID_ARGUMENT, e.code());
    assertEquals(pinnedBefore, Tensor.pinnedBuffers());
    assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(ByteBuffer.allocate(4), DType.FLOAT32, 1));
  }
}
