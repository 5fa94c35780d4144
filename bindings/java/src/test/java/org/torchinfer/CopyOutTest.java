package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reading leaves without tensor handles (Outputs.copyTo / toXxxArray(i) / dtype(i) / shape(i),
 * ti_outputs_copy_to underneath), Tensor.copyTo into a reused array, and which hot path (JNA or
 * FFM) is in use. run-tests.sh runs this suite on JDK 17 (JNA) and on a JDK 22+ (FFM).
 */
class CopyOutTest extends Fixtures {
  private static Model identity;

  @BeforeAll
  static void load() {
    identity = Model.load(model("identity.pt"));
  }

  @AfterAll
  static void unload() {
    identity.close();
  }

  @Test
  void hotPathIsTheExpectedOne() {
    String hot = TorchInfer.hotPath();
    assertTrue(hot.equals("jna") || hot.equals("ffm"), hot);
    if (Runtime.version().feature() < 22) {
      assertEquals("jna", hot);
    }
    String expected = System.getProperty("torchinfer.test.expect.hot", "");
    if (!expected.isEmpty()) {
      assertEquals(expected, hot, "hot path on Java " + Runtime.version());
    }
  }

  @Test
  void everyArrayTypeMatchesTheTensorPath() {
    try (Tensor f = Tensor.of(new float[] {1.5f, -2f, 0f, 3.25f, 7f, -1e-30f}, 2, 3);
         Tensor d = Tensor.of(new double[] {1.5, -2, 0, 3.25, 1e300, -1e-300}, 2, 3);
         Tensor l = Tensor.of(new long[] {1, -2, Long.MAX_VALUE, Long.MIN_VALUE, 0, 5}, 2, 3);
         Tensor i = Tensor.of(new int[] {1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE, 0, 5}, 2, 3);
         Tensor s = Tensor.of(new short[] {1, -2, Short.MAX_VALUE, Short.MIN_VALUE, 0, 5}, 2, 3);
         Tensor b = Tensor.of(new byte[] {1, -2, Byte.MAX_VALUE, Byte.MIN_VALUE, 0, 5}, 2, 3);
         Tensor h = Tensor.ofFloat16(new short[] {0x3c00, (short) 0xc000, 0, 0x7bff, 1, 2}, 2, 3);
         Tensor u = Tensor.of(new boolean[] {true, false, true, true, false, false}, 2, 3)) {
      try (Outputs o = identity.predict(f)) {
        float[] a = new float[6];
        o.copyTo(0, a);
        assertArrayEquals(o.get(0).toFloatArray(), a);
        assertArrayEquals(new float[] {1.5f, -2f, 0f, 3.25f, 7f, -1e-30f}, a);
        assertArrayEquals(a, o.toFloatArray(0));
        assertEquals(DType.FLOAT32, o.dtype(0));
        assertArrayEquals(new long[] {2, 3}, o.shape(0));
        assertEquals(6, o.numel(0));
      }
      try (Outputs o = identity.predict(d)) {
        double[] a = new double[6];
        o.copyTo(0, a);
        assertArrayEquals(new double[] {1.5, -2, 0, 3.25, 1e300, -1e-300}, a);
        assertArrayEquals(a, o.toDoubleArray(0));
        assertEquals(DType.FLOAT64, o.dtype(0));
      }
      try (Outputs o = identity.predict(l)) {
        long[] a = new long[6];
        o.copyTo(0, a);
        assertArrayEquals(new long[] {1, -2, Long.MAX_VALUE, Long.MIN_VALUE, 0, 5}, a);
        assertArrayEquals(a, o.toLongArray(0));
      }
      try (Outputs o = identity.predict(i)) {
        int[] a = new int[6];
        o.copyTo(0, a);
        assertArrayEquals(new int[] {1, -2, Integer.MAX_VALUE, Integer.MIN_VALUE, 0, 5}, a);
        assertArrayEquals(a, o.toIntArray(0));
      }
      try (Outputs o = identity.predict(s)) {
        short[] a = new short[6];
        o.copyTo(0, a);
        assertArrayEquals(new short[] {1, -2, Short.MAX_VALUE, Short.MIN_VALUE, 0, 5}, a);
        assertArrayEquals(a, o.toShortArray(0));
      }
      try (Outputs o = identity.predict(h)) {
        assertEquals(DType.FLOAT16, o.dtype(0));
        assertArrayEquals(new short[] {0x3c00, (short) 0xc000, 0, 0x7bff, 1, 2}, o.toShortArray(0));
      }
      try (Outputs o = identity.predict(b)) {
        byte[] a = new byte[6];
        o.copyTo(0, a);
        assertArrayEquals(new byte[] {1, -2, Byte.MAX_VALUE, Byte.MIN_VALUE, 0, 5}, a);
        assertArrayEquals(a, o.toByteArray(0));
      }
      try (Outputs o = identity.predict(u)) {
        assertEquals(DType.BOOL, o.dtype(0));
        assertArrayEquals(new byte[] {1, 0, 1, 1, 0, 0}, o.toByteArray(0));
      }
    }
  }

