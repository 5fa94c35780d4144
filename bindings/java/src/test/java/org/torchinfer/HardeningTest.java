package org.torchinfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.torchinfer.TorchInferException.Code;

/** Byte order of buffers, argument checks before pinning, NUL in names, use after close. */
class HardeningTest extends Fixtures {
  private static final ByteOrder FOREIGN =
      ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
  private static Model identity;

  @BeforeAll
  static void load() {
    identity = Model.load(model("identity.pt"));
  }

  @AfterAll
  static void unload() {
    identity.close();
  }

  private static ByteBuffer allocate(boolean direct, int n, ByteOrder order) {
    return (direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n)).order(order);
  }

  // ------------------------------------------------------------------ byte order

  @Test
  void fromBufferReadsInTheBuffersByteOrder() {
    for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
      for (boolean direct : new boolean[] {true, false}) {
        String what = order + (direct ? " direct" : " heap");
        ByteBuffer f = allocate(direct, 4 + 4 * 4, order);
        f.putInt(0x5eed); // skipped: the copy starts at the position
        for (int i = 0; i < 4; i++) f.putFloat(i * 1.5f - 2);
        f.flip().position(4);
        try (Tensor t = Tensor.fromBuffer(f, DType.FLOAT32, 2, 2)) {
          assertArrayEquals(new float[] {-2f, -0.5f, 1f, 2.5f}, t.toFloatArray(), what);
        }
        assertEquals(4, f.position(), "position untouched");
        assertSame(order, f.order(), "order untouched");

        ByteBuffer l = allocate(direct, 3 * 8, order);
        l.putLong(1).putLong(-2).putLong(0x0102030405060708L).flip();
        try (Tensor t = Tensor.fromBuffer(l, DType.INT64, 3)) {
          assertArrayEquals(new long[] {1, -2, 0x0102030405060708L}, t.toLongArray(), what);
        }
        ByteBuffer d = allocate(direct, 2 * 8, order);
        d.putDouble(Math.PI).putDouble(-1e300).flip();
        try (Tensor t = Tensor.fromBuffer(d, DType.FLOAT64, 2)) {
          assertArrayEquals(new double[] {Math.PI, -1e300}, t.toDoubleArray(), what);
        }
        ByteBuffer s = allocate(direct, 2 * 2, order);
        s.putShort((short) 0x1234).putShort((short) -3).flip();
        try (Tensor t = Tensor.fromBuffer(s, DType.INT16, 2)) {
          assertArrayEquals(new short[] {0x1234, -3}, t.toShortArray(), what);
        }
        ByteBuffer b = allocate(direct, 3, order);
        b.put((byte) 1).put((byte) -1).put((byte) 7).flip();
        try (Tensor t = Tensor.fromBuffer(b, DType.UINT8, 3)) {
          assertArrayEquals(new byte[] {1, -1, 7}, t.toByteArray(), what);
        }
      }
    }
  }

  @Test
  void fromTypedBuffersInAnyOrder() {
    for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
      for (boolean direct : new boolean[] {true, false}) {
        String what = order + (direct ? " direct" : " heap");
        FloatBuffer f = allocate(direct, 5 * 4, order).asFloatBuffer();
        f.put(new float[] {9, 1, 2, 3, 4}).flip().position(1);
        try (Tensor t = Tensor.fromBuffer(f, 2, 2)) {
          assertEquals(DType.FLOAT32, t.dtype());
          assertArrayEquals(new float[] {1, 2, 3, 4}, t.toFloatArray(), what);
        }
        assertEquals(1, f.position());
        DoubleBuffer d = allocate(direct, 2 * 8, order).asDoubleBuffer();
        d.put(new double[] {0.5, -7}).flip();
        try (Tensor t = Tensor.fromBuffer(d, 2)) {
          assertArrayEquals(new double[] {0.5, -7}, t.toDoubleArray(), what);
        }
        LongBuffer l = allocate(direct, 2 * 8, order).asLongBuffer();
        l.put(new long[] {Long.MIN_VALUE, 42}).flip();
        try (Tensor t = Tensor.fromBuffer(l, 2)) {
          assertArrayEquals(new long[] {Long.MIN_VALUE, 42}, t.toLongArray(), what);
        }
        IntBuffer i = allocate(direct, 3 * 4, order).asIntBuffer();
        i.put(new int[] {-1, 65536, 3}).flip();
        try (Tensor t = Tensor.fromBuffer(i, 3)) {
          assertArrayEquals(new int[] {-1, 65536, 3}, t.toIntArray(), what);
        }
        ShortBuffer s = allocate(direct, 2 * 2, order).asShortBuffer();
        s.put(new short[] {0x3c00, (short) 0xbc00}).flip(); // float16 1.0 and -1.0
        try (Tensor t = Tensor.fromBuffer(DType.FLOAT16, s, 2)) {
          assertEquals(DType.FLOAT16, t.dtype());
          assertArrayEquals(new short[] {0x3c00, (short) 0xbc00}, t.toShortArray(), what);
        }
      }
    }
    FloatBuffer heap = FloatBuffer.wrap(new float[] {7, 8, 9}, 1, 2); // position 1, limit 3
    try (Tensor t = Tensor.fromBuffer(heap, 2)) {
      assertArrayEquals(new float[] {8, 9}, t.toFloatArray());
    }
    // the element count is checked against the shape by the library
    TorchInferException e = assertThrows(TorchInferException.class,
        () -> Tensor.fromBuffer(FloatBuffer.wrap(new float[3]), 2));
    assertEquals(Code.INVALID_ARGUMENT, e.code());
  }

  @Test
  void wrapRejectsAForeignByteOrderAndPinsNothing() {
    int pinned = Tensor.pinnedBuffers();
    long live = TorchInfer.liveHandles();
    ByteBuffer foreign = ByteBuffer.allocateDirect(4 * 4).order(FOREIGN);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.wrap(foreign, DType.FLOAT32, 4));
    assertTrue(e.getMessage().contains("buf.order(ByteOrder.nativeOrder())"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(foreign, DType.INT16, 8));
    assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(ByteBuffer.allocateDirect(8), DType.INT64, 1),
        "a new ByteBuffer is big-endian");
    assertEquals(pinned, Tensor.pinnedBuffers());
    assertEquals(live, TorchInfer.liveHandles());

    // one-byte elements have no byte order: any buffer order is fine
    ByteBuffer bytes = ByteBuffer.allocateDirect(3).order(FOREIGN);
    bytes.put(0, (byte) 5).put(1, (byte) 6).put(2, (byte) 7);
    try (Tensor t = Tensor.wrap(bytes, DType.UINT8, 3)) {
      assertArrayEquals(new byte[] {5, 6, 7}, t.toByteArray());
    }
    // native order: the values as written
    ByteBuffer ok = ByteBuffer.allocateDirect(2 * 4).order(ByteOrder.nativeOrder());
    ok.putFloat(0, 1.25f).putFloat(4, -3f);
    try (Tensor t = Tensor.wrap(ok, DType.FLOAT32, 2)) {
      assertArrayEquals(new float[] {1.25f, -3f}, t.toFloatArray());
    }
    assertEquals(pinned, Tensor.pinnedBuffers());
  }

  @Test
  void wrapChecksEveryArgumentBeforePinning() {
    int pinned = Tensor.pinnedBuffers();
    long live = TorchInfer.liveHandles();
    ByteBuffer buf = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
    assertThrows(NullPointerException.class, () -> Tensor.wrap(buf, DType.FLOAT32, (long[]) null));
    assertThrows(NullPointerException.class, () -> Tensor.wrap(buf, null, 4));
    assertThrows(NullPointerException.class, () -> Tensor.wrap(null, DType.FLOAT32, 4));
    IllegalArgumentException ro = assertThrows(IllegalArgumentException.class,
        () -> Tensor.wrap(buf.asReadOnlyBuffer(), DType.FLOAT32, 4));
    assertTrue(ro.getMessage().contains("fromBuffer"), ro.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(ByteBuffer.allocate(16), DType.FLOAT32, 4));
    assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(buf.position(1).slice(), DType.FLOAT32, 3));
    buf.position(0);
    TorchInferException e = assertThrows(TorchInferException.class, () -> Tensor.wrap(buf, DType.FLOAT32, 5));
    assertEquals(Code.INVALID_ARGUMENT, e.code());
    assertEquals(pinned, Tensor.pinnedBuffers(), "nothing stays pinned");
    assertEquals(live, TorchInfer.liveHandles(), "nothing stays live");
    assertThrows(NullPointerException.class, () -> Tensor.fromBuffer(buf, DType.FLOAT32, (long[]) null));
    assertThrows(NullPointerException.class, () -> Tensor.of(new float[1], (long[]) null));
    assertEquals(live, TorchInfer.liveHandles());
  }

  // ------------------------------------------------------------------ NUL characters

  private static void expectNulRejected(Executable call) {
    TorchInferException e = assertThrows(TorchInferException.class, call);
    assertEquals(Code.INVALID_ARGUMENT, e.code(), e.getMessage());
    assertTrue(e.detail().contains("NUL"), e.detail());
  }

  @Test
  void namesWithNulAreRejectedNotCut() {
    long live = TorchInfer.liveHandles();
    try (Tensor x = Tensor.of(new float[] {1, 2}, 2); Outputs out = identity.predict(x)) {
      // without the check C would see "0" and "double": the calls would succeed on the wrong name
      expectNulRejected(() -> out.get("0\0x"));
      expectNulRejected(() -> out.take("0\0x"));
      expectNulRejected(() -> identity.runMethod("double\0x", x));
      expectNulRejected(() -> identity.runMethod("double\0x", Map.of("x", x)));
      expectNulRejected(() -> identity.runMethod("double\0x", Duration.ofSeconds(5), x));
      expectNulRejected(() -> identity.runMethod("double\0x", Duration.ofSeconds(5), Map.of("x", x)));
      try (RunOptions options = new RunOptions()) {
        expectNulRejected(() -> identity.runMethod("double\0x", options, x));
        expectNulRejected(() -> identity.runMethod("double\0x", options, Map.of("x", x)));
        expectNulRejected(() -> identity.predict(options, Map.of("x\0y", x)));
      }
      expectNulRejected(() -> identity.predict(Map.of("x\0y", x)));
      expectNulRejected(() -> identity.predict(Duration.ofSeconds(5), Map.of("x\0y", x)));
      Executor direct = Runnable::run;
      expectNulRejected(() -> identity.predictAsync(direct, Map.of("x\0y", x)));
      expectNulRejected(() -> identity.runMethodAsync(direct, "double\0", x));
      expectNulRejected(() -> new LoadOptions().device("cpu\0junk"));
      expectNulRejected(() -> NativeApi.cstr("models/mlp.pt\0.evil", "path"));
      // and the names without the NUL still work
      assertArrayEquals(new float[] {1, 2}, out.get("0").toFloatArray());
      try (Outputs d = identity.runMethod("double", Map.of("x", x))) {
        assertArrayEquals(new float[] {2, 4}, d.get(0).toFloatArray());
      }
    }
    assertEquals(live, TorchInfer.liveHandles());
  }

  // ------------------------------------------------------------------ use after close

  /** Arguments for a call of {@code m} that would succeed on open objects. */
  private static Object[] argumentsFor(Method m, Tensor input, RunOptions options, Inputs inputs) {
    Class<?>[] types = m.getParameterTypes();
    Object[] args = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      Class<?> t = types[i];
      if (t == Tensor[].class) {
        args[i] = new Tensor[] {input};
      } else if (t == Map.class) {
        args[i] = Map.of("x", input);
      } else if (t == String.class) {
        args[i] = m.getDeclaringClass() == Outputs.class ? "0" : "double";
      } else if (t == int.class) {
        args[i] = 0;
      } else if (t == Duration.class) {
        args[i] = Duration.ofSeconds(5);
      } else if (t == RunOptions.class) {
        args[i] = options;
      } else if (t == Executor.class) {
        args[i] = (Executor) Runnable::run;
      } else if (t.isArray() && t.getComponentType().isPrimitive()) {
        args[i] = java.lang.reflect.Array.newInstance(t.getComponentType(), 2);
      } else if (t == java.nio.ByteBuffer.class) {
        args[i] = java.nio.ByteBuffer.allocateDirect(64);
      } else if (t == Tensor.class) {
        args[i] = input;
      } else if (t == long.class) {
        args[i] = 1L;
      } else if (t == double.class) {
        args[i] = 1.0;
      } else if (t == boolean.class) {
        args[i] = true;
      } else if (t == Object.class) {
        args[i] = input;
      } else if (t == Inputs.class) {
        args[i] = inputs;
      } else {
        throw new AssertionError("no argument for " + t + " in " + m + ": extend this test");
      }
    }
    return args;
  }

  @Test
  void everyPublicMethodThrowsAfterClose() throws Exception {
    Set<String> allowed = Set.of("close", "isClosed", "toString", "hashCode", "equals", "getClass",
        "notify", "notifyAll", "wait");
    try (Tensor input = Tensor.of(new float[] {1, 2}, 2); RunOptions options = new RunOptions()) {
      Model m = Model.load(model("identity.pt"));
      Tensor t = Tensor.of(new float[] {3, 4}, 2);
      Outputs out = m.predict(input);
      Tensor leaf = out.get(0);
      Tensor taken = out.take(0);
      RunOptions closedOptions = new RunOptions().timeout(Duration.ofSeconds(1));
      Inputs closedInputs = new Inputs(m, "double");
      Batcher batcher = new Batcher(m, new Batcher.Options().method("double"));
      for (AutoCloseable c : new AutoCloseable[] {closedInputs, batcher, m, t, out, taken, closedOptions}) {
        c.close();
      }
      List<String> checked = new ArrayList<>();
      for (Object o : new Object[] {m, t, out, leaf, taken, closedOptions, closedInputs, batcher}) {
        for (Method method : o.getClass().getMethods()) {
          if (Modifier.isStatic(method.getModifiers()) || allowed.contains(method.getName())
              || (o instanceof RunOptions && method.getName().equals("cancel"))) {
            continue;
          }
          Object[] args = argumentsFor(method, input, options, closedInputs);
          InvocationTargetException e = assertThrows(InvocationTargetException.class,
              () -> method.invoke(o, args), method.toString());
          assertInstanceOf(IllegalStateException.class, e.getCause(), method + ": " + e.getCause());
          assertTrue(e.getCause().getMessage().endsWith(" is closed"), e.getCause().getMessage());
          checked.add(o.getClass().getSimpleName() + "." + method.getName());
        }
      }
      // Model: 16 ways to run + 5 accessors; 3 tensors x 12 methods; Outputs 7; RunOptions 3
      assertTrue(checked.size() >= 21 + 3 * 12 + 7 + 3, checked.size() + " checked: " + checked);
      assertTrue(checked.containsAll(List.of("Model.inputNames", "Model.inputTypes", "Model.format",
          "Model.device", "Model.methodNames", "Model.predictAsync", "Tensor.shape", "Tensor.dtype",
          "Tensor.numel", "Outputs.names", "Outputs.name", "RunOptions.isCancelled", "Outputs.copyTo",
          "Outputs.index", "Outputs.dtype", "Outputs.shape", "Outputs.numel", "Outputs.toFloatArray",
          "Tensor.copyTo", "Model.run", "Model.runAsync", "Model.schema", "Outputs.kind",
          "Outputs.string", "Outputs.stringBytes", "Outputs.isNone", "Inputs.set", "Inputs.setTensor",
          "Inputs.setLong", "Inputs.setDouble", "Inputs.setBool", "Inputs.setString", "Inputs.setNone",
          "Inputs.setEmpty", "Inputs.method", "Batcher.predict", "Batcher.predictAsync",
          "Batcher.stats", "Batcher.method", "Batcher.options")), checked.toString());
      assertEquals("Inputs(closed)", closedInputs.toString());
      assertEquals("Batcher(closed)", batcher.toString());
      assertEquals("Model(closed)", m.toString());
      assertEquals("Tensor(closed)", t.toString());
      assertEquals("Outputs(closed)", out.toString());
      closedOptions.cancel(); // does nothing after close
      // LoadOptions has no close(): a plain value, usable for its whole life
      assertEquals("cpu", new LoadOptions().device("cpu").device());
    }
  }
}