  /** Leaves larger than the per-thread scratch area take the array path: same values. */
  @Test
  void largeLeavesUseTheArrayPath() {
    int n = 3 * Scratch.DATA_BYTES; // floats: 12 KiB, well over the scratch area
    float[] v = new float[n];
    double[] w = new double[n];
    for (int k = 0; k < n; k++) {
      v[k] = k * 0.5f - 7;
      w[k] = k * 0.25 - 3;
    }
    try (Tensor x = Tensor.of(v, n); Tensor y = Tensor.of(w, 3, n / 3);
         Outputs o = identity.predict(x); Outputs p = identity.predict(y)) {
      float[] a = new float[n];
      o.copyTo(0, a);
      assertArrayEquals(v, a);
      double[] b = new double[n];
      p.copyTo(0, b);
      assertArrayEquals(w, b);
      assertArrayEquals(new long[] {3, n / 3}, p.shape(0));
      assertThrows(IllegalArgumentException.class, () -> o.copyTo(0, new float[n + 1]));
      ByteBuffer direct = ByteBuffer.allocateDirect(4 * n + 8).order(ByteOrder.nativeOrder());
      direct.position(8);
      o.copyTo(0, direct);
      assertEquals(4 * n + 8, direct.position());
      for (int k = 0; k < n; k++) {
        assertEquals(v[k], direct.getFloat(8 + 4 * k));
      }
      ByteBuffer heap = ByteBuffer.allocate(4 * n).order(ByteOrder.nativeOrder());
      o.copyTo(0, heap);
      assertEquals(v[n - 1], heap.getFloat(4 * (n - 1)));
    }
  }

  @Test
  void byteBuffers() {
    float[] v = {1, 2, 3};
    try (Tensor x = Tensor.of(v, 3); Outputs o = identity.predict(x)) {
      ByteBuffer direct = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
      o.copyTo(0, direct);
      assertEquals(12, direct.position());
      assertEquals(3f, direct.getFloat(8));
      ByteBuffer heap = ByteBuffer.allocate(13).order(ByteOrder.nativeOrder());
      heap.put((byte) 9);
      o.copyTo(0, heap);
      assertEquals(13, heap.position());
      assertEquals(9, heap.get(0));
      assertEquals(2f, heap.getFloat(5));
      IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
          () -> o.copyTo(0, ByteBuffer.allocate(11)));
      assertTrue(small.getMessage().contains("12 bytes"), small.getMessage());
      assertThrows(ReadOnlyBufferException.class,
          () -> o.copyTo(0, ByteBuffer.allocate(12).asReadOnlyBuffer()));
    }
  }

  @Test
  void misuseIsReported() {
    try (Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3); Outputs o = identity.predict(x)) {
      IllegalArgumentException wrongType = assertThrows(IllegalArgumentException.class,
          () -> o.copyTo(0, new int[6]));
      assertTrue(wrongType.getMessage().contains("float32"), wrongType.getMessage());
      assertThrows(IllegalArgumentException.class, () -> o.toDoubleArray(0));
      IllegalArgumentException wrongLength = assertThrows(IllegalArgumentException.class,
          () -> o.copyTo(0, new float[5]));
      assertTrue(wrongLength.getMessage().contains("6 elements"), wrongLength.getMessage());
      assertThrows(IndexOutOfBoundsException.class, () -> o.copyTo(1, new float[6]));
      assertThrows(IndexOutOfBoundsException.class, () -> o.copyTo(-1, new float[6]));
      assertThrows(IndexOutOfBoundsException.class, () -> o.copyTo(1, new int[6]));
      assertThrows(IndexOutOfBoundsException.class, () -> o.dtype(1));
      assertThrows(IndexOutOfBoundsException.class, () -> o.shape(-1));
      assertThrows(IndexOutOfBoundsException.class, () -> o.toFloatArray(7));
      assertThrows(NullPointerException.class, () -> o.copyTo(0, (float[]) null));
      TorchInferException missing = assertThrows(TorchInferException.class, () -> o.index("nope"));
      assertEquals(TorchInferException.Code.NOT_FOUND, missing.code());
      assertTrue(missing.getMessage().contains("[0]"), missing.getMessage());
      assertEquals(0, o.index("0"));
      // the leaf is intact after all that
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, o.toFloatArray(0));
    }
  }

  @Test
  void tensorCopyToReusesTheArray() {
    try (Tensor x = Tensor.of(new long[] {4, 5, 6}, 3); Outputs o = identity.predict(x)) {
      long[] a = new long[3];
      o.get(0).copyTo(a);
      assertArrayEquals(new long[] {4, 5, 6}, a);
      x.copyTo(a);
      assertArrayEquals(new long[] {4, 5, 6}, a);
      assertThrows(IllegalArgumentException.class, () -> x.copyTo(new long[4]));
      assertThrows(IllegalArgumentException.class, () -> x.copyTo(new double[3]));
    }
  }

  /** Named dict outputs through index(name), against the shared reference values. */
  @Test
  void demoByName() {
    try (Model demo = Model.load(model("demo.pt"));
         Tensor f = Tensor.of(new float[] {0.5f, -1f, 2f, 0.1f}, 1, 4);
         Outputs out = demo.predict(Map.of("features", f))) {
      float[] probs = new float[3];
      out.copyTo(out.index("probs"), probs);
      assertArrayEquals(out.get("probs").toFloatArray(), probs);
      assertArrayEquals(new float[] {0.48649383f, 0.3565054f, 0.15700078f}, probs, 1e-5f);
      assertArrayEquals(new long[] {1, 3}, out.shape(out.index("logits")));
    }
  }

  /** 8 threads copy results out of their own Outputs of one shared model, reusing their arrays. */
  @Test
  void concurrentCopyOut() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (Model mlp = Model.load(model("mlp.pt")); Tensor x = Tensor.of(new float[16], 1, 16)) {
      float[] want;
      try (Outputs o = mlp.predict(x)) {
        want = o.get(0).toFloatArray();
      }
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        futures.add(pool.submit(() -> {
          float[] y = new float[want.length];
          for (int k = 0; k < 200; k++) {
            try (Outputs o = mlp.predict(x)) {
              o.copyTo(0, y);
            }
            assertArrayEquals(want, y);
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
